import os

from portfolio_common.nameko_kit import Platform
from portfolio_common.uow import SqlUnitOfWork

from .orm import outbox, processed_events

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


class CertificationPlatform(Platform):
    def __init__(self):
        super().__init__("certification", MIGRATIONS, outbox)

    def get_dependency(self, worker_ctx):
        access = super().get_dependency(worker_ctx)
        access.uow = lambda: SqlUnitOfWork(self.session_factory, outbox, processed_events)
        return access
