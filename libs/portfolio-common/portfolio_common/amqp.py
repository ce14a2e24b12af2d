"""pika publisher with confirms + mandatory, and the topology every service declares at start.

One PikaPublisher per process (it serialises use with a lock and reconnects when the broker
went away). Works in plain threads (files, gateway, tools) and under eventlet (nameko).
"""
import json
import logging
import threading

import pika
from pika.exceptions import AMQPError, UnroutableError, NackError

from . import events
from .config import retry_delays_ms

log = logging.getLogger(__name__)


class PublishFailed(Exception):
    def __init__(self, message, *, unroutable=False):
        super().__init__(message)
        self.unroutable = unroutable


class PikaPublisher:
    def __init__(self, amqp_uri: str, *, connection_name="portfolio"):
        self.amqp_uri = amqp_uri
        self.connection_name = connection_name
        self._lock = threading.Lock()
        self._conn = None
        self._chan = None

    def _channel(self):
        if self._chan is None or self._chan.is_closed or self._conn.is_closed:
            self._close()
            params = pika.URLParameters(self.amqp_uri)
            params.client_properties = {"connection_name": self.connection_name}
            params.connection_attempts = 1
            params.socket_timeout = 5
            params.blocked_connection_timeout = 30
            self._conn = pika.BlockingConnection(params)
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
                mandatory=True):
        """Publish and wait for the broker's confirm. Raises PublishFailed otherwise."""
        data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                     headers=headers or {}, message_id=message_id)
        with self._lock:
            try:
                self._channel().basic_publish(exchange, routing_key, data, props, mandatory=mandatory)
            except UnroutableError as exc:
                raise PublishFailed(f"{exchange}/{routing_key}: no queue is bound: {exc}",
                                    unroutable=True) from exc
            except NackError as exc:
                raise PublishFailed(f"{exchange}/{routing_key}: {exc}") from exc
            except (AMQPError, OSError) as exc:
                self._close()
                raise PublishFailed(f"{exchange}/{routing_key}: broker unavailable: {exc!r}") from exc

    def call(self, fn):
        """Run fn(channel) under the lock (declarations, queue inspection)."""
        with self._lock:
            try:
                return fn(self._channel())
            except (AMQPError, OSError):
                self._close()
                raise

    def close(self):
        with self._lock:
            self._close()


QUORUM = {"x-queue-type": "quorum"}


def retry_queue(queue: str, delay_ms: int) -> str:
    return f"{queue}.retry.{delay_ms}ms"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def all_queues():
    return [events.queue_name(e, s, m, src) for e, src, s, m in events.subscriptions()]


def declare_topology(channel, delays=None):
    """Exchanges, durable quorum handler queues with bindings, retry queues, dead-letter queues.

    Idempotent; every service (and the files service's relay) runs it before publishing or consuming, so no
    event is ever published to an undeclared exchange or an exchange with no bound queue.
    """
    delays = retry_delays_ms() if delays is None else delays
    producers = set(events.PRODUCERS.values()) | {p for ps in events.SHARED_EVENTS.values() for p in ps}
    for producer in sorted(producers):
        channel.exchange_declare(f"{producer}.events", "topic", durable=True)
    for event, source, service, method in events.subscriptions():
        declare_handler_queue(channel, events.exchange_for(event, source), event,
                              events.queue_name(event, service, method, source), delays)


def declare_handler_queue(channel, exchange, routing_key, queue, delays):
    """One handler's durable quorum queue, its binding, its retry queues and its DLQ."""
    channel.queue_declare(queue, durable=True, arguments=QUORUM)
    channel.queue_bind(queue, exchange, routing_key=routing_key)
    channel.queue_declare(dead_letter_queue(queue), durable=True, arguments=QUORUM)
    for d in delays:
        # Messages wait here for `d` ms, then dead-letter straight back to the handler's
        # own queue through the default exchange (not to every subscriber of the event).
        channel.queue_declare(retry_queue(queue, d), durable=True, arguments={
            "x-message-ttl": d, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue})


def main(argv=None):
    import argparse
    from .config import amqp_uri
    p = argparse.ArgumentParser(description="Declare the platform's exchanges and queues")
    p.add_argument("--amqp-uri", default=amqp_uri())
    a = p.parse_args(argv)
    pub = PikaPublisher(a.amqp_uri, connection_name="topology")
    pub.call(declare_topology)
    pub.close()
    print("topology declared")
