"""The import plumbing every records item kind shares: file -> rows (sheets.py) -> the owning
service's dry run or real run -> one report of every row's problems by row and column.

    report = run("student_profile", filename, data, dry_run=True, options={...})

The service (records.list_import_kinds) publishes each kind's columns and its RPC
(records.import_<kind>s, declared with its roles); the gateway reads the file, resolves the
`username` column to the account (accounts.lookup_users) and shows what the service says.
A real run happens only when the file reads cleanly and the service finds no problem; it names
the dry run's `basis`, so a record changed since the preview refuses it (stale_record).
Personal data: columns marked `masked` (national IDs) are masked before anything is shown, and
no row is ever logged.
"""
import hashlib

from . import sheets
from .clients import rpc
from .errors import ERRORS, ApiError

# kind -> the records RPC that imports it (each declared with its own roles)
RPCS = {"student_profile": "import_student_profiles", "status_change": "import_status_changes",
        "attendance": "import_attendance", "activity": "import_activities",
        "course_grade": "import_course_grades", "elective": "import_electives"}
# performances the school or an external body reports: one sheet of the 多元表現名冊 per kind,
# all through records.import_performances, which is told the sheet
PERFORMANCE_SHEETS = {"performance_competition": "競賽參與紀錄", "performance_licence": "檢定證照紀錄",
                      "performance_work_based_learning": "職場學習紀錄", "performance_work": "作品成果紀錄",
                      "performance_advanced_course": "大學及技專校院先修課程紀錄", "performance_other": "其他多元表現紀錄"}
RPCS.update({k: "import_performances" for k in PERFORMANCE_SHEETS})
KIND_OPTIONS = {k: {"kind": k} for k in PERFORMANCE_SHEETS}

# Kinds another service owns, on the same flow (portfolio_common/importing.py there too): the
# college application dates (submission/sealing/importer.py, whose COLUMNS these repeat; a test
# keeps them equal), the student found by 學號 among the tenant's students (records).
SERVICES = {"college_application": "submission"}
RPCS["college_application"] = "import_application_dates"
OTHER_KINDS = {"college_application": {
    "kind": "college_application", "roles": ["registrar"], "key_field": "student_no", "columns": [
        {"field": "student_no", "label": "學號", "aliases": ["學號", "student_no", "student_number", "學生學號"],
         "required": True, "type": "code", "width": None},
        {"field": "applied_on", "label": "申請入學日期",
         "aliases": ["申請入學日期", "申請日期", "大學申請日期", "申請大學日期", "applied_on", "application_date"],
         "required": True, "type": "date", "width": None}]}}


def kinds() -> dict:
    """{kind: description} the caller may import (records decides by role for its kinds; the
    other services' kinds by the roles listed here, the service checking them again)."""
    from . import auth
    out = {k["kind"]: k for k in rpc("records", "list_import_kinds") if k["kind"] in RPCS}
    user = auth.current_user()
    held = set(auth.roles(user)) if user else set()
    out.update({k: spec for k, spec in OTHER_KINDS.items() if held & set(spec["roles"])})
    return out


def kind_spec(kind) -> dict:
    spec = kinds().get(kind)
    if spec is None:
        raise ApiError("not_allowed" if kind in RPCS else "not_found")
    return spec


def mask(value) -> str:
    text = str(value or "")
    return text[:3] + "*" * (len(text) - 5) + text[-2:] if len(text) >= 8 else "*" * len(text)


def problem_text(code, params=None, label=None) -> tuple[str, str]:
    """(zh, en) sentence for a row problem code, with its column's label in front."""
    _, zh, en = ERRORS.get(code, ERRORS["invalid"])
    try:
        zh, en = zh.format(**(params or {})), en.format(**(params or {}))
    except (KeyError, IndexError, ValueError):
        pass
    return (f"{label}：{zh}" if label else zh), en


def _resolve_accounts(rows):
    """username -> user_id and roles (accounts), so records can decide whether it may hold a
    student record."""
    names = sorted({r["cells"].get("username", "") for r in rows} - {""})
    users = rpc("accounts", "lookup_users", names) if names else {}
    for r in rows:
        u = users.get(r["cells"].get("username", ""))
        r["cells"]["user_id"] = u["user_id"] if u else None
        r["cells"]["account_roles"] = ",".join(u["roles"]) if u else ""


def _resolve_students(rows):
    """學號 -> the tenant's student (records.list_students: registrar), for a kind another
    service owns: student_id and student_user_id go with the row; an unknown 學號 goes empty
    (the service reports student_unknown)."""
    # a sealed student is listed without a 學號 (records.list_students): nothing is imported to them
    by_no = {s["student_no"]: s for s in rpc("records", "list_students") if s.get("student_no")}
    for r in rows:
        st = by_no.get(r["cells"].get("student_no", ""))
        r["cells"]["student_id"] = st["id"] if st else None
        r["cells"]["student_user_id"] = st.get("user_id") if st else None


def run(kind, filename, data, *, dry_run=True, basis=None, options=None, spec=None) -> dict:
    """Read, resolve and send one file. Returns {kind, filename, sha256, dry_run, written,
    problems, notices, rows (as the file has them, masked; a kind that compares with what is
    stored adds to each planned row `changes` [{field, label, before, after}], [] when it
    changes nothing - e.g. the roster), actions {row: action}, summary,
    basis, columns (the file's columns in spec order)}. Raises ApiError for refusals of the
    whole request (stale_record, not_allowed, ...)."""
    spec = spec or kind_spec(kind)
    labels = {c["field"]: c["label"] for c in spec["columns"]}
    masked = {c["field"] for c in spec["columns"] if c.get("masked")}
    sheet = sheets.read_sheet(filename, data, spec["columns"])
    problems = [dict(p, message_zh=p["message"], message=p["code"]) for p in sheet.problems]
    report = {"kind": kind, "filename": filename, "sha256": hashlib.sha256(data or b"").hexdigest(),
              "dry_run": dry_run, "written": False, "notices": sheet.notices, "actions": {},
              "summary": {"created": 0, "updated": 0, "unchanged": 0}, "basis": None,
              "columns": [c for c in spec["columns"] if c["field"] in sheet.columns], "header_row": sheet.header_row}
    rows = sheet.rows
    changes = {}
    if rows:
        if "username" in labels:
            _resolve_accounts(rows)
        if kind in SERVICES:
            _resolve_students(rows)
        send = [{"row": r["row"], "cells": {k: v for k, v in r["cells"].items() if k != "username"}} for r in rows]
        real = not dry_run and not problems
        result = rpc(SERVICES.get(kind, "records"), RPCS[kind], send, not real, basis if real else None,
                     {**(options or {}), **KIND_OPTIONS.get(kind, {})})
        seen = {(p["row"], p["column"], p["code"]) for p in problems}
        for p in result["problems"]:
            column = "username" if p["column"] == "user_id" else p["column"]
            if (p["row"], column, p["code"]) in seen:  # the reader already said it
                continue
            zh, en = problem_text(p["code"], p.get("params"), labels.get(column))
            problems.append({"row": p["row"], "column": column, "code": p["code"], "message_zh": zh, "message": en})
        report.update(written=result["written"], summary=result["summary"], basis=result["basis"],
                      actions={r["row"]: r["action"] for r in result["rows"]})
        changes = {r["row"]: r["changes"] for r in result["rows"] if "changes" in r}
    report["problems"] = sorted(problems, key=lambda p: (p["row"], p["column"] or "", p["code"]))
    report["rows"] = [{"row": r["row"], "cells": {k: (mask(v) if k in masked and v else v)
                                                  for k, v in r["cells"].items()
                                                  if k not in ("user_id", "account_roles", "student_id",
                                                               "student_user_id")}} for r in rows]
    for r in report["rows"]:
        if r["row"] in changes:
            r["changes"] = [labelled_change(c, labels, r["cells"]) for c in changes[r["row"]]]
    return report


CHANGE_LABELS = {"school_year": "學年度", "user_id": "帳號"}


def labelled_change(change, labels, cells) -> dict:
    """One field a row changes on a stored record, as the preview shows it: {field, label,
    before, after}. The service compares accounts by id; the preview names the file's account
    (`username`) and leaves the former one unnamed (before None)."""
    field = change["field"]
    if field == "user_id":
        return {"field": "username", "label": labels.get("username", "帳號"), "before": None,
                "after": cells.get("username") or None}
    return {"field": field, "label": labels.get(field) or CHANGE_LABELS.get(field, field),
            "before": change.get("before"), "after": change.get("after")}
