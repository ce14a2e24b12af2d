import os

from portfolio_common.nameko_kit import Platform

from .orm import outbox
from .unit_of_work import SubmissionUnitOfWork

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


class SubmissionPlatform(Platform):
    def __init__(self):
        super().__init__("submission", MIGRATIONS, outbox)

    def get_dependency(self, worker_ctx):
        access = super().get_dependency(worker_ctx)
        access.uow = lambda: SubmissionUnitOfWork(self.session_factory)
        return access
