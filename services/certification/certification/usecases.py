"""Use cases of the certification service: plain functions over a unit of work."""
import uuid

from portfolio_common import events
from portfolio_common.errors import Invalid, PortfolioError

from . import domain

TEACHER_ROLES = ("subject_teacher", "homeroom_teacher")
OVERSIGHT_ROLES = ("ops", "system", "executive_secretary", "principal")


def create_task(uow, env) -> bool:
    """outcome-uploaded -> one pending task for the section's teacher (idempotent)."""
    if not uow.claim(env["event_id"], "certification.handle_outcome_uploaded"):
        return False
    p = env["payload"]
    uow.tasks.add(dict(
        tenant=env["tenant"], outcome_id=p["outcome_id"], file_id=p["file_id"],
        student_id=p["student_id"], student_user_id=p["student_user_id"], section_id=p["section_id"],
        teacher_user_id=p["teacher_user_id"], school_year=p["school_year"], semester=p["semester"],
        course_code=p["course_code"], subject_name=p["subject_name"], description=p["description"],
        filename=p["filename"], sha256=p["sha256"]))
    uow.commit()
    return True


def list_queue(uow, caller, status="pending") -> list:
    caller.require(*TEACHER_ROLES)
    tasks = []
    for teacher in (caller.user_id, *caller.proxy_for):
        for t in uow.tasks.queue(caller.tenant, teacher, status):
            t["acting_for"] = None if teacher == caller.user_id else teacher
            tasks.append(t)
    return tasks


def count_tasks(uow, caller) -> dict:
    caller.require(*OVERSIGHT_ROLES)
    counts = uow.tasks.counts(caller.tenant)
    return {"by_status": {k: n for k, (n, _) in counts.items()},
            "total": sum(n for n, _ in counts.values()), "distinct_outcomes": sum(d for _, d in counts.values())}


def _task_ids(task_ids):
    if not isinstance(task_ids, list) or not task_ids:
        raise Invalid("choose at least one item", code="nothing_selected")
    task_ids = list(dict.fromkeys(str(t) for t in task_ids))  # a repeated id is decided once
    if len(task_ids) > domain.MAX_BATCH:
        raise Invalid(f"at most {domain.MAX_BATCH} items at once", code="batch_too_large")
    ids = []
    for t in task_ids:
        try:
            ids.append(uuid.UUID(t))
        except ValueError:
            ids.append(None)
    return task_ids, ids


def _decide(uow, caller, task_ids, decision, reason=None):
    """Decide many tasks in one transaction; each item gets its own verdict.

    Items the caller may not touch, or that are not in their tenant, read as not found.
    """
    caller.require(*TEACHER_ROLES)
    task_ids, ids = _task_ids(task_ids)
    rows = uow.tasks.lock_many([i for i in ids if i], caller.tenant)
    done, refused = [], []
    now = events.utcnow()
    for raw, tid in zip(task_ids, ids):
        row = rows.get(tid)
        try:
            if row is None:
                raise PortfolioError("item not found", code="not_found")
            try:
                proxy_for = domain.acting_for(row["teacher_user_id"], caller.user_id, caller.proxy_for)
            except PortfolioError:
                # another teacher's item: answered like a missing one, audited as a refusal
                uow.emit(events.make_event(events.ACCESS_REFUSED, caller.tenant, {
                    "user_id": caller.user_id, "username": caller.username, "roles": list(caller.roles),
                    "action": f"certification.{decision}", "code": "not_found",
                    "remote_addr": caller.remote_addr or None, "at": now}, producer="certification"))
                raise PortfolioError("item not found", code="not_found") from None
            domain.check_pending(row["status"])
        except PortfolioError as exc:
            refused.append({"task_id": str(raw), "code": exc.code, "reason": exc.text})
            continue
        uow.tasks.decide(tid, caller.tenant, decision, caller.user_id, proxy_for, reason, now)
        common = {"task_id": str(tid), "outcome_id": str(row["outcome_id"]), "student_id": str(row["student_id"]),
                  "student_user_id": str(row["student_user_id"])}
        if decision == "certified":
            uow.emit(events.make_event(events.CERTIFIED, caller.tenant, dict(
                common, section_id=str(row["section_id"]), school_year=row["school_year"],
                semester=row["semester"], course_code=row["course_code"], subject_name=row["subject_name"],
                description=row["description"], sha256=row["sha256"], certified_by=caller.user_id,
                acting_for=proxy_for, certified_at=now)))
        else:
            uow.emit(events.make_event(events.CERTIFICATION_RETURNED, caller.tenant, dict(
                common, returned_by=caller.user_id, reason=reason, returned_at=now)))
        done.append(str(tid))
    uow.commit()
    return {decision: done, "refused": refused}


def certify(uow, caller, task_ids) -> dict:
    return _decide(uow, caller, task_ids, "certified")


def return_outcomes(uow, caller, task_ids, reason) -> dict:
    return _decide(uow, caller, task_ids, "returned", domain.clean_reason(reason))
