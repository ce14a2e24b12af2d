"""Packages another service built, kept a day for the one person who asked (issue 9: large
downloads through files). Framework-free: the Flask app adapts HTTP to these.

Why here: a national package of 2,000 students with their evidence is gigabytes. It used to go
back to the gateway as one base64 RPC answer (refused over 48 MB), and the gateway carried the
bytes, against ARCHITECTURE.md (bytes go through files). Now:

1. submission builds the package to a temporary file, then streams it here (`store_package`,
   caller `system:submission` of the tenant, who asked for it named in the request); the bytes
   go to S3 in 5 MB parts while counted and hashed, under `downloads/<id>` of the tenant's
   bucket, and must be the size and SHA-256 submission announced (else nothing is kept);
2. the RPC answers the download's metadata only; the gateway asks for a ticket
   (`download_ticket`: the person who asked, in their tenant, else the not-found of a missing id)
   and redirects the browser to files with it;
3. files checks the ticket (signed with FILES_LINK_KEY, 60 s, one download: `open_download`),
   logs the download (who, when, from where) and streams the object from S3;
4. the sweeper deletes what is a day old (`sweep_expired_downloads`).
"""
import datetime as dt
import hashlib
import logging
import uuid

from portfolio_common import signing
from portfolio_common.errors import NotAllowed, NotAuthenticated

from . import domain
from .errors import DownloadExpired, Invalid, LinkInvalid, LinkUsed, NotFound, PackageDamaged
from .storage import DOWNLOADS_PREFIX, BodyReader

log = logging.getLogger(__name__)
TICKET_PURPOSE = "package-download"
TICKET_TTL_S = 60                         # the brief: single-use and at most 60 s
KEEP_FOR = dt.timedelta(days=1)
PRODUCERS = ("system:submission",)        # who may deposit a package (trust map: only submission signs it)
PURPOSES = ("national-package", "national-roster", "transfer-package")
CONTENT_TYPES = ("application/zip",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _now():
    return dt.datetime.now(dt.timezone.utc)


def _uuid(value, missing):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise missing from None


def store_package(repo, store, caller, stream, length, *, filename, content_type, sha256, requested_by,
                  purpose, subject, now=None) -> dict:
    """Keep one package for a day for the user who asked for it.

    caller: the service that built it (role `system:submission`), acting for one tenant (its
    token's); stream: the body, `length` bytes (Content-Length, required); sha256: the hex
    SHA-256 the builder computed; requested_by: the user id of the person who asked (only they
    get a ticket); purpose: one of PURPOSES; subject: what it is of (free text, no personal data:
    a term, a student id).
    -> {download_id, filename, content_type, size, sha256, expires_at (ISO, UTC)}.
    Errors: not_allowed (another caller, or a caller of no one tenant), invalid (a field),
    package_damaged (the bytes are not `length` long or not `sha256`: nothing is kept),
    upload_truncated, storage_unavailable."""
    if not caller.has(*PRODUCERS) or caller.tenant in ("", "*"):
        raise NotAllowed("only the service that builds packages deposits them, for one tenant")
    if purpose not in PURPOSES:
        raise Invalid(f"purpose must be one of {', '.join(PURPOSES)}")
    if content_type not in CONTENT_TYPES:
        raise Invalid("content type must be a zip or an xlsx")
    if length is None or length <= 0:
        raise Invalid("Content-Length is required")
    if not (isinstance(sha256, str) and len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
        raise Invalid("X-Content-SHA256 must be 64 lowercase hex digits")
    user = _uuid(requested_by, Invalid("the requester must be a user id"))
    name = domain.clean_filename(filename)
    now = now or _now()
    download_id = uuid.uuid4()
    bucket = store.ensure_bucket(caller.tenant)
    key = f"{DOWNLOADS_PREFIX}{download_id}"
    h = hashlib.sha256()
    body = BodyReader(stream, expected=length, inspect=h.update)
    version = store.put_stream(bucket, key, body, content_type=content_type, length=length)
    if body.size != length or h.hexdigest() != sha256:
        _remove_quietly(store, bucket, key, version)
        raise PackageDamaged(f"received {body.size} bytes of {length}, SHA-256 {h.hexdigest()}")
    row = {"id": download_id, "tenant": caller.tenant, "purpose": purpose, "subject": str(subject)[:200],
           "requested_by": user, "producer": caller.roles[0] if caller.roles else "", "filename": name,
           "content_type": content_type, "size": length, "sha256": sha256, "bucket": bucket, "key": key,
           "version_id": version, "state": "stored", "expires_at": now + KEEP_FOR}
    try:
        repo.add(row)
    except Exception:
        _remove_quietly(store, bucket, key, version)
        raise
    log.info("package %s kept for download: %s, %d bytes, tenant %s", download_id, purpose, length, caller.tenant)
    return describe(row)


def describe(row) -> dict:
    return {"download_id": str(row["id"]), "filename": row["filename"], "content_type": row["content_type"],
            "size": row["size"], "sha256": row["sha256"], "expires_at": row["expires_at"].isoformat()}


def _remove_quietly(store, bucket, key, version):
    try:
        store.remove_version(bucket, key, version)
    except Exception:  # noqa: BLE001 - the sweeper's lifecycle rule is the backstop
        log.exception("could not delete a refused package %s", key)


def _mine(repo, caller, download_id) -> dict:
    """The download if the caller asked for it in their tenant; else the not-found of a missing
    id (audited as a refusal): another person, another tenant, a forged id."""
    did = _uuid(download_id, NotFound("download not found"))
    row = repo.get(did)
    if row is None:
        raise NotFound("download not found")
    if row["tenant"] != caller.tenant or str(row["requested_by"]) != caller.user_id:
        raise NotFound("download not found", refused=True)
    return row


def download_ticket(repo, caller, download_id, key, ttl=TICKET_TTL_S, now=None) -> dict:
    """A ticket to download a kept package once, within `ttl` seconds (60), for the person who
    asked for it (caller: the gateway's token for them). -> {path (relative to the files
    service's public address), expires_in (s), filename, size, sha256}. Errors: not_found
    (someone else's, another tenant's, no such id), download_expired (410, over a day old)."""
    row = _mine(repo, caller, download_id)
    if row["state"] != "stored" or row["expires_at"] <= (now or _now()):
        raise DownloadExpired("this download is over a day old and was deleted")
    ticket = signing.sign({"download_id": str(row["id"]), "tenant": row["tenant"], "user_id": caller.user_id,
                           "ticket_id": str(uuid.uuid4())}, key, ttl=ttl, purpose=TICKET_PURPOSE)
    return {"path": f"v1/downloads/{row['id']}?ticket={ticket}", "expires_in": ttl,
            "filename": row["filename"], "size": row["size"], "sha256": row["sha256"]}


def open_download(repo, download_id, ticket, key, *, remote_addr=None, byte_range=None, now=None,
                  spend=True) -> dict:
    """Check a download ticket and spend it: the package's row, after logging the download (who,
    when, from where). `spend=False` (a HEAD request: no bytes) checks without spending or logging.
    Errors: link_invalid (forged, expired, another download's, malformed), link_used (this ticket
    served a download already), not_found, download_expired."""
    try:
        t = signing.verify(ticket or "", key, purpose=TICKET_PURPOSE)
    except NotAuthenticated:
        raise LinkInvalid("the download ticket is invalid or has expired", refused=True) from None
    did = _uuid(download_id, LinkInvalid("the download ticket is invalid", refused=True))
    if t.get("download_id") != str(did):
        raise LinkInvalid("this ticket is for another download", refused=True)
    ticket_id = _uuid(t.get("ticket_id"), LinkInvalid("the download ticket is invalid", refused=True))
    row = repo.get(did)
    if row is None or row["tenant"] != t.get("tenant") or str(row["requested_by"]) != t.get("user_id"):
        raise NotFound("download not found", refused=True)
    if row["state"] != "stored" or row["expires_at"] <= (now or _now()):
        raise DownloadExpired("this download is over a day old and was deleted")
    if spend and not repo.record_download({"ticket_id": ticket_id, "download_id": did, "tenant": row["tenant"],
                                 "user_id": row["requested_by"], "remote_addr": (remote_addr or None),
                                 "range": byte_range}):
        raise LinkUsed("this download ticket was used already", refused=True)
    return row


def sweep_expired_downloads(repo, store, now=None) -> int:
    """Delete every kept package over a day old (its S3 version for good) and mark it expired.
    Any replica may run it; a package is marked once. Returns how many."""
    now = now or _now()
    n = 0
    for row in repo.due_to_expire(now):
        store.remove_version(row["bucket"], row["key"], row["version_id"])
        if repo.mark_expired(row["id"], now):
            n += 1
    return n
