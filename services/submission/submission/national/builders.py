"""The rows of every national roster but the main course-outcome sheet, and their pre-check
(DOMAIN.md "National rosters (名冊)"); plain Python, no I/O.

Input: records' export fields per student (records.national_export_fields, sealed), each with
`profile`, `grades`, `attendance`, `activities`, `competitions`, `performances` and
`status_changes` of the school year; the held copies (what each student selected and the
registrar locked); the term's dates (the calendar's starts_on / ends_on: records keeps absence
counts per term, the 缺勤紀錄名冊 writes them from the term's first to its last day).

What goes where:
- 學生資料名冊: one row per student of the semester, whether they selected anything or not
  (records names them all: national_export_fields with the semester); 性別代碼 from records;
  when records has none, the second character of a citizen's 身分證號, which the law makes
  1 male / 2 female. 學生成績名冊, 缺勤紀錄名冊 and the school's / external bodies' 多元表現
  likewise cover every student; 課程學習成果 and student-entered 多元表現 only held copies;
- 學生成績名冊: the semester's course grades (日間部 修課學分 / 是否採計學分; 進修部 修課節數,
  是否採計學時, 學年學業成績, 學年及格);
- 缺勤紀錄名冊: each absence code with periods in the semester;
- 課程學習成果名冊 variant sheets: a certified, selected outcome of a student whose status
  history has, in that school year, a repeat (重讀), a transfer in or department transfer
  (轉學轉科: 原修課學校代碼 = the origin school, or ours for a department transfer; 原修課學年度 /
  學期 = the change's term) or visiting study (借讀: 借讀學校代碼 = the host school) goes to that
  sheet instead of 學期課程學習成果. 補修 and 重修 have their sheets with headers only: records
  holds no make-up or retake enrolments yet;
- 多元表現名冊: activities (cadre -> 幹部經歷暨事蹟紀錄; service, volunteer -> 服務學習紀錄),
  in-school competitions (the organising unit's), and performances: a student-entered one only
  when the student selected it (it is in their held copy); one the school or an external body
  entered always; never one without its proof file or a voided one (records leaves voided out).
  A performance is a school-year item: it goes with each semester's package of the year.

Every row is checked by its column set's column types (`row_problems`): 身分證號 and checksum,
ROC dates, codes against the listed codes, whole numbers, grades 0-100, required fields, text
lengths. National IDs never leave these rows except into the roster file.
"""
import re

from portfolio_common.text import clean_text

from . import domain

CODE = re.compile(r"^[0-9A-Za-z]{1,12}$")
FLAG = {True: "1", False: "0"}

# problem code -> zh-TW (added to domain.MESSAGES)
MESSAGES = {
    "field_missing": "必填欄位未填。",
    "code_unknown": "代碼不在名冊規定的代碼表中。",
    "date_invalid": "日期不是有效的民國日期（yyyMMdd，7 碼）。",
    "number_invalid": "數值不是有效的整數。",
    "grade_invalid": "成績須為 0 到 100 的整數。",
    "text_too_long": "文字超過欄位長度上限。",
    "proof_missing": "這筆多元表現還沒有上傳證明文件，不能上傳。",
}
domain.MESSAGES.update({k: v for k, v in MESSAGES.items() if k not in domain.MESSAGES})

PERFORMANCE_SHEETS = {"competition": "competitions", "licence": "licences",
                      "work_based_learning": "work_based_learning", "work": "works",
                      "advanced_course": "advanced_courses", "other": "other"}
ACTIVITY_SHEETS = {"cadre": "cadres", "service": "service", "volunteer": "service"}
VARIANT_OF_CHANGE = {"repeat": "repeat", "transfer_in": "transfer", "department_transfer": "transfer",
                     "visiting_study": "visiting"}


def _flag(v):
    return None if v is None else FLAG[bool(v)]


def _present(v) -> bool:
    return v is not None and str(v).strip() != ""


def value_problem(column, value, today, course_codes=None) -> str | None:
    """The problem code of one cell by its column (columnset.Column), or None."""
    if not _present(value):
        return "field_missing" if column.required else None
    t = column.type
    if t == "national_id":
        return domain.national_id_problem(value, today)
    if t == "date":
        return None if domain.roc_date_ok(value) else "date_invalid"
    if t == "course_code":
        code = str(value)
        if not domain.COURSE_CODE.match(code):
            return "course_code_missing"
        return "course_code_unknown" if course_codes is not None and code not in course_codes else None
    if t in ("code", "flag"):
        if column.codes:
            return None if str(value) in column.codes else "code_unknown"
        return None if CODE.match(str(value)) else "code_unknown"
    if t == "int":
        return None if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else "number_invalid"
    if t == "grade":
        return None if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100 \
            else "grade_invalid"
    if t == "description":
        return domain.description_problem(value)
    if column.max and len(str(value)) > column.max:
        return "text_too_long"
    return None


def row_problems(columns, row: dict, today, course_codes=None) -> list:
    """[(field, code)] of one row of a sheet (the columns for the row's tenant); the national
    side's simulator runs the same check."""
    out = []
    for c in columns:
        p = value_problem(c, row.get(c.field), today, course_codes)
        if p:
            if c.field == "birth_date":
                p = {"field_missing": "birth_date_missing", "date_invalid": "birth_date_invalid"}.get(p, p)
            out.append(("national_id" if c.type == "national_id" else c.field, p))
    return out


def _who(student_id, user_id, info) -> dict:
    return {"student_id": str(student_id), "student_user_id": str(user_id),
            "student_name": info.get("name") or "", "class_name": info.get("class_name") or "",
            "seat_no": info.get("seat_no")}


def _keys(info) -> dict:
    return {"national_id": domain.normalize_national_id(info.get("national_id")),
            "birth_date": domain.roc_date(info.get("birth_date"))}


def _gender(info, profile):
    g = profile.get("gender")
    if _present(g):
        return str(g)
    nid = domain.normalize_national_id(info.get("national_id"))
    return nid[1] if len(nid) == 10 and nid[1] in "12" else None


def _roc(v):
    return domain.roc_date(v) if _present(v) else None


def student_data_row(info, column_set) -> dict:
    p = info.get("profile") or {}
    status = dict(column_set.status_codes).get(info.get("status") or "enrolled")
    return {**_keys(info), "gender": _gender(info, p), "group_code": p.get("group_code"),
            "department_code": p.get("department_code"), "division_code": p.get("division_code"),
            "class_type_code": p.get("class_type_code"), "grade_level": p.get("grade_level"),
            "class_name": info.get("class_name") or "", "seat_no": info.get("seat_no"),
            "special_status": p.get("special_status"), "indigenous_group": p.get("indigenous_group"),
            "enrolment_route": p.get("enrolment_route"), "status_code": status,
            "status_changed_on": _roc(p.get("status_changed_on")),
            "summary": (info.get("class_name") or "", "學生資料", "")}


def grade_rows(info, semester) -> list:
    out = []
    for g in sorted(info.get("grades") or (), key=lambda g: (str(g.get("course_code")), str(g.get("id")))):
        if int(g.get("semester") or 0) != int(semester):
            continue
        out.append({**_keys(info), "course_code": g.get("course_code"), "subject_name": g.get("subject_name"),
                    "grade_level": g.get("grade_level"), "credits": g.get("credits"),
                    "semester_grade": g.get("semester_grade"), "passed": _flag(g.get("passed")),
                    "makeup_grade": g.get("makeup_grade"), "makeup_passed": _flag(g.get("makeup_passed")),
                    "credit_counted": _flag(g.get("credit_counted")), "remark": clean_text(g.get("remark") or ""),
                    "yearly_grade": g.get("yearly_grade"), "yearly_passed": _flag(g.get("yearly_passed")),
                    "summary": (g.get("course_code") or "", g.get("subject_name") or "", "")})
    return out


def attendance_rows(info, semester, term) -> list:
    out = []
    for a in sorted(info.get("attendance") or (), key=lambda a: str(a.get("absence_code"))):
        if int(a.get("semester") or 0) != int(semester) or not a.get("periods"):
            continue
        out.append({**_keys(info), "absence_code": a.get("absence_code"),
                    "starts_on": _roc((term or {}).get("starts_on")), "ends_on": _roc((term or {}).get("ends_on")),
                    "periods": a.get("periods"), "summary": (a.get("absence_code") or "", "缺勤紀錄", "")})
    return out


def variant_of(info, school_year) -> tuple:
    """(sheet id, extra fields) of the student's course-outcome rows for the year: the latest
    status change of that year that routes outcomes to a variant sheet, else the main sheet."""
    changes = sorted((c for c in info.get("status_changes") or ()
                      if c.get("change") in VARIANT_OF_CHANGE and int(c.get("school_year") or 0) == int(school_year)),
                     key=lambda c: str(c.get("effective_on")))
    if not changes:
        return "course_outcomes", {}
    c = changes[-1]
    sheet = VARIANT_OF_CHANGE[c["change"]]
    if sheet == "transfer":
        return sheet, {"origin_school_code": c.get("other_school_code") or c.get("own_school_code"),
                       "origin_school_year": c.get("school_year"), "origin_semester": str(c.get("semester") or "")}
    if sheet == "visiting":
        return sheet, {"host_school_code": c.get("other_school_code")}
    return sheet, {}


def performance_rows(info, held_performance_ids) -> list:
    """[(sheet id, row)] of the student's 多元表現 (see the module's docstring for which)."""
    out = []
    for a in sorted(info.get("activities") or (), key=lambda a: (str(a.get("started_on")), str(a.get("id")))):
        sheet = ACTIVITY_SHEETS.get(a.get("category"))
        if not sheet:
            continue
        row = {**_keys(info), "item_id": str(a.get("id")), "name": a.get("name"), "unit": a.get("name"),
               "position": a.get("position"), "starts_on": _roc(a.get("started_on")), "ends_on": _roc(a.get("ended_on")),
               "hours": a.get("hours"), "description": clean_text(a.get("description") or ""),
               "cadre_level": a.get("cadre_level"), "summary": ("", a.get("name") or "", a.get("description") or "")}
        if sheet == "service":
            row["unit"] = a.get("unit")
        out.append((sheet, row))
    for c in sorted(info.get("competitions") or (), key=lambda c: (str(c.get("announced_on")), str(c.get("id")))):
        out.append(("competitions", {**_keys(info), "item_id": str(c.get("id")), "name": c.get("name"),
                                     "event": c.get("event"), "level_code": c.get("level_code"),
                                     "award": c.get("result"), "announced_on": _roc(c.get("announced_on")),
                                     "description": clean_text(c.get("description") or "")[:100],
                                     "team_code": c.get("team_code"),
                                     "summary": ("", c.get("name") or "", c.get("description") or "")}))
    selected = {str(i) for i in held_performance_ids}
    for p in sorted(info.get("performances") or (), key=lambda p: (str(p.get("kind")), str(p.get("id")))):
        sheet = PERFORMANCE_SHEETS.get(p.get("kind"))
        pid = str(p.get("id"))
        if not sheet or p.get("state") == "voided":
            continue
        if p.get("entered_by") == "student" and pid not in selected:
            continue
        if p.get("entered_by") != "student" and p.get("state") != "ready":
            continue                       # records: without its proof it is not exported
        fields = dict(p.get("fields") or {})
        for k, v in list(fields.items()):
            if k.endswith("_on"):
                fields[k] = _roc(v)
        out.append((sheet, {**_keys(info), **fields, "item_id": pid,
                            "description": clean_text(p.get("description") or ""),
                            "file_id": p.get("file_id"), "sha256": p.get("sha256"), "size": p.get("size"),
                            "content_type": p.get("content_type"), "state": p.get("state"),
                            "summary": ("", fields.get("name") or fields.get("licence_code") or "",
                                        p.get("description") or "")}))
    return out


def evidence_problems(row) -> list:
    """The proof file of a performance row: present, an allowed type, within its size."""
    if row.get("state") is not None and row.get("state") != "ready" or (row.get("state") and not row.get("sha256")):
        return [("file", "proof_missing")]
    if row.get("content_type") is None:
        return []
    limit = domain.FILE_LIMITS.get(row.get("content_type"))
    if limit is None:
        return [("file", "file_type_not_allowed")]
    return [("file", "file_too_large")] if int(row.get("size") or 0) > limit else []


def _problem(who, row_no, outcome_id, field, code, sheet):
    return domain._problem({**who, "name": who.get("student_name")}, row_no, outcome_id, field, code, sheet)


def _order(held, directory):
    students = [(h, directory.get(str(h["student_id"]))) for h in held]
    students.sort(key=lambda s: ((s[1] or {}).get("class_name") or "", (s[1] or {}).get("seat_no") or 0,
                                 str(s[0]["student_id"])))
    return students


def precheck_all(held, certified, directory, *, school_year, semester, term, column_set, tenant, today,
                 course_codes=None) -> tuple:
    """Every roster's rows for one semester and every problem, before anything is built.

    held, certified, directory: as domain.precheck (directory's entries with records' roster
    fields, see the module's docstring); term: {starts_on, ends_on} of the semester (ISO).
    Returns (rosters, problems): rosters {roster id: {sheet id: [row]}} with every sheet of the
    column set (rows numbered per sheet from 2, each with `sheet`, `row`, the student's ids and
    names, the sheet's fields, `summary` = (code, name, text) the batch keeps); problems as
    domain.precheck's, each with its `sheet`. A student of `directory` with no held copy
    (selected nothing, or no consent) still has their 學生資料, 成績, 缺勤 and school-entered
    多元表現 rows (their `user_id` from records names them)."""
    outcome_rows, problems = domain.precheck(held, certified, directory, semester, today, school_year)
    out = {r.id: {s.id: [] for s in r.sheets} for r in column_set.rosters}
    sheets = {s.id: (r.id, s) for r in column_set.rosters for s in r.sheets}
    main = {c.field for c in sheets["course_outcomes"][1].columns}
    for row in outcome_rows:
        roster_id, sheet = sheets[row["sheet"]]
        extra = [c for c in sheet.columns_for(tenant) if c.field not in main]
        for field, code in row_problems(extra, row, today):
            problems.append(_problem(row, row["row"], row["outcome_id"], field, code, sheet.id))
        row["summary"] = (row["course_code"], row["subject_name"], row["description"])
        out[roster_id][sheet.id].append(row)

    def add(sheet_id, who, row, extra_problems=()):
        roster_id, sheet = sheets[sheet_id]
        rows = out[roster_id][sheet_id]
        row.update(who, row=len(rows) + 2, sheet=sheet_id)
        rows.append(row)
        for field, code in [*row_problems(sheet.columns_for(tenant), row, today, course_codes), *extra_problems]:
            problems.append(_problem(who, row["row"], row.get("outcome_id"), field, code, sheet_id))

    mine = {str(h["student_id"]) for h in held}
    everyone = list(held) + [{"student_id": sid, "student_user_id": info.get("user_id"), "outcomes": [],
                              "performances": []}
                             for sid, info in directory.items() if sid not in mine and info is not None]
    for h, info in _order(everyone, directory):
        if info is None:
            continue                       # domain.precheck named them: student_unknown
        who = _who(h["student_id"], h["student_user_id"], info)
        add("student_data", who, student_data_row(info, column_set))
        for row in grade_rows(info, semester):
            add("grades", who, row)
        for row in attendance_rows(info, semester, term):
            add("attendance", who, row)
        chosen = [p.get("performance_id") for p in h.get("performances") or ()]
        for sheet_id, row in performance_rows(info, chosen):
            add(sheet_id, who, row, evidence_problems(row))
    return out, problems


def row_count(rosters: dict) -> int:
    return sum(len(rows) for sheets in rosters.values() for rows in sheets.values())
