"""Proof files of staff-entered items (issue 8 item 8: an in-school competition's 證明文件).

The same path as a performance's proof, for any item kind that declares `proof=True`
(records/itemkit.py):
  1. the kind's writer (for competitions the organising unit) asks for an upload ticket
     (`issue_item_proof_ticket`): kind `item_proof`, signed with TICKET_KEY, naming the item, its
     student and the attempt (each ticket a new attempt, so a later proof replaces the earlier
     one at the files service as a new stored file);
  2. the browser or API client sends the bytes to files with it; files stores them and publishes
     `proof-uploaded`;
  3. `attach_item_proof` keeps the proof on the item (newest upload wins) with a history row
     attributed to the uploader the event names (the ticket's `uploader_user_id`);
  4. a reader of the item (the kind's writers and readers, the student, the homeroom teacher of
     the student's class: itemkit.may_read_student) gets a short-lived read grant for the proof
     (`grant_item_proof_read`), which files checks before it answers a download link. Anyone
     else reads the item, and so its proof, as not found.
"""
import datetime as dt
import uuid

from portfolio_common import signing
from portfolio_common.errors import RetryLater

from .. import areas, itemkit
from ..history import last_username
from ..errors import Invalid, NotAllowed, NotFound

TICKET_PURPOSE = "upload-ticket"      # what the files service verifies (files/usecases.check_ticket)
TICKET_TTL = 15 * 60
GRANT_PURPOSE = "file-read-grant"     # files/usecases.download_link
GRANT_TTL = 60


def proof_kind(name):
    """The ItemKind `name` when its items take a proof; else not_found."""
    kind = areas.item_kinds().get(str(name or ""))
    if kind is None or not kind.proof:
        raise NotFound("no such kind of record with a proof")
    return kind


def _item(uow, kind, caller, item_id, lock=False):
    try:
        iid = uuid.UUID(str(item_id))
    except (ValueError, TypeError):
        raise NotFound(f"{kind.name} not found") from None
    row = getattr(uow, kind.table.name).get(caller.tenant, iid, lock=lock)
    if row is None:
        raise NotFound(f"{kind.name} not found")
    return row


def issue_item_proof_ticket(uow, caller, kind_name, item_id, ticket_key) -> dict:
    """A signed upload ticket for an item's proof file. Only the kind's writers (a student or
    another unit: not_allowed); a voided item takes no proof (`item_voided`, 409); another
    tenant's item is not found. Returns {item_kind, item_id, attempt, ticket} (15 minutes)."""
    kind = proof_kind(kind_name)
    if not caller.has(*kind.writers):
        raise NotAllowed(f"the proof of a {kind.name} is uploaded by " + ", ".join(kind.writers))
    row = _item(uow, kind, caller, item_id, lock=True)
    if row["voided_at"] is not None:
        raise Invalid(f"this {kind.name} was voided", code="item_voided")
    student = uow.students.get(caller.tenant, row["student_id"])
    attempt = int(row.get("proof_attempts") or 0) + 1
    getattr(uow, kind.table.name).set_fields(row["id"], {"proof_attempts": attempt})
    uow.commit()
    claims = {
        "kind": "item_proof", "item_kind": kind.name, "item_id": str(row["id"]), "attempt": attempt,
        "tenant": caller.tenant, "student_id": str(row["student_id"]),
        "student_user_id": str(student["user_id"]), "uploader_user_id": caller.user_id,
        "school_year": row["school_year"], "semester": row["semester"],
    }
    return {"item_kind": kind.name, "item_id": str(row["id"]), "attempt": attempt,
            "ticket": signing.sign(claims, ticket_key, ttl=TICKET_TTL, purpose=TICKET_PURPOSE)}


def _when(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value


def attach_item_proof(uow, env) -> bool:
    """proof-uploaded -> the item holds its proof. Idempotent per event; the newest upload wins
    (one delivered late changes nothing); an item records does not know yet is retried
    (RetryLater), never dropped. A voided item keeps the proof it is sent (the file is stored
    either way) but stays voided."""
    if not uow.claim(env["event_id"], "records.handle_proof_uploaded"):
        return False
    p = env["payload"]
    kind = areas.item_kinds().get(p["item_kind"])
    if kind is None or not kind.proof:
        raise RetryLater(f"no item kind {p['item_kind']} with a proof here yet")
    repo = getattr(uow, kind.table.name)
    row = repo.get(env["tenant"], uuid.UUID(str(p["item_id"])), lock=True)
    if row is None or str(row["student_id"]) != str(p["student_id"]):
        raise RetryLater(f"{kind.name} not known yet")
    uploaded_at = _when(p["uploaded_at"])
    held = _when(row.get("proof_uploaded_at"))
    if held is not None and held >= uploaded_at:
        uow.commit()   # an older upload delivered late: the event is spent, nothing changes
        return True
    values = {"proof_file_id": uuid.UUID(str(p["file_id"])), "proof_filename": p["filename"],
              "proof_content_type": p["content_type"], "proof_size": p["size"], "proof_sha256": p["sha256"],
              "proof_uploaded_at": uploaded_at}
    repo.set_fields(row["id"], values)
    uploader = p.get("uploader_user_id")   # the ticket's holder (events before it was carried: none)
    uow.history.record(env["tenant"], kind.name, row["id"], "proof_attached", uploader,
                       actor_username=last_username(uow.history, env["tenant"], kind.name, row["id"],
                                                    row["student_id"], uploader),
                       student_id=row["student_id"], event_id=env["event_id"],
                       before={"proof_filename": row.get("proof_filename"), "proof_sha256": row.get("proof_sha256")},
                       after={"proof_filename": p["filename"], "proof_sha256": p["sha256"]})
    uow.commit()
    return True


def grant_item_proof_read(uow, caller, kind_name, item_id, ticket_key) -> dict:
    """For a reader of the item (itemkit.may_read_student: the kind's writers and readers of the
    tenant, the student, the homeroom teacher of the student's class): {file_id, filename,
    grant}, the grant signed for this caller and this file for 60 s; the files service answers
    a download link only with it (besides the student, who owns the file). Anyone else: not
    found (audited); an item without a proof yet: not_found (`proof_missing` in the message)."""
    kind = proof_kind(kind_name)
    row = _item(uow, kind, caller, item_id)
    itemkit.may_read_student(uow, kind, caller, row["student_id"])
    if row.get("proof_file_id") is None:
        raise NotFound("this item has no proof yet")
    claims = {"file_id": str(row["proof_file_id"]), "tenant": caller.tenant, "user_id": caller.user_id,
              "item_kind": kind.name, "item_id": str(row["id"])}
    return {"file_id": str(row["proof_file_id"]), "filename": row.get("proof_filename"),
            "grant": signing.sign(claims, ticket_key, ttl=GRANT_TTL, purpose=GRANT_PURPOSE)}
