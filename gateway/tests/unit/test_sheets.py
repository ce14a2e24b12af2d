"""The one spreadsheet reader every import shares: encodings, headers as schools write them,
title rows, text formulas, lost leading zeros, Big5's lost characters; never an exception.
The shared cases R02, R07 and R09 are read here with their right answers."""
import datetime as dt
import io
import os

import openpyxl
import pytest

from gateway import sheets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CASES = os.path.join(ROOT, "..", "shared", "cases")
COLUMNS = [  # the registrar's roster as records publishes it (records/profile/importer.py)
    {"field": "student_no", "label": "學號", "aliases": ["student_no"], "required": True, "type": "code", "width": None},
    {"field": "name", "label": "姓名", "aliases": ["name"], "required": True, "type": "text", "width": None},
    {"field": "national_id", "label": "身分證號", "aliases": ["national_id", "身分證字號"], "required": True, "type": "code", "width": None},
    {"field": "class_code", "label": "班級代碼", "aliases": ["class_code"], "required": True, "type": "code", "width": None},
    {"field": "class_name", "label": "班級名稱", "aliases": ["class_name"], "required": False, "type": "text", "width": None},
    {"field": "seat_no", "label": "座號", "aliases": ["seat_no"], "required": False, "type": "code", "width": None},
    {"field": "username", "label": "帳號", "aliases": ["username"], "required": True, "type": "username", "width": None},
    {"field": "birth_date", "label": "出生日期", "aliases": ["birth_date"], "required": False, "type": "date", "width": None},
    {"field": "school_code", "label": "學校代碼", "aliases": [], "required": False, "type": "code", "width": 6},
]


def case(name):
    folder = os.path.join(CASES, name)
    (f,) = [n for n in os.listdir(folder) if n != "EXPECTED.md"]
    with open(os.path.join(folder, f), "rb") as fh:
        return f, fh.read()


def xlsx(rows, merge=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    if merge:
        ws.merge_cells(merge)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def codes(sheet):
    return [(p["row"], p["column"], p["code"]) for p in sheet.problems]


def test_R02_big5_rows_whose_characters_were_lost_are_flagged_by_row_and_column():
    name, data = case("R02_big5_rare_char")
    sheet = sheets.read_sheet(name, data, COLUMNS)
    assert sheet.encoding == "cp950" and [r["cells"]["name"] for r in sheet.rows] == ["游子?", "陳柏?"]
    assert codes(sheet) == [(2, "name", "character_lost"), (3, "name", "character_lost")]
    assert "Big5" in sheet.problems[0]["message"]


def test_R07_text_formulas_are_unwrapped_and_keep_their_zeros():
    name, data = case("R07_excel_text_formula")
    sheet = sheets.read_sheet(name, data, COLUMNS)
    assert sheet.problems == [] and sheet.notices == []
    assert [(r["cells"]["student_no"], r["cells"]["class_code"]) for r in sheet.rows] == [("1150001", "101"), ("1150002", "101")]


def test_R09_the_birth_date_column_is_kept_as_written_for_records_to_read():
    name, data = case("R09_roc_birth_date")
    sheet = sheets.read_sheet(name, data, COLUMNS)
    assert sheet.problems == [] and [r["cells"]["birth_date"] for r in sheet.rows] == ["0940315", "94/02/31"]


@pytest.mark.parametrize("header", ["身分證\n號", " 身分證號 ", "身分證字號", "ＮＡＴＩＯＮＡＬ_ＩＤ", "身分證號(national_id)",
                                    "National ID", "【身分證號】", "身分證號*"])
def test_headers_with_line_breaks_spaces_full_width_and_brackets(header):
    data = f'學號,姓名,"{header}",班級代碼,帳號\n1150001,甲,A123456789,101,s1\n'.encode()
    sheet = sheets.read_sheet("a.csv", data, COLUMNS)
    assert sheet.problems == [] and sheet.rows[0]["cells"]["national_id"] == "A123456789"


def test_merged_title_rows_above_the_header_in_xlsx():
    data = xlsx([["115 學年度 學生名冊（註冊組）", None, None, None, None], ["製表日期 115/09/01"],
                 ["學號", "姓名", "身分證號", "班級代碼", "帳號"], [1150001, "甲", "A123456789", 101, "s1"]], merge="A1:E1")
    sheet = sheets.read_sheet("a.xlsx", data, COLUMNS)
    assert sheet.problems == [] and sheet.header_row == 3 and sheet.rows[0]["row"] == 4
    assert sheet.rows[0]["cells"]["student_no"] == "1150001" and sheet.rows[0]["cells"]["class_code"] == "101"


def test_xlsx_text_formulas_without_cached_values_and_date_cells():
    data = xlsx([["學號", "姓名", "身分證號", "班級代碼", "帳號", "出生日期"],
                 ['="0150001"', "甲", "A123456789", '="0101"', "s1", dt.datetime(2005, 3, 15)],
                 ["=1+1", "乙", "F131104093", "0101", "s2", "94/3/15"]])
    sheet = sheets.read_sheet("a.xlsx", data, COLUMNS)
    assert sheet.rows[0]["cells"]["student_no"] == "0150001" and sheet.rows[0]["cells"]["class_code"] == "0101"
    assert sheet.rows[0]["cells"]["birth_date"] == "2005-03-15"
    assert codes(sheet) == [(3, "student_no", "formula_without_value")]


def test_a_code_that_lost_its_leading_zero_is_padded_with_a_notice():
    body = "".join(f"0{115000 + i},甲{i},A123456789,0101,s{i}\n" for i in range(1, 5)) + "115005,乙,F131104093,101,s5\n"
    sheet = sheets.read_sheet("a.csv", ("學號,姓名,身分證號,班級代碼,帳號,學校代碼\n" + body).encode(), COLUMNS)
    last = sheet.rows[-1]["cells"]
    assert (last["student_no"], last["class_code"]) == ("0115005", "0101")
    assert [(n["row"], n["column"], n["code"]) for n in sheet.notices] == [
        (6, "student_no", "leading_zero_restored"), (6, "class_code", "leading_zero_restored")]
    wide = sheets.read_sheet("a.csv", "學號,姓名,身分證號,班級代碼,帳號,學校代碼\n1,甲,A123456789,101,s1,50407\n".encode(), COLUMNS)
    assert wide.rows[0]["cells"]["school_code"] == "050407"  # a fixed-width code column


def test_utf8_with_and_without_bom_and_big5_read_alike():
    text = "學號,姓名,身分證號,班級代碼,帳號\n1150001,陳怡君,A123456789,101,s1\n"
    got = [sheets.read_sheet("a.csv", data, COLUMNS) for data in
           (text.encode(), b"\xef\xbb\xbf" + text.encode(), text.encode("cp950"))]
    assert all(s.problems == [] and s.rows[0]["cells"]["name"] == "陳怡君" for s in got)
    assert [s.encoding for s in got] == ["utf-8", "utf-8", "cp950"]


@pytest.mark.parametrize("data,name,code", [
    (b"", "a.csv", "file_empty"), (b"x" * (sheets.MAX_BYTES + 1), "a.csv", "file_too_large"),
    (b"%PDF-1.4", "a.pdf", "file_type_refused"), (b"PK\x03\x04garbage", "a.xlsx", "xlsx_invalid"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "a.xls", "xls_unsupported"),
    ("學號".encode("utf-16"), "a.csv", "encoding_unknown"), ("甲,乙\n1,2\n".encode(), "a.csv", "header_missing"),
    ("學號,姓名,身分證號,班級代碼,帳號\n".encode(), "a.csv", "no_rows"),
])
def test_whole_file_refusals(data, name, code):
    sheet = sheets.read_sheet(name, data, COLUMNS)
    assert [p["code"] for p in sheet.problems] == [code] and sheet.rows == []
    assert sheet.problems[0]["message"]


def test_missing_columns_huge_cells_and_holes():
    sheet = sheets.read_sheet("a.csv", "學號,姓名\n1,甲\n".encode(), COLUMNS)
    assert {(p["column"], p["code"]) for p in sheet.problems} == {
        ("national_id", "column_missing"), ("class_code", "column_missing"), ("username", "column_missing")}
    big = "學號,姓名,身分證號,班級代碼,帳號\n1,{},A123456789,101,s1\n\n2,乙,F131104093,101,s2\n".format("長" * 5000)
    sheet = sheets.read_sheet("a.csv", big.encode(), COLUMNS)
    assert codes(sheet) == [(2, "name", "cell_too_long"), (3, None, "empty_row")]
    assert len(sheet.rows[0]["cells"]["name"]) == sheets.MAX_CELL


def test_zip_bombs_are_refused(monkeypatch):
    monkeypatch.setattr(sheets, "MAX_XLSX_UNPACKED", 1000)
    data = xlsx([["學號", "姓名", "身分證號", "班級代碼", "帳號"]] + [[i, "某" * 20, "A123456789", 101, "s"] for i in range(50)])
    assert [p["code"] for p in sheets.read_sheet("a.xlsx", data, COLUMNS).problems] == ["file_too_large"]


def test_control_characters_never_reach_a_service():
    data = "學號,姓名,身分證號,班級代碼,帳號\n11\x1b50001,陳\x07怡君,A123456789,101,s\x08_day01\n".encode()
    (row,) = sheets.read_sheet("a.csv", data, COLUMNS).rows
    assert row["cells"]["student_no"] == "1150001" and row["cells"]["name"] == "陳怡君"
    assert row["cells"]["username"] == "s_day01"


@pytest.mark.parametrize("ch", list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"))
def test_a_cell_never_keeps_a_bidi_control_so_no_preview_shows_it_reversed(ch):
    data = ("學號,姓名,身分證號,班級代碼,帳號\r\n"
            f"{ch}1150001,{ch}陳{ch}怡君{ch},A123456789,101{ch},s_day01\r\n").encode("utf-8")
    sheet = sheets.read_sheet("名冊.csv", data, COLUMNS)
    (row,) = sheet.rows
    assert (row["cells"]["student_no"], row["cells"]["name"], row["cells"]["class_code"]) == ("1150001", "陳怡君", "101")
