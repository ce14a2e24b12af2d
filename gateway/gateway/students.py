"""The registrar's student profile pages (學生基本資料): list with masked national IDs, the
form (new and edit, with the version the registrar saw), status changes, and the history.

Thin: every rule is records'; a refused field comes back as fields_invalid with per-field codes,
shown beside each field. PERSONAL DATA: the national ID is shown masked; the form's national ID
field starts empty (left empty = unchanged) so the number is never put into a page.
"""
from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from . import auth
from .clients import rpc
from .errors import ApiError, to_api_error
from .roster import tenant_school_code

bp = Blueprint("students", __name__, url_prefix="/registrar/students")

FIELDS = [  # field, label, input kind, hint
    ("student_no", "學號", "text", ""),
    ("name", "姓名", "text", ""),
    ("national_id", "身分證號", "text", "大小寫、全形皆可；系統檢查檢查碼，加密保存。"),
    ("birth_date", "出生日期", "text", "民國 0940315、94/03/15，或西元 2005-03-15。"),
    ("gender", "性別代碼", "select", ""),
    ("class_code", "班級代碼", "text", ""),
    ("class_name", "班級名稱", "text", "新班級須填；已有的班級請留空（沿用該班的名稱，不會因個別學生而改名）。"),
    ("seat_no", "座號", "text", ""),
    ("school_code", "學校代碼", "text", "6 碼。"),
    ("group_code", "群別代碼", "text", ""),
    ("department_code", "科班學程別代碼", "text", ""),
    ("class_type_code", "班別", "select", ""),
    ("division_code", "部別代碼", "text", ""),
    ("enrolment_route", "入學方式代碼", "text", ""),
    ("status", "學籍狀態", "select", ""),
    ("username", "學生帳號", "text", "學生的登入帳號（須已由系統管理者建立）。"),
]
LABELS = {f: label for f, label, _, _ in FIELDS} | {
    "user_id": "學生帳號", "national_id": "身分證號", "class_id": "班級", "class": "班級", "status_changed_on": "學籍異動日期",
    "change": "異動類別", "effective_on": "異動日期", "other_school_code": "原校或借讀學校代碼", "school_year": "學年度",
    "semester": "學期", "note": "備註", "recorded_via": "來源", "voided": "作廢", "void_reason": "作廢原因",
    "description": "簡述", "sha256": "檔案指紋", "file_id": "檔案", "outcome_ids": "課程學習成果"}
CHOICES = {
    "gender": [("", "（未填）"), ("1", "1 男"), ("2", "2 女")],
    "class_type_code": [("", "（未填）"), ("1", "1 日間部（一般班）"), ("2", "2 夜間部"), ("3", "3 實用技能學程"),
                        ("4", "4 建教班"), ("9", "9 實驗班"), ("01", "01 核定班（進修部）"), ("04", "04 員工進修班（進修部）")],
    "status": [("enrolled", "在學"), ("suspended", "休學"), ("transferred_out", "轉出"), ("graduated", "畢業"),
               ("withdrawn", "退學")],
}
CHANGE_NAMES = {"repeat": "重讀", "reinstatement": "復學", "transfer_in": "轉入", "transfer_out": "轉出",
                "department_transfer": "轉科", "visiting_study": "借讀"}
STATUS_NAMES = dict(CHOICES["status"])
ACTION_NAMES = {"created": "新增", "updated": "修改", "status_changed": "學籍狀態變更", "voided": "作廢",
                "national_id_viewed": "檢視完整身分證號", "uploaded": "上傳", "certified": "認證", "returned": "退回",
                "selection_locked": "勾選鎖定"}
VALUE_NAMES = {"repeat": "重讀", "reinstatement": "復學", "transfer_in": "轉入", "transfer_out": "轉出",
               "department_transfer": "轉科", "visiting_study": "借讀", "enrolled": "在學", "suspended": "休學",
               "transferred_out": "轉出", "graduated": "畢業", "withdrawn": "退學", "form": "表單", "import": "匯入",
               "set": "已設定", "changed": "已變更"}
ENTITY_NAMES = {"student": "基本資料", "status_change": "學籍異動", "outcome": "課程學習成果", "selection": "勾選"}


@bp.app_template_filter("value_name")
def value_name(value) -> str:
    """A value of a history row as a person reads it (codes in words, lists joined)."""
    if value is None:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(value_name(v) for v in value) or "（無）"
    if isinstance(value, dict):
        return "；".join(f"{LABELS.get(k, k)} {value_name(v)}" for k, v in value.items())
    return str(VALUE_NAMES.get(value, value)) if isinstance(value, str) else str(value)


def _need_registrar():
    user = auth.current_user()
    if not user:
        raise ApiError("not_authenticated")
    if "registrar" not in auth.roles(user):
        raise ApiError("not_allowed")
    return user


def _options(user):
    from .schoolcalendar import year_semester
    return {"school_year": year_semester()[0], "school_code": tenant_school_code(user["tenant"])}


def form_data(form) -> dict:
    """The posted form as records' profile fields; the username resolved to the account."""
    data = {f: (form.get(f) or "").strip() for f, _, _, _ in FIELDS if f != "username"}
    username = (form.get("username") or "").strip()
    if username:
        found = rpc("accounts", "lookup_users", [username]).get(username)
        data["user_id"] = found["user_id"] if found else None
        data["account_roles"] = ",".join(found["roles"]) if found else ""
    return data


def _field_errors(err) -> dict:
    out = {}
    for field, problems in ((err.fields or {}).get("record") or {}).items():
        out.setdefault("username" if field == "user_id" else field, problems[0]["message_zh"])
    return out


def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("")
def student_list():
    _need_registrar()
    class_code = (request.args.get("class") or "").strip()[:32]
    students = rpc("records", "list_students", class_code or None)
    classes = sorted({(s["class_code"], s["class_name"]) for s in students if s.get("class_code")})
    return _no_store(make_response(render_template(
        "students.html", students=students, classes=classes, class_code=class_code, STATUS_NAMES=STATUS_NAMES)))


def _values(student) -> dict:
    """The form's values for a stored profile: the national ID never (empty = unchanged), the
    birth date in ROC yyyMMdd as the national rosters write it."""
    return dict(student, national_id="", username="", birth_date=student.get("birth_date_roc") or "")


def _form_page(student, values, errors, error=None, status=200, change_values=None, change_errors=None):
    return _no_store(make_response(render_template(
        "student_form.html", student=student, values=values, errors=errors, error=error, FIELDS=FIELDS,
        CHOICES=CHOICES, changes=(rpc("records", "list_status_changes", student["id"]) if student else []),
        CHANGE_NAMES=CHANGE_NAMES, change_values=change_values or {}, change_errors=change_errors or {}), status))


@bp.route("/new", methods=["GET", "POST"])
def student_new():
    user = _need_registrar()
    if request.method == "GET":
        return _form_page(None, {"school_code": tenant_school_code(user["tenant"]) or "", "status": "enrolled"}, {})
    values = request.form.to_dict()
    try:
        created = rpc("records", "create_student", form_data(request.form), _options(user))
    except Exception as exc:  # noqa: BLE001 - shown beside the fields
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        values.pop("national_id", None)  # never echo a national ID back into the page
        return _form_page(None, values, _field_errors(err), err, err.status)
    flash(f"已新增學生 {created['student_no']} {created['name']}。", "ok")
    return redirect(url_for("students.student_edit", student_id=created["id"]))


@bp.route("/<student_id>", methods=["GET", "POST"])
def student_edit(student_id):
    user = _need_registrar()
    student = rpc("records", "get_student", student_id)
    if request.method == "GET":
        return _form_page(student, _values(student), {})
    values = request.form.to_dict()
    values.pop("national_id", None)
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = -1
    data = form_data(request.form)
    if data.get("class_code") != student.get("class_code") and data.get("class_name") == student.get("class_name"):
        # the form came pre-filled with the old class's name: a move to another class does not
        # carry it along (records refuses a name other than the target class's own)
        data["class_name"] = ""
        values["class_name"] = ""
    try:
        saved = rpc("records", "update_student", student_id, data, version, _options(user))
    except Exception as exc:  # noqa: BLE001
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        if err.code == "stale_record":
            err.zh = ("這位學生的資料在您開啟後已被其他人修改，您的修改沒有存入。下方已顯示最新資料，"
                      "請重新修改後再儲存。")
            fresh = rpc("records", "get_student", student_id)
            return _form_page(fresh, _values(fresh), {}, err, 409)
        return _form_page(student, dict(values, version=student["version"]), _field_errors(err), err, err.status)
    flash("已儲存。" if saved["version"] != student["version"] else "沒有變更。", "ok")
    return redirect(url_for("students.student_edit", student_id=student_id))


@bp.post("/<student_id>/status-changes")
def status_change_add(student_id):
    _need_registrar()
    data = {k: (request.form.get(k) or "").strip() for k in ("change", "effective_on", "other_school_code", "note")}
    try:
        rpc("records", "record_status_change", student_id, data)
    except Exception as exc:  # noqa: BLE001
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        student = rpc("records", "get_student", student_id)
        return _form_page(student, _values(student), {}, err, err.status,
                          change_values=data, change_errors=_field_errors(err))
    flash("已新增學籍異動。", "ok")
    return redirect(url_for("students.student_edit", student_id=student_id) + "#status")


@bp.post("/<student_id>/status-changes/<change_id>/void")
def status_change_void(student_id, change_id):
    _need_registrar()
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = -1
    try:
        rpc("records", "void_status_change", change_id, version, request.form.get("reason", ""))
    except Exception as exc:  # noqa: BLE001
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        flash(err.zh, "error")
    else:
        flash("已作廢該筆學籍異動（仍保留於清單中）。", "ok")
    return redirect(url_for("students.student_edit", student_id=student_id) + "#status")


@bp.get("/<student_id>/history")
def student_history(student_id):
    _need_registrar()
    student = rpc("records", "get_student", student_id)
    rows = rpc("records", "get_history", "student", student_id)
    return _no_store(make_response(render_template(
        "student_history.html", student=student, rows=list(reversed(rows)), LABELS=LABELS,
        ACTION_NAMES=ACTION_NAMES, ENTITY_NAMES=ENTITY_NAMES)))
