"""The pages of the staff-entered items (issue 8 items 4-8): each unit's list by class, its form
and (where the unit keeps a spreadsheet) its import; the homeroom teacher's class view; the
student's own record (我的紀錄).

Thin: records decides who may write and read (a unit's list of another unit's kind, a teacher of
another class, another student: not found / not allowed from records) and every field rule; a
refused field comes back as fields_invalid with per-field codes, shown beside each field.
"""
import re

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from . import auth
from .schoolcalendar import term_or_none
from .clients import file_link, files_public_url, files_token, rpc, rpc_many, upload_limits
from .errors import ApiError, to_api_error

bp = Blueprint("items", __name__)

# slug -> the kind: its name, the unit that enters it, its RPCs and form fields
# (field, label, input: text|textarea|date|time|select|number, hint, required)
KINDS = {
    "consultations": {
        "kind": "consultation", "title": "課程諮詢紀錄", "unit": "consultation_teacher",
        "list": "list_consultations", "record": "record_consultation", "void": "void_consultation",
        "note": "課程諮詢紀錄只留在學校，不會匯出或上傳。學生本人、導師與輔導教師可閱覽。",
        "fields": [("held_on", "日期", "date", "民國 115/11/03 或西元 2026-11-03。", True),
                   ("held_at", "時間", "time", "例如 12:10 或 12:10-13:00。", True),
                   ("place", "地點", "text", "", True),
                   ("content", "諮詢內容", "textarea", "500 字以內。", True),
                   ("advice", "建議", "textarea", "500 字以內。", True)]},
    "career": {
        "kind": "career_assessment", "title": "學群探索與就業規劃", "unit": "guidance_counsellor",
        "list": "list_career_assessments", "record": "record_career_assessment", "void": "void_career_assessment",
        "note": "由輔導教師填寫；學生本人與導師可閱覽。",
        "fields": [("assessed_on", "評估日期", "date", "民國 115/10/01 或西元 2026-10-01。", True),
                   ("instrument", "評量工具", "text", "例如：大學學群興趣量表（可留空）。", False),
                   ("suggested_groups", "建議學群", "text", "100 字以內，例如：資訊學群、數理化學群。", True),
                   ("career_plan", "升學與就業規劃建議", "textarea", "500 字以內。", True)]},
    "attendance": {
        "kind": "attendance", "title": "出缺勤", "unit": "discipline_section", "import": "attendance",
        "list": "list_attendance", "record": "record_attendance", "void": "void_attendance",
        "note": "每位學生每學期每種假別一筆節數；假別代碼為全國缺勤紀錄名冊的 01–12。",
        "fields": [("school_year", "學年度", "number", "民國年，例如 115。", True),
                   ("semester", "學期", "select", "", True),
                   ("absence_code", "假別", "select", "", True),
                   ("periods", "節數", "number", "0–999。", True)]},
    "activities": {
        "kind": "activity", "title": "幹部、社團、服務學習", "unit": "activities_section", "import": "activity",
        "list": "list_activities", "record": "record_activity", "void": "void_activity",
        "note": "幹部須填擔任職務；公共服務與志工須填時數。",
        "fields": [("school_year", "學年度", "number", "民國年，例如 115。", True),
                   ("semester", "學期", "select", "", True),
                   ("category", "類別", "select", "", True),
                   ("name", "名稱", "text", "單位、社團或服務名稱，50 字以內。", True),
                   ("position", "擔任職務", "text", "幹部、社團幹部填寫。", False),
                   ("hours", "時數", "number", "公共服務、志工填寫。", False),
                   ("started_on", "開始日期", "date", "", False),
                   ("ended_on", "結束日期", "date", "", False),
                   ("description", "內容簡述", "textarea", "100 字以內。", False)]},
    "competitions": {
        "kind": "competition", "title": "校內競賽", "unit": "organising_unit",
        "list": "list_competitions", "record": "record_competition", "void": "void_competition",
        "note": "由承辦單位登錄名稱、項目內容與結果，並上傳證明文件；學生本人與導師可閱覽與下載證明。",
        "proof": True,
        "fields": [("name", "競賽名稱", "text", "100 字以內。", True),
                   ("content", "項目與內容", "textarea", "500 字以內。", True),
                   ("result", "結果（獎項）", "text", "例如：第一名、佳作。", True),
                   ("announced_on", "結果公布日期", "date", "民國 115/11/10 或西元 2026-11-10。", True)]},
    "grades": {
        "kind": "course_grade", "title": "修課紀錄（學期成績）", "unit": "registrar", "import": "course_grade",
        "list": "list_course_grades", "record": "record_course_grade", "void": "void_course_grade",
        "note": "學生成績名冊的欄位：成績為 0–100 的整數，60 分及格；及格與否、是否採計學分可留空（依成績判定），"
                "與成績不符時須由學校核定例外。學生須已修習該課程（選修課由選課承辦人加選）。"
                "進修部以節數計，學年成績填在第 2 學期。",
        # shown beside the fields (from the section), not typed
        "shown": [("subject_name", "科目名稱"), ("credits", "學分"), ("class_hours", "節數")],
        "fields": [("school_year", "學年度", "number", "民國年，例如 115。", True),
                   ("semester", "學期", "select", "", True),
                   ("course_code", "課程代碼", "text", "例如 115050407H11A0101。", True),
                   ("semester_grade", "學期學業成績", "number", "0–100 的整數。", True),
                   ("passed", "成績及格", "select", "", False),
                   ("makeup_grade", "補考成績", "number", "學期成績未及格才填。", False),
                   ("makeup_passed", "補考及格", "select", "", False),
                   ("credit_counted", "是否採計學分（學時）", "select", "", False),
                   ("pass_exception", "及格例外（學校核定）", "select", "", False),
                   ("remark", "質性文字描述", "textarea", "200 字以內（可留空）。", False),
                   ("yearly_grade", "學年學業成績（進修部）", "number", "第 2 學期填寫。", False),
                   ("yearly_passed", "學年及格（進修部）", "select", "", False)]},
}
BY_KIND = {v["kind"]: slug for slug, v in KINDS.items()}
IMPORT_KINDS = {v["import"]: slug for slug, v in KINDS.items() if v.get("import")}
IMPORT_KINDS["elective"] = None  # the elective officer's list after course selection: an import, no item list
# performances the school or an external body reports (the registrar, the organising unit)
IMPORT_KINDS.update({k: None for k in ("performance_competition", "performance_licence",
                                       "performance_work_based_learning", "performance_work",
                                       "performance_advanced_course", "performance_other")})
CHOICES = {
    "semester": [("1", "第 1 學期"), ("2", "第 2 學期")],
    "absence_code": [(c, f"{c} {n}") for c, n in (
        ("01", "公假"), ("02", "事假"), ("03", "病假"), ("04", "婚假"), ("05", "產前假"), ("06", "娩假"),
        ("07", "陪產假"), ("08", "流產假"), ("09", "育嬰假"), ("10", "生理假"), ("11", "喪假"), ("12", "曠課"))],
    "category": [("cadre", "幹部"), ("club", "社團"), ("service", "公共服務"), ("volunteer", "志工")],
}
_FLAG = [("", "依成績判定"), ("是", "是"), ("否", "否")]
CHOICES.update({f: _FLAG for f in ("passed", "makeup_passed", "credit_counted", "yearly_passed")})
CHOICES["pass_exception"] = [("", "否"), ("是", "是")]
VALUE_NAMES = {f: dict(c) for f, c in CHOICES.items()}
VALUE_NAMES["recorded_via"] = {"form": "表單", "import": "匯入"}
UNIT_ROLES = {v["unit"] for v in KINDS.values()}


def _user():
    user = auth.current_user()
    if not user:
        raise ApiError("not_authenticated")
    return user


def _spec(slug):
    if slug not in KINDS:
        raise ApiError("not_found")
    return KINDS[slug]


def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"  # personal data: not kept in the browser's cache
    return resp


def _field_errors(err) -> dict:
    return {field: problems[0]["message_zh"] for field, problems in ((err.fields or {}).get("record") or {}).items()}


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def roc_date(value) -> str:
    """An ISO date as the portal shows dates of a student's record: the ROC calendar, the form
    the school's pages ask for (民國 115/03/05 for 2026-03-05); anything else as it is. Exports
    keep their own formats (ROC yyyMMdd in the national rosters)."""
    m = _ISO_DATE.match(str(value or ""))
    if not m:
        return "" if value is None else str(value)
    year = int(m.group(1)) - 1911
    return f"{year}/{m.group(2)}/{m.group(3)}" if year > 0 else str(value)


def roc_time(value) -> str:
    """An ISO timestamp (UTC) in school time with an ROC date: 115/11/29 08:31."""
    if not value:
        return ""
    import datetime as dt
    from zoneinfo import ZoneInfo
    when = dt.datetime.fromisoformat(str(value)).astimezone(ZoneInfo("Asia/Taipei"))
    return f"{roc_date(when.date().isoformat())} {when:%H:%M}"


def shown(field, value):
    """A stored value as a person reads it (codes in words, dates in the ROC calendar)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) and _ISO_DATE.match(value):
        return roc_date(value)
    return VALUE_NAMES.get(field, {}).get(str(value), str(value))


def history_value(field, value):
    """A value of a history row: as shown(), with an empty one said in words."""
    if value is None or value == "":
        return "（空）"
    if isinstance(value, (list, dict)):
        return str(value)
    return shown(field, value)


@bp.app_context_processor
def _helpers():
    return {"item_value": shown, "history_value": history_value, "ITEM_KINDS": KINDS, "ITEM_UNITS": UNIT_ROLES}


@bp.app_template_filter("roc_date")
def _roc_date_filter(value):
    return roc_date(value)


@bp.app_template_filter("roc_time")
def _roc_time_filter(value):
    return roc_time(value)


@bp.get("/records/<slug>")
def kind_list(slug):
    """A unit's (or a reader's) list of one kind by class."""
    spec = _spec(slug)
    user = _user()
    classes = [c for c in rpc("records", "list_item_classes") if spec["kind"] in c["kinds"]]
    class_code = (request.args.get("class") or "").strip()[:32] or (classes[0]["code"] if classes else "")
    # a class the reader may not see (another tenant's, another homeroom's, a typo) is named as
    # such, never shown as "this class has no students"
    unknown_class = bool(class_code) and not any(c["code"] == class_code for c in classes)
    rows = rpc("records", spec["list"], None, class_code) if class_code and not unknown_class else []
    writer = spec["unit"] in auth.roles(user)
    limits = upload_limits(term_or_none()[0]) if writer and spec.get("proof") else None
    return _no_store(make_response(render_template(
        "items_list.html", slug=slug, spec=spec, classes=classes, class_code=class_code, rows=rows,
        writer=writer, limits=limits, unknown_class=unknown_class), 404 if unknown_class else 200))


def _form(slug, spec, student, values, errors, error=None, status=200):
    return _no_store(make_response(render_template(
        "item_form.html", slug=slug, spec=spec, student=student, values=values, errors=errors, error=error,
        CHOICES=CHOICES), status))


def _student(spec, student_id, class_code):
    """The student's card from the class list the writer may read (records decides)."""
    for row in rpc("records", spec["list"], None, class_code):
        if row["student"]["id"] == student_id:
            return row["student"]
    raise ApiError("not_found")


@bp.route("/records/<slug>/new", methods=["GET", "POST"])
def kind_new(slug):
    spec = _spec(slug)
    user = _user()
    if spec["unit"] not in auth.roles(user):
        raise ApiError("not_allowed")
    student_id = (request.values.get("student") or "").strip()[:64]
    class_code = (request.values.get("class") or "").strip()[:32]
    student = _student(spec, student_id, class_code)
    if request.method == "GET":
        year, semester = term_or_none()  # the school calendar's current term (blank when not set)
        defaults = {"school_year": str(year or ""), "semester": str(semester or "")}
        return _form(slug, spec, student, defaults, {})
    data = {f: (request.form.get(f) or "").strip() for f, *_ in spec["fields"]}
    try:
        rpc("records", spec["record"], student_id, data)
    except Exception as exc:  # noqa: BLE001 - shown beside the fields
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        return _form(slug, spec, student, data, _field_errors(err), err, err.status)
    flash(f"已新增 {student['student_no']} {student['name']} 的{spec['title']}。", "ok")
    return redirect(url_for("items.kind_list", slug=slug, **{"class": class_code}) + f"#s-{student_id}")


@bp.post("/records/<slug>/<item_id>/void")
def kind_void(slug, item_id):
    spec = _spec(slug)
    _user()
    class_code = (request.form.get("class") or "").strip()[:32]
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = -1
    try:
        rpc("records", spec["void"], item_id, version, request.form.get("reason", ""))
    except Exception as exc:  # noqa: BLE001
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        flash(err.zh, "error")
    else:
        flash("已作廢該筆紀錄（仍保留於清單中）。", "ok")
    return redirect(url_for("items.kind_list", slug=slug, **{"class": class_code}))


def item_proof_ticket(spec, item_id) -> dict:
    """records checks the caller enters this kind and the item is live, and signs a ticket; the
    client sends the bytes to the files service itself (as for course outcomes)."""
    from .flows import TICKET_TTL_S
    if not spec.get("proof"):
        raise ApiError("not_found")
    t = rpc("records", "issue_item_proof_ticket", spec["kind"], item_id)
    base = files_public_url()
    return t | {"files_token": files_token(), "upload_url": base + "/v1/files",
                "resumable_url": base + "/v1/uploads", "expires_in": TICKET_TTL_S}


def proof_redirect(spec, item_id, download=False):
    """records decides who reads the item and signs a read grant; files checks it and answers a
    short-lived link: the browser goes there (no file byte passes through the gateway)."""
    if not spec.get("proof"):
        raise ApiError("not_found")
    return granted_redirect(rpc("records", "grant_item_proof_read", spec["kind"], item_id), download)


def granted_redirect(g, download=False):
    """302 to the files service's short-lived link for records' read grant g {file_id, grant}."""
    resp = make_response("", 302)
    resp.headers["Location"] = file_link(g["file_id"], "attachment" if download else "inline", g["grant"])
    return _no_store(resp)


@bp.post("/records/<slug>/proof-ticket")
def kind_proof_ticket(slug):
    """JSON for upload.js: a ticket for the chosen item's proof (CSRF header required)."""
    spec = _spec(slug)
    _user()
    body = request.get_json(silent=True) or {}
    try:
        return item_proof_ticket(spec, str(body.get("item_id") or "")), 201
    except Exception as exc:  # noqa: BLE001 - answered as JSON with the sentence to show
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        return err.body(), err.status


@bp.get("/records/<slug>/<item_id>/proof")
def kind_proof(slug, item_id):
    """The proof file of an item, for its readers (records and files decide)."""
    spec = _spec(slug)
    _user()
    return proof_redirect(spec, item_id, request.args.get("download") == "1")


HISTORY_ACTIONS = {"created": "新增", "updated": "修改", "voided": "作廢", "proof_attached": "上傳證明文件"}
HISTORY_LABELS = {"voided": "已作廢", "void_reason": "作廢原因", "recorded_via": "登錄方式",
                  "proof_filename": "證明文件", "proof_sha256": "證明文件指紋（SHA-256）",
                  "school_year": "學年度", "semester": "學期"}


@bp.get("/records/<slug>/<item_id>/history")
def kind_history(slug, item_id):
    """One item's history (who, when, before -> after, void reasons) for whoever may read the
    item (records decides: anyone else reads it as not found)."""
    spec = _spec(slug)
    _user()
    rows = rpc("records", "get_history", spec["kind"], item_id)
    labels = {f: label for f, label, *_ in spec["fields"]} | HISTORY_LABELS
    return _no_store(make_response(render_template(
        "item_history.html", slug=slug, spec=spec, rows=rows, labels=labels, actions=HISTORY_ACTIONS,
        back=request.referrer if (request.referrer or "").startswith(request.host_url) else None)))


@bp.route("/records/imports/<kind>", methods=["GET", "POST"])
def kind_import(kind):
    """A unit's spreadsheet, on the one import flow (roster.import_page)."""
    from .roster import import_page
    if kind not in IMPORT_KINDS:
        raise ApiError("not_found")
    return import_page(kind)


@bp.get("/records/imports/performances")
def performance_imports():
    """The sheets of the 多元表現名冊 the registrar and the organising unit may import."""
    from .importflow import PERFORMANCE_SHEETS
    user = _user()
    if not auth.roles(user) & {"registrar", "organising_unit"}:
        raise ApiError("not_allowed")
    return _no_store(make_response(render_template("performance_imports.html", sheets=PERFORMANCE_SHEETS)))


@bp.get("/records/class")
def class_view():
    """The homeroom teacher's class: every kind of item of every student at a glance."""
    _user()
    classes = rpc("records", "list_item_classes")
    class_code = (request.args.get("class") or "").strip()[:32] or (classes[0]["code"] if classes else "")
    view = rpc("records", "get_class_records", class_code) if class_code else None
    from .performances import ENTERED_BY, STATES
    return _no_store(make_response(render_template(
        "items_class.html", classes=classes, class_code=class_code, view=view, BY_KIND=BY_KIND,
        PERF_ENTERED_BY=ENTERED_BY, PERF_STATES=STATES)))


@bp.get("/me/records")
def my_records():
    """我的紀錄: everything the school units entered about the calling student."""
    _user()
    # the student's items and the items an earlier school's transfer package brought
    # (records/transferin, read only), asked at once; a refusal of the second (a sealed student
    # reads them only through the two-role request) shows none, the first is the page
    mine, transferred = rpc_many(("records", "get_my_records"), ("records", "list_transfer_imports", None),
                                 settled=True)
    if isinstance(mine, Exception):
        raise mine
    transferred = {"imports": []} if isinstance(transferred, Exception) else transferred
    return _no_store(make_response(render_template(
        "items_mine.html", mine=mine, BY_KIND=BY_KIND, view=transferred,
        file_base=url_for("transfer.my_transferred_file", file_id="__FILE__"))))


# ------------------------------------------------------------------ autobiography and study plan

AUTO_FIELDS = [("autobiography", "自傳", "3000 字以內（可留空）。", False, 3000),
               ("career_plan", "生涯規劃（學習計畫）", "1000 字以內。", True, 1000),
               ("expectations", "自我期許", "1000 字以內。", True, 1000),
               ("strengths", "優勢", "1000 字以內。", True, 1000),
               ("interests", "興趣", "1000 字以內。", True, 1000)]
AUTO_STATUS = {"submitted": "待審閱", "returned": "已退回修改", "approved": "已核可"}


def _auto_page(template, status=200, **kw):
    return _no_store(make_response(render_template(template, AUTO_FIELDS=AUTO_FIELDS, AUTO_STATUS=AUTO_STATUS, **kw),
                                   status))


@bp.route("/me/autobiography", methods=["GET", "POST"])
def my_autobiography():
    """The student writes the autobiography and study plan; each save is a new version."""
    _user()
    mine = rpc("records", "get_autobiography", None)
    latest = mine["versions"][0] if mine["versions"] else None
    if request.method == "GET":
        return _auto_page("autobiography_mine.html", mine=mine, values=latest or {}, errors={})
    data = {f: request.form.get(f) or "" for f, *_ in AUTO_FIELDS}
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = -1
    try:
        saved = rpc("records", "write_autobiography", data, version)
    except Exception as exc:  # noqa: BLE001 - shown beside the fields
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        if err.code == "stale_record":
            err.zh = "您開啟頁面之後已另存了較新的版本，這次的內容沒有存入。請確認下方最新版本後再修改。"
            return _auto_page("autobiography_mine.html", err.status, mine=mine, values=latest or {}, errors={}, error=err)
        return _auto_page("autobiography_mine.html", err.status, mine=mine, values=data, errors=_field_errors(err),
                          error=err)
    flash(f"已儲存第 {saved['version_no']} 版，送交輔導教師或導師審閱。", "ok")
    return redirect(url_for("items.my_autobiography"))


@bp.get("/records/autobiographies")
def autobiography_list():
    """A counsellor's (any class) or homeroom teacher's (their class) list of the latest versions."""
    _user()
    classes = rpc("records", "list_item_classes")
    class_code = (request.args.get("class") or "").strip()[:32] or (classes[0]["code"] if classes else "")
    rows = rpc("records", "list_class_autobiographies", class_code) if class_code else []
    return _auto_page("autobiography_list.html", classes=classes, class_code=class_code, rows=rows)


@bp.route("/records/autobiographies/<student_id>", methods=["GET", "POST"])
def autobiography_review(student_id):
    """Every version of one student's autobiography; approve or return the latest with a comment."""
    _user()
    error = None
    if request.method == "POST":
        try:
            rpc("records", "review_autobiography", request.form.get("version_id", ""),
                request.form.get("decision", ""), request.form.get("comment", ""))
        except Exception as exc:  # noqa: BLE001
            error = to_api_error(exc)
            if error.code == "internal":
                raise
        else:
            flash("已核可。" if request.form.get("decision") == "approve" else "已退回，學生會看到您的意見。", "ok")
            return redirect(url_for("items.autobiography_review", student_id=student_id))
    data = rpc("records", "get_autobiography", student_id)
    return _auto_page("autobiography_student.html", error.status if error else 200, data=data, error=error,
                      errors=_field_errors(error) if error else {})
