"""Upload, download and sealing use cases. Framework-free: the Flask app adapts HTTP to these.

An upload belongs to one ticket (records signed it: student, tenant, item, school year) and one
caller (the gateway signed it). Nothing reaches the final key `outcomes/<student>/<file>` (or
`performances/`, `proofs/`) before it is verified by content (domain.Inspector), and nothing is
referenced or downloadable before its fingerprint row exists; the fingerprint, the upload's end
and its event are one transaction.

- One request (upload_once): the body is held in quarantine on this replica, an anonymous
  temporary file on disk of at most the type's limit (10 MB), hashed and inspected while it
  arrives; only verified bytes are written to S3, once, to the final key.
- Resumable (tus): requests may reach any replica, so each piece waits in S3 under
  `quarantine/`; the verified whole is then promoted by a server-side copy.

Whatever ends an upload without a stored file (a refusal, a failure, expiry, cancellation)
writes `upload-refused` in that same transaction, so records frees the quota slot at once.
"""
import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import re
import time
import uuid

from portfolio_common import events, signing
from portfolio_common.errors import NotAuthenticated

from . import domain
from .errors import (FilesError, Invalid, LinkInvalid, NotFound, StorageUnavailable, TicketExpired,
                     TicketInvalid, TicketMismatch, TicketUsed, UploadExpired, UploadInProgress,
                     UploadNotFound, UploadOffsetMismatch)
from .storage import BodyReader, spool_body

log = logging.getLogger(__name__)
TICKET_PURPOSE = "upload-ticket"
LINK_TTL_S = 300  # long enough for a video to be played and seeked (ranged requests)
ENDED_STATES = {"upload_expired": "expired", "upload_cancelled": "cancelled"}


def _now():
    return dt.datetime.now(dt.timezone.utc)


# ---------------------------------------------------------------- tickets

def check_ticket(caller, ticket_token, ticket_key) -> domain.TicketClaims:
    """The ticket records signed, for this caller: its student, in its tenant.

    Raises TicketInvalid (forged, malformed, another purpose), TicketExpired, TicketMismatch
    (issued to another student or in another tenant: audited as a refusal).
    """
    try:
        t = signing.verify(ticket_token or "", ticket_key, purpose=TICKET_PURPOSE)
    except NotAuthenticated as exc:
        if exc.code == "token_expired":
            raise TicketExpired("the upload ticket has expired") from None
        raise TicketInvalid("the upload ticket is invalid") from None
    if t.get("kind") not in domain.TICKET_KINDS:
        raise TicketInvalid("the upload ticket is of an unknown kind")
    uploader = str(t.get("uploader_user_id") or t.get("student_user_id"))
    if t.get("tenant") != caller.tenant or uploader != caller.user_id:
        raise TicketMismatch("this upload ticket was not issued to you")
    try:
        claims = domain.TicketClaims.from_ticket(t)
        claims.expires_at = _ticket_expiry(ticket_token)
    except (KeyError, TypeError, ValueError):
        raise TicketInvalid("the upload ticket lacks a field") from None
    return claims


def _ticket_expiry(token) -> dt.datetime:
    """When the ticket stops being valid (its signed `_exp`): the upload expires with it."""
    payload = token.split(".")[0]
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return dt.datetime.fromtimestamp(int(body["_exp"]), dt.timezone.utc)


# the largest length the uploads table can hold (bigint); a declared length above it is kept as
# this, and refused as file_too_large right after, like any length above the type's limit
_MAX_STORED_LENGTH = 2 ** 63 - 1


def _new_upload(ticket, caller, *, filename, resumable, length):
    """The upload's row as begin_upload stores it. The name is kept as the client sent it, less
    its NUL characters (PostgreSQL text cannot hold them; domain.clean_filename strips them and
    every other control character from the name the file gets), so a NUL is never a 500 with
    the quota slot held; a declared length too large for the column is clamped (see above)."""
    return dict(id=uuid.uuid4(), subject_id=ticket.subject_id, attempt=ticket.attempt, kind=ticket.kind,
                slot=ticket.slot, tenant=ticket.tenant,
                student_id=ticket.student_id, student_user_id=caller.user_id, school_year=ticket.school_year,
                semester=ticket.semester, claims=ticket.claims, filename=(filename or "").replace("\x00", "")[:255],
                resumable=resumable, length=length if length is None else min(length, _MAX_STORED_LENGTH),
                state="receiving", expires_at=ticket.expires_at)


def _refused_event(row, code):
    if row["kind"] in domain.PACKAGE_KINDS:
        return None     # no quota slot to give back: records keeps none for a transfer package
    return events.make_event(events.UPLOAD_REFUSED, row["tenant"], {
        "kind": row["kind"], "subject_id": str(row["subject_id"]), "student_id": str(row["student_id"]),
        "student_user_id": str(row["claims"].get("student_user_id") or row["student_user_id"]),
        "school_year": row["school_year"], "semester": row["semester"], "code": code,
        "refused_at": _now(), "attempt": row.get("attempt")}, producer="files")


def end_upload(repo, store, row, code, *, frees_slot=True) -> bool:
    """End a receiving upload without a file: state, release event (one transaction), then its
    bytes in quarantine are deleted. Returns False when it had already ended."""
    ended = repo.finish_refused(row["id"], ENDED_STATES.get(code, "refused"), code,
                                _refused_event(row, code) if frees_slot else None)
    _drop_segments(store, row)
    return ended


def _drop_segments(store, row):
    bucket = store.bucket_for(row["tenant"])
    for seg in row.get("segments") or []:
        _quietly(store.remove_version, bucket, seg["key"], seg["version_id"])


def _quietly(fn, *args):
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - cleanup must not hide the original error
        log.exception("cleanup failed")


# ---------------------------------------------------------------- storing a verified file

def _file_key(row, file_id):
    folder = domain.FOLDERS[row["kind"]]
    return f"{folder}/{row['student_id']}/{file_id}"


def _slot_of(row, verdict):
    """The outcome's slot the file goes into: the ticket's, else (a ticket from before outcomes
    had two slots) the one of its kind; None for a performance's proof."""
    if row["kind"] != "outcome":
        return None
    return row.get("slot") or verdict.family


def _inspector(limits, row, length):
    return domain.inspector_for(limits.for_year(row["school_year"]), row["kind"], length, slot=row.get("slot"))


def _uploaded_event(row, file_id, name, verdict, now):
    c = row["claims"]
    if row["kind"] in domain.PACKAGE_KINDS:
        return None     # read back by submission when the registrar previews it: nobody waits for it
    if row["kind"] == "outcome":
        return events.make_event(events.OUTCOME_UPLOADED, row["tenant"], {
            "outcome_id": c["outcome_id"], "file_id": str(file_id), "student_id": c["student_id"],
            "student_user_id": c["student_user_id"], "section_id": c["section_id"],
            "teacher_user_id": c["teacher_user_id"], "school_year": c["school_year"],
            "semester": c["semester"], "course_code": c["course_code"], "subject_name": c["subject_name"],
            "description": c["description"], "filename": name, "content_type": verdict.content_type,
            "size": verdict.size, "sha256": verdict.sha256, "uploaded_at": now,
            "slot": _slot_of(row, verdict),
            # the student's class at upload time (tickets issued before it was carried have none)
            "class_code": c.get("class_code"), "class_name": c.get("class_name"),
            "homeroom_user_id": c.get("homeroom_user_id")})
    if row["kind"] == "item_proof":
        return events.make_event(events.PROOF_UPLOADED, row["tenant"], {
            "item_kind": c["item_kind"], "item_id": c["item_id"], "attempt": row.get("attempt", 1),
            "file_id": str(file_id), "student_id": c["student_id"], "student_user_id": c["student_user_id"],
            "school_year": c["school_year"], "semester": c["semester"], "filename": name,
            "content_type": verdict.content_type, "size": verdict.size, "sha256": verdict.sha256,
            "uploaded_at": now, "uploader_user_id": c.get("uploader_user_id")})
    return events.make_event(events.PERFORMANCE_UPLOADED, row["tenant"], {
        "performance_id": c["performance_id"], "performance_kind": c["performance_kind"],
        "entered_by": c["entered_by"], "file_id": str(file_id), "student_id": c["student_id"],
        "student_user_id": c["student_user_id"], "school_year": c["school_year"],
        "description": c["description"], "filename": name, "content_type": verdict.content_type,
        "size": verdict.size, "sha256": verdict.sha256, "uploaded_at": now,
        "uploader_user_id": c.get("uploader_user_id")})


def _promote_verified(repo, store, row, bucket, qkey, qversion, verdict) -> dict:
    """Resumable: promote the verified whole out of S3 quarantine (server-side copy), then record it."""
    final_key = _file_key(row, row["id"])
    fversion = store.promote(bucket, qkey, qversion, final_key, verdict.content_type)
    return _record_stored(repo, store, row, bucket, final_key, fversion, verdict)


def _record_stored(repo, store, row, bucket, final_key, fversion, verdict) -> dict:
    """Verified bytes are at `final_key` (version `fversion`): fingerprint + event + the upload's
    end in one transaction. If that transaction fails, that exact version is deleted."""
    name = domain.clean_filename(row["filename"], verdict.type_name)
    file_id = row["id"]
    now = _now()
    try:
        repo.finish_stored(row["id"], dict(
            id=file_id, tenant=row["tenant"], kind=row["kind"], subject_id=row["subject_id"],
            attempt=row.get("attempt", 1), slot=_slot_of(row, verdict), bucket=bucket,
            key=final_key, version_id=fversion, size=verdict.size, sha256=verdict.sha256,
            content_type=verdict.content_type, filename=name, state="stored",
            owner_user_id=row["claims"]["student_user_id"], student_id=row["student_id"],
            reviewer_user_id=row["claims"].get("teacher_user_id"), created_at=now),
            _uploaded_event(row, file_id, name, verdict, now))
    except BaseException:
        _quietly(store.remove_version, bucket, final_key, fversion)
        raise
    return result_of(row, file_id, name, verdict.content_type, verdict.size, verdict.sha256, _slot_of(row, verdict))


def result_of(row, file_id, name, content_type, size, sha256, slot=None) -> dict:
    return {"file_id": str(file_id), "kind": row["kind"], "subject_id": str(row["subject_id"]),
            **({"slot": slot} if slot else {}),
            f"{row['kind']}_id": str(row["subject_id"]), "sha256": sha256, "size": size,
            "content_type": content_type, "filename": name}


def _replay(repo, row, limits, stream, length):
    """A retry of an upload that was stored (its answer was lost): the same bytes get the same
    answer (200, nothing stored twice); other bytes on a used ticket are refused."""
    if row["state"] != "stored":
        raise TicketUsed("this upload ticket was already used")
    insp = _inspector(limits, row, length)
    reader = BodyReader(stream, expected=length, inspect=insp.feed)
    while reader.read(1024 * 1024):
        pass
    verdict = insp.finish()
    if verdict.sha256 != row["sha256"]:
        raise TicketUsed("this upload ticket was already used for another file")
    f = repo.find_any(row["file_id"])
    return result_of(row, f["id"], f["filename"], f["content_type"], f["size"], f["sha256"], f.get("slot"))


# ---------------------------------------------------------------- one-shot upload

def upload_once(repo, store, limits, caller, ticket, stream, filename, length=None, *, spool_dir=None):
    """The whole file in one request body. Returns (201, result), or (200, result) for a retry
    of a stored upload with the same bytes. Every refusal raises a FilesError after ending the
    upload (nothing stored, `upload-refused` written).

    The body is spooled to a temporary file in `spool_dir` (storage.spool_body: on disk, at most
    the type's limit, gone when closed) while it is hashed and inspected; only when the whole
    body has arrived and passed domain.Inspector is it written to S3, in one PUT to the final
    key, so a refused, empty, truncated or broken upload never reaches the object store.
    Issue 7; the choice and its measurements: docs/benchmarks.md "Uploads"."""
    row, created = repo.begin_upload(_new_upload(ticket, caller, filename=filename, resumable=False,
                                                 length=length))
    if not created:
        if row["state"] == "receiving" and row["expires_at"] > _now():
            raise UploadInProgress("this upload is already in progress")
        return 200, _replay(repo, row, limits, stream, length)
    try:
        domain.clean_filename(filename)
        insp = _inspector(limits, row, length)
        bucket = store.ensure_bucket(row["tenant"])
        with spool_body(stream, expected=length, inspect=insp.feed, directory=spool_dir) as body:
            verdict = insp.finish()
            final_key = _file_key(row, row["id"])
            fversion = store.put_stream(bucket, final_key, body, verdict.content_type, length=verdict.size,
                                        sha256=verdict.sha256)
        return 201, _record_stored(repo, store, row, bucket, final_key, fversion, verdict)
    except BaseException as exc:
        code = exc.code if isinstance(exc, FilesError) else "storage_unavailable" \
            if isinstance(exc, StorageUnavailable) else "internal"
        _quietly(end_upload, repo, store, row, code)
        raise


# ---------------------------------------------------------------- resumable (tus 1.0.0)

def tus_create(repo, limits, caller, ticket, length, filename):
    """Creation: the upload of this ticket, or the one already created for it by this caller
    (a creation whose answer was lost). Declared length and name are checked here."""
    row, created = repo.begin_upload(_new_upload(ticket, caller, filename=filename, resumable=True,
                                                 length=length))
    if not created:
        if row["state"] == "receiving" and row["resumable"] and str(row["student_user_id"]) == caller.user_id:
            return row
        raise TicketUsed("this upload ticket was already used")
    try:
        domain.clean_filename(filename)
        _inspector(limits, row, length)
    except FilesError as exc:
        repo.finish_refused(row["id"], "refused", exc.code, _refused_event(row, exc.code))
        raise
    return row


def owned_upload(repo, caller, upload_id):
    """The upload, for the caller who created it; anyone else gets the same 404 as a missing id."""
    try:
        uid = uuid.UUID(str(upload_id))
    except ValueError:
        raise UploadNotFound("no such upload") from None
    row = repo.get_upload(uid)
    if row is None or row["tenant"] != caller.tenant or str(row["student_user_id"]) != caller.user_id \
            or not row["resumable"]:
        raise UploadNotFound("no such upload", refused=row is not None)
    return row


def tus_status(repo, store, caller, upload_id) -> dict:
    row = owned_upload(repo, caller, upload_id)
    if row["state"] == "receiving" and row["expires_at"] <= _now():
        end_upload(repo, store, row, "upload_expired")
        raise UploadExpired("this upload has expired")
    if row["state"] in ("refused", "expired", "cancelled"):
        raise UploadExpired("this upload has ended", ended=row["code"])
    return row


def tus_patch(repo, store, limits, caller, upload_id, offset, stream, content_length):
    """Append a PATCH body at `offset`. Each body becomes one object under quarantine/; bytes
    that arrived before a connection broke are kept (the client resumes after them). When the
    last byte arrives the file is verified and stored (or refused) before the answer."""
    row = tus_status(repo, store, caller, upload_id)
    if row["state"] == "stored":
        if offset == row["length"]:
            return row, None
        raise TicketUsed("this upload was already stored")
    if offset != row["offset"]:
        raise UploadOffsetMismatch(f"the upload is at {row['offset']}, not {offset}")
    year = limits.for_year(row["school_year"])
    remaining = row["length"] - offset
    insp = domain.inspector_for(year, row["kind"], row["length"], slot=row.get("slot")) if offset == 0 else None
    family = year.family_of(row["type_name"]) if row["type_name"] else None

    def check(chunk, seen=[0]):  # noqa: B006 - per-call counter
        if insp is not None:
            insp.feed(chunk)
        else:
            seen[0] += len(chunk)
            if family and offset + seen[0] > family.max_bytes:
                raise domain._too_large(offset + seen[0], family.max_bytes, family)
    bucket = store.ensure_bucket(row["tenant"])
    key = f"quarantine/{row['id']}/{offset:012d}"
    reader = BodyReader(stream, expected=min(remaining, content_length if content_length is not None else remaining),
                        inspect=check, keep_partial=True)
    try:
        version = store.put_stream(bucket, key, reader)
    except StorageUnavailable:
        raise  # the client resumes; the upload goes on
    except FilesError as exc:  # refused by content: the upload ends here
        end_upload(repo, store, row, exc.code)
        raise
    got = reader.size
    segments = list(row["segments"]) + [{"key": key, "version_id": version, "offset": offset, "size": got}]
    values = {"offset": offset + got, "segments": segments}
    if insp is not None and insp.type_name:
        values["type_name"] = insp.type_name
    if got == 0 or not repo.advance_upload(row["id"], offset, values):
        _quietly(store.remove_version, bucket, key, version)
        if got == 0:
            return row, None
        raise UploadOffsetMismatch("another request moved this upload on")
    row.update(values)
    if row["offset"] < row["length"]:
        return row, None
    whole = insp if (insp is not None and len(segments) == 1 and not reader.broken) else None
    return row, _complete(repo, store, year, row, bucket, whole)


def _complete(repo, store, year, row, bucket, insp):
    """All bytes are in: verify (in-stream already, or by reading the pieces back), then store."""
    qkey = qversion = None
    try:
        if insp is not None:
            seg = row["segments"][0]
            verdict, qkey, qversion = insp.finish(), seg["key"], seg["version_id"]
        else:
            check = domain.inspector_for(year, row["kind"], row["length"], slot=row.get("slot"))
            pieces = (chunk for seg in row["segments"]
                      for chunk in store.read_all(bucket, seg["key"], seg["version_id"]))
            qkey = f"quarantine/{row['id']}/whole"
            qversion = store.put_stream(bucket, qkey, _IterReader(pieces, check.feed))
            verdict = check.finish()
        result = _promote_verified(repo, store, row, bucket, qkey, qversion, verdict)
    except FilesError as exc:
        end_upload(repo, store, row, exc.code, frees_slot=exc.frees_slot)
        raise
    finally:
        _drop_segments(store, row)
        if qversion and qkey.endswith("/whole"):
            _quietly(store.remove_version, bucket, qkey, qversion)
    return result


class _IterReader(io.RawIOBase):
    def __init__(self, chunks, inspect):
        self.chunks, self.inspect, self.buf = chunks, inspect, b""

    def readable(self):
        return True

    def read(self, n=-1):
        while not self.buf:
            chunk = next(self.chunks, None)
            if chunk is None:
                return b""
            self.inspect(chunk)
            self.buf = chunk
        n = len(self.buf) if n is None or n < 0 else n
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def tus_terminate(repo, store, caller, upload_id):
    """The student cancels: the bytes go, the slot comes back."""
    row = owned_upload(repo, caller, upload_id)
    if row["state"] == "receiving":
        end_upload(repo, store, row, "upload_cancelled")


def sweep_expired(repo, store, now=None) -> int:
    """Half-finished uploads past their ticket's expiry: bytes deleted, slot freed. Any replica
    may run it; an upload ends once (conditional update)."""
    n = 0
    for row in repo.expired_uploads(now or _now()):
        if end_upload(repo, store, row, "upload_expired"):
            n += 1
    return n


# ---------------------------------------------------------------- downloads

GRANT_PURPOSE = "file-read-grant"   # records/itemproofs: who may read an item is records' decision


def _granted(grant, grant_key, caller, row) -> bool:
    """A read grant records signed (TICKET_KEY, 60 s) for this caller, tenant and file."""
    if not grant or not grant_key:
        return False
    try:
        g = signing.verify(str(grant), grant_key, purpose=GRANT_PURPOSE)
    except NotAuthenticated:
        return False
    return g.get("file_id") == str(row["id"]) and g.get("tenant") == caller.tenant == row["tenant"] \
        and g.get("user_id") == caller.user_id


def find_for_download(repo, caller, file_id, grant=None, grant_key=None) -> dict:
    """Outcomes and performances: owner, reviewing teacher (or proxy), the tenant's registrar, or
    the submission service acting on its own for that tenant (`system:submission`: it streams the
    evidence into the national package); a performance's proof also whoever holds records' read
    grant for it (the homeroom teacher of the student's class: records/performances).
    An item's proof (kind item_proof) and an imported transfer package's evidence (kind
    transfer_evidence): its student, or whoever holds records' read grant for it (the item's
    readers: records/itemproofs, records/transferin). An uploaded transfer package
    (transfer_package, it holds a national ID): only submission, which checks it. Everyone else
    gets not-found."""
    try:
        fid = uuid.UUID(str(file_id))
    except ValueError:
        raise NotFound("file not found") from None
    row = repo.find(fid, caller.tenant)
    if row is None or row.get("state") == "purged":   # a transfer package's bytes deleted after its keep
        raise NotFound("file not found")
    if row["kind"] in domain.PACKAGE_KINDS:
        # an uploaded transfer package holds a national ID: read back only by submission, which checks it
        allowed = caller.has("system:submission")
    elif row["kind"] in ("item_proof", "transfer_evidence"):
        allowed = caller.user_id == str(row["owner_user_id"]) or _granted(grant, grant_key, caller, row)
    else:
        allowed = caller.user_id == str(row["owner_user_id"]) \
            or str(row["reviewer_user_id"]) in (caller.user_id, *caller.proxy_for) \
            or caller.has("registrar", "system", "system:submission") \
            or (row["kind"] == "performance" and _granted(grant, grant_key, caller, row))
    if not allowed:  # answered like a missing id, audited as a refusal
        raise NotFound("file not found", refused=True)
    refuse_sealed(row)
    return row


def refuse_sealed(row):
    """A sealed student's file (state `sealed`, set for every stored file of the student before
    the seal is recorded: sealing.py) is not handed out to anyone: sealed data is read only
    through the audited two-role request (records), never by a download. SealedReadRequired
    `sealed_read_required` (403, audited as a refusal). Issue 9 item 7."""
    if row.get("state") == "sealed":
        from .errors import SealedReadRequired
        raise SealedReadRequired("this student's data is sealed: an approved read request is required",
                                 refused=True)


def _link_mac(key, file_id, exp, disposition) -> str:
    mac = hmac.new(key.encode() if isinstance(key, str) else key,
                   f"download.{file_id}.{exp}.{disposition}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def download_link(repo, caller, file_id, link_key, disposition="inline", ttl=LINK_TTL_S, *, grant=None,
                  grant_key=None) -> dict:
    """After the authorisation check (find_for_download; `grant`: records' read grant of an
    item's proof, verified with `grant_key`), a link to the bytes valid for `ttl` seconds, for
    this file only (relative to the files service's public address)."""
    row = find_for_download(repo, caller, file_id, grant, grant_key)
    exp = int(time.time()) + ttl
    disposition = "attachment" if disposition == "attachment" else "inline"
    sig = _link_mac(link_key, row["id"], exp, disposition)
    return {"path": f"v1/files/{row['id']}?exp={exp}&d={disposition}&sig={sig}", "expires_in": ttl,
            "filename": row["filename"], "content_type": row["content_type"], "size": row["size"],
            "kind": row["kind"], "student_id": str(row["student_id"]), "sha256": row["sha256"]}


def check_link(repo, file_id, exp, disposition, sig, link_key) -> dict:
    try:
        fid, exp = uuid.UUID(str(file_id)), int(exp)
    except (TypeError, ValueError):
        raise LinkInvalid("the download link is invalid") from None
    if exp < time.time() or not hmac.compare_digest(_link_mac(link_key, fid, exp, disposition), sig or ""):
        raise LinkInvalid("the download link is invalid or has expired")
    row = repo.find_any(fid)
    if row is None:
        raise NotFound("file not found")
    refuse_sealed(row)   # a link issued before the seal does not outlive it
    return row


# ---------------------------------------------------------------- sealing

def seal_student_files(repo, store, tenant, student_id, until: dt.datetime) -> int:
    """COMPLIANCE retention until `until` on every stored file of a student (sealing, DOMAIN.md):
    from then on no one, the S3 root included, can delete or overwrite those versions."""
    n = 0
    for row in repo.files_of(tenant, student_id):
        store.retain(row["bucket"], row["key"], row["version_id"], until)
        repo.set_file_state(row["id"], "sealed")
        n += 1
    return n


# ---------------------------------------------------------------- locked selections

def hold_locked_files(repo, store, tenant, subject_ids) -> int:
    """Legal hold on the stored version of each file whose outcome or performance is in a
    locked selection (subject_ids: outcome / performance ids of the tenant; selection-locked,
    issue 9 item 4). A file of another tenant or an unknown id is skipped; holding again is
    harmless. Returns how many versions are held."""
    wanted = {str(i) for i in subject_ids}
    n = 0
    for row in repo.files_of(tenant):
        if str(row["subject_id"]) in wanted and row.get("version_id"):
            store.legal_hold(row["bucket"], row["key"], row["version_id"])
            n += 1
    return n



# ---------------------------------------------------------------- transfer packages (imports)

TRANSFER_NS = uuid.UUID("0c9b8a1e-53c4-4f0e-9d55-7b1f3c2a6e10")   # evidence ids: (tenant, student, sha256)
EVIDENCE_PATH = re.compile(r"^evidence/[0-9a-f]{64}\.[a-z0-9]{1,5}$")


def _entries(entries) -> list:
    out = []
    for e in entries if isinstance(entries, list) else []:
        if not isinstance(e, dict) or not EVIDENCE_PATH.match(str(e.get("path") or "")) \
                or not re.fullmatch(r"[0-9a-f]{64}", str(e.get("sha256") or "")) \
                or not isinstance(e.get("size"), int) or e["size"] < 0:
            raise Invalid("each entry is {path: evidence/<sha256>.<ext>, sha256, size}")
        out.append(e)
    return out


def purge_old_packages(repo, store, keep_days, now=None) -> int:
    """Delete the bytes of every uploaded transfer package older than `keep_days` days (its S3
    version for good) and mark it `purged`. A package holds a student's national ID and their
    whole portfolio from another school; once imported, its evidence lives on as files of the
    student (kind transfer_evidence) and its items in records, so the zip itself is kept only
    as long as a registrar may still preview or import it (TRANSFER_PACKAGE_KEEP_DAYS, 30).
    A sealed student's package (state `sealed`) is never touched. Any replica may run it; a
    version already gone counts as deleted. Returns how many were purged."""
    now = now or _now()
    n = 0
    for row in repo.packages_older_than(now - dt.timedelta(days=keep_days)):
        store.remove_version(row["bucket"], row["key"], row["version_id"], missing_ok=True)
        if repo.mark_purged(row["id"]):
            n += 1
    return n


def unpack_transfer(repo, store, caller, package_id, student_id, entries, spool_dir=None) -> dict:
    """The registrar confirmed an import (submission, acting as system:submission of the tenant,
    asks): keep each listed evidence entry of an uploaded transfer package as a file of the
    student (kind transfer_evidence, key transfers/<student>/<file>), its bytes' SHA-256 and
    size checked again against the entry (submission checked the whole package already).

    entries: [{path: evidence/<sha256>.<ext>, sha256, size, filename?}]. A file's id is derived
    from (tenant, student, sha256): the same evidence imported again is the same file, nothing
    is stored twice. Its content type is what its bytes are (domain.detect), else
    application/octet-stream (downloads are attachments in a sandbox either way).
    Returns {sha256: {file_id, filename, content_type, size}}. Errors: not_found (not
    submission, not an uploaded package of this student of the tenant), invalid (an entry that
    is not an evidence file of the format), file_damaged (an entry absent or not its
    fingerprint: nothing more is kept), student_sealed (sealed_read_required)."""
    import tempfile
    import zipfile
    from .errors import FileDamaged
    if not caller.has("system:submission"):
        raise NotFound("file not found", refused=True)
    try:
        fid = uuid.UUID(str(package_id))
    except ValueError:
        raise NotFound("file not found") from None
    row = repo.find(fid, caller.tenant)
    if row is None or row["kind"] not in domain.PACKAGE_KINDS or str(row["student_id"]) != str(student_id) \
            or row.get("state") == "purged":
        raise NotFound("file not found")
    refuse_sealed(row)
    wanted = _entries(entries)
    out = {}
    with tempfile.TemporaryFile(dir=spool_dir) as zfh:
        for chunk in store.read_all(row["bucket"], row["key"], row["version_id"]):
            zfh.write(chunk)
        zfh.seek(0)
        with zipfile.ZipFile(zfh) as zf:
            for e in wanted:
                sha = e["sha256"]
                file_id = uuid.uuid5(TRANSFER_NS, f"{row['tenant']}:{row['student_id']}:{sha}")
                known = repo.find(file_id, row["tenant"])
                if known is None:
                    known = _keep_entry(repo, store, zf, row, file_id, e, spool_dir, FileDamaged)
                out[sha] = {"file_id": str(known["id"]), "filename": known["filename"],
                            "content_type": known["content_type"], "size": known["size"]}
    return out


def _keep_entry(repo, store, zf, row, file_id, e, spool_dir, damaged) -> dict:
    import tempfile
    try:
        info = zf.getinfo(e["path"])
    except KeyError:
        raise damaged(f"{e['path']} is not in the package") from None
    if info.file_size != e["size"]:
        raise damaged(f"{e['path']}: its size is not the manifest's")
    h, head = hashlib.sha256(), b""
    with zf.open(info) as src, tempfile.TemporaryFile(dir=spool_dir) as tmp:
        for chunk in iter(lambda: src.read(1024 * 1024), b""):
            h.update(chunk)
            if len(head) < domain.HEAD_BYTES:
                head += chunk[:domain.HEAD_BYTES - len(head)]
            tmp.write(chunk)
        if h.hexdigest() != e["sha256"]:
            raise damaged(f"{e['path']}: its bytes are not the manifest's fingerprint")
        try:
            kind = domain.detect(head)
        except FilesError:
            kind = None
        type_name = kind if kind in domain.TYPES and kind != "zip" else None
        ctype = domain.TYPES[type_name][0] if type_name else "application/octet-stream"
        try:
            name = domain.clean_filename(e.get("filename") or e["path"].rsplit("/", 1)[-1], type_name)
        except FilesError:
            name = domain.clean_filename(e["path"].rsplit("/", 1)[-1], type_name)
        tmp.seek(0)
        bucket = store.ensure_bucket(row["tenant"])
        key = f"{domain.FOLDERS['transfer_evidence']}/{row['student_id']}/{file_id}"
        version = store.put_stream(bucket, key, tmp, ctype, length=info.file_size)
    file_row = dict(id=file_id, tenant=row["tenant"], kind="transfer_evidence", subject_id=file_id, attempt=1,
                    slot=None, bucket=bucket, key=key, version_id=version, size=info.file_size, sha256=e["sha256"],
                    content_type=ctype, filename=name, state="stored", owner_user_id=row["owner_user_id"],
                    student_id=row["student_id"], reviewer_user_id=None, created_at=_now())
    if not repo.add_file(file_row):       # another request kept it first: theirs stands
        _quietly(store.remove_version, bucket, key, version)
        return repo.find(file_id, row["tenant"])
    return file_row
