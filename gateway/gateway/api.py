"""JSON API /api/v1 (flask-smorest: the OpenAPI document is generated from these schemas)."""
from flask import Response, request
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate
from werkzeug.routing import IntegerConverter

from . import auth, flows
from .auth import login_required
from .clients import file_link, files_token, rpc, rpc_public
from .errors import ERRORS, ApiError, ErrorSchema


class PortfolioApi(Api):
    """flask-smorest's Api with our error body declared as `Error`: every operation's
    `default` and 422 responses, and every status listed with `refusals`, point at it."""
    ERROR_SCHEMA = ErrorSchema


def refusals(bp, *codes):
    """Document the errors an operation answers on purpose, grouped by status, each with the
    one `Error` schema (codes come from gateway.errors.ERRORS)."""
    by_status = {}
    for code in codes:
        by_status.setdefault(ERRORS[code][0], []).append(code)

    def decorate(view):
        for status, names in sorted(by_status.items(), reverse=True):
            view = bp.alt_response(status, schema=ErrorSchema, description=" | ".join(names))(view)
        return view
    return decorate


SCHOOL_YEARS = {"minimum": 100, "maximum": 200}  # ROC years the services accept (submission._year)


class SchoolYearConverter(IntegerConverter):
    """`<school_year:...>` in a path: any whole number matches the route, so a year out of
    range gets its own 422 school_year_invalid from the service, not a bare 404."""


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class TokenIn(_In):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class PasswordIn(_In):
    old_password = fields.String(required=True, load_only=True)
    new_password = fields.String(required=True, load_only=True, metadata={
        "minLength": 8, "description": "at least 8 characters, not the old one (accounts decides)"})


class EmailIn(_In):
    email = fields.String(required=True, allow_none=True, metadata={
        "description": "one plain address (name@school.example); \"\" or null removes it (email_invalid)"})


class EmailOut(Schema):
    email = fields.String(allow_none=True, metadata={"description": "where reminders are sent; null: none"})


class SessionOut(Schema):
    id = fields.String()
    kind = fields.String()
    created_at = fields.String()
    last_seen_at = fields.String()
    remote_addr = fields.String()
    user_agent = fields.String()
    current = fields.Boolean()


class Grant(Schema):
    tenant = fields.String()
    role = fields.String()


class UserOut(Schema):
    user_id = fields.String()
    username = fields.String()
    display_name = fields.String()
    tenant = fields.String(metadata={"description": "active tenant; choose with the X-Portfolio-Tenant header"})
    must_change_password = fields.Boolean()
    grants = fields.List(fields.Nested(Grant))


class TokenOut(Schema):
    token = fields.String()
    user = fields.Nested(UserOut)


class SectionOut(Schema):
    id = fields.String()
    school_year = fields.Integer()
    semester = fields.Integer()
    course_code = fields.String()
    subject_name = fields.String()
    class_code = fields.String()
    credits = fields.Integer()


class OutcomeOut(Schema):
    id = fields.String()
    section_id = fields.String()
    subject_name = fields.String()
    course_code = fields.String()
    school_year = fields.Integer()
    semester = fields.Integer()
    description = fields.String()
    file_id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    files = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "the outcome's files by slot (document, media or both): {slot: {file_id, filename, "
                       "content_type, size, sha256, uploaded_at}}; file_id .. sha256 above name the principal "
                       "one (the document, else the media file)"})
    status = fields.String(metadata={"description": "uploaded | certified | returned"})
    return_reason = fields.String(allow_none=True)
    upload_round = fields.Integer(metadata={"description": "1 for the first upload, +1 per re-upload after a return"})
    selected_locked = fields.Boolean()
    uploaded_at = fields.String()
    certified_at = fields.String(allow_none=True)


_SLOT = {"description": "the outcome's slot the file goes into: document (PDF/JPG/PNG) or media (MP3/MP4); "
                        "a file of the other kind is refused (415 file_slot_mismatch). Absent: the slot of "
                        "the file's kind (for /reupload only on a returned outcome)"}


class TicketIn(_In):
    section_id = fields.String(required=True, metadata={"format": "uuid"})
    description = fields.String(required=True, metadata={
        "description": "簡述, 1-100 characters", "minLength": 1, "maxLength": 100})
    slot = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["document", "media"]),
                         metadata=_SLOT)


class ReuploadIn(_In):
    description = fields.String(required=True, metadata={
        "description": "簡述, 1-100 characters (may correct the returned one)", "minLength": 1, "maxLength": 100})
    slot = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["document", "media"]),
                         metadata=_SLOT)


class TicketOut(Schema):
    outcome_id = fields.String()
    slot = fields.String(allow_none=True, metadata=_SLOT)
    ticket = fields.String(metadata={"description": "send as X-Upload-Ticket to the files service"})
    files_token = fields.String(metadata={"description": "send as Authorization: Bearer to the files service"})
    upload_url = fields.String(metadata={"description": "POST the whole file here (raw body, X-Filename)"})
    resumable_url = fields.String(metadata={"description": "or upload it resumably here (tus 1.0.0)"})
    expires_in = fields.Integer(metadata={"description": "seconds the ticket stays valid"})


class QuotaQuery(_In):
    school_year = fields.Integer(required=True, validate=validate.Range(min=100, max=200),
                                 metadata={"description": "ROC year, e.g. 115"})
    semester = fields.Integer(required=True, validate=validate.OneOf([1, 2]))


class QuotaOut(Schema):
    school_year = fields.Integer()
    semester = fields.Integer()
    limit = fields.Integer(allow_none=True, metadata={"description": "the calendar's limit; null: no calendar"})
    used = fields.Integer()
    held = fields.Integer(metadata={"description": "slots held by upload tickets in flight"})
    left = fields.Integer()
    upload = fields.Dict(allow_none=True, metadata={"description": "the term's upload window {opens_on, closes_on}"})


class FilesTokenOut(Schema):
    token = fields.String()
    expires_in = fields.Integer()


class DownloadQuery(_In):
    download = fields.Boolean(load_default=False, metadata={"description": "as an attachment"})


class TaskOut(Schema):
    id = fields.String()
    outcome_id = fields.String()
    file_id = fields.String()
    student_id = fields.String()
    student_no = fields.String()
    student_name = fields.String()
    class_code = fields.String(metadata={"description": "the student's class (records roster)"})
    seat_no = fields.Integer(allow_none=True, metadata={"description": "座號; null when the roster has none"})
    school_year = fields.Integer()
    semester = fields.Integer()
    course_code = fields.String()
    subject_name = fields.String()
    description = fields.String()
    filename = fields.String()
    sha256 = fields.String()
    files = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "the round's files by slot (document, media or both): {slot: {file_id, filename, "
                       "content_type, sha256}}; the certification attests them all"})
    fingerprints = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True, metadata={
        "description": "a decided round: {slot: sha256} of the files decided on"})
    status = fields.String()
    created_at = fields.String()
    acting_for = fields.String(allow_none=True, metadata={"description": "teacher certified for, as proxy"})
    round = fields.Integer(metadata={"description": "1 for the upload; +1 for each re-upload after a return or withdrawal"})
    content_type = fields.String(allow_none=True)
    decided_at = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_for = fields.String(allow_none=True, metadata={"description": "teacher decided for, as proxy"})
    reason_code = fields.String(allow_none=True, metadata={"description": "a return's code on the school's list"})
    reason = fields.String(allow_none=True, metadata={"description": "a return's reason as the student sees it"})
    withdrawal_reason = fields.String(allow_none=True)
    withdrawn_at = fields.String(allow_none=True)
    closed_reason = fields.String(allow_none=True, metadata={"description": "why a round closed undecided"})


class TaskQuery(_In):
    status = fields.String(load_default="pending", validate=validate.OneOf(
        ["pending", "certified", "returned", "withdrawn", "closed", "all"]))


class DecisionIn(_In):
    action = fields.String(required=True, validate=validate.OneOf(["certify", "return", "withdraw"]))
    task_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=200))
    reason_code = fields.String(load_default=None, metadata={
        "description": "return: a code of GET /certification/return-reasons"})
    reason = fields.String(load_default=None, metadata={
        "description": "return: free text added to the listed reason (required for 其他); withdraw: the reason"})


class Refusal(Schema):
    task_id = fields.String()
    code = fields.String()
    reason = fields.String()
    message_zh = fields.String(metadata={"description": "the refusal in Traditional Chinese"})


class DecisionOut(Schema):
    certified = fields.List(fields.String())
    returned = fields.List(fields.String())
    withdrawn = fields.List(fields.String())
    refused = fields.List(fields.Nested(Refusal))


class ReturnReasonOut(Schema):
    code = fields.String()
    label = fields.String()
    needs_note = fields.Boolean()
    active = fields.Boolean()
    position = fields.Integer()


class ReturnReasonIn(_In):
    label = fields.String(required=True)
    needs_note = fields.Boolean(load_default=False)
    active = fields.Boolean(load_default=True)
    position = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000))


class ReturnReasonQuery(_In):
    include_retired = fields.Boolean(load_default=False)


class Candidate(Schema):
    outcome_id = fields.String()
    course_code = fields.String()
    subject_name = fields.String()
    description = fields.String()
    semester = fields.Integer()
    selected = fields.Boolean()


REASONS = ["not_certified", "returned", "not_student_entered", "over_limit", "window_closed", "locked",
           "calendar_not_set"]


class OutcomeItem(Candidate):
    state = fields.String(metadata={"enum": ["certified", "uploaded", "returned"]})
    return_reason = fields.String(allow_none=True)
    selectable = fields.Boolean(metadata={"description": "the student can change this item now"})
    reason = fields.String(allow_none=True, metadata={"enum": REASONS, "description": "why not, when not"})


class PerformanceItem(Schema):
    performance_id = fields.String()
    performance_kind = fields.String()
    description = fields.String()
    entered_by = fields.String(metadata={"enum": ["student", "school", "external"]})
    counts = fields.Boolean(metadata={"description": "counts toward the year's limit (the student's own entry)"})
    selected = fields.Boolean()
    selectable = fields.Boolean()
    reason = fields.String(allow_none=True, metadata={"enum": REASONS})


class SelectionOut(Schema):
    school_year = fields.Integer()
    version = fields.Integer(metadata={"description": "send back as expected_version"})
    locked = fields.Boolean()
    locked_at = fields.String(allow_none=True)
    window = fields.Dict(allow_none=True, metadata={"description": "{opens_on, closes_on, state}"})
    limits = fields.Dict(metadata={"description": "{outcome, performance}: the year's limits (calendar)"})
    counts = fields.Dict(metadata={"description": "{outcome, performance}: selected now"})
    consent = fields.Dict()
    outcomes = fields.List(fields.Nested(OutcomeItem))
    performances = fields.List(fields.Nested(PerformanceItem))
    max_selected = fields.Integer()
    candidates = fields.List(fields.Nested(Candidate))


class SelectionIn(_In):
    outcome_ids = fields.List(fields.String(validate=validate.Length(max=64)), load_default=None,
                              validate=validate.Length(max=100), metadata={"description": "the whole list; omit to keep"})
    performance_ids = fields.List(fields.String(validate=validate.Length(max=64)), load_default=None,
                                  validate=validate.Length(max=100), metadata={"description": "the whole list; omit to keep"})
    expected_version = fields.Integer(load_default=None, metadata={"description": "the version read (optional)"})


class SelectionSaved(Schema):
    school_year = fields.Integer()
    version = fields.Integer()
    changed = fields.Boolean()
    selected = fields.List(fields.String())
    outcome_ids = fields.List(fields.String())
    performance_ids = fields.List(fields.String())


class LockIn(_In):
    scope = fields.String(load_default="tenant", validate=validate.OneOf(["tenant", "grade", "class"]))
    class_code = fields.String(load_default=None, validate=validate.Length(max=40))
    grade = fields.Integer(load_default=None, validate=validate.Range(min=1, max=3))


class LockOut(Schema):
    school_year = fields.Integer()
    locked_at = fields.String()
    scope = fields.String()
    students = fields.Integer()
    held = fields.Integer()
    outcomes = fields.Integer()
    performances = fields.Integer()
    without_consent = fields.Integer(metadata={"description": "frozen, nothing held: warn the registrar"})
    without_consent_ids = fields.List(fields.String())
    already_locked = fields.Integer()


class LockedStudent(Schema):
    student_id = fields.String()
    student_user_id = fields.String()
    version = fields.Integer()
    versions = fields.Integer()
    locked_at = fields.String()
    outcomes = fields.List(fields.Dict())
    performances = fields.List(fields.Dict())


class LockedOut(Schema):
    school_year = fields.Integer()
    locked = fields.Boolean()
    locked_at = fields.String(allow_none=True)
    students = fields.List(fields.Nested(LockedStudent))


class ProxyIn(_In):
    teacher_username = fields.String(load_default=None, metadata={
        "description": "omit to name a proxy for yourself; the academic section may name anyone's"})
    proxy_username = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class ProxyOut(Schema):
    id = fields.String()
    teacher = fields.String()
    teacher_username = fields.String()
    proxy = fields.String()
    proxy_username = fields.String()
    starts_on = fields.String()
    ends_on = fields.String()
    active = fields.Boolean()


class OutcomeQuery(_In):
    school_year = fields.Integer(load_default=None, validate=validate.Range(
        min=SCHOOL_YEARS["minimum"], max=SCHOOL_YEARS["maximum"]))


class AuditQuery(_In):
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000),
                           metadata={"description": "how many rows, newest first (1-1000)"})


auth_bp = Blueprint("api_auth", __name__, url_prefix="/api/v1/auth", description="Sign-in for API clients")
me_bp = Blueprint("api_me", __name__, url_prefix="/api/v1", description="The caller")
outcomes_bp = Blueprint("api_outcomes", __name__, url_prefix="/api/v1", description="Course outcomes (students)")
cert_bp = Blueprint("api_certification", __name__, url_prefix="/api/v1/certification",
                    description="Certification queue (teachers)")
sel_bp = Blueprint("api_selections", __name__, url_prefix="/api/v1/selections",
                   description="Selections (students) and locks (registrar)")


@auth_bp.route("/token")
class Token(MethodView):
    @auth_bp.arguments(TokenIn)
    @auth_bp.response(201, TokenOut)
    @refusals(auth_bp, "invalid_credentials", "account_locked")
    def post(self, body):
        """Exchange username and password for a bearer token (a server-side session, 8 hours).

        Repeated failures lock this username from this address, or the username everywhere, for
        a while (429 account_locked); many failures from one address throttle it (429
        sign_in_throttled). An unknown username is answered exactly like a known one."""
        found = rpc_public("accounts", "sign_in", body["username"], body["password"],
                           request.remote_addr, request.user_agent.string, "api")
        token = found.pop("session_token")
        tenants = sorted({gr["tenant"] for gr in found["grants"]})
        found["tenant"] = tenants[0] if tenants else None
        return {"token": token, "user": found}

    @auth_bp.response(204)
    def delete(self):
        """Sign out: the token stops working at once."""
        token = auth.session_token()
        if token:
            rpc_public("accounts", "sign_out", token)


@auth_bp.route("/password")
class Password(MethodView):
    @auth_bp.arguments(PasswordIn)
    @auth_bp.response(204)
    def post(self, body):
        """Change the caller's password (required after an import or an admin reset)."""
        if not auth.current_user():
            raise ApiError("not_authenticated")
        rpc_public("accounts", "change_password", auth.session_token(), body["old_password"],
                   body["new_password"])


@auth_bp.route("/sessions")
class Sessions(MethodView):
    @auth_bp.response(200, SessionOut(many=True))
    def get(self):
        """The caller's open sessions (portal and API)."""
        if not auth.current_user():
            raise ApiError("not_authenticated")
        return rpc_public("accounts", "list_my_sessions", auth.session_token())


@auth_bp.route("/sessions/<session_id>")
class SessionOne(MethodView):
    @auth_bp.response(204)
    def delete(self, session_id):
        """End one of the caller's sessions."""
        if not auth.current_user():
            raise ApiError("not_authenticated")
        rpc_public("accounts", "end_session", auth.session_token(), session_id)


@me_bp.route("/me")
class Me(MethodView):
    @login_required
    @me_bp.response(200, UserOut)
    def get(self):
        """Who the token or session belongs to, and the active tenant."""
        return auth.current_user()


@me_bp.route("/me/email")
class MyEmail(MethodView):
    @login_required
    @me_bp.response(200, EmailOut)
    def get(self):
        """The caller's own reminder address (certification reminders, issue 10 item 5)."""
        return rpc_public("accounts", "get_my_email", auth.session_token())

    @login_required
    @me_bp.arguments(EmailIn)
    @me_bp.response(200, EmailOut)
    def put(self, body):
        """Set or remove the caller's own reminder address; 422 email_invalid."""
        return rpc_public("accounts", "set_my_email", auth.session_token(), body["email"])


@me_bp.route("/sections")
class Sections(MethodView):
    @login_required
    @me_bp.response(200, SectionOut(many=True))
    def get(self):
        """Sections the student is enrolled in, or the teacher teaches."""
        return rpc("records", "list_my_sections")


@outcomes_bp.route("/outcomes")
class Outcomes(MethodView):
    @login_required
    @outcomes_bp.arguments(OutcomeQuery, location="query")
    @outcomes_bp.response(200, OutcomeOut(many=True))
    def get(self, query):
        """The student's own course outcomes."""
        return rpc("records", "list_my_outcomes", query["school_year"])


@outcomes_bp.route("/outcomes/tickets")
class OutcomeTickets(MethodView):
    @login_required
    @outcomes_bp.doc(parameters=[{
        "in": "header", "name": "Idempotency-Key", "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 80},
        "description": "the same for every retry of one ticket request; a new one for every new upload"}])
    @outcomes_bp.arguments(TicketIn)
    @outcomes_bp.response(201, TicketOut)
    @refusals(outcomes_bp, "description_empty", "description_too_long", "not_enrolled", "not_found",
              "outcome_quota_exceeded", "idempotency_key_reused", "window_closed", "calendar_not_set")
    def post(self, body):
        """Ask to upload a course outcome: records checks enrolment, 簡述, the upload window of
        the section's term (409 window_closed, the dates in message_zh; 409 calendar_not_set
        when the school calendar has no such term) and the term's quota (the calendar's limit).

        Then send the file to the files service yourself, never through this API: `POST
        upload_url` with the raw bytes (`Authorization: Bearer <files_token>`, `X-Upload-Ticket:
        <ticket>`, `X-Filename: <percent-encoded name>`), or resumably with tus at
        `resumable_url`. PDF/JPG/PNG ≤ 4 MB, MP3/MP4 ≤ 10 MB, decided by content. Send the same
        `Idempotency-Key` on every retry of one ticket request: a retry after a lost answer gets
        the same ticket instead of a second quota slot. `slot` (document or media; absent: the
        slot of the file's kind) names the outcome's slot the file goes into; the other slot is
        filled later with `POST /outcomes/<id>/reupload` and the same slot of the quota.
        """
        return flows.outcome_ticket(body["section_id"], body["description"], request.headers.get("Idempotency-Key"),
                                    body["slot"])


@outcomes_bp.route("/outcomes/<outcome_id>/reupload")
class OutcomeReupload(MethodView):
    @login_required
    @outcomes_bp.doc(parameters=[{
        "in": "header", "name": "Idempotency-Key", "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 80},
        "description": "the same for every retry of one ticket request; a new one for every new upload"}])
    @outcomes_bp.arguments(ReuploadIn)
    @outcomes_bp.response(201, TicketOut)
    @refusals(outcomes_bp, "description_empty", "description_too_long", "not_found", "outcome_not_returned",
              "outcome_quota_exceeded", "idempotency_key_reused", "window_closed", "calendar_not_set")
    def post(self, body, outcome_id):
        """A file for a course outcome of your own, into `slot` (document or media): upload a
        RETURNED outcome's file again (重新上傳), or add the file its empty slot lacks (the
        media file beside the document, or the reverse) to an uploaded, certified or returned
        outcome. A ticket for the same outcome (same course and term; the 簡述 may be
        corrected). The quota counts outcomes, not files: a file for an outcome that counts
        takes no second slot; a returned outcome frees its slot, so its upload must fit the
        term's quota again (409 outcome_quota_exceeded). Send the file to the files service as
        for a first upload; the teacher then sees the next round of the same outcome with all
        its files (a certified outcome given another file is certified again). 404 for an
        outcome that is not yours; 409 outcome_not_returned for replacing the file of an outcome
        that is not returned, or any file of one locked in a selection.
        """
        return flows.outcome_reupload_ticket(outcome_id, body["description"], request.headers.get("Idempotency-Key"),
                                             body["slot"])


@outcomes_bp.route("/outcomes/quota")
class OutcomeQuota(MethodView):
    @login_required
    @outcomes_bp.arguments(QuotaQuery, location="query")
    @outcomes_bp.response(200, QuotaOut)
    def get(self, query):
        """What is left of the semester's quota of course outcomes (the school calendar's limit
        for the term, 6 at this school; `limit` null and `upload` null without a calendar)."""
        return rpc("records", "get_my_outcome_quota", query["school_year"], query["semester"])


@outcomes_bp.route("/outcomes/<outcome_id>")
class OutcomeOne(MethodView):
    @login_required
    @outcomes_bp.response(200, OutcomeOut)
    def get(self, outcome_id):
        """One outcome; another student's reads exactly like one that does not exist."""
        return rpc("records", "get_outcome", outcome_id)


@outcomes_bp.route("/files/<file_id>")
class FileOne(MethodView):
    @login_required
    @outcomes_bp.arguments(DownloadQuery, location="query")
    @outcomes_bp.response(302, description="Location: a short-lived link to the bytes on the files service")
    @refusals(outcomes_bp, "not_found", "storage_unavailable")
    def get(self, query, file_id):
        """Download an evidence file (owner, reviewing teacher or registrar): the files service
        checks who may read it and the answer redirects there (streamed, ranged)."""
        return redirect_to_file(file_id, query["download"])


@outcomes_bp.route("/files/token")
class FilesToken(MethodView):
    @login_required
    @outcomes_bp.response(201, FilesTokenOut)
    def post(self):
        """A fresh token for the files service (a long resumable upload outlives the first)."""
        from portfolio_common.caller import TTL_SECONDS
        return {"token": files_token(), "expires_in": TTL_SECONDS}


def redirect_to_file(file_id, download=False):
    resp = Response(status=302)
    resp.headers["Location"] = file_link(file_id, "attachment" if download else "inline")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@cert_bp.route("/tasks")
class Tasks(MethodView):
    @login_required
    @cert_bp.arguments(TaskQuery, location="query")
    @cert_bp.response(200, TaskOut(many=True))
    def get(self, query):
        """The teacher's certification queue."""
        return flows.teacher_queue(query["status"])


@cert_bp.route("/decisions")
class Decisions(MethodView):
    @login_required
    @cert_bp.arguments(DecisionIn)
    @cert_bp.response(200, DecisionOut)
    @refusals(cert_bp, "nothing_selected", "batch_too_large", "reason_required", "reason_note_required",
              "reason_unknown", "reason_too_long")
    def post(self, body):
        """Certify, return (with a reason of the school's list, plus free text) or withdraw a
        certification (with a reason), up to 200 items at once; each item gets its own verdict.

        Refused one by one, the rest decided: not_found (another teacher's or tenant's item reads
        as missing), already_decided (a stale tab), not_certified (withdraw),
        calendar_not_set, window_closed (with the window's dates). The whole request is refused
        for reason_required, reason_note_required (a listed reason such as 其他 without the
        note it needs), reason_unknown, reason_too_long."""
        return flows.decide(body["action"], body["task_ids"], body["reason"], body["reason_code"])


@cert_bp.route("/return-reasons")
class ReturnReasons(MethodView):
    @login_required
    @cert_bp.arguments(ReturnReasonQuery, location="query")
    @cert_bp.response(200, ReturnReasonOut(many=True))
    def get(self, query):
        """The school's list of reasons to return an outcome (teachers; the academic section
        also sees retired ones with include_retired=true)."""
        return rpc("certification", "list_return_reasons", query["include_retired"])


@cert_bp.route("/return-reasons/<code>")
class ReturnReason(MethodView):
    @login_required
    @cert_bp.arguments(ReturnReasonIn)
    @cert_bp.response(200, ReturnReasonOut)
    @refusals(cert_bp, "return_reason_invalid")
    def put(self, body, code):
        """Add or change one reason (academic section: executive_secretary). Retire with
        active=false; reasons are never deleted, so past returns keep their meaning."""
        return rpc("certification", "save_return_reason", code, body["label"], body["needs_note"],
                   body["active"], body["position"])


@cert_bp.route("/stats")
class TaskStats(MethodView):
    @login_required
    @cert_bp.response(200, description="Task counts by status for the tenant (ops)")
    def get(self):
        """Task counts of the tenant by status (ops, executive secretary, principal)."""
        return rpc("certification", "count_tasks")


class OversightQuery(_In):
    by = fields.String(load_default="teacher",
                       validate=validate.OneOf(["tenant", "teacher", "section", "subject", "class"]))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))


class FigureOut(Schema):
    key = fields.String(allow_none=True, metadata={
        "description": "teacher user id, section id, subject, class code; null for the tenant and for 未分班"})
    name = fields.String(metadata={"description": "what a person reads: the teacher's name, the class's name, "
                                                  "the subject, the section's subject and classes"})
    username = fields.String(allow_none=True, metadata={"description": "the teacher's username (by=teacher)"})
    open = fields.Integer()
    certified = fields.Integer()
    returned = fields.Integer()
    withdrawn = fields.Integer()
    decided = fields.Integer()
    median_hours_to_decide = fields.Float(allow_none=True)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@cert_bp.route("/oversight")
class Oversight(MethodView):
    @login_required
    @cert_bp.arguments(OversightQuery, location="query")
    @cert_bp.response(200, FigureOut(many=True))
    @cert_bp.doc(responses={"200": {"description": "OK", "content": {  # format=csv | xlsx: as a download
        "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/FigureOut"}}},
        "text/csv": {"schema": {"type": "string"}},
        XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, query):
        """Oversight figures: open, certified, returned and withdrawn rounds and the median hours
        to decide, per `by` = tenant | teacher | section | subject | class, of what the caller
        oversees (academic section, executive secretary, principal, ops: the tenant; a homeroom
        teacher: their class; a subject convener: the subjects they teach). `format=csv|xlsx`
        downloads the same table (CSV: UTF-8 with BOM, zh-TW headers)."""
        from . import oversight, tenants
        rows = oversight.figures(query["by"], tenants.for_page().get(auth.current_user()["tenant"], "全校"))
        if query["format"] != "json":
            return oversight.download(query["by"], rows, query["format"], auth.current_user()["tenant"])
        return rows


class OpenAtCloseQuery(_In):
    within_days = fields.Integer(load_default=7, validate=validate.Range(min=0, max=60))


class OpenAtCloseOut(Schema):
    teacher_user_id = fields.String()
    teacher_name = fields.String()
    teacher_username = fields.String(allow_none=True)
    section_id = fields.String()
    subject_name = fields.String()
    school_year = fields.Integer()
    semester = fields.Integer()
    open = fields.Integer()
    closes_on = fields.String(allow_none=True, metadata={"description": "last day of the certification window"})
    window = fields.String(metadata={"description": "closing | closed | calendar_not_set"})


@cert_bp.route("/open-at-close")
class OpenAtClose(MethodView):
    @login_required
    @cert_bp.arguments(OpenAtCloseQuery, location="query")
    @cert_bp.response(200, OpenAtCloseOut(many=True))
    def get(self, query):
        """Open rounds per teacher and section whose certification window has closed or closes
        within `within_days` days (academic section: hand them to a proxy with POST /proxies),
        with the teacher's name and username; scoped like /oversight."""
        from . import oversight
        return oversight.open_at_close(query["within_days"])


proxy_bp = Blueprint("api_proxies", __name__, url_prefix="/api/v1/proxies",
                     description="Proxy certifiers (代理人)")


@proxy_bp.route("")
class Proxies(MethodView):
    @login_required
    @proxy_bp.response(200, ProxyOut(many=True))
    def get(self):
        """Delegations involving the caller (all of the tenant's for the academic section)."""
        return rpc("accounts", "list_proxies")

    @login_required
    @proxy_bp.arguments(ProxyIn)
    @proxy_bp.response(201, description="{id}")
    def post(self, body):
        """Name a proxy for a period; while it holds, the proxy may certify the teacher's sections."""
        teacher = body["teacher_username"] or auth.current_user()["username"]
        return rpc("accounts", "grant_proxy", teacher, body["proxy_username"],
                   body["starts_on"].isoformat(), body["ends_on"].isoformat())


@proxy_bp.route("/<delegation_id>")
class ProxyOne(MethodView):
    @login_required
    @proxy_bp.response(204)
    def delete(self, delegation_id):
        """End a delegation."""
        rpc("accounts", "revoke_proxy", delegation_id)


@sel_bp.route("/<school_year:school_year>")
class Selection(MethodView):
    @login_required
    @sel_bp.response(200, SelectionOut)
    def get(self, school_year):
        """The student's certified outcomes of the year, which are selected, and the lock."""
        return rpc("submission", "get_my_selection", school_year)

    @login_required
    @sel_bp.arguments(SelectionIn)
    @sel_bp.response(200, SelectionSaved)
    @refusals(sel_bp, "window_closed", "selection_locked", "selection_quota_exceeded", "not_selectable",
              "selection_stale", "calendar_not_set")
    def put(self, body, school_year):
        """Set the student's selection: outcome_ids and performance_ids are whole lists (omit one
        to keep it); at most the year's limits (calendar), inside the selection window."""
        return rpc("submission", "save_selection", school_year, body["outcome_ids"], body["performance_ids"],
                   body["expected_version"])


@sel_bp.route("/<school_year:school_year>/lock")
class Lock(MethodView):
    @login_required
    @sel_bp.arguments(LockIn)
    @sel_bp.response(201, LockOut)
    @refusals(sel_bp, "already_locked")
    def post(self, body, school_year):
        """Registrar: lock the tenant's, a grade's or a class's selections of the school year. A
        copy is held for each student with consent; students without consent are frozen and
        counted in without_consent."""
        from .selection_api import scope_students
        if body["scope"] == "class" and not body["class_code"] or body["scope"] == "grade" and not body["grade"]:
            raise ApiError("invalid", detail="class_code or grade is required for this scope")
        label, ids = scope_students(body["scope"], body["class_code"], body["grade"])
        return rpc("submission", "lock_selections", school_year, body["scope"], label, ids)


@sel_bp.route("/<school_year:school_year>/locked")
class Locked(MethodView):
    @login_required
    @sel_bp.response(200, LockedOut)
    def get(self, school_year):
        """Registrar: the locked selections the submission service holds."""
        return rpc("submission", "list_locked", school_year)


audit_bp = Blueprint("api_audit", __name__, url_prefix="/api/v1/audit", description="Access audit (ops)")


@audit_bp.route("")
class Audit(MethodView):
    @login_required
    @audit_bp.arguments(AuditQuery, location="query")
    @audit_bp.response(200, description="Newest first: sign-ins, failures, lockouts, role changes, refusals")
    def get(self, query):
        """The access audit rows naming the caller's tenant (ops, executive secretary, principal):
        each row carries the tenants of the account concerned (`tenants`)."""
        return rpc("accounts", "list_access_audit", query["limit"])


students_bp = Blueprint("api_students", __name__, url_prefix="/api/v1/students",
                        description="Student records (registrar)")


class StudentOut(Schema):
    """A student profile; a sealed student (sealed: true) has id, name and class only, the
    other fields null."""
    id = fields.String()
    student_no = fields.String(allow_none=True)
    name = fields.String()
    class_code = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    school_year = fields.Integer(allow_none=True)
    seat_no = fields.Integer(allow_none=True)
    national_id_masked = fields.String(allow_none=True)
    birth_date = fields.String(allow_none=True, metadata={"description": "ISO date"})
    birth_date_roc = fields.String(allow_none=True, metadata={"description": "ROC yyyMMdd (national rosters)"})
    gender = fields.String(allow_none=True)
    school_code = fields.String(allow_none=True)
    group_code = fields.String(allow_none=True)
    department_code = fields.String(allow_none=True)
    class_type_code = fields.String(allow_none=True)
    division_code = fields.String(allow_none=True)
    enrolment_route = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    status_changed_on = fields.String(allow_none=True)
    user_id = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True, metadata={"description": "send it back with a change (stale_record otherwise)"})
    sealed = fields.Boolean(metadata={"description": "a sealed student is listed with id, name and class only "
                                                     "(their record: an approved sealed-read request)"})


class StudentQuery(_In):
    class_code = fields.String(load_default=None)


class StudentIn(_In):
    """A profile as text, the way a person types it; records reads and checks every field."""
    student_no = fields.String(required=True)
    name = fields.String(required=True)
    national_id = fields.String(load_default="", metadata={"description": "any case, full-width allowed; "
                                                                          "empty on a change = unchanged"})
    birth_date = fields.String(load_default="", metadata={"description": "0940315, 94/03/15 or 2005-03-15"})
    gender = fields.String(load_default="")
    class_code = fields.String(required=True)
    class_name = fields.String(load_default="")
    seat_no = fields.String(load_default="")
    school_code = fields.String(load_default="")
    group_code = fields.String(load_default="")
    department_code = fields.String(load_default="")
    class_type_code = fields.String(load_default="")
    division_code = fields.String(load_default="")
    enrolment_route = fields.String(load_default="")
    status = fields.String(load_default="")
    username = fields.String(load_default="", metadata={"description": "the student's account; empty on a change = unchanged"})
    version = fields.Integer(load_default=None, metadata={"description": "required on PUT: the version you read"})


class StatusChangeIn(_In):
    change = fields.String(required=True, metadata={"description": "repeat | reinstatement | transfer_in | "
                                                                    "transfer_out | department_transfer | visiting_study"})
    effective_on = fields.String(required=True)
    other_school_code = fields.String(load_default="")
    school_year = fields.String(load_default="")
    semester = fields.String(load_default="")
    note = fields.String(load_default="")


class StatusChangeOut(Schema):
    id = fields.String()
    student_id = fields.String()
    change = fields.String()
    effective_on = fields.String()
    other_school_code = fields.String(allow_none=True)
    school_year = fields.Integer()
    semester = fields.Integer()
    note = fields.String(allow_none=True)
    recorded_via = fields.String()
    recorded_by = fields.String(allow_none=True)
    recorded_at = fields.String(allow_none=True)
    voided_at = fields.String(allow_none=True)
    void_reason = fields.String(allow_none=True)
    version = fields.Integer()


class VoidIn(_In):
    version = fields.Integer(required=True)
    reason = fields.String(required=True)


class HistoryOut(Schema):
    chain_seq = fields.Integer()
    at = fields.String()
    entity = fields.String()
    entity_id = fields.String()
    action = fields.String()
    actor_user_id = fields.String(allow_none=True)
    actor_username = fields.String(allow_none=True)
    acting_for = fields.String(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    hash = fields.String()


def _profile_data(body):
    from .students import form_data
    return form_data({k: ("" if v is None else str(v)) for k, v in body.items()})


def _profile_options():
    from flask import current_app

    from .roster import tenant_school_code
    from .schoolcalendar import year_semester
    return {"school_year": year_semester()[0],
            "school_code": tenant_school_code(auth.current_user()["tenant"])}


@students_bp.route("")
class Students(MethodView):
    @login_required
    @students_bp.arguments(StudentQuery, location="query")
    @students_bp.response(200, StudentOut(many=True))
    def get(self, query):
        """The tenant's student profiles, national IDs masked (registrar)."""
        return rpc("records", "list_students", query["class_code"])

    @login_required
    @students_bp.arguments(StudentIn)
    @students_bp.response(201, StudentOut)
    def post(self, body):
        """Add a student profile (registrar). Field problems: 422 fields_invalid with
        error.fields [{field, code, message, message_zh}]."""
        return rpc("records", "create_student", _profile_data(body), _profile_options())


@students_bp.route("/<student_id>")
class StudentOne(MethodView):
    @login_required
    @students_bp.response(200, StudentOut)
    def get(self, student_id):
        """One profile (the registrar of its tenant, or the student themself)."""
        return rpc("records", "get_student", student_id)

    @login_required
    @students_bp.arguments(StudentIn)
    @students_bp.response(200, StudentOut)
    def put(self, body, student_id):
        """Change a profile; send the `version` you read: 409 stale_record when someone changed it since."""
        version = body.pop("version")
        return rpc("records", "update_student", student_id, _profile_data(body),
                   version if version is not None else -1, _profile_options())


@students_bp.route("/<student_id>/history")
class StudentHistory(MethodView):
    @login_required
    @students_bp.response(200, HistoryOut(many=True))
    def get(self, student_id):
        """Everything that happened to the student's record: who, when, before, after (oldest first)."""
        return rpc("records", "get_history", "student", student_id)


@students_bp.route("/<student_id>/status-changes")
class StatusChanges(MethodView):
    @login_required
    @students_bp.response(200, StatusChangeOut(many=True))
    def get(self, student_id):
        """The student's status changes, voided ones included and marked."""
        return rpc("records", "list_status_changes", student_id)

    @login_required
    @students_bp.arguments(StatusChangeIn)
    @students_bp.response(201, StatusChangeOut)
    def post(self, body, student_id):
        """Add a dated status change (registrar); publishes student-status-changed."""
        return rpc("records", "record_status_change", student_id, body)


@students_bp.route("/<student_id>/status-changes/<change_id>/void")
class StatusChangeVoid(MethodView):
    @login_required
    @students_bp.arguments(VoidIn)
    @students_bp.response(200, StatusChangeOut)
    def post(self, body, student_id, change_id):
        """Mark a mistaken status change void (kept, with who and why)."""
        return rpc("records", "void_status_change", change_id, body["version"], body["reason"])


@students_bp.route("/<student_id>/national-id")
class StudentNationalId(MethodView):
    @login_required
    @students_bp.response(200, description="{student_id, national_id}; the look is recorded")
    def post(self, student_id):
        """Show one student's full national ID (registrar). POST, so it is never cached or linked;
        every look is kept in the student's change trail."""
        resp = rpc("records", "reveal_national_id", student_id)
        return resp, 200, {"Cache-Control": "no-store"}


items_bp = Blueprint("api_items", __name__, url_prefix="/api/v1",
                     description="Items the school's units enter: consultation records (consultations), career-plan "
                                 "assessments (career), attendance, activities (cadres, clubs, service), in-school "
                                 "competitions; who may write and read is records' decision")

_ITEM_FIELDS = ("held_on", "held_at", "place", "content", "advice", "assessed_on", "instrument", "suggested_groups",
                "career_plan", "school_year", "semester", "absence_code", "periods", "category", "name", "position",
                "hours", "started_on", "ended_on", "description", "result", "announced_on")


class ItemIn(_In):
    """An item's fields as text, the way a person types them (only the kind's own are used:
    see each kind's RPC in docs/permissions.md and services/records/README.md)."""
    student_id = fields.String(load_default=None, metadata={"description": "required on POST"})
    version = fields.Integer(load_default=None, metadata={"description": "required on PUT: the version you read"})
    held_on, held_at, place, content, advice = (fields.String(load_default=None) for _ in range(5))
    assessed_on, instrument, suggested_groups, career_plan = (fields.String(load_default=None) for _ in range(4))
    school_year, semester, absence_code, periods = (fields.String(load_default=None) for _ in range(4))
    category, name, position, hours, started_on, ended_on, description = (
        fields.String(load_default=None) for _ in range(7))
    result, announced_on = (fields.String(load_default=None) for _ in range(2))
    # course grades (kind `grades`: 學生成績名冊's columns)
    course_code, semester_grade, passed, makeup_grade, makeup_passed = (fields.String(load_default=None) for _ in range(5))
    credit_counted, pass_exception, remark, yearly_grade, yearly_passed = (
        fields.String(load_default=None) for _ in range(5))


class ItemQuery(_In):
    student_id = fields.String(load_default=None)
    class_code = fields.String(load_default=None)


def _item_kind(kind):
    from .items import KINDS
    if kind not in KINDS:
        raise ApiError("not_found")
    return KINDS[kind]


def _item_data(spec, body):
    return {f: body.get(f) or "" for f, *_ in spec["fields"]}


@items_bp.route("/records/<kind>")
class Items(MethodView):
    @login_required
    @items_bp.arguments(ItemQuery, location="query")
    @items_bp.response(200, description="class_code: [{student, items}]; student_id: [item]; neither: the "
                                        "calling student's own [item]")
    def get(self, query, kind):
        """Items of one kind: a class's (its unit, readers of the kind, the class's homeroom
        teacher), one student's, or your own (a student). Others: 404 not_found."""
        spec = _item_kind(kind)
        return rpc("records", spec["list"], query["student_id"], query["class_code"])

    @login_required
    @items_bp.arguments(ItemIn)
    @items_bp.response(201, description="the item: {id, kind, student_id, <its fields>, school_year, semester, "
                                        "recorded_by_username, version, voided_at, ...}")
    def post(self, body, kind):
        """Enter an item for a student (the unit responsible for the kind only). Field problems:
        422 fields_invalid with error.fields."""
        spec = _item_kind(kind)
        return rpc("records", spec["record"], body["student_id"] or "", _item_data(spec, body))


@items_bp.route("/records/<kind>/<item_id>")
class ItemOne(MethodView):
    @login_required
    @items_bp.arguments(ItemIn)
    @items_bp.response(200, description="the item as changed")
    def put(self, body, kind, item_id):
        """Change an item; send the `version` you read: 409 stale_record when it changed since."""
        spec = _item_kind(kind)
        update = spec["record"].replace("record_", "update_", 1)
        version = body["version"] if body["version"] is not None else -1
        return rpc("records", update, item_id, _item_data(spec, body), version)


@items_bp.route("/records/<kind>/<item_id>/void")
class ItemVoid(MethodView):
    @login_required
    @items_bp.arguments(VoidIn)
    @items_bp.response(200, description="the item, marked void (kept, with who and why)")
    def post(self, body, kind, item_id):
        """Mark a mistaken item void; it stays listed."""
        spec = _item_kind(kind)
        return rpc("records", spec["void"], item_id, body["version"], body["reason"])


class ProofQuery(_In):
    download = fields.Boolean(load_default=False, metadata={"description": "as an attachment"})


@items_bp.route("/records/<kind>/<item_id>/history")
class ItemHistory(MethodView):
    @login_required
    @items_bp.response(200, HistoryOut(many=True))
    def get(self, kind, item_id):
        """One item's history, oldest first: who, when, the action (created, updated, voided with
        its reason, proof_attached), the fields before and after. For whoever may read the item
        (its student, the homeroom teacher of the student's class, the kind's unit and readers);
        anyone else: 404 not_found."""
        spec = _item_kind(kind)
        return rpc("records", "get_history", spec["kind"], item_id)


@items_bp.route("/records/<kind>/<item_id>/proof-tickets")
class ItemProofTicket(MethodView):
    @login_required
    @items_bp.response(201, description="{item_kind, item_id, attempt, ticket, files_token, upload_url, "
                                        "resumable_url, expires_in}: send the bytes to the files service")
    def post(self, kind, item_id):
        """An upload ticket for an item's proof file (in-school competitions: the organising
        unit). The bytes go to the files service (upload_url or tus at resumable_url); a later
        proof replaces the earlier one. Errors: 403 not_allowed, 404 not_found, 409 item_voided."""
        from .items import item_proof_ticket
        return item_proof_ticket(_item_kind(kind), item_id)


@items_bp.route("/records/<kind>/<item_id>/proof")
class ItemProof(MethodView):
    @login_required
    @items_bp.arguments(ProofQuery, location="query")
    @items_bp.response(302, description="Location: a short-lived link to the proof on the files service")
    def get(self, query, kind, item_id):
        """Download an item's proof file: the item's readers only (its student, the homeroom
        teacher of the student's class, the unit that enters it); anyone else and an item
        without a proof: 404 not_found."""
        from .items import proof_redirect
        return proof_redirect(_item_kind(kind), item_id, query["download"])


@items_bp.route("/sections/<section_id>/grades")
class SectionGrades(MethodView):
    @login_required
    @items_bp.response(200, description="{section, students: [{student, grade | null}]}")
    def get(self, section_id):
        """The grades of one section: its subject teacher or the registrar. Any other section:
        404 not_found."""
        return rpc("records", "list_section_grades", section_id)


class ElectiveIn(_In):
    student_id = fields.String(required=True)
    course_code = fields.String(required=True)
    school_year = fields.String(required=True)
    semester = fields.String(required=True)
    class_code = fields.String(load_default=None, metadata={"description": "when the code runs in several sections"})


@items_bp.route("/electives")
class Electives(MethodView):
    @login_required
    @items_bp.arguments(ElectiveIn)
    @items_bp.response(200, description="{section_id, course_code, subject_name, enrolled (false: already)}")
    def post(self, body):
        """Enrol a student in an elective after course selection (the elective officer). Field
        problems: 422 fields_invalid (course_code_unknown, section_ambiguous...)."""
        data = {k: body.get(k) or "" for k in ("course_code", "school_year", "semester", "class_code")}
        return rpc("records", "enrol_elective", body["student_id"], data)


@items_bp.route("/me/records")
class MyRecords(MethodView):
    @login_required
    @items_bp.response(200, description="{student, kinds: {kind: [item]}}")
    def get(self):
        """我的紀錄: every item the school's units entered about you (a student)."""
        return rpc("records", "get_my_records")


@items_bp.route("/classes")
class ItemClasses(MethodView):
    @login_required
    @items_bp.response(200, description="[{code, name, school_year, kinds}]")
    def get(self):
        """The classes whose items you may list (a unit: every class; a homeroom teacher: theirs)."""
        return rpc("records", "list_item_classes")


@items_bp.route("/classes/<class_code>/records")
class ClassRecords(MethodView):
    @login_required
    @items_bp.response(200, description="{class_code, students, kinds: {kind: {student_id: [item]}}, "
                                        "performances: {student_id: [performance]}}")
    def get(self, class_code):
        """Every item of a class you may read (its homeroom teacher: all kinds and the students'
        performances, 多元表現)."""
        return rpc("records", "get_class_records", class_code)


class AutobiographyQuery(_In):
    student_id = fields.String(load_default=None)


class AutobiographyIn(_In):
    version = fields.Integer(required=True, metadata={"description": "the version_no you last saw (0: the first)"})
    autobiography = fields.String(load_default="")
    career_plan = fields.String(load_default="")
    expectations = fields.String(load_default="")
    strengths = fields.String(load_default="")
    interests = fields.String(load_default="")


class ReviewIn(_In):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "return"]))
    comment = fields.String(load_default="", metadata={"description": "required when returning"})


@items_bp.route("/autobiography")
class Autobiography(MethodView):
    @login_required
    @items_bp.arguments(AutobiographyQuery, location="query")
    @items_bp.response(200, description="{student, versions: [newest first: {id, version_no, autobiography, "
                                        "career_plan, expectations, strengths, interests, status, review_comment...}]}")
    def get(self, query):
        """Every version of an autobiography and study plan: yours (a student), or a student's
        (the counsellors; the homeroom teacher of the class). Others: 404 not_found."""
        return rpc("records", "get_autobiography", query["student_id"])

    @login_required
    @items_bp.arguments(AutobiographyIn)
    @items_bp.response(201, description="the new version, submitted for review")
    def put(self, body):
        """Save a new version (a student); 409 stale_record when a newer one was saved since `version`."""
        version = body.pop("version")
        return rpc("records", "write_autobiography", body, version)


@items_bp.route("/autobiography/<version_id>/review")
class AutobiographyReview(MethodView):
    @login_required
    @items_bp.arguments(ReviewIn)
    @items_bp.response(200, description="the version, approved or returned")
    def post(self, body, version_id):
        """Approve the latest submitted version or return it with a comment (counsellors; the
        homeroom teacher of the class)."""
        return rpc("records", "review_autobiography", version_id, body["decision"], body["comment"])


@items_bp.route("/classes/<class_code>/autobiographies")
class ClassAutobiographies(MethodView):
    @login_required
    @items_bp.response(200, description="[{student, latest}]")
    def get(self, class_code):
        """The latest version of each student of a class (counsellors; its homeroom teacher)."""
        return rpc("records", "list_class_autobiographies", class_code)


imports_bp = Blueprint("api_imports", __name__, url_prefix="/api/v1/imports",
                       description="Spreadsheet imports of records item kinds (one flow for every kind)")


class ImportIn(_In):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class ImportForm(_In):
    dry_run = fields.Boolean(load_default=True, metadata={"description": "true: preview only (default)"})
    basis = fields.String(load_default=None, metadata={"description": "the dry run's basis: refused with "
                                                                      "stale_record when records changed since"})
    school_year = fields.Integer(load_default=None)
    semester = fields.Integer(load_default=None)


class ImportProblemOut(Schema):
    row = fields.Integer(metadata={"description": "the spreadsheet's own row number (0: the whole file)"})
    column = fields.String(allow_none=True, metadata={"description": "the field, as in `columns`"})
    code = fields.String(metadata={"description": "a stable error code (errors.py)"})
    message = fields.String()
    message_zh = fields.String()


class ImportChangeOut(Schema):
    field = fields.String(metadata={"description": "the field the row changes (school_year, class_code, "
                                                   "seat_no, name, national_id, birth_date, gender, status, ...)"})
    label = fields.String(metadata={"description": "its column's zh-TW label"})
    before = fields.Raw(allow_none=True, metadata={"description": "the stored value (national ID masked; "
                                                                  "birth date ISO; null: empty or, for "
                                                                  "username, another account)"})
    after = fields.Raw(allow_none=True, metadata={"description": "the file's value, as it would be stored"})


class ImportRowOut(Schema):
    row = fields.Integer()
    cells = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True),
                        metadata={"description": "the row as the file has it, national IDs masked"})
    changes = fields.List(fields.Nested(ImportChangeOut), metadata={
        "description": "kinds compared with what is stored (student_profile): for a row that updates a "
                       "record, each field it changes, old -> new; [] for a row that changes nothing; "
                       "absent for a new record, a row with problems or another kind"})


class ImportReportOut(Schema):
    kind = fields.String()
    filename = fields.String()
    sha256 = fields.String(metadata={"description": "the file's SHA-256, hex"})
    dry_run = fields.Boolean()
    written = fields.Boolean()
    problems = fields.List(fields.Nested(ImportProblemOut))
    notices = fields.List(fields.Dict(), metadata={"description": "what the reader corrected: [{row, code, message}]"})
    rows = fields.List(fields.Nested(ImportRowOut))
    actions = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), metadata={
        "description": "{row: created|updated|unchanged} (null for every row when any has a problem)"})
    summary = fields.Dict(keys=fields.String(), values=fields.Integer(),
                          metadata={"description": "{created, updated, unchanged}"})
    basis = fields.String(allow_none=True, metadata={"description": "give it back with dry_run=false"})
    columns = fields.List(fields.Dict(), metadata={"description": "the file's columns, in the kind's order"})
    header_row = fields.Integer(allow_none=True)


@imports_bp.route("")
class ImportKinds(MethodView):
    @login_required
    @imports_bp.response(200, description="[{kind, roles, key_field, columns}] the caller may import")
    def get(self):
        """The import kinds open to the caller, with their columns."""
        return rpc("records", "list_import_kinds")


@imports_bp.route("/<kind>")
class ImportOne(MethodView):
    @login_required
    @imports_bp.arguments(ImportForm, location="form")
    @imports_bp.arguments(ImportIn, location="files")
    @imports_bp.response(200, ImportReportOut)
    def post(self, form, files, kind):
        """Import a CSV (UTF-8 or Big5) or xlsx file of one kind: a dry run (default) reports every
        row's problems by row and column; `dry_run=false` with the dry run's `basis` writes all
        rows or none. Never a server error for a malformed file: a file-level problem (row 0)."""
        from flask import current_app

        from . import importflow
        from .roster import options_for
        if kind not in importflow.RPCS:
            raise ApiError("not_found")
        upload = files["file"]
        data = upload.stream.read(6 * 1024 * 1024)
        from .schoolcalendar import year_semester
        if not (form["school_year"] and form["semester"]):
            cur_year, cur_semester = year_semester()
        year = form["school_year"] or cur_year
        semester = form["semester"] or cur_semester
        report = importflow.run(kind, upload.filename or "", data, dry_run=form["dry_run"], basis=form["basis"],
                                options=options_for(kind, auth.current_user(), year, semester))
        report["actions"] = {str(k): v for k, v in report["actions"].items()}
        return report


def init_app(app):
    app.url_map.converters["school_year"] = SchoolYearConverter
    api = PortfolioApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    api.register_converter(SchoolYearConverter, lambda _: {"type": "integer", **SCHOOL_YEARS})
    from .calendar_api import bp as calendar_bp
    from .national import api_bp as national_bp
    from .performances import api_bp as performances_bp
    from .selection_api import bp as selection_more_bp
    from .sealing import api_bp as sealing_bp
    from .transfer import api_bp as transfer_bp
    from .downloads import api_bp as downloads_bp
    for bp in (auth_bp, me_bp, outcomes_bp, cert_bp, sel_bp, proxy_bp, audit_bp, students_bp, items_bp,
               imports_bp, performances_bp, calendar_bp, national_bp, selection_more_bp, sealing_bp, transfer_bp,
               downloads_bp):
        api.register_blueprint(bp)
    app.extensions["api"] = api
