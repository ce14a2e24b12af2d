from portfolio_common.testing import FakeUnitOfWork
from portfolio_common.uow import SqlUnitOfWork

from .orm import outbox, processed_events
from .national.repository import FakeNationalRepository, SqlNationalRepository
from .repository import FakeSelectionRepository, SqlSelectionRepository
from .selection.repository import FakeChoiceRepository, SqlChoiceRepository
from .schoolcalendar.repository import FakeCalendarRepository, SqlCalendarRepository
from .sealing.repository import FakeSealingRepository, SqlSealingRepository


class SubmissionUnitOfWork(SqlUnitOfWork):
    def __init__(self, session_factory):
        super().__init__(session_factory, outbox, processed_events)

    def __enter__(self):
        super().__enter__()
        self.selections = SqlSelectionRepository(self.session)
        self.calendar = SqlCalendarRepository(self.session)
        self.national = SqlNationalRepository(self.session)
        self.choices = SqlChoiceRepository(self.session)
        self.sealing = SqlSealingRepository(self.session)
        return self


class FakeSubmissionUnitOfWork(FakeUnitOfWork):
    def __init__(self):
        super().__init__()
        self.selections = FakeSelectionRepository()
        self.calendar = FakeCalendarRepository()
        self.national = FakeNationalRepository(self.selections)
        self.choices = FakeChoiceRepository(self.selections)
        self.sealing = FakeSealingRepository(self.selections)


UnitOfWork = SubmissionUnitOfWork
