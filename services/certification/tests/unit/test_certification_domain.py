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


def test_figures_count_statuses_and_take_the_median_time_to_decide():
    import datetime as dt

    from certification.domain import figures
    t0 = dt.datetime(2026, 11, 1, 8, tzinfo=dt.timezone.utc)
    h = lambda n: t0 + dt.timedelta(hours=n)  # noqa: E731
    rounds = [dict(teacher_user_id="a", section_id="s1", subject_name="國文", status=s, created_at=t0, decided_at=d)
              for s, d in (("pending", None), ("certified", h(1)), ("returned", h(3)), ("withdrawn", h(10)),
                           ("superseded", None), ("closed", None))]
    rounds.append(dict(teacher_user_id="b", section_id="s2", subject_name="數學", status="certified",
                       created_at=t0, decided_at=h(2)))
    assert figures(rounds, "tenant") == [{"key": None, "label": None, "open": 1, "certified": 2, "returned": 1,
                                          "withdrawn": 1, "decided": 4, "median_hours_to_decide": 2.5}]
    by_subject = {f["key"]: f for f in figures(rounds, "subject")}
    assert by_subject["數學"]["median_hours_to_decide"] == 2.0 and by_subject["國文"]["decided"] == 3
    assert figures([], "teacher") == []
