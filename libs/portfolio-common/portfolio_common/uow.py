"""Unit of work over one SQLAlchemy session: the change, its outbox rows and the
processed-event record commit together or not at all."""
from .db import add_outbox_event, claim_event, claim_events


class SqlUnitOfWork:
    def __init__(self, session_factory, outbox_table, processed_table):
        self._factory = session_factory
        self._outbox = outbox_table
        self._processed = processed_table
        self.wrote_events = False

    def __enter__(self):
        self.session = self._factory()
        self._committed = False
        return self

    def __exit__(self, *exc):
        if not self._committed:
            self.session.rollback()
        self.session.close()

    def emit(self, envelope: dict):
        add_outbox_event(self.session, self._outbox, envelope)
        self.wrote_events = True

    def claim(self, event_id: str, handler: str) -> bool:
        return claim_event(self.session, self._processed, event_id, handler)

    def claim_many(self, event_ids, handler: str) -> set:
        """The ids of `event_ids` not applied before, claimed in this transaction (one statement)."""
        return claim_events(self.session, self._processed, event_ids, handler)

    def commit(self):
        self.session.commit()
        self._committed = True
