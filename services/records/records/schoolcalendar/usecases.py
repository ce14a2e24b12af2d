"""The calendar copy: applying calendar-changed, and what an upload ticket asks of it."""
import json

from portfolio_common import events
from portfolio_common.windows import CalendarNotSet, Window

NOT_SET = "學校尚未設定這個學期（{year} 學年度第 {sem} 學期）的行事曆，請洽註冊組（進修部：教務組）"


def record_calendar_changed(uow, env) -> bool:
    """Keep the newest version of the term in the payload (version check: an older or repeated
    event changes nothing; the event id is claimed once). Returns whether it was applied."""
    if not uow.claim(env["event_id"], "records.handle_calendar_changed"):
        return False
    # the tolerant load gives dates: keep the payload as the producer wrote it (ISO strings)
    term = json.loads(json.dumps(events.PAYLOADS[events.CALENDAR_CHANGED]().dump(env["payload"])))
    applied = uow.calendar.apply(env["tenant"], term)
    uow.commit()
    return applied


def upload_rules(uow, tenant, school_year, semester) -> dict:
    """The term's calendar for an upload: {upload: Window, limit: outcome uploads a semester}.
    The window checked is the one of the outcome's own term (the section's school year and
    semester): a term's upload window may run past its last day (DOMAIN.md: at least two weeks
    after the closing ceremony). CalendarNotSet (`calendar_not_set`) when records holds no
    calendar for that term."""
    term = uow.calendar.term(tenant, school_year, semester)
    if term is None:
        raise CalendarNotSet(NOT_SET.format(year=school_year, sem=semester))
    return {"upload": Window.of("upload", term["upload"]),
            "limit": int(term["limits"]["outcome_uploads_per_semester"])}


def calendar_copy(uow, caller, school_year, semester) -> dict | None:
    """The held term (calendar-changed payload) of the caller's tenant, or None: for ops and the
    demo loader to see that records' copy caught up with submission (compare `version`)."""
    return uow.calendar.term(caller.tenant, int(school_year), int(semester))
