"""Rules of a performance (多元表現), free of frameworks and I/O.

Each kind is one sheet of the national 多元表現名冊 (DOMAIN.md "National formats"): its fields
are that sheet's columns, in its order, with 內容簡述 (≤ 100 characters, portfolio_common.text)
on every kind. Every performance records who entered it (DOMAIN.md, "Rules with numbers"):

    student   the student uploaded it: counts toward the 10 a student selects a year;
    school    a school unit entered it (e.g. a competition the school sent the student to);
    external  an external body's record (a licence centre, a competition's organiser),
              entered by the school from that body's list: neither of these counts toward the 10.

A performance needs its proof file (`proof_missing` until performance-uploaded arrives): one
without proof is not selectable and not exported.
"""
import datetime as dt
import re
import unicodedata

from portfolio_common.text import clean_text

from .. import rocdate

MAX_DESCRIPTION_CHARS = 100
ENTERED_BY = {"student": "學生", "school": "學校單位", "external": "校外機構"}
STATES = {"proof_missing": "待上傳證明", "ready": "已上傳證明", "voided": "已作廢"}

# field -> (label on the national sheet, type, required, limit)
#   text: cleaned text of at most `limit` characters; code: digits/letters of at most `limit`;
#   date: a date in any spelling rocdate reads (stored as a date, exported as ROC yyyMMdd);
#   hours: a whole number of hours 1..limit
_D = ("description", "內容簡述", "text", True, MAX_DESCRIPTION_CHARS)
KINDS = {
    "competition": ("競賽參與紀錄", [
        ("name", "競賽名稱", "text", True, 100), ("event", "項目", "text", False, 100),
        ("level_code", "競賽等級代碼", "code", True, 2), ("award", "獎項", "text", False, 50),
        ("announced_on", "結果公布日期", "date", True, None), _D,
        ("team_code", "團體參與代碼", "code", False, 2)]),
    "licence": ("檢定證照紀錄", [
        ("licence_code", "證照代碼", "code", True, 10), ("score", "分數", "text", False, 20),
        ("sub_results", "分項結果", "text", False, 100), ("obtained_on", "取得證照日期", "date", True, None),
        ("licence_no", "證照字號", "text", False, 50), ("group", "檢定組別", "text", False, 50), _D]),
    "work_based_learning": ("職場學習紀錄", [
        ("category_code", "職場學習類別代碼", "code", True, 2), ("unit", "職場學習單位", "text", True, 100),
        ("title", "職場學習職稱", "text", False, 50), ("starts_on", "開始日期", "date", True, None),
        ("ends_on", "結束日期", "date", True, None), ("hours", "時數", "hours", True, 2000), _D]),
    "work": ("作品成果紀錄", [
        ("name", "名稱", "text", True, 100), ("made_on", "日期", "date", True, None), _D]),
    "advanced_course": ("大學及技專校院先修課程紀錄", [
        ("name", "課程名稱", "text", True, 100), ("institution", "開課學校", "text", True, 100),
        ("credits", "學分數", "hours", False, 20), ("starts_on", "開始日期", "date", True, None),
        ("ends_on", "結束日期", "date", True, None), _D]),
    "other": ("其他多元表現紀錄", [
        ("name", "名稱", "text", True, 100), ("organiser", "主辦單位", "text", False, 100),
        ("starts_on", "開始日期", "date", True, None), ("ends_on", "結束日期", "date", False, None),
        ("hours", "時數", "hours", False, 2000), _D]),
}
_CODE = re.compile(r"^[0-9A-Za-z]+$")


def fields_of(kind: str) -> list:
    """[(field, label, type, required, limit)] of a kind, in the national sheet's order."""
    return KINDS[kind][1]


def read_performance(kind, cells: dict, *, today: dt.date) -> tuple[dict, list]:
    """cells (what a form or a spreadsheet row says) -> (values, problems [(field, code, params)]).

    Values hold exactly the kind's fields: dates as datetime.date, hours as int, codes
    upper-cased, texts cleaned (NFC, one line break counted once, invisible characters removed).
    A date more than a year ahead, an end before its start, an unknown kind: each a problem.
    """
    problems = []
    if kind not in KINDS:
        return {}, [("kind", "code_unknown" if kind else "field_missing", {})]
    values = {}
    for name, _label, typ, required, limit in fields_of(kind):
        raw = cells.get(name)
        if typ == "date":
            try:
                values[name] = rocdate.parse_date(raw)
                if values[name] > today + dt.timedelta(days=366):
                    problems.append((name, "date_too_far", {}))
            except rocdate.DateInvalid as exc:
                values[name] = None
                if exc.code != "date_missing":
                    problems.append((name, exc.code, {}))
                elif required:
                    problems.append((name, "field_missing", {}))
            continue
        text = clean_text(raw)
        if typ == "code":
            text = unicodedata.normalize("NFKC", text).strip().upper()
            if text and (not _CODE.match(text) or len(text) > limit):
                problems.append((name, "code_format", {"limit": limit}))
        elif typ == "hours":
            text = unicodedata.normalize("NFKC", text).strip()
            if text:
                if not text.isdigit() or not 1 <= int(text) <= limit:
                    problems.append((name, "number_out_of_range", {"min": 1, "max": limit}))
                    values[name] = None
                    continue
                values[name] = int(text)
                continue
        elif len(text) > limit:
            problems.append((name, "text_too_long", {"limit": limit}))
        if required and not text:
            problems.append((name, "field_missing", {}))
        values[name] = text or None
    start, end = values.get("starts_on"), values.get("ends_on")
    if start and end and end < start:
        problems.append(("ends_on", "end_before_start", {}))
    return values, problems


def school_year_of(kind: str, values: dict) -> int | None:
    """The school year (ROC) a performance belongs to: the one its defining date falls in
    (August starts a school year), so a competition announced in March 2027 is 115."""
    for name in ("announced_on", "obtained_on", "made_on", "starts_on"):
        day = values.get(name)
        if day:
            return day.year - 1911 if day.month >= 8 else day.year - 1912
    return None


def counts_toward_selection(entered_by: str) -> bool:
    """Only the student's own performances count toward the 10 selectable a year (DOMAIN.md)."""
    return entered_by == "student"


def may_change(row: dict, caller_is_student: bool) -> bool:
    """The student changes only what they entered; a school unit only what the school (or an
    external body through the school) entered. A voided performance changes no more."""
    if row.get("state") == "voided":
        return False
    return (row["entered_by"] == "student") == caller_is_student
