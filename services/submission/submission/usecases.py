"""Use cases of the submission service: plain functions over a unit of work."""
from portfolio_common import events

from .errors import Invalid
from .selection import lock as locks
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
        sha256=p["sha256"], fingerprints=events.fingerprints_of(p), certified_at=p["certified_at"]))
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


def lock_selections(uow, caller, school_year, scope="tenant", scope_label="", student_user_ids=None) -> dict:
    """Lock students' selections of the tenant's school year: see selection.lock.lock."""
    return locks.lock(uow, caller, school_year, scope, scope_label, student_user_ids)


def list_locked(uow, caller, school_year) -> dict:
    """{school_year, locked (any student locked), locked_at (the newest lock), students: the
    newest held copy of each student (selection.lock.held)}."""
    caller.require(*REGISTRAR_ROLES)
    year = _year(school_year)
    out = locks.held(uow, caller, year)
    legacy = uow.selections.lock_of(caller.tenant, year)
    for r in uow.selections.held(caller.tenant, year) if legacy else ():
        if not any(s["student_user_id"] == str(r["student_user_id"]) for s in out["students"]):
            out["students"].append({"student_id": str(r["student_id"]), "student_user_id": str(r["student_user_id"]),
                                    "version": r.get("version", 1), "locked_at": _iso(r["locked_at"]),
                                    "outcomes": r["outcomes"], "performances": r.get("performances") or [],
                                    "versions": 1})
    last = next((e for e in uow.choices.lock_events(caller.tenant, year) if e["action"] == "lock"), None)
    locked_any = bool(legacy) or any(r["state"] == "locked" for r in uow.choices.lock_rows(caller.tenant, year).values())
    return dict(out, locked=locked_any,
                locked_at=_iso(last["at"]) if last else (_iso(legacy["locked_at"]) if legacy else None))
