"""Server-rendered portal pages (Traditional Chinese first). Thin: call services, render."""
import re

from flask import (Blueprint, flash, redirect, render_template, request, session,
                   url_for)

from . import auth, flows, notices, schoolcalendar, tenants
from .api import redirect_to_file
from .clients import files_public_url, files_token, rpc, rpc_public, upload_limits
from .errors import ApiError, to_api_error
from .web import safe_next

bp = Blueprint("portal", __name__)

ROLE_NAMES = {
    "student": "學生", "subject_teacher": "任課教師", "homeroom_teacher": "導師",
    "subject_convener": "學科召集人", "consultation_teacher": "課程諮詢教師",
    "guidance_counsellor": "輔導教師", "registrar": "註冊組", "elective_officer": "實研業務承辦人",
    "discipline_section": "生輔組", "activities_section": "訓育組", "organising_unit": "校內承辦單位",
    "system_admin": "系統管理者", "executive_secretary": "執行秘書", "principal": "校長", "ops": "維運",
    "platform_admin": "平台管理者",
}
STATUS_NAMES = {"uploaded": "待認證", "certified": "已認證", "returned": "已退回", "pending": "待認證",
                "withdrawn": "已撤回認證", "closed": "已結案", "superseded": "已換檔"}
CERT_TABS = ("pending", "certified", "returned", "withdrawn", "all")
DONE = {"certify": ("已認證", "certified"), "return": ("已退回", "returned"), "withdraw": ("已撤回認證", "withdrawn")}


@bp.app_template_filter("tw_time")
def tw_time(value):
    """ISO timestamp (UTC) -> local school time, e.g. 2026-11-29 00:31."""
    if not value:
        return ""
    import datetime as dt
    from zoneinfo import ZoneInfo
    when = dt.datetime.fromisoformat(str(value))
    return when.astimezone(ZoneInfo("Asia/Taipei")).strftime("%Y-%m-%d %H:%M")


# An outcome's two slots (DOMAIN.md: a 簡述 plus a document, a media file, or both)
SLOTS = ("document", "media")
SLOT_NAMES = {"document": "文件", "media": "影音檔"}
SLOT_ACCEPT = {"document": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png",
               "media": ".mp3,.mp4,audio/mpeg,video/mp4"}
MEDIA_TYPES = ("audio/mpeg", "video/mp4", "audio/mp4")


def slot_files(item) -> list:
    """[(slot, {file_id, filename, content_type, ...})] of an outcome or a certification round,
    the document first; an item without `files` (from before slots) has its one file in the
    slot of its content type."""
    files = item.get("files") or {("media" if item.get("content_type") in MEDIA_TYPES else "document"): {
        "file_id": item.get("file_id"), "filename": item.get("filename"), "content_type": item.get("content_type")}}
    return [(slot, files[slot]) for slot in SLOTS if files.get(slot)]


@bp.app_context_processor
def _names():
    return {"ROLE_NAMES": ROLE_NAMES, "TENANT_NAMES": tenants.for_page(), "STATUS_NAMES": STATUS_NAMES,
            "SLOT_NAMES": SLOT_NAMES, "slot_files": slot_files}


def to_login():
    return redirect(url_for("portal.login", next=request.full_path if request.method == "GET" else None))


@bp.before_app_request
def _password_first():
    """After an import or an admin reset the user must choose a password before anything else."""
    if request.path.startswith(("/api/", "/static/")) or request.endpoint in (
            "portal.password", "portal.logout", "portal.login", "portal.healthz"):
        return None
    user = auth.current_user() if (session.get("st")) else None
    if user and user["must_change_password"]:
        return redirect(url_for("portal.password"))
    return None


def _need(*roles):
    if not auth.current_user():
        raise ApiError("not_authenticated")
    if not auth.roles() & set(roles):
        raise ApiError("not_allowed")


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            found = rpc_public("accounts", "sign_in", request.form.get("username", ""),
                               request.form.get("password", ""), request.remote_addr,
                               request.user_agent.string, "portal")
        except Exception as exc:  # noqa: BLE001 - shown to the user as a message
            error = to_api_error(exc)
        else:
            old = session.get("st")
            if old:
                rpc_public("accounts", "sign_out", old)
            session.clear()  # a new session id and CSRF token: no fixation
            session["st"] = found["session_token"]
            if found["must_change_password"]:
                return redirect(url_for("portal.password"))
            # only a path on this site, whatever the encoding tricks (web.safe_next)
            return redirect(safe_next(request.args.get("next"), url_for("portal.home")))
    return render_template("login.html", error=error), (error.status if error else 200)


@bp.post("/logout")
def logout():
    if session.get("st"):
        rpc_public("accounts", "sign_out", session["st"])
    session.clear()
    return redirect(url_for("portal.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    user = auth.current_user()
    if not user:
        return to_login()
    error = None
    if request.method == "POST":
        if request.form.get("new_password") != request.form.get("confirm_password"):
            error = ApiError("invalid", detail="mismatch")
            error.zh = "兩次輸入的新密碼不一致。"
        else:
            try:
                rpc_public("accounts", "change_password", session["st"], request.form.get("old_password", ""),
                           request.form.get("new_password", ""))
            except Exception as exc:  # noqa: BLE001
                error = to_api_error(exc)
            else:
                flash("密碼已變更；您在其他裝置的登入已結束。", "ok")
                return redirect(url_for("portal.home"))
    return render_template("password.html", error=error, forced=user["must_change_password"]), \
        (error.status if error else 200)


@bp.route("/sessions", methods=["GET", "POST"])
def my_sessions():
    if not auth.current_user():
        return to_login()
    if request.method == "POST":
        rpc_public("accounts", "end_session", session["st"], request.form.get("session_id", ""))
        flash("已結束該登入。", "ok")
        return redirect(url_for("portal.my_sessions"))
    return render_template("sessions.html", sessions=rpc_public("accounts", "list_my_sessions", session["st"]))


@bp.route("/settings/email", methods=["GET", "POST"])
def my_email():
    """The user's own reminder address (accounts.set_my_email): certification reminders go
    there (issue 10 item 5). Empty removes it; a malformed one is refused in zh-TW."""
    if not auth.current_user():
        return to_login()
    error, typed = None, None
    if request.method == "POST":
        typed = request.form.get("email", "")
        try:
            saved = rpc_public("accounts", "set_my_email", session["st"], typed)
        except Exception as exc:  # noqa: BLE001 - shown to the user as a message
            error = to_api_error(exc)
        else:
            flash(f"已儲存電子郵件：{saved['email']}。" if saved["email"] else "已移除電子郵件；您將不會收到提醒信。", "ok")
            return redirect(url_for("portal.my_email"))
    current = rpc_public("accounts", "get_my_email", session["st"])["email"]
    return render_template("email.html", error=error, current=current,
                           value=current if typed is None else typed), (error.status if error else 200)


@bp.post("/tenant")
def switch_tenant():
    user = auth.current_user()
    if not user:
        return to_login()
    wanted = request.form.get("tenant")
    if wanted in {g["tenant"] for g in user["grants"]}:
        session["tenant"] = wanted
    return redirect(url_for("portal.home"))


@bp.get("/")
def home():
    if not auth.current_user():
        return to_login()
    r = auth.roles()
    if "student" in r:
        return redirect(url_for("portal.outcomes"))
    if r & {"subject_teacher", "homeroom_teacher"}:
        return redirect(url_for("portal.certification"))
    if "registrar" in r:
        return redirect(url_for("portal.registrar_selection"))
    return render_template("home.html")


@bp.get("/outcomes")
def outcomes():
    """The student's upload form and items. The form asks this gateway for a ticket
    (/outcomes/ticket), then upload.js sends the file to the files service itself (tus,
    resumable): no file byte passes through the gateway. It needs JavaScript."""
    _need("student")
    term = schoolcalendar.current()
    quota = rpc("records", "get_my_outcome_quota", term["school_year"], term["semester"]) if term else None
    mine = rpc("records", "list_my_outcomes", None)
    # ?reupload=<outcome id>: the form uploads that RETURNED outcome again (same course and term)
    wanted = request.args.get("reupload", "")
    reupload = next((o for o in mine if str(o["id"]) == wanted and o["status"] == "returned"), None)
    # ?add=<outcome id>&slot=media|document: the form fills that outcome's empty slot (no new quota slot)
    add_id, add_slot = request.args.get("add", ""), request.args.get("slot", "")
    adding = next((o for o in mine if str(o["id"]) == add_id and add_slot in SLOTS and can_add(o, add_slot)), None)
    return render_template("outcomes.html", sections=rpc("records", "list_my_sections"),
                           outcomes=mine, max_chars=100, reupload=reupload, adding=adding,
                           add_slot=add_slot if adding else None, can_add=can_add, SLOT_ACCEPT=SLOT_ACCEPT,
                           notice=notices.student_notice(mine, term),
                           reupload_asked=(bool(wanted) and reupload is None) or (bool(add_id) and adding is None),
                           quota=quota, term=term, limits=upload_limits(term["school_year"] if term else None),
                           files_url=files_public_url())


def can_add(outcome, slot) -> bool:
    """Whether the outcomes page offers to add a file into the outcome's empty `slot` (records
    decides: domain.check_file_ticket)."""
    return slot not in dict(slot_files(outcome)) and not outcome.get("selected_locked") \
        and outcome.get("status") in ("uploaded", "certified", "returned")


@bp.post("/outcomes/ticket")
def outcome_ticket():
    """JSON for upload.js: the ticket and where to send the bytes (CSRF header required)."""
    _need("student")
    body = request.get_json(silent=True) or {}
    try:
        slot = body.get("slot") or None
        if body.get("outcome_id"):  # 重新上傳 of a returned outcome, or its other slot's file
            return flows.outcome_reupload_ticket(body["outcome_id"], body.get("description", ""),
                                                 body.get("upload_key"), slot), 201
        return flows.outcome_ticket(body.get("section_id", ""), body.get("description", ""),
                                    body.get("upload_key"), slot), 201
    except Exception as exc:  # noqa: BLE001 - answered as JSON with the sentence to show
        err = to_api_error(exc)
        if err.code == "internal":
            raise
        return err.body(), err.status


@bp.post("/files-token")
def files_token_refresh():
    """A fresh files token for a resumable upload that outlives the first one."""
    if not auth.current_user():
        raise ApiError("not_authenticated")
    return {"token": files_token()}


@bp.get("/files/<file_id>")
def file(file_id):
    if not auth.current_user():
        return to_login()
    return redirect_to_file(file_id, request.args.get("download") == "1")


@bp.route("/certification", methods=["GET", "POST"])
def certification():
    """The teacher's queue (grouped by class and subject, filterable, with a preview of the
    file). A decision on several items decides the allowed ones; when some are refused the page
    is shown again with those still selected and each refusal's zh-TW reason on its row."""
    _need("subject_teacher", "homeroom_teacher")
    error = None
    refused = {}
    kept = {}    # after a whole request is refused: what the teacher had ticked and typed, kept
    status = request.args.get("status", "pending")
    status = status if status in CERT_TABS else "pending"
    if request.method == "POST":
        action = request.form.get("action")
        try:
            result = flows.decide(action, request.form.getlist("task_id"), request.form.get("reason"),
                                  request.form.get("reason_code"))
        except Exception as exc:  # noqa: BLE001
            error = to_api_error(exc)
            if error.code == "internal":
                raise
            kept = {"task_ids": set(request.form.getlist("task_id")), "action": action,
                    "reason_code": request.form.get("reason_code") or "", "reason": request.form.get("reason") or ""}
        else:
            verb, key = DONE.get(action, ("已處理", "certified"))
            n = len(result.get(key) or [])
            if n:  # nothing decided (a stale tab, all refused): no green banner, only the refusals
                flash(f"{verb} {n} 件（可在「{STATUS_NAMES[key]}」分頁查看）。", "ok")
            if not result["refused"]:
                return redirect(url_for("portal.certification", status=status))
            refused = {r["task_id"]: r["message_zh"] for r in result["refused"]}
    # the queue, the roster, the return reasons (and the open count for another tab) at once
    also = [("certification", "list_return_reasons")] + (
        [("certification", "list_queue", "pending")] if status != "pending" else [])
    tasks, reasons, *open_now = flows.teacher_queue(status, *also)
    if refused:
        # name every refused item (the student and the reason), so nothing is silently skipped
        names = {t["id"]: t["student_name"] or t["filename"] for t in tasks}
        missing = [tid for tid in refused if tid not in names]
        if missing:
            names.update({t["id"]: t["student_name"] or t["filename"] for t in flows.teacher_queue("all")})
        parts = [f"{names.get(tid, '（找不到的項目）')}：{msg}" for tid, msg in refused.items()]
        flash(f"{len(refused)} 件未處理（仍在清單上的保留勾選）— " + "；".join(parts), "warn")
    pending = len(tasks) if status == "pending" else len(open_now[0])
    notice = notices.teacher_notice(pending, schoolcalendar.current())
    _prepare_rows(tasks)
    return render_template("certification.html", tasks=tasks, status=status, error=error, reasons=reasons,
                           notice=notice, kept=kept,
                           refused=refused, groups=_queue_groups(tasks)), (error.status if error else 200)


_PLAIN_ID = re.compile(r"[0-9A-Za-z-]+")


def _file_url_maker():
    """file_id -> url_for("portal.file", file_id=...), building the route once per page instead
    of once per file (a 300-row queue made ~900 url_for calls, a third of its render time)."""
    marker = "0-file-id-0"
    pattern = url_for("portal.file", file_id=marker)

    def url(file_id):
        fid = str(file_id)
        return pattern.replace(marker, fid) if _PLAIN_ID.fullmatch(fid) else url_for("portal.file", file_id=fid)
    return url


def _prepare_rows(tasks):
    """What each queue row shows of its files, computed once per row: `slot_list` (slot_files)
    and `links` ([(slot, file, url)]); queue.js previews from those links."""
    url = _file_url_maker()
    for t in tasks:
        t["slot_list"] = slot_files(t)
        t["links"] = [(slot, f, url(f["file_id"])) for slot, f in t["slot_list"]]


def _queue_groups(tasks):
    """[(class_code, subject_name, [task, ...])] in queue order (flows.teacher_queue sorts)."""
    groups = []
    for t in tasks:
        key = (t.get("class_code") or "", t["subject_name"])
        if not groups or groups[-1][:2] != key:
            groups.append((*key, []))
        groups[-1][2].append(t)
    return groups


@bp.get("/certification/oversight")
def certification_oversight():
    """認證統計: the oversight figures of one slice (全校, 教師, 課程, 科目, 班級) of what the
    caller oversees (certification scopes them: the tenant for the academic section, executive
    secretary and principal; a homeroom teacher's class; a convener's subjects), the rounds
    still open as the window closes (teachers by name, a link to hand them to a proxy for those
    who may), and the same table as CSV or xlsx (?format=csv|xlsx)."""
    from . import oversight
    _need(*oversight.ROLES)
    by = request.args.get("by", "teacher")
    by = by if by in oversight.SLICES else "teacher"
    tenant = auth.current_user()["tenant"]
    roles = auth.roles()
    whole = bool(roles & set(oversight.WHOLE_TENANT))
    # the 全校 row of a homeroom teacher or convener sums only their part: say so in its label
    label = tenants.for_page().get(tenant, "全校") + ("" if whole else "（您負責的範圍）")
    rows = oversight.figures(by, label)
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        return oversight.download(by, rows, fmt, tenant)
    return render_template("oversight.html", by=by, rows=rows, slices=oversight.SLICES,
                           whole=whole,
                           scoped=[ROLE_NAMES[r] for r in ("homeroom_teacher", "subject_convener") if r in roles],
                           can_proxy=bool(roles & set(oversight.PROXY_ADMINS)),
                           closing=oversight.open_at_close(7))


@bp.route("/selection", methods=["GET", "POST"])
def selection():
    _need("student")
    from . import selection_pages
    return selection_pages.student_page(request.values.get("year", type=int) or schoolcalendar.year_semester()[0])


@bp.route("/registrar/selection", methods=["GET", "POST"])
def registrar_selection():
    _need("registrar")
    from . import selection_pages
    return selection_pages.registrar_page(request.values.get("year", type=int) or schoolcalendar.year_semester()[0])


@bp.route("/proxies", methods=["GET", "POST"])
def proxies():
    _need("subject_teacher", "homeroom_teacher", "executive_secretary", "system_admin")
    error = None
    if request.method == "POST":
        try:
            if request.form.get("revoke"):
                rpc("accounts", "revoke_proxy", request.form["revoke"])
                flash("已取消代理。", "ok")
            else:
                teacher = request.form.get("teacher_username") or auth.current_user()["username"]
                rpc("accounts", "grant_proxy", teacher, request.form.get("proxy_username", ""),
                    request.form.get("starts_on", ""), request.form.get("ends_on", ""))
                flash("已設定代理人。", "ok")
        except Exception as exc:  # noqa: BLE001
            error = to_api_error(exc)
            if error.code == "internal":
                raise
        else:
            return redirect(url_for("portal.proxies"))
    admin = bool(auth.roles() & {"executive_secretary", "system_admin"})
    # a GET may prefill the teacher (認證統計 links here with ?teacher_username=)
    return render_template("proxies.html", delegations=rpc("accounts", "list_proxies"), admin=admin,
                           error=error, form=request.form if request.method == "POST" else request.args), \
        (error.status if error else 200)


AUDIT_ACTIONS = {"sign_in": "登入", "sign_in_failed": "登入失敗", "sign_in_locked": "鎖定中嘗試登入",
                 "identity_linked": "連結單一登入", "identity_unlinked": "移除單一登入連結",
                 "locked_out": "帳號鎖定", "sign_out": "登出", "session_ended": "結束登入",
                 "password_changed": "變更密碼", "password_reset": "重設密碼", "roles_set": "設定角色",
                 "proxy_granted": "設定代理人", "proxy_revoked": "取消代理人", "refused": "拒絕存取"}


@bp.get("/audit")
def audit():
    _need("ops", "executive_secretary", "principal", "platform_admin")
    return render_template("audit.html", rows=rpc("accounts", "list_access_audit", 300), names=AUDIT_ACTIONS)
