"""Sealed students in records (issue 9 item 7): a copy of `sealed`, so the database refuses
writes to the student's profile, status, items, performances and outcomes; reads go through
gate_sealed_read."""
from portfolio_common import clock
from portfolio_common.errors import NotAllowed


def record_sealed(uow, env) -> bool:
    """Consumer of `sealed`: remember the seal (tenant, student) once; redeliveries change
    nothing. A student unknown to this tenant is still recorded: the trigger matches on the
    tenant too, so a seal can only ever freeze rows of the tenant that sealed."""
    if not uow.claim(env["event_id"], "records.handle_sealed"):
        return False
    p = env["payload"]
    uow.sealed_students.add(env["tenant"], str(p["student_id"]), str(p["student_user_id"]), p["sealed_at"])
    uow.commit()
    return True


def record_read_approved(uow, env) -> bool:
    """Consumer of `sealed-read-approved`: the reader may read that student until expires_at."""
    if not uow.claim(env["event_id"], "records.handle_sealed_read_approved"):
        return False
    p = env["payload"]
    uow.sealed_students.add_grant(dict(
        request_id=str(p["request_id"]), tenant=env["tenant"], student_id=str(p["student_id"]),
        reader_user_id=str(p["reader_user_id"]), expires_at=p["expires_at"],
        approved_by=[{"role": a["role"], "user_id": str(a["user_id"])} for a in p["approved_by"]]))
    uow.commit()
    return True


def gate_sealed_read(uow, caller, student: dict):
    """Every read of one student's data passes here (profile, items, autobiography): a sealed
    student is read only by the reader of an approved, unexpired request (submission's two-role
    approval, DOMAIN.md "reads only through an audited request"), and each such read is logged
    in `sealed_reads`. Anyone else: NotAllowed `sealed_read_required` (403, audited)."""
    if not uow.sealed_students.is_sealed(caller.tenant, student["id"]):
        return
    now = clock.now()
    grant = uow.sealed_students.grant_for(caller.tenant, student["id"], caller.user_id, now)
    if grant is None:
        raise NotAllowed("this student's data is sealed: an approved read request is required",
                         code="sealed_read_required")
    uow.sealed_students.log_read(caller.tenant, student["id"], caller.user_id, grant["request_id"], now)
    uow.commit()
