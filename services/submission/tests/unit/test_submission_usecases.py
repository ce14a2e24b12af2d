"""Selection and lock use cases with a fake unit of work: no database, no broker."""
import datetime as dt
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common import clock, events
from submission import usecases
from submission.selection import consent
from submission.selection import usecases as choice
from submission.unit_of_work import FakeSubmissionUnitOfWork

STUDENT = str(uuid.uuid4())
STUDENT_ID = str(uuid.uuid4())


def who(role, uid=STUDENT, tenant="day"):
    return caller_mod.Caller(user_id=uid, username=role, tenant=tenant, roles=(role,))


def certified(year=115, tenant="day", student=STUDENT, outcome_id=None):
    return events.load_event(events.CERTIFIED, events.make_event(events.CERTIFIED, tenant, {
        "task_id": str(uuid.uuid4()), "outcome_id": outcome_id or str(uuid.uuid4()), "student_id": STUDENT_ID,
        "student_user_id": student, "section_id": str(uuid.uuid4()), "school_year": year, "semester": 1,
        "course_code": "C1", "subject_name": "程式設計", "description": "d", "sha256": "0" * 64,
        "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": events.utcnow()}))


def uploaded(year=115, tenant="day", student=STUDENT):
    return events.load_event(events.OUTCOME_UPLOADED, events.make_event(events.OUTCOME_UPLOADED, tenant, {
        "outcome_id": str(uuid.uuid4()), "file_id": str(uuid.uuid4()), "student_id": STUDENT_ID,
        "student_user_id": student, "section_id": str(uuid.uuid4()), "teacher_user_id": str(uuid.uuid4()),
        "school_year": year, "semester": 1, "course_code": "C2", "subject_name": "電子學", "description": "作品",
        "filename": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": "1" * 64,
        "uploaded_at": events.utcnow()}))


def returned(outcome_id, student=STUDENT):
    return events.load_event(events.CERTIFICATION_RETURNED, events.make_event(events.CERTIFICATION_RETURNED, "day", {
        "task_id": str(uuid.uuid4()), "outcome_id": outcome_id, "student_id": STUDENT_ID,
        "student_user_id": student, "returned_by": str(uuid.uuid4()), "acting_for": None, "reason_code": "unclear",
        "reason": "檔案不清楚", "sha256": "1" * 64, "returned_at": events.utcnow()}))


def performance(entered_by="student", year=115, tenant="day", student=STUDENT):
    return events.load_event(events.PERFORMANCE_UPLOADED, events.make_event(events.PERFORMANCE_UPLOADED, tenant, {
        "performance_id": str(uuid.uuid4()), "performance_kind": "competition", "entered_by": entered_by,
        "file_id": str(uuid.uuid4()), "student_id": STUDENT_ID, "student_user_id": student, "school_year": year,
        "description": "技能競賽", "filename": "p.pdf", "content_type": "application/pdf", "size": 10,
        "sha256": "2" * 64, "uploaded_at": events.utcnow()}))


def open_calendar(uow, tenant="day", year=115, opens=-10, closes=10, outcomes=6, performances=10):
    today = clock.today_in_school()
    d = lambda n: today + dt.timedelta(days=n)  # noqa: E731
    uow.calendar.save_term(dict(tenant=tenant, school_year=year, semester=1, starts_on=d(-60), ends_on=d(60),
                                upload_opens_on=d(-30), upload_closes_on=d(30), certification_opens_on=d(-30),
                                certification_closes_on=d(40), selection_opens_on=d(opens),
                                selection_closes_on=d(closes), national_deadline=d(80), version=1,
                                changed_by=str(uuid.uuid4()), changed_at=clock.now()))
    uow.calendar.save_limits(tenant, year, {"outcome_uploads_per_semester": 6, "outcomes_selected_per_year": outcomes,
                                            "performances_selected_per_year": performances}, None, None)


@pytest.fixture
def uow():
    u = FakeSubmissionUnitOfWork()
    open_calendar(u)
    open_calendar(u, tenant="ce")
    for env in [certified() for _ in range(7)] + [certified(year=114), certified(tenant="ce")]:
        usecases.record_certified(u, env)
    return u


def mine(uow):
    return [c["outcome_id"] for c in usecases.get_my_selection(uow, who("student"), 115)["candidates"]]


def test_a_redelivered_certified_is_copied_once(uow):
    env = certified()
    assert usecases.record_certified(uow, env) and not usecases.record_certified(uow, env)


def test_select_at_most_the_years_limit_of_ones_own(uow):
    ids = mine(uow)
    assert len(ids) == 7
    with pytest.raises(Exception) as e:
        usecases.select_outcomes(uow, who("student"), 115, ids)
    assert e.value.code == "selection_quota_exceeded" and "6" in e.value.text
    assert usecases.select_outcomes(uow, who("student"), 115, ids[:6])["selected"] == ids[:6]


def test_the_calendars_limit_not_a_constant(uow):
    open_calendar(uow, outcomes=3, performances=2)
    ids = mine(uow)
    with pytest.raises(Exception) as e:
        usecases.select_outcomes(uow, who("student"), 115, ids[:4])
    assert e.value.code == "selection_quota_exceeded" and "3" in e.value.text
    view = usecases.get_my_selection(uow, who("student"), 115)
    assert view["limits"] == {"outcome": 3, "performance": 2}


def test_outside_the_window_refused_with_its_dates(uow):
    open_calendar(uow, opens=3, closes=10)
    with pytest.raises(Exception) as e:
        usecases.select_outcomes(uow, who("student"), 115, mine(uow)[:1])
    today = clock.today_in_school()
    assert e.value.code == "window_closed"
    assert (today + dt.timedelta(days=3)).isoformat() in e.value.text
    view = usecases.get_my_selection(uow, who("student"), 115)
    assert view["window"]["state"] == "upcoming"
    assert {o["reason"] for o in view["outcomes"]} == {"window_closed"}


def test_no_calendar_for_the_year(uow):
    with pytest.raises(Exception) as e:
        choice.save_selection(uow, who("student"), 116, outcome_ids=[])
    assert e.value.code == "calendar_not_set"


def test_performances_only_the_students_own_entries_count(uow):
    mine_p = [performance() for _ in range(11)]
    school = performance(entered_by="school")
    external = performance(entered_by="external")
    for env in mine_p + [school, external]:
        choice.record_performance_uploaded(uow, env)
    ids = [str(e["payload"]["performance_id"]) for e in mine_p]
    with pytest.raises(Exception) as e:
        choice.save_selection(uow, who("student"), 115, performance_ids=ids)
    assert e.value.code == "selection_quota_exceeded" and "10" in e.value.text
    for other in (school, external):
        with pytest.raises(Exception) as e:
            choice.save_selection(uow, who("student"), 115, performance_ids=[str(other["payload"]["performance_id"])])
        assert e.value.code == "not_selectable"
    choice.save_selection(uow, who("student"), 115, performance_ids=ids[:10])
    view = usecases.get_my_selection(uow, who("student"), 115)
    assert view["counts"] == {"outcome": 0, "performance": 10}
    why = {p["performance_id"]: p["reason"] for p in view["performances"]}
    assert why[ids[10]] == "over_limit" and why[ids[0]] is None
    assert why[str(school["payload"]["performance_id"])] == "not_student_entered"


def test_reasons_not_certified_and_returned(uow):
    waiting, back = uploaded(), uploaded()
    for env in (waiting, back):
        choice.record_outcome_uploaded(uow, env)
    choice.record_certification_returned(uow, returned(back["payload"]["outcome_id"]))
    view = usecases.get_my_selection(uow, who("student"), 115)
    by_id = {o["outcome_id"]: o for o in view["outcomes"]}
    assert by_id[str(waiting["payload"]["outcome_id"])]["reason"] == "not_certified"
    assert by_id[str(back["payload"]["outcome_id"])]["reason"] == "returned"
    assert by_id[str(back["payload"]["outcome_id"])]["return_reason"] == "檔案不清楚"
    with pytest.raises(Exception) as e:
        usecases.select_outcomes(uow, who("student"), 115, [str(waiting["payload"]["outcome_id"])])
    assert e.value.code == "not_selectable"
    # certified later: selectable
    usecases.record_certified(uow, certified(outcome_id=waiting["payload"]["outcome_id"]))
    view = usecases.get_my_selection(uow, who("student"), 115)
    assert {o["outcome_id"]: o["state"] for o in view["outcomes"]}[str(waiting["payload"]["outcome_id"])] == "certified"


def test_returned_before_uploaded_is_retried():
    u = FakeSubmissionUnitOfWork()
    with pytest.raises(Exception) as e:
        choice.record_certification_returned(u, returned(str(uuid.uuid4())))
    assert e.value.code == "retry_later"


def test_every_change_kept_who_when_before_after(uow):
    ids = mine(uow)
    choice.save_selection(uow, who("student"), 115, outcome_ids=ids[:2])
    choice.set_item(uow, who("student"), 115, "outcome", ids[2], True)
    choice.set_item(uow, who("student"), 115, "outcome", ids[0], False)
    again = choice.save_selection(uow, who("student"), 115, outcome_ids=ids[1:3])
    assert again["changed"] is False and again["version"] == 3
    log = choice.list_selection_changes(uow, who("student"), 115)
    assert [c["version"] for c in log] == [3, 2, 1]
    assert log[2]["before"] is None and log[2]["after"]["outcome_ids"] == ids[:2]
    assert log[0]["before"]["outcome_ids"] == ids[:3] and log[0]["after"]["outcome_ids"] == ids[1:3]
    assert all(c["changed_by"] == STUDENT for c in log)
    # the registrar reads it by student; another student reads only their own
    assert len(choice.list_selection_changes(uow, who("registrar", uid=str(uuid.uuid4())), 115, STUDENT)) == 3
    assert choice.list_selection_changes(uow, who("student", uid=str(uuid.uuid4())), 115, STUDENT) == []
    # a stale page is refused
    with pytest.raises(Exception) as e:
        choice.save_selection(uow, who("student"), 115, outcome_ids=[], expected_version=1)
    assert e.value.code == "selection_stale"


def test_another_students_items_are_not_selectable(uow):
    other = str(uuid.uuid4())
    env = certified(student=other)
    usecases.record_certified(uow, env)
    with pytest.raises(Exception) as e:
        choice.set_item(uow, who("student"), 115, "outcome", str(env["payload"]["outcome_id"]), True)
    assert e.value.code == "not_selectable"


def test_lock_holds_announces_and_freezes(uow):
    ids = mine(uow)
    perf = performance()
    choice.record_performance_uploaded(uow, perf)
    choice.save_selection(uow, who("student"), 115, outcome_ids=ids[:2],
                          performance_ids=[str(perf["payload"]["performance_id"])])
    consent.set_consent(uow, who("student"), 115, True, consent.WORDING_VERSION)
    res = usecases.lock_selections(uow, who("registrar", uid=str(uuid.uuid4())), 115)
    assert (res["students"], res["outcomes"]) == (1, 2)
    (event,) = uow.events
    assert event["event"] == "selection-locked" and sorted(event["payload"]["outcome_ids"]) == sorted(ids[:2])
    with pytest.raises(Exception) as e:
        usecases.select_outcomes(uow, who("student"), 115, ids[:1])
    assert e.value.code == "selection_locked"
    assert {o["reason"] for o in usecases.get_my_selection(uow, who("student"), 115)["outcomes"]} == {"locked"}
    with pytest.raises(Exception) as e:
        usecases.lock_selections(uow, who("registrar", uid=str(uuid.uuid4())), 115)
    assert e.value.code == "already_locked"
    held = usecases.list_locked(uow, who("registrar"), 115)
    assert held["locked"] and len(held["students"][0]["outcomes"]) == 2
    assert held["students"][0]["performances"][0]["sha256"] == "2" * 64


@pytest.mark.parametrize("year", ["x", 99, None])
def test_bad_school_year(uow, year):
    with pytest.raises(Exception) as e:
        usecases.get_my_selection(uow, who("student"), year)
    assert e.value.code == "school_year_invalid"


@pytest.mark.parametrize("bad", ["x", [1, 2], None, {"a": 1}])
def test_bad_lists(uow, bad):
    with pytest.raises(Exception) as e:
        choice.save_selection(uow, who("student"), 115, outcome_ids=bad if bad is not None else "x")
    assert e.value.code == "invalid"
