"""Selection and lock use cases with a fake unit of work: no database, no broker."""
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common import events
from submission import usecases
from submission.unit_of_work import FakeSubmissionUnitOfWork

STUDENT = str(uuid.uuid4())


def who(role, uid=STUDENT, tenant="day"):
    return caller_mod.Caller(user_id=uid, username=role, tenant=tenant, roles=(role,))


def certified(year=115, tenant="day", student=STUDENT):
    return events.load_event(events.CERTIFIED, events.make_event(events.CERTIFIED, tenant, {
        "task_id": str(uuid.uuid4()), "outcome_id": str(uuid.uuid4()), "student_id": str(uuid.uuid4()),
        "student_user_id": student, "section_id": str(uuid.uuid4()), "school_year": year, "semester": 1,
        "course_code": "C1", "subject_name": "程式設計", "description": "d", "sha256": "0" * 64,
        "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": events.utcnow()}))


@pytest.fixture
def uow():
    u = FakeSubmissionUnitOfWork()
    for env in [certified() for _ in range(7)] + [certified(year=114), certified(tenant="ce")]:
        usecases.record_certified(u, env)
    return u


def mine(uow):
    return [c["outcome_id"] for c in usecases.get_my_selection(uow, who("student"), 115)["candidates"]]


def test_a_redelivered_certified_is_copied_once(uow):
    env = certified()
    assert usecases.record_certified(uow, env) and not usecases.record_certified(uow, env)


def test_select_at_most_six_of_ones_own(uow):
    ids = mine(uow)
    assert len(ids) == 7
    with pytest.raises(Exception) as e:
        usecases.select_outcomes(uow, who("student"), 115, ids)
    assert e.value.code == "selection_quota_exceeded"
    assert usecases.select_outcomes(uow, who("student"), 115, ids[:6])["selected"] == ids[:6]


def test_lock_holds_announces_and_freezes(uow):
    ids = mine(uow)
    usecases.select_outcomes(uow, who("student"), 115, ids[:2])
    res = usecases.lock_selections(uow, who("registrar", uid=str(uuid.uuid4())), 115)
    assert (res["students"], res["outcomes"]) == (1, 2)
    (event,) = uow.events
    assert event["event"] == "selection-locked" and sorted(event["payload"]["outcome_ids"]) == sorted(ids[:2])
    with pytest.raises(Exception) as e:
        usecases.select_outcomes(uow, who("student"), 115, ids[:1])
    assert e.value.code == "selection_locked"
    with pytest.raises(Exception) as e:
        usecases.lock_selections(uow, who("registrar", uid=str(uuid.uuid4())), 115)
    assert e.value.code == "already_locked"
    held = usecases.list_locked(uow, who("registrar"), 115)
    assert held["locked"] and len(held["students"][0]["outcomes"]) == 2


@pytest.mark.parametrize("year", ["x", 99, None])
def test_bad_school_year(uow, year):
    with pytest.raises(Exception) as e:
        usecases.get_my_selection(uow, who("student"), year)
    assert e.value.code == "school_year_invalid"
