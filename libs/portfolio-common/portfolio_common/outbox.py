"""Outbox relay: publish rows written in the producer's transaction, mark them sent on confirm.

Kicked right after each commit (so an event hop stays in milliseconds) and woken on a timer as
the safety net (so a crash between commit and publish, or a broker outage, loses nothing).
Replicas share the work with SELECT ... FOR UPDATE SKIP LOCKED.

No head-of-line blocking: a row the broker cannot route (no queue bound to its event yet, an
exchange that does not exist) is *parked*: its `next_attempt_at` moves into the future with an
exponential back-off (`PARK_BASE_S` doubling up to `PARK_MAX_S`) and the relay goes on with the
rows behind it. A parked row is tried again when its time comes, forever: the event is kept,
never dropped. A broker outage is not the row's fault: the flush stops there and leaves every
row as it was, to be tried on the next kick or tick.

Requests never flush: they `kick()` a `RelayLoop`, whose own thread (or green thread) does the
publishing under the process-wide publisher lock, so a broker outage never makes a request wait.
"""
import datetime as dt
import logging
import threading

import sqlalchemy as sa

from .amqp import PublishFailed

log = logging.getLogger(__name__)

PARK_BASE_S = 5          # first back-off of an unroutable row
PARK_MAX_S = 15 * 60     # longest back-off: an unroutable row is retried at least this often


def park_delay_s(attempts: int) -> int:
    """Back-off before the next try of a row that failed `attempts` times (1 -> 5 s, 2 -> 10 s,
    ... capped at 15 min)."""
    return min(PARK_MAX_S, PARK_BASE_S * 2 ** max(0, attempts - 1))


class OutboxRelay:
    """Publishes one outbox table. `flush()` is safe to call from several threads or replicas."""

    def __init__(self, engine, outbox_table, publisher, *, batch=200, on_parked=None):
        self.engine = engine
        self.outbox = outbox_table
        self.publisher = publisher
        self.batch = batch
        self.on_parked = on_parked  # callback(n) when rows were parked (a metric counter)
        self.parked_total = 0       # rows parked by this process since it started

    def flush(self) -> int:
        """Publish every row that is due; returns how many were confirmed. Never raises on
        broker errors (the rows stay and the next flush tries again)."""
        sent = 0
        while True:
            n, more = self._flush_batch()
            sent += n
            if not more:
                return sent

    def _due(self):
        t = self.outbox
        return sa.and_(t.c.sent_at.is_(None),
                       sa.or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= sa.func.now()))

    def _flush_batch(self):
        t = self.outbox
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(t.c.id, t.c.exchange, t.c.routing_key, t.c.body, t.c.attempts)
                .where(self._due()).order_by(t.c.seq).limit(self.batch)
                .with_for_update(skip_locked=True)).all()
            done, parked, broker_down = [], 0, False
            for row in rows:
                try:
                    self.publisher.publish(row.exchange, row.routing_key, row.body,
                                           message_id=str(row.id))
                except PublishFailed as exc:
                    if not exc.unroutable:
                        conn.execute(t.update().where(t.c.id == row.id).values(
                            attempts=t.c.attempts + 1, last_error=str(exc)[:500]))
                        log.warning("outbox: broker unavailable, will retry: %s", exc)
                        broker_down = True
                        break
                    # Nobody can receive it yet: park it with back-off and go on with the rest.
                    delay = park_delay_s(row.attempts + 1)
                    conn.execute(t.update().where(t.c.id == row.id).values(
                        attempts=t.c.attempts + 1, last_error=str(exc)[:500],
                        next_attempt_at=sa.func.now() + dt.timedelta(seconds=delay)))
                    parked += 1
                    continue
                done.append(row.id)
            if done:
                conn.execute(t.update().where(t.c.id.in_(done)).values(sent_at=sa.func.now()))
        if parked:
            self.parked_total += parked
            log.error("outbox: parked %d unroutable event(s) of %s with back-off (no queue bound yet)",
                      parked, t.name)
            if self.on_parked is not None:
                self.on_parked(parked)
        # Every row of a full batch was either sent or parked, so the next batch makes progress.
        return len(done), len(rows) == self.batch and not broker_down

    def backlog(self) -> dict:
        """{"pending": rows due now, "parked": rows waiting for their back-off, "oldest_s": age in
        seconds of the oldest unsent row (0 when none)}. Read by the metrics and the ops tool."""
        t = self.outbox
        parked = sa.and_(t.c.next_attempt_at.is_not(None), t.c.next_attempt_at > sa.func.now())
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(
                sa.func.count().filter(sa.not_(parked)),
                sa.func.count().filter(parked),
                sa.func.coalesce(sa.func.extract("epoch", sa.func.now() - sa.func.min(t.c.created_at)), 0),
            ).where(t.c.sent_at.is_(None))).one()
        return {"pending": int(row[0]), "parked": int(row[1]), "oldest_s": float(row[2])}

    def pending(self) -> int:
        """Unsent rows, parked or not."""
        b = self.backlog()
        return b["pending"] + b["parked"]


class RelayLoop:
    """One background thread per process that flushes when kicked and every `interval` seconds.

    `kick()` only sets an event: the caller (a request, a nameko worker) never waits for the
    broker or for the publisher lock. Under eventlet (nameko) pass `spawn` (the container's
    `spawn_managed_thread`) and the loop runs as a green thread; `threading.Event` is green
    there once eventlet has monkey-patched the process.
    """

    def __init__(self, relay: OutboxRelay, *, interval=1.0, before_flush=None, after_flush=None,
                 name="outbox-relay"):
        self.relay = relay
        self.interval = interval
        self.before_flush = before_flush   # e.g. make sure the topology is there
        self.after_flush = after_flush     # e.g. update the backlog gauges
        self.name = name
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self.flushes = 0

    def start(self, spawn=None):
        if spawn is None:
            threading.Thread(target=self.run, name=self.name, daemon=True).start()
        else:
            spawn(self.run)
        return self

    def kick(self):
        self._wake.set()

    def stop(self):
        self._stopped.set()
        self._wake.set()

    def run(self):
        while not self._stopped.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stopped.is_set():
                return
            self.flush_once()

    def flush_once(self):
        # A loop that raises would stop publishing for good: a database or broker hiccup here
        # only delays the events until the next kick or tick.
        try:
            if self.before_flush is not None:
                self.before_flush()
            self.relay.flush()
            self.flushes += 1
            if self.after_flush is not None:
                self.after_flush()
        except Exception as exc:  # noqa: BLE001
            log.warning("outbox relay %s: %r (will retry)", self.name, exc)


def main(argv=None):
    """`portfolio-outbox <table-url>`: print a service's outbox backlog (for ops and health checks).

    Exit 0; prints `pending=<n> parked=<n> oldest_s=<s>`.
    """
    import argparse
    from .config import env
    from .db import make_engine, messaging_tables
    p = argparse.ArgumentParser(prog="portfolio-outbox", description="Show a service's outbox backlog")
    p.add_argument("--database-url", default=env("DATABASE_URL"),
                   help="the service's database (default: DATABASE_URL)")
    a = p.parse_args(argv)
    if not a.database_url:
        p.error("DATABASE_URL is not set")
    engine = make_engine(a.database_url, pool_size=1, max_overflow=0)
    outbox, _ = messaging_tables(sa.MetaData())
    try:
        b = OutboxRelay(engine, outbox, publisher=None).backlog()
    finally:
        engine.dispose()
    print(f"pending={b['pending']} parked={b['parked']} oldest_s={b['oldest_s']:.0f}")
    return 0
