"""nameko adapters of the messaging kit: a reliable event handler and the platform dependency.

Import only from nameko services (it imports nameko).
"""
import logging
import threading

from functools import partial

from kombu import Exchange
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER, \
    LOGIN_METHOD_CONFIG_KEY, SERIALIZER_CONFIG_KEY
from nameko.events import EventHandler
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
import nameko.rpc as nameko_rpc
from nameko.rpc import Responder, Rpc, RpcConsumer

import amqp.exceptions
import eventlet
import kombu.exceptions

from . import caller as caller_mod
from . import rpc_transport, sealed, trust
from .amqp import PikaPublisher, dead_letter_queue, failure_route, handler_arguments, service_exchange
from .config import amqp_uri as default_amqp_uri, batch_prefetch, batch_size, batch_wait_ms, database_url, \
    retry_delays_ms, retry_later_max_seconds, secret
from .db import check_schema_current, make_engine, make_session_factory
from .errors import NotAllowed, NotAuthenticated, NotFound, PermanentEventError, RetryLater
from .events import utcnow
from .outbox import OutboxRelay, RelayLoop

# Transient RPC messages, no declaration of nameko-rpc, sealed bodies (rpc_transport.py).
rpc_transport.install()

log = logging.getLogger(__name__)

_publishers = {}
_publishers_lock = threading.Lock()


def shared_publisher(uri: str, name: str) -> PikaPublisher:
    with _publishers_lock:
        if uri not in _publishers:
            _publishers[uri] = PikaPublisher(uri, connection_name=name)
        return _publishers[uri]


# What a lost broker connection raises while acking or replying.
BROKEN_CONNECTION = (amqp.exceptions.ConnectionError, kombu.exceptions.OperationalError, OSError)


class SafeQueueConsumer(QueueConsumer):
    """nameko 2.14 lets a ConnectionResetError from acking on a dead channel escape, which
    kills the container and the process. The broker redelivers an unacked message anyway, so
    the only right thing is to log and go on; the consumer reconnects by itself."""

    def ack_message(self, message):
        try:
            super().ack_message(message)
        except BROKEN_CONNECTION as exc:
            log.warning("ack lost with the broker connection (it will be redelivered): %r", exc)

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except BROKEN_CONNECTION as exc:
            log.warning("requeue lost with the broker connection (it will be redelivered): %r", exc)


def _sealing_responder(reply_key):
    """nameko's Responder whose publisher seals the answer to the caller's reply key."""
    base = Responder.publisher_cls

    class SealingPublisher(base):
        def publish(self, payload, **kwargs):
            return super().publish(sealed.seal_reply(reply_key, payload), **kwargs)

    class SealingResponder(Responder):
        publisher_cls = SealingPublisher

    return SealingResponder


class SafeRpcConsumer(RpcConsumer):
    queue_consumer = SafeQueueConsumer()

    def handle_result(self, message, result, exc_info):
        try:
            return self._reply(message, result, exc_info)
        except BROKEN_CONNECTION as exc:
            # The reply could not be sent: the caller times out or retries; the request, not
            # acked, is redelivered. Use cases that must not run twice are idempotent.
            log.warning("rpc reply lost with the broker connection: %r", exc)
            return result, exc_info


    def _reply(self, message, result, exc_info):
        # nameko's RpcConsumer.handle_result, with the answer sealed when the request was.
        config = self.container.config
        reply_key = getattr(message, "portfolio_reply_key", None)
        responder_cls = Responder if reply_key is None else _sealing_responder(reply_key)
        responder = responder_cls(
            config[AMQP_URI_CONFIG_KEY], nameko_rpc.get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class SafeRpc(Rpc):
    """nameko's Rpc entrypoint that opens sealed requests (sealed.py) and refuses a request
    for a sealed method that came in the clear."""

    rpc_consumer = SafeRpcConsumer()

    def handle_message(self, body, message):
        method = f"{self.container.service_name}.{self.method_name}"
        body, reply_key = sealed.open_request(method, body)
        if reply_key is not None:
            message.portfolio_reply_key = reply_key
        return super().handle_message(body, message)


rpc = SafeRpc.decorator


class ReliableQueueConsumer(SafeQueueConsumer):
    """nameko's shared consumer, plus: a body that cannot even be decoded (not JSON, wrong
    content type) is dead-lettered with the error instead of being dropped by kombu."""

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = partial(self._dead_letter_undecodable, provider)
        return consumers

    def _dead_letter_undecodable(self, provider, message, exc):
        queue = provider.queue.name
        headers = dict(message.headers or {})
        headers.update({"x-error-type": type(exc).__name__, "x-error": str(exc)[-2000:],
                        "x-original-queue": queue, "x-dead-lettered-at": utcnow().isoformat(),
                        "x-content-type": message.content_type or ""})
        uri = self.container.config.get("AMQP_URI") or default_amqp_uri()
        try:
            shared_publisher(uri, self.container.service_name).publish(
                service_exchange(self.container.service_name), dead_letter_queue(queue),
                message.body, headers=headers)
        except Exception:  # noqa: BLE001 - keep it rather than lose it
            log.exception("could not dead-letter an undecodable message; requeueing it")
            message.requeue()
            return
        log.error("dead-lettered an undecodable message from %s: %r", queue, exc)
        message.ack()


class ReliableEventHandler(EventHandler):
    """nameko EventHandler on a durable quorum queue, with retry + dead-letter.

    nameko acks a handler that raised (the message is lost). Here a failure is republished
    to the queue's retry queue (TTL = back-off, then back to this queue) with an attempt
    count; after the last attempt, or at once for a malformed message, it goes to the
    queue's dead-letter queue with the error. Only then is the original delivery acked.
    If even that republish fails (broker gone), the delivery is requeued instead.
    """

    queue_consumer = ReliableQueueConsumer()

    def setup(self):
        super().setup()
        # The arguments portfolio-topology declared (a mismatch is refused by the broker), and
        # the source's exchange is not declared here: that needs the right to configure (and
        # so to delete) another service's exchange, which no service has.
        self.queue.queue_arguments = handler_arguments(self.container.service_name, self.queue.name)
        self.queue.exchange = Exchange(self.queue.exchange.name, type="topic", durable=True,
                                       no_declare=True)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None:
            try:
                self._retry_or_dead_letter(message, exc_info)
            except Exception:  # noqa: BLE001 - keep the message rather than lose it
                log.exception("could not republish failed message; requeueing it")
                self.queue_consumer.requeue_message(message)
                return
        self.queue_consumer.ack_message(message)

    def _retry_or_dead_letter(self, message, exc_info):
        exc = exc_info[1]
        queue = self.queue.name
        uri = self.container.config.get("AMQP_URI") or default_amqp_uri()
        pub = shared_publisher(uri, self.container.service_name)
        own = service_exchange(self.container.service_name)
        key, headers, route = failure_route(exc, message.headers or {}, queue, retry_delays_ms(), utcnow(),
                                            retry_later_max_seconds())
        attempt = headers["x-attempt"]
        if route == "dead":
            log.error("dead-lettering message from %s after %s attempt(s): %r", queue, attempt, exc)
        elif isinstance(exc, RetryLater):
            log.info("event on %s waits for another event (attempt %s): %s", queue, attempt, exc)
        else:
            log.warning("handler on %s failed (attempt %s), retrying: %r", queue, attempt, exc)
        pub.publish(own, key, message.body, headers=headers)


reliable_event_handler = ReliableEventHandler.decorator


class BatchQueueConsumer(ReliableQueueConsumer):
    """The consumer of the batching handlers: its own connection, with a prefetch of
    EVENT_BATCH_PREFETCH (default 2 x EVENT_BATCH_SIZE) per queue instead of max_workers, so
    a backlog arrives fast enough to fill batches."""

    @property
    def prefetch_count(self):
        return batch_prefetch()


class BatchEventHandler(ReliableEventHandler):
    """ReliableEventHandler whose service method takes a *list* of bodies: up to
    EVENT_BATCH_SIZE (default 100) deliveries, or what arrived within EVENT_BATCH_WAIT_MS
    (default 20) of the first, handled by one worker so the method can apply them in one
    transaction (claims included: uow.claim_many). The list is in delivery order.

    Same guarantees as ReliableEventHandler, per event: a batch that succeeds is acked; a
    batch that raises is applied again one event at a time (each in its own worker, a list of
    one), and only an event that fails *alone* is retried or dead-lettered, with its own
    attempt count. So a poison or malformed event never takes its batch with it, and the
    method must be idempotent (it is: claims roll back with the failed batch).

    Use it where a backlog of one event kind must be absorbed fast (certification's
    `outcome-uploaded`: issue 10, docs/benchmarks.md); the queue and its topology are the
    same as ReliableEventHandler's.
    """

    queue_consumer = BatchQueueConsumer()

    def setup(self):
        super().setup()
        self._buffer = []
        self._timer = None

    def handle_message(self, body, message):
        # called in its own green thread per delivery (QueueConsumer.handle_message): no yield
        # between the append and the size check, so the buffer needs no lock under eventlet
        self._buffer.append((body, message))
        if len(self._buffer) >= batch_size():
            self._flush()
        elif self._timer is None:
            self._timer = self.container.spawn_managed_thread(self._flush_soon)

    def _flush_soon(self):
        eventlet.sleep(batch_wait_ms() / 1000)
        self._timer = None
        self._flush()

    def _flush(self):
        batch, self._buffer = self._buffer, []
        if batch:
            self._spawn(batch)

    def _spawn(self, batch):
        messages = [m for _, m in batch]
        try:
            self.container.spawn_worker(
                self, ([b for b, _ in batch],), {}, context_data=self.unpack_message_headers(messages[0]),
                handle_result=partial(self._batch_result, batch))
        except ContainerBeingKilled:
            for m in messages:
                self.queue_consumer.requeue_message(m)

    def _batch_result(self, batch, worker_ctx, result=None, exc_info=None):
        if exc_info is None or len(batch) == 1:
            for _, message in batch:
                self.handle_message_processed(message, result, exc_info)
            return result, exc_info
        log.warning("batch of %d on %s failed (%r): applying its events one by one",
                    len(batch), self.queue.name, exc_info[1])
        # not from this worker: it holds a pool slot the single workers may need
        self.container.spawn_managed_thread(lambda: [self._spawn([one]) for one in batch])
        return result, exc_info


batch_event_handler = BatchEventHandler.decorator


class PlatformAccess:
    def __init__(self, provider, worker_ctx):
        self._p = provider
        self._worker_ctx = worker_ctx
        self.session_factory = provider.session_factory
        self.engine = provider.engine

    def caller(self, token):
        """The verified caller of a token meant for this service (NotAuthenticated otherwise)."""
        return self._p.verifier.verify(token)

    def own_caller_token(self, audience, tenant=caller_mod.ANY_TENANT):
        """A token for this service acting on its own (role `system:<service>`, trust map), for
        a call it makes to `audience`. Needs `<SERVICE>_SIGNING_KEY`."""
        return self._p.signer().mint(caller_mod.service_caller(self._p.service, tenant), audience)

    def session(self):
        return self.session_factory()

    def events_written(self):
        """Tell the platform this worker committed outbox rows: publish them right away."""
        self._p.flush_after(self._worker_ctx)

    def flush(self):
        """Wake the relay (the services' timers call this as the safety net); never waits."""
        self._p.loop.kick()

    def outbox_backlog(self):
        """{"pending", "parked", "oldest_s"} of this service's outbox (see outbox.py)."""
        return self._p.relay.backlog()


class Platform(DependencyProvider):
    """Per-service database (its runtime role; the schema must be at head), outbox relay, and the
    verifier of caller tokens (the issuers' public keys, this service as the audience).

    The service neither creates nor migrates its database, nor declares the broker topology:
    the migrate step does both with the owner role and the vhost's administrator
    (`python -m portfolio_common.migrate`), so the running service needs neither right.
    """

    def __init__(self, service: str, script_location: str, outbox_table):
        self.service = service
        self.script_location = script_location
        self.outbox_table = outbox_table
        self._flush_requested = set()

    def setup(self):
        config = self.container.config
        url = config.get("DATABASE_URL") or database_url(self.service)
        self.engine = make_engine(url)
        check_schema_current(self.engine, self.script_location, self.service)
        self.session_factory = make_session_factory(self.engine)
        uri = config.get("AMQP_URI") or default_amqp_uri()
        publisher = PikaPublisher(uri, connection_name=f"{self.service}-outbox")
        self.relay = OutboxRelay(self.engine, self.outbox_table, publisher)
        self.loop = RelayLoop(self.relay, interval=1.0, name=f"{self.service}-outbox")
        self.verifier = caller_mod.Verifier(self.service, secret(trust.PUBLIC_KEYS))
        self._signer = None

    def signer(self):
        # Read when first needed: a service that never acts on its own needs no private key.
        if self._signer is None:
            self._signer = caller_mod.Signer.from_config(self.service)
        return self._signer

    def start(self):
        # One green thread publishes; workers only kick it (never wait on the publisher lock).
        self.loop.start(spawn=self.container.spawn_managed_thread)

    def get_dependency(self, worker_ctx):
        return PlatformAccess(self, worker_ctx)

    def flush_after(self, worker_ctx):
        self._flush_requested.add(worker_ctx.call_id)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        """Every refused call is audited: a missing right, a bad caller token, or another's
        item answered as not found (flagged `refused` by the use case)."""
        if exc_info is None:
            return
        exc = exc_info[1]
        refused = isinstance(exc, (NotAllowed, NotAuthenticated)) or (
            isinstance(exc, NotFound) and getattr(exc, "details", {}).get("refused"))
        if not refused:
            return
        caller = None
        if worker_ctx.args:
            try:
                caller = self.caller_of(worker_ctx.args[0])
            except Exception:  # noqa: BLE001 - a forged or expired token: audited as unknown
                caller = None
        try:
            self.record_refusal(caller, f"{self.service}.{worker_ctx.entrypoint.method_name}", exc.code)
        except Exception:  # noqa: BLE001 - auditing must not change the answer
            log.exception("could not record a refused call")

    def caller_of(self, token):
        return token if isinstance(token, caller_mod.Caller) else self.verifier.verify(token)

    def record_refusal(self, caller, action, code):
        from .db import add_outbox_event
        from .events import ACCESS_REFUSED, make_event
        env = make_event(ACCESS_REFUSED, caller.tenant if caller else "unknown", {
            "user_id": caller.user_id if caller else None, "username": caller.username if caller else None,
            "roles": list(caller.roles) if caller else [], "action": action, "code": code,
            "remote_addr": (caller.remote_addr or None) if caller else None, "at": utcnow()},
            producer=self.service)
        with self.engine.begin() as conn:
            add_outbox_event(conn, self.outbox_table, env)
        self.loop.kick()

    def worker_teardown(self, worker_ctx):
        if worker_ctx.call_id in self._flush_requested:
            self._flush_requested.discard(worker_ctx.call_id)
            self.loop.kick()

    def stop(self):
        self.loop.stop()
        self.relay.publisher.close()
        self.engine.dispose()
