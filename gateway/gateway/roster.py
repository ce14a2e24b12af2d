"""The registrar's import pages for records item kinds, all on one flow (importflow.py):
upload -> preview (the owning service's dry run, nothing written) -> the same file again with
its SHA-256 and the preview's basis -> import -> report. Any problem in any row refuses the whole
file; the same file twice changes nothing; a record changed since the preview refuses it.

/registrar/roster is the student roster (學籍資料, kind student_profile, its URL kept);
/registrar/imports/<kind> serves every other kind records publishes (e.g. status_change).
PERSONAL DATA: national IDs only ever masked; rows are never logged.
"""
import logging

from flask import Blueprint, make_response, render_template, request, url_for

from . import auth, importflow, sheets
from .schoolcalendar import term_or_none
from .clients import rpc_public
from .errors import ApiError, to_api_error

log = logging.getLogger("gateway.roster")

bp = Blueprint("roster", __name__, url_prefix="/registrar")

ACTION_NAMES = {"created": "新增", "updated": "更新", "unchanged": "無變更"}
GENDER_NAMES = {"1": "男", "2": "女"}
KIND_NAMES = {"student_profile": "學籍資料（學生基本資料）", "status_change": "學籍異動", "attendance": "出缺勤",
              "activity": "幹部、社團、服務學習", "course_grade": "學期成績（學生成績名冊）",
              "elective": "選修課加選名單", "college_application": "大學申請入學日期（封存用）"}
KIND_NAMES.update({k: f"多元表現：{v}" for k, v in importflow.PERFORMANCE_SHEETS.items()})
KIND_HINTS = {
    "student_profile": "學生的登入帳號須先由系統管理者以「匯入人員」建立；本頁依「帳號」欄把學籍連到該帳號。"
                       "出生日期可寫民國年（0940315、94/03/15）或西元（2005-03-15）。",
    "status_change": "每列一筆異動，依學號找到學生。異動類別：重讀、復學、轉入、轉出、轉科、借讀；"
                     "轉學與借讀須填原校或借讀學校代碼（6 碼）。",
    "attendance": "每列一位學生一學期一種假別的節數，依學號找到學生。假別代碼 01–12（也可寫假別名稱，例如事假、曠課）。",
    "course_grade": "每列一位學生一門課一學期的成績，依學號與課程代碼找到學生修的課（學生須已修習）。"
                    "成績為 0–100 的整數；及格、補考及格、是否採計學分可留空（依 60 分判定），與成績不符須在「及格例外」填「是」。"
                    "進修部可加學年學業成績與學年及格（填在第 2 學期的列）。",
    "elective": "選課結束後的加選名單：每列一位學生一門選修課（學號、學年度、學期、課程代碼；同一課程代碼有好幾班開課時填開課班級）。"
                "已在名單上的學生不會重複加選。",
    **{k: "學校單位或校外機構（例如證照中心、競賽主辦單位）提供的名單：每列一筆，依學號找到學生；欄位為全國多元表現名冊該表的欄位。"
          "「來源」填學校單位或校外機構（留空為學校單位）。這些紀錄不計入學生每學年勾選的 10 件；匯入後仍須上傳證明文件。"
          "同一份檔案再匯入一次不會重複新增。" for k in importflow.PERFORMANCE_SHEETS},
    "activity": "每列一筆，依學號找到學生。類別：幹部、社團、公共服務、志工；幹部須填擔任職務，公共服務與志工須填時數。",
    "college_application": "每列一位學生的大學申請入學日期，依學號找到學生；日期可寫民國年（1150301、115/03/01）或西元"
                           "（2026-03-01），不可晚於今天。學生於申請入學五年後封存；已封存學生的日期不能再改。"
                           "同一份檔案再匯入一次不會改變任何資料。",
}
TERM_KINDS = {"student_profile"}  # kinds whose rows belong to a school year's classes


@bp.app_template_filter("change_value")
def change_value(field, value) -> str:
    """A value of a preview's field change as the registrar reads it: birth dates in ROC
    yyyMMdd (as the roster writes them), gender and status in words, an empty one as （空）,
    the former account (not named to the gateway) as （另一個帳號）."""
    from .students import VALUE_NAMES
    if value in (None, ""):
        return "（另一個帳號）" if field == "username" else "（空）"
    if field == "birth_date":
        try:
            y, m, d = (int(x) for x in str(value).split("-"))
            return f"{y - 1911:03d}{m:02d}{d:02d}"
        except ValueError:
            return str(value)
    if field == "gender":
        return GENDER_NAMES.get(str(value), str(value))
    if field == "status":
        return VALUE_NAMES.get(value, value)
    return str(value)


def _need_registrar():
    user = auth.current_user()
    if not user:
        raise ApiError("not_authenticated")
    if "registrar" not in auth.roles(user):
        raise ApiError("not_allowed")
    return user


def parse_term(form, default_year, default_semester=1):
    """(school_year, semester, problem or None) from the form's 學年度 / 學期."""
    try:
        year = int((form.get("school_year") or str(default_year)).strip())
        semester = int((form.get("semester") or str(default_semester)).strip())
    except ValueError:
        return default_year, 1, "學年度與學期須為數字，例如 115 與 1。"
    if not 100 <= year <= 200 or semester not in (1, 2):
        return year, semester, "學年度須為民國年（例如 115），學期為 1 或 2。"
    return year, semester, None


def tenant_school_code(tenant):
    """The school code of the caller's tenant (accounts' tenant table), the profile's default."""
    try:
        return next((t.get("school_code") for t in rpc_public("accounts", "list_tenants") if t["code"] == tenant), None)
    except Exception:  # noqa: BLE001 - the default is a convenience; records accepts none
        return None


def options_for(kind, user, year, semester) -> dict:
    if kind in TERM_KINDS:
        return {"school_year": year, "semester": semester, "school_code": tenant_school_code(user["tenant"])}
    return {}


def _page_error(zh, code="invalid"):
    err = ApiError(code)
    err.zh = zh
    return err


def _form(kind, spec, error=None, status=200, year=None, semester=1):
    return render_template("import_form.html", kind=kind, spec=spec, kind_name=KIND_NAMES.get(kind, kind),
                           hint=KIND_HINTS.get(kind, ""), term=kind in TERM_KINDS, error=error,
                           action=_url(kind), max_mb=sheets.MAX_BYTES // (1024 * 1024), max_rows=sheets.MAX_ROWS,
                           school_year=year or term_or_none()[0], semester=semester), status


def _url(kind):
    from .items import IMPORT_KINDS
    if kind in IMPORT_KINDS:  # a unit's own spreadsheet, under its own pages
        return url_for("items.kind_import", kind=kind)
    return url_for("roster.roster_import") if kind == "student_profile" else url_for("roster.kind_import", kind=kind)


def _need_importer(kind):
    """The registrar's kinds need the registrar; a unit's kind (items.IMPORT_KINDS) is open to
    whoever records lists it for (records.list_import_kinds decides by role)."""
    from .items import IMPORT_KINDS
    if kind not in IMPORT_KINDS:
        return _need_registrar()
    user = auth.current_user()
    if not user:
        raise ApiError("not_authenticated")
    return user


def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"  # personal data: not kept in the browser's cache
    return resp


def import_page(kind):
    user = _need_importer(kind)
    try:
        spec = importflow.kind_spec(kind)
    except ApiError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise to_api_error(exc) from None
    if request.method == "GET":
        return _form(kind, spec, semester=term_or_none()[1] or 1)
    cur_year, cur_semester = term_or_none()
    year, semester, term_problem = parse_term(request.form, cur_year or "", cur_semester or 1)
    if kind in TERM_KINDS and term_problem:
        return _form(kind, spec, _page_error(term_problem), 422, year, semester)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form(kind, spec, ApiError("file_missing"), 422, year, semester)
    data = upload.stream.read(sheets.MAX_BYTES + 1)
    confirm = request.form.get("confirm") == "1"
    error = None
    options = options_for(kind, user, year, semester)
    try:
        report = importflow.run(kind, upload.filename, data, dry_run=True, options=options, spec=spec)
        if confirm and request.form.get("sha256") != report["sha256"]:
            error = _page_error("這個檔案與剛才預覽的檔案內容不同，因此沒有匯入。以下是這個檔案的預覽，確認無誤後請再按「確認匯入」。")
        elif confirm and not report["problems"]:
            report = importflow.run(kind, upload.filename, data, dry_run=False, basis=request.form.get("basis"),
                                    options=options, spec=spec)
            if report["written"]:
                return _no_store(make_response(render_template(
                    "import_report.html", report=report, kind=kind, kind_name=KIND_NAMES.get(kind, kind),
                    school_year=year, semester=semester, term=kind in TERM_KINDS, action=_url(kind),
                    ACTION_NAMES=ACTION_NAMES)))
    except Exception as exc:  # noqa: BLE001 - shown above the form
        err = to_api_error(exc)
        # never log the exception text: it could quote a row; the code says enough to look further
        log.warning("%s import refused: %s (%s)", kind, err.code, type(exc).__name__)
        if err.code == "internal":
            raise
        if err.code == "stale_record":
            err.zh = "預覽之後，有學生資料已被修改（例如有人用表單改了資料），因此沒有匯入。請重新上傳預覽，確認後再匯入。"
        return _form(kind, spec, err, err.status, year, semester)
    if confirm and report["problems"] and error is None:
        error = _page_error("檔案有問題，沒有匯入任何資料。請依下列說明修正後重新上傳。")
    return _preview(kind, report, year, semester, error)


def _preview(kind, report, year, semester, error):
    problem_rows = {p["row"] for p in report["problems"]}
    labels = {c["field"]: c["label"] for c in report["columns"]}
    keys = {r["row"]: r["cells"].get("student_no", "") for r in report["rows"]}
    resp = make_response(render_template(
        "import_preview.html", report=report, kind=kind, kind_name=KIND_NAMES.get(kind, kind),
        labels=labels, keys=keys, problem_rows=problem_rows, problem_row_count=len(problem_rows - {0}),
        classified=bool(report["rows"]) and not report["problems"], school_year=year, semester=semester,
        term=kind in TERM_KINDS, action=_url(kind), error=error, ACTION_NAMES=ACTION_NAMES),
        422 if error else 200)
    return _no_store(resp)


@bp.route("/roster", methods=["GET", "POST"])
def roster_import():
    return import_page("student_profile")


@bp.route("/imports/<kind>", methods=["GET", "POST"])
def kind_import(kind):
    from .items import IMPORT_KINDS
    if kind not in importflow.RPCS or kind in IMPORT_KINDS:
        raise ApiError("not_found")
    return import_page(kind)
