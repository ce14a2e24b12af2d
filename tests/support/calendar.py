"""An open school calendar for tests: a calendar-changed envelope whose windows hold today, or
set through submission's RPC as a registrar would (tests/e2e, tests/browser: see deploy.demo_school)."""
import datetime as dt
import uuid

from portfolio_common import clock, events


def open_term(school_year=115, semester=1, today=None, *, uploads=6, version=1, **windows) -> dict:
    """A calendar-changed payload whose term days and windows hold `today` (default: the clock's);
    `upload=(opens_on, closes_on)` and the like override a window."""
    today = today or clock.today_in_school()
    d = lambda n: (today + dt.timedelta(days=n)).isoformat()  # noqa: E731
    payload = {
        "school_year": school_year, "semester": semester, "starts_on": d(-60), "ends_on": d(60),
        "upload": {"opens_on": d(-30), "closes_on": d(30)},
        "certification": {"opens_on": d(-30), "closes_on": d(40)},
        "selection": {"opens_on": d(-30), "closes_on": d(40)},
        "national_deadline": d(60), "school_completion_on": d(46),
        "limits": {"outcome_uploads_per_semester": uploads, "outcomes_selected_per_year": 6,
                   "performances_selected_per_year": 10},
        "version": version, "changed_by": str(uuid.uuid4()), "changed_at": clock.now().isoformat()}
    for name, (opens, closes) in windows.items():
        payload[name] = {"opens_on": str(opens), "closes_on": str(closes)}
    return payload


def calendar_changed(tenant="day", **kw) -> dict:
    """The envelope records' handler is given (loaded tolerantly, as from the broker)."""
    p = open_term(**kw)
    env = events.make_event(events.CALENDAR_CHANGED, tenant, events.PAYLOADS[events.CALENDAR_CHANGED]().load(p))
    return events.load_event(events.CALENDAR_CHANGED, env)


def open_records_calendar(db, tenant="day", **kw):
    """Feed records' calendar copy (a ServiceDb of records) an open term."""
    from records.schoolcalendar import usecases
    with db.uow() as uow:
        usecases.record_calendar_changed(uow, calendar_changed(tenant, **kw))
