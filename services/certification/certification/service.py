"""nameko entrypoints of the certification service: load, call a use case, dump."""

from portfolio_common.permissions import ANYONE, allowed, open_to
from nameko.timer import timer

from portfolio_common import events
from portfolio_common.nameko_kit import reliable_event_handler, rpc

from . import usecases
from .dependencies import CertificationPlatform
from .schemas import TaskRead


class CertificationService:
    name = "certification"
    platform = CertificationPlatform()

    @rpc
    @open_to(ANYONE)
    def ping(self):
        return "pong"

    @rpc
    @allowed("subject_teacher", "homeroom_teacher")
    def list_queue(self, caller, status="pending"):
        with self.platform.uow() as uow:
            return TaskRead(many=True).dump(usecases.list_queue(uow, caller, status))

    @rpc
    @allowed("ops", "executive_secretary", "principal", "system")
    def count_tasks(self, caller):
        with self.platform.uow() as uow:
            return usecases.count_tasks(uow, caller)

    @rpc
    @allowed("subject_teacher", "homeroom_teacher")
    def certify(self, caller, task_ids):
        with self.platform.uow() as uow:
            result = usecases.certify(uow, caller, task_ids)
        self.platform.events_written()
        return result

    @rpc
    @allowed("subject_teacher", "homeroom_teacher")
    def return_outcomes(self, caller, task_ids, reason):
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
