"""Every roster's columns against DOMAIN.md's "National rosters (名冊)" (issue 9 item 5).

The section's roster lines are quoted below word for word; when DOMAIN.md is beside the
worktree (../shared/design, as in every session) the quote must still be what it says, so a
change of the design document fails here until the column set follows it."""
import re
from pathlib import Path

import pytest

from submission.national import columnset

QUOTE = """\
- 學生資料名冊: 身分證號, 性別代碼, 出生日期, 群別代碼, 科班學程別代碼, 部別代碼, 班別, 年級, 班級名稱, 座號, 特殊身分別, 原住民族別, 入學方式, 學籍狀態, 學籍異動日期.
  班別 codes: 1 日間部(一般班), 2 夜間部, 3 實用技能學程, 4 建教班, 9 實驗班; 進修部 01 核定班, 04 員工進修班.
- 學生成績名冊 (day): 課程代碼, 科目名稱, 開課年級, 修課學分, 學期學業成績, 成績及格, 補考成績, 補考及格, 是否採計學分, 質性文字描述.
  進修部: 修課節數 instead of 修課學分, plus 學年學業成績, 學年及格, 是否採計學時.
- 缺勤紀錄名冊: 假別代碼, 起日, 迄日, 節數. Codes 01 公假, 02 事假, 03 病假, 04 婚假, 05 產前假, 06 娩假, 07 陪產假, 08 流產假, 09 育嬰假, 10 生理假, 11 喪假, 12 曠課.
- 課程學習成果名冊, sheet 學期課程學習成果: 實際修課學期, 課程代碼, 科目名稱, 開課年級, 修課學分 (進修部: 修課節數), 成果簡述; variant sheets for 補修, 重修, 重讀, 轉學轉科 (原修課學校代碼, 原修課學年度, 原修課學期, 原修課課程代碼…), 借讀 (借讀學校代碼…). Only certified items are exported.
- 多元表現名冊 sheets: 幹部經歷暨事蹟紀錄 (單位名稱, 開始日期, 結束日期, 擔任職務, 內容簡述, 幹部等級); 競賽參與紀錄 (競賽名稱, 項目, 競賽等級代碼, 獎項, 結果公布日期, 內容簡述, 團體參與代碼); 檢定證照紀錄 (證照代碼, 分數, 分項結果, 取得證照日期, 證照字號, 檢定組別, 內容簡述); 服務學習紀錄 (服務名稱, 服務單位, 開始日期, 結束日期, 時數, 內容簡述); 彈性學習時間紀錄; 團體活動時間紀錄; 職場學習紀錄 (職場學習類別代碼, 職場學習單位, 職場學習職稱, 開始日期, 結束日期, 時數, 內容簡述); 作品成果紀錄 (名稱, 日期, 內容簡述); 大學及技專校院先修課程紀錄; 其他多元表現紀錄 (名稱, 主辦單位, 開始日期, 結束日期, 時數, 內容簡述).
"""
KEY = ["身分證號", "出生日期"]
# sheets DOMAIN.md names that records holds no data for (no columns given either): not built
NOT_BUILT = {"彈性學習時間紀錄", "團體活動時間紀錄"}
CS = columnset.load(115)


def _domain_md():
    here = Path(__file__).resolve()
    for base in [*here.parents, Path("/work")]:
        p = base / "shared" / "design" / "DOMAIN.md"
        if p.is_file():
            return p.read_text(encoding="utf-8")
    return None


def _names(text):
    return [n.strip().rstrip(".…").strip() for n in text.split(",") if n.strip().rstrip(".…").strip()]


def parse(lines: str) -> dict:
    """{roster name: {sheet: [columns]}, 'codes': {...}} from the section's roster lines."""
    text = lines.replace("\n  ", " ")
    out = {}
    for line in text.splitlines():
        if not line.startswith("- "):
            continue
        line = line[2:]
        if line.startswith("學生資料名冊:"):
            cols, rest = line[len("學生資料名冊:"):].split(".", 1)
            out["學生資料名冊"] = {"": _names(cols)}
            day, ce = rest.split("進修部")
            out["班別"] = {"day": re.findall(r"(?<![0-9])(\d) ", day), "ce": re.findall(r"(\d\d) ", ce)}
        elif line.startswith("學生成績名冊 (day):"):
            cols, ce = line[len("學生成績名冊 (day):"):].split("進修部:")
            out["學生成績名冊"] = {"day": _names(cols.strip().rstrip(".")),
                               "ce_plus": _names(ce.split("plus", 1)[1])}
        elif line.startswith("缺勤紀錄名冊:"):
            cols, codes = line[len("缺勤紀錄名冊:"):].split("Codes")
            out["缺勤紀錄名冊"] = {"": _names(cols.strip().rstrip("."))}
            out["假別代碼"] = re.findall(r"(\d\d) ", codes)
        elif line.startswith("課程學習成果名冊"):
            sheet = re.search(r"sheet (\S+):", line).group(1)
            main = line.split(":", 1)[1].split(";")[0]
            main_cols = _names(re.sub(r"\s*\(進修部: [^)]*\)", "", main))
            variants = line.split("variant sheets for", 1)[1].split(". Only")[0]
            extra = {}
            for m in re.finditer(r"(\S+?) \(([^)]*)\)|(\S+?)(?:,|$)", variants.strip()):
                name = (m.group(1) or m.group(3) or "").strip(", ")
                if name:
                    extra[name] = _names(m.group(2) or "")
            out["課程學習成果名冊"] = {sheet: main_cols, **{f"variant:{k}": v for k, v in extra.items()}}
        elif line.startswith("多元表現名冊 sheets:"):
            sheets = {}
            for part in line[len("多元表現名冊 sheets:"):].strip().rstrip(".").split(";"):
                m = re.match(r"\s*(\S+?)(?: \((.*)\))?$", part.strip())
                sheets[m.group(1)] = _names(m.group(2) or "")
            out["多元表現名冊"] = sheets
    return out


EXPECTED = parse(QUOTE)


def test_the_quote_is_still_what_domain_md_says():
    text = _domain_md()
    assert text is not None, "DOMAIN.md is not beside the worktree (../shared/design)"
    section = text.split("## National rosters (名冊)", 1)[1].split("\nThese templates", 1)[0]
    lines = section[section.index("\n- "):].strip("\n") + "\n"
    assert parse(lines) == EXPECTED
    assert lines.strip() == QUOTE.strip()


def _titles(roster_name, sheet_name=None, tenant="day"):
    roster = next(r for r in CS.rosters if r.name == roster_name)
    sheet = roster.sheets[0] if sheet_name is None else next(s for s in roster.sheets if s.name == sheet_name)
    return [c.title for c in sheet.columns_for(tenant)]


def test_every_roster_has_the_cover_sheet_and_is_keyed_by_id_and_roc_birth_date():
    assert [c.title for c in CS.cover] == ["學校代碼", "學年度", "學期", "名冊名稱"]
    assert {r.name for r in CS.rosters} == {"學生資料名冊", "學生成績名冊", "缺勤紀錄名冊", "課程學習成果名冊", "多元表現名冊"}
    for r in CS.rosters:
        assert r.key == ("身分證號", "出生日期")
        for s in r.sheets:
            for tenant in ("day", "ce"):
                cols = {c.title: c for c in s.columns_for(tenant)}
                assert cols["身分證號"].type == "national_id" and cols["身分證號"].required, (r.name, s.name)
                assert cols["出生日期"].type == "date" and cols["出生日期"].required, (r.name, s.name)


def test_student_data_roster_is_domain_md_in_order_with_the_class_type_codes():
    assert _titles("學生資料名冊") == EXPECTED["學生資料名冊"][""]
    assert _titles("學生資料名冊", tenant="ce") == EXPECTED["學生資料名冊"][""]
    sheet = CS.roster("student_data").sheets[0]
    for tenant in ("day", "ce"):
        (col,) = [c for c in sheet.columns_for(tenant) if c.title == "班別"]
        assert list(col.codes) == EXPECTED["班別"][tenant]


def test_grades_roster_day_and_the_continuing_education_variant():
    day = _titles("學生成績名冊")
    assert day == KEY + EXPECTED["學生成績名冊"]["day"]
    ce = _titles("學生成績名冊", tenant="ce")
    swapped = [{"修課學分": "修課節數", "是否採計學分": "是否採計學時"}.get(t, t) for t in day]
    plus = EXPECTED["學生成績名冊"]["ce_plus"]
    assert [t for t in ce if t not in plus or t == "是否採計學時"] == swapped
    assert set(plus) <= set(ce) and "修課學分" not in ce and "是否採計學分" not in ce


def test_attendance_roster_and_its_absence_codes():
    assert _titles("缺勤紀錄名冊") == KEY + EXPECTED["缺勤紀錄名冊"][""]
    (col,) = [c for c in CS.roster("attendance").sheets[0].columns if c.title == "假別代碼"]
    assert list(col.codes) == EXPECTED["假別代碼"]


def test_course_outcome_roster_main_sheet_and_every_variant_sheet():
    exp = EXPECTED["課程學習成果名冊"]
    (main_sheet,) = [k for k in exp if not k.startswith("variant:")]
    roster = CS.roster("course_outcomes")
    assert roster.sheets[0].name == main_sheet
    assert _titles("課程學習成果名冊") == KEY + exp[main_sheet]
    ce = _titles("課程學習成果名冊", tenant="ce")
    assert ce == KEY + [("修課節數" if t == "修課學分" else t) for t in exp[main_sheet]]
    variants = {k[len("variant:"):]: v for k, v in exp.items() if k.startswith("variant:")}
    assert set(variants) == {"補修", "重修", "重讀", "轉學轉科", "借讀"}
    for word, extra in variants.items():
        (sheet,) = [s for s in roster.sheets[1:] if s.name.startswith(word)]
        titles = [c.title for c in sheet.columns_for("day")]
        assert titles[:len(KEY) + len(exp[main_sheet])] == KEY + exp[main_sheet], word
        assert titles[len(KEY) + len(exp[main_sheet]):][:len(extra)] == extra, word


def test_performance_roster_sheets_are_domain_md_in_order():
    exp = EXPECTED["多元表現名冊"]
    roster = CS.roster("performances")
    built = [s.name for s in roster.sheets]
    assert built == [s for s in exp if s not in NOT_BUILT]
    for s in roster.sheets:
        titles = [c.title for c in s.columns_for("day")]
        assert titles[:2] == KEY
        if exp[s.name]:
            assert titles[2:] == exp[s.name], s.name
        else:   # DOMAIN.md names the sheet without its columns: records' fields, 內容簡述 last
            assert titles[-1] == "內容簡述", s.name


@pytest.mark.parametrize("roster", [r.id for r in CS.rosters])
def test_no_column_appears_twice_on_a_sheet(roster):
    for s in CS.roster(roster).sheets:
        for tenant in ("day", "ce"):
            titles = [c.title for c in s.columns_for(tenant)]
            assert len(titles) == len(set(titles)), (roster, s.name, tenant)
