import pytest

from certification import domain
from certification.errors import AlreadyDecided, NotAllowed, ReasonRequired


def test_only_the_sections_teacher_decides():
    assert domain.acting_for("u1", "u1") is None
    with pytest.raises(NotAllowed):
        domain.acting_for("u1", "u2")


def test_decided_items_are_not_decided_again():
    domain.check_pending("pending")
    for s in ("certified", "returned"):
        with pytest.raises(AlreadyDecided):
            domain.check_pending(s)


def test_return_needs_a_listed_reason():
    reasons = {c: {"label": label, "needs_note": note, "active": True} for c, label, note in domain.DEFAULT_RETURN_REASONS}
    assert domain.return_reason(reasons, "unreadable", None) == ("unreadable", "檔案無法開啟或內容模糊不清")
    assert domain.return_reason(reasons, None, "  請補上封面 ") == ("other", "其他：請補上封面")
    for code, note in ((None, " "), ("other", "")):
        with pytest.raises(ReasonRequired):
            domain.return_reason(reasons, code, note)
    with pytest.raises(ReasonRequired):
        domain.return_reason(reasons, "unreadable", "x" * 501)


@pytest.mark.parametrize("latest,sha,action", [
    (None, "a", "open"), ({"status": "pending", "sha256": "a"}, "a", "keep"),
    ({"status": "pending", "sha256": "a"}, "b", "supersede"), ({"status": "certified", "sha256": "a"}, "a", "keep"),
    ({"status": "certified", "sha256": "a"}, "b", "open"), ({"status": "returned", "sha256": "a"}, "a", "open"),
    ({"status": "withdrawn", "sha256": "a"}, "b", "open"), ({"status": "closed", "sha256": "a"}, "a", "open")])
def test_what_a_reupload_does(latest, sha, action):
    assert domain.round_on_upload(latest, sha) == action
