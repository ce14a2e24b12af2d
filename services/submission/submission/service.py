"""nameko entrypoints of the submission service: load, call a use case, dump."""
from nameko.rpc import rpc
from nameko.timer import timer

from portfolio_common import events
from portfolio_common.nameko_kit import reliable_event_handler

from . import usecases
from .dependencies import SubmissionPlatform


class SubmissionService:
    name = "submission"
    platform = SubmissionPlatform()

    @rpc
    def ping(self):
        return "pong"

    @rpc
    def get_my_selection(self, caller_token, school_year):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return usecases.get_my_selection(uow, caller, school_year)

    @rpc
    def select_outcomes(self, caller_token, school_year, outcome_ids):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return usecases.select_outcomes(uow, caller, school_year, outcome_ids)

    @rpc
    def lock_selections(self, caller_token, school_year):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            result = usecases.lock_selections(uow, caller, school_year)
        self.platform.events_written()
        return result

    @rpc
    def list_locked(self, caller_token, school_year):
        caller = self.platform.caller(caller_token)
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
