"""Transfer IMPORT (issue 9 item 8, the receiving school): the registrar of a tenant imports a
`portfolio-transfer` package another school exported for a student of their own tenant.

The flow (docs/transfer-package.md "Importing"):
  1. the registrar gets an upload ticket from records (kind `transfer_package`) and the browser
     sends the zip straight to the files service, which keeps it (content-checked, size-limited);
  2. `preview_import`: the zip is read back from files, checked by package.open_package (the
     one checker: names, sizes, signature, every fingerprint), the manifest's national ID is
     compared by records (which holds the encrypted ID: it answers only "matches" or not); the
     preview says where the package comes from, whether its key is known, what it holds.
     Nothing is stored;
  3. `import_package` (the registrar confirmed): checked again the same way, then files keeps
     each evidence file it lists as a file of its own (its fingerprint checked once more), and
     records stores the items, labelled 轉入 with the origin school code, in one transaction,
     once per package (idempotent by the zip's SHA-256).

Ports passed in (unit tests use fakes):
- package_file(file_id) -> context manager of (seekable binary file, meta {kind, student_id,
  sha256, size}) of the uploaded zip (files; submission reads it as system:submission);
- target(student_id, national_id) -> records.transfer_import_target's answer {student_id,
  student_user_id, student_no, name, class_name, matches, imported: [package sha256]}
  (not_found, student_sealed raised by it);
- unpack(file_id, student_id, entries) -> {sha256: {file_id, filename, content_type, size}}
  (files keeps the listed evidence entries of the zip as files of the student);
- store(student_id, record) -> {import_id, created} (records.store_transfer_import).
The national ID is never logged, returned or put in an error.
"""
import uuid

from ..errors import Invalid, NotFound
from . import package

IMPORT_ROLES = ("registrar",)
# what the preview counts, in the order the portal shows them (records/<kind>.json of the format)
ITEM_KINDS = ("course_grades", "course_outcomes", "performances", "autobiography", "activities",
              "competitions", "attendance", "status_changes")
ZH = {
    "transfer_package_invalid": "這不是可匯入的轉學檔案（須為 portfolio-transfer 第 1 版的 ZIP 檔，且內容完整、安全）。",
    "transfer_signature_invalid": "轉學檔案的清單（manifest.json）在簽章後被修改過，無法匯入；請向原校重新索取。",
    "transfer_student_mismatch": "這份轉學檔案不是這位學生的（身分證號不符），沒有匯入任何資料。",
    "transfer_same_school": "這是本校本部別匯出的檔案，不需要轉入；沒有匯入任何資料。",
}


def _refusal(problem: package.PackageProblem) -> Invalid:
    """A PackageProblem as the service's refusal: a stable code and a zh-TW sentence (for
    transfer_file_mismatch the sentence names the entry)."""
    if problem.code == "transfer_file_mismatch":
        text = f"轉學檔案中的「{problem.path}」與清單記載的指紋或大小不符（或缺少、或未列在清單中），沒有匯入任何資料。"
    else:
        text = ZH.get(problem.code, ZH["transfer_package_invalid"])
    return Invalid(text, code=problem.code if problem.code in (*ZH, "transfer_file_mismatch")
                   else "transfer_package_invalid", **({"path": problem.path} if problem.path else {}))


def _ids(student_id, file_id):
    try:
        return str(uuid.UUID(str(student_id))), str(uuid.UUID(str(file_id)))
    except ValueError:
        raise NotFound("student or package not found") from None


def _checked(package_file, target, trusted, student_id, file_id, caller=None, school_code=None):
    """(opened package, records' target, the zip's sha256): every check of the format, then the
    origin, then the student. NotFound: the file is not a transfer package uploaded for this
    student. transfer_same_school: the package's origin is this school (`school_code`) AND the
    caller's tenant - the student's own records exported and brought back would be stored a
    second time as 轉入 (QA). The same school's other division (day -> ce) is a real transfer
    and is allowed."""
    with package_file(file_id) as (fh, meta):
        if meta.get("kind") != "transfer_package" or str(meta.get("student_id")) != student_id:
            raise NotFound("package not found")
        try:
            opened = package.open_package(fh, trusted)
        except package.PackageProblem as problem:
            raise _refusal(problem) from None
    manifest = opened["manifest"]
    origin = manifest.get("origin") or {}
    if (school_code and caller is not None and str(origin.get("school_code") or "") == str(school_code)
            and str(origin.get("tenant") or "") == str(caller.tenant)):
        raise _refusal(package.PackageProblem("transfer_same_school", "this school's own division's package"))
    found = target(student_id, str((manifest.get("student") or {}).get("national_id") or ""))
    if not found.get("matches"):
        raise _refusal(package.PackageProblem("transfer_student_mismatch", "another student's package"))
    return opened, found, meta["sha256"]


def _counts(records: dict) -> dict:
    return {k: len(records.get(k) or []) if isinstance(records.get(k), list) else 0 for k in ITEM_KINDS}


def _evidence(manifest) -> list:
    return [{"path": f["path"], "sha256": f["sha256"], "size": f["size"], "media_type": f.get("media_type")}
            for f in manifest["files"] if f["path"].startswith("evidence/")]


def _text(value, n=200):
    return str(value)[:n] if value is not None else None


def preview_import(package_file, target, trusted, caller, student_id, file_id, school_code=None) -> dict:
    """What importing the uploaded package `file_id` for the student would store; nothing is stored.

    Returns {file_id, package_sha256, origin: {school_code, tenant}, exported_at, exported_by
    (role), signature: {key_id, verified (a key we know signed it; else unverified, not
    refused)}, counts: {kind: n}, evidence: n, theirs: {student_no, name, birth_date} (the
    package's), ours: {student_id, student_no, name, class_name}, already_imported (bool)}.
    Errors: not_allowed (not the registrar), not_found (another tenant's student, or a file
    that is not this student's uploaded package), student_sealed, transfer_package_invalid,
    transfer_signature_invalid, transfer_file_mismatch (names the entry),
    transfer_student_mismatch, transfer_same_school (the package is this school's
    (`school_code`, 學校代碼 of this platform) and this tenant's own export)
    (docs/transfer-package.md "Importing")."""
    caller.require(*IMPORT_ROLES)
    student_id, file_id = _ids(student_id, file_id)
    opened, ours, sha = _checked(package_file, target, trusted, student_id, file_id, caller, school_code)
    m = opened["manifest"]
    theirs = m.get("student") or {}
    return {"file_id": file_id, "package_sha256": sha,
            "origin": {"school_code": _text((m.get("origin") or {}).get("school_code"), 20),
                       "tenant": _text((m.get("origin") or {}).get("tenant"), 32)},
            "exported_at": _text(m.get("exported_at"), 40),
            "exported_by": _text((m.get("exported_by") or {}).get("role"), 20),
            "signature": opened["signature"], "counts": _counts(opened["records"]),
            "evidence": len(_evidence(m)),
            "theirs": {"student_no": _text(theirs.get("student_no"), 40), "name": _text(theirs.get("name"), 100),
                       "birth_date": _text(theirs.get("birth_date"), 10)},
            "ours": {k: ours.get(k) for k in ("student_id", "student_no", "name", "class_name")},
            "already_imported": sha in (ours.get("imported") or [])}


def _files_of(item) -> list:
    if isinstance(item.get("files"), list):
        return [f for f in item["files"] if isinstance(f, dict)]
    return [item["file"]] if isinstance(item.get("file"), dict) else []


def _filenames(records: dict) -> dict:
    """{sha256: the file name the origin kept} (the first item naming the file)."""
    out = {}
    for kind in ITEM_KINDS:
        for item in records.get(kind) if isinstance(records.get(kind), list) else []:
            for f in _files_of(item) if isinstance(item, dict) else []:
                if f.get("sha256") and f.get("filename"):
                    out.setdefault(str(f["sha256"]), str(f["filename"])[:200])
    return out


def items_of(records: dict, evidence: dict) -> list:
    """[{kind, school_year, item}] of the package's records, each item as the origin wrote it
    with its evidence files' new ids added (`file_id` next to each file's `path`): what records
    keeps, read only. The profile is not an item (the receiving school keeps its own)."""
    out = []
    for kind in ITEM_KINDS:
        rows = records.get(kind)
        if not isinstance(rows, list):
            continue
        for item in rows:
            if not isinstance(item, dict):
                continue
            item = dict(item)
            for f in _files_of(item):
                if f.get("sha256") in evidence:
                    f["file_id"] = evidence[f["sha256"]]["file_id"]
            year = item.get("school_year")
            out.append({"kind": kind, "school_year": year if isinstance(year, int) else None, "item": item})
    return out


def import_package(package_file, target, unpack, store, trusted, caller, student_id, file_id,
                   school_code=None) -> dict:
    """The registrar confirmed the preview: check the package again (the same checks), keep its
    evidence files (files) and store its items (records), labelled 轉入 with the origin school.

    Returns {import_id, created (False: this package was imported for this student before;
    nothing changed), package_sha256, items (n), evidence (n)}. Errors: those of preview_import."""
    caller.require(*IMPORT_ROLES)
    student_id, file_id = _ids(student_id, file_id)
    opened, _, sha = _checked(package_file, target, trusted, student_id, file_id, caller, school_code)
    m = opened["manifest"]
    names = _filenames(opened["records"])
    entries = [e | ({"filename": names[e["sha256"]]} if e["sha256"] in names else {}) for e in _evidence(m)]
    kept = unpack(file_id, student_id, entries) if entries else {}
    items = items_of(opened["records"], kept)
    origin = m.get("origin") or {}
    record = {"package_sha256": sha, "file_id": file_id,
              "origin_school_code": _text(origin.get("school_code"), 20) or "",
              "origin_tenant": _text(origin.get("tenant"), 32),
              "exported_at": _text(m.get("exported_at"), 40),
              "key_id": _text(opened["signature"].get("key_id"), 200),
              "verified": bool(opened["signature"].get("verified")),
              "theirs": {"student_no": _text((m.get("student") or {}).get("student_no"), 40),
                         "name": _text((m.get("student") or {}).get("name"), 100)},
              "items": items,
              "evidence": [{"sha256": e["sha256"], **kept[e["sha256"]]} for e in entries if e["sha256"] in kept]}
    saved = store(student_id, record)
    return {"import_id": saved["import_id"], "created": saved["created"], "package_sha256": sha,
            "items": len(items), "evidence": len(record["evidence"])}


def trusted_keys(own_signer, configured: str | None) -> dict:
    """{key_id: base64url public key} of the schools whose packages show as verified: our own
    key (a package we exported comes back) and TRANSFER_TRUSTED_KEYS (JSON {key_id: key}, the
    keys other schools gave us)."""
    import json
    keys = {own_signer.key_id: own_signer.public_key}
    if configured:
        keys.update({str(k): str(v) for k, v in json.loads(configured).items()})
    return keys
