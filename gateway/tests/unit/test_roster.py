"""Roster import parsing (學籍資料): spreadsheet -> records.import_school payload; masking of national IDs."""
import io

import openpyxl

from gateway import roster
from gateway.roster import build_payload, classify, mask_id, read_roster, refusal_problems

CSV = ("學號,姓名,身分證號,班級代碼,班級名稱,座號,帳號\n"
       "1150001,陳怡君,A223456781,101,資料處理科一年甲班,1,s_day01\n"
       "1150002,林柏宇,b123456780,101,資料處理科一年甲班,2,s_day02\n"
       "1150003,黃雅婷,F223456786,102,資料處理科一年乙班,,s_day03\n")
IDS = ("A223456781", "B123456780", "F223456786")
USERS = {f"s_day0{i}": {"user_id": f"00000000-0000-0000-0000-00000000000{i}", "display_name": "x",
                        "roles": ["student"]} for i in (1, 2, 3)}


def codes(problems):
    return [(row, code) for row, code, _ in problems]


def test_mask_shows_first_three_and_last_two_only():
    assert mask_id("A123456789") == "A12*****89"
    assert mask_id(" a123456789 ") == "A12*****89"
    assert mask_id("Ａ123456789") == "A12*****89"  # full-width letters from Excel
    assert mask_id("A1234") == "*****" and mask_id("") == ""  # too short to hide anything otherwise


def test_utf8_bom_csv_with_chinese_headers():
    rows, problems = read_roster("名冊.csv", b"\xef\xbb\xbf" + CSV.encode())
    assert problems == []
    assert rows[0] == {"row": 2, "student_no": "1150001", "name": "陳怡君", "national_id": "A223456781",
                       "class_code": "101", "class_name": "資料處理科一年甲班", "seat_no": 1,
                       "username": "s_day01"}
    assert rows[1]["national_id"] == "B123456780" and rows[2]["seat_no"] is None


def test_big5_csv_and_english_headers():
    rows, problems = read_roster("名冊.csv", CSV.encode("cp950"))
    assert problems == [] and [r["name"] for r in rows] == ["陳怡君", "林柏宇", "黃雅婷"]
    english = CSV.replace("學號,姓名,身分證號,班級代碼,班級名稱,座號,帳號",
                          "student_no,name,national_id,class_code,class_name,seat_no,username")
    rows, problems = read_roster("roster.csv", english.encode())
    assert problems == [] and rows[2]["class_code"] == "102"


def test_xlsx_with_title_row_and_numeric_cells():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["115學年度 學生名冊"])
    ws.append(["學號", "姓名", "身分證號", "班級代碼", "班級名稱", "座號", "帳號"])
    ws.append([1150001, "陳怡君", "A223456781", 101, "資料處理科一年甲班", 1.0, "s_day01"])
    buf = io.BytesIO()
    wb.save(buf)
    rows, problems = read_roster("名冊.xlsx", buf.getvalue())
    assert problems == []
    assert (rows[0]["row"], rows[0]["student_no"], rows[0]["class_code"], rows[0]["seat_no"]) == (3, "1150001", "101", 1)


def test_missing_columns_and_cells():
    rows, problems = read_roster("x.csv", "學號,姓名,帳號\n1,王,s1\n".encode())
    assert rows == [] and {c for _, c in codes(problems)} == {"column_missing"}
    assert len(problems) == 3
    data = CSV + "1150009,,A223456781X,103,,x,\n"
    _, problems = read_roster("x.csv", data.encode())
    assert codes(problems) == [(5, "name_missing"), (5, "class_name_missing"), (5, "username_missing"),
                               (5, "seat_no_invalid")]


def test_duplicates_inside_the_file_name_the_rows_but_never_the_id():
    data = CSV + ("1150001,重複學號,H123456786,102,資料處理科一年乙班,3,s_day04\n"
                  "1150005,重複身分證,a223456781,102,資料處理科一年乙班,4,s_day05\n")
    rows, problems = read_roster("x.csv", data.encode())
    assert codes(problems) == [(5, "duplicate_student_no"), (6, "duplicate_national_id_in_file")]
    assert "第 2 列" in problems[0][2] and "第 2 列" in problems[1][2]
    assert all(nid not in msg for _, _, msg in problems for nid in IDS + ("H123456786", "A22", "781"))


def test_class_name_must_agree_within_the_file():
    data = CSV + "1150004,張家豪,H123456786,101,別的名稱,3,s_day04\n"
    _, problems = read_roster("x.csv", data.encode())
    assert codes(problems) == [(5, "class_name_conflict")] and "第 2 列" in problems[0][2]


def test_payload_resolves_accounts_and_leaves_problem_rows_out():
    rows, problems = read_roster("x.csv", (CSV + "1150004,張家豪,H123456786,102,資料處理科一年乙班,3,t_wang\n").encode())
    users = dict(USERS, t_wang={"user_id": "00000000-0000-0000-0000-0000000000aa", "display_name": "王",
                                "roles": ["subject_teacher"]})
    problems += roster.account_problems(rows, users)
    assert codes(problems) == [(5, "student_account_missing")]
    assert "找不到此學生帳號" in problems[0][2]
    payload, sent = build_payload(rows, problems, users, 115, 1)
    assert payload["school_year"] == 115 and payload["semester"] == 1 and payload["sections"] == []
    assert payload["classes"] == [{"code": "101", "name": "資料處理科一年甲班", "homeroom_user_id": None},
                                  {"code": "102", "name": "資料處理科一年乙班", "homeroom_user_id": None}]
    assert [s["student_no"] for s in payload["students"]] == ["1150001", "1150002", "1150003"]
    assert payload["students"][1] == {"student_no": "1150002", "name": "林柏宇", "user_id": USERS["s_day02"]["user_id"],
                                      "class_code": "101", "seat_no": 2, "national_id": "B123456780"}
    assert [r["row"] for r in sent] == [2, 3, 4]


def test_records_refusals_map_to_sheet_rows_in_chinese_without_the_reason():
    rows, _ = read_roster("x.csv", CSV.encode())
    refused = [{"row": 2, "student_no": "1150002", "code": "national_id_invalid", "reason": "checksum B123456780"},
               {"row": 3, "student_no": "1150003", "code": "duplicate_national_id", "reason": "..."}]
    out = refusal_problems(rows, refused)
    assert out == [(3, "national_id_invalid", "身分證號格式或檢查碼不正確。"),
                   (4, "duplicate_national_id", roster.MESSAGES["duplicate_national_id"])]
    assert "身分證號與另一位學生重複" in out[1][2] and not any("B123456780" in m for _, _, m in out)


def test_classify_against_existing_students_by_masked_id():
    rows, _ = read_roster("x.csv", CSV.encode())
    existing = [{"student_no": "1150001", "name": "陳怡君", "class_code": "101", "national_id_masked": "A22*****81"},
                {"student_no": "1150002", "name": "林柏宇", "class_code": "102", "national_id_masked": "B12*****80"}]
    assert classify(rows, existing) == {2: "unchanged", 3: "updated", 4: "created"}


def test_term_from_the_form():
    assert roster.parse_term({}, 115) == (115, 1, None)
    assert roster.parse_term({"school_year": "114", "semester": "2"}, 115) == (114, 2, None)
    assert roster.parse_term({"school_year": "2026"}, 115)[2]
    assert roster.parse_term({"school_year": "abc"}, 115)[2]


def test_file_level_refusals_come_from_the_shared_reader():
    assert codes(read_roster("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest")[1]) == [(0, "xls_unsupported")]
    assert codes(read_roster("x.csv", b"")[1]) == [(0, "file_empty")]
    assert codes(read_roster("x.csv", "隨便,什麼\n1,2\n".encode())[1]) == [(1, "header_missing")]
