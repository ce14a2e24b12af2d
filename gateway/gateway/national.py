"""The national side in the gateway: JSON API /api/v1/national and the portal pages of the
registrar (day: 註冊組; ce: 教務組) and the student (我的上傳結果). Thin: every rule is in
submission/national; this module only calls it and renders."""
from flask import Blueprint as FlaskBlueprint
from flask import flash, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from . import auth, schoolcalendar
from .api import refusals
from .auth import login_required
from .clients import rpc, rpc_build
from .downloads import DOWNLOAD_303, DownloadOut, redirect_to_download
from .errors import ApiError, to_api_error

UNIT_NAMES = {"day": "註冊組", "ce": "教務組"}   # who submits: regulation §3, DOMAIN.md
RESULT_NAMES = {"accepted": "已收訖", "refused": "未收訖（退件）", "pending": "待收訖",
                "sealed": "已封存（須經核准的調閱申請）"}
REPORT_STATUS = {"open": "待處理", "corrected": "已更正"}
MAX_RECEIPT_BYTES = 2 * 1024 * 1024

api_bp = Blueprint("api_national", __name__, url_prefix="/api/v1/national",
                   description="National database: pre-check, submissions, receipts, corrections")
bp = FlaskBlueprint("national", __name__)


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class ReportIn(_In):
    message = fields.String(required=True, validate=validate.Length(max=2000))


class ResolutionIn(_In):
    resolution = fields.String(required=True, validate=validate.Length(max=2000))


class ReceiptIn(_In):
    receipt = fields.String(required=True, metadata={"description": "the receipt file's text (JSON national-receipt/1)"})


# ---------------------------------------------------------------- API

@api_bp.route("/<school_year:school_year>/<int:semester>/precheck")
class Precheck(MethodView):
    @login_required
    @api_bp.response(200, description="{school_year, semester, column_set, students, rows, ready, problem_count, "
                                      "rosters: [{roster, name, rows, sheets: [{sheet, name, rows}]}], "
                                      "by_student: [{student_id, student_name, class_name, seat_no, problems: "
                                      "[{sheet, row, outcome_id, field, code, message}]}]}")
    def get(self, school_year, semester):
        """Registrar: every row of every roster of the semester validated before anything is built."""
        return rpc("submission", "national_precheck", school_year, semester)


@api_bp.route("/<school_year:school_year>/<int:semester>/submissions")
class Submit(MethodView):
    @login_required
    @api_bp.response(201, description="the batch: {batch_id, attempt, receipt_id, accepted, refused, check_until, "
                                      "files, package_sha256, ...}")
    def post(self, school_year, semester):
        """Registrar: pre-check, build the rosters and package, send them to the national side and
        import its receipt (a later call resubmits). 422 precheck_failed: nothing built or sent."""
        return rpc("submission", "submit_national", school_year, semester)


@api_bp.route("/<school_year:school_year>/<int:semester>/rosters/<roster>")
class RosterFile(MethodView):
    @login_required
    @api_bp.alt_response(303, schema=DownloadOut, description=DOWNLOAD_303, success=True)
    @refusals(api_bp, "not_found", "not_allowed", "not_locked", "evidence_changed", "storage_unavailable")
    def get(self, school_year, semester, roster):
        """Registrar: download one roster of the semester (`student_data`, `grades`, `attendance`,
        `course_outcomes`, `performances`: xlsx) or the whole package (`package`: the zip with every
        roster, the evidence files and the manifest), built now from the current data, to check
        before submitting. Any size: the file is kept a day by the files service for you alone;
        the answer is a 303 to it (a link valid 60 s for one download) with its metadata as JSON."""
        return redirect_to_download(rpc_build("submission", "national_roster_file", school_year, semester, roster))


@api_bp.route("/<school_year:school_year>/submissions")
class Batches(MethodView):
    @login_required
    @api_bp.response(200, description="{school_year, batches: [...]}")
    def get(self, school_year):
        """Registrar: the tenant's submissions of the year, by semester and attempt."""
        return rpc("submission", "list_national_batches", school_year)


@api_bp.route("/submissions/<batch_id>")
class Batch(MethodView):
    @login_required
    @api_bp.response(200, description="the batch with rows [{roster, row, student_name, class_name, seat_no, "
                                      "course_code, result, code, reason, reports}]; a sealed student's rows "
                                      "carry sealed: true, result `sealed` and name and class only")
    def get(self, batch_id):
        """Registrar: one submission, every row's result and the students' reports."""
        return rpc("submission", "get_national_batch", batch_id)


@api_bp.route("/submissions/<batch_id>/receipt")
class Receipt(MethodView):
    @login_required
    @api_bp.arguments(ReceiptIn)
    @api_bp.response(200, description="the batch with its receipt")
    def post(self, body, batch_id):
        """Registrar: import the receipt file the national side gave for a submission."""
        return rpc("submission", "import_national_receipt", batch_id, body["receipt"])


@api_bp.route("/<school_year:school_year>/my-rows")
class MyRows(MethodView):
    @login_required
    @api_bp.response(200, description="{school_year, today, semesters: [{semester, batch_id, receipt_id, "
                                      "check_until, can_report, rows: [...]}]}")
    def get(self, school_year):
        """Student: 我的上傳結果, the student's own rows in the latest receipts."""
        return rpc("submission", "get_my_national_rows", school_year)


@api_bp.route("/submissions/<batch_id>/rows/<roster>/<int:row>/reports")
class RowReport(MethodView):
    @login_required
    @api_bp.arguments(ReportIn)
    @api_bp.response(201, description="{report_id, batch_id, roster, row, message, reported_at, status}")
    def post(self, body, batch_id, roster, row):
        """Student: report an error in one of your own rows (within the check days)."""
        return rpc("submission", "report_national_row", batch_id, roster, row, body["message"])


@api_bp.route("/<school_year:school_year>/reports")
class Reports(MethodView):
    @login_required
    @api_bp.response(200, description="{school_year, reports: [...]}")
    def get(self, school_year):
        """Registrar: every student report of the year with its row."""
        return rpc("submission", "list_national_reports", school_year)


@api_bp.route("/reports/<report_id>/resolution")
class Resolution(MethodView):
    @login_required
    @api_bp.arguments(ResolutionIn)
    @api_bp.response(200, description="the report, resolved (who, when, what)")
    def post(self, body, report_id):
        """Registrar: record the correction made for a report."""
        return rpc("submission", "resolve_national_report", report_id, body["resolution"])


# ---------------------------------------------------------------- portal pages

def _need(*roles):
    if not auth.current_user():
        raise ApiError("not_authenticated")
    if not auth.roles() & set(roles):
        raise ApiError("not_allowed")


def _term():
    """The asked term, else the current one of the school calendar (calendar_not_set otherwise)."""
    year, semester = request.values.get("year", type=int), request.values.get("semester", type=int)
    if year is None or semester is None:
        current_year, current_semester = schoolcalendar.year_semester()
        year, semester = year or current_year, semester or current_semester
    return year, semester


def _attempt(call):
    """(result, error): an ApiError the page shows in zh-TW instead of an error page."""
    try:
        return call(), None
    except Exception as exc:  # noqa: BLE001
        error = to_api_error(exc)
        if error.code == "internal":
            raise
        return None, error


@bp.app_context_processor
def _names():
    return {"UNIT_NAMES": UNIT_NAMES, "RESULT_NAMES": RESULT_NAMES, "REPORT_STATUS": REPORT_STATUS}


@bp.route("/national", methods=["GET", "POST"])
def registrar():
    """Pre-check, submit, submissions and reports of one term (registrar)."""
    _need("registrar")
    year, semester = _term()
    error = None
    if request.method == "POST":
        batch, error = _attempt(lambda: rpc("submission", "submit_national", year, semester))
        if batch:
            flash(f"已上傳第 {batch['attempt']} 次：收訖 {batch.get('accepted') or 0} 列、"
                  f"退件 {batch.get('refused') or 0} 列（收訖編號 {batch.get('receipt_id') or '尚未匯入'}）。", "ok")
            return redirect(url_for("national.batch", batch_id=batch["batch_id"]))
    check, check_error = _attempt(lambda: rpc("submission", "national_precheck", year, semester))
    batches = rpc("submission", "list_national_batches", year)["batches"]
    reports = rpc("submission", "list_national_reports", year)["reports"]
    return render_template("national.html", year=year, semester=semester, check=check,
                           check_error=check_error, batches=batches, reports=reports,
                           error=error), (error.status if error else 200)


@bp.route("/national/files/<roster>")
def roster_file(roster):
    """A roster or the package of the asked term as a download (a 303 to the files service,
    downloads.py); a refusal comes back to the page as a zh-TW message."""
    _need("registrar")
    year, semester = _term()
    f, error = _attempt(lambda: redirect_to_download(rpc_build("submission", "national_roster_file", year, semester, roster)))
    if error:
        flash(error.zh, "warn")
        return redirect(url_for("national.registrar", year=year, semester=semester))
    return f


@bp.route("/national/batches/<batch_id>", methods=["GET", "POST"])
def batch(batch_id):
    """One submission: rows and results, receipt import, students' reports and corrections."""
    _need("registrar")
    error = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "receipt":
            upload = request.files.get("receipt")
            raw = upload.stream.read(MAX_RECEIPT_BYTES + 1) if upload else b""
            if len(raw) > MAX_RECEIPT_BYTES:
                raw = b""
            text = raw.decode("utf-8", "replace")
            _, error = _attempt(lambda: rpc("submission", "import_national_receipt", batch_id, text))
            if not error:
                flash("已匯入收訖明細。", "ok")
        elif action == "resolve":
            _, error = _attempt(lambda: rpc("submission", "resolve_national_report",
                                            request.form.get("report_id", ""), request.form.get("resolution", "")))
            if not error:
                flash("已記錄更正。更正資料後請重新上傳本學期。", "ok")
        if not error:
            return redirect(url_for("national.batch", batch_id=batch_id))
    data = rpc("submission", "get_national_batch", batch_id)
    return render_template("national_batch.html", b=data, error=error), (error.status if error else 200)


@bp.route("/my/national", methods=["GET", "POST"])
def my_rows():
    """我的上傳結果: the student's rows and a report form while the check days last."""
    _need("student")
    year = request.values.get("year", type=int) or schoolcalendar.year_semester()[0]
    error = None
    if request.method == "POST":
        _, error = _attempt(lambda: rpc("submission", "report_national_row", request.form.get("batch_id", ""),
                                        request.form.get("roster", ""), request.form.get("row", type=int),
                                        request.form.get("message", "")))
        if not error:
            flash("已送出錯誤回報，學校會更正後重新上傳。", "ok")
            return redirect(url_for("national.my_rows", year=year))
    data = rpc("submission", "get_my_national_rows", year)
    return render_template("my_national.html", data=data, year=year, error=error), (error.status if error else 200)
