"""Registrar's student roster import (學籍資料): a spreadsheet of students -> records.import_school.

Same flow as the system admin's people import (admin.py): upload -> preview (records' dry run,
nothing written) -> the same file again with its SHA-256 -> import -> report. Any problem in any
row refuses the whole file (records writes nothing then either).

Accounts come first (the system admin's people import); the roster links each student to their
portal account by username. Sections and enrolments come from the course system, not from here.

PERSONAL DATA: national IDs are only ever shown masked (mask_id), never put in a message, a log
line or a URL, and rows are never logged.
"""
import hashlib
import logging
import unicodedata

from flask import Blueprint, current_app, make_response, render_template, request

from . import auth, imports
# imports' table reading is private but is exactly what is needed here (CSV UTF-8/BOM/Big5, xlsx
# with size and zip-bomb limits); importing it keeps one reader for both imports.
from .imports import _INVISIBLE, _Refused, _cell, _norm_header, _records  # noqa: F401
from .clients import rpc
from .errors import ApiError, to_api_error

log = logging.getLogger("gateway.roster")

bp = Blueprint("roster", __name__, url_prefix="/registrar")

REGISTRAR_ROLE = "registrar"
ACTION_NAMES = {"created": "新增", "updated": "更新", "unchanged": "不變"}

COLUMNS = {
    "student_no": ("學號", "student_no", "student_number", "studentno"),
    "name": ("姓名", "學生姓名", "name", "student_name"),
    "national_id": ("身分證號", "身分證字號", "身份證號", "身份證字號", "身分證統一編號", "統一證號",
                    "national_id", "nationalid", "id_no"),
    "class_code": ("班級代碼", "班級代號", "班級編號", "班級", "class_code", "class"),
    "class_name": ("班級名稱", "班名", "class_name"),
    "seat_no": ("座號", "seat_no", "seat"),
    "username": ("帳號", "學生帳號", "使用者帳號", "登入帳號", "username", "account"),
}
REQUIRED = ("student_no", "name", "national_id", "class_code", "class_name", "username")
LABELS = {"student_no": "學號", "name": "姓名", "national_id": "身分證號", "class_code": "班級代碼",
          "class_name": "班級名稱", "seat_no": "座號", "username": "帳號"}
MAX_LEN = {"student_no": 32, "name": 100, "class_code": 32, "class_name": 100}

_ALIASES = {_norm_header(alias): field for field, aliases in COLUMNS.items() for alias in aliases}

MESSAGES = {
    "national_id_invalid": "身分證號格式或檢查碼不正確。",
    "duplicate_national_id": "身分證號與另一位學生重複（本部已有其他學號使用此身分證號）。",
    "unknown_class": "班級代碼不在本次匯入的班級中。",
    "student_account_missing": "找不到此學生帳號（或此帳號在本部不是學生）；請先請系統管理者匯入學生帳號。",
}


def mask_id(national_id) -> str:
    """A123456789 -> A12*****89. Too short to hide anything by showing 5 characters: all stars."""
    text = normalize_id(national_id)
    if len(text) < 8:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 5) + text[-2:]


def normalize_id(raw) -> str:
    return unicodedata.normalize("NFKC", str(raw or "")).translate(_INVISIBLE).replace(" ", "").upper()


def _field_of(header):
    text = _norm_header(header)
    if not text:
        return None
    candidates = [text]
    for opening, closing in (("(", ")"), ("[", "]"), ("【", "】"), ("「", "」")):
        if opening in text:
            head, _, rest = text.partition(opening)
            candidates += [head.strip("_"), rest.partition(closing)[0].strip("_")]
    return next((_ALIASES[c] for c in candidates if c in _ALIASES), None)


# ---------------------------------------------------------------- parsing (pure)

def read_roster(filename: str, data: bytes):
    """Spreadsheet bytes -> (rows, problems).

    rows: every data row [{row, student_no, name, national_id, class_code, class_name, seat_no,
    username}] (national_id normalised, seat_no int or None); problems: [(row, code, zh)] with
    row 0 = the whole file. A row with a problem stays in `rows` (the preview shows it) but is
    never sent to records (see build_payload)."""
    if not data:
        return [], [(0, "file_empty", "檔案是空的。")]
    if len(data) > imports.MAX_BYTES:
        return [], [(0, "file_too_large", f"檔案超過 {imports.MAX_BYTES // (1024 * 1024)} MB 上限；請分批匯入。")]
    try:
        return _parse(_records(filename, data))
    except _Refused as refused:
        return [], [refused.problem]


def _parse(records):
    rows, problems = [], []
    columns, header_row, blank_rows = None, None, []
    for number, record in enumerate(records, start=1):
        cells = [_cell(v) for v in record]
        if columns is None:
            found = {}
            for i, header in enumerate(cells):
                field = _field_of(header)
                if field:
                    found.setdefault(field, []).append(i)
            if len(found) >= 2:  # a title row above the header may hold one matching word
                header_row, columns = number, found
                continue
            if number >= imports.HEADER_SEARCH_ROWS:
                break
            continue
        if not any(cells):
            blank_rows.append(number)
            continue
        if len(rows) >= imports.MAX_ROWS:
            return [], [(0, "too_many_rows", f"資料超過 {imports.MAX_ROWS} 列；請分成幾個檔案匯入。")]
        problems += [(b, "empty_row", "空白列：請刪除此列，或補上這一列的資料。") for b in blank_rows]
        blank_rows = []
        row, row_problems = _student(number, cells, columns)
        rows.append(row)
        problems += row_problems
    if columns is None:
        return [], [(1, "header_missing", "找不到標題列；第一列需有欄位名稱：學號、姓名、身分證號、班級代碼、"
                     "班級名稱、座號、帳號。")]
    header_problems = [(header_row, "column_missing", f"缺少「{LABELS[f]}」欄；標題請寫「{LABELS[f]}」或「{f}」。")
                       for f in REQUIRED if f not in columns]
    header_problems += [(header_row, "column_duplicate", f"「{LABELS[f]}」欄出現 {len(w)} 次；請只保留一欄。")
                        for f, w in columns.items() if len(w) > 1]
    if header_problems:
        return [], header_problems
    if not rows:
        return [], [(0, "no_rows", "檔案中沒有任何學生資料。")]
    return rows, problems + _file_problems(rows)


def _student(number, cells, columns):
    def get(field):
        where = columns.get(field)
        return cells[where[0]] if where and where[0] < len(cells) else ""

    row = {"row": number,
           "student_no": unicodedata.normalize("NFKC", get("student_no")).strip(),
           "name": get("name"),
           "national_id": normalize_id(get("national_id")),
           "class_code": unicodedata.normalize("NFKC", get("class_code")).strip(),
           "class_name": get("class_name"),
           "seat_no": None,
           "username": unicodedata.normalize("NFKC", get("username")).strip()}
    problems = [(number, f"{f}_missing", f"未填{LABELS[f]}。") for f in REQUIRED if not row[f]]
    problems += [(number, f"{f}_too_long", f"{LABELS[f]}超過 {n} 個字。")
                 for f, n in MAX_LEN.items() if len(row[f]) > n]
    seat = unicodedata.normalize("NFKC", get("seat_no")).strip()
    if seat:
        if seat.isdigit() and 0 < int(seat) < 1000:
            row["seat_no"] = int(seat)
        else:
            problems.append((number, "seat_no_invalid", "座號須為 1–999 的整數。"))
    return row, problems


def _file_problems(rows):
    """Duplicates inside the file, said by row number (a national ID is never printed)."""
    problems = []
    for key, code, label in (("student_no", "duplicate_student_no", "學號"),
                             ("national_id", "duplicate_national_id_in_file", "身分證號"),
                             ("username", "duplicate_username", "帳號")):
        seen = {}
        for r in rows:
            value = r[key]
            if not value:
                continue
            if value in seen:
                problems.append((r["row"], code, f"{label}與第 {seen[value]} 列相同；每位學生只能有一列。"))
            else:
                seen[value] = r["row"]
    names = {}
    for r in rows:
        if r["class_code"] and r["class_name"]:
            if r["class_code"] in names and names[r["class_code"]][1] != r["class_name"]:
                problems.append((r["row"], "class_name_conflict",
                                 f"班級代碼「{r['class_code']}」在第 {names[r['class_code']][0]} 列的班級名稱不同；"
                                 "同一班級代碼只能有一個名稱。"))
            names.setdefault(r["class_code"], (r["row"], r["class_name"]))
    return problems


def account_problems(rows, users):
    """users: accounts.lookup_users' answer {username: {user_id, display_name, roles}}."""
    return [(r["row"], "student_account_missing", MESSAGES["student_account_missing"])
            for r in rows if r["username"] and "student" not in (users.get(r["username"]) or {}).get("roles", [])]


def build_payload(rows, problems, users, school_year, semester):
    """(payload for records.import_school, the rows sent in payload order). Rows with a problem
    are left out; classes are the distinct (class_code, class_name) of the rows sent."""
    bad = {p[0] for p in problems}
    sent = [r for r in rows if r["row"] not in bad]
    classes = {}
    for r in sent:
        classes.setdefault(r["class_code"], r["class_name"])
    payload = {"school_year": school_year, "semester": semester,
               "classes": [{"code": c, "name": n, "homeroom_user_id": None} for c, n in classes.items()],
               "students": [{"student_no": r["student_no"], "name": r["name"],
                             "user_id": users[r["username"]]["user_id"], "class_code": r["class_code"],
                             "seat_no": r["seat_no"], "national_id": r["national_id"]} for r in sent],
               "sections": []}
    return payload, sent


def refusal_problems(sent, refused):
    """records numbers students 1.. in payload order; map back to spreadsheet rows. Only the code
    is used: records' English reasons are never shown."""
    out = []
    for r in refused or []:
        i = r.get("row")
        row = sent[i - 1]["row"] if isinstance(i, int) and 0 < i <= len(sent) else 0
        code = r.get("code") or "invalid"
        out.append((row, code, MESSAGES.get(code, "這一列無法匯入，請檢查各欄位。")))
    return out


def classify(rows, existing):
    """{row: created|updated|unchanged} against records.list_students (masked IDs only)."""
    by_no = {s["student_no"]: s for s in existing or []}
    out = {}
    for r in rows:
        s = by_no.get(r["student_no"])
        if s is None:
            out[r["row"]] = "created"
        elif (s.get("name"), s.get("class_code"), s.get("national_id_masked")) == \
                (r["name"], r["class_code"], mask_id(r["national_id"])):
            out[r["row"]] = "unchanged"
        else:
            out[r["row"]] = "updated"
    return out


def parse_term(form, default_year):
    """(school_year, semester, problem or None) from the form's 學年度 / 學期."""
    try:
        year = int((form.get("school_year") or str(default_year)).strip())
        semester = int((form.get("semester") or "1").strip())
    except ValueError:
        return default_year, 1, "學年度與學期須為數字，例如 115 與 1。"
    if not 100 <= year <= 200 or semester not in (1, 2):
        return year, semester, "學年度須為民國年（例如 115），學期為 1 或 2。"
    return year, semester, None


# ---------------------------------------------------------------- pages

def _need_registrar():
    user = auth.current_user()
    if not user:
        raise ApiError("not_authenticated")
    if REGISTRAR_ROLE not in auth.roles(user):
        raise ApiError("not_allowed")
    return user


def _form(error=None, status=200, year=None, semester=1):
    return render_template("roster_import.html", error=error,
                           school_year=year or current_app.config["SCHOOL_YEAR"], semester=semester), status


def _page_error(zh, code="invalid"):
    err = ApiError(code)
    err.zh = zh
    return err


@bp.route("/roster", methods=["GET", "POST"])
def roster_import():
    _need_registrar()
    if request.method == "GET":
        return _form(semester=current_app.config["SEMESTER"])
    year, semester, term_problem = parse_term(request.form, current_app.config["SCHOOL_YEAR"])
    if term_problem:
        return _form(_page_error(term_problem), 422, year, semester)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form(ApiError("file_missing"), 422, year, semester)
    data = upload.stream.read(imports.MAX_BYTES + 1)
    digest = hashlib.sha256(data).hexdigest()
    rows, problems = read_roster(upload.filename, data)
    confirm = request.form.get("confirm") == "1"
    error = None
    if confirm and request.form.get("sha256") != digest:
        error = _page_error("這個檔案與剛才預覽的檔案內容不同，因此沒有匯入。以下是這個檔案的預覽，確認無誤後請再按「確認匯入」。")
        confirm = False
    action = {}
    try:
        users = rpc("accounts", "lookup_users", sorted({r["username"] for r in rows if r["username"]})) if rows else {}
        problems += account_problems(rows, users)
        payload, sent = build_payload(rows, problems, users, year, semester)
        if rows and not problems:
            existing = rpc("records", "list_students")
            action = classify(rows, existing)
        if confirm and not problems:
            result = rpc("records", "import_school", payload, False)
            if not result["refused"]:
                return _report_page(upload.filename, rows, result, action, year, semester)
            problems += refusal_problems(sent, result["refused"])
        elif sent:
            result = rpc("records", "import_school", payload, True)
            problems += refusal_problems(sent, result["refused"])
    except Exception as exc:  # noqa: BLE001 - shown above the form
        err = to_api_error(exc)
        # never log the exception text: it could quote a row; the type says enough to look further
        log.warning("roster import failed: %s (%s)", err.code, type(exc).__name__)
        if err.code == "invalid":
            err.zh = "檔案內容有欄位不符合格式（例如過長或不是數字），沒有匯入任何資料。"
        return _form(err, err.status, year, semester)
    if problems:
        action = {}
    if confirm and problems and error is None:
        error = _page_error("檔案有問題，沒有匯入任何資料。請依下列說明修正後重新上傳。")
    return _preview_page(upload.filename, digest, rows, problems, action, year, semester,
                         error=error, status=422 if error else 200)


def _entry(r, action, problem_rows):
    return {"row": r["row"], "student_no": r["student_no"], "name": r["name"],
            "national_id": mask_id(r["national_id"]), "class_code": r["class_code"],
            "class_name": r["class_name"], "seat_no": r["seat_no"] or "", "username": r["username"],
            "action": action.get(r["row"]), "problem": r["row"] in problem_rows}


def _preview_page(filename, digest, rows, problems, action, year, semester, *, error=None, status=200):
    problem_rows = {p[0] for p in problems}
    entries = [_entry(r, action, problem_rows) for r in rows]
    counts = {k: sum(1 for v in action.values() if v == k) for k in ACTION_NAMES}
    classes = sorted({(r["class_code"], r["class_name"]) for r in rows if r["class_code"]})
    resp = make_response(render_template(
        "roster_preview.html", filename=filename, digest=digest, rows=rows, entries=entries,
        problems=sorted(problems, key=lambda p: (p[0], p[1])), problem_row_count=len(problem_rows - {0}),
        student_nos={r["row"]: r["student_no"] for r in rows}, classified=bool(action), counts=counts,
        classes=classes, school_year=year, semester=semester, error=error, ACTION_NAMES=ACTION_NAMES), status)
    resp.headers["Cache-Control"] = "no-store"  # personal data: not kept in the browser's cache
    return resp


def _report_page(filename, rows, result, action, year, semester):
    groups = {k: [_entry(r, action, set()) for r in rows if action.get(r["row"]) == k] for k in ACTION_NAMES}
    resp = make_response(render_template(
        "roster_report.html", filename=filename, imported=result["imported"], groups=groups,
        refused=result["refused"], school_year=year, semester=semester, ACTION_NAMES=ACTION_NAMES))
    resp.headers["Cache-Control"] = "no-store"
    return resp
