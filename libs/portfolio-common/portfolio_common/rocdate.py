"""Dates as schools write them: ROC (民國) and Gregorian spellings in, ROC yyyMMdd out.

Read (after NFKC, so full-width digits and ／ work):
  ROC       0940315, 940315, 1000101 (yyyMMdd / yyMMdd), 94/3/15, 94-03-15, 94.03.15,
            民國94年3月15日, 94年3月15日
  Gregorian 2005-03-15, 2005/3/15, 2005.03.15, 20050315, 2005年3月15日, 西元2005年3月15日,
            ISO datetimes from a spreadsheet cell (2005-03-15T00:00:00 / "2005-03-15 00:00:00")
Refused: impossible dates (94/02/31, month 13), mixed eras (民國2005年, 西元94年, a four-digit
year in a 7-digit ROC field), and anything else. ROC year = Gregorian year - 1911.
"""
import datetime as dt
import re
import unicodedata

from .errors import Invalid

ROC_OFFSET = 1911


class DateInvalid(Invalid):
    code = "date_invalid"


_SEP = r"\s*[/\-.]\s*"
_PATTERNS = [
    # (regex, era) where era is "roc", "greg" or "auto" (decided by the year's digits)
    (re.compile(r"^(?:民國|中華民國)\s*(\d{1,4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"), "roc_marked"),
    (re.compile(r"^(?:西元|公元)\s*(\d{1,4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"), "greg_marked"),
    (re.compile(r"^(\d{1,4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"), "auto"),
    (re.compile(r"^(\d{1,4})" + _SEP + r"(\d{1,2})" + _SEP + r"(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$"), "auto"),
]


def _era_of(year_text: str, marked: str | None) -> str:
    if marked == "roc_marked":
        if len(year_text.lstrip("0")) >= 4:
            raise DateInvalid("a 民國 year cannot have four digits", code="date_mixed_era")
        return "roc"
    if marked == "greg_marked":
        if len(year_text) != 4:
            raise DateInvalid("a 西元 year has four digits", code="date_mixed_era")
        return "greg"
    if len(year_text) == 4:
        if year_text.startswith("0"):
            raise DateInvalid("a four-digit year starting with 0 is neither era", code="date_mixed_era")
        return "greg"
    return "roc"


def _make(era, y, m, d) -> dt.date:
    year = y + ROC_OFFSET if era == "roc" else y
    if era == "roc" and y < 1:
        raise DateInvalid("ROC years start at 1", code="date_impossible")
    if era == "greg" and y < 1912:
        raise DateInvalid("dates before 1912 are not expected here", code="date_impossible")
    try:
        return dt.date(year, m, d)
    except ValueError:
        raise DateInvalid("no such date", code="date_impossible") from None


def parse_date(raw) -> dt.date:
    """A date in any spelling above -> datetime.date; DateInvalid with a code otherwise
    (date_missing, date_format, date_impossible, date_mixed_era)."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if not text:
        raise DateInvalid("date is missing", code="date_missing")
    if text.isdigit():
        if len(text) == 8:          # yyyyMMdd
            return _make("greg", int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(text) in (6, 7):     # yyMMdd / yyyMMdd (ROC, the national rosters' form)
            return _make("roc", int(text[:-4]), int(text[-4:-2]), int(text[-2:]))
        raise DateInvalid("unknown date spelling", code="date_format")
    for pattern, kind in _PATTERNS:
        m = pattern.match(text)
        if m:
            era = _era_of(m.group(1), kind if kind != "auto" else None)
            return _make(era, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise DateInvalid("unknown date spelling", code="date_format")


def to_roc(value: dt.date) -> str:
    """date -> ROC yyyMMdd, 7 characters (the national rosters' 出生日期)."""
    year = value.year - ROC_OFFSET
    if not 1 <= year <= 999:
        raise DateInvalid("outside the ROC calendar", code="date_impossible")
    return f"{year:03d}{value.month:02d}{value.day:02d}"


def to_roc_display(value: dt.date) -> str:
    """date -> ROC yyy/MM/dd for screens (e.g. 094/03/15)."""
    roc = to_roc(value)
    return f"{roc[:3]}/{roc[3:5]}/{roc[5:]}"
