"""System admin pages (系統管理者): people import from a spreadsheet, password reset.

The import is two uploads of the same file: the first is a preview (accounts' dry run, nothing
written); the admin then chooses the same file again and confirms. The preview carries the file's
SHA-256, and the confirm is refused when the bytes differ, so what is written is exactly what was
previewed without keeping the parsed rows anywhere on the server. Any problem in any row refuses
the whole import (accounts writes nothing then either).
"""
import hashlib
import re

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from . import auth, imports, tenants
from .clients import rpc
from .errors import ERRORS, ApiError, to_api_error
from .portal import ROLE_NAMES

bp = Blueprint("admin", __name__, url_prefix="/admin")

ADMIN_ROLE = "system_admin"
# a platform grant (tied to no tenant): manages every account, those spanning divisions included
PLATFORM_ADMIN = "platform_admin"
TENANT_ROLES = {code: name for code, name in ROLE_NAMES.items() if code != PLATFORM_ADMIN}
ACTION_NAMES = {"created": "新增", "updated": "更新", "unchanged": "不變"}

# accounts' row refusals ({row, username, code, reason (English)}) in the words an admin reads
_QUOTED = re.compile(r"'([^']*)'")


def refusal_message(code: str, reason: str = "", *, first_row=None) -> str:
    quoted = _QUOTED.search(reason or "")
    value = quoted.group(1) if quoted else ""
    if code == "username_invalid":
        return "帳號格式不正確：限 3–64 個英文字母、數字或「. _ -」，不可有中文或空白。"
    if code == "name_missing":
        return "未填姓名。"
    if code == "unknown_role":
        return (f"角色「{value}」不存在。" if value else "角色名稱不正確。") + \
            "可用的角色如「學生」「任課教師」「導師」「註冊組」（或英文代碼 student、subject_teacher…）。"
    if code == "unknown_tenant":
        known = "、".join(f"「{name}」" for name in tenants.names().values())
        codes = "、".join(tenants.names())
        return (f"部別「{value}」不存在。" if value else "部別不正確。") + f"請寫{known}（或 {codes}）。"
    if code == "duplicate_username":
        return "帳號在檔案中重複出現" + (f"（與第 {first_row} 列相同）" if first_row else "") + "；每個帳號只能有一列。"
    if code == "password_too_short":
        return "密碼至少需要 8 個字元；或將密碼欄留空，由系統產生初始密碼。"
    if code == "tenant_not_allowed":
        return reason
    if code in ERRORS and code not in ("internal", "invalid"):
        return ERRORS[code][1]
    return reason or ERRORS["invalid"][1]


def _need_admin():
    user = auth.current_user()
    if not user:
        raise ApiError("not_authenticated")
    if not auth.roles(user) & {ADMIN_ROLE, PLATFORM_ADMIN}:
        raise ApiError("not_allowed")
    return user


def _platform(user) -> bool:
    return PLATFORM_ADMIN in auth.roles(user)


def _no_store(resp):
    """Pages with one-time passwords: never cached, never shown again by the back button."""
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp


def _fail(exc) -> ApiError:
    err = to_api_error(exc)
    if err.code == "internal":
        raise exc
    return err


@bp.get("/")
def index():
    _need_admin()
    return redirect(url_for("admin.people_import"))


# ---------------------------------------------------------------- people import

def _tenant_problems(user, rows, names):
    """An admin imports roles only for the divisions they administer (a platform admin: every
    division); accounts checks again. Unknown tenant codes are left for accounts to refuse.
    names: {code: name} of every tenant (accounts' tenant table)."""
    known = set(names)
    mine = known if _platform(user) else {g["tenant"] for g in user["grants"] if g["role"] == ADMIN_ROLE}
    kept, problems, skipped = [], [], []
    for row in rows:
        foreign = sorted({g["tenant"] for g in row["grants"] if g["tenant"] in known - mine})
        if foreign:
            names = "、".join(names.get(t, t) for t in foreign)
            problems.append((row["row"], "tenant_not_allowed",
                             f"您不是{names}的系統管理者，不能匯入該部別的角色。"))
            skipped.append(dict(row, roles=grant_names(row["grants"])))
        else:
            kept.append(row)
    return kept, problems, skipped


def _refusals(rows, refused):
    """accounts numbers rows 1.. in the order sent; map back to the spreadsheet's row numbers."""
    first_row = {}
    for row in rows:
        first_row.setdefault(row["username"], row["row"])
    out = []
    for r in refused:
        i = r.get("row")
        sheet_row = rows[i - 1]["row"] if isinstance(i, int) and 0 < i <= len(rows) else 0
        first = first_row.get(r.get("username")) if r.get("code") == "duplicate_username" else None
        out.append((sheet_row, r.get("code") or "invalid",
                    refusal_message(r.get("code"), r.get("reason") or "",
                                    first_row=first if first != sheet_row else None)))
    return out


def _preview_page(filename, digest, rows, skipped, problems, report, *, error=None, status=200):
    """Every data row of the file with what will happen to it, and every problem by row number."""
    classified = bool(report and (report["created"] or report["updated"] or report["unchanged"]))
    action = {}
    for key in ACTION_NAMES:
        for username in (report or {}).get(key) or []:
            action[username] = key
    problem_rows = {p[0] for p in problems}
    entries = [{"row": r["row"], "username": imports.masked_username(r["username"]), "display_name": r["display_name"],
                "roles": grant_names(r["grants"]),
                "password": "檔案提供" if r["password"] else "系統產生（首次登入須變更）",
                "action": action.get(r["username"]), "problem": r["row"] in problem_rows} for r in rows]
    entries += [{"row": r["row"], "username": imports.masked_username(r["username"]), "display_name": r["display_name"],
                 "roles": r["roles"], "password": "", "action": None, "problem": True} for r in skipped]
    entries.sort(key=lambda e: e["row"])
    counts = {key: sum(1 for r in rows if action.get(r["username"]) == key) for key in ACTION_NAMES}
    return render_template("admin_preview.html", filename=filename, digest=digest, rows=rows,
                           entries=entries, problems=sorted(problems, key=lambda p: (p[0], p[1])),
                           problem_row_count=len(problem_rows - {0}),
                           usernames={e["row"]: e["username"] for e in entries},
                           classified=classified, counts=counts, error=error,
                           ACTION_NAMES=ACTION_NAMES), status


@bp.route("/import", methods=["GET", "POST"])
def people_import():
    user = _need_admin()
    if request.method == "GET":
        return render_template("admin_import.html")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("admin_import.html", error=ApiError("file_missing")), 422
    data = upload.stream.read(imports.MAX_BYTES + 1)
    digest = hashlib.sha256(data).hexdigest()
    try:
        names = tenants.names(refresh=True)  # the import names tenants: read the table itself
        rows, problems, skipped = imports.read_people(upload.filename, data, names)
        if rows:
            rows, more, foreign = _tenant_problems(user, rows, names)
            problems, skipped = problems + more, skipped + foreign
        confirm = request.form.get("confirm") == "1"
        if confirm and request.form.get("sha256") != digest:
            # not the previewed file: show this file's preview instead, write nothing
            error = ApiError("invalid", detail="file changed")
            error.zh = "這個檔案與剛才預覽的檔案內容不同，因此沒有匯入。以下是這個檔案的預覽，確認無誤後請再按「確認匯入」。"
            confirm = False
        else:
            error = None
        if confirm and not problems:
            sendable, generated = imports.initial_passwords(rows)
            report = rpc("accounts", "import_people", sendable, False)
            if not report["refused"]:
                return _report_page(upload.filename, rows, report, generated)
            problems += _refusals(rows, report["refused"])
            report = None
        elif rows:
            report = rpc("accounts", "import_people", imports.for_accounts(rows), True)
            problems += _refusals(rows, report["refused"])
        else:
            report = None
    except Exception as exc:  # noqa: BLE001 - shown above the form
        err = _fail(exc)
        return render_template("admin_import.html", error=err), err.status
    if confirm and problems and error is None:
        error = ApiError("invalid", detail="refused")
        error.zh = "檔案有問題，沒有匯入任何資料。請依下列說明修正後重新上傳。"
    return _preview_page(upload.filename, digest, rows, skipped, problems, report, error=error,
                         status=422 if error else 200)


def _report_page(filename, rows, report, generated):
    by_name = {r["username"]: r for r in rows}
    created = [by_name[u] for u in report["created"] if u in by_name]
    passwords = [{"row": by_name[u]["row"], "username": u, "display_name": by_name[u]["display_name"],
                  "password": generated[u]} for u in report["created"] if u in generated and u in by_name]
    resp = make_response(render_template(
        "admin_report.html", filename=filename, report=report, created=created,
        updated=[by_name[u] for u in report["updated"] if u in by_name],
        unchanged=[by_name[u] for u in report["unchanged"] if u in by_name],
        passwords=passwords))
    return _no_store(resp)


# ---------------------------------------------------------------- password reset

@bp.route("/reset", methods=["GET", "POST"])
def reset():
    _need_admin()
    if request.method == "GET":
        return render_template("admin_reset.html", result=None)
    username = (request.form.get("username") or "").strip()
    try:
        if not username:
            raise ApiError("user_not_found")
        result = rpc("accounts", "reset_password", username)
    except Exception as exc:  # noqa: BLE001
        error = _fail(exc)
        if error.code in ("not_found", "user_not_found"):
            error = ApiError("user_not_found")
            error.zh = "找不到這個帳號（或此帳號不屬於您目前的部別）。"
        return render_template("admin_reset.html", result=None, error=error, username=username), error.status
    return _no_store(make_response(render_template("admin_reset.html", result=result)))


@bp.app_template_filter("grant_names")
def grant_names(grants):
    names = tenants.names_with(*{g["tenant"] for g in grants or []})
    return "、".join(f"{'平台' if g['tenant'] == imports.PLATFORM else names.get(g['tenant'], g['tenant'])} "
                     f"{ROLE_NAMES.get(g['role'], g['role'])}" for g in grants or [])


# ---------------------------------------------------------------- people and their roles

@bp.route("/users", methods=["GET", "POST"])
def users():
    """The division's people and their roles; a role change goes through the same import path
    (one row), so the same checks, division scope and audit apply. Accounts that span divisions
    (or hold a platform grant) are shown read-only to a division's admin, with why: only a
    platform admin changes them (accounts refuses it anyway)."""
    user = _need_admin()
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")
        wanted = [r for r in request.form.getlist("role") if r in TENANT_ROLES]
        try:
            current = next((u for u in rpc("accounts", "list_users") if u["username"] == username), None)
            if current is None:
                raise ApiError("user_not_found")
            if not current["editable"]:
                raise ApiError("account_managed_elsewhere")
            # a platform admin changes this division's roles and keeps the others as they are
            kept = [g for g in current.get("grants") or [] if g["tenant"] != user["tenant"]]
            report = rpc("accounts", "import_people", [{
                "username": username, "display_name": current["display_name"],
                "grants": kept + [{"tenant": user["tenant"], "role": r} for r in wanted]}], False)
            if report["refused"]:
                raise ApiError(report["refused"][0]["code"], detail=report["refused"][0]["reason"])
        except Exception as exc:  # noqa: BLE001
            error = _fail(exc)
        else:
            flash(f"已更新 {username} 的角色。", "ok")
            return redirect(url_for("admin.users"))
    people = rpc("accounts", "list_users")
    return render_template("admin_users.html", people=people, role_names=TENANT_ROLES, error=error,
                           platform=_platform(user)), (error.status if error else 200)
