"""Selection and lock use cases against a real PostgreSQL database."""
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common import events
from submission import usecases

STUDENT = str(uuid.uuid4())


def who(role, uid=STUDENT, tenant="day"):
    return caller_mod.Caller(user_id=uid, username=role, tenant=tenant, roles=(role,))


def certify_event(year=115, student=STUDENT, tenant="day"):
    return events.load_event(events.CERTIFIED, events.make_event(events.CERTIFIED, tenant, {
        "task_id": str(uuid.uuid4()), "outcome_id": str(uuid.uuid4()), "student_id": str(uuid.uuid4()),
        "student_user_id": student, "section_id": str(uuid.uuid4()), "school_year": year, "semester": 1,
        "course_code": "C1", "subject_name": "程式設計", "description": "d", "sha256": "0" * 64,
        "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": events.utcnow()}))


@pytest.fixture
def db(service_db):
    db = service_db("submission")
    for env in [certify_event() for _ in range(7)] + [certify_event(year=114), certify_event(tenant="ce")]:
        with db.uow() as uow:
            usecases.record_certified(uow, env)
    return db


def ids(db, **filters):
    return [str(r["outcome_id"]) for r in db.rows("certified_outcomes")
            if all(r[k] == v for k, v in filters.items())]


def test_at_most_six_own_certified_outcomes_of_the_year(db):
    mine = ids(db, school_year=115, tenant="day")
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.select_outcomes(uow, who("student"), 115, mine)
    assert e.value.code == "selection_quota_exceeded"
    for foreign in (ids(db, school_year=114), ids(db, tenant="ce")):
        with pytest.raises(Exception) as e, db.uow() as uow:
            usecases.select_outcomes(uow, who("student"), 115, mine[:1] + foreign)
        assert e.value.code == "not_selectable"
    with db.uow() as uow:
        assert len(usecases.select_outcomes(uow, who("student"), 115, mine[:6])["selected"]) == 6
    with db.uow() as uow:
        view = usecases.get_my_selection(uow, who("student"), 115)
    assert sum(c["selected"] for c in view["candidates"]) == 6 and len(view["candidates"]) == 7


def test_lock_freezes_holds_and_announces(db):
    mine = ids(db, school_year=115, tenant="day")
    with db.uow() as uow:
        usecases.select_outcomes(uow, who("student"), 115, mine[:3])
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.lock_selections(uow, who("student"), 115)
    assert e.value.code == "not_allowed"
    registrar = who("registrar", uid=str(uuid.uuid4()))
    with db.uow() as uow:
        res = usecases.lock_selections(uow, registrar, 115)
    assert (res["students"], res["outcomes"]) == (1, 3)
    (event,) = db.outbox_bodies("selection-locked")
    assert sorted(event["payload"]["outcome_ids"]) == sorted(mine[:3])
    for fn, code in ((lambda uow: usecases.select_outcomes(uow, who("student"), 115, mine[:1]), "selection_locked"),
                     (lambda uow: usecases.lock_selections(uow, registrar, 115), "already_locked")):
        with pytest.raises(Exception) as e, db.uow() as uow:
            fn(uow)
        assert e.value.code == code
    with db.uow() as uow:
        held = usecases.list_locked(uow, registrar, 115)
    assert held["locked"] and len(held["students"][0]["outcomes"]) == 3
    with db.uow() as uow:  # the other tenant's year is not locked by this
        assert usecases.list_locked(uow, who("registrar", tenant="ce"), 115)["locked"] is False
