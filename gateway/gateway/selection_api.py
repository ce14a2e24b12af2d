"""JSON API of selection, consent, lock and unlock beyond the original three endpoints
(issue 9 items 2-4). Thin over submission's RPCs; the registrar's scopes (grade, class) are
resolved to students with records' roster here, since submission does not know classes."""
import re

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from .api import refusals
from .auth import login_required
from .clients import rpc

bp = Blueprint("api_selection_more", __name__, url_prefix="/api/v1/selections",
               description="Selection items, consent to release, lock by scope, unlock, pre-lock overview")

GRADE_OF_NAME = re.compile(r"([一二三])年")
GRADES = {"一": 1, "二": 2, "三": 3}


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


def grade_of(student: dict):
    """1-3 from the class name (…一年甲班); None when the name does not say."""
    m = GRADE_OF_NAME.search(student.get("class_name") or "")
    return GRADES[m.group(1)] if m else None


def scope_students(scope, class_code=None, grade=None):
    """(label, [student user ids]) of a lock's scope from records' roster of the caller's tenant."""
    roster = [s for s in rpc("records", "list_students") if s.get("user_id")]
    if scope == "class":
        chosen = [s for s in roster if s.get("class_code") == class_code]
        label = next((s.get("class_name") or class_code for s in chosen), class_code or "")
    elif scope == "grade":
        chosen = [s for s in roster if grade_of(s) == grade]
        label = f"{'一二三'[grade - 1]}年級" if grade in (1, 2, 3) else ""
    else:
        chosen, label = roster, "全部"
    return label, [s["user_id"] for s in chosen]


def overview_by_class(school_year):
    """The registrar's overview grouped by class: [{class_code, class_name, students: [{...
    roster fields, counts}], totals}] ordered by class code; students without a class last."""
    data = rpc("submission", "selection_overview", school_year)
    roster = rpc("records", "list_students")
    empty = {"uploaded": 0, "certified": 0, "waiting": 0, "returned": 0, "unselected": 0, "selected_outcomes": 0,
             "selected_performances": 0, "performances": 0, "others": 0, "has_selection": False, "consent": False,
             "locked": bool(data.get("legacy_lock")), "lock_version": None}
    classes = {}
    for s in roster:
        counts = data["students"].get(str(s.get("user_id")), empty)
        c = classes.setdefault(s.get("class_code") or "", {"class_code": s.get("class_code") or "",
                                                           "class_name": s.get("class_name") or "（未編班）",
                                                           "students": []})
        c["students"].append({"student_user_id": s.get("user_id"), "student_no": s.get("student_no"),
                              "name": s.get("name"), "seat_no": s.get("seat_no"), **counts})
    out = []
    for code in sorted(classes, key=lambda k: (k == "", k)):
        c = classes[code]
        c["students"].sort(key=lambda s: (s.get("seat_no") or 0, s.get("student_no") or ""))
        st = c["students"]
        c["totals"] = {k: sum(s[k] for s in st) for k in ("uploaded", "certified", "waiting", "returned", "unselected")}
        c["totals"].update(students=len(st), no_selection=sum(not s["has_selection"] for s in st),
                           no_consent=sum(not s["consent"] for s in st), locked=sum(bool(s["locked"]) for s in st))
        out.append(c)
    return {"school_year": data["school_year"], "classes": out, "locks": data["locks"]}


class SelectionItemIn(_In):
    kind = fields.String(required=True, validate=validate.OneOf(["outcome", "performance"]))
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    selected = fields.Boolean(required=True)


class SavedOut(Schema):
    school_year = fields.Integer()
    version = fields.Integer()
    changed = fields.Boolean()
    selected = fields.List(fields.String())
    outcome_ids = fields.List(fields.String())
    performance_ids = fields.List(fields.String())


class SelectionChangeOut(Schema):
    version = fields.Integer()
    changed_by = fields.String()
    changed_at = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict()


class StudentQuery(_In):
    student_user_id = fields.String(load_default=None, metadata={"description": "registrar: the student"})


class WordingOut(Schema):
    version = fields.String()
    text = fields.String()


class ConsentOut(Schema):
    school_year = fields.Integer()
    given = fields.Boolean()
    at = fields.String(allow_none=True)
    wording_version = fields.String(allow_none=True, metadata={"description": "of the consent given"})
    wording = fields.Nested(WordingOut, metadata={"description": "the wording to show now"})
    locked = fields.Boolean()
    changed = fields.Boolean()


class ConsentIn(_In):
    give = fields.Boolean(required=True)
    wording_version = fields.String(load_default=None, validate=validate.Length(max=32),
                                    metadata={"description": "the wording.version the student read (to give)"})


class ConsentChangeOut(Schema):
    action = fields.String(metadata={"enum": ["given", "revoked"]})
    at = fields.String()
    by_user_id = fields.String()
    wording_version = fields.String(allow_none=True)
    wording = fields.String(allow_none=True)


class UnlockIn(_In):
    student_user_ids = fields.List(fields.String(validate=validate.Length(max=64)), required=True,
                                   validate=validate.Length(min=1, max=2000))
    reason = fields.String(required=True, validate=validate.Length(max=500))


class UnlockOut(Schema):
    school_year = fields.Integer()
    unlocked = fields.Integer()
    unlocked_at = fields.String()


class OverviewOut(Schema):
    school_year = fields.Integer()
    classes = fields.List(fields.Dict())
    locks = fields.List(fields.Dict())


class HeldOut(Schema):
    school_year = fields.Integer()
    students = fields.List(fields.Dict())


@bp.route("/<school_year:school_year>/items")
class Item(MethodView):
    @login_required
    @bp.arguments(SelectionItemIn)
    @bp.response(200, SavedOut)
    @refusals(bp, "window_closed", "selection_locked", "selection_quota_exceeded", "not_selectable", "calendar_not_set")
    def post(self, body, school_year):
        """Student: select or unselect one outcome or performance (limits hold under concurrent
        requests)."""
        return rpc("submission", "set_selected", school_year, body["kind"], body["item_id"], body["selected"])


@bp.route("/<school_year:school_year>/changes")
class Changes(MethodView):
    @login_required
    @bp.arguments(StudentQuery, location="query")
    @bp.response(200, SelectionChangeOut(many=True))
    def get(self, query, school_year):
        """Every change of a selection (who, when, before, after), newest first: the student's
        own, or the registrar's named student."""
        return rpc("submission", "list_selection_changes", school_year, query["student_user_id"])


@bp.route("/<school_year:school_year>/consent")
class Consent(MethodView):
    @login_required
    @bp.response(200, ConsentOut)
    def get(self, school_year):
        """Student: the consent to release (同意釋出) of the year and the wording to show."""
        return rpc("submission", "get_consent", school_year)

    @login_required
    @bp.arguments(ConsentIn)
    @bp.response(200, ConsentOut)
    @refusals(bp, "selection_locked", "consent_wording_changed")
    def put(self, body, school_year):
        """Student: give (with the wording version read) or revoke the consent, until the lock."""
        return rpc("submission", "set_consent", school_year, body["give"], body["wording_version"])


@bp.route("/<school_year:school_year>/consent/changes")
class ConsentChanges(MethodView):
    @login_required
    @bp.arguments(StudentQuery, location="query")
    @bp.response(200, ConsentChangeOut(many=True))
    def get(self, query, school_year):
        """Every give and revoke with the wording shown, newest first."""
        return rpc("submission", "list_consent_changes", school_year, query["student_user_id"])


@bp.route("/<school_year:school_year>/unlock")
class Unlock(MethodView):
    @login_required
    @bp.arguments(UnlockIn)
    @bp.response(200, UnlockOut)
    @refusals(bp, "unlock_reason_required", "unlock_not_locked")
    def post(self, body, school_year):
        """Registrar: unlock named students for a correction (a reason is required and kept);
        the next lock keeps a new version of their copy."""
        return rpc("submission", "unlock_selections", school_year, body["student_user_ids"], body["reason"])


@bp.route("/<school_year:school_year>/overview")
class Overview(MethodView):
    @login_required
    @bp.response(200, OverviewOut)
    def get(self, school_year):
        """Registrar: before locking, per class and student what is uploaded, certified,
        waiting, returned and unselected, who has no selection or no consent, and the lock log."""
        return overview_by_class(school_year)


@bp.route("/<school_year:school_year>/locked/<student_user_id>/versions")
class HeldVersions(MethodView):
    @login_required
    @bp.response(200, HeldOut)
    def get(self, school_year, student_user_id):
        """Registrar: every held version of one student's locked selection."""
        return rpc("submission", "list_held_versions", school_year, student_user_id)
