"""Use cases of the submission service: plain functions over a unit of work."""
from portfolio_common import events

from .errors import AlreadyLocked, Invalid
from .selection import usecases as choice

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
    held = uow.selections.certified_by_ids([str(p["outcome_id"])]).get(str(p["outcome_id"]))
    if uow.selections.remove_certified(env["tenant"], p["outcome_id"], p["sha256"]):
        choice.drop_withdrawn(uow, env["tenant"], p, held)
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
    """See selection.usecases.get_my_selection."""
    return choice.get_my_selection(uow, caller, school_year)


def select_outcomes(uow, caller, school_year, outcome_ids) -> dict:
    """The student's outcomes of the year as a whole list (performances unchanged): see
    selection.usecases.save_selection for the rules and refusals."""
    if not isinstance(outcome_ids, list):
        raise Invalid("outcome_ids must be a list", code="invalid")
    return choice.save_selection(uow, caller, school_year, outcome_ids=outcome_ids)


def lock_selections(uow, caller, school_year) -> dict:
    """Freeze every student's selection of the tenant's school year and hold a copy (outcomes
    and performances with their files' fingerprints); one selection-locked per student."""
    caller.require(*REGISTRAR_ROLES)
    year = _year(school_year)
    uow.selections.serialise(caller.tenant, year)
    now = events.utcnow()
    if not uow.selections.add_lock(caller.tenant, year, caller.user_id, now):
        raise AlreadyLocked("this school year is already locked")
    students = outcomes = 0
    for row in uow.choices.all_current(caller.tenant, year):
        current = choice.Choice.from_dict(row)
        certified = uow.selections.certified_by_ids(current.outcome_ids)
        perfs = uow.choices.performances_by_id(current.performance_ids)
        items = [certified[i] for i in current.outcome_ids if i in certified]
        chosen_perfs = [perfs[i] for i in current.performance_ids if i in perfs]
        if not items and not chosen_perfs:
            continue
        student_id = (items or chosen_perfs)[0]["student_id"]
        user_id = str(row["student_user_id"])
        uow.selections.hold(caller.tenant, year, user_id, student_id, [
            {"outcome_id": str(i["outcome_id"]), "course_code": i["course_code"], "subject_name": i["subject_name"],
             "description": i["description"], "sha256": i["sha256"]} for i in items], now, [
            {"performance_id": str(p["performance_id"]), "performance_kind": p["performance_kind"],
             "description": p["description"], "file_id": str(p["file_id"]), "sha256": p["sha256"]}
            for p in chosen_perfs])
        uow.emit(events.make_event(events.SELECTION_LOCKED, caller.tenant, {
            "student_id": str(student_id), "student_user_id": user_id, "school_year": year,
            "outcome_ids": [str(i["outcome_id"]) for i in items], "locked_by": caller.user_id,
            "locked_at": now}))
        students, outcomes = students + 1, outcomes + len(items)
    uow.commit()
    return {"school_year": year, "locked_at": now.isoformat(), "students": students, "outcomes": outcomes}


def list_locked(uow, caller, school_year) -> dict:
    caller.require(*REGISTRAR_ROLES)
    year = _year(school_year)
    lock = uow.selections.lock_of(caller.tenant, year)
    return {"school_year": year, "locked": lock is not None,
            "locked_at": _iso(lock["locked_at"]) if lock else None,
            "students": [{"student_id": str(r["student_id"]), "student_user_id": str(r["student_user_id"]),
                          "outcomes": r["outcomes"], "performances": r.get("performances") or []} for r in uow.selections.held(caller.tenant, year)]}
