"""Use cases of the status history: record a change (form or import), list, void a mistake.

Each change is dated, carries the origin or host school code, keeps every earlier item (a
mistaken one is voided, never deleted), updates the profile's 學籍狀態 where the change implies
one, and publishes `student-status-changed` through the outbox in the same transaction.
"""
import uuid

from portfolio_common import clock, events
from portfolio_common.text import clean_text

from ..errors import FieldsInvalid, Invalid, NotFound, StaleRecord
from ..history import snapshot
from ..profile.usecases import REGISTRAR_ROLES, may_read_student
from . import domain


def _uuid(value, what):
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound(f"{what} not found") from None


def _public(row) -> dict:
    out = {k: row.get(k) for k in ("change", "other_school_code", "school_year", "semester", "note",
                                   "recorded_via", "void_reason")}
    out.update(id=str(row["id"]), student_id=str(row["student_id"]), version=row["version"],
               effective_on=row["effective_on"].isoformat(),
               recorded_by=str(row["recorded_by"]) if row.get("recorded_by") else None,
               recorded_at=row["recorded_at"].isoformat() if row.get("recorded_at") else None,
               voided_at=row["voided_at"].isoformat() if row.get("voided_at") else None)
    return out


def plan_change(uow, caller, student, values) -> tuple[str, object, list]:
    """(created | unchanged, marker, problems): the same change on the same day is one item."""
    same = uow.status_changes.find(caller.tenant, student["id"], values["change"], values["effective_on"])
    if same is None:
        return "created", [str(student["id"]), student["version"]], []
    if (same["other_school_code"], same["school_year"], same["semester"], same["note"]) == \
            (values["other_school_code"], values["school_year"], values["semester"], values["note"]) \
            and same["voided_at"] is None:
        return "unchanged", [str(same["id"]), same["version"]], []
    return None, None, [("change", "status_change_exists", {})]


def apply_change(uow, caller, student, values, via) -> uuid.UUID:
    tenant = caller.tenant
    row = {k: values[k] for k in ("change", "effective_on", "other_school_code", "school_year", "semester", "note")}
    row.update(tenant=tenant, student_id=student["id"], recorded_via=via, recorded_by=caller.user_id,
               recorded_at=clock.now())
    values = {k: v for k, v in values.items() if k != "student_no"}
    cid = uow.status_changes.add(row)
    uow.history.record(tenant, "status_change", cid, "created", caller.user_id, actor_username=caller.username,
                       student_id=student["id"], after=snapshot(values | {"recorded_via": via}))
    status = domain.STATUS_AFTER.get(values["change"])
    changes = {"status_changed_on": values["effective_on"]}
    if status:
        changes["status"] = status
    fresh = uow.students.get(tenant, student["id"])
    if not uow.students.update(student["id"], fresh["version"], changes):
        raise StaleRecord("the student's record changed meanwhile", code="stale_record")
    before = {k: fresh.get(k) for k in changes}
    uow.history.record(tenant, "student", student["id"], "status_changed", caller.user_id,
                       actor_username=caller.username, student_id=student["id"],
                       before=snapshot(before), after=snapshot(changes))
    uow.emit(events.make_event(events.STUDENT_STATUS_CHANGED, tenant, {
        "student_id": str(student["id"]), "student_user_id": str(student["user_id"]),
        "change": values["change"], "effective_on": values["effective_on"],
        "other_school_code": values["other_school_code"], "school_year": values["school_year"],
        "semester": values["semester"]}))
    return cid


def record_status_change(uow, caller, student_id, data: dict) -> dict:
    """Registrar: add one dated status change. data: {change, effective_on, other_school_code,
    school_year?, semester? (default: the term of effective_on), note?}. Raises FieldsInvalid
    with [{field, code}] problems; the same change on the same date twice is answered with the
    item already there (idempotent)."""
    caller.require(*REGISTRAR_ROLES)
    student = may_read_student(uow, caller, student_id, writing=True)
    values, problems = domain.read_change(data, today=clock.today_in_school())
    if not problems:
        action, marker, problems = plan_change(uow, caller, student, values)
    if problems:
        raise FieldsInvalid("the status change has problems", problems=[
            {"field": f, "code": c, "params": p or {}} for f, c, p in problems])
    if action == "unchanged":
        return _public(uow.status_changes.get(caller.tenant, uuid.UUID(marker[0])))
    cid = apply_change(uow, caller, student, values, "form")
    uow.commit()
    return _public(uow.status_changes.get(caller.tenant, cid))


def list_status_changes(uow, caller, student_id) -> list:
    """Every status change of a student, earliest first, voided ones included and marked
    (registrar of the tenant, or the student themself)."""
    student = may_read_student(uow, caller, student_id)
    return [_public(r) for r in uow.status_changes.of_student(caller.tenant, student["id"])]


def void_status_change(uow, caller, change_id, expected_version, reason) -> dict:
    """Registrar: mark a mistaken status change void (it stays listed, with who and why).
    `expected_version` must be the version the registrar saw (stale_record otherwise)."""
    caller.require(*REGISTRAR_ROLES)
    row = uow.status_changes.get(caller.tenant, _uuid(change_id, "status change"), lock=True)
    if row is None:
        raise NotFound("status change not found")
    text = clean_text(reason)
    if not text:
        raise Invalid("a reason is required", code="reason_required")
    if len(text) > 200:
        raise Invalid("at most 200 characters", code="reason_too_long")
    if row["voided_at"] is not None or row["version"] != expected_version:
        raise StaleRecord("the status change changed since you opened it", code="stale_record")
    values = {"voided_at": clock.now(), "voided_by": caller.user_id, "void_reason": text}
    if not uow.status_changes.void(row["id"], expected_version, values):
        raise StaleRecord("the status change changed since you opened it", code="stale_record")
    uow.history.record(caller.tenant, "status_change", row["id"], "voided", caller.user_id,
                       actor_username=caller.username, student_id=row["student_id"],
                       before={"voided": False}, after={"voided": True, "void_reason": text})
    uow.commit()
    return _public(uow.status_changes.get(caller.tenant, row["id"]))


def may_read_change(uow, caller, change_id) -> dict:
    row = uow.status_changes.get(caller.tenant, _uuid(change_id, "status change"))
    if row is None:
        raise NotFound("status change not found")
    return may_read_student(uow, caller, row["student_id"])


HISTORY_READERS = {"status_change": may_read_change}
