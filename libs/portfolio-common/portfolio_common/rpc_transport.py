"""How the platform uses nameko 2.14's RPC on the wire (callers and services alike).

nameko 2.14, read from its source:
- requests (`MethodProxy`) and replies (`Responder`) are published with the `Publisher`
  default `delivery_mode = PERSISTENT` (2);
- a service's request queue `rpc-<service>` is a durable classic queue, and so is every reply
  queue `rpc.reply-<client>-<uuid>` (kombu's Queue defaults to durable; nameko only adds
  `x-expires` of 5 minutes);
- a persistent message on a durable queue is written to the broker's disk. Since RabbitMQ 3.12
  classic queues also write transient messages to disk when they are not consumed at once
  (deleted at the next start, but on disk meanwhile).
- every consumer and the reply listener *declare* the `nameko-rpc` exchange, which needs the
  `configure` permission on it (and that permission also allows deleting it).

`install()` (called by nameko_kit, the gateway, the demo loader and the health check) changes
three things, process-wide and idempotently:
1. RPC requests and replies are transient (delivery_mode 1): nothing of an RPC survives a broker
   restart anyway (the caller has timed out), so persisting it only puts its arguments on disk;
2. `nameko-rpc` is never declared by a client or a service (the migrate step's
   `portfolio-topology` declares it), so no broker user but the administrator may configure it;
3. the bodies of the RPCs in `sealed.SEALED_METHODS` (passwords, national IDs) are sealed to
   the receiving service, and their replies to the caller (see sealed.py): transient delivery
   keeps them off the disk in most cases, sealing in every case.
`rpc_proxy(client=...)` names the reply queue after its client (`rpc.reply-gateway-<uuid>`), so
each broker user's permissions can cover its own reply queues only.
"""
import threading

from kombu import Exchange

from .config import nameko_config

_installed = False
_lock = threading.Lock()


def install():
    global _installed
    with _lock:
        if _installed:
            return
        import nameko.rpc
        from nameko.amqp.publish import Publisher
        from nameko.constants import NON_PERSISTENT
        from nameko.constants import RPC_EXCHANGE_CONFIG_KEY

        from . import sealed

        def get_rpc_exchange(config):
            name = config.get(RPC_EXCHANGE_CONFIG_KEY, "nameko-rpc")
            return Exchange(name, durable=True, type="topic", no_declare=True)

        class TransientPublisher(Publisher):
            delivery_mode = NON_PERSISTENT

        class SealingRequestPublisher(TransientPublisher):
            def publish(self, payload, **kwargs):
                return super().publish(sealed.seal_request(kwargs.get("routing_key"), payload), **kwargs)

        nameko.rpc.get_rpc_exchange = get_rpc_exchange
        nameko.rpc.MethodProxy.publisher_cls = SealingRequestPublisher
        nameko.rpc.Responder.publisher_cls = TransientPublisher
        sealed.install_reply_opener(nameko.rpc)
        _installed = True


def rpc_proxy(*, client: str, uri: str = None, timeout=None, config=None):
    """A standalone ClusterRpcProxy whose reply queue is `rpc.reply-<client>-<uuid>`.

    Use as `with rpc_proxy(client="gateway") as rpc: rpc.accounts.ping()`; `client` must be a
    name the broker user may declare reply queues for (the gateway: "gateway", a service's own
    tools: the service's name, the administrator: anything).
    """
    install()
    from nameko.standalone.rpc import ClusterRpcProxy

    class ClientRpcProxy(ClusterRpcProxy):
        def __init__(self, cfg, **kw):
            super().__init__(cfg, **kw)
            self._worker_ctx.container.service_name = client

    return ClientRpcProxy(config or nameko_config(uri), timeout=timeout)
