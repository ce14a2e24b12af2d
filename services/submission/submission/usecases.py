"""Use cases of the submission service: plain functions over a unit of work."""
from collections import defaultdict

from portfolio_common import events

from . import domain
from .errors import AlreadyLocked, Invalid, SelectionLocked

REGISTRAR_ROLES = ("registrar", "system")


def record_certified(uow, env) -> bool:
    if not uow.claim(env["event_id"], "submission.handle_certified"):
        return False
    p = env["payload"]
    uow.selections.add_certified(dict(
        outcome_id=p["outcome_id"], tenant=env["tenant"], student_id=p["student_id"],
        student_user_id=p["student_user_id"], school_year=p["school_year"], semester=p["semester"],
        course_code=p["course_code"], subject_name=p["subject_name"], description=p["description"],
        sha256=p["sha256"], certified_at=p["certified_at"]))
    uow.commit()
    return True


def record_withdrawn(uow, env) -> bool:
    """`certification-withdrawn`: the outcome is no longer certified, so its copy leaves what
    the student may select (a certification of the same outcome later brings it back)."""
    if not uow.claim(env["event_id"], "submission.handle_certification_withdrawn"):
        return False
    p = env["payload"]
    uow.selections.remove_certified(env["tenant"], p["outcome_id"], p["sha256"])
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


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def get_my_selection(uow, caller, school_year) -> dict:
    caller.require("student")
    year = _year(school_year)
    rows = uow.selections.certified_for(caller.tenant, caller.user_id, year)
    chosen = uow.selections.selected_ids(caller.tenant, caller.user_id, year)
    lock = uow.selections.lock_of(caller.tenant, year)
    return {
        "school_year": year, "locked": lock is not None,
        "locked_at": _iso(lock["locked_at"]) if lock else None,
        "max_selected": domain.MAX_OUTCOMES_SELECTED_PER_YEAR,
        "candidates": [dict(outcome_id=str(r["outcome_id"]), course_code=r["course_code"],
                            subject_name=r["subject_name"], description=r["description"],
                            semester=r["semester"], selected=str(r["outcome_id"]) in chosen) for r in rows],
    }


def select_outcomes(uow, caller, school_year, outcome_ids) -> dict:
    caller.require("student")
    year = _year(school_year)
    if not isinstance(outcome_ids, list):
        raise Invalid("outcome_ids must be a list", code="invalid")
    uow.selections.serialise(caller.tenant, year)
    if uow.selections.lock_of(caller.tenant, year) is not None:
        raise SelectionLocked("the selection for this school year is locked")
    selectable = {str(r["outcome_id"]) for r in uow.selections.certified_for(caller.tenant, caller.user_id, year)}
    chosen = domain.check_selection(outcome_ids, selectable)
    uow.selections.replace_selection(caller.tenant, caller.user_id, year, chosen)
    uow.commit()
    return {"school_year": year, "selected": chosen}


def lock_selections(uow, caller, school_year) -> dict:
    """Freeze every student's selection of the tenant's school year and hold a copy."""
    caller.require(*REGISTRAR_ROLES)
    year = _year(school_year)
    uow.selections.serialise(caller.tenant, year)
    now = events.utcnow()
    if not uow.selections.add_lock(caller.tenant, year, caller.user_id, now):
        raise AlreadyLocked("this school year is already locked")
    rows = uow.selections.selected_outcomes(caller.tenant, year)
    per_student = defaultdict(list)
    for r in rows:
        per_student[str(r["student_user_id"])].append(r)
    for user_id, items in per_student.items():
        student_id = items[0]["student_id"]
        uow.selections.hold(caller.tenant, year, user_id, student_id, [
            {"outcome_id": str(i["outcome_id"]), "course_code": i["course_code"], "subject_name": i["subject_name"],
             "description": i["description"], "sha256": i["sha256"]} for i in items], now)
        uow.emit(events.make_event(events.SELECTION_LOCKED, caller.tenant, {
            "student_id": str(student_id), "student_user_id": user_id, "school_year": year,
            "outcome_ids": [str(i["outcome_id"]) for i in items], "locked_by": caller.user_id,
            "locked_at": now}))
    uow.commit()
    return {"school_year": year, "locked_at": now.isoformat(), "students": len(per_student),
            "outcomes": len(rows)}


def list_locked(uow, caller, school_year) -> dict:
    caller.require(*REGISTRAR_ROLES)
    year = _year(school_year)
    lock = uow.selections.lock_of(caller.tenant, year)
    return {"school_year": year, "locked": lock is not None,
            "locked_at": _iso(lock["locked_at"]) if lock else None,
            "students": [{"student_id": str(r["student_id"]), "student_user_id": str(r["student_user_id"]),
                          "outcomes": r["outcomes"]} for r in uow.selections.held(caller.tenant, year)]}
