"""Transfer packages in the gateway (issue 9 item 8): JSON API and the portal pages of the
registrar (a student's 轉學檔案) and of the student (我的轉學檔案). Thin: the package is built
and signed by submission (submission/transfer) and kept by the files service for the one who
asked; this module calls it and sends the browser or API client there (downloads.py): no byte
of the package passes through the gateway. docs/transfer-package.md describes the format."""
import re

from flask import Blueprint as FlaskBlueprint
from flask import flash, make_response, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields

from . import auth
from .api import refusals
from .auth import login_required
from .clients import rpc, rpc_build
from .downloads import DOWNLOAD_303, DownloadOut, redirect_to_download
from .errors import ApiError
from .national import _attempt, _need

api_bp = Blueprint("api_transfer", __name__, url_prefix="/api/v1",
                   description="Transfer packages (portfolio-transfer/1, docs/transfer-package.md): a student's "
                               "portfolio for another school")
bp = FlaskBlueprint("transfer", __name__)

REFUSALS = ("not_found", "not_allowed", "transfer_evidence_changed", "student_sealed", "storage_unavailable")


def _download(f):
    """303 to the files service (a ticket for one download, 60 s); X-Transfer-Key-Id names the
    key that signed the manifest."""
    resp = redirect_to_download(f, key_id=f["key_id"])
    resp.headers["X-Transfer-Key-Id"] = f["key_id"]
    return resp


# ---------------------------------------------------------------- API

@api_bp.route("/students/<student_id>/transfer-package")
class StudentTransferPackage(MethodView):
    @login_required
    @api_bp.alt_response(303, schema=DownloadOut, description=DOWNLOAD_303, success=True)
    @refusals(api_bp, *REFUSALS)
    def get(self, student_id):
        """Registrar: one student's portfolio as a signed transfer package (profile, course records,
        course outcomes with their certification, performances, autobiography versions, evidence
        files), for another school. Any size: the package is kept a day by the files service for
        you alone; the answer is a 303 to it (a link valid 60 s for one download) with its metadata
        (sha256, key_id) as JSON. 404 not_found (no such student in your tenant), 409
        transfer_evidence_changed, 503 storage_unavailable."""
        return _download(rpc_build("submission", "export_transfer_package", student_id))


@api_bp.route("/me/transfer-package")
class MyTransferPackage(MethodView):
    @login_required
    @api_bp.alt_response(303, schema=DownloadOut, description=DOWNLOAD_303, success=True)
    @refusals(api_bp, *REFUSALS)
    def get(self):
        """Student: your own portfolio as a signed transfer package, to hand to a new school
        (learner-controlled transfer). Same answer (a 303 to the files service) and refusals as the
        registrar's."""
        return _download(rpc_build("submission", "export_transfer_package", None))


# ---------------------------------------------------------------- portal

def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/students/<student_id>/transfer")
def student_page(student_id):
    """The registrar's 轉學檔案 page of one student: what the package holds, the download."""
    _need("registrar")
    student = rpc("records", "get_student", student_id)
    return _no_store(make_response(render_template("transfer.html", student=student, mine=False)))


@bp.get("/students/<student_id>/transfer/package")
def student_package(student_id):
    _need("registrar")
    resp, error = _attempt(lambda: _download(rpc_build("submission", "export_transfer_package", student_id)))
    if error:
        flash(error.zh, "warn")
        return redirect(url_for("transfer.student_page", student_id=student_id))
    return resp


@bp.get("/me/transfer")
def my_page():
    """The student's own 我的轉學檔案 page."""
    _need("student")
    student = rpc("records", "get_my_profile")
    return _no_store(make_response(render_template("transfer.html", student=student, mine=True)))


@bp.get("/me/transfer/package")
def my_package():
    _need("student")
    resp, error = _attempt(lambda: _download(rpc_build("submission", "export_transfer_package", None)))
    if error:
        flash(error.zh, "warn")
        return redirect(url_for("transfer.my_page"))
    return resp


# ================================================================ import (the receiving school)
# The registrar uploads another school's package for a student of their tenant: the ticket here
# (records), the bytes straight to the files service, the checks and the store in submission
# (submission/transfer/importing.py), the imported items read from records. Thin: no rule here.

IMPORT_REFUSALS = ("not_found", "not_allowed", "student_sealed", "transfer_package_invalid",
                   "transfer_signature_invalid", "transfer_file_mismatch", "transfer_student_mismatch",
                   "transfer_same_school", "storage_unavailable")


class FileIdIn(Schema):
    class Meta:
        unknown = EXCLUDE
    file_id = fields.String(required=True, metadata={"description": "the uploaded package's file_id (files' answer)"})


class EvidenceQuery(Schema):
    class Meta:
        unknown = EXCLUDE
    download = fields.Boolean(load_default=False, metadata={"description": "as an attachment"})


def transfer_max_bytes() -> int:
    """The largest package the files service takes (its TRANSFER_MAX_BYTES); 200 MB when it
    does not say."""
    from .clients import _files_get
    try:
        return int(_files_get("/v1/limits").json().get("transfer_max_bytes") or 0) or 200 * 1024 * 1024
    except (ApiError, ValueError, TypeError, AttributeError):
        return 200 * 1024 * 1024


def import_ticket(student_id) -> dict:
    """records checks the registrar and the student and signs the ticket; the client sends the
    zip to the files service itself (one request or tus)."""
    from .clients import files_public_url, files_token
    from .flows import TICKET_TTL_S
    t = rpc("records", "issue_transfer_ticket", student_id)
    base = files_public_url()
    return t | {"files_token": files_token(), "upload_url": base + "/v1/files",
                "resumable_url": base + "/v1/uploads", "expires_in": TICKET_TTL_S,
                "max_bytes": transfer_max_bytes()}


def evidence_redirect(student_id, file_id, download):
    """records decides who reads the student's imported items and signs a read grant; files
    checks it and answers a short-lived link: the browser goes there."""
    from .items import granted_redirect
    return granted_redirect(rpc("records", "grant_transfer_evidence_read", student_id, file_id), download)


@api_bp.route("/students/<student_id>/transfer-imports/tickets")
class TransferImportTicket(MethodView):
    @login_required
    @api_bp.response(201, description="{student_id, ticket, files_token, upload_url, resumable_url, expires_in, "
                                      "max_bytes}: send the zip to the files service (X-Upload-Ticket)")
    @refusals(api_bp, "not_found", "not_allowed", "student_sealed")
    def post(self, student_id):
        """Registrar: an upload ticket (15 min) for another school's transfer package of a student
        of your tenant. The zip goes to the files service (upload_url, or tus at resumable_url),
        which answers its file_id; files refuses anything but a zip (file_type_refused) and
        anything over max_bytes (file_too_large)."""
        return import_ticket(student_id)


@api_bp.route("/students/<student_id>/transfer-imports/preview")
class TransferImportPreview(MethodView):
    @login_required
    @api_bp.arguments(FileIdIn)
    @api_bp.response(200, description="{file_id, package_sha256, origin: {school_code, tenant}, exported_at, "
                                      "exported_by, signature: {key_id, verified}, counts: {kind: n}, evidence, "
                                      "theirs: {student_no, name, birth_date}, ours: {student_id, student_no, "
                                      "name, class_name}, already_imported}")
    @refusals(api_bp, *IMPORT_REFUSALS)
    def post(self, body, student_id):
        """Registrar: check an uploaded package (docs/transfer-package.md "Checking a package")
        and that it is this student's (the national IDs compared by the service that keeps
        them), and say what importing it would store. Nothing is stored. A package signed with
        a key this school does not know is shown unverified, not refused."""
        return rpc("submission", "preview_transfer_import", student_id, body["file_id"])


@api_bp.route("/students/<student_id>/transfer-imports")
class TransferImports(MethodView):
    @login_required
    @api_bp.arguments(FileIdIn)
    @api_bp.response(201, description="{import_id, created, package_sha256, items, evidence}; 200 when this "
                                      "package was imported for the student before (nothing changed)")
    @refusals(api_bp, *IMPORT_REFUSALS)
    def post(self, body, student_id):
        """Registrar: import the uploaded package (after its preview): its items are kept read
        only, labelled 轉入 with the origin school code, its evidence files with their
        fingerprints. Checked again first; idempotent by the zip's SHA-256. Imported items count
        toward none of this school's limits and are not sent to the national side."""
        out = rpc("submission", "import_transfer_package", student_id, body["file_id"])
        return out, 201 if out.get("created") else 200

    @login_required
    @api_bp.response(200, description="{student_id, imports: [{import_id, origin_school_code, origin_tenant, "
                                      "verified, exported_at, package_sha256, imported_at, imported_by_username, "
                                      "origin_student, items: [{id, kind, kind_label, school_year, item}], "
                                      "files: [{file_id, sha256, filename, content_type, size}]}]}")
    @refusals(api_bp, "not_found")
    def get(self, student_id):
        """A student's imported items (read only): the tenant's registrar, the homeroom teacher
        of the student's class, the student. Anyone else: 404 not_found."""
        return rpc("records", "list_transfer_imports", student_id)


@api_bp.route("/me/transfer-imports")
class MyTransferImports(MethodView):
    @login_required
    @api_bp.response(200, description="the shape of GET /students/{student_id}/transfer-imports")
    @refusals(api_bp, "not_allowed", "not_found")
    def get(self):
        """Student: the items your earlier school's package brought (read only)."""
        return rpc("records", "list_transfer_imports", None)


@api_bp.route("/students/<student_id>/transfer-imports/files/<file_id>")
class TransferImportFile(MethodView):
    @login_required
    @api_bp.arguments(EvidenceQuery, location="query")
    @api_bp.response(302, description="Location: a short-lived link to the file on the files service")
    @refusals(api_bp, "not_found")
    def get(self, query, student_id, file_id):
        """An imported evidence file, for the readers of the student's imported items; anyone
        else, or a file that is not one of this student's imported files: 404 not_found."""
        return evidence_redirect(student_id, file_id, query["download"])


@api_bp.route("/me/transfer-imports/files/<file_id>")
class MyTransferImportFile(MethodView):
    @login_required
    @api_bp.arguments(EvidenceQuery, location="query")
    @api_bp.response(302, description="Location: a short-lived link to the file on the files service")
    @refusals(api_bp, "not_found")
    def get(self, query, file_id):
        """Student: one of your imported evidence files."""
        return evidence_redirect(None, file_id, query["download"])


# ---------------------------------------------------------------- import pages

# What a row of each kind shows, in order: the keys each records/<kind>.json item has in the
# package (submission/transfer/package.py records_of, records' transfer_export_fields; see
# docs/transfer-package.md), never other names. tests: gateway/tests/unit/test_transfer_kinds.py
KIND_FIELDS = {
    "course_grades": (("semester", "學期"), ("course_code", "課程代碼"), ("subject_name", "科目"),
                      ("credits", "學分"), ("semester_grade", "學期成績"), ("passed", "及格")),
    "course_outcomes": (("semester", "學期"), ("subject_name", "科目"), ("description", "簡述"), ("status", "狀態")),
    "performances": (("kind", "類別"), ("description", "說明"), ("state", "狀態")),
    "autobiography": (("version_no", "版本"), ("career_plan", "生涯規劃"), ("status", "狀態")),
    "activities": (("semester", "學期"), ("category", "類別"), ("name", "名稱"), ("position", "職務"),
                   ("hours", "時數")),
    "competitions": (("semester", "學期"), ("name", "名稱"), ("result", "成績"), ("announced_on", "公布日期")),
    "attendance": (("semester", "學期"), ("absence_code", "假別"), ("periods", "節數")),
    "status_changes": (("semester", "學期"), ("change", "異動類別"), ("effective_on", "異動日期"),
                       ("other_school_code", "原校或借讀學校代碼")),
}
# the format's state words as the portal says them (anything else is shown as the origin wrote it)
VALUE_NAMES = {"certified": "已認證", "uploaded": "已上傳", "returned": "已退回", "approved": "已核可",
               "submitted": "已送出"}


def _field_names() -> dict:
    """{(kind, field): {code: the portal's zh-TW name}} for the coded fields of the package's
    items, from the portal's own tables (the forms and lists that show these codes)."""
    from .items import VALUE_NAMES as ITEM_VALUES
    from .performances import KINDS as PERFORMANCE_KINDS, STATES as PERFORMANCE_STATES
    from .students import CHANGE_NAMES
    return {("activities", "category"): ITEM_VALUES["category"],
            ("attendance", "absence_code"): ITEM_VALUES["absence_code"],
            ("performances", "kind"): {k: v[0] for k, v in PERFORMANCE_KINDS.items()},
            ("performances", "state"): PERFORMANCE_STATES,
            ("status_changes", "change"): CHANGE_NAMES}


def transfer_cell(kind, field, value) -> str:
    """One cell of an imported item as the portal words it: yes/no as 是/否, None empty, a code
    by its zh-TW name where the portal has one (假別 01 -> 01 公假), any other value as written."""
    if value is True:
        return "是"
    if value is False:
        return "否"
    if value is None:
        return ""
    names = _field_names().get((kind, field))
    if names is not None:
        return names.get(str(value), str(value))
    return VALUE_NAMES.get(value, value) if isinstance(value, str) else str(value)


KIND_LABELS = {"course_grades": "修課紀錄", "course_outcomes": "課程學習成果", "performances": "多元表現",
               "autobiography": "自傳與學習計畫", "activities": "幹部、社團與服務", "competitions": "校內競賽",
               "attendance": "缺勤紀錄", "status_changes": "學籍異動"}


@bp.app_template_filter("package_time")
def package_time(value) -> str:
    """An instant a package states (another school wrote it: any text) as the portal shows
    times: ROC date and school time (items.roc_time, 115/11/30 18:13). Text that is not an ISO
    instant with its offset is shown as written, never an error."""
    from .items import roc_time
    text = str(value or "")
    if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text) or not re.search(r"(Z|[+-]\d{2}:?\d{2})$", text):
        return text
    try:
        return roc_time(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, TypeError):
        return text


@bp.app_context_processor
def _transfer_names():
    """What the 轉入 sections need on any page that shows them (我的紀錄 too)."""
    return {"TRANSFER_KIND_LABELS": KIND_LABELS, "TRANSFER_KIND_FIELDS": KIND_FIELDS, "transfer_cell": transfer_cell}


def _import_page(student, status=200, error=None, preview=None, imports=None):
    return _no_store(make_response(render_template(
        "transfer_import.html", student=student, error=error, preview=preview, imports=imports,
        KIND_LABELS=KIND_LABELS, max_bytes=transfer_max_bytes(),
        ), status))


@bp.get("/students/<student_id>/transfer-import")
def import_page(student_id):
    """The registrar's 轉入檔案 page of one student: upload another school's package."""
    _need("registrar")
    student = rpc("records", "get_student", student_id)
    return _import_page(student)


@bp.post("/students/<student_id>/transfer-import/ticket")
def import_ticket_json(student_id):
    """JSON for upload.js: the ticket and where to send the zip (CSRF header required)."""
    _need("registrar")
    from .errors import to_api_error
    try:
        return import_ticket(student_id), 201
    except Exception as exc:  # noqa: BLE001 - answered as JSON with the sentence to show
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        return err.body(), err.status


@bp.get("/students/<student_id>/transfer-import/preview")
def import_preview(student_id):
    """What the uploaded package holds, next to our student; the confirm button. A refused
    package: the upload page again with the sentence (422), nothing stored."""
    _need("registrar")
    student = rpc("records", "get_student", student_id)
    file_id = (request.args.get("file") or "")[:64]
    preview, error = _attempt(lambda: rpc("submission", "preview_transfer_import", student_id, file_id))
    if error:
        return _import_page(student, status=error.status, error=error)
    return _import_page(student, preview=preview)


@bp.post("/students/<student_id>/transfer-import")
def import_confirm(student_id):
    _need("registrar")
    file_id = (request.form.get("file_id") or "")[:64]
    done, error = _attempt(lambda: rpc("submission", "import_transfer_package", student_id, file_id))
    if error:
        student = rpc("records", "get_student", student_id)
        return _import_page(student, status=error.status, error=error)
    flash(f"已匯入轉入紀錄 {done['items']} 筆、證明檔案 {done['evidence']} 個。" if done["created"]
          else "這份轉學檔案先前已匯入過，沒有重複匯入。", "ok")
    return redirect(url_for("transfer.transferred", student_id=student_id))


@bp.get("/students/<student_id>/transferred")
def transferred(student_id):
    """A student's 轉入紀錄 (read only) for the registrar and the homeroom teacher (records decides)."""
    _need("registrar", "homeroom_teacher")
    view = rpc("records", "list_transfer_imports", student_id)
    student = rpc("records", "get_student", student_id) if auth.roles() & {"registrar"} else None
    return _no_store(make_response(render_template(
        "transferred.html", view=view, student=student,
        file_base=url_for("transfer.transferred_file", student_id=view["student_id"], file_id="__FILE__"))))


@bp.get("/students/<student_id>/transferred/files/<file_id>")
def transferred_file(student_id, file_id):
    _need("registrar", "homeroom_teacher")
    return evidence_redirect(student_id, file_id, request.args.get("download") == "1")


@bp.get("/me/transferred/files/<file_id>")
def my_transferred_file(file_id):
    _need("student")
    return evidence_redirect(None, file_id, request.args.get("download") == "1")
