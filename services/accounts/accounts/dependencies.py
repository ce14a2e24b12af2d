import os

from portfolio_common.nameko_kit import Platform
from portfolio_common.uow import SqlUnitOfWork

from .orm import outbox, processed_events

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


class AccountsPlatform(Platform):
    def __init__(self):
        super().__init__("accounts", MIGRATIONS, outbox)

    def record_refusal(self, caller, action, code):
        from . import usecases
        with SqlUnitOfWork(self.session_factory, outbox, processed_events) as uow:
            usecases.record_refusal(uow, caller, action, code)

    def get_dependency(self, worker_ctx):
        access = super().get_dependency(worker_ctx)
        access.uow = lambda: SqlUnitOfWork(self.session_factory, outbox, processed_events)
        return access
