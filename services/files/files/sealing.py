"""Sealing in files (issue 9 item 7): `sealed` -> COMPLIANCE retention on every stored object of
the student (no one, the S3 root included, can delete or overwrite those versions until then),
then the student's row in `sealed_students`, after which the database refuses new uploads and
any change to the student's file rows (migration 0004, portfolio_common.sealing).

files is Flask, not nameko: `SealedConsumer` is a small pika consumer thread on the handler
queue that the migrate step declares for (sealed, files, handle_sealed) in
events.SUBSCRIPTIONS (quorum, delivery limit, then the service's dead-letter queue; the broker
user `files` may read only that queue: broker_access.py). Several replicas compete on the one
queue; the handler is idempotent.
"""
import datetime as dt
import json
import logging
import threading

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from portfolio_common import events, sealing
from portfolio_common.amqp import connection_parameters, failure_route, service_exchange
from portfolio_common.config import retry_delays_ms, retry_later_max_seconds
from portfolio_common.errors import RetryLater

from .orm import metadata
from .usecases import seal_student_files

log = logging.getLogger(__name__)

sealed_students = sealing.table(metadata)
QUEUE = events.queue_name(events.SEALED, "files", "handle_sealed")
# (event, source, service, handler) of what files consumes, for the contract test
HANDLERS = [(events.SEALED, "submission", "files", "handle_sealed")]
# How long sealed objects stay under COMPLIANCE retention (days from sealing). The national
# meaning of sealing is unpublished (DOMAIN.md); ten years is this platform's choice.
DEFAULT_RETENTION_DAYS = 3650


class SqlSealedRepository:
    def __init__(self, engine):
        self.engine = engine

    def is_sealed(self, tenant, student_id) -> bool:
        with self.engine.connect() as c:
            return c.execute(sa.select(sa.literal(1)).where(
                sealed_students.c.tenant == tenant, sealed_students.c.student_id == student_id)).first() is not None

    def add(self, tenant, student_id, student_user_id, sealed_at) -> bool:
        with self.engine.begin() as c:
            return c.execute(insert(sealed_students).values(
                tenant=tenant, student_id=student_id, student_user_id=student_user_id, sealed_at=sealed_at)
                .on_conflict_do_nothing()).rowcount == 1


class FakeSealedRepository:
    def __init__(self):
        self.rows = {}

    def is_sealed(self, tenant, student_id):
        return (tenant, str(student_id)) in self.rows

    def add(self, tenant, student_id, student_user_id, sealed_at):
        if self.is_sealed(tenant, student_id):
            return False
        self.rows[(tenant, str(student_id))] = sealed_at
        return True


def record_sealed(files_repo, sealed_repo, store, env, retention_days=DEFAULT_RETENTION_DAYS) -> int:
    """Consumer of `sealed`: retain every stored object of the student (COMPLIANCE, until
    sealed_at + retention_days), then record the seal. Returns how many objects were retained
    (0 on a redelivery of a seal already recorded). Retention first: the seal row makes the
    student's file rows read-only, so marking them `sealed` must come before it; a crash in
    between is redone by the redelivery (retaining again with the same date is allowed)."""
    p = env["payload"]
    tenant, sid = env["tenant"], str(p["student_id"])
    if sealed_repo.is_sealed(tenant, sid):
        return 0
    until = p["sealed_at"] + dt.timedelta(days=retention_days)
    n = seal_student_files(files_repo, store, tenant, sid, until)
    sealed_repo.add(tenant, sid, str(p["student_user_id"]), p["sealed_at"])
    return n


class SealedConsumer:
    """Consumes `sealed` on files' handler queue until `stop` is set; reconnects after errors.
    The same loop consumes files' other handler queue (selection-locked, files/locked.py):
    pass its queue and event."""

    def __init__(self, amqp_uri, handle, stop: threading.Event, ssl_options=None, *, queue=QUEUE,
                 event=events.SEALED):
        self.amqp_uri, self.handle, self.stop, self.ssl = amqp_uri, handle, stop, ssl_options
        self.queue, self.event = queue, event

    def start(self):
        t = threading.Thread(target=self.run, name=f"{self.event}-consumer", daemon=True)
        t.start()
        return t

    def run(self):
        import pika
        while not self.stop.is_set():
            try:
                conn = pika.BlockingConnection(connection_parameters(
                    self.amqp_uri, connection_name=f"files-{self.event}", ssl_options=self.ssl))
                ch = conn.channel()
                ch.basic_qos(prefetch_count=1)
                ch.confirm_delivery()   # a retry is acked only once the broker has it
                while not self.stop.is_set():
                    method, props, body = ch.basic_get(self.queue)
                    if method is None:
                        conn.sleep(1.0)
                        continue
                    self._one(ch, method, body, props)
                conn.close()
            except Exception:  # noqa: BLE001 - the broker or the queue is away: try again
                log.exception("%s consumer lost its connection; reconnecting", self.event)
                self.stop.wait(5)

    def _one(self, ch, method, body, props=None):
        try:
            env = events.load_event(self.event, json.loads(body))
            self.handle(env)
        except RetryLater as exc:
            # not arrived yet (issue 8 item 15): retried, never dropped (see retry_later)
            self.retry_later(ch, method, body, props, exc)
            return
        except (events.PermanentEventError, ValueError):
            log.exception("malformed or unusable %s event: dead-lettered", self.event)
            ch.basic_nack(method.delivery_tag, requeue=False)
            return
        except Exception:  # noqa: BLE001 - back to the queue; the delivery limit dead-letters it
            log.exception("could not apply a %s event; it will be redelivered", self.event)
            ch.basic_nack(method.delivery_tag, requeue=True)
            self.stop.wait(1)
            return
        ch.basic_ack(method.delivery_tag)

    def retry_later(self, ch, method, body, props, exc):
        """An event that names what has not arrived yet: republished to the queue's retry queue
        through files' exchange (`files.dlx`, declared by the migrate step) with the attempt
        count, then acked: the nameko kit's rule (amqp.failure_route), so it waits at the
        longest back-off for up to EVENT_RETRY_LATER_MAX_S (a day) instead of reaching the
        queue's delivery limit in seconds. If the broker does not take the retry, the delivery
        goes back to the queue (never lost)."""
        import pika
        key, headers, route = failure_route(exc, (props.headers if props else None) or {}, self.queue,
                                            retry_delays_ms(), events.utcnow(), retry_later_max_seconds())
        log.info("%s event waits for what it names (attempt %s, %s): %s", self.event, headers["x-attempt"],
                 route, exc)
        try:
            ch.basic_publish(service_exchange("files"), key, body, pika.BasicProperties(
                delivery_mode=2, content_type="application/json", headers=headers), mandatory=True)
        except Exception:  # noqa: BLE001 - unroutable or refused: keep it on the queue instead
            log.exception("could not republish a %s event for a retry; requeueing it", self.event)
            ch.basic_nack(method.delivery_tag, requeue=True)
            self.stop.wait(1)
            return
        ch.basic_ack(method.delivery_tag)
