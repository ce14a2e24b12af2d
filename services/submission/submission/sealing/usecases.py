"""Sealing use cases (issue 9 item 7): plain functions over submission's unit of work.

Who: the registrar (註冊組, `day`) or the academic section (教務組, `ce`) records the dates —
both hold the role `registrar` in their own tenant — and the platform's tools (`system`).
"""
import datetime as dt

from portfolio_common import clock, events
from portfolio_common.errors import Conflict, Invalid, NotAllowed, NotFound
from portfolio_common.sealing import StudentSealed

from . import domain

REGISTRAR_ROLES = ("registrar", "system")


class ManifestSigner:
    """Signs manifests with an Ed25519 private key (SUBMISSION_SIGNING_KEY); key_id names it."""

    def __init__(self, private_key, key_id="submission"):
        self.private_key, self.key_id = private_key, key_id

    @classmethod
    def from_config(cls):
        from portfolio_common import trust
        from portfolio_common.config import secret
        return cls(trust.load_private_key(secret(trust.signing_key_name("submission"))))

    def sign(self, manifest):
        return domain.sign(manifest, self.private_key)


def _uuid(value, what="student_id"):
    import uuid
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise Invalid(f"{what} must be a UUID", code="invalid") from None


def record_application_date(uow, caller, student_id, student_user_id, applied_on) -> dict:
    """Record (or correct) a student's college application date, kept with who and when.

    applied_on: ISO date, not after today in Asia/Taipei (application_date_invalid).
    A sealed student's date is final (student_sealed). Returns {student_id, applied_on,
    seal_due_on, previous}: previous is the date it replaced, or None.
    """
    caller.require(*REGISTRAR_ROLES)
    sid, uid = _uuid(student_id), _uuid(student_user_id, "student_user_id")
    applied = domain.parse_application_date(applied_on, clock.today_in_school())
    if uow.sealing.sealed(caller.tenant, sid):
        raise StudentSealed("this student is sealed: the application date can no longer be changed")
    before = uow.sealing.application_of(caller.tenant, sid)
    if before and str(before["student_user_id"]) != uid:
        raise Invalid("student_user_id does not match the student's earlier record", code="invalid")
    uow.sealing.add_application(dict(tenant=caller.tenant, student_id=sid, student_user_id=uid,
                                     applied_on=applied, recorded_by=caller.user_id, recorded_at=clock.now()))
    uow.commit()
    return {"student_id": sid, "applied_on": applied.isoformat(),
            "seal_due_on": domain.seal_due_on(applied).isoformat(),
            "previous": before["applied_on"].isoformat() if before else None}


def get_sealing_status(uow, caller, student_id) -> dict:
    """{student_id, applied_on, seal_due_on, sealed, sealed_at} of a student of the caller's tenant."""
    caller.require(*REGISTRAR_ROLES)
    sid = _uuid(student_id)
    app = uow.sealing.application_of(caller.tenant, sid)
    seal = uow.sealing.sealed(caller.tenant, sid)
    return {"student_id": sid, "applied_on": app["applied_on"].isoformat() if app else None,
            "seal_due_on": domain.seal_due_on(app["applied_on"]).isoformat() if app else None,
            "sealed": seal is not None, "sealed_at": seal["sealed_at"].isoformat() if seal else None}


def seal_due_students(uow, signer, limit=500) -> list:
    """The scheduled job: seal every student whose application date + 5 years <= today.

    Idempotent (a sealed student is skipped; the seal row is written once). For each student in
    one transaction: the `sealed_students` row (the database then refuses writes), the signed
    manifest, and `sealed` in the outbox. At most `limit` students per call; the job calls again
    until none is left. Returns [(tenant, student_id)] sealed by this call.
    """
    today = clock.today_in_school()
    done = uow.sealing.sealed_ids()
    due = [a for a in uow.sealing.current_applications()
           if (a["tenant"], str(a["student_id"])) not in done and domain.seal_due_on(a["applied_on"]) <= today]
    sealed = []
    for a in due[:limit]:
        tenant, sid, uid = a["tenant"], str(a["student_id"]), str(a["student_user_id"])
        now = clock.now()
        if not uow.sealing.add_seal(tenant, sid, uid, now):
            continue
        manifest = domain.build_manifest(
            tenant=tenant, student_id=sid, student_user_id=uid, applied_on=a["applied_on"], sealed_at=now,
            certified=uow.sealing.certified_of(tenant, sid), held=uow.sealing.held_of(tenant, sid))
        uow.sealing.add_manifest(tenant, sid, manifest, signer.sign(manifest), signer.key_id, now)
        uow.emit(events.make_event(events.SEALED, tenant, {
            "student_id": sid, "student_user_id": uid, "sealed_at": now,
            "manifest_digest": manifest["digest"]}))
        sealed.append((tenant, sid))
    uow.commit()
    return sealed


def get_sealing_manifest(uow, caller, student_id) -> dict:
    """{manifest, signature, key_id}: verify with the submission key of CALLER_PUBLIC_KEYS
    (domain.verify). NotFound when the student of the caller's tenant is not sealed."""
    caller.require(*REGISTRAR_ROLES)
    m = uow.sealing.manifest_of(caller.tenant, _uuid(student_id))
    if m is None:
        raise NotFound("this student is not sealed")
    return {"manifest": m["manifest"], "signature": m["signature"], "key_id": m["key_id"]}


# ---------------------------------------------------------------- audited reads of sealed data
#
# Who: the registrar of the tenant asks (with a reason); the principal and the executive
# secretary each approve (two roles, two different people, neither of them the requester).
# On the second approval the request is valid READ_VALID_DAYS for the requester only, and
# `sealed-read-approved` tells records, which then lets that reader read that student and logs
# every read. Every step is kept: the request, each approval (append-only), the event.

APPROVER_ROLES = ("principal", "executive_secretary")
READ_VALID_DAYS = 7


def _reason(text):
    text = (text or "").strip() if isinstance(text, str) else ""
    if not text:
        raise Invalid("a reason is required to read sealed data", code="read_reason_required")
    if len(text) > 500:
        raise Invalid("the reason may have at most 500 characters", code="reason_too_long")
    return text


def _request_view(uow, r) -> dict:
    approvals = uow.sealing.approvals(r["id"])
    return {"id": str(r["id"]), "student_id": str(r["student_id"]), "requested_by": str(r["requested_by"]),
            "reason": r["reason"], "requested_at": r["requested_at"].isoformat(),
            "approvals": [{"role": a["role"], "user_id": str(a["approver_user_id"]),
                           "approved_at": a["approved_at"].isoformat()} for a in approvals],
            "approved_at": r["approved_at"].isoformat() if r["approved_at"] else None,
            "expires_at": r["expires_at"].isoformat() if r["expires_at"] else None}


def request_sealed_read(uow, caller, student_id, reason) -> dict:
    """Registrar: ask to read a sealed student of the tenant. -> the request (see
    list_sealed_read_requests). student_not_sealed (404) when the student is not sealed in this tenant."""
    import uuid
    caller.require("registrar")
    sid = _uuid(student_id)
    if not uow.sealing.sealed(caller.tenant, sid):
        raise NotFound("this student is not sealed: their data is read as usual", code="student_not_sealed")
    row = dict(id=str(uuid.uuid4()), tenant=caller.tenant, student_id=sid, requested_by=caller.user_id,
               reason=_reason(reason), requested_at=clock.now())
    uow.sealing.add_read_request(row)
    uow.commit()
    return _request_view(uow, uow.sealing.read_request(caller.tenant, row["id"]))


def approve_sealed_read(uow, caller, request_id) -> dict:
    """Principal or executive secretary: approve a request of the tenant, once per role.
    The requester cannot approve their own request, and one person cannot approve for both
    roles (not_allowed). The second role's approval publishes `sealed-read-approved`."""
    caller.require(*APPROVER_ROLES)
    r = uow.sealing.read_request(caller.tenant, _uuid(request_id, "request_id"), lock=True)
    if r is None:
        raise NotFound("request not found")
    if str(r["requested_by"]) == str(caller.user_id):
        raise NotAllowed("you cannot approve your own request", code="not_allowed")
    if r["approved_at"] is not None:
        raise Conflict("this request is already approved", code="already_decided")
    done = uow.sealing.approvals(r["id"])
    if any(str(a["approver_user_id"]) == str(caller.user_id) for a in done):
        raise NotAllowed("a second approver must be another person", code="not_allowed")
    open_roles = [x for x in APPROVER_ROLES if caller.has(x) and x not in {a["role"] for a in done}]
    if not open_roles:
        raise Conflict("your role has already approved this request", code="already_decided")
    role = open_roles[0]
    now = clock.now()
    uow.sealing.add_approval(r["id"], role, caller.user_id, now)
    approvals = uow.sealing.approvals(r["id"])
    if {a["role"] for a in approvals} >= set(APPROVER_ROLES):
        expires = now + dt.timedelta(days=READ_VALID_DAYS)
        uow.sealing.mark_approved(r["id"], now, expires)
        uow.emit(events.make_event(events.SEALED_READ_APPROVED, caller.tenant, {
            "request_id": str(r["id"]), "student_id": str(r["student_id"]),
            "reader_user_id": str(r["requested_by"]),
            "approved_by": [{"role": a["role"], "user_id": str(a["approver_user_id"])} for a in approvals],
            "expires_at": expires}))
    uow.commit()
    return _request_view(uow, uow.sealing.read_request(caller.tenant, r["id"]))


def list_sealed_read_requests(uow, caller) -> list:
    """The tenant's requests, newest first: [{id, student_id, requested_by, reason,
    requested_at, approvals: [{role, user_id, approved_at}], approved_at, expires_at}]."""
    caller.require("registrar", *APPROVER_ROLES)
    return [_request_view(uow, r) for r in uow.sealing.read_requests(caller.tenant)]
