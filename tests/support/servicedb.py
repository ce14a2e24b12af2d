"""A service's own database, migrated by its own Alembic scripts, with a unit-of-work factory."""
import importlib
import os

from portfolio_common.db import make_engine, make_session_factory, run_migrations
from portfolio_common.uow import SqlUnitOfWork


class ServiceDb:
    def __init__(self, url, service):
        self.service = service
        pkg = importlib.import_module(service)
        self.orm = importlib.import_module(f"{service}.orm")
        self.engine = make_engine(url)
        run_migrations(self.engine, os.path.join(os.path.dirname(pkg.__file__), "migrations"))
        self.session_factory = make_session_factory(self.engine)

    def uow(self):
        try:  # a service with repositories has its own unit of work
            uow_mod = importlib.import_module(f"{self.service}.unit_of_work")
            return uow_mod.UnitOfWork(self.session_factory)
        except ModuleNotFoundError:
            return SqlUnitOfWork(self.session_factory, self.orm.outbox, self.orm.processed_events)

    def outbox_bodies(self, event=None):
        import sqlalchemy as sa
        q = sa.select(self.orm.outbox.c.body).order_by(self.orm.outbox.c.seq)
        if event:
            q = q.where(self.orm.outbox.c.routing_key == event)
        with self.engine.connect() as c:
            return list(c.execute(q).scalars())

    def rows(self, table, *where):
        import sqlalchemy as sa
        t = getattr(self.orm, table)
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(sa.select(t).where(*where)).all()]
