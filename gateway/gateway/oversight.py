"""Certification oversight (issue 10 item 6): the figures per slice with people's names, and
the same table as CSV or xlsx. Shared by the API (`/api/v1/certification/oversight`) and the
portal page 認證統計 (`/certification/oversight`). Thin: certification counts and scopes
(who sees what is decided there), accounts names the teachers; this only joins and formats.
"""
import csv
import datetime as dt
import io

from flask import Response

from .clients import rpc

SLICES = {"tenant": "全校", "teacher": "教師", "section": "課程（開課班級）", "subject": "科目", "class": "班級"}
# who opens the page (the RPCs check again and scope the figures: certification.usecases)
ROLES = ("executive_secretary", "principal", "registrar", "ops", "homeroom_teacher", "subject_convener")
WHOLE_TENANT = ("executive_secretary", "principal", "registrar", "ops")
PROXY_ADMINS = ("executive_secretary", "system_admin")   # who may hand tasks to a proxy (/proxies)
COLUMNS = (("name", None), ("open", "待認證"), ("certified", "已認證"), ("returned", "已退回"),
           ("withdrawn", "已撤回認證"), ("decided", "已決定"), ("median_hours_to_decide", "決定所需時間中位數（小時）"))
WINDOW = {"closing": "即將截止", "closed": "已截止", "calendar_not_set": "行事曆未設定"}


def _names(user_ids) -> dict:
    ids = sorted({str(u) for u in user_ids if u})
    return rpc("accounts", "names_of", ids) if ids else {}


def figures(by: str, tenant_name: str = "全校") -> list:
    """certification.oversight_figures(by) with `name`, what a person reads: the teacher's
    name (and `username`, for the proxy link), the class's or section's label, or the tenant's
    name. A teacher accounts does not know keeps the id."""
    rows = rpc("certification", "oversight_figures", by)
    names = _names(r["key"] for r in rows) if by == "teacher" else {}
    for r in rows:
        if by == "tenant":
            r["name"] = tenant_name
        elif by == "teacher":
            who = names.get(str(r["key"])) or {}
            r["name"], r["username"] = who.get("display_name") or str(r["key"]), who.get("username")
        else:
            r["name"] = r.get("label") or r["key"] or "未分班"
    return rows


def open_at_close(within_days: int) -> list:
    """certification.list_open_at_window_close with the teachers' names and usernames."""
    rows = rpc("certification", "list_open_at_window_close", within_days)
    names = _names(r["teacher_user_id"] for r in rows)
    for r in rows:
        who = names.get(str(r["teacher_user_id"])) or {}
        r["teacher_name"] = who.get("display_name") or "（帳號未知）"
        r["teacher_username"] = who.get("username")
        r["window_name"] = WINDOW.get(r["window"], r["window"])
    return rows


def _cell(v):
    if v is None:
        return ""
    # a name that starts like a formula is text in the spreadsheet, never a formula
    return "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def _table(by, rows):
    """(head, body) of the export: the page's columns; per class, the class code last (班級代碼:
    spreadsheets sort and look classes up by code, names alone repeat across years)."""
    head = [SLICES[by] if key == "name" else label for key, label in COLUMNS]
    body = [[_cell(r.get(k)) for k, _ in COLUMNS] for r in rows]
    if by == "class":
        head.append("班級代碼")
        for line, r in zip(body, rows):
            line.append(_cell(r.get("key")))
    return head, body


def download(by: str, rows: list, fmt: str, tenant: str) -> Response:
    """The table as shown, as CSV (UTF-8 with BOM, so Excel opens Chinese headers) or xlsx."""
    head, body = _table(by, rows)
    stem = f"certification-oversight-{tenant}-{by}-{dt.date.today().isoformat()}"
    if fmt == "xlsx":
        import openpyxl
        from openpyxl.styles import Font
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = f"認證統計（{SLICES[by]}）"[:31]
        ws.append(head)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for line in body:
            ws.append([None if v == "" else v for v in line])
        ws.column_dimensions["A"].width = 28
        for col in "BCDEFG":
            ws.column_dimensions[col].width = 14
        ws.freeze_panes = "A2"
        out = io.BytesIO()
        wb.save(out)
        return Response(out.getvalue(), headers={
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f'attachment; filename="{stem}.xlsx"', "Cache-Control": "no-store"})
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(head)
    w.writerows(body)
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{stem}.csv"', "Cache-Control": "no-store"})
