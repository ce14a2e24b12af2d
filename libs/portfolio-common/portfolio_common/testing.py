"""Fakes for unit tests of use cases: no database, no broker."""


class FakeUnitOfWork:
    """Collects emitted events and claimed event ids; `committed` tells whether it committed."""

    def __init__(self):
        self.events = []
        self.claimed = set()
        self.committed = False
        self.wrote_events = False
        self._pending = []

    def __enter__(self):
        self._pending = []
        return self

    def __exit__(self, *exc):
        self._pending = []

    def emit(self, envelope):
        self._pending.append(envelope)
        self.wrote_events = True

    def claim(self, event_id, handler):
        if (event_id, handler) in self.claimed:
            return False
        self.claimed.add((event_id, handler))
        return True

    def claim_many(self, event_ids, handler):
        return {e for e in dict.fromkeys(event_ids) if self.claim(e, handler)}

    def commit(self):
        self.events.extend(self._pending)
        self._pending = []
        self.committed = True
