"""Use cases of the national side: plain functions over the unit of work.

Who: the registrar (day: 註冊組; ce: 教務組) of the caller's tenant, or `system`, for the
pre-check, submissions, receipts and corrections; a student for their own rows and reports.
Every query is scoped to the caller's tenant: another tenant's batch is `not_found`.

Ports passed in (so unit tests use fakes):
- directory(school_year, student_ids, semester) -> {student_id: records' export fields or
  absent}, the named students and every student of the semester (records.national_export_fields,
  sealed: it carries national IDs);
- gateway.submit(fileobj) -> receipt bytes (adapter.NationalGateway / FakeNationalGateway).
National IDs pass through memory and the package only: never into this service's tables,
events or logs.
"""
import datetime as dt
import uuid

from portfolio_common import clock, events
from portfolio_common.text import clean_text
from portfolio_common.windows import Window

from ..errors import Invalid, NotFound
from ..selection import lock as locks
from . import builders, columnset, domain, rosters
from .errors import (EvidenceChanged, NotLocked, PrecheckFailed, ReceiptAlreadyImported, ReceiptInvalid,
                     ReceiptNotImported, ReceiptOtherBatch, ReceiptOtherSchool, ReportAlreadyResolved, ReportInvalid)

REGISTRAR_ROLES = ("registrar", "system")
ROSTER = "course_outcomes"
MAX_REPORT_CHARS = 500


def _year(school_year):
    try:
        y = int(school_year)
    except (TypeError, ValueError):
        raise Invalid("school year must be a number", code="school_year_invalid") from None
    if not 100 <= y <= 200:
        raise Invalid("school year out of range", code="school_year_invalid")
    return y


def _semester(semester):
    if str(semester) not in ("1", "2"):
        raise Invalid("semester is 1 or 2", code="semester_invalid")
    return int(semester)


def _uuid(value, what):
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise NotFound(f"{what} not found") from None


def _iso(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


def _held(uow, caller, year) -> list:
    """The copies to export: the newest held copy of every student locked now (selection.lock;
    a student unlocked for a correction waits until re-locked), plus a lock of the whole year
    made before per-student locks. NotLocked when there is none."""
    held = [h for h in locks.held(uow, caller, year)["students"]
            if locks.is_locked(uow, caller.tenant, h["student_user_id"], year)]
    if uow.national.is_locked(caller.tenant, year):
        mine = {h["student_user_id"] for h in held}
        held += [h for h in uow.national.held(caller.tenant, year) if str(h["student_user_id"]) not in mine]
    if not held:
        raise NotLocked("lock the school year's selections before the national export")
    return held


def _prepare(uow, directory, caller, year, semester, column_set):
    """(rosters {roster id: {sheet id: [row]}}, problems) of the semester: builders.precheck_all
    over the held copies, submission's certified copy and records' export fields."""
    held = _held(uow, caller, year)
    certified = uow.national.certified_copy(caller.tenant, year)
    # every student of the semester, not only those held: 學生資料, 成績, 缺勤 list them all
    fields = directory(year, sorted({str(h["student_id"]) for h in held}), semester)
    term = uow.calendar.term(caller.tenant, year, semester) or {}
    return builders.precheck_all(held, certified, fields, school_year=year, semester=semester,
                                 term={"starts_on": term.get("starts_on"), "ends_on": term.get("ends_on")},
                                 column_set=column_set, tenant=caller.tenant, today=clock.today_in_school())


def _roster_counts(column_set, out) -> list:
    return [{"roster": r.id, "name": r.name, "rows": sum(len(v) for v in out[r.id].values()),
             "sheets": [{"sheet": s.id, "name": s.name, "rows": len(out[r.id][s.id])} for s in r.sheets]}
            for r in column_set.rosters]


def precheck(uow, directory, caller, school_year, semester) -> dict:
    """Validate every row of every roster of the semester before anything is built (學生資料,
    學生成績, 缺勤紀錄, 課程學習成果 and its variant sheets, 多元表現: builders.precheck_all).

    Returns {school_year, semester, column_set, students, rows (all rosters), ready (no
    problem), problem_count, rosters: [{roster, name, rows, sheets: [{sheet, name, rows}]}],
    by_student: [{student_id, student_name, class_name, seat_no, problems: [{sheet, row
    (spreadsheet row on that sheet, None: the student as a whole), outcome_id, field, code,
    message}]}]}.
    Errors: not_locked, school_year_invalid, semester_invalid, column_set_missing."""
    caller.require(*REGISTRAR_ROLES)
    year, sem = _year(school_year), _semester(semester)
    cs = columnset.load(year)
    out, problems = _prepare(uow, directory, caller, year, sem, cs)
    students = {r["student_id"] for sheets in out.values() for rows in sheets.values() for r in rows}
    return {"school_year": year, "semester": sem, "column_set": cs.version,
            "students": len(students), "rows": builders.row_count(out), "ready": not problems,
            "problem_count": len(problems), "rosters": _roster_counts(cs, out),
            "by_student": domain.problems_by_student(problems)}


def submit(uow, directory, gateway, caller, school_year, semester, school_code, evidence=None) -> dict:
    """Pre-check, build the package (every roster, the evidence files when `evidence` is given
    (a port: file_id -> context manager of a readable stream of its bytes), manifest) and send it to the national side; the
    receipt it answers is imported at once and `national-submitted` is written to the outbox.
    A later call is a resubmission (attempt 2, 3, ...) with the corrected data.

    Returns the batch (get_batch's shape, without rows). Errors: precheck_failed (nothing is
    built or sent; see precheck), evidence_changed (an evidence file's bytes are not its kept
    fingerprint: nothing is sent), storage_unavailable (the evidence could not be read), not_locked, national_unavailable / national_package_refused
    (nothing is recorded). A receipt answer that cannot be imported keeps the batch (the national
    side has the package) with `receipt_error` = the code import_receipt would give; the
    registrar imports the receipt file later."""
    caller.require(*REGISTRAR_ROLES)
    year, sem = _year(school_year), _semester(semester)
    cs = columnset.load(year)
    uow.national.serialise(caller.tenant, year, sem)
    out, problems = _prepare(uow, directory, caller, year, sem, cs)
    if problems:
        raise PrecheckFailed(f"{len(problems)} problem(s) found by the pre-check; correct them first",
                             problems=len(problems))
    now = clock.now()
    cover = {"school_code": school_code, "school_year": year, "semester": sem}
    with rosters.spooled_package_file() as fh:
        try:
            try:
                manifest = rosters.build_package(fh, cs, caller.tenant, cover, out, now.isoformat(),
                                                 evidence=evidence)
            except rosters.EvidenceMismatch as exc:
                raise EvidenceChanged(str(exc)) from None
            fh.flush()
            size = fh.tell()
            sha = rosters.sha256_of(fh)
            receipt = gateway.submit(fh)
        finally:
            rosters.remove_quietly(fh.name)
    batch = {"id": str(uuid.uuid4()), "tenant": caller.tenant, "school_year": year, "semester": sem,
             "attempt": uow.national.next_attempt(caller.tenant, year, sem), "school_code": school_code,
             "column_set": cs.version, "package_sha256": sha, "package_size": size, "manifest": manifest,
             "submitted_by": caller.user_id, "submitted_at": now}
    uow.national.add_batch(batch, [{
        "roster": r["sheet"], "row_no": r["row"], "student_id": r["student_id"],
        "student_user_id": r["student_user_id"], "student_name": r.get("student_name") or "",
        "class_name": r.get("class_name") or "", "seat_no": r.get("seat_no"), "outcome_id": r.get("outcome_id"),
        "course_code": str(r["summary"][0] or "")[:40], "subject_name": str(r["summary"][1] or "")[:100],
        "description": str(r["summary"][2] or "")[:100], "sha256": r.get("sha256"),
        "result": "pending"} for sheets in out.values() for rows in sheets.values() for r in rows])
    try:
        result = _import(uow, caller, batch["id"], receipt)
    except (ReceiptInvalid, ReceiptOtherSchool, ReceiptOtherBatch) as exc:
        # The national side has the package: keep the batch; its receipt is imported later.
        result = {**_batch_out(batch), "receipt_error": exc.code}
    uow.commit()
    return result


def _batch_out(b) -> dict:
    return {"batch_id": str(b["id"]), "school_year": b["school_year"], "semester": b["semester"],
            "attempt": b["attempt"], "school_code": b["school_code"], "column_set": b["column_set"],
            "package_sha256": b["package_sha256"], "package_size": b["package_size"],
            "files": (b.get("manifest") or {}).get("files", []),
            "submitted_at": _iso(b["submitted_at"]), "receipt_id": b.get("receipt_id"),
            "receipt_imported_at": _iso(b.get("receipt_imported_at")), "check_until": _iso(b.get("check_until")),
            "accepted": b.get("accepted"), "refused": b.get("refused")}


def _import(uow, caller, batch_id, raw) -> dict:
    batch = uow.national.batch(caller.tenant, batch_id)
    if batch is None:
        raise NotFound("submission not found")
    keys = {(r["roster"], r["row_no"]) for r in uow.national.rows(batch["id"])}
    parsed = domain.parse_receipt(raw, batch, keys)
    if batch.get("receipt_id"):
        if batch["receipt_id"] == parsed["receipt_id"]:
            return _batch_out(batch)          # the same receipt again: nothing changes
        raise ReceiptAlreadyImported("this submission already has its receipt")
    now = clock.now()
    values = {"receipt_id": parsed["receipt_id"], "receipt_imported_at": now, "receipt_imported_by": caller.user_id,
              "check_until": clock.today_in_school() + dt.timedelta(days=domain.CHECK_DAYS),
              "accepted": parsed["accepted"], "refused": parsed["refused"]}
    uow.national.set_receipt(batch["id"], values, parsed["results"])
    uow.emit(events.make_event(events.NATIONAL_SUBMITTED, caller.tenant, {
        "batch_id": str(batch["id"]), "school_year": batch["school_year"], "semester": batch["semester"],
        "receipt_id": parsed["receipt_id"], "submitted_at": batch["submitted_at"]}))
    return _batch_out({**batch, **values})


def import_receipt(uow, caller, batch_id, receipt) -> dict:
    """Import a receipt file the national side gave for a batch (when it came separately).
    Errors: not_found (another tenant's or no such batch), receipt_invalid,
    receipt_other_school, receipt_other_batch, receipt_already_imported."""
    caller.require(*REGISTRAR_ROLES)
    if not isinstance(receipt, (str, bytes)) or len(receipt) > 64 * 1024 * 1024:
        raise ReceiptInvalid("this is not a receipt file of the national side")
    result = _import(uow, caller, _uuid(batch_id, "submission"), receipt)
    uow.commit()
    return result


def list_batches(uow, caller, school_year) -> dict:
    """{school_year, batches: [batch]} of the caller's tenant, by semester and attempt."""
    caller.require(*REGISTRAR_ROLES)
    year = _year(school_year)
    return {"school_year": year, "batches": [_batch_out(b) for b in uow.national.batches(caller.tenant, year)]}


def sheet_name(roster_key, school_year=None) -> str:
    """名冊名稱・sheet title of a batch row's roster key (the sheet id), for the pages."""
    try:
        roster, sheet = columnset.load(school_year or max(columnset.available_years())).sheet_by_key(roster_key)
    except Invalid:
        return roster_key
    return f"{roster.name}・{sheet.name}"


def _sealed_of(uow, tenant) -> set:
    """Student ids (str) of the tenant's sealed students."""
    return {sid for t, sid in uow.sealing.sealed_ids() if t == tenant}


def _sealed_row_out(r) -> dict:
    """A sealed student's row in a batch or a report list: that the row exists, the student's
    name and class, nothing of the record (course, result, reason, reports). Sealed data is read
    only through the audited request two roles approved (issue 9 item 7)."""
    return {"roster": r["roster"], "roster_name": sheet_name(r["roster"]), "row": r["row_no"],
            "student_id": str(r["student_id"]), "student_name": r.get("student_name"),
            "class_name": r.get("class_name"), "seat_no": None, "outcome_id": None, "course_code": "",
            "subject_name": "", "description": "", "result": "sealed", "field": None, "code": None,
            "reason": None, "reports": [], "sealed": True}


def _row_out(r, reports=()) -> dict:
    return {"roster": r["roster"], "roster_name": sheet_name(r["roster"]), "row": r["row_no"], "student_id": str(r["student_id"]),
            "student_name": r.get("student_name"), "class_name": r.get("class_name"), "seat_no": r.get("seat_no"),
            "outcome_id": str(r["outcome_id"]) if r.get("outcome_id") else None, "course_code": r["course_code"],
            "subject_name": r["subject_name"], "description": r["description"], "result": r["result"],
            "field": r.get("field"), "code": r.get("code"),
            "reason": domain.message(r["code"]) if r.get("code") else None,
            "reports": [_report_out(x) for x in reports]}


def _report_out(x) -> dict:
    return {"report_id": str(x["id"]), "batch_id": str(x["batch_id"]), "roster": x["roster"], "row": x["row_no"],
            "message": x["message"], "reported_at": _iso(x["reported_at"]), "status": x["status"],
            "resolution": x.get("resolution"), "resolved_at": _iso(x.get("resolved_at"))}


def get_batch(uow, caller, batch_id) -> dict:
    """One batch with every row's result and the students' reports on it; a sealed student's
    rows as _sealed_row_out (name and class only, result `sealed`). not_found when the batch is
    not the caller's tenant's."""
    caller.require(*REGISTRAR_ROLES)
    batch = uow.national.batch(caller.tenant, _uuid(batch_id, "submission"))
    if batch is None:
        raise NotFound("submission not found")
    reports = uow.national.reports(caller.tenant, batch_ids=[batch["id"]])
    by_row = {}
    for x in reports:
        by_row.setdefault((x["roster"], x["row_no"]), []).append(x)
    sealed = _sealed_of(uow, caller.tenant)
    return {**_batch_out(batch), "rows": [
        _sealed_row_out(r) if str(r["student_id"]) in sealed else _row_out(r, by_row.get((r["roster"], r["row_no"]), ()))
        for r in uow.national.rows(batch["id"])]}


def _latest_with_receipt(uow, tenant, year):
    latest = {}
    for b in uow.national.batches(tenant, year):
        if b.get("receipt_id"):
            latest[b["semester"]] = b          # batches come by attempt: the last one wins
    return [latest[s] for s in sorted(latest)]


def _refuse_if_sealed(uow, caller):
    """A sealed student reads (and reports on) their national rows only through the audited
    two-role request: sealed_read_required (403)."""
    from portfolio_common.errors import NotAllowed
    if any(str(uid) == str(caller.user_id) for t, uid in uow.sealing.sealed_user_ids() if t == caller.tenant):
        raise NotAllowed("this student's data is sealed: an approved read request is required",
                         code="sealed_read_required")


def my_rows(uow, caller, school_year) -> dict:
    """我的上傳結果: the student's own rows in the latest receipt of each semester of the year.
    {school_year, today, semesters: [{semester, batch_id, receipt_id, check_until, can_report,
    rows: [row with result, reason (zh-TW), reports]}]}. A sealed student: sealed_read_required."""
    caller.require("student")
    year = _year(school_year)
    _refuse_if_sealed(uow, caller)
    today = clock.today_in_school()
    out = []
    for b in _latest_with_receipt(uow, caller.tenant, year):
        rows = uow.national.rows(b["id"], student_user_id=caller.user_id)
        if not rows:
            continue
        reports = uow.national.reports(caller.tenant, batch_ids=[b["id"]], student_user_id=caller.user_id)
        by_row = {}
        for x in reports:
            by_row.setdefault((x["roster"], x["row_no"]), []).append(x)
        out.append({"semester": b["semester"], "batch_id": str(b["id"]), "receipt_id": b["receipt_id"],
                    "check_until": _iso(b["check_until"]), "can_report": today <= b["check_until"],
                    "rows": [_row_out(r, by_row.get((r["roster"], r["row_no"]), ())) for r in rows]})
    return {"school_year": year, "today": today.isoformat(), "semesters": out}


def report_row(uow, caller, batch_id, roster, row, message) -> dict:
    """A student reports an error in one of their own rows, within the check days (DOMAIN.md:
    at least 3 days after the receipt is imported). Errors: not_found (no such row of theirs:
    another student's row answers exactly like a missing one), receipt_not_imported,
    window_closed (with the dates), report_invalid (empty or over 500 characters)."""
    caller.require("student")
    _refuse_if_sealed(uow, caller)
    batch = uow.national.batch(caller.tenant, _uuid(batch_id, "row"))
    try:
        row_no = int(row)
    except (TypeError, ValueError):
        raise NotFound("row not found") from None
    mine = [r for r in uow.national.rows(batch["id"], student_user_id=caller.user_id)
            if r["roster"] == roster and r["row_no"] == row_no] if batch else []
    if not mine:
        raise NotFound("row not found", refused=True)
    if not batch.get("receipt_id"):
        raise ReceiptNotImported("the receipt of this submission is not imported yet")
    imported = batch["receipt_imported_at"]
    opened = imported.astimezone(clock.SCHOOL_TZ).date() if hasattr(imported, "astimezone") else \
        dt.date.fromisoformat(str(imported)[:10])
    Window("收訖明細檢查", opened, batch["check_until"] if isinstance(batch["check_until"], dt.date)
           else dt.date.fromisoformat(str(batch["check_until"]))).check(clock.today_in_school())
    text = clean_text(message)
    if not text or len(text) > MAX_REPORT_CHARS:
        raise ReportInvalid(f"describe the error in 1 to {MAX_REPORT_CHARS} characters")
    report = {"id": str(uuid.uuid4()), "tenant": caller.tenant, "batch_id": batch["id"], "roster": roster,
              "row_no": row_no, "student_user_id": caller.user_id, "message": text, "reported_at": clock.now()}
    uow.national.add_report(report)
    uow.commit()
    return _report_out({**report, "status": "open"})


def list_reports(uow, caller, school_year) -> dict:
    """Every report of the tenant's year with its row (registrar's corrections page)."""
    caller.require(*REGISTRAR_ROLES)
    year = _year(school_year)
    batches = {str(b["id"]): b for b in uow.national.batches(caller.tenant, year)}
    out = []
    sealed = _sealed_of(uow, caller.tenant)
    for x in uow.national.reports(caller.tenant, batch_ids=list(batches)):
        row = next((r for r in uow.national.rows(x["batch_id"]) if r["roster"] == x["roster"]
                    and r["row_no"] == x["row_no"]), None)
        b = batches[str(x["batch_id"])]
        if row is not None and str(row["student_id"]) in sealed:     # the student's words are sealed too
            out.append({**_report_out(x), "message": "", "resolution": None, "semester": b["semester"],
                        "attempt": b["attempt"], "row_detail": _sealed_row_out(row), "sealed": True})
            continue
        out.append({**_report_out(x), "semester": b["semester"], "attempt": b["attempt"],
                    "row_detail": _row_out(row) if row else None})
    return {"school_year": year, "reports": out}


def resolve_report(uow, caller, report_id, resolution) -> dict:
    """The registrar records the correction made for a report (who, when, what); the data is
    corrected where it lives (records' audited student profile, the student's outcome), then
    the semester is resubmitted. Errors: not_found, report_invalid, report_already_resolved."""
    caller.require(*REGISTRAR_ROLES)
    x = uow.national.report(caller.tenant, _uuid(report_id, "report"))
    if x is None:
        raise NotFound("report not found")
    if x["status"] != "open":
        raise ReportAlreadyResolved("this report was already resolved")
    text = clean_text(resolution)
    if not text or len(text) > MAX_REPORT_CHARS:
        raise ReportInvalid(f"describe the correction in 1 to {MAX_REPORT_CHARS} characters")
    values = {"status": "corrected", "resolution": text, "resolved_by": caller.user_id, "resolved_at": clock.now()}
    uow.national.resolve_report(x["id"], values)
    uow.commit()
    return _report_out({**x, **values})


PACKAGE = "package"


def roster_file(uow, directory, caller, school_year, semester, roster, school_code, evidence=None,
                keep=None) -> dict:
    """One roster of the semester as the national side will get it (xlsx: cover sheet, then its
    sheets), or the whole package (`roster` = "package": every roster, the evidence files,
    manifest), built now from the current data, for the registrar to look at before (or after)
    submitting. Rows with pre-check problems are written as they are (the file is for checking;
    submit refuses them).

    The file is built to a temporary file, then handed to `keep` (adapter.FilesDownloads.keep:
    streamed to the files service, kept a day for the caller alone, whatever its size); the
    answer is its metadata only, no byte of it:
    {filename, content_type, size (bytes), sha256 (hex), problem_count, download_id, expires_at
    (ISO, UTC)}; the gateway sends the registrar to files with a ticket for download_id.
    Errors: not_found (no such roster), not_locked, school_year_invalid, semester_invalid,
    column_set_missing, evidence_changed, storage_unavailable (files or S3 did not keep it)."""
    caller.require(*REGISTRAR_ROLES)
    year, sem = _year(school_year), _semester(semester)
    cs = columnset.load(year)
    ids = [r.id for r in cs.rosters]
    if roster != PACKAGE and roster not in ids:
        raise NotFound("roster not found")
    out, problems = _prepare(uow, directory, caller, year, sem, cs)
    cover = {"school_code": school_code, "school_year": year, "semester": sem}
    with rosters.spooled_package_file() as fh:
        try:
            if roster == PACKAGE:
                try:
                    rosters.build_package(fh, cs, caller.tenant, cover, out, clock.now().isoformat(), evidence=evidence)
                except rosters.EvidenceMismatch as exc:
                    raise EvidenceChanged(str(exc)) from None
                name, kind = f"{school_code}-{year}-{sem}-national-package.zip", "application/zip"
            else:
                rosters.write_roster(fh, cs, roster, caller.tenant, cover, out[roster])
                name = f"{school_code}-{year}-{sem}-{cs.roster(roster).name}.xlsx"
                kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            fh.flush()
            size = fh.tell()
            sha = rosters.sha256_of(fh)
            kept = keep(fh, filename=name, content_type=kind, sha256=sha, requested_by=caller.user_id,
                        purpose="national-package" if roster == PACKAGE else "national-roster",
                        subject=f"{year}-{sem} {roster}")
        finally:
            rosters.remove_quietly(fh.name)
    return {"filename": name, "content_type": kind, "size": size, "sha256": sha,
            "problem_count": len(problems), "download_id": kept["download_id"], "expires_at": kept["expires_at"]}
