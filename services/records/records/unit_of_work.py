"""The records unit of work: one transaction per worker call, with every area's repositories
(records/areas.py) and the hash-chained history, real or fake.

    with uow:                      # RecordsUnitOfWork(session_factory) or FakeRecordsUnitOfWork()
        uow.students.get(...)      # a repository an area declared
        uow.history.record(...)    # chained at commit
        uow.emit(envelope)         # outbox row, same transaction
        uow.commit()
"""
from portfolio_common.testing import FakeUnitOfWork
from portfolio_common.uow import SqlUnitOfWork

from . import areas
from .history import FakeHistory, SqlHistory
from .orm import outbox, processed_events


class RecordsUnitOfWork(SqlUnitOfWork):
    def __init__(self, session_factory):
        super().__init__(session_factory, outbox, processed_events)

    def __enter__(self):
        super().__enter__()
        self.history = SqlHistory(self.session)
        for name, (sql, _) in areas.repositories().items():
            setattr(self, name, sql(self.session))
        return self

    def commit(self):
        self.history.flush()
        super().commit()


class FakeRecordsUnitOfWork(FakeUnitOfWork):
    """In memory: repositories keep their data across `with` blocks, like a database would;
    what is not committed (history, events) is dropped at exit."""

    def __init__(self):
        super().__init__()
        self.history = FakeHistory()
        for name, (_, fake) in areas.repositories().items():
            setattr(self, name, fake())

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self.history.discard()

    def commit(self):
        self.history.flush()
        super().commit()


UnitOfWork = RecordsUnitOfWork
