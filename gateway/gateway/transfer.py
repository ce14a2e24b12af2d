"""Transfer packages in the gateway (issue 9 item 8): JSON API and the portal pages of the
registrar (a student's 轉學檔案) and of the student (我的轉學檔案). Thin: the package is built
and signed by submission (submission/transfer) and kept by the files service for the one who
asked; this module calls it and sends the browser or API client there (downloads.py): no byte
of the package passes through the gateway. docs/transfer-package.md describes the format."""
from flask import Blueprint as FlaskBlueprint
from flask import flash, make_response, redirect, render_template, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from .api import refusals
from .auth import login_required
from .clients import rpc, rpc_build
from .downloads import DOWNLOAD_303, DownloadOut, redirect_to_download
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
