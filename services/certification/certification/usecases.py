"""Use cases of the certification service: plain functions over a unit of work."""
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from portfolio_common import events
from portfolio_common.errors import Invalid, PortfolioError

from . import domain
from .orm import decisions, tasks

TEACHER_ROLES = ("subject_teacher", "homeroom_teacher")
OVERSIGHT_ROLES = ("ops", "system", "executive_secretary", "principal")


def create_task(uow, env) -> bool:
    """outcome-uploaded -> one pending task for the section's teacher (idempotent)."""
    if not uow.claim(env["event_id"], "certification.handle_outcome_uploaded"):
        return False
    p = env["payload"]
    uow.session.execute(insert(tasks).values(
        id=uuid.uuid4(), tenant=env["tenant"], outcome_id=p["outcome_id"], file_id=p["file_id"],
        student_id=p["student_id"], student_user_id=p["student_user_id"], section_id=p["section_id"],
        teacher_user_id=p["teacher_user_id"], school_year=p["school_year"], semester=p["semester"],
        course_code=p["course_code"], subject_name=p["subject_name"], description=p["description"],
        filename=p["filename"], sha256=p["sha256"], status="pending",
    ).on_conflict_do_nothing(index_elements=["outcome_id"]))
    uow.commit()
    return True


def list_queue(uow, caller, status="pending") -> list:
    caller.require(*TEACHER_ROLES)
    q = sa.select(tasks).where(tasks.c.tenant == caller.tenant,
                               tasks.c.teacher_user_id == caller.user_id)
    if status != "all":
        q = q.where(tasks.c.status == status)
    rows = uow.session.execute(q.order_by(tasks.c.created_at)).all()
    return [dict(r._mapping) for r in rows]


def count_tasks(uow, caller) -> dict:
    caller.require(*OVERSIGHT_ROLES)
    rows = uow.session.execute(
        sa.select(tasks.c.status, sa.func.count(), sa.func.count(sa.distinct(tasks.c.outcome_id)))
        .where(tasks.c.tenant == caller.tenant).group_by(tasks.c.status)).all()
    return {"by_status": {r[0]: r[1] for r in rows},
            "total": sum(r[1] for r in rows), "distinct_outcomes": sum(r[2] for r in rows)}


def _task_ids(task_ids):
    if not isinstance(task_ids, list) or not task_ids:
        raise Invalid("choose at least one item", code="nothing_selected")
    if len(task_ids) > domain.MAX_BATCH:
        raise Invalid(f"at most {domain.MAX_BATCH} items at once", code="batch_too_large")
    ids = []
    for t in task_ids:
        try:
            ids.append(uuid.UUID(str(t)))
        except ValueError:
            ids.append(None)
    return ids


def _decide(uow, caller, task_ids, decision, reason=None):
    """Decide many tasks in one transaction; each item gets its own verdict.

    Items the caller may not touch, or that are not in their tenant, read as not found.
    """
    caller.require(*TEACHER_ROLES)
    ids = _task_ids(task_ids)
    rows = {r.id: r for r in uow.session.execute(
        sa.select(tasks).where(tasks.c.id.in_([i for i in ids if i]), tasks.c.tenant == caller.tenant)
        .with_for_update()).all()}
    done, refused = [], []
    now = events.utcnow()
    for raw, tid in zip(task_ids, ids):
        row = rows.get(tid)
        try:
            if row is None:
                raise PortfolioError("item not found", code="not_found")
            try:
                proxy_for = domain.acting_for(row.teacher_user_id, caller.user_id)
            except PortfolioError:
                raise PortfolioError("item not found", code="not_found") from None
            domain.check_pending(row.status)
        except PortfolioError as exc:
            refused.append({"task_id": str(raw), "code": exc.code, "reason": exc.text})
            continue
        uow.session.execute(tasks.update().where(tasks.c.id == tid).values(status=decision))
        uow.session.execute(decisions.insert().values(
            task_id=tid, tenant=caller.tenant, decision=decision, actor_user_id=caller.user_id,
            acting_for=proxy_for, reason=reason, decided_at=now))
        if decision == "certified":
            uow.emit(events.make_event(events.CERTIFIED, caller.tenant, {
                "task_id": str(tid), "outcome_id": str(row.outcome_id), "student_id": str(row.student_id),
                "student_user_id": str(row.student_user_id), "section_id": str(row.section_id),
                "school_year": row.school_year, "semester": row.semester,
                "course_code": row.course_code, "subject_name": row.subject_name,
                "description": row.description, "sha256": row.sha256,
                "certified_by": caller.user_id, "acting_for": proxy_for, "certified_at": now}))
        else:
            uow.emit(events.make_event(events.CERTIFICATION_RETURNED, caller.tenant, {
                "task_id": str(tid), "outcome_id": str(row.outcome_id), "student_id": str(row.student_id),
                "student_user_id": str(row.student_user_id), "returned_by": caller.user_id,
                "reason": reason, "returned_at": now}))
        done.append(str(tid))
    uow.commit()
    return {decision: done, "refused": refused}


def certify(uow, caller, task_ids) -> dict:
    return _decide(uow, caller, task_ids, "certified")


def return_outcomes(uow, caller, task_ids, reason) -> dict:
    return _decide(uow, caller, task_ids, "returned", domain.clean_reason(reason))
