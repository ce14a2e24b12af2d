"""pika publisher with confirms + mandatory, and the platform's broker topology.

One PikaPublisher per process (it serialises use with a lock and reconnects when the broker
went away). Works in plain threads (files, gateway, tools) and under eventlet (nameko).

Topology (declared once per vhost by `portfolio-topology`, the broker half of the migrate step,
with the vhost's administrator; services only re-declare the queues they consume, with the
same arguments):

- `nameko-rpc` (topic): RPC requests (`<service>.<method>`) and replies (reply queue's uuid);
- `<producer>.events` (topic): events, routing key = event name;
- `<service>.dlx` (direct): the consuming service's own retry and dead-letter routes. Every
  queue of the service is bound to it under its own name, so a retry or a dead letter needs
  write access to this one exchange only, never to the default exchange (which would reach
  every queue of the vhost by name);
- per subscription: the handler queue `evt-<source>-<event>--<service>.<method>` (quorum), its
  retry queues `<queue>.retry.<ms>ms` (TTL, then back through `<service>.dlx`) and its dead-letter
  queue `<queue>.dlq` (quorum).

Every argument a broker default would otherwise decide is set explicitly (`handler_arguments`,
`dead_letter_arguments`, `retry_arguments`). Changing arguments of an existing queue needs
`portfolio-topology --migrate` (RabbitMQ refuses a redeclaration with other arguments).
"""
import json
import logging
import ssl
import threading

import pika
from pika.exceptions import AMQPError, ChannelClosedByBroker, NackError, UnroutableError

from . import events
from .config import amqp_ssl_options, retry_delays_ms

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"
PERSISTENT, TRANSIENT = 2, 1


class PublishFailed(Exception):
    """`unroutable`: the broker would not take this message (no queue bound, no such exchange,
    not allowed for this user): retrying it at once will not help, the rows behind it must go on."""

    def __init__(self, message, *, unroutable=False):
        super().__init__(message)
        self.unroutable = unroutable


def connection_parameters(amqp_uri: str, *, connection_name="portfolio", ssl_options=None):
    """pika parameters for `amqp_uri`, with TLS from AMQP_SSL (`{"ca_certs": path, ...}`)."""
    params = pika.URLParameters(amqp_uri)
    params.client_properties = {"connection_name": connection_name}
    opts = amqp_ssl_options() if ssl_options is None else ssl_options
    if opts:
        ctx = ssl.create_default_context(cafile=opts.get("ca_certs"))
        if opts.get("certfile"):
            ctx.load_cert_chain(opts["certfile"], opts.get("keyfile"))
        params.ssl_options = pika.SSLOptions(ctx, server_hostname=params.host)
        if params.port == pika.ConnectionParameters.DEFAULT_PORT:
            params.port = pika.ConnectionParameters.DEFAULT_SSL_PORT
    return params


class _ConnectionLost(Exception):
    """The publisher's connection broke under a publish (its cause says how)."""


class PikaPublisher:
    def __init__(self, amqp_uri: str, *, connection_name="portfolio"):
        self.amqp_uri = amqp_uri
        self.connection_name = connection_name
        self._lock = threading.Lock()
        self._conn = None
        self._chan = None

    @property
    def lock(self):
        """The process-wide lock every publish and `call` holds (tests show requests never wait on it)."""
        return self._lock

    def _channel(self):
        if self._conn is None or self._conn.is_closed:
            self._close()
            params = connection_parameters(self.amqp_uri, connection_name=self.connection_name)
            params.connection_attempts = 1
            params.socket_timeout = 5
            params.blocked_connection_timeout = 30
            self._conn = pika.BlockingConnection(params)
        if self._chan is None or self._chan.is_closed:
            self._chan = self._conn.channel()
            self._chan.confirm_delivery()
        return self._chan

    def _close(self):
        try:
            if self._conn is not None and self._conn.is_open:
                self._conn.close()
        except Exception:  # noqa: BLE001 - closing a dead connection
            pass
        self._conn = self._chan = None

    def publish(self, exchange: str, routing_key: str, body, *, headers=None, message_id=None,
                mandatory=True, delivery_mode=PERSISTENT):
        """Publish and wait for the broker's confirm. Raises PublishFailed otherwise.

        A connection that fails on its first use after lying idle (the broker drops a blocking
        connection that has not answered its heartbeats, or restarted meanwhile) is replaced and
        the publish tried once more on a new one at once, rather than the event waiting for the
        relay's next tick; a new connection that fails is the broker's outage. (A retried
        publish the broker had already taken is a duplicate delivery, which every consumer
        absorbs: events are claimed by id.)"""
        data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
        props = pika.BasicProperties(content_type="application/json", delivery_mode=delivery_mode,
                                     headers=headers or {}, message_id=message_id)
        with self._lock:
            reused = self._conn is not None and self._conn.is_open
            try:
                return self._publish_once(exchange, routing_key, data, props, mandatory)
            except _ConnectionLost as exc:
                self._close()
                if not reused:
                    raise PublishFailed(f"{exchange}/{routing_key}: broker unavailable: {exc.__cause__!r}") from exc
                log.info("publisher %s: its idle connection was gone (%r); publishing on a new one",
                         self.connection_name, exc.__cause__)
            try:
                return self._publish_once(exchange, routing_key, data, props, mandatory)
            except _ConnectionLost as exc:
                self._close()
                raise PublishFailed(f"{exchange}/{routing_key}: broker unavailable: {exc.__cause__!r}") from exc

    def _publish_once(self, exchange, routing_key, data, props, mandatory):
        """One publish (connecting first if needed): PublishFailed for the message's own
        refusals, _ConnectionLost when there is no connection or it broke."""
        try:
            chan = self._channel()
            chan.basic_publish(exchange, routing_key, data, props, mandatory=mandatory)
        except UnroutableError as exc:
            raise PublishFailed(f"{exchange}/{routing_key}: no queue is bound: {exc}",
                                unroutable=True) from exc
        except NackError as exc:
            raise PublishFailed(f"{exchange}/{routing_key}: {exc}") from exc
        except ChannelClosedByBroker as exc:
            # 404 no such exchange, 403 not allowed: this message's fault, not the broker's.
            # The connection is fine; the next publish opens a new channel.
            self._chan = None
            raise PublishFailed(f"{exchange}/{routing_key}: refused by the broker: {exc}",
                                unroutable=exc.reply_code in (403, 404)) from exc
        except (AMQPError, OSError) as exc:
            raise _ConnectionLost() from exc

    def call(self, fn):
        """Run fn(channel) under the lock (declarations, queue inspection)."""
        with self._lock:
            try:
                return fn(self._channel())
            except ChannelClosedByBroker:
                self._chan = None
                raise
            except (AMQPError, OSError):
                self._close()
                raise

    def close(self):
        with self._lock:
            self._close()


# ------------------------------------------------------------------ names and arguments

# A message whose handler keeps crashing its consumer (process killed, connection lost before
# the ack) goes to the dead-letter queue after this many deliveries instead of looping (and
# instead of RabbitMQ 4's default of 20, after which a quorum queue silently drops it).
HANDLER_DELIVERY_LIMIT = 10
# Dead letters are read only by the ops tool, which neither nacks nor counts deliveries (see
# dlq.py). RabbitMQ 3.x has no limit unless set, 4.x drops after 20 by default and accepts -1
# for "none" where 3.x would read -1 as "drop at once": so one explicit, effectively infinite
# value that means the same on both.
DEAD_LETTER_DELIVERY_LIMIT = 1_000_000


def service_exchange(service: str) -> str:
    """The consuming service's direct exchange for its retries and dead letters."""
    return f"{service}.dlx"


def retry_queue(queue: str, delay_ms: int) -> str:
    return f"{queue}.retry.{delay_ms}ms"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def failure_route(exc, headers: dict, queue: str, delays: list, now, retry_later_max_s: int):
    """Where a handler's failed message goes next: (routing_key on the service's exchange,
    headers to publish it with, "retry" | "dead"). The one rule of the nameko kit and of files'
    pika consumers (files/sealing.py): a PermanentEventError is dead-lettered at once; any other
    error is retried after each of `delays` (ms), then dead-lettered; a RetryLater (the event
    arrived before the one it depends on, issue 8 item 15: "retried, never dropped") keeps being
    retried at the longest back-off until `retry_later_max_s` after its first failure.
    `headers` are the delivery's (x-attempt, x-first-failed-at are carried); `now` an aware
    datetime."""
    import traceback
    from datetime import datetime

    from .errors import PermanentEventError, RetryLater
    headers = dict(headers or {})
    attempt = int(headers.get("x-attempt", 0)) + 1
    headers["x-attempt"] = attempt
    first = headers.setdefault("x-first-failed-at", now.isoformat())
    waiting = isinstance(exc, RetryLater) and (
        now - datetime.fromisoformat(first)).total_seconds() < retry_later_max_s
    if waiting and attempt > len(delays):
        return retry_queue(queue, delays[-1]), headers, "retry"
    if isinstance(exc, PermanentEventError) or attempt > len(delays):
        headers.update({
            "x-error-type": type(exc).__name__,
            "x-error": "".join(traceback.format_exception_only(type(exc), exc))[-2000:],
            "x-original-queue": queue,
            "x-dead-lettered-at": now.isoformat(),
        })
        return dead_letter_queue(queue), headers, "dead"
    return retry_queue(queue, delays[attempt - 1]), headers, "retry"


def queue_service(queue: str) -> str:
    """`evt-<source>-<event>--<service>.<method>[...]` -> `<service>`."""
    return queue.split("--", 1)[1].split(".", 1)[0]


def handler_arguments(service: str, queue: str) -> dict:
    """Quorum; after HANDLER_DELIVERY_LIMIT deliveries to the service's DLQ, at least once."""
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": HANDLER_DELIVERY_LIMIT,
        "x-dead-letter-exchange": service_exchange(service),
        "x-dead-letter-routing-key": dead_letter_queue(queue),
        # at-least-once dead-lettering (the default, at-most-once, may lose the message);
        # it requires reject-publish overflow (no length limit is set, so nothing is rejected).
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def dead_letter_arguments() -> dict:
    """Quorum, terminal (no dead-letter target: nothing comes after the DLQ), never dropped."""
    return {"x-queue-type": "quorum", "x-delivery-limit": DEAD_LETTER_DELIVERY_LIMIT}


def retry_arguments(service: str, queue: str, delay_ms: int) -> dict:
    """Wait `delay_ms`, then back to the handler's own queue through the service's exchange
    (not to every subscriber of the event, and not through the default exchange)."""
    return {"x-message-ttl": delay_ms, "x-dead-letter-exchange": service_exchange(service),
            "x-dead-letter-routing-key": queue}


def all_queues():
    return [events.queue_name(e, s, m, src) for e, src, s, m in events.subscriptions()]


def producers():
    return sorted(set(events.PRODUCERS.values()) | {p for ps in events.SHARED_EVENTS.values() for p in ps})


def consumers():
    return sorted({s for _, _, s, _ in events.subscriptions()})


def declare_topology(channel, delays=None):
    """Every exchange, handler queue (with bindings), retry queue and dead-letter queue.

    Idempotent; run by the migrate step (`portfolio-topology`) with the vhost's administrator
    before any service starts, so no event is published to an undeclared exchange and no
    service needs the right to declare or delete what others use.
    """
    delays = retry_delays_ms() if delays is None else delays
    channel.exchange_declare(RPC_EXCHANGE, "topic", durable=True)
    for producer in producers():
        channel.exchange_declare(f"{producer}.events", "topic", durable=True)
    for service in consumers():
        channel.exchange_declare(service_exchange(service), "direct", durable=True)
    for event, source, service, method in events.subscriptions():
        declare_handler_queue(channel, events.exchange_for(event, source), event,
                              events.queue_name(event, service, method, source), delays, service)


def declare_handler_queue(channel, exchange, routing_key, queue, delays, service=None):
    """One handler's quorum queue, its bindings, its retry queues and its DLQ."""
    service = service or queue_service(queue)
    sx = service_exchange(service)
    channel.exchange_declare(sx, "direct", durable=True)
    channel.queue_declare(queue, durable=True, arguments=handler_arguments(service, queue))
    channel.queue_bind(queue, exchange, routing_key=routing_key)
    channel.queue_bind(queue, sx, routing_key=queue)
    dlq = dead_letter_queue(queue)
    channel.queue_declare(dlq, durable=True, arguments=dead_letter_arguments())
    channel.queue_bind(dlq, sx, routing_key=dlq)
    for d in delays:
        rq = retry_queue(queue, d)
        channel.queue_declare(rq, durable=True, arguments=retry_arguments(service, queue, d))
        channel.queue_bind(rq, sx, routing_key=rq)


def topology_queues(delays=None):
    """(queue, arguments) of every queue declare_topology declares."""
    delays = retry_delays_ms() if delays is None else delays
    for event, source, service, method in events.subscriptions():
        q = events.queue_name(event, service, method, source)
        yield q, handler_arguments(service, q)
        yield dead_letter_queue(q), dead_letter_arguments()
        for d in delays:
            yield retry_queue(q, d), retry_arguments(service, q, d)


# ------------------------------------------------------------------ upgrading existing queues

def queue_matches(pub: PikaPublisher, queue: str, arguments: dict):
    """True: the queue exists with these arguments; False: it exists with others; None: absent."""
    try:
        pub.call(lambda ch: ch.queue_declare(queue, passive=True))
    except ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            return None
        raise
    try:
        pub.call(lambda ch: ch.queue_declare(queue, durable=True, arguments=arguments))
        return True
    except ChannelClosedByBroker as exc:
        if exc.reply_code == 406:  # PRECONDITION_FAILED: inequivalent arguments
            return False
        raise


def _move_all(pub, source, target_exchange, target_key):
    """Move every message of `source` (properties and headers kept), confirmed before acked."""
    moved = 0
    while True:
        method, props, body = pub.call(lambda ch: ch.basic_get(source, auto_ack=False))
        if method is None:
            return moved
        def republish(ch, props=props, body=body, tag=method.delivery_tag):
            ch.basic_publish(target_exchange, target_key, body, props, mandatory=True)
            ch.basic_ack(tag)
        pub.call(republish)
        moved += 1


def migrate_queues(pub: PikaPublisher, delays=None, log_fn=print):
    """Re-create every platform queue whose arguments differ from today's, keeping its messages.

    RabbitMQ refuses to redeclare a queue with other arguments (406), so a deployment created by
    an earlier version (e.g. handler queues without a delivery limit, retry queues that send
    back through the default exchange) would not start. For each such queue: move its messages
    to a temporary classic queue, delete it, declare it anew with its bindings, move the messages
    back. Run it with the services stopped (the launcher does, and the compose `migrate` one-shot
    runs before the services). Returns the names of the queues it re-created.
    """
    redone = []
    for queue, arguments in topology_queues(delays):
        # A fixed name, so a migration that stopped half-way is finished by the next run.
        temp = f"{queue}.migrating"
        if queue_matches(pub, queue, arguments) is False:
            pub.call(lambda ch: ch.queue_declare(temp, durable=True))
            n = _move_all(pub, queue, "", temp)
            pub.call(lambda ch: ch.queue_delete(queue))
            redone.append(queue)
            log_fn(f"topology: re-creating {queue} with today's arguments ({n} message(s) kept)")
        if queue_matches(pub, temp, {}) is None:
            continue
        pub.call(lambda ch: ch.queue_declare(queue, durable=True, arguments=arguments))
        _move_all(pub, temp, "", queue)
        pub.call(lambda ch: ch.queue_delete(temp, if_empty=True))
    # bindings of the re-created queues (and any that were missing)
    pub.call(lambda ch: declare_topology(ch, delays))
    return redone


def main(argv=None):
    """`portfolio-topology [--migrate]`: declare the platform's exchanges and queues (as the
    vhost's administrator); with --migrate first re-create queues whose arguments changed."""
    import argparse
    from .config import amqp_uri
    p = argparse.ArgumentParser(description="Declare the platform's exchanges and queues")
    p.add_argument("--amqp-uri", default=amqp_uri())
    p.add_argument("--migrate", action="store_true",
                   help="re-create queues whose arguments differ, keeping their messages (services stopped)")
    a = p.parse_args(argv)
    pub = PikaPublisher(a.amqp_uri, connection_name="topology")
    try:
        if a.migrate:
            migrate_queues(pub)
        pub.call(declare_topology)
    finally:
        pub.close()
    print("topology declared")
