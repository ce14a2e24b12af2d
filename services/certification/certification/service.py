"""nameko entrypoints of the certification service: load, call a use case, dump."""
from nameko.rpc import rpc
from nameko.timer import timer

from portfolio_common import events
from portfolio_common.nameko_kit import reliable_event_handler

from . import usecases
from .dependencies import CertificationPlatform
from .schemas import TaskRead


class CertificationService:
    name = "certification"
    platform = CertificationPlatform()

    @rpc
    def ping(self):
        return "pong"

    @rpc
    def list_queue(self, caller_token, status="pending"):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return TaskRead(many=True).dump(usecases.list_queue(uow, caller, status))

    @rpc
    def count_tasks(self, caller_token):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return usecases.count_tasks(uow, caller)

    @rpc
    def certify(self, caller_token, task_ids):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            result = usecases.certify(uow, caller, task_ids)
        self.platform.events_written()
        return result

    @rpc
    def return_outcomes(self, caller_token, task_ids, reason):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            result = usecases.return_outcomes(uow, caller, task_ids, reason)
        self.platform.events_written()
        return result

    @reliable_event_handler("files", events.OUTCOME_UPLOADED)
    def handle_outcome_uploaded(self, body):
        env = events.load_event(events.OUTCOME_UPLOADED, body)
        with self.platform.uow() as uow:
            usecases.create_task(uow, env)

    @timer(interval=1)
    def relay_outbox(self):
        self.platform.flush()
