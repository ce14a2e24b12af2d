"""Upload and download use cases. Framework-free: the Flask app only adapts HTTP to these."""
import hashlib
import logging
import uuid

from portfolio_common import events, signing

from . import domain
from .errors import AlreadyUploaded, NotFound, TicketMismatch
from .storage import MeasuringReader

log = logging.getLogger(__name__)
TICKET_PURPOSE = "upload-ticket"


def check_ticket(caller, ticket_token, ticket_key) -> dict:
    ticket = signing.verify(ticket_token or "", ticket_key, purpose=TICKET_PURPOSE)
    if ticket.get("kind") != "outcome" or ticket.get("tenant") != caller.tenant \
            or ticket.get("student_user_id") != caller.user_id:
        raise TicketMismatch("this upload ticket was not issued to you")
    return ticket


def upload_outcome(repo, store, caller, ticket, stream, filename, declared_length=None) -> dict:
    """quarantine -> verify -> promote -> one transaction (file row + outcome-uploaded).

    Any refusal or failure removes what was written, so nothing partial is left behind.
    """
    domain.check_declared_size(declared_length)
    if repo.exists_for(ticket["outcome_id"]):
        raise AlreadyUploaded("this outcome has already been uploaded")
    tenant = caller.tenant
    bucket = store.ensure_bucket(tenant)
    file_id = str(uuid.uuid4())
    qkey = f"quarantine/{file_id}"
    reader = MeasuringReader(stream, domain.DOCUMENT_LIMIT, hashlib.sha256())
    qversion = store.put_stream(bucket, qkey, reader)
    final_key = fversion = None
    try:
        ctype = domain.verify(reader.size, reader.head)
        sha = reader.hasher.hexdigest()
        final_key = f"outcomes/{ticket['student_id']}/{file_id}"
        fversion = store.promote(bucket, qkey, final_key, ctype)
        name = domain.clean_filename(filename, ctype)
        now = events.utcnow()
        envelope = events.make_event(events.OUTCOME_UPLOADED, tenant, {
            "outcome_id": ticket["outcome_id"], "file_id": file_id, "student_id": ticket["student_id"],
            "student_user_id": ticket["student_user_id"], "section_id": ticket["section_id"],
            "teacher_user_id": ticket["teacher_user_id"], "school_year": ticket["school_year"],
            "semester": ticket["semester"], "course_code": ticket["course_code"],
            "subject_name": ticket["subject_name"], "description": ticket["description"],
            "filename": name, "content_type": ctype, "size": reader.size, "sha256": sha,
            "uploaded_at": now})
        repo.record(dict(
            id=file_id, tenant=tenant, kind="outcome", subject_id=ticket["outcome_id"],
            bucket=bucket, key=final_key, version_id=fversion, size=reader.size, sha256=sha,
            content_type=ctype, filename=name, state="stored",
            owner_user_id=caller.user_id, student_id=ticket["student_id"],
            reviewer_user_id=ticket["teacher_user_id"], created_at=now), envelope)
    except BaseException:
        if final_key:
            _quietly(store.remove_version, bucket, final_key, fversion)
        raise
    finally:
        _quietly(store.remove_version, bucket, qkey, qversion)
    return {"file_id": file_id, "outcome_id": ticket["outcome_id"], "sha256": sha, "size": reader.size,
            "content_type": ctype, "filename": name}


def _quietly(fn, *args):
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - cleanup must not hide the original error
        log.exception("cleanup failed")


def find_for_download(repo, caller, file_id) -> dict:
    """Owner, reviewing teacher or the tenant's registrar; everyone else gets not-found."""
    try:
        fid = uuid.UUID(str(file_id))
    except ValueError:
        raise NotFound("file not found") from None
    row = repo.find(fid, caller.tenant)
    if row is None:
        raise NotFound("file not found")
    allowed = caller.user_id == str(row["owner_user_id"]) \
        or str(row["reviewer_user_id"]) in (caller.user_id, *caller.proxy_for) \
        or caller.has("registrar", "system")
    if not allowed:  # answered like a missing id, audited as a refusal
        raise NotFound("file not found", refused=True)
    return row
