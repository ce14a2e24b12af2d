"""Use cases of performances (多元表現): record (student or school unit), attach the proof from
performance-uploaded, issue the proof's upload ticket, void a mistake, read.

Who may do what (docs/permissions.md; the rule: DOMAIN.md "Who does what", 多元表現):
  - a student records their own performances (entered_by `student`) and uploads their proofs;
  - the registrar and the organising unit record performances the school entered (`school`)
    or an external body reported (`external`) for a student of their tenant, and upload the proof;
  - reads: the student, the homeroom teacher of the student's class, the registrar (and system);
    anyone else reads a performance as not found.
Every change writes one row of the attributable history (records/history).
"""
import datetime as dt
import uuid

from portfolio_common import clock, signing
from portfolio_common.errors import RetryLater

from ..errors import FieldsInvalid, Invalid, NotFound, StaleRecord
from ..history import last_username, snapshot
from ..sealing.usecases import gate_sealed_read
from . import domain

STAFF_ROLES = ("registrar", "organising_unit", "system")
READER_ROLES = ("registrar", "system")
TICKET_PURPOSE = "upload-ticket"     # the files service verifies it (records.usecases)
TICKET_TTL = 15 * 60


def _uuid(value, what="performance"):
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound(f"{what} not found") from None


def _iso(v):
    return v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v


def public(row) -> dict:
    """What a reader sees of a performance (no national ID; the proof by file id)."""
    return {
        "id": str(row["id"]), "student_id": str(row["student_id"]), "school_year": row["school_year"],
        "kind": row["kind"], "kind_name": domain.KINDS[row["kind"]][0], "fields": row["fields"],
        "description": row["description"], "entered_by": row["entered_by"],
        "counts_toward_selection": domain.counts_toward_selection(row["entered_by"]),
        "state": row["state"], "file_id": str(row["file_id"]) if row.get("file_id") else None,
        "filename": row.get("filename"), "content_type": row.get("content_type"), "size": row.get("size"),
        "sha256": row.get("sha256"), "proof_uploaded_at": _iso(row.get("proof_uploaded_at")),
        "created_at": _iso(row.get("created_at")), "voided_at": _iso(row.get("voided_at")),
        "void_reason": row.get("void_reason"), "version": row["version"],
    }


def _problems(problems):
    return FieldsInvalid("performance fields refused", problems=[
        {"field": f, "code": c, "params": p} for f, c, p in problems])


def _student_for(uow, caller, student_id):
    """The student a write is about: the caller themself (student), or one of the caller's
    tenant (staff). Another tenant's student reads as not found."""
    if caller.has("student") and not caller.has(*STAFF_ROLES):
        st = uow.students.by_user(caller.tenant, caller.user_id)
        if st is None or (student_id and str(st["id"]) != str(student_id)):
            raise NotFound("student not found", refused=student_id is not None)
        return st
    caller.require(*STAFF_ROLES)
    st = uow.students.get(caller.tenant, _uuid(student_id, "student"))
    if st is None:
        raise NotFound("student not found")
    return st


def record_performance(uow, caller, data: dict, *, via="form") -> dict:
    """Record one performance. data: {kind, fields: {...the kind's fields, description},
    student_id (staff only), entered_by ("school" | "external", staff only), school_year
    (optional: else the school year of its defining date)}.

    Returns the performance (public()), state `proof_missing` until its proof arrives.
    Raises FieldsInvalid (field problems, nothing written), NotFound (student), NotAllowed.
    """
    if not isinstance(data, dict) or not isinstance(data.get("fields") or {}, dict):
        raise Invalid("a performance is an object with kind and fields")
    student = _student_for(uow, caller, data.get("student_id"))
    is_student = caller.has("student") and not caller.has(*STAFF_ROLES)
    kind = data.get("kind")
    values, problems = domain.read_performance(kind, data.get("fields") or {}, today=clock.today_in_school())
    if is_student:
        entered_by = "student"
    else:
        entered_by = data.get("entered_by") or "school"
        if entered_by not in ("school", "external"):
            problems.append(("entered_by", "code_unknown", {}))
    year = data.get("school_year")
    if year in (None, ""):
        year = domain.school_year_of(kind, values) if not problems else None
    elif not (isinstance(year, int) and 100 <= year <= 200):
        problems.append(("school_year", "school_year_invalid", {}))
    if problems:
        raise _problems(problems)
    pid = add_performance(uow, caller, student, kind, values, entered_by, year, via)
    uow.commit()
    return public(uow.performances.get(caller.tenant, pid))


def stored_fields(values) -> tuple[dict, str]:
    """(the kind's fields as stored (dates ISO), 內容簡述) of read_performance's values."""
    values = dict(values)
    description = values.pop("description")
    return {k: _iso(v) for k, v in values.items()}, description


def add_performance(uow, caller, student, kind, values, entered_by, year, via) -> uuid.UUID:
    """The new row and its history (no commit: the form commits it, an import commits all rows)."""
    stored, description = stored_fields(values)
    row = dict(tenant=caller.tenant, student_id=student["id"], school_year=year, kind=kind, fields=stored,
               description=description, entered_by=entered_by, entered_by_user=caller.user_id,
               recorded_via=via, state="proof_missing", created_at=clock.now())
    pid = uow.performances.add(row)
    uow.history.record(caller.tenant, "performance", pid, "created", caller.user_id,
                       actor_username=caller.username, student_id=student["id"],
                       after=snapshot({"kind": kind, "school_year": year, "description": description,
                                       "entered_by": entered_by, "fields": stored, "recorded_via": via}))
    return pid


def _readable(uow, caller, row):
    if caller.has(*READER_ROLES):
        return True
    student = uow.students.get(caller.tenant, row["student_id"])
    if student and str(student.get("user_id")) == str(caller.user_id):
        return True
    if caller.has("homeroom_teacher") and str(uow.performances.homeroom_of(caller.tenant, row["student_id"])) \
            == str(caller.user_id):
        return True
    return caller.has("organising_unit") and row["entered_by"] != "student"


def list_performances(uow, caller, student_id=None, school_year=None) -> list:
    """[public()] of one student (default: the calling student), newest school year first.
    Readers: the student, their class's homeroom teacher, the registrar; else not found."""
    if student_id is None:
        st = uow.students.by_user(caller.tenant, caller.user_id)
        if st is None:
            raise NotFound("student not found")
    else:
        st = uow.students.get(caller.tenant, _uuid(student_id, "student"))
        if st is None:
            raise NotFound("student not found")
    rows = uow.performances.of_student(caller.tenant, st["id"], school_year)
    probe = {"student_id": st["id"], "entered_by": "student"}
    if not _readable(uow, caller, probe):
        if caller.has("organising_unit"):
            gate_sealed_read(uow, caller, st)
            return [public(r) for r in rows if r["entered_by"] != "student"]
        raise NotFound("student not found", refused=True)
    gate_sealed_read(uow, caller, st)   # a sealed student: only an approved request's reader
    return [public(r) for r in rows]


def _writable(uow, caller, performance_id, lock=True):
    row = uow.performances.get(caller.tenant, _uuid(performance_id), lock=lock)
    if row is None:
        raise NotFound("performance not found")
    is_student = caller.has("student") and not caller.has(*STAFF_ROLES)
    if is_student:
        st = uow.students.by_user(caller.tenant, caller.user_id)
        if st is None or st["id"] != row["student_id"]:
            raise NotFound("performance not found", refused=True)
    else:
        caller.require(*STAFF_ROLES)
    if not domain.may_change(row, is_student):
        if row["state"] == "voided":
            raise Invalid("this performance was voided", code="performance_voided")
        raise NotFound("performance not found", refused=True)
    return row


def issue_proof_ticket(uow, caller, performance_id, ticket_key) -> dict:
    """A signed upload ticket for the performance's proof file (the files service verifies it,
    stores the bytes and publishes performance-uploaded). A proof already there is replaced by
    the next one. Returns {performance_id, ticket}. Raises NotFound, performance_voided."""
    row = _writable(uow, caller, performance_id, lock=False)
    student = uow.students.get(caller.tenant, row["student_id"])
    claims = {
        "kind": "performance", "performance_id": str(row["id"]), "tenant": caller.tenant,
        "student_id": str(row["student_id"]), "student_user_id": str(student["user_id"]),
        "uploader_user_id": caller.user_id, "school_year": row["school_year"], "semester": None,
        "description": row["description"], "performance_kind": row["kind"], "entered_by": row["entered_by"],
    }
    return {"performance_id": str(row["id"]),
            "ticket": signing.sign(claims, ticket_key, ttl=TICKET_TTL, purpose=TICKET_PURPOSE)}


def attach_proof(uow, env) -> bool:
    """performance-uploaded -> the performance holds its proof (state `ready`). Idempotent per
    event; a performance that is not (yet) known is dead-lettered by the handler's retries."""
    if not uow.claim(env["event_id"], "records.handle_performance_uploaded"):
        return False
    p = env["payload"]
    row = uow.performances.get(env["tenant"], _uuid(p["performance_id"]), lock=True)
    if row is None or str(row["student_id"]) != str(p["student_id"]):
        raise RetryLater("performance not known yet")
    values = {"file_id": p["file_id"], "filename": p["filename"], "content_type": p["content_type"],
              "size": p["size"], "sha256": p["sha256"], "proof_uploaded_at": p["uploaded_at"]}
    if row["state"] != "voided":
        values["state"] = "ready"
    before = {"state": row["state"], "sha256": row.get("sha256")}
    uow.performances.update(row["id"], row["version"], values)
    uploader = p.get("uploader_user_id")   # the ticket's holder (events before it was carried: none)
    uow.history.record(env["tenant"], "performance", row["id"], "proof_attached", uploader,
                       actor_username=last_username(uow.history, env["tenant"], "performance", row["id"],
                                                    row["student_id"], uploader),
                       student_id=row["student_id"], event_id=env["event_id"], before=before,
                       after={"state": values.get("state", row["state"]), "sha256": p["sha256"],
                              "filename": p["filename"]})
    uow.commit()
    return True


def void_performance(uow, caller, performance_id, expected_version, reason) -> dict:
    """Void a mistaken performance (never deleted: it stays, marked, with who and why).
    Raises StaleRecord when it changed since the caller read it, Invalid without a reason."""
    text = (reason or "").strip() if isinstance(reason, str) else ""
    if not text or len(text) > 200:
        raise FieldsInvalid("a reason is required", problems=[
            {"field": "reason", "code": "field_missing" if not text else "text_too_long", "params": {"limit": 200}}])
    row = _writable(uow, caller, performance_id)
    now = clock.now()
    if not uow.performances.update(row["id"], expected_version, {"state": "voided", "voided_at": now,
                                                                 "void_reason": text}):
        raise StaleRecord("this performance changed since you opened it")
    uow.history.record(caller.tenant, "performance", row["id"], "voided", caller.user_id,
                       actor_username=caller.username, student_id=row["student_id"],
                       before={"state": row["state"]}, after={"state": "voided", "reason": text})
    uow.commit()
    return public(uow.performances.get(caller.tenant, row["id"]))


def may_read_performance(uow, caller, performance_id):
    row = uow.performances.get(caller.tenant, _uuid(performance_id))
    if row is None or not _readable(uow, caller, row):
        raise NotFound("performance not found", refused=row is not None)
    return row


def grant_proof_read(uow, caller, performance_id, ticket_key) -> dict:
    """For a reader of the performance (may_read_performance: the student, the homeroom teacher
    of the student's class, the registrar; the organising unit a school or external one):
    {file_id, filename, grant}, a 60 s read grant for this caller and this file, which the files
    service checks before it answers a download link (the same grant as an item's proof:
    records/itemproofs). Anyone else, and a performance without a proof yet: not_found."""
    from ..itemproofs.usecases import GRANT_PURPOSE, GRANT_TTL
    row = may_read_performance(uow, caller, performance_id)
    student = uow.students.get(caller.tenant, row["student_id"])
    gate_sealed_read(uow, caller, student or {"id": row["student_id"]})
    if row.get("file_id") is None:
        raise NotFound("this performance has no proof yet")
    claims = {"file_id": str(row["file_id"]), "tenant": caller.tenant, "user_id": caller.user_id,
              "performance_id": str(row["id"])}
    return {"file_id": str(row["file_id"]), "filename": row.get("filename"),
            "grant": signing.sign(claims, ticket_key, ttl=GRANT_TTL, purpose=GRANT_PURPOSE)}


def of_class(uow, caller, students) -> dict:
    """{student_id: [public()]} of a class's students the caller may read every performance of
    (the registrar; the homeroom teacher of each student's class), for the class view; {} for
    anyone else (their own pages read them one student at a time)."""
    out = {}
    for st in students:
        if _readable(uow, caller, {"student_id": st["id"], "entered_by": "student"}):
            out[str(st["id"])] = [public(r) for r in uow.performances.of_student(caller.tenant, st["id"])]
    return out


HISTORY_READERS = {"performance": may_read_performance}
