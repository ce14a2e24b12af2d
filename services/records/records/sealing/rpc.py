"""nameko entrypoints of sealing in records."""
from portfolio_common import events
from portfolio_common.nameko_kit import reliable_event_handler

from . import usecases


class Rpc:
    @reliable_event_handler("submission", events.SEALED)
    def handle_sealed(self, body):
        env = events.load_event(events.SEALED, body)
        with self.platform.uow() as uow:
            usecases.record_sealed(uow, env)

    @reliable_event_handler("submission", events.SEALED_READ_APPROVED)
    def handle_sealed_read_approved(self, body):
        env = events.load_event(events.SEALED_READ_APPROVED, body)
        with self.platform.uow() as uow:
            usecases.record_read_approved(uow, env)
