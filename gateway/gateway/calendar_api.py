"""JSON API of the school calendar: /api/v1/calendar (read by everyone of the tenant; written
by the registrar — 註冊組 in `day`, 教務組 in `ce`). Thin over submission's RPCs."""
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, pre_load

from . import auth, schoolcalendar
from .api import refusals
from .auth import login_required
from .clients import rpc

bp = Blueprint("api_calendar", __name__, url_prefix="/api/v1/calendar",
               description="The school calendar: terms, windows, national deadline, limits")


# Dates travel as ISO strings (YYYY-MM-DD, Taiwan dates) as submission answers them.
class WindowOut(Schema):
    opens_on = fields.String()
    closes_on = fields.String(metadata={"description": "inclusive, a Taiwan (Asia/Taipei) date"})


class WindowStateOut(WindowOut):
    state = fields.String(metadata={"enum": ["upcoming", "open", "closed"]})
    days_left = fields.Integer(allow_none=True, metadata={"description": "open: days left, today counted"})
    days_to_open = fields.Integer(allow_none=True)


class LimitsOut(Schema):
    outcome_uploads_per_semester = fields.Integer()
    outcomes_selected_per_year = fields.Integer()
    performances_selected_per_year = fields.Integer()


class TermOut(Schema):
    school_year = fields.Integer()
    semester = fields.Integer()
    starts_on = fields.String()
    ends_on = fields.String()
    upload = fields.Nested(WindowOut)
    certification = fields.Nested(WindowOut)
    selection = fields.Nested(WindowOut)
    national_deadline = fields.String()
    school_completion_on = fields.String(metadata={"description": "national_deadline - 14 days"})
    limits = fields.Nested(LimitsOut)
    version = fields.Integer()
    changed_at = fields.String()
    today = fields.String()
    current = fields.Boolean(metadata={"description": "the term's days hold today"})
    windows = fields.Dict(keys=fields.String(), values=fields.Nested(WindowStateOut))
    changed = fields.Boolean(metadata={"description": "PUT only: whether anything changed"})


class CalendarOut(Schema):
    today = fields.String()
    current = fields.List(fields.Integer(), allow_none=True, metadata={"description": "[school_year, semester]"})
    terms = fields.List(fields.Nested(TermOut))


# What GET answers and PUT cannot change: sent back unchanged with a GET body, they are ignored.
READ_ONLY = ("school_year", "semester", "school_completion_on", "version", "changed_at", "changed", "today",
             "current", "windows")
WINDOWS = ("upload", "certification", "selection")


class TermIn(Schema):
    """Any of the term's fields (ISO dates) and the school year's limits; what is not sent keeps
    its value (a new term needs every date). Checked by the submission service.

    Two shapes are accepted: the flat one (`upload_closes_on`, `outcome_uploads_per_semester`)
    and the one GET answers (`upload: {opens_on, closes_on}`, `limits: {...}`), so a client may
    send back what it read with a value changed; its read-only fields are ignored. Any other
    field is refused (422 invalid, by field) instead of being silently dropped."""
    class Meta:
        unknown = RAISE

    @pre_load
    def flatten(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        flat = {k: v for k, v in data.items() if k not in READ_ONLY and k not in WINDOWS and k != "limits"}
        for name in WINDOWS:
            window = data.get(name)
            if window is None:
                continue
            if not isinstance(window, dict):
                flat[name] = window  # refused below as an unknown shape
                continue
            for edge, value in window.items():
                flat[f"{name}_{edge}"] = value  # opens_on / closes_on; anything else: unknown
        limits = data.get("limits")
        if isinstance(limits, dict):
            flat.update(limits)
        elif limits is not None:
            flat["limits"] = limits
        return flat
    starts_on = fields.String()
    ends_on = fields.String()
    upload_opens_on = fields.String()
    upload_closes_on = fields.String()
    certification_opens_on = fields.String()
    certification_closes_on = fields.String()
    selection_opens_on = fields.String()
    selection_closes_on = fields.String()
    national_deadline = fields.String()
    outcome_uploads_per_semester = fields.Raw(metadata={"type": "integer"})
    outcomes_selected_per_year = fields.Raw(metadata={"type": "integer", "maximum": 6})
    performances_selected_per_year = fields.Raw(metadata={"type": "integer", "maximum": 10})
    expected_version = fields.Integer(metadata={"description": "the version you read; another: 409 calendar_stale"})


class ChangeOut(Schema):
    version = fields.Integer()
    changed_by = fields.String()
    changed_by_username = fields.String()
    changed_at = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict()


@bp.route("")
class Calendar(MethodView):
    @login_required
    @bp.response(200, CalendarOut)
    def get(self):
        """Every term of the caller's tenant, newest first, and which one holds today."""
        return rpc("submission", "list_calendar")


@bp.route("/current")
class Current(MethodView):
    @login_required
    @bp.response(200, TermOut)
    @refusals(bp, "calendar_not_set")
    def get(self):
        """The term whose days hold today (409 calendar_not_set when none does)."""
        return rpc("submission", "get_calendar")


@bp.route("/<int(signed=True):school_year>/<int(signed=True):semester>")
class Term(MethodView):
    @login_required
    @bp.response(200, TermOut)
    @refusals(bp, "not_found", "school_year_invalid", "semester_invalid")
    def get(self, school_year, semester):
        """One term of the caller's tenant."""
        return rpc("submission", "get_calendar", school_year, semester)

    @login_required
    @bp.arguments(TermIn)
    @bp.response(200, TermOut)
    @refusals(bp, "not_allowed", "fields_invalid", "school_year_invalid", "semester_invalid", "calendar_stale")
    def put(self, body, school_year, semester):
        """Set or change one term (registrar). Refusals by field (422 fields_invalid, `fields`):
        a window closing before it opens, a date outside the school year's sensible range,
        certification closing before uploads, selection ending after the school completion date
        (national deadline - 14 days), a limit beyond the national rules. Publishes
        calendar-changed; the change is kept (who, when, before, after)."""
        expected = body.pop("expected_version", None)
        res = rpc("submission", "set_term", school_year, semester, body, expected)
        schoolcalendar.forget(auth.current_user()["tenant"])
        return res


@bp.route("/<int(signed=True):school_year>/<int(signed=True):semester>/changes")
class Changes(MethodView):
    @login_required
    @bp.response(200, ChangeOut(many=True))
    @refusals(bp, "not_allowed")
    def get(self, school_year, semester):
        """Every change of one term, newest first (registrar)."""
        return rpc("submission", "list_calendar_changes", school_year, semester)
