"""nameko entrypoints of the submission service: load, call a use case, dump."""

from portfolio_common.permissions import ANYONE, allowed, open_to
from nameko.timer import timer

from portfolio_common import events
from portfolio_common.nameko_kit import reliable_event_handler, rpc

from . import usecases
from .schoolcalendar import usecases as calendar
from .dependencies import SubmissionPlatform


# Every role a person holds in a tenant (accounts.domain.ROLES): the calendar is the school's
# and each of its people reads it; `system` is the platform's tools.
TENANT_PEOPLE = ("student", "subject_teacher", "homeroom_teacher", "subject_convener", "consultation_teacher",
                 "guidance_counsellor", "registrar", "elective_officer", "discipline_section",
                 "activities_section", "organising_unit", "system_admin", "executive_secretary", "principal", "ops")


class SubmissionService:
    name = "submission"
    platform = SubmissionPlatform()

    @rpc
    @open_to(ANYONE)
    def ping(self):
        return "pong"

    @rpc
    @allowed("student")
    def get_my_selection(self, caller, school_year):
        with self.platform.uow() as uow:
            return usecases.get_my_selection(uow, caller, school_year)

    @rpc
    @allowed("student")
    def select_outcomes(self, caller, school_year, outcome_ids):
        with self.platform.uow() as uow:
            return usecases.select_outcomes(uow, caller, school_year, outcome_ids)

    @rpc
    @allowed("registrar", "system")
    def lock_selections(self, caller, school_year):
        with self.platform.uow() as uow:
            result = usecases.lock_selections(uow, caller, school_year)
        self.platform.events_written()
        return result

    @rpc
    @allowed("registrar", "system")
    def list_locked(self, caller, school_year):
        with self.platform.uow() as uow:
            return usecases.list_locked(uow, caller, school_year)

    @rpc
    @allowed(*TENANT_PEOPLE, "system")
    def get_calendar(self, caller, school_year=None, semester=None):
        """One term of the caller's tenant (None, None: the term holding today), see
        schoolcalendar.usecases.get_calendar for the shape; calendar_not_set, not_found."""
        with self.platform.uow() as uow:
            return calendar.get_calendar(uow, caller, school_year, semester)

    @rpc
    @allowed(*TENANT_PEOPLE, "system")
    def list_calendar(self, caller):
        """{today, current, terms: [...]} of the caller's tenant, newest term first."""
        with self.platform.uow() as uow:
            return calendar.list_calendar(uow, caller)

    @rpc
    @allowed("registrar", "system")
    def list_calendar_changes(self, caller, school_year, semester):
        """Every change of one term (who, when, before, after), newest first."""
        with self.platform.uow() as uow:
            return calendar.list_calendar_changes(uow, caller, school_year, semester)

    @rpc
    @allowed("registrar", "system")
    def set_term(self, caller, school_year, semester, fields, expected_version=None):
        """Create or change one term (windows, days, national deadline, the year's limits) and
        publish calendar-changed; fields_invalid by field, calendar_stale (see the use case)."""
        with self.platform.uow() as uow:
            result = calendar.set_term(uow, caller, school_year, semester, fields, expected_version)
        self.platform.events_written()
        return result

    @reliable_event_handler("certification", events.CERTIFIED)
    def handle_certified(self, body):
        env = events.load_event(events.CERTIFIED, body)
        with self.platform.uow() as uow:
            usecases.record_certified(uow, env)

    @reliable_event_handler("certification", events.CERTIFICATION_WITHDRAWN)
    def handle_certification_withdrawn(self, body):
        env = events.load_event(events.CERTIFICATION_WITHDRAWN, body)
        with self.platform.uow() as uow:
            usecases.record_withdrawn(uow, env)

    @timer(interval=1)
    def relay_outbox(self):
        self.platform.flush()
