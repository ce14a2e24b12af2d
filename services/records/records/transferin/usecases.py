"""Transfer IMPORT in records (issue 9 item 8, the receiving school): the upload ticket of a
package, the student it is for (the national ID compared here, where it is kept encrypted),
the imported items (read only, labelled 轉入 with the origin school code) and who may read them.

The package itself is checked by submission (submission/transfer/importing.py, with the format's
one checker package.open_package); files keeps the zip and its evidence files. What records
keeps is attributable: who imported (imported_by, their username), when, the package's SHA-256,
and a history row `transfer_imported` on the student. Imported items are not this school's
records: they count toward no selection limit and are never sent to the national side by us
(submission reads only its own selections; the national rosters are built from this school's
tables, not from these).
"""
import datetime as dt
import hmac
import uuid

import sqlalchemy as sa
from portfolio_common import clock, signing
from portfolio_common.sealing import StudentSealed

from ..domain import normalize_national_id
from ..errors import Invalid, NotFound
from ..itemkit import HOMEROOM
from ..sealing.usecases import gate_sealed_read
from ..usecases import _audit
from .orm import transfer_import_files, transfer_import_items, transfer_imports

IMPORT_ROLES = ("registrar",)
SERVICE_ROLES = ("system:submission", "system")
TICKET_PURPOSE = "upload-ticket"      # what the files service verifies (files/usecases.check_ticket)
TICKET_TTL = 15 * 60
GRANT_PURPOSE = "file-read-grant"     # files/usecases.download_link
GRANT_TTL = 60
NAMESPACE = uuid.UUID("6f1f2a52-9b4e-4c1e-8d4f-3c7a1d0b9e21")   # import ids: (student, package)
KIND_LABELS = {"course_grades": "修課紀錄", "course_outcomes": "課程學習成果", "performances": "多元表現",
               "autobiography": "自傳與學習計畫", "activities": "幹部、社團與服務", "competitions": "校內競賽",
               "attendance": "缺勤紀錄", "status_changes": "學籍異動"}


def _uuid(value, what="student"):
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound(f"{what} not found") from None


def _student(uow, caller, student_id, lock=False):
    row = uow.students.get(caller.tenant, _uuid(student_id), lock=lock)
    if row is None:
        raise NotFound("student not found")
    return row


def _not_sealed(uow, caller, row):
    if uow.sealed_students.is_sealed(caller.tenant, row["id"]):
        raise StudentSealed("this student is sealed: nothing is imported")


def issue_transfer_ticket(uow, caller, student_id, ticket_key) -> dict:
    """The registrar of the tenant: an upload ticket (15 min) for a transfer package (a zip) of
    one student of the tenant, for the files service (kind `transfer_package`, each ticket its
    own upload). Returns {student_id, ticket}. Errors: not_allowed (not the registrar: the RPC
    gate), not_found (another tenant's student), student_sealed."""
    caller.require(*IMPORT_ROLES)
    row = _student(uow, caller, student_id)
    _not_sealed(uow, caller, row)
    today = clock.now()
    claims = {"kind": "transfer_package", "package_id": str(uuid.uuid4()), "tenant": caller.tenant,
              "student_id": str(row["id"]), "student_user_id": str(row["user_id"]),
              "uploader_user_id": caller.user_id,
              "school_year": today.year - 1911 - (1 if today.month < 8 else 0), "semester": None}
    return {"student_id": str(row["id"]),
            "ticket": signing.sign(claims, ticket_key, ttl=TICKET_TTL, purpose=TICKET_PURPOSE)}


def _imported(uow, tenant, sid) -> list:
    return [r for (r,) in uow.session.execute(
        sa.select(transfer_imports.c.package_sha256).where(transfer_imports.c.tenant == tenant,
                                                           transfer_imports.c.student_id == sid)).all()]


def transfer_import_target(uow, vault, caller, student_id, national_id) -> dict:
    """submission asks (sealed RPC: the package's national ID is an argument): is the package's
    student this student of the tenant? The ID is compared here by its keyed hash (never
    decrypted, never answered, never logged). Returns {student_id, student_user_id, student_no,
    name, class_name, matches (bool), imported: [package sha256 already imported]}.
    Errors: not_found, student_sealed."""
    caller.require(*SERVICE_ROLES)
    row = _student(uow, caller, student_id)
    _not_sealed(uow, caller, row)
    given = normalize_national_id(national_id)
    matches = bool(given) and hmac.compare_digest(vault.lookup_hash(given), row["national_id_hash"] or "")
    return {"student_id": str(row["id"]), "student_user_id": str(row["user_id"]), "student_no": row["student_no"],
            "name": row["name"], "class_name": row.get("class_name") or "", "matches": matches,
            "imported": _imported(uow, caller.tenant, row["id"])}


def _text(value, n):
    return None if value is None else str(value)[:n]


def store_transfer_import(uow, caller, student_id, record, imported_by, imported_by_username=None) -> dict:
    """submission stores a checked package for a student (transfer.importing.import_package's
    `record`: {package_sha256, file_id, origin_school_code, origin_tenant, exported_at, key_id,
    verified, theirs: {student_no, name}, items: [{kind, school_year, item}], evidence: [{sha256,
    file_id, filename, content_type, size}]}), imported_by: the registrar's user id.
    Once per (student, package SHA-256): a second time changes nothing. One transaction with a
    history row `transfer_imported` (who, when, package, origin, how many). Returns {import_id,
    created}. Errors: not_found, student_sealed, invalid."""
    caller.require(*SERVICE_ROLES)
    row = _student(uow, caller, student_id, lock=True)    # one import of a student at a time
    _not_sealed(uow, caller, row)
    sha = str(record.get("package_sha256") or "")
    if len(sha) != 64 or not isinstance(record.get("items"), list):
        raise Invalid("a package's SHA-256 and items are needed", code="invalid")
    import_id = uuid.uuid5(NAMESPACE, f"{caller.tenant}:{row['id']}:{sha}")
    s = uow.session
    if sha in _imported(uow, caller.tenant, row["id"]):
        uow.commit()
        return {"import_id": str(import_id), "created": False}
    now, by = clock.now(), _uuid(imported_by, "user")
    origin = _text(record.get("origin_school_code"), 20) or ""
    s.execute(transfer_imports.insert().values(
        id=import_id, tenant=caller.tenant, student_id=row["id"], package_sha256=sha,
        package_file_id=_uuid(record.get("file_id"), "package"), origin_school_code=origin,
        origin_tenant=_text(record.get("origin_tenant"), 32), exported_at=_text(record.get("exported_at"), 40),
        key_id=_text(record.get("key_id"), 200), verified=bool(record.get("verified")),
        origin_student={k: _text((record.get("theirs") or {}).get(k), 100) for k in ("student_no", "name")},
        imported_by=by, imported_by_username=_text(imported_by_username, 100), imported_at=now))
    items = [it for it in record["items"] if isinstance(it, dict) and it.get("kind") in KIND_LABELS]
    if items:
        s.execute(transfer_import_items.insert(), [dict(
            id=uuid.uuid4(), import_id=import_id, tenant=caller.tenant, student_id=row["id"], position=i,
            kind=it["kind"], school_year=it.get("school_year") if isinstance(it.get("school_year"), int) else None,
            origin_school_code=origin, item=it.get("item") or {}, package_sha256=sha, imported_by=by,
            imported_at=now) for i, it in enumerate(items)])
    files = [f for f in record.get("evidence") or [] if isinstance(f, dict) and f.get("file_id")]
    if files:
        s.execute(transfer_import_files.insert(), [dict(
            import_id=import_id, file_id=_uuid(f["file_id"], "file"), tenant=caller.tenant, student_id=row["id"],
            sha256=str(f.get("sha256") or "")[:64], filename=_text(f.get("filename"), 255),
            content_type=_text(f.get("content_type"), 100), size=f.get("size")) for f in files])
    _audit(uow, caller.tenant, "student", row["id"], "transfer_imported", by, actor_username=imported_by_username,
           after={"package_sha256": sha, "origin_school_code": origin, "verified": bool(record.get("verified")),
                  "items": len(items), "evidence": len(files)})
    uow.commit()
    return {"import_id": str(import_id), "created": True}


def may_read(uow, caller, student_id=None) -> dict:
    """The student row when the caller may read the student's imported items: the tenant's
    registrar (and system), the student themself (student_id None: their own), the homeroom
    teacher of the student's class. Anyone else reads it as not found (audited); a sealed
    student only through an approved read request (gate_sealed_read)."""
    if student_id is None:     # "mine": a caller who is no student has none
        row = uow.students.by_user(caller.tenant, caller.user_id) if caller.has("student") else None
        if row is None:
            raise NotFound("student not found")
    else:
        row = _student(uow, caller, student_id)
        own = str(row["user_id"]) == str(caller.user_id)
        homeroom = caller.has(HOMEROOM) and row.get("class_homeroom_user_id") is not None \
            and str(row["class_homeroom_user_id"]) == str(caller.user_id)
        if not (caller.has("registrar", "system") or own or homeroom):
            raise NotFound("student not found", refused=True)
    gate_sealed_read(uow, caller, row)
    return row


def _iso(v):
    return v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else v


def list_transfer_imports(uow, caller, student_id=None) -> dict:
    """The student's imported packages, newest first, each with its items (read only):
    {student_id, imports: [{import_id, origin_school_code, origin_tenant, verified, exported_at,
    package_sha256, imported_at, imported_by_username, origin_student: {student_no, name},
    items: [{id, kind, kind_label, school_year, item}], files: [{file_id, sha256, filename,
    content_type, size}]}]}. Errors: not_found (not a reader of the student)."""
    row = may_read(uow, caller, student_id)
    s = uow.session
    t, i, f = transfer_imports, transfer_import_items, transfer_import_files
    out = []
    for imp in s.execute(sa.select(t).where(t.c.tenant == caller.tenant, t.c.student_id == row["id"])
                         .order_by(t.c.imported_at.desc())).all():
        items = s.execute(sa.select(i).where(i.c.import_id == imp.id).order_by(i.c.position)).all()
        files = s.execute(sa.select(f).where(f.c.import_id == imp.id).order_by(f.c.sha256)).all()
        out.append({"import_id": str(imp.id), "origin_school_code": imp.origin_school_code,
                    "origin_tenant": imp.origin_tenant, "verified": imp.verified, "exported_at": imp.exported_at,
                    "package_sha256": imp.package_sha256, "imported_at": _iso(imp.imported_at),
                    "imported_by_username": imp.imported_by_username, "origin_student": imp.origin_student,
                    "items": [{"id": str(x.id), "kind": x.kind, "kind_label": KIND_LABELS.get(x.kind, x.kind),
                               "school_year": x.school_year, "item": x.item} for x in items],
                    "files": [{"file_id": str(x.file_id), "sha256": x.sha256, "filename": x.filename,
                               "content_type": x.content_type, "size": x.size} for x in files]})
    return {"student_id": str(row["id"]), "imports": out}


def grant_transfer_evidence_read(uow, caller, student_id, file_id, ticket_key) -> dict:
    """For a reader of the student's imported items (may_read; student_id None: the student's
    own): {file_id, filename, grant}, a 60 s grant for this caller and this file, which the
    files service needs to answer a download link of an imported evidence file. A file that is
    not one of this student's imported files: not_found."""
    row = may_read(uow, caller, student_id)
    fid = _uuid(file_id, "file")
    f = uow.session.execute(sa.select(transfer_import_files).where(
        transfer_import_files.c.tenant == caller.tenant, transfer_import_files.c.student_id == row["id"],
        transfer_import_files.c.file_id == fid)).first()
    if f is None:
        raise NotFound("file not found")
    claims = {"file_id": str(fid), "tenant": caller.tenant, "user_id": caller.user_id,
              "student_id": str(row["id"])}
    return {"file_id": str(fid), "filename": f.filename,
            "grant": signing.sign(claims, ticket_key, ttl=GRANT_TTL, purpose=GRANT_PURPOSE)}
