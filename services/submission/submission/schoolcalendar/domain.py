"""Rules of the school calendar, free of frameworks and I/O.

Sources: DOMAIN.md ("Rules with numbers": the school completes two weeks before the national
deadline; uploads at most 6 a semester, selections at most 6 outcomes and 10 performances a
year, every number per-school, per-year configuration), issue 9 item 1.

A term is one (school_year, semester) of one tenant: its days (starts_on..ends_on; the current
term is the one whose days hold today), the upload, certification and selection windows
(inclusive Taiwan dates, portfolio_common.windows), the national deadline and the school
completion date derived from it (national_deadline - 14 days). Limits belong to the school
year and are repeated in each of its terms.
"""
import datetime as dt
from dataclasses import asdict, dataclass, replace

from portfolio_common.windows import Window, school_completion_on

from ..errors import Invalid

WINDOWS = ("upload", "certification", "selection")
DATE_FIELDS = ("starts_on", "ends_on") + tuple(f"{w}_{e}" for w in WINDOWS for e in ("opens_on", "closes_on")) \
    + ("national_deadline",)
LIMIT_FIELDS = ("outcome_uploads_per_semester", "outcomes_selected_per_year", "performances_selected_per_year")
# The national rules cap what a school may select a year (DOMAIN.md); uploads a semester are
# the school's own cap (one school allows 9, this one 6, some 3): 1..50 as in the event contract.
LIMIT_MAX = {"outcome_uploads_per_semester": 50, "outcomes_selected_per_year": 6,
             "performances_selected_per_year": 10}
# A window may reach this far beyond its school year (the national deadline of a year's
# selection lies in the following September: 2027-09-15 for 115 in the canonical example).
AFTER_YEAR = dt.timedelta(days=120)
BEFORE_YEAR = dt.timedelta(days=31)


class TermInvalid(Invalid):
    """One or more fields of a term refused: problems [{field, code, params}] travel as JSON in
    the message (nameko carries only the message), the gateway shows them by field."""
    code = "fields_invalid"

    def __init__(self, problems):
        import json
        problems = [dict(p) for p in problems]
        super().__init__(json.dumps(problems, ensure_ascii=False, default=str), problems=problems)


@dataclass(frozen=True)
class Limits:
    outcome_uploads_per_semester: int = 6
    outcomes_selected_per_year: int = 6
    performances_selected_per_year: int = 10

    def to_dict(self) -> dict:
        return asdict(self)


SCHOOL_DEFAULTS = Limits()   # this school's values (issue 9 item 1)


@dataclass(frozen=True)
class Term:
    school_year: int
    semester: int
    starts_on: dt.date
    ends_on: dt.date
    upload: Window
    certification: Window
    selection: Window
    national_deadline: dt.date

    @property
    def school_completion_on(self) -> dt.date:
        """Two weeks before the national deadline: it moves when that moves (DOMAIN.md)."""
        return school_completion_on(self.national_deadline)

    def fields(self) -> dict:
        """The flat form of the term: {field: date} for every DATE_FIELDS name."""
        out = {"starts_on": self.starts_on, "ends_on": self.ends_on, "national_deadline": self.national_deadline}
        for w in WINDOWS:
            win = getattr(self, w)
            out[f"{w}_opens_on"], out[f"{w}_closes_on"] = win.opens_on, win.closes_on
        return out

    def to_dict(self, limits: Limits) -> dict:
        """The calendar-changed payload's term part (ISO dates), without version and author."""
        d = {"school_year": self.school_year, "semester": self.semester,
             "starts_on": self.starts_on.isoformat(), "ends_on": self.ends_on.isoformat(),
             "national_deadline": self.national_deadline.isoformat(),
             "school_completion_on": self.school_completion_on.isoformat(), "limits": limits.to_dict()}
        for w in WINDOWS:
            win = getattr(self, w)
            d[w] = {"opens_on": win.opens_on.isoformat(), "closes_on": win.closes_on.isoformat()}
        return d


def school_year_of(value) -> int:
    """A ROC school year (100..200) from what a form or client sent; Invalid
    (school_year_invalid) for anything else, e.g. "一一五" or "2026"."""
    try:
        y = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid("school year must be a number (ROC year, e.g. 115)", code="school_year_invalid") from None
    if not 100 <= y <= 200:
        raise Invalid("school year out of range (ROC year 100-200)", code="school_year_invalid")
    return y


def semester_of(value) -> int:
    try:
        s = int(str(value).strip())
    except (TypeError, ValueError):
        s = None
    if s not in (1, 2):
        raise Invalid("semester must be 1 or 2", code="semester_invalid")
    return s


def year_span(school_year: int) -> tuple:
    """The days of a ROC school year: 1 August (Gregorian = ROC + 1911) through 31 July."""
    start = dt.date(school_year + 1911, 8, 1)
    return start, dt.date(school_year + 1912, 7, 31)


def _parse_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(text) from None


def build_term(school_year: int, semester: int, given: dict, current: "Term | None" = None,
               current_limits: Limits = SCHOOL_DEFAULTS) -> tuple:
    """(Term, Limits) from a form's or client's fields over the term as it stands.

    `given` holds any of DATE_FIELDS (ISO dates, "YYYY-MM-DD") and LIMIT_FIELDS (integers);
    a field not given keeps its current value (a new term needs every date). Unknown fields
    are refused. Raises TermInvalid with every problem at once:
    field_missing, calendar_date_invalid, window_inverted, window_out_of_range,
    certification_before_upload, selection_after_completion, limit_invalid."""
    problems = []
    unknown = sorted(set(given) - set(DATE_FIELDS) - set(LIMIT_FIELDS))
    for f in unknown:
        problems.append({"field": f, "code": "field_unknown"})
    values = current.fields() if current else {}
    for f in DATE_FIELDS:
        if f not in given:
            continue
        try:
            d = _parse_date(given[f])
        except ValueError:
            problems.append({"field": f, "code": "calendar_date_invalid"})
            values.pop(f, None)
            continue
        if d is None:
            values.pop(f, None)
        else:
            values[f] = d
    for f in DATE_FIELDS:
        if f not in values and not any(p["field"] == f for p in problems):
            problems.append({"field": f, "code": "field_missing"})
    limits = {}
    for f in LIMIT_FIELDS:
        raw = given.get(f, getattr(current_limits, f))
        try:
            n = int(str(raw).strip())
        except (TypeError, ValueError):
            problems.append({"field": f, "code": "limit_invalid", "params": {"max": LIMIT_MAX[f]}})
            continue
        if not 1 <= n <= LIMIT_MAX[f]:
            problems.append({"field": f, "code": "limit_invalid", "params": {"max": LIMIT_MAX[f]}})
            continue
        limits[f] = n
    problems += [p for p in check_values(school_year, values) if p["field"] not in {q["field"] for q in problems}]
    if problems:
        raise TermInvalid(problems)
    term = Term(school_year, semester, values["starts_on"], values["ends_on"],
                *(Window(w, values[f"{w}_opens_on"], values[f"{w}_closes_on"]) for w in WINDOWS),
                values["national_deadline"])
    return term, Limits(**limits)


def check_term(term: Term) -> list:
    """Problems of a complete term (empty when it is sensible): check_values."""
    return check_values(term.school_year, term.fields())


def check_values(school_year: int, values: dict) -> list:
    """Problems of a term's dates ({field: date}; a field absent is not compared):
    - each window, and the term's days, close on or after they open (window_inverted);
    - every date lies in the school year (1 Aug - 31 Jul), from a month before it to four
      months after it (window_out_of_range, with the range);
    - certification closes on or after uploads close: a teacher must be able to certify the
      last upload (certification_before_upload);
    - the selection window ends on or before the school completion date, two weeks before the
      national deadline: the school completes its data then (DOMAIN.md), so selecting after it
      would miss the national upload. Refused, not warned: the registrar moves the window or
      the national date (selection_after_completion)."""
    problems = []
    first, last = year_span(school_year)
    lo, hi = first - BEFORE_YEAR, last + AFTER_YEAR
    v = values.get
    for open_f, close_f in [("starts_on", "ends_on")] + [(f"{w}_opens_on", f"{w}_closes_on") for w in WINDOWS]:
        if v(open_f) and v(close_f) and v(close_f) < v(open_f):
            problems.append({"field": close_f, "code": "window_inverted"})
    for f in DATE_FIELDS:
        if v(f) and not lo <= v(f) <= hi:
            problems.append({"field": f, "code": "window_out_of_range",
                             "params": {"first": lo.isoformat(), "last": hi.isoformat()}})
    if v("certification_closes_on") and v("upload_closes_on") and v("certification_closes_on") < v("upload_closes_on"):
        problems.append({"field": "certification_closes_on", "code": "certification_before_upload",
                         "params": {"upload_closes_on": v("upload_closes_on").isoformat()}})
    if v("selection_closes_on") and v("national_deadline") \
            and v("selection_closes_on") > school_completion_on(v("national_deadline")):
        problems.append({"field": "selection_closes_on", "code": "selection_after_completion",
                         "params": {"completion": school_completion_on(v("national_deadline")).isoformat()}})
    return problems


def term_from_row(row: dict) -> Term:
    """A stored row (flat DATE_FIELDS columns) as a Term."""
    return Term(row["school_year"], row["semester"], row["starts_on"], row["ends_on"],
                *(Window(w, row[f"{w}_opens_on"], row[f"{w}_closes_on"]) for w in WINDOWS),
                row["national_deadline"])


def window_states(term: Term, today: dt.date) -> dict:
    """{window: {opens_on, closes_on, state, days_left}} as a person reads them today:
    state upcoming | open | closed; days_left counts today (a window closing today has 1 day
    left) and is None unless open; days_to_open likewise for an upcoming window."""
    out = {}
    for w in WINDOWS:
        win = getattr(term, w)
        state = "open" if win.holds(today) else ("upcoming" if today < win.opens_on else "closed")
        out[w] = {"opens_on": win.opens_on.isoformat(), "closes_on": win.closes_on.isoformat(), "state": state,
                  "days_left": (win.closes_on - today).days + 1 if state == "open" else None,
                  "days_to_open": (win.opens_on - today).days if state == "upcoming" else None}
    return out


def same(a: Term, b: Term) -> bool:
    return a is not None and b is not None and a.fields() == b.fields()


__all__ = ["Term", "Limits", "SCHOOL_DEFAULTS", "TermInvalid", "build_term", "check_term", "term_from_row",
           "window_states", "school_year_of", "semester_of", "year_span", "replace"]
