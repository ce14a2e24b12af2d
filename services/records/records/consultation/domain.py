"""Rules of a consultation record (課程諮詢紀錄): regulation §3(二) — date, time, place, content
and advice, entered by the course-consultation teacher. Plain Python."""
import re
import unicodedata

from ..itemkit import read_date, read_term, read_text

FIELDS = ("held_on", "held_at", "place", "content", "advice")
LIMITS = {"place": 50, "content": 500, "advice": 500}
_TIME = re.compile(r"^(\d{1,2})[:：.]?(\d{2})$")


def read_time(raw) -> str | None:
    """'14:30', '1430', '14：30', '９:05' -> 'HH:MM'; a range '14:30-15:20' (or ~, 至) -> 'HH:MM-HH:MM'
    with the end after the start. None when it is not a time of day."""
    text = unicodedata.normalize("NFKC", str(raw or "")).replace(" ", "")
    parts = re.split(r"[-~〜至到]", text)
    if not 1 <= len(parts) <= 2:
        return None
    out = []
    for p in parts:
        m = _TIME.match(p)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            return None
        out.append(f"{int(m.group(1)):02d}:{m.group(2)}")
    if len(out) == 2 and out[1] <= out[0]:
        return None
    return "-".join(out)


def read_consultation(data: dict, *, today) -> tuple[dict, list]:
    """data {held_on, held_at, place, content, advice, school_year?, semester?} as typed ->
    (values, [(field, code, params)]). The date is not after today (ROC or Gregorian
    spellings); the term defaults to the one the date falls in."""
    problems = []
    values = {"held_on": read_date(data, "held_on", problems, today=today)}
    raw_time = data.get("held_at")
    values["held_at"] = read_time(raw_time)
    if values["held_at"] is None:
        problems.append(("held_at", "time_invalid" if str(raw_time or "").strip() else "field_missing", {}))
    for f, limit in LIMITS.items():
        values[f] = read_text(data, f, limit, problems, required=True)
    values["school_year"], values["semester"] = read_term(data, problems, on=values["held_on"])
    return values, problems
