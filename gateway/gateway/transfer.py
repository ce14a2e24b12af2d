"""Transfer packages in the gateway (issue 9 item 8): JSON API and the portal pages of the
registrar (a student's 轉學檔案) and of the student (我的轉學檔案). Thin: the package is built
and signed by submission (submission/transfer); this module calls it and hands the file on.
docs/transfer-package.md describes the format."""
import base64
from urllib.parse import quote

from flask import Blueprint as FlaskBlueprint
from flask import Response, flash, make_response, redirect, render_template, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from .api import refusals
from .auth import login_required
from .clients import rpc
from .national import _attempt, _need

api_bp = Blueprint("api_transfer", __name__, url_prefix="/api/v1",
                   description="Transfer packages (portfolio-transfer/1, docs/transfer-package.md): a student's "
                               "portfolio for another school")
bp = FlaskBlueprint("transfer", __name__)

REFUSALS = ("not_found", "not_allowed", "transfer_evidence_changed", "student_sealed", "storage_unavailable",
            "transfer_package_too_large")
ZIP_DOC = {"200": {"description": "the package (application/zip) as an attachment; X-Package-SHA256 is its "
                                  "SHA-256, X-Transfer-Key-Id the signing key's id",
                   "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}}


def _file_response(f) -> Response:
    """The package as a download; never cached (it holds the national ID)."""
    return Response(base64.b64decode(f["data"]), mimetype="application/zip", headers={
        "Content-Disposition": f"attachment; filename=\"transfer.zip\"; filename*=UTF-8''{quote(f['filename'])}",
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Package-SHA256": f["sha256"],
        "X-Transfer-Key-Id": f["key_id"]})


# ---------------------------------------------------------------- API

@api_bp.route("/students/<student_id>/transfer-package")
class StudentTransferPackage(MethodView):
    @login_required
    @api_bp.doc(responses=ZIP_DOC)
    @refusals(api_bp, *REFUSALS)
    def get(self, student_id):
        """Registrar: one student's portfolio as a signed transfer package (profile, course records,
        course outcomes with their certification, performances, autobiography versions, evidence
        files), for another school. 404 not_found (no such student in your tenant), 409
        transfer_evidence_changed, 503 storage_unavailable, 422 transfer_package_too_large (over 48 MB)."""
        return _file_response(rpc("submission", "export_transfer_package", student_id))


@api_bp.route("/me/transfer-package")
class MyTransferPackage(MethodView):
    @login_required
    @api_bp.doc(responses=ZIP_DOC)
    @refusals(api_bp, *REFUSALS)
    def get(self):
        """Student: your own portfolio as a signed transfer package, to hand to a new school
        (learner-controlled transfer). Same refusals as the registrar's."""
        return _file_response(rpc("submission", "export_transfer_package", None))


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
    f, error = _attempt(lambda: rpc("submission", "export_transfer_package", student_id))
    if error:
        flash(error.zh, "warn")
        return redirect(url_for("transfer.student_page", student_id=student_id))
    return _file_response(f)


@bp.get("/me/transfer")
def my_page():
    """The student's own 我的轉學檔案 page."""
    _need("student")
    student = rpc("records", "get_my_profile")
    return _no_store(make_response(render_template("transfer.html", student=student, mine=True)))


@bp.get("/me/transfer/package")
def my_package():
    _need("student")
    f, error = _attempt(lambda: rpc("submission", "export_transfer_package", None))
    if error:
        flash(error.zh, "warn")
        return redirect(url_for("transfer.my_page"))
    return _file_response(f)
