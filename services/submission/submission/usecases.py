"""Use cases of the submission service: plain functions over a unit of work."""
import uuid
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from portfolio_common import events

from . import domain
from .errors import AlreadyLocked, Invalid, SelectionLocked
from .orm import certified_outcomes, locked_selections, selection_locks, selections

REGISTRAR_ROLES = ("registrar", "system")


def record_certified(uow, env) -> bool:
    if not uow.claim(env["event_id"], "submission.handle_certified"):
        return False
    p = env["payload"]
    uow.session.execute(insert(certified_outcomes).values(
        outcome_id=p["outcome_id"], tenant=env["tenant"], student_id=p["student_id"],
        student_user_id=p["student_user_id"], school_year=p["school_year"], semester=p["semester"],
        course_code=p["course_code"], subject_name=p["subject_name"], description=p["description"],
        sha256=p["sha256"], certified_at=p["certified_at"]).on_conflict_do_nothing())
    uow.commit()
    return True


def _year(school_year):
    try:
        y = int(school_year)
    except (TypeError, ValueError):
        raise Invalid("school year must be a number", code="school_year_invalid") from None
    if not 100 <= y <= 200:
        raise Invalid("school year out of range", code="school_year_invalid")
    return y


def _serialise(uow, tenant, year):
    """Saves and the registrar's lock of one tenant's year take turns (no save slips past a lock)."""
    uow.session.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"),
                        {"k": f"selection:{tenant}:{year}"})


def _lock_of(uow, tenant, year):
    return uow.session.execute(sa.select(selection_locks).where(
        selection_locks.c.tenant == tenant, selection_locks.c.school_year == year)).first()


def get_my_selection(uow, caller, school_year) -> dict:
    caller.require("student")
    year = _year(school_year)
    s = uow.session
    rows = s.execute(sa.select(certified_outcomes).where(
        certified_outcomes.c.tenant == caller.tenant,
        certified_outcomes.c.student_user_id == caller.user_id,
        certified_outcomes.c.school_year == year).order_by(certified_outcomes.c.certified_at)).all()
    chosen = set(str(r) for r in s.execute(sa.select(selections.c.outcome_id).where(
        selections.c.student_user_id == caller.user_id, selections.c.school_year == year,
        selections.c.tenant == caller.tenant)).scalars())
    lock = _lock_of(uow, caller.tenant, year)
    return {
        "school_year": year, "locked": lock is not None,
        "locked_at": lock.locked_at.isoformat() if lock else None,
        "max_selected": domain.MAX_OUTCOMES_SELECTED_PER_YEAR,
        "candidates": [dict(outcome_id=str(r.outcome_id), course_code=r.course_code,
                            subject_name=r.subject_name, description=r.description,
                            semester=r.semester, selected=str(r.outcome_id) in chosen) for r in rows],
    }


def select_outcomes(uow, caller, school_year, outcome_ids) -> dict:
    caller.require("student")
    year = _year(school_year)
    if not isinstance(outcome_ids, list):
        raise Invalid("outcome_ids must be a list", code="invalid")
    s = uow.session
    _serialise(uow, caller.tenant, year)
    if _lock_of(uow, caller.tenant, year) is not None:
        raise SelectionLocked("the selection for this school year is locked")
    selectable = set(str(r) for r in s.execute(sa.select(certified_outcomes.c.outcome_id).where(
        certified_outcomes.c.tenant == caller.tenant,
        certified_outcomes.c.student_user_id == caller.user_id,
        certified_outcomes.c.school_year == year)).scalars())
    chosen = domain.check_selection(outcome_ids, selectable)
    s.execute(selections.delete().where(selections.c.student_user_id == caller.user_id,
                                        selections.c.school_year == year, selections.c.tenant == caller.tenant))
    for oid in chosen:
        s.execute(selections.insert().values(tenant=caller.tenant, student_user_id=caller.user_id,
                                             school_year=year, outcome_id=oid))
    uow.commit()
    return {"school_year": year, "selected": chosen}


def lock_selections(uow, caller, school_year) -> dict:
    """Freeze every student's selection of the tenant's school year and hold a copy."""
    caller.require(*REGISTRAR_ROLES)
    year = _year(school_year)
    s = uow.session
    _serialise(uow, caller.tenant, year)
    now = events.utcnow()
    res = s.execute(insert(selection_locks).values(
        tenant=caller.tenant, school_year=year, locked_by=caller.user_id, locked_at=now)
        .on_conflict_do_nothing())
    if res.rowcount == 0:
        raise AlreadyLocked("this school year is already locked")
    rows = s.execute(
        sa.select(selections.c.student_user_id, certified_outcomes)
        .join(certified_outcomes, certified_outcomes.c.outcome_id == selections.c.outcome_id)
        .where(selections.c.tenant == caller.tenant, selections.c.school_year == year)
        .order_by(certified_outcomes.c.certified_at)).all()
    per_student = defaultdict(list)
    for r in rows:
        per_student[r.student_user_id].append(r)
    for user_id, items in per_student.items():
        student_id = items[0].student_id
        s.execute(locked_selections.insert().values(
            tenant=caller.tenant, school_year=year, student_user_id=user_id, student_id=student_id,
            locked_at=now, outcomes=[{"outcome_id": str(i.outcome_id), "course_code": i.course_code,
                                      "subject_name": i.subject_name, "description": i.description,
                                      "sha256": i.sha256} for i in items]))
        uow.emit(events.make_event(events.SELECTION_LOCKED, caller.tenant, {
            "student_id": str(student_id), "student_user_id": str(user_id), "school_year": year,
            "outcome_ids": [str(i.outcome_id) for i in items], "locked_by": caller.user_id,
            "locked_at": now}))
    uow.commit()
    return {"school_year": year, "locked_at": now.isoformat(), "students": len(per_student),
            "outcomes": len(rows)}


def list_locked(uow, caller, school_year) -> dict:
    caller.require(*REGISTRAR_ROLES)
    year = _year(school_year)
    lock = _lock_of(uow, caller.tenant, year)
    rows = uow.session.execute(sa.select(locked_selections).where(
        locked_selections.c.tenant == caller.tenant, locked_selections.c.school_year == year)).all()
    return {"school_year": year, "locked": lock is not None,
            "locked_at": lock.locked_at.isoformat() if lock else None,
            "students": [{"student_id": str(r.student_id), "student_user_id": str(r.student_user_id),
                          "outcomes": r.outcomes} for r in rows]}
