"""The portal's selection pages (issue 9 items 2-4): the student's 勾選 page with counters,
reasons and the consent; the registrar's pre-lock overview by class with the lock and unlock
forms. Routes stay in portal.py (portal.selection, portal.registrar_selection); the work is here."""
from flask import flash, redirect, render_template, request, url_for

from .clients import rpc
from .errors import ApiError, to_api_error
from .selection_api import overview_by_class, scope_students

REASON_TEXT = {
    "not_certified": "尚未認證，等待老師認證後才能勾選",
    "returned": "老師已退回，不能勾選",
    "not_student_entered": "由學校或校外單位登錄，不由學生勾選，也不佔件數",
    "over_limit": "已達上限，請先取消勾選其他項目",
    "window_closed": "不在勾選期間",
    "locked": "已鎖定，不能再修改",
    "calendar_not_set": "行事曆未設定勾選期間",
}
KIND_NAMES = {"competition": "競賽", "licence": "檢定證照", "work_based_learning": "職場學習",
              "work": "作品成果", "advanced_course": "彈性學習／進階課程", "other": "其他"}
SCOPE_NAMES = {"tenant": "全部", "grade": "年級", "class": "班級", "student": "個別學生"}


def _invalid(sentence):
    err = ApiError("invalid", detail=sentence)
    err.zh = sentence
    return err


def _refused(exc):
    error = to_api_error(exc)
    if error.code == "internal":
        raise exc
    return error


def student_page(year):
    error = None
    if request.method == "POST":
        action = request.form.get("action", "save")
        try:
            if action == "save":
                rpc("submission", "save_selection", year, request.form.getlist("outcome_id"),
                    request.form.getlist("performance_id"), request.form.get("version") or None)
                flash("已儲存勾選。", "ok")
            elif action in ("consent", "revoke"):
                rpc("submission", "set_consent", year, action == "consent", request.form.get("wording_version"))
                flash("已記錄您同意釋出。" if action == "consent" else "已撤回同意釋出。", "ok")
            else:
                raise ApiError("invalid")
        except Exception as exc:  # noqa: BLE001 - a refusal is shown on the page
            error = _refused(exc)
        else:
            return redirect(url_for("portal.selection", year=year))
    data = rpc("submission", "get_my_selection", year)
    return render_template("selection.html", data=data, year=year, error=error, reasons=REASON_TEXT,
                           kind_names=KIND_NAMES), (error.status if error else 200)


def registrar_page(year):
    error = result = None
    if request.method == "POST":
        action = request.form.get("action", "lock")
        try:
            if action == "lock":
                scope = request.form.get("scope", "tenant")
                if scope not in ("tenant", "grade", "class"):
                    raise ApiError("invalid")
                grade = request.form.get("grade", type=int)
                class_code = request.form.get("class_code") or None
                if scope == "grade" and grade not in (1, 2, 3) or scope == "class" and not class_code:
                    raise _invalid("請選擇要鎖定的年級或班級。")
                label, ids = scope_students(scope, class_code, grade)
                result = rpc("submission", "lock_selections", year, scope, label, ids)
                flash(f"已鎖定 {label}：{result['students']} 位學生，保存 {result['held']} 位的勾選"
                      f"（{result['outcomes']} 件成果、{result['performances']} 件多元表現）。", "ok")
                if result["without_consent"]:
                    flash(f"注意：{result['without_consent']} 位學生未同意釋出，已鎖定但不會提交其勾選資料。", "warn")
            elif action == "unlock":
                numbers = [n.strip() for n in request.form.get("student_nos", "").replace("，", ",").split(",")
                           if n.strip()]
                roster = {s.get("student_no"): s.get("user_id") for s in rpc("records", "list_students")}
                unknown = [n for n in numbers if not roster.get(n)]
                if not numbers or unknown:
                    raise _invalid("找不到學號：" + "、".join(unknown) + "。" if unknown else "請填寫要解除鎖定的學號。")
                res = rpc("submission", "unlock_selections", year, [roster[n] for n in numbers],
                          request.form.get("reason", ""))
                flash(f"已解除 {res['unlocked']} 位學生的鎖定；更正後請再鎖定（會保存新版本）。", "ok")
            else:
                raise ApiError("invalid")
        except Exception as exc:  # noqa: BLE001
            error = _refused(exc)
        else:
            return redirect(url_for("portal.registrar_selection", year=year))
    data = overview_by_class(year)
    held = rpc("submission", "list_locked", year)
    names = {s["student_user_id"]: s for c in data["classes"] for s in c["students"]}
    return render_template("registrar_selection.html", data=data, held=held, names=names, year=year, error=error,
                           scope_names=SCOPE_NAMES), (error.status if error else 200)
