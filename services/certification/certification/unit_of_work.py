from portfolio_common.testing import FakeUnitOfWork
from portfolio_common.uow import SqlUnitOfWork

from .orm import outbox, processed_events
from .repository import FakeTaskRepository, SqlTaskRepository
from .sealing import FakeSealedRepository, SqlSealedRepository


class CertificationUnitOfWork(SqlUnitOfWork):
    def __init__(self, session_factory):
        super().__init__(session_factory, outbox, processed_events)

    def __enter__(self):
        super().__enter__()
        self.tasks = SqlTaskRepository(self.session)
        self.sealed = SqlSealedRepository(self.session)
        return self


class FakeCertificationUnitOfWork(FakeUnitOfWork):
    def __init__(self):
        super().__init__()
        self.tasks = FakeTaskRepository()
        self.sealed = FakeSealedRepository()

UnitOfWork = CertificationUnitOfWork
