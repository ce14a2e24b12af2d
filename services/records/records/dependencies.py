import os

from portfolio_common.config import secret
from portfolio_common.crypto import NationalIdVault
from portfolio_common.nameko_kit import Platform

from .orm import outbox
from .unit_of_work import RecordsUnitOfWork

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


class RecordsPlatform(Platform):
    def __init__(self):
        super().__init__("records", MIGRATIONS, outbox)

    def setup(self):
        super().setup()
        self.vault = NationalIdVault(secret("NATIONAL_ID_KEY"))
        self.ticket_key = secret("TICKET_KEY")

    def get_dependency(self, worker_ctx):
        access = super().get_dependency(worker_ctx)
        access.vault = self.vault
        access.ticket_key = self.ticket_key
        access.uow = lambda: RecordsUnitOfWork(self.session_factory)
        return access
