"""The school calendar in the portal: /calendar (everyone of the tenant) and /calendar/edit
(the registrar: 註冊組 in `day`, 教務組 in `ce`). Thin: submission decides everything."""
from flask import Blueprint, flash, redirect, render_template, request, url_for

from . import auth, schoolcalendar
from .clients import rpc
from .errors import ApiError, to_api_error

bp = Blueprint("calendar", __name__)

WINDOW_NAMES = {"upload": "課程學習成果上傳", "certification": "教師認證", "selection": "學生勾選"}
STATE_NAMES = {"open": "開放中", "upcoming": "尚未開始", "closed": "已截止"}
# The unit that keeps the calendar, named as each division says it (issue 9 item 9).
UNIT_NAMES = {"day": "註冊組", "ce": "教務組"}
DATE_FIELDS = [
    ("starts_on", "學期第一天"), ("ends_on", "學期最後一天"),
    ("upload_opens_on", "上傳開始"), ("upload_closes_on", "上傳截止"),
    ("certification_opens_on", "認證開始"), ("certification_closes_on", "認證截止"),
    ("selection_opens_on", "勾選開始"), ("selection_closes_on", "勾選截止"),
    ("national_deadline", "全國上傳截止日"),
]
LIMIT_FIELDS = [
    ("outcome_uploads_per_semester", "每學期可上傳課程學習成果（件）"),
    ("outcomes_selected_per_year", "每學年可勾選課程學習成果（件，最多 6）"),
    ("performances_selected_per_year", "每學年可勾選多元表現（件，最多 10）"),
]
FIELD_NAMES = dict(DATE_FIELDS + LIMIT_FIELDS)


def unit_name(tenant) -> str:
    return UNIT_NAMES.get(tenant, "註冊組")


def _signed_in():
    if not auth.current_user():
        raise ApiError("not_authenticated")


def _form_values(term) -> dict:
    """A stored term as the edit form's flat fields."""
    if not term:
        return {}
    out = {"starts_on": term["starts_on"], "ends_on": term["ends_on"], "national_deadline": term["national_deadline"]}
    for w in ("upload", "certification", "selection"):
        out[f"{w}_opens_on"], out[f"{w}_closes_on"] = term[w]["opens_on"], term[w]["closes_on"]
    out.update({k: str(v) for k, v in term["limits"].items()})
    return out


def _stored_limits(school_year, semester) -> dict:
    """The limits the term has now ({} for a new term or one the form names wrongly)."""
    try:
        terms = rpc("submission", "list_calendar")["terms"]
    except Exception:  # noqa: BLE001 - only for a warning; set_term reports its own errors
        return {}
    return next((t["limits"] for t in terms
                 if (str(t["school_year"]), str(t["semester"])) == (str(school_year), str(semester))), {})


def lowered_limit_warnings(before: dict, fields: dict) -> list:
    """zh-TW warnings for each limit the registrar lowered on a term that has one: what students
    have already uploaded or selected stays, but those at or over the new limit cannot add more
    (the limits are checked when an item is added, never retroactively: DOMAIN.md, limits)."""
    out = []
    for key, label in LIMIT_FIELDS:
        try:
            old, new = int(before[key]), int(fields[key])
        except (KeyError, TypeError, ValueError):
            continue
        if new < old:
            out.append(f"「{label}」由 {old} 降為 {new}：已上傳或已勾選的項目都會保留，"
                       f"但已達 {new} 件的學生不能再新增，請先通知學生與導師。")
    return out


@bp.get("/calendar")
def calendar():
    """The current term's windows, the completion date and how many days are left."""
    _signed_in()
    data = rpc("submission", "list_calendar")
    term = next((t for t in data["terms"] if t["current"]), None)
    return render_template("calendar.html", term=term, data=data, WINDOW_NAMES=WINDOW_NAMES,
                           STATE_NAMES=STATE_NAMES, unit=unit_name(auth.current_user()["tenant"]),
                           editor="registrar" in auth.roles())


@bp.route("/calendar/edit", methods=["GET", "POST"])
def edit():
    """One form per term (and one for a new term); field errors in zh-TW next to each field;
    the history of each term's changes (who, when, before, after)."""
    _signed_in()
    if "registrar" not in auth.roles():
        raise ApiError("not_allowed")
    error, posted, status = None, None, 200
    if request.method == "POST":
        f = request.form
        fields = {k: f.get(k, "").strip() for k, _ in DATE_FIELDS + LIMIT_FIELDS if k in f}
        before = _stored_limits(f.get("school_year", ""), f.get("semester", ""))
        try:
            res = rpc("submission", "set_term", f.get("school_year", ""), f.get("semester", ""), fields,
                      f.get("expected_version") or None)
        except Exception as exc:  # noqa: BLE001 - shown on the form
            error = to_api_error(exc)
            if error.code == "internal":
                raise
            posted, status = dict(f), error.status
        else:
            schoolcalendar.forget(auth.current_user()["tenant"])
            flash(f"已儲存 {res['school_year']} 學年度第 {res['semester']} 學期的行事曆（第 {res['version']} 版）。"
                  if res["changed"] else "內容沒有變更。", "ok")
            for warning in lowered_limit_warnings(before, fields):
                flash(warning, "warn")
            return redirect(url_for("calendar.edit") + f"#term-{res['school_year']}-{res['semester']}")
    data = rpc("submission", "list_calendar")
    forms = []
    for t in data["terms"]:
        key = (str(t["school_year"]), str(t["semester"]))
        mine = posted and (posted.get("school_year"), posted.get("semester")) == key
        forms.append({"term": t, "form_values": posted if mine else _form_values(t), "error": error if mine else None,
                      "changes": rpc("submission", "list_calendar_changes", t["school_year"], t["semester"])})
    new_is_posted = posted is not None and not any(fm["error"] for fm in forms)
    new = {"form_values": posted if new_is_posted else {}, "error": error if new_is_posted else None}
    return render_template("calendar_edit.html", forms=forms, new=new, data=data, DATE_FIELDS=DATE_FIELDS,
                           LIMIT_FIELDS=LIMIT_FIELDS, FIELD_NAMES=FIELD_NAMES,
                           unit=unit_name(auth.current_user()["tenant"])), status
