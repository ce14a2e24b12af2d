"""One spreadsheet reader for every import (issue 8 item 11): bytes of a file -> rows of text.

    sheet = read_sheet("名冊.xlsx", data, COLUMNS)
    sheet.rows       [{"row": 3, "cells": {"student_no": "1150001", ...}}]   (row = the sheet's own row)
    sheet.problems   [{"row", "column", "code", "message"}]   row 0 = the whole file
    sheet.notices    the same shape: what was repaired (a code's lost leading zero) and is shown

COLUMNS: [{field, label, aliases, required, type, width}] where type is "text", "code" (kept as
typed, never a number: leading zeros matter), "date", "int" or "username", and width (codes) is
the number of digits a numeric code always has. The owning service publishes its columns
(records.list_import_kinds) and decides what a row may say; this module only reads the file:

- CSV in UTF-8 (with or without BOM) or Big5/cp950 (Excel's "CSV (逗號分隔)" in Taiwan); a cell
  where Big5 lost a character (written as '?') is flagged in text columns, never imported;
- xlsx (first sheet, openpyxl); date cells become ISO dates; numbers lose their ".0";
- headers in Chinese or English, with line breaks, spaces or full-width characters, and title
  rows (merged or not) above the header;
- ="..." text formulas (how school systems keep leading zeros) are unwrapped; a numeric code
  that lost its leading zeros is padded to its column's width (given, or the width nearly every
  other value in the column has), with a notice;
- limits: size, rows, columns, cell length, xlsx unpacked size (zip bombs).
No input, however malformed, raises: anything unreadable is a file-level problem.
"""
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from portfolio_common.text import BIDI_CONTROLS

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
MAX_CELL = 1000
MAX_XLSX_UNPACKED = 40 * 1024 * 1024
HEADER_SEARCH_ROWS = 10

# invisible characters, the bidirectional controls (the text rules' BIDI_CONTROLS: a preview never
# shows a cell reversed), and control characters no cell legitimately holds (NUL breaks databases)
_INVISIBLE = dict.fromkeys([*map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), *map(ord, BIDI_CONTROLS),
                            *(c for c in range(32) if chr(c) not in "\t\n\r"), 0x7f], None)
_TEXT_FORMULA = re.compile(r'^=\s*"((?:[^"]|"")*)"\s*$')

MESSAGES = {  # zh-TW for the file-level and reading problems (row problems of content: the service's codes)
    "file_empty": "檔案是空的。",
    "file_too_large": f"檔案超過 {MAX_BYTES // (1024 * 1024)} MB 上限；請分批匯入。",
    "xlsx_too_large": "Excel 檔解壓後內容過大；請只保留名單工作表，或另存為 CSV。",
    "file_type_refused": "只接受 CSV（.csv）或 Excel 活頁簿（.xlsx）檔案。",
    "xls_unsupported": "不支援舊版 Excel（.xls）；請在 Excel「另存新檔」為 Excel 活頁簿（.xlsx）或 CSV。",
    "xlsx_invalid": "無法讀取這個 Excel 檔；檔案可能已損毀或設有密碼保護。",
    "encoding_unknown": "無法辨識 CSV 的文字編碼；請存成 UTF-8 或 Big5 後再上傳。",
    "utf16_unsupported": "這是 UTF-16（Unicode 文字）檔；請在 Excel 另存為「CSV UTF-8（逗號分隔）」或 .xlsx。",
    "csv_malformed": "CSV 格式有誤；請用 Excel 重新存檔。",
    "too_many_rows": f"資料超過 {MAX_ROWS} 列；請分成幾個檔案匯入。",
    "too_many_columns": f"超過 {MAX_COLUMNS} 欄；請只保留名單需要的欄位。",
    "header_missing": "找不到標題列；第一列（或標題文字下方）需有欄位名稱：{labels}。",
    "column_missing": "缺少「{label}」欄；標題請寫「{label}」或「{field}」。",
    "column_duplicate": "「{label}」欄出現 {count} 次；請只保留一欄。",
    "no_rows": "檔案中沒有任何資料列。",
    "empty_row": "空白列：請刪除此列，或補上這一列的資料。",
    "cell_too_long": "「{label}」超過 {limit} 個字。",
    "character_lost": "「{label}」有「?」：Big5 檔無法存放某些字（如罕用字），存檔時被換成了問號。請在 Excel 另存為「CSV UTF-8」或 .xlsx 後重新上傳。",
    "formula_without_value": "「{label}」是公式且沒有計算結果；請在 Excel 將此欄複製後「貼上值」。",
    "leading_zero_restored": "「{label}」的「{given}」已補回開頭的 0 成為「{value}」（Excel 會把數字開頭的 0 去掉）；若不正確請將此欄設為文字後重新匯出。",
    "file_unreadable": "無法讀取這個檔案；請用 Excel 重新存成 CSV UTF-8 或 .xlsx 後再上傳。",
}


def message(code, **params) -> str:
    text = MESSAGES.get(code, "")
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


class Refused(Exception):
    """The whole file is refused: `code` is the stable code, `text` the message's key."""

    def __init__(self, code, text=None, **params):
        super().__init__(code)
        self.code, self.text, self.params = code, text or code, params


@dataclass
class Sheet:
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    notices: list = field(default_factory=list)
    header_row: int | None = None
    encoding: str | None = None
    columns: dict = field(default_factory=dict)   # field -> the header text as the file wrote it

    def problem(self, row, column, code, **params):
        self.problems.append({"row": row, "column": column, "code": code, "message": message(code, **params)})


# ---------------------------------------------------------------- headers

def norm_header(text) -> str:
    """'身分證\\n號', ' Student No ', 'ＮＡＭＥ', '學號(student_no)' -> comparable keys."""
    t = unicodedata.normalize("NFKC", str(text if text is not None else "")).translate(_INVISIBLE).lower()
    return re.sub(r"[\s_\-:：*＊]+", "", t)


def _header_keys(text) -> list:
    t = norm_header(text)
    if not t:
        return []
    keys = [t] + [norm_header(part) for part in unicodedata.normalize("NFKC", str(text)).split()]
    for opening, closing in (("(", ")"), ("[", "]"), ("【", "】"), ("「", "」"), ("<", ">")):
        if opening in t:
            head, _, rest = t.partition(opening)
            keys += [head, rest.partition(closing)[0]]
    return [k for k in keys if k]


def alias_table(columns) -> dict:
    table = {}
    for c in columns:
        for name in [c["label"], c["field"], *c.get("aliases", [])]:
            table.setdefault(norm_header(name), c["field"])
    return table


# ---------------------------------------------------------------- cells

def cell_text(value) -> str:
    """A cell as text: numbers without '.0', dates as ISO, ="..." unwrapped, invisible chars out."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        value = int(value) if value.is_integer() and abs(value) < 1e15 else value
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    text = str(value).translate(_INVISIBLE).strip()
    m = _TEXT_FORMULA.match(text)
    if m:
        text = m.group(1).replace('""', '"').strip()
    return text


# ---------------------------------------------------------------- files

def _decode_csv(data: bytes):
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise Refused("encoding_unknown", "utf16_unsupported")
    if b"\x00" in data[:4096]:
        raise Refused("file_type_refused")
    for encoding in ("utf-8-sig", "cp950"):
        try:
            return data.decode(encoding), ("utf-8" if encoding == "utf-8-sig" else "cp950")
        except UnicodeDecodeError:
            continue
    raise Refused("encoding_unknown")


def _csv_records(text):
    top = [line for line in text.splitlines()[:HEADER_SEARCH_ROWS] if line.strip()]
    delimiter = next((d for d in (",", "\t", ";") if any(d in line for line in top)), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            yield record
    except csv.Error:
        raise Refused("csv_malformed") from None


def _xlsx_records(data: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(max(i.file_size, 0) for i in zf.infolist()) > MAX_XLSX_UNPACKED:
                raise Refused("file_too_large", "xlsx_too_large")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, RuntimeError):
        raise Refused("xlsx_invalid") from None
    import openpyxl
    try:
        values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the same answer
        raise Refused("xlsx_invalid") from None
    try:
        if not values.worksheets:
            raise Refused("xlsx_invalid")
        rows_v = values.worksheets[0].iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
        rows_f = formulas.worksheets[0].iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
        for vals, forms in zip(rows_v, rows_f):
            out = []
            for v, f in zip(vals, forms):
                if v is None and isinstance(f, str) and f.startswith("="):
                    m = _TEXT_FORMULA.match(f)
                    out.append(f if m else _NoValue())  # ="..." is text; another formula lost its value
                else:
                    out.append(v)
            yield out
    except Refused:
        raise
    except Exception:  # noqa: BLE001 - a workbook broken inside reads as broken
        raise Refused("xlsx_invalid") from None
    finally:
        values.close()
        formulas.close()


class _NoValue:
    """A formula cell saved without its computed value."""


def _records(filename: str, data: bytes, sheet: Sheet):
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04":
        sheet.encoding = "xlsx"
        return _xlsx_records(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.endswith(".xls"):
        raise Refused("xls_unsupported")
    if name.endswith(".xlsx"):
        raise Refused("xlsx_invalid")
    if name.endswith((".csv", ".txt")) or not name:
        text, sheet.encoding = _decode_csv(data)
        return _csv_records(text)
    raise Refused("file_type_refused")


# ---------------------------------------------------------------- the whole file

def read_sheet(filename: str, data: bytes, columns: list) -> Sheet:
    """Read a spreadsheet into rows of text keyed by field. Never raises for any input."""
    sheet = Sheet()
    try:
        _read(filename, data or b"", columns, sheet)
        sheet.problems.sort(key=lambda p: (p["row"], p["column"] or "", p["code"]))
    except Refused as r:
        sheet.rows, sheet.notices, sheet.problems = [], [], []
        sheet.problems.append({"row": 1 if r.code == "header_missing" else 0, "column": None, "code": r.code,
                               "message": message(r.text, **r.params)})
    except Exception:  # noqa: BLE001 - the promise: no file gives a server error
        sheet.rows, sheet.notices, sheet.problems = [], [], []
        sheet.problem(0, None, "file_unreadable")
    return sheet


def _read(filename, data, columns, sheet):
    if not data:
        raise Refused("file_empty")
    if len(data) > MAX_BYTES:
        raise Refused("file_too_large")
    by_field = {c["field"]: c for c in columns}
    aliases = alias_table(columns)
    need = min(2, len(columns))
    found, blank, data_rows = None, [], 0
    raw_rows = []
    for number, record in enumerate(_records(filename, data, sheet), start=1):
        if len(record) > MAX_COLUMNS and any(cell_text(v) for v in record[MAX_COLUMNS:]
                                             if not isinstance(v, _NoValue)):
            raise Refused("too_many_columns")
        cells = [v if isinstance(v, _NoValue) else cell_text(v) for v in record[:MAX_COLUMNS]]
        if found is None:
            hit = {}
            for i, text in enumerate(cells):
                if isinstance(text, _NoValue):
                    continue
                f = next((aliases[k] for k in _header_keys(text) if k in aliases), None)
                if f:
                    hit.setdefault(f, []).append(i)
            if len(hit) >= need:
                found, sheet.header_row = hit, number
                sheet.columns = {f: cells[w[0]] for f, w in hit.items()}
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if not any(c for c in cells if not isinstance(c, _NoValue)) and not any(isinstance(c, _NoValue) for c in cells):
            blank.append(number)
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise Refused("too_many_rows")
        for b in blank:  # a blank row followed by data is a hole; blank rows at the end are ignored
            sheet.problem(b, None, "empty_row")
        blank = []
        raw_rows.append((number, cells))
    if found is None:
        raise Refused("header_missing", labels="、".join(c["label"] for c in columns if c.get("required")))
    header_problems = [(f, "column_missing", {"label": by_field[f]["label"], "field": f})
                       for f in by_field if by_field[f].get("required") and f not in found]
    header_problems += [(f, "column_duplicate", {"label": by_field[f]["label"], "count": len(w)})
                        for f, w in found.items() if len(w) > 1]
    if header_problems:
        for f, code, params in header_problems:
            sheet.problem(sheet.header_row, f, code, **params)
        return
    if not raw_rows:
        raise Refused("no_rows")
    for number, cells in raw_rows:
        row = {}
        for f, where in found.items():
            value = cells[where[0]] if where[0] < len(cells) else ""
            col = by_field[f]
            if isinstance(value, _NoValue):
                sheet.problem(number, f, "formula_without_value", label=col["label"])
                value = ""
            elif len(value) > MAX_CELL:
                sheet.problem(number, f, "cell_too_long", label=col["label"], limit=MAX_CELL)
                value = value[:MAX_CELL]
            elif sheet.encoding == "cp950" and col.get("type") == "text" and "?" in value:
                sheet.problem(number, f, "character_lost", label=col["label"])
            if col.get("type") in ("username", "date"):
                value = unicodedata.normalize("NFKC", value).strip()
            elif col.get("type") == "code":  # as the service reads it: full-width and case do not matter
                value = unicodedata.normalize("NFKC", value).strip().upper()
            row[f] = value
        sheet.rows.append({"row": number, "cells": row})
    _restore_leading_zeros(sheet, [c for c in columns if c.get("type") == "code" and c["field"] in found])


def _restore_leading_zeros(sheet, code_columns):
    """A numeric code shorter than its column's width lost its leading zeros to a spreadsheet."""
    for col in code_columns:
        f = col["field"]
        digits = [r["cells"].get(f, "") for r in sheet.rows if r["cells"].get(f, "").isdigit()]
        width = col.get("width")
        if not width and len(digits) >= 2:
            length, n = Counter(len(d) for d in digits).most_common(1)[0]
            if n >= 0.8 * len(digits) and n >= 2:
                width = length
        if not width:
            continue
        for r in sheet.rows:
            v = r["cells"].get(f, "")
            if v.isdigit() and len(v) < width:
                r["cells"][f] = v.zfill(width)
                sheet.notices.append({"row": r["row"], "column": f, "code": "leading_zero_restored",
                                      "message": message("leading_zero_restored", label=col["label"],
                                                         given=v, value=v.zfill(width))})
