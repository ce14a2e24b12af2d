"""An outcome's two slots (issue 7 item 3): which files a student may add or replace, and what
a stored file does to a known outcome. Plain rules, no database."""
import pytest

from records import domain
from records.errors import OutcomeNotReturned, SlotInvalid


def f(sha, at="2026-11-30T01:00:00+00:00"):
    return {"file_id": "x", "filename": "n", "content_type": "application/pdf", "size": 1, "sha256": sha,
            "uploaded_at": at}


DOC = {"document": f("d" * 64)}


def test_a_slot_is_document_or_media():
    assert domain.check_slot("media") == "media"
    assert domain.check_slot(None) is None  # an API client from before slots: the file's kind decides
    with pytest.raises(SlotInvalid):
        domain.check_slot("photo")


@pytest.mark.parametrize("status", ["uploaded", "certified", "returned"])
def test_the_empty_slot_may_be_filled_whatever_the_decision(status):
    assert domain.check_file_ticket(status, False, DOC, "media") == "add"


@pytest.mark.parametrize("status", ["uploaded", "certified"])
def test_a_file_is_replaced_only_on_a_returned_outcome(status):
    with pytest.raises(OutcomeNotReturned):
        domain.check_file_ticket(status, False, DOC, "document")
    assert domain.check_file_ticket("returned", False, DOC, "document") == "replace"


def test_without_a_slot_only_a_returned_outcome_takes_a_file():
    assert domain.check_file_ticket("returned", False, DOC, None) == "reupload"
    with pytest.raises(OutcomeNotReturned):
        domain.check_file_ticket("certified", False, DOC, None)


def test_nothing_of_a_locked_outcome_changes():
    with pytest.raises(OutcomeNotReturned):
        domain.check_file_ticket("certified", True, DOC, "media")


def test_the_principal_file_is_the_document_else_the_media():
    assert domain.principal_file({"media": f("a" * 64), "document": f("d" * 64)})["sha256"] == "d" * 64
    assert domain.principal_file({"media": f("a" * 64)})["sha256"] == "a" * 64


@pytest.mark.parametrize("status, slot, new, action", [
    ("uploaded", "media", f("a" * 64), "file_added"),
    ("certified", "media", f("a" * 64), "file_added"),
    ("certified", "document", f("d" * 64, "2026-11-30T02:00:00+00:00"), "same_file"),
    ("returned", "document", f("d" * 64, "2026-11-30T02:00:00+00:00"), "reuploaded"),
    ("returned", "document", f("e" * 64, "2026-11-30T02:00:00+00:00"), "reuploaded"),
    ("uploaded", "document", f("e" * 64, "2026-11-30T00:00:00+00:00"), "stale"),  # older, delivered late
])
def test_what_a_stored_file_does_to_a_known_outcome(status, slot, new, action):
    files, got = domain.apply_uploaded_file(status, DOC, slot, new)
    assert got == action
    if action == "stale":
        assert files == DOC
    else:
        assert files[slot] == new and set(files) == set(DOC) | {slot}
