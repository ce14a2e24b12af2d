"""People import parsing: a registrar's CSV (UTF-8, Big5) or xlsx -> rows for accounts.import_people."""
import io
from pathlib import Path

import openpyxl
import pytest

from gateway import imports, sheets
from gateway.imports import parse_people as _parse_people

TENANTS = {"day": "日間部", "ce": "進修部"}


def parse_people(filename, data):
    return _parse_people(filename, data, TENANTS)


CSV_ZH = ("帳號,姓名,密碼,角色\n"
          "s1150001,陳怡君,,日間部:學生\n"
          "t_hsu,許老師,secret-pass-1,日間部:任課教師；日間部:導師\n"
          "reg2,註冊組 吳組長,,day:registrar;ce:registrar\n")


def codes(problems):
    return [(row, code) for row, code, _ in problems]


def test_utf8_csv_with_bom_and_chinese_headers():
    rows, problems = parse_people("名單.csv", b"\xef\xbb\xbf" + CSV_ZH.encode("utf-8"))
    assert problems == []
    assert rows == [
        {"row": 2, "username": "s1150001", "display_name": "陳怡君", "password": None,
         "must_change_password": True, "grants": [{"tenant": "day", "role": "student"}]},
        {"row": 3, "username": "t_hsu", "display_name": "許老師", "password": "secret-pass-1",
         "must_change_password": True,
         "grants": [{"tenant": "day", "role": "subject_teacher"}, {"tenant": "day", "role": "homeroom_teacher"}]},
        {"row": 4, "username": "reg2", "display_name": "註冊組 吳組長", "password": None,
         "must_change_password": True,
         "grants": [{"tenant": "day", "role": "registrar"}, {"tenant": "ce", "role": "registrar"}]},
    ]


def test_utf8_csv_without_bom_and_english_headers():
    data = "username,display_name,password,roles\r\nadmin2,管理者,longenough,day:system_admin\r\n".encode()
    rows, problems = parse_people("people.CSV", data)
    assert problems == [] and rows[0]["username"] == "admin2" and rows[0]["display_name"] == "管理者"


def test_big5_csv_as_excel_in_taiwan_saves_it():
    data = CSV_ZH.encode("cp950")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rows, problems = parse_people("名單.csv", data)
    assert problems == []
    assert [r["display_name"] for r in rows] == ["陳怡君", "許老師", "註冊組 吳組長"]
    assert rows[1]["grants"][1] == {"tenant": "day", "role": "homeroom_teacher"}


def test_demo_people_csv_reads_like_the_demo_loader():
    with open(Path(__file__).resolve().parents[3] / "deploy" / "demo" / "people.csv", "rb") as fh:
        rows, problems = parse_people("people.csv", fh.read())
    assert problems == [] and len(rows) == 26  # 18 + the staff of the units that enter items (issue 8) + 2 elective officers
    assert rows[0]["grants"] == [{"tenant": "day", "role": "system_admin"}, {"tenant": "ce", "role": "system_admin"}]
    # a platform grant (tied to no tenant) travels apart from the tenant grants, as the loader sends it
    (platform,) = [r for r in imports.for_accounts(rows) if r["username"] == "platform"]
    assert platform["platform_roles"] == ["platform_admin"]
    assert platform["grants"] == [{"tenant": "day", "role": "ops"}, {"tenant": "ce", "role": "ops"}]


def test_tenant_names_come_from_the_tenant_table_not_the_code():
    """A third tenant added as a row is named in the roles column like the first two."""
    grants, bad = imports.parse_roles("附設夜間部:學生;平台:平台管理者", {**TENANTS, "night": "附設夜間部"})
    assert bad == [] and grants == [{"tenant": "night", "role": "student"},
                                    {"tenant": "platform", "role": "platform_admin"}]
    assert imports.parse_roles("附設夜間部:學生", TENANTS)[0] == [{"tenant": "附設夜間部", "role": "student"}]


def _xlsx(table, title_rows=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in title_rows:
        ws.append(r)
    for r in table:
        ws.append(r)
    wb.create_sheet("其他").append(["帳號"])  # only the first sheet is read
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_first_sheet_with_numbers_and_a_title_row():
    data = _xlsx([["帳號", "姓名", "密碼", "角色", "班級"],
                  [1150002, "林柏宇", 12345678, "日間部:學生", "資一甲"],
                  ["t_chou", "周老師", None, "進修部：任課教師", None]],
                 title_rows=[["115 學年度 新生與教師名單"]])
    rows, problems = parse_people("名單.xlsx", data)
    assert problems == []
    assert rows == [
        {"row": 3, "username": "1150002", "display_name": "林柏宇", "password": "12345678",
         "must_change_password": True, "grants": [{"tenant": "day", "role": "student"}]},
        {"row": 4, "username": "t_chou", "display_name": "周老師", "password": None,
         "must_change_password": True, "grants": [{"tenant": "ce", "role": "subject_teacher"}]},
    ]


def test_xlsx_row_problems_keep_the_sheet_row_numbers():
    data = _xlsx([["username", "display_name", "roles"],
                  ["ok1", "甲", "day:student"],
                  [None, None, None],
                  ["bad1", "乙", "學生"],
                  [None, "丙", "day:student"],
                  ["norole", "丁", None],
                  [None, None, None], [None, None, None]])  # trailing blank rows are ignored
    rows, problems = parse_people("x.xlsx", data)
    assert [r["username"] for r in rows] == ["ok1"]
    assert codes(problems) == [(3, "empty_row"), (4, "role_format"), (5, "username_missing"),
                               (6, "roles_missing")]
    assert "「學生」" in problems[1][2] and "日間部:學生" in problems[1][2]


def test_roles_accept_chinese_english_and_mixed_separators():
    grants, bad = imports.parse_roles("日間部:學生、 ce:Registrar , 進修部：系統管理者;日間部:學生", TENANTS)
    assert bad == []
    assert grants == [{"tenant": "day", "role": "student"}, {"tenant": "ce", "role": "registrar"},
                      {"tenant": "ce", "role": "system_admin"}]
    # unknown names pass through for accounts to refuse (unknown_role / unknown_tenant) with the value
    assert imports.parse_roles("夜間部:校工") == ([{"tenant": "夜間部", "role": "校工"}], [])
    assert imports.parse_roles("day:student:x;registrar")[1] == ["day:student:x", "registrar"]


def test_headers_with_both_languages_and_spacing():
    data = "帳號 (username),姓名(Name),角色 roles\nu_1,某甲,day:student\n".encode()
    rows, problems = parse_people("a.csv", data)
    assert problems == [] and rows[0]["username"] == "u_1"


def test_missing_and_duplicate_columns_refuse_the_file():
    rows, problems = parse_people("a.csv", "帳號,密碼\nu1,x\n".encode())
    assert rows == [] and codes(problems) == [(1, "column_missing"), (1, "column_missing")]
    assert "「姓名」" in problems[0][2] and "「角色」" in problems[1][2]
    rows, problems = parse_people("a.csv", "帳號,姓名,角色,username\nu1,甲,day:student,u1\n".encode())
    assert rows == [] and codes(problems) == [(1, "column_duplicate")]
    rows, problems = parse_people("a.csv", "甲,乙\n1,2\n".encode())
    assert rows == [] and codes(problems) == [(1, "header_missing")]


def test_whole_file_refusals():
    assert codes(parse_people("a.csv", b"")[1]) == [(0, "file_empty")]
    assert codes(parse_people("a.csv", b"a" * (imports.MAX_BYTES + 1))[1]) == [(0, "file_too_large")]
    assert codes(parse_people("a.pdf", b"%PDF-1.4 ...")[1]) == [(0, "file_type_refused")]
    assert codes(parse_people("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)[1]) == [(0, "xls_unsupported")]
    assert codes(parse_people("a.xlsx", b"not a zip")[1]) == [(0, "xlsx_invalid")]
    assert codes(parse_people("a.xlsx", b"PK\x03\x04broken")[1]) == [(0, "xlsx_invalid")]
    assert codes(parse_people("a.csv", "帳號,姓名,角色\n".encode())[1]) == [(0, "no_rows")]
    assert codes(parse_people("a.csv", b"\xff\xfe" + "帳號".encode("utf-16-le"))[1]) == [(0, "encoding_unknown")]
    assert codes(parse_people("a.csv", b"\x81\x30\xff\xfe garbage")[1]) == [(0, "encoding_unknown")]


def test_too_many_rows():
    body = "".join(f"u{i:05d},某{i},day:student\n" for i in range(imports.MAX_ROWS + 1))
    rows, problems = parse_people("a.csv", ("帳號,姓名,角色\n" + body).encode())
    assert rows == [] and codes(problems) == [(0, "too_many_rows")]
    ok = "".join(f"u{i:05d},某{i},day:student\n" for i in range(imports.MAX_ROWS))
    assert len(parse_people("a.csv", ("帳號,姓名,角色\n" + ok).encode())[0]) == imports.MAX_ROWS


def test_xlsx_that_unpacks_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(sheets, "MAX_XLSX_UNPACKED", 1000)
    data = _xlsx([["帳號", "姓名", "角色"]] + [[f"u{i}", "某" * 20, "day:student"] for i in range(50)])
    assert codes(parse_people("a.xlsx", data)[1]) == [(0, "file_too_large")]


def test_initial_passwords_only_for_empty_cells_and_never_in_place():
    rows, _ = parse_people("a.csv", CSV_ZH.encode())
    sendable, generated = imports.initial_passwords(rows)
    assert set(generated) == {"s1150001", "reg2"} and rows[0]["password"] is None
    assert all("row" not in r for r in sendable)
    for r in sendable:
        assert len(r["password"]) >= 8
        assert r["must_change_password"] is True
    assert sendable[1]["password"] == "secret-pass-1"
    assert imports.initial_passwords(rows)[1]["s1150001"] != generated["s1150001"]


def test_read_people_also_returns_the_rows_left_out_as_written():
    data = "帳號,姓名,角色\nok1,甲,day:student\nbad1,乙,學生\n,丙,day:student\n".encode()
    rows, problems, skipped = imports.read_people("a.csv", data)
    assert [r["username"] for r in rows] == ["ok1"] and codes(problems) == [(3, "role_format"), (4, "username_missing")]
    assert skipped == [{"row": 3, "username": "bad1", "display_name": "乙", "roles": "學生"},
                       {"row": 4, "username": "", "display_name": "丙", "roles": "day:student"}]
    assert imports.parse_people("a.csv", data) == (rows, problems)


def test_an_email_column_is_read_and_an_empty_cell_is_left_out():
    from gateway.imports import parse_people
    data = ("帳號,姓名,角色,電子郵件\n"
            "t_new,新老師,日間部:任課教師, t_new@school.example \n"
            "s_new,新同學,日間部:學生,\n").encode()
    rows, problems = parse_people("名單.csv", data, {"day": "日間部"})
    assert problems == []
    assert rows[0]["email"] == "t_new@school.example" and "email" not in rows[1]
