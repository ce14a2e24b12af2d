"""Student performances (多元表現): the student's page and the JSON API. Thin: records decides
what a performance may say (records/performances), the files service takes the proof's bytes.

Portal: /performances — record a performance of one kind (the national sheet's fields, a form
that works without JavaScript), upload its proof (upload.js: ticket here, bytes to files with
tus), void a mistake. API: /api/v1/performances.
"""
from flask import Blueprint as FlaskBlueprint
from flask import flash, make_response, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields

from . import auth
from .schoolcalendar import term_or_none
from .auth import login_required
from .clients import files_public_url, files_token, rpc, upload_limits
from .errors import ApiError, to_api_error
from .flows import TICKET_TTL_S
from .api import HistoryOut, ProofQuery

# kind -> (name, [(field, label, type, required)]): what records' domain says (docs/permissions.md);
# kept here only to draw the form, records checks every field again
KINDS = {
    "competition": ("競賽參與紀錄", [
        ("name", "競賽名稱", "text", True), ("event", "項目", "text", False),
        ("level_code", "競賽等級代碼", "code", True), ("award", "獎項", "text", False),
        ("announced_on", "結果公布日期", "date", True), ("team_code", "團體參與代碼", "code", False)]),
    "licence": ("檢定證照紀錄", [
        ("licence_code", "證照代碼", "code", True), ("score", "分數", "text", False),
        ("sub_results", "分項結果", "text", False), ("obtained_on", "取得證照日期", "date", True),
        ("licence_no", "證照字號", "text", False), ("group", "檢定組別", "text", False)]),
    "work_based_learning": ("職場學習紀錄", [
        ("category_code", "職場學習類別代碼", "code", True), ("unit", "職場學習單位", "text", True),
        ("title", "職場學習職稱", "text", False), ("starts_on", "開始日期", "date", True),
        ("ends_on", "結束日期", "date", True), ("hours", "時數", "number", True)]),
    "work": ("作品成果紀錄", [("name", "名稱", "text", True), ("made_on", "日期", "date", True)]),
    "advanced_course": ("大學及技專校院先修課程紀錄", [
        ("name", "課程名稱", "text", True), ("institution", "開課學校", "text", True),
        ("credits", "學分數", "number", False), ("starts_on", "開始日期", "date", True),
        ("ends_on", "結束日期", "date", True)]),
    "other": ("其他多元表現紀錄", [
        ("name", "名稱", "text", True), ("organiser", "主辦單位", "text", False),
        ("starts_on", "開始日期", "date", True), ("ends_on", "結束日期", "date", False),
        ("hours", "時數", "number", False)]),
}
ENTERED_BY = {"student": "學生自行登錄", "school": "學校單位登錄", "external": "校外機構登錄"}
STATES = {"proof_missing": "待上傳證明", "ready": "已上傳證明", "voided": "已作廢"}
MAX_DESCRIPTION = 100

bp = FlaskBlueprint("performances", __name__)


def _need_student():
    user = auth.current_user()
    if "student" not in auth.roles(user):
        raise ApiError("not_allowed")
    return user


def _field_errors(err) -> dict:
    return {f: problems[0]["message_zh"] for f, problems in ((err.fields or {}).get("record") or {}).items()}


def _page(kind, values=None, errors=None, error=None, status=200):
    mine = rpc("records", "list_performances", None, None)
    return render_template(
        "performances.html", kinds=KINDS, kind=kind, values=values or {}, errors=errors or {}, error=error,
        performances=mine, ENTERED_BY=ENTERED_BY, STATES=STATES, max_chars=MAX_DESCRIPTION,
        selectable=[p for p in mine if p["state"] != "voided"],
        limits=upload_limits(term_or_none()[0]), files_url=files_public_url()), status


@bp.route("/performances", methods=["GET", "POST"])
def page():
    """The student's performances: the list, the form for one kind, the proof upload."""
    _need_student()
    kind = request.values.get("kind") or "competition"
    if kind not in KINDS:
        kind = "competition"
    if request.method == "GET":
        return _page(kind)
    cells = {f: request.form.get(f, "") for f, *_ in KINDS[kind][1]}
    cells["description"] = request.form.get("description", "")
    try:
        saved = rpc("records", "record_performance", {"kind": kind, "fields": cells})
    except Exception as exc:  # noqa: BLE001 - shown beside the fields
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        return _page(kind, cells, _field_errors(err), err, err.status)
    flash(f"已登錄「{KINDS[kind][0]}」：{saved['description']}。請接著上傳證明文件。", "ok")
    return redirect(url_for("performances.page", kind=kind, proof=saved["id"]) + "#proof")


@bp.post("/performances/ticket")
def ticket():
    """JSON for upload.js: a ticket for the chosen performance's proof (CSRF header required)."""
    _need_student()
    body = request.get_json(silent=True) or {}
    try:
        return performance_ticket(body.get("performance_id", "")), 201
    except Exception as exc:  # noqa: BLE001 - answered as JSON with the sentence to show
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        return err.body(), err.status


@bp.post("/performances/<performance_id>/void")
def void(performance_id):
    _need_student()
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = -1
    try:
        rpc("records", "void_performance", performance_id, version, request.form.get("reason", ""))
    except Exception as exc:  # noqa: BLE001
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        problems = _field_errors(err)
        flash(problems.get("reason") and f"作廢需要填寫原因：{problems['reason']}" or err.zh, "error")
        return redirect(url_for("performances.page"))
    flash("已作廢（紀錄仍保留，並註明原因）。", "ok")
    return redirect(url_for("performances.page"))


# the history's fields besides the kind's own (those are flattened out of `fields`)
HISTORY_LABELS = {"kind": "類別", "school_year": "學年度", "description": "內容簡述", "entered_by": "登錄者",
                  "recorded_via": "登錄方式", "state": "狀態", "filename": "證明文件", "sha256": "證明文件指紋（SHA-256）",
                  "reason": "作廢原因"}


def _history_values(values):
    """A history row's before/after as a person reads it: the national sheet's fields side by
    side with the others, the kind, who entered it and the state in words."""
    if not values:
        return values
    out = {k: v for k, v in values.items() if k != "fields"}
    out.update(values.get("fields") or {})
    if out.get("kind") in KINDS:
        out["kind"] = KINDS[out["kind"]][0]
    if out.get("entered_by") in ENTERED_BY:
        out["entered_by"] = ENTERED_BY[out["entered_by"]]
    if out.get("state") in STATES:
        out["state"] = STATES[out["state"]]
    return out


@bp.get("/performances/<performance_id>/history")
def history(performance_id):
    """One performance's history (異動紀錄: who, when, before -> after), on the page every item
    kind's history uses, for whoever may read the performance (records decides: the student,
    the homeroom teacher of the student's class, the registrar; anyone else not found)."""
    from .items import HISTORY_ACTIONS, _no_store
    if not auth.current_user():
        raise ApiError("not_authenticated")
    rows = rpc("records", "get_history", "performance", performance_id)
    kind = next((r["after"].get("kind") for r in rows if r["action"] == "created" and r.get("after")), None)
    labels = {f: label for f, label, *_ in KINDS.get(kind, ("", []))[1]} | HISTORY_LABELS
    rows = [dict(r, before=_history_values(r.get("before")), after=_history_values(r.get("after"))) for r in rows]
    return _no_store(make_response(render_template(
        "item_history.html", spec={"title": "多元表現"}, rows=rows, labels=labels, actions=HISTORY_ACTIONS,
        back=request.referrer if (request.referrer or "").startswith(request.host_url) else None)))


@bp.get("/performances/<performance_id>/proof")
def proof(performance_id):
    """A performance's proof file for its readers (the student, the homeroom teacher of the
    student's class, the registrar): records signs a read grant, the files service checks it
    and answers a short-lived link the browser is sent to."""
    from .items import granted_redirect
    if not auth.current_user():
        raise ApiError("not_authenticated")
    g = rpc("records", "grant_performance_proof_read", performance_id)
    return granted_redirect(g, request.args.get("download") == "1")


def performance_ticket(performance_id) -> dict:
    """records checks the performance is the caller's and not voided, and signs a ticket; the
    client sends the bytes to the files service itself (as for course outcomes)."""
    t = rpc("records", "issue_performance_ticket", performance_id)
    base = files_public_url()
    return {"performance_id": t["performance_id"], "ticket": t["ticket"], "files_token": files_token(),
            "upload_url": base + "/v1/files", "resumable_url": base + "/v1/uploads", "expires_in": TICKET_TTL_S}


# ---------------------------------------------------------------- JSON API

api_bp = Blueprint("api_performances", __name__, url_prefix="/api/v1/performances",
                   description="Student performances (多元表現): the student's own, or a school unit's entries")


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class PerformanceIn(_In):
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    fields_ = fields.Dict(data_key="fields", attribute="fields", required=True, metadata={
        "description": "the national sheet's fields of the kind, and `description` (內容簡述, ≤ 100)"})
    student_id = fields.String(load_default=None, metadata={"description": "school units only"})
    entered_by = fields.String(load_default=None, metadata={"description": "school | external (school units)"})
    school_year = fields.Integer(load_default=None)


class PerformanceOut(Schema):
    id = fields.String()
    student_id = fields.String()
    school_year = fields.Integer()
    kind = fields.String()
    kind_name = fields.String()
    fields_ = fields.Dict(data_key="fields", attribute="fields")
    description = fields.String()
    entered_by = fields.String()
    counts_toward_selection = fields.Boolean()
    state = fields.String()
    file_id = fields.String(allow_none=True)
    filename = fields.String(allow_none=True)
    content_type = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    sha256 = fields.String(allow_none=True)
    proof_uploaded_at = fields.String(allow_none=True)
    created_at = fields.String(allow_none=True)
    voided_at = fields.String(allow_none=True)
    void_reason = fields.String(allow_none=True)
    version = fields.Integer()


class ListQuery(_In):
    student_id = fields.String(load_default=None)
    school_year = fields.Integer(load_default=None, validate=lambda y: 100 <= y <= 200)


class VoidIn(_In):
    version = fields.Integer(required=True)
    reason = fields.String(required=True)


class PerfTicketOut(Schema):
    performance_id = fields.String()
    ticket = fields.String()
    files_token = fields.String()
    upload_url = fields.String()
    resumable_url = fields.String()
    expires_in = fields.Integer()


@api_bp.route("")
class Performances(MethodView):
    @login_required
    @api_bp.arguments(ListQuery, location="query")
    @api_bp.response(200, PerformanceOut(many=True))
    def get(self, query):
        """A student's performances (default: the caller's own), newest year first; readers are
        the student, their homeroom teacher and the registrar."""
        return rpc("records", "list_performances", query["student_id"], query["school_year"])

    @login_required
    @api_bp.arguments(PerformanceIn)
    @api_bp.response(201, PerformanceOut)
    def post(self, body):
        """Record a performance (state proof_missing until its proof arrives): students their
        own; the registrar and the organising unit `school` or `external` ones for a student."""
        data = {"kind": body["kind"], "fields": body["fields"], "student_id": body["student_id"],
                "entered_by": body["entered_by"], "school_year": body["school_year"]}
        return rpc("records", "record_performance", {k: v for k, v in data.items() if v is not None})


@api_bp.route("/<performance_id>/tickets")
class PerformanceTickets(MethodView):
    @login_required
    @api_bp.response(201, PerfTicketOut)
    def post(self, performance_id):
        """Ask to upload the performance's proof; then send the bytes to the files service as for
        course outcomes (X-Upload-Ticket, tus at resumable_url)."""
        return performance_ticket(performance_id)


@api_bp.route("/<performance_id>/history")
class PerformanceHistory(MethodView):
    @login_required
    @api_bp.response(200, HistoryOut(many=True))
    def get(self, performance_id):
        """One performance's history, oldest first, as every item kind's: who, when, the action
        (created, proof_attached, voided with its reason), the fields before and after. For
        whoever may read the performance (the student, the homeroom teacher of the student's
        class, the registrar); anyone else: 404 not_found."""
        return rpc("records", "get_history", "performance", performance_id)


@api_bp.route("/<performance_id>/proof")
class PerformanceProof(MethodView):
    @login_required
    @api_bp.arguments(ProofQuery, location="query")
    @api_bp.response(302, description="Location: a short-lived link to the proof on the files service")
    def get(self, query, performance_id):
        """Download a performance's proof file: its readers only (the student, the homeroom
        teacher of the student's class, the registrar); anyone else and a performance without a
        proof: 404 not_found."""
        from .items import granted_redirect
        return granted_redirect(rpc("records", "grant_performance_proof_read", performance_id), query["download"])


@api_bp.route("/<performance_id>/void")
class PerformanceVoid(MethodView):
    @login_required
    @api_bp.arguments(VoidIn)
    @api_bp.response(200, PerformanceOut)
    def post(self, body, performance_id):
        """Void a mistaken performance with a reason (kept, marked); send the `version` you read."""
        return rpc("records", "void_performance", performance_id, body["version"], body["reason"])
