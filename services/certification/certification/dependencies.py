import os

from portfolio_common.nameko_kit import Platform
from .orm import outbox
from .unit_of_work import CertificationUnitOfWork

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


class CertificationPlatform(Platform):
    def __init__(self):
        super().__init__("certification", MIGRATIONS, outbox)

    def get_dependency(self, worker_ctx):
        access = super().get_dependency(worker_ctx)
        access.uow = lambda: CertificationUnitOfWork(self.session_factory)
        return access
