"""Rules of the status history (學籍異動): repeat (重讀), reinstatement (復學), transfer in and out
(轉學), department transfer (轉科), visiting study (借讀). DOMAIN.md: such students' rows carry the
original (or host) school code, school year and semester."""
import datetime as dt
import re
import unicodedata

from portfolio_common.text import clean_text

from .. import rocdate

CHANGES = {"repeat": "重讀", "reinstatement": "復學", "transfer_in": "轉入", "transfer_out": "轉出",
           "department_transfer": "轉科", "visiting_study": "借讀"}
_BY_NAME = {v: k for k, v in CHANGES.items()} | {"轉學": "transfer_in", "轉學轉入": "transfer_in",
                                                "轉學轉出": "transfer_out"}
NEEDS_OTHER_SCHOOL = {"transfer_in", "transfer_out", "visiting_study"}
NO_OTHER_SCHOOL = {"repeat"}
# what a change does to the profile's 學籍狀態
STATUS_AFTER = {"transfer_out": "transferred_out", "transfer_in": "enrolled", "reinstatement": "enrolled"}
_SCHOOL = re.compile(r"^\d{6}$")


def term_of(day: dt.date) -> tuple[int, int]:
    """The school term a date falls in: August-January is semester 1, February-July semester 2
    of the school year that began in August (ROC year)."""
    if day.month >= 8:
        return day.year - 1911, 1
    if day.month == 1:
        return day.year - 1912, 1
    return day.year - 1912, 2


def read_change(cells: dict, *, today: dt.date) -> tuple[dict, list]:
    """cells {change, effective_on, other_school_code, school_year, semester, note} -> (values, problems)."""
    values, problems = {}, []
    raw = clean_text(cells.get("change"))
    change = _BY_NAME.get(raw, raw.lower())
    if change not in CHANGES:
        problems.append(("change", "code_unknown" if raw else "field_missing", {}))
    values["change"] = change
    try:
        values["effective_on"] = rocdate.parse_date(cells.get("effective_on"))
        if values["effective_on"] > today + dt.timedelta(days=366):
            problems.append(("effective_on", "date_too_far", {}))
    except rocdate.DateInvalid as exc:
        values["effective_on"] = None
        problems.append(("effective_on", "field_missing" if exc.code == "date_missing" else exc.code, {}))
    code = unicodedata.normalize("NFKC", str(cells.get("other_school_code") or "")).strip()
    if code.isdigit() and len(code) < 6:
        code = code.zfill(6)  # a spreadsheet that dropped the leading zero of 011301
    if code and not _SCHOOL.match(code):
        problems.append(("other_school_code", "school_code_invalid", {}))
    elif change in NEEDS_OTHER_SCHOOL and not code:
        problems.append(("other_school_code", "other_school_required", {}))
    elif change in NO_OTHER_SCHOOL and code:
        problems.append(("other_school_code", "other_school_not_expected", {}))
    values["other_school_code"] = code or None
    sy, sem = (term_of(values["effective_on"]) if values["effective_on"] else (None, None))
    for field, default, lo, hi in (("school_year", sy, 100, 200), ("semester", sem, 1, 2)):
        given = unicodedata.normalize("NFKC", str(cells.get(field) or "")).strip()
        if given:
            if given.isdigit() and lo <= int(given) <= hi:
                values[field] = int(given)
            else:
                problems.append((field, f"{field}_invalid", {}))
                values[field] = None
        else:
            values[field] = default
    note = clean_text(cells.get("note"))
    if len(note) > 200:
        problems.append(("note", "text_too_long", {"limit": 200}))
    values["note"] = note or None
    return values, problems
