"""nameko entrypoints of the records service: load, call a use case, dump. Nothing else."""
from nameko.rpc import rpc
from nameko.timer import timer

from portfolio_common import events
from portfolio_common.nameko_kit import reliable_event_handler

from . import usecases
from .dependencies import RecordsPlatform
from .schemas import OutcomeRead, SchoolImport, SectionRead, StudentRead


class RecordsService:
    name = "records"
    platform = RecordsPlatform()

    @rpc
    def ping(self):
        return "pong"

    @rpc
    def import_school(self, caller_token, data):
        caller = self.platform.caller(caller_token)
        payload = SchoolImport().load(data)
        with self.platform.uow() as uow:
            return usecases.import_school(uow, self.platform.vault, caller, payload)

    @rpc
    def list_my_sections(self, caller_token):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return SectionRead(many=True).dump(usecases.list_my_sections(uow, caller))

    @rpc
    def list_my_outcomes(self, caller_token, school_year=None):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return OutcomeRead(many=True).dump(usecases.list_my_outcomes(uow, caller, school_year))

    @rpc
    def get_outcome(self, caller_token, outcome_id):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return OutcomeRead().dump(usecases.get_outcome(uow, caller, outcome_id))

    @rpc
    def list_my_students(self, caller_token):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return StudentRead(many=True).dump(usecases.list_my_students(uow, caller))

    @rpc
    def list_students(self, caller_token):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return StudentRead(many=True).dump(usecases.list_students(uow, self.platform.vault, caller))

    @rpc
    def issue_outcome_ticket(self, caller_token, section_id, description):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return usecases.issue_outcome_ticket(uow, caller, section_id, description,
                                                 self.platform.ticket_key)

    @rpc
    def release_outcome_ticket(self, caller_token, outcome_id):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return usecases.release_outcome_ticket(uow, caller, outcome_id)

    @reliable_event_handler("files", events.OUTCOME_UPLOADED)
    def handle_outcome_uploaded(self, body):
        env = events.load_event(events.OUTCOME_UPLOADED, body)
        with self.platform.uow() as uow:
            usecases.record_outcome_uploaded(uow, env)

    @reliable_event_handler("certification", events.CERTIFIED)
    def handle_certified(self, body):
        env = events.load_event(events.CERTIFIED, body)
        with self.platform.uow() as uow:
            usecases.record_certified(uow, env)

    @reliable_event_handler("certification", events.CERTIFICATION_RETURNED)
    def handle_certification_returned(self, body):
        env = events.load_event(events.CERTIFICATION_RETURNED, body)
        with self.platform.uow() as uow:
            usecases.record_returned(uow, env)

    @reliable_event_handler("submission", events.SELECTION_LOCKED)
    def handle_selection_locked(self, body):
        env = events.load_event(events.SELECTION_LOCKED, body)
        with self.platform.uow() as uow:
            usecases.record_selection_locked(uow, env)

    @timer(interval=2)
    def relay_outbox(self):
        self.platform.flush()
