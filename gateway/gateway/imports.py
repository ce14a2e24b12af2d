"""People import: read a registrar's spreadsheet (CSV or xlsx) into the rows accounts.import_people
takes. Pure: no I/O besides the bytes given; nothing here talks to a service.

    rows, problems = parse_people("名單.xlsx", data)

rows: [{row, username, display_name, password, must_change_password, grants: [{tenant, role}]}]
where `row` is the spreadsheet's own row number (header = its row, usually 1), so every message
points at the row the registrar sees in Excel. An empty password cell gives password None and
must_change_password True: the caller fills in a random initial password (`initial_passwords`)
right before the real import and shows it once.

problems: [(row_number, code, zh_message)] for what cannot even be sent to accounts (row 0 =
the whole file). Rows with a problem are left out of `rows` (`read_people` also returns them as
the sheet has them, for the preview); the content rules (username shape, known roles and tenants,
duplicates, password length) are accounts' and come back from its dry run.
"""
import csv
import io
import re
import secrets
import unicodedata
import zipfile

from .portal import ROLE_NAMES

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_XLSX_UNPACKED = 40 * 1024 * 1024  # a 2 MB zip may not unpack into a zip bomb
MAX_COLUMNS = 60
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is common in school sheets
NAME_MAX = 100  # users.display_name

# canonical field: accepted header names (compared after _norm_header)
COLUMNS = {
    "username": ("帳號", "帳號名稱", "使用者帳號", "登入帳號", "username", "user", "account", "login"),
    "display_name": ("姓名", "名稱", "顯示名稱", "display_name", "name", "full_name"),
    "password": ("密碼", "初始密碼", "password", "initial_password"),
    "roles": ("角色", "身分", "roles", "role"),
}
REQUIRED = ("username", "display_name", "roles")
LABELS = {"username": "帳號", "display_name": "姓名", "password": "密碼", "roles": "角色"}

ROLE_CODES = {zh: code for code, zh in ROLE_NAMES.items()}
# "platform:platform_admin" / "平台:平台管理者": a platform grant, tied to no tenant (only a
# platform admin may import it; accounts refuses it from a division's admin)
PLATFORM = "platform"
PLATFORM_NAMES = ("platform", "平台")

_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"), None)


def _norm_header(text) -> str:
    return unicodedata.normalize("NFKC", str(text or "")).translate(_INVISIBLE).strip().lower() \
        .replace(" ", "_").replace("-", "_")


_ALIASES = {_norm_header(alias): field for field, aliases in COLUMNS.items() for alias in aliases}


def _cell(value) -> str:
    """A cell as text: xlsx gives numbers (a student number 110001 arrives as 110001 or 110001.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).translate(_INVISIBLE).strip()


def _field_of(header) -> str | None:
    """'帳號', 'username', '帳號(username)', '帳號 Username' -> 'username'."""
    text = _norm_header(header)
    if not text:
        return None
    candidates = [text]
    for opening, closing in (("(", ")"), ("[", "]"), ("【", "】"), ("「", "」")):
        if opening in text:
            head, _, rest = text.partition(opening)
            candidates += [head.strip("_"), rest.partition(closing)[0].strip("_")]
    candidates += [part for part in text.split("_") if part]
    for c in candidates:
        if c in _ALIASES:
            return _ALIASES[c]
    return None


# ---------------------------------------------------------------- reading the table

class _Refused(Exception):
    def __init__(self, code, message):
        super().__init__(code)
        self.problem = (0, code, message)


def _read_csv(data: bytes):
    if b"\x00" in data[:4096]:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise _Refused("encoding_unknown", "這是 UTF-16（Unicode 文字）檔；請在 Excel 另存為「CSV UTF-8（逗號分隔）」或 .xlsx。")
        raise _Refused("file_type_refused", "這不是 CSV 文字檔；只接受 CSV 或 Excel 活頁簿（.xlsx）。")
    for encoding in ("utf-8-sig", "cp950"):  # Excel in Taiwan saves "CSV (逗號分隔)" as Big5 (cp950)
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _Refused("encoding_unknown", "無法辨識 CSV 的文字編碼；請存成 UTF-8 或 Big5 後再上傳。")
    # the first of , TAB ; that the top lines use (a ";" inside a roles cell never wins over ",")
    top = [line for line in text.splitlines()[:HEADER_SEARCH_ROWS] if line.strip()]
    delimiter = next((d for d in (",", "\t", ";") if any(d in line for line in top)), ",")
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield record
    except csv.Error as exc:
        raise _Refused("csv_malformed", f"CSV 格式有誤（{exc}）；請用 Excel 重新存檔。") from None


def _read_xlsx(data: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        raise _Refused("xlsx_invalid", "無法讀取這個 Excel 檔；檔案可能已損毀。") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise _Refused("file_too_large", "Excel 檔解壓後內容過大；請只保留名單工作表，或另存為 CSV。")
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a deployment without openpyxl
        raise _Refused("xlsx_unavailable", "系統目前無法讀取 .xlsx，請另存為 CSV 後上傳。") from None
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the same answer to the admin
        raise _Refused("xlsx_invalid", "無法讀取這個 Excel 檔；檔案可能已損毀或設有密碼保護。") from None
    try:
        ws = wb.worksheets[0]
        for values in ws.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            yield list(values)
    finally:
        wb.close()


def _records(filename: str, data: bytes):
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.endswith(".xls"):
        raise _Refused("xls_unsupported", "不支援舊版 Excel（.xls）；請在 Excel「另存新檔」為 Excel 活頁簿（.xlsx）或 CSV。")
    if name.endswith(".xlsx"):
        raise _Refused("xlsx_invalid", "無法讀取這個 Excel 檔；檔案可能已損毀。")
    if name.endswith((".csv", ".txt")):
        return _read_csv(data)
    raise _Refused("file_type_refused", "只接受 CSV（.csv）或 Excel 活頁簿（.xlsx）檔案。")


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
    ([{row, username, display_name, roles}], raw text) so a preview can still show them."""
    if not data:
        return [], [(0, "file_empty", "檔案是空的。")], []
    if len(data) > MAX_BYTES:
        return [], [(0, "file_too_large", f"檔案超過 {MAX_BYTES // (1024 * 1024)} MB 上限；請分批匯入。")], []
    try:
        return _parse(_records(filename, data), tenants)
    except _Refused as refused:
        return [], [refused.problem], []


def _parse(records, tenants=None):
    rows, problems, skipped = [], [], []
    columns, header_row, blank_rows, data_rows = None, None, [], 0
    for number, record in enumerate(records, start=1):
        cells = [_cell(v) for v in record]
        if columns is None:
            found = {}
            for i, header in enumerate(cells):
                field = _field_of(header)
                if field:
                    found.setdefault(field, []).append(i)
            if found:
                header_row, columns = number, found
                continue
            if number >= HEADER_SEARCH_ROWS:
                break
            continue
        if not any(cells):
            blank_rows.append(number)
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            return [], [(0, "too_many_rows", f"資料超過 {MAX_ROWS} 列；請分成幾個檔案匯入。")], []
        # a blank row followed by data is a hole in the list; blank rows at the end are ignored
        problems += [(b, "empty_row", "空白列：請刪除此列，或補上這一列的資料。") for b in blank_rows]
        blank_rows = []
        row, row_problems = _person(number, cells, columns, tenants)
        if row_problems:
            problems += row_problems
            skipped.append(row)
        else:
            rows.append(row)
    if columns is None:
        return [], [(1, "header_missing", "找不到標題列；第一列需有欄位名稱：帳號、姓名、密碼、角色"
                     "（或 username、display_name、password、roles）。")], []
    header_problems = []
    for field in REQUIRED:
        if field not in columns:
            header_problems.append((header_row, "column_missing",
                                    f"缺少「{LABELS[field]}」欄；標題請寫「{LABELS[field]}」或「{field}」。"))
    for field, where in columns.items():
        if len(where) > 1:
            header_problems.append((header_row, "column_duplicate",
                                    f"「{LABELS[field]}」欄出現 {len(where)} 次；請只保留一欄。"))
    if header_problems:
        return [], header_problems, []
    if not rows and not problems:
        return [], [(0, "no_rows", "檔案中沒有任何人員資料。")], []
    return rows, problems, skipped


def _person(number, cells, columns, tenants=None):
    def get(field):
        where = columns.get(field)
        return cells[where[0]] if where and where[0] < len(cells) else ""

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
    return {"row": number, "username": username, "display_name": display_name,
            # every account imported here chooses its own password at first sign-in, whether the
            # file gave an initial one or the platform generated it
            "password": password or None, "must_change_password": True, "grants": grants}, []


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
