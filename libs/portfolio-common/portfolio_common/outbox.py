"""Outbox relay: publish rows written in the producer's transaction, mark them sent on confirm.

Called right after each commit (so an event hop stays in milliseconds) and on a timer as the
safety net (so a crash between commit and publish, or a broker outage, loses nothing).
Replicas share the work with SELECT ... FOR UPDATE SKIP LOCKED.
"""
import logging

import sqlalchemy as sa

from .amqp import PublishFailed

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, engine, outbox_table, publisher, *, batch=200):
        self.engine = engine
        self.outbox = outbox_table
        self.publisher = publisher
        self.batch = batch

    def flush(self) -> int:
        """Publish pending rows; returns how many were confirmed. Never raises on broker errors."""
        sent = 0
        while True:
            n, more = self._flush_batch()
            sent += n
            if not more:
                return sent

    def _flush_batch(self):
        t = self.outbox
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(t.c.id, t.c.exchange, t.c.routing_key, t.c.body)
                .where(t.c.sent_at.is_(None)).order_by(t.c.seq).limit(self.batch)
                .with_for_update(skip_locked=True)).all()
            done = []
            for row in rows:
                try:
                    self.publisher.publish(row.exchange, row.routing_key, row.body,
                                           message_id=str(row.id))
                except PublishFailed as exc:
                    conn.execute(t.update().where(t.c.id == row.id).values(
                        attempts=t.c.attempts + 1, last_error=str(exc)[:500]))
                    if exc.unroutable:
                        # Nobody subscribes to this event yet: keep the row (it is retried on
                        # every flush) but do not let it hold back the events behind it.
                        log.error("outbox: %s", exc)
                        continue
                    log.warning("outbox: broker unavailable, will retry: %s", exc)
                    break
                done.append(row.id)
            if done:
                conn.execute(t.update().where(t.c.id.in_(done)).values(sent_at=sa.func.now()))
        return len(done), len(rows) == self.batch and len(done) > 0

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(self.outbox)
                                .where(self.outbox.c.sent_at.is_(None))).scalar_one()
