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


def test_return_needs_a_reason():
    assert domain.clean_reason("  請補上封面 ") == "請補上封面"
    with pytest.raises(ReasonRequired):
        domain.clean_reason(" ")
    with pytest.raises(ReasonRequired):
        domain.clean_reason("x" * 501)
