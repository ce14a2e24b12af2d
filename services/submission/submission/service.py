"""nameko entrypoints of the submission service: load, call a use case, dump."""

from portfolio_common.permissions import ANYONE, allowed, open_to
from nameko.timer import timer

from portfolio_common import events
from portfolio_common.nameko_kit import reliable_event_handler, rpc

from . import usecases
from .dependencies import SubmissionPlatform


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

    @reliable_event_handler("certification", events.CERTIFIED)
    def handle_certified(self, body):
        env = events.load_event(events.CERTIFIED, body)
        with self.platform.uow() as uow:
            usecases.record_certified(uow, env)

    @timer(interval=1)
    def relay_outbox(self):
        self.platform.flush()
