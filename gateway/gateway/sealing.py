"""Sealing five years on (封存, issue 9 item 7): the JSON API. Thin: submission records the
college application dates, seals, signs the manifest and keeps the read requests; records
refuses a sealed student's data except to an approved reader.

/api/v1/sealing/students/<id>            GET status; PUT {applied_on} (registrar: 註冊組 / 教務組)
/api/v1/sealing/students/<id>/manifest   GET the signed manifest (registrar)
/api/v1/sealing/read-requests            GET list; POST {student_id, reason} (registrar)
/api/v1/sealing/read-requests/<id>/approve  POST (principal, executive secretary)
"""
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields

from .auth import login_required
from .clients import rpc

api_bp = Blueprint("api_sealing", __name__, url_prefix="/api/v1/sealing",
                   description="Sealing five years after the college application; audited reads of sealed data")


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class ApplicationIn(_In):
    applied_on = fields.String(required=True, metadata={"description": "ISO date (YYYY-MM-DD), not in the future"})


class StatusOut(Schema):
    student_id = fields.String()
    applied_on = fields.String(allow_none=True)
    seal_due_on = fields.String(allow_none=True)
    sealed = fields.Boolean()
    sealed_at = fields.String(allow_none=True)


class ApplicationOut(Schema):
    student_id = fields.String()
    applied_on = fields.String()
    seal_due_on = fields.String()
    previous = fields.String(allow_none=True)


class ManifestOut(Schema):
    manifest = fields.Dict(metadata={"description": "every fingerprint submission holds for the student"})
    signature = fields.String(metadata={"description": "base64url Ed25519 over the manifest's canonical JSON "
                                                       "(keys sorted, no spaces, UTF-8)"})
    key_id = fields.String(metadata={"description": "the issuer whose key in CALLER_PUBLIC_KEYS verifies it"})


class ReadRequestIn(_In):
    student_id = fields.String(required=True)
    reason = fields.String(required=True)


class ApprovalOut(Schema):
    role = fields.String()
    user_id = fields.String()
    approved_at = fields.String()


class ReadRequestOut(Schema):
    id = fields.String()
    student_id = fields.String()
    requested_by = fields.String()
    reason = fields.String()
    requested_at = fields.String()
    approvals = fields.List(fields.Nested(ApprovalOut))
    approved_at = fields.String(allow_none=True)
    expires_at = fields.String(allow_none=True)


@api_bp.route("/students/<student_id>")
class StudentSealing(MethodView):
    @login_required
    @api_bp.response(200, StatusOut)
    def get(self, student_id):
        """The student's college application date, the day they are sealed, and whether they are."""
        return rpc("submission", "get_sealing_status", student_id)

    @login_required
    @api_bp.arguments(ApplicationIn)
    @api_bp.response(200, ApplicationOut)
    def put(self, body, student_id):
        """Record (or correct) the college application date; kept with who and when. The student
        must be one of the caller's tenant (records answers); a sealed student's date is final
        (409 student_sealed); a future or malformed date: 422 application_date_invalid."""
        student = rpc("records", "get_student", student_id)
        return rpc("submission", "record_application_date", student_id, student["user_id"], body["applied_on"])


@api_bp.route("/students/<student_id>/manifest")
class StudentManifest(MethodView):
    @login_required
    @api_bp.response(200, ManifestOut)
    def get(self, student_id):
        """The signed sealing manifest of a sealed student (404 when not sealed)."""
        return rpc("submission", "get_sealing_manifest", student_id)


@api_bp.route("/read-requests")
class ReadRequests(MethodView):
    @login_required
    @api_bp.response(200, ReadRequestOut(many=True))
    def get(self):
        """The tenant's requests to read sealed data, newest first (registrar, principal,
        executive secretary)."""
        return rpc("submission", "list_sealed_read_requests")

    @login_required
    @api_bp.arguments(ReadRequestIn)
    @api_bp.response(201, ReadRequestOut)
    def post(self, body):
        """Ask to read a sealed student's data (registrar), with a reason (≤ 500 characters)."""
        return rpc("submission", "request_sealed_read", body["student_id"], body["reason"])


@api_bp.route("/read-requests/<request_id>/approve")
class ReadRequestApproval(MethodView):
    @login_required
    @api_bp.response(200, ReadRequestOut)
    def post(self, request_id):
        """Approve for your role (principal, executive secretary; not your own request, one
        person one role). After both, the requester may read the student for 7 days; each read
        is logged by records."""
        return rpc("submission", "approve_sealed_read", request_id)


# ---------------------------------------------------------------- portal page

from flask import Blueprint as FlaskBlueprint  # noqa: E402
from flask import flash, redirect, render_template, request, url_for  # noqa: E402

from . import auth  # noqa: E402
from .errors import ApiError, to_api_error  # noqa: E402

bp = FlaskBlueprint("sealing", __name__, url_prefix="/sealing")
PAGE_ROLES = {"registrar", "principal", "executive_secretary"}
ROLE_NAMES = {"principal": "校長", "executive_secretary": "執行秘書"}


def _need_page():
    if not auth.current_user():
        raise ApiError("not_authenticated")
    if not auth.roles() & PAGE_ROLES:
        raise ApiError("not_allowed")


def _student_by_no(student_no):
    no = (student_no or "").strip()[:32]
    found = [s for s in rpc("records", "list_students", None) if s.get("student_no") == no] if no else []
    if not found:
        raise ApiError("not_found", detail="student")
    return found[0]


def _attempt(fn):
    """Run one form's action: (result, None) or (None, the refusal to show)."""
    try:
        return fn(), None
    except Exception as exc:  # noqa: BLE001 - shown as its zh-TW sentence
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        return None, err


@bp.route("", methods=["GET", "POST"])
def page():
    """The registrar records college application dates and asks to read a sealed student; the
    principal and the executive secretary approve requests. Works without JavaScript."""
    _need_page()
    roles = auth.roles()
    error = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "application" and "registrar" in roles:
            def record():
                st = _student_by_no(request.form.get("student_no"))
                return st, rpc("submission", "record_application_date", st["id"], st["user_id"],
                               request.form.get("applied_on", ""))
            res, error = _attempt(record)
            if res:
                st, out = res
                flash(f"已記錄 {st['student_no']} {st['name']} 的申請入學日期 {out['applied_on']}，"
                      f"將於 {out['seal_due_on']} 封存。", "ok")
        elif action == "request" and "registrar" in roles:
            res, error = _attempt(lambda: rpc("submission", "request_sealed_read",
                                              _student_by_no(request.form.get("student_no"))["id"],
                                              request.form.get("reason", "")))
            if res:
                flash("已送出查閱申請，待校長與執行秘書核准。", "ok")
        elif action == "approve" and roles & {"principal", "executive_secretary"}:
            res, error = _attempt(lambda: rpc("submission", "approve_sealed_read", request.form.get("request_id", "")))
            if res:
                flash("已核准。" if res["expires_at"] is None else "兩位皆已核准：申請人七天內可查閱。", "ok")
        else:
            error = ApiError("not_allowed")
        if error is None:
            return redirect(url_for("sealing.page"))
    requests_ = rpc("submission", "list_sealed_read_requests")
    roster = {s["id"]: s for s in rpc("records", "list_students", None)} if "registrar" in roles else {}
    return render_template("sealing.html", requests=requests_, roster=roster, error=error, roles=roles,
                           ROLE_NAMES=ROLE_NAMES, form=request.form), (error.status if error else 200)
