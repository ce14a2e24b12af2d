"""For tests of the national side against a real database: the steps before an export, as the
people do them (an open calendar for the term, each student's selection and consent to
release, the registrar's lock of those students). Not used by the service itself."""
import datetime as dt

from portfolio_common import caller as caller_mod
from portfolio_common import clock

from ..schoolcalendar import usecases as calendar
from ..selection import consent, lock
from ..selection import usecases as choice


def open_term(db, tenant, school_year, semester=1):
    """A term around today whose selection window is open (set as the `system` tool would)."""
    today = clock.today_in_school()
    d = lambda n: (today + dt.timedelta(days=n)).isoformat()  # noqa: E731
    fields = {"starts_on": d(-60), "ends_on": d(60), "upload_opens_on": d(-30), "upload_closes_on": d(30),
              "certification_opens_on": d(-30), "certification_closes_on": d(40), "selection_opens_on": d(-10),
              "selection_closes_on": d(10), "national_deadline": d(80)}
    with db.uow() as uow:
        calendar.set_term(uow, caller_mod.system_caller(tenant), school_year, semester, fields)


def select_consent_and_lock(db, registrar, chosen: dict, school_year):
    """chosen: {student caller: [outcome_id]}; the term (semester 1) is opened first."""
    open_term(db, registrar.tenant, school_year)
    for student, outcome_ids in chosen.items():
        with db.uow() as uow:
            choice.save_selection(uow, student, school_year, outcome_ids=outcome_ids)
        with db.uow() as uow:
            consent.set_consent(uow, student, school_year, True, consent.WORDING_VERSION)
    with db.uow() as uow:
        lock.lock(uow, registrar, school_year, "tenant", "", [s.user_id for s in chosen])
