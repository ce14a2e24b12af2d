"""Use cases of the school calendar: plain functions over a unit of work (uow.calendar).

Who: every signed-in person of the tenant reads its calendar; the registrar edits it (in `day`
the 註冊組, in `ce` the 教務組, who hold the `registrar` role of their tenant), and the
platform's tools as `system` (the demo loader). A caller only ever sees and changes the
calendar of the tenant their token names.
"""
from portfolio_common import clock, events
from portfolio_common.windows import current_term as _current_term

from ..errors import Conflict, Invalid, NotFound
from .domain import (SCHOOL_DEFAULTS, Limits, build_term, same, school_year_of, semester_of, term_from_row,
                     window_states)

EDITORS = ("registrar", "system")


class CalendarStale(Conflict):
    """The term changed since the editor read it (expected_version): reload, then change."""
    code = "calendar_stale"


def _limits(uow, tenant, year) -> Limits:
    return Limits(**(uow.calendar.limits(tenant, year) or SCHOOL_DEFAULTS.to_dict()))


def _view(uow, tenant, row, today) -> dict:
    term = term_from_row(row)
    d = term.to_dict(_limits(uow, tenant, term.school_year))
    d.update(version=row["version"], changed_at=_iso(row["changed_at"]), today=today.isoformat(),
             windows=window_states(term, today), current=term.starts_on <= today <= term.ends_on)
    return d


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def get_calendar(uow, caller, school_year=None, semester=None) -> dict:
    """One term of the caller's tenant: {school_year, semester, starts_on, ends_on,
    upload|certification|selection: {opens_on, closes_on}, national_deadline,
    school_completion_on, limits{...}, version, changed_at, today, current,
    windows: {name: {opens_on, closes_on, state: upcoming|open|closed, days_left, days_to_open}}}
    with ISO dates (Taiwan). school_year and semester None: the term whose days hold today by
    portfolio_common.clock (CalendarNotSet, `calendar_not_set`, when none does).
    Raises school_year_invalid, semester_invalid, NotFound (no such term)."""
    today = clock.today_in_school()
    if school_year is None and semester is None:
        row = _current_term(uow.calendar.terms(caller.tenant), today)
    else:
        row = uow.calendar.term(caller.tenant, school_year_of(school_year), semester_of(semester))
        if row is None:
            raise NotFound("no calendar for this term", code="not_found")
    return _view(uow, caller.tenant, row, today)


def list_calendar(uow, caller) -> dict:
    """{today, current: (school_year, semester) or None, terms: [get_calendar's shape, newest first]}."""
    today = clock.today_in_school()
    terms = [_view(uow, caller.tenant, r, today) for r in uow.calendar.terms(caller.tenant)]
    cur = next((t for t in terms if t["current"]), None)
    return {"today": today.isoformat(), "current": [cur["school_year"], cur["semester"]] if cur else None,
            "terms": terms}


def list_calendar_changes(uow, caller, school_year, semester) -> list:
    """Every change of one term, newest first: [{version, changed_by, changed_by_username,
    changed_at, before (null when created), after}] (before/after: the term with its limits)."""
    caller.require(*EDITORS)
    rows = uow.calendar.changes(caller.tenant, school_year_of(school_year), semester_of(semester))
    return [{"version": r["version"], "changed_by": str(r["changed_by"]), "changed_by_username": r["changed_by_username"],
             "changed_at": _iso(r["changed_at"]), "before": r["before"], "after": r["after"]} for r in rows]


def set_term(uow, caller, school_year, semester, fields, expected_version=None) -> dict:
    """Create or change one term of the caller's tenant and publish it whole.

    fields: any of starts_on, ends_on, {upload,certification,selection}_{opens,closes}_on,
    national_deadline (ISO dates) and the school year's limits outcome_uploads_per_semester,
    outcomes_selected_per_year (≤ 6), performances_selected_per_year (≤ 10); what is not given
    keeps its value (a new term needs every date). expected_version (optional): the version
    the editor read; another one raises CalendarStale (`calendar_stale`).

    Every change is kept (calendar_changes: who, when, before, after) and bumps the term's
    version; a change of the year's limits changes every term of that year. Each changed term
    is published as `calendar-changed` through the outbox, in the same transaction. Saving
    what is already stored changes nothing (no version, no event).
    Returns get_calendar's shape plus `changed` (bool). Raises school_year_invalid,
    semester_invalid, fields_invalid (problems by field: domain.build_term), calendar_stale.
    Source: issue 9 item 1; DOMAIN.md "Rules with numbers"."""
    caller.require(*EDITORS)
    year, sem = school_year_of(school_year), semester_of(semester)
    if not isinstance(fields, dict):
        raise Invalid("fields must be an object", code="invalid")
    tenant = caller.tenant
    uow.calendar.serialise(tenant, year)
    row = uow.calendar.term(tenant, year, sem)
    if expected_version not in (None, "") and str((row or {}).get("version", 0)) != str(expected_version).strip():
        raise CalendarStale("the calendar changed since you read it; reload it and make your change again")
    current = term_from_row(row) if row else None
    old_limits = _limits(uow, tenant, year)
    term, limits = build_term(year, sem, fields, current, old_limits)
    now = clock.now()
    limits_changed = limits != old_limits or uow.calendar.limits(tenant, year) is None
    if limits_changed:
        uow.calendar.save_limits(tenant, year, limits.to_dict(), caller.user_id, now)
    to_publish = []
    if not same(term, current) or limits_changed:
        to_publish.append((term, row))
    if limits != old_limits:  # the year's other term carries the limits too
        for other in uow.calendar.terms(tenant):
            if other["school_year"] == year and other["semester"] != sem:
                to_publish.append((term_from_row(other), other))
    for t, before_row in to_publish:
        version = (before_row["version"] if before_row else 0) + 1
        before = term_from_row(before_row).to_dict(old_limits) if before_row else None
        after = t.to_dict(limits)
        uow.calendar.save_term(dict(tenant=tenant, **t.fields(), school_year=t.school_year, semester=t.semester,
                                    version=version, changed_by=caller.user_id, changed_at=now))
        uow.calendar.add_change(dict(tenant=tenant, school_year=t.school_year, semester=t.semester, version=version,
                                     changed_by=caller.user_id, changed_by_username=caller.username or "",
                                     changed_at=now, before=before, after=after))
        payload = events.PAYLOADS[events.CALENDAR_CHANGED]().load(
            dict(after, version=version, changed_by=str(caller.user_id), changed_at=now.isoformat()))
        uow.emit(events.make_event(events.CALENDAR_CHANGED, tenant, payload))
    uow.commit()
    saved = uow.calendar.term(tenant, year, sem)
    return dict(_view(uow, tenant, saved, clock.today_in_school()), changed=bool(to_publish))


