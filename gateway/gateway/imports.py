"""People import: read a registrar's spreadsheet (CSV or xlsx) into the rows accounts.import_people
takes. Pure: no I/O besides the bytes given; nothing here talks to a service.

    rows, problems = parse_people("名單.xlsx", data)

rows: [{row, username, display_name, password, must_change_password, grants: [{tenant, role}], email?}]
where `row` is the spreadsheet's own row number (header = its row, usually 1), so every message
points at the row the registrar sees in Excel. An empty password cell gives password None and
must_change_password True: the caller fills in a random initial password (`initial_passwords`)
right before the real import and shows it once.

problems: [(row_number, code, zh_message)] for what cannot even be sent to accounts (row 0 =
the whole file). Rows with a problem are left out of `rows` (`read_people` also returns them as
the sheet has them, for the preview); the content rules (username shape, known roles and tenants,
duplicates, password length) are accounts' and come back from its dry run.
"""
import re
import secrets
import unicodedata

from . import sheets
from .portal import ROLE_NAMES

MAX_BYTES = sheets.MAX_BYTES
MAX_ROWS = sheets.MAX_ROWS
HEADER_SEARCH_ROWS = sheets.HEADER_SEARCH_ROWS
NAME_MAX = 100  # users.display_name

# canonical field: accepted header names (compared after sheets.norm_header)
COLUMNS = {
    "username": ("帳號", "帳號名稱", "使用者帳號", "登入帳號", "username", "user", "account", "login"),
    "display_name": ("姓名", "名稱", "顯示名稱", "display_name", "name", "full_name"),
    "password": ("密碼", "初始密碼", "password", "initial_password"),
    "roles": ("角色", "身分", "roles", "role"),
    "email": ("電子郵件", "電子信箱", "email", "e-mail", "mail"),
}
REQUIRED = ("username", "display_name", "roles")
LABELS = {"username": "帳號", "display_name": "姓名", "password": "密碼", "roles": "角色", "email": "電子郵件"}
SHEET_COLUMNS = [{"field": f, "label": LABELS[f], "aliases": list(a), "required": f in REQUIRED,
                  "type": "username" if f == "username" else "text", "width": None}
                 for f, a in COLUMNS.items()]

ROLE_CODES = {zh: code for code, zh in ROLE_NAMES.items()}
# "platform:platform_admin" / "平台:平台管理者": a platform grant, tied to no tenant (only a
# platform admin may import it; accounts refuses it from a division's admin)
PLATFORM = "platform"
PLATFORM_NAMES = ("platform", "平台")

# ---------------------------------------------------------------- roles

def parse_roles(cell: str, tenants=None):
    """'day:student;ce:registrar' / '日間部:學生、進修部：註冊組' -> ([{tenant, role}], bad_parts).

    tenants: {code: name} from accounts' tenant table, so a tenant's name works as well as its
    code. A platform grant comes back as {"tenant": "platform", role}."""
    codes = {name: code for code, name in (tenants or {}).items()}
    text = unicodedata.normalize("NFKC", cell or "")  # full-width ：；， become ASCII
    for sep in ("、", ",", "\n", "|", "/"):
        text = text.replace(sep, ";")
    grants, bad = [], []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        tenant, colon, role = part.partition(":")
        tenant, role = tenant.strip(), role.strip()
        if not colon or not tenant or not role or ":" in role:
            bad.append(part)
            continue
        tenant = PLATFORM if tenant.lower() in PLATFORM_NAMES else codes.get(tenant, tenant.lower())
        role = ROLE_CODES.get(role, role.lower())
        if {"tenant": tenant, "role": role} not in grants:
            grants.append({"tenant": tenant, "role": role})
    return grants, bad


# ---------------------------------------------------------------- the whole file

def parse_people(filename: str, data: bytes, tenants=None):
    """Spreadsheet bytes -> (rows for accounts.import_people, [(row_number, code, zh_message)]).
    tenants: {code: name} (accounts.list_tenants) for the 部別 names in the roles column."""
    rows, problems, _ = read_people(filename, data, tenants)
    return rows, problems


def read_people(filename: str, data: bytes, tenants=None):
    """parse_people, plus the rows left out for a problem as the sheet has them
    ([{row, username, display_name, roles}], raw text) so a preview can still show them.
    The file is read by gateway/sheets.py, the reader every import shares."""
    sheet = sheets.read_sheet(filename, data, SHEET_COLUMNS)
    problems = [(p["row"], p["code"], p["message"]) for p in sheet.problems]
    if not sheet.rows or any(p[0] in (0, sheet.header_row) for p in problems):
        return [], problems, []
    rows, skipped = [], []
    bad = {p[0] for p in problems}
    for r in sheet.rows:
        row, row_problems = _person(r["row"], r["cells"], tenants)
        if row_problems or r["row"] in bad:
            problems += row_problems
            skipped.append(row if row_problems else {"row": r["row"], "username": row["username"],
                                                     "display_name": row["display_name"],
                                                     "roles": r["cells"].get("roles", "")})
        else:
            rows.append(row)
    return rows, problems, skipped


def _person(number, cells, tenants=None):
    def get(field):
        return cells.get(field, "")

    username = unicodedata.normalize("NFKC", get("username")).strip()
    display_name = get("display_name")
    password = get("password")
    problems = []
    if not username:
        problems.append((number, "username_missing", "未填帳號。"))
    if len(display_name) > NAME_MAX:
        problems.append((number, "name_too_long", f"姓名超過 {NAME_MAX} 個字。"))
    roles_cell = get("roles")
    grants, bad = parse_roles(roles_cell, tenants)
    if bad:
        shown = "、".join(f"「{b}」" for b in bad[:3])
        problems.append((number, "role_format",
                         f"角色{shown}格式不正確；請寫成「部別:角色」，多個以分號分隔，"
                         "例如「日間部:學生」或「day:student;ce:registrar」。"))
    elif not grants:  # (a platform grant alone is a role too)
        problems.append((number, "roles_missing", "未填角色；每個帳號至少要有一個角色，例如「日間部:學生」。"))
    if problems:
        return {"row": number, "username": username, "display_name": display_name, "roles": roles_cell}, problems
    person = {"row": number, "username": username, "display_name": display_name,
              # every account imported here chooses its own password at first sign-in, whether the
              # file gave an initial one or the platform generated it
              "password": password or None, "must_change_password": True, "grants": grants}
    email = get("email").strip()
    if email:  # the reminder address (accounts checks it: email_invalid); empty keeps the stored one
        person["email"] = email
    return person, []


_NATIONAL_ID_SHAPED = re.compile(r"^[A-Za-z][0-9A-Da-d]\d{8}$")


def masked_username(username) -> str:
    """A username typed as a national ID (accounts refuses it) is shown masked, never in clear."""
    u = username or ""
    return u[:3] + "*" * (len(u) - 5) + u[-2:] if _NATIONAL_ID_SHAPED.match(u) else u


def initial_passwords(rows):
    """Give every row without a password a random initial password (changed at first sign-in).
    Returns (rows for accounts, {username: password}); the input rows are not modified."""
    out, generated = [], {}
    for row in rows:
        row = {k: v for k, v in row.items() if k != "row"}
        if not row.get("password"):
            row["password"] = generated[row["username"]] = _new_password()
            row["must_change_password"] = True
        out.append(_split_platform(row))
    return out, generated


# no 0/O, 1/l/I: the admin prints these and the student types them
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _new_password(length=12) -> str:
    while True:
        pw = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw):
            return pw


def for_accounts(rows):
    """The rows as accounts.import_people takes them (without the spreadsheet row number)."""
    return [_split_platform({k: v for k, v in row.items() if k != "row"}) for row in rows]


def _split_platform(row):
    """Platform grants travel as `platform_roles`, apart from the tenant grants."""
    platform = [g["role"] for g in row.get("grants") or [] if g["tenant"] == PLATFORM]
    if platform:
        row = dict(row, grants=[g for g in row["grants"] if g["tenant"] != PLATFORM], platform_roles=platform)
    return row
