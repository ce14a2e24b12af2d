"""A pool of long-lived nameko RPC proxies: one per gateway thread, opened once, reused.

Opening a standalone proxy costs ~17 ms and leaves a reply queue behind; it is not
thread-safe. So each thread keeps its own, and drops it when the broker connection broke.
"""
import logging
import threading

from nameko.exceptions import RemoteError, RpcTimeout

from portfolio_common.config import amqp_ssl_options
from portfolio_common.rpc_transport import rpc_proxy

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    code = "service_unavailable"


class RpcPool:
    """`extension`/`timeout_key`: the pool for ordinary calls is app.extensions["rpc"] (RPC_TIMEOUT,
    30 s); the one for calls that build a file to download (a national package, a transfer
    package: minutes for gigabytes, downloads.py) is app.extensions["rpc_build"]
    (RPC_BUILD_TIMEOUT, 900 s), so one slow build never lengthens every other call's wait."""

    def __init__(self, app=None, *, extension="rpc", timeout_key="RPC_TIMEOUT", default_timeout=30):
        self._local = threading.local()
        self._all = []
        self._lock = threading.Lock()
        self.extension, self.timeout_key, self.default_timeout = extension, timeout_key, default_timeout
        if app is not None:
            self.init_app(app)

    def init_app(self, app):
        self.config = {"AMQP_URI": app.config["AMQP_URI"], "AMQP_SSL": amqp_ssl_options()}
        self.timeout = float(app.config.get(self.timeout_key) or self.default_timeout)
        app.extensions[self.extension] = self

    def _proxy(self):
        proxy = getattr(self._local, "proxy", None)
        if proxy is None:
            # Reply queues rpc.reply-gateway-*: the only ones the gateway's broker user may use.
            ctx = rpc_proxy(client="gateway", config=self.config, timeout=self.timeout)
            proxy = ctx.start()
            self._local.ctx, self._local.proxy = ctx, proxy
            with self._lock:
                self._all.append(ctx)
        return proxy

    def _reset(self):
        ctx = getattr(self._local, "ctx", None)
        self._local.ctx = self._local.proxy = None
        if ctx is not None:
            try:
                ctx.stop()
            except Exception:  # noqa: BLE001 - the connection is already broken
                pass

    def call(self, service, method, *args, **kwargs):
        try:
            return getattr(getattr(self._proxy(), service), method)(*args, **kwargs)
        except RemoteError:
            raise
        except RpcTimeout as exc:
            self._reset()
            raise ServiceUnavailable(f"{service}.{method} timed out") from exc
        except Exception as exc:  # noqa: BLE001 - broker gone: drop this proxy, answer 503
            log.warning("rpc %s.%s failed: %r", service, method, exc)
            self._reset()
            raise ServiceUnavailable(f"{service} unavailable") from exc

    def call_many(self, calls, settled=False):
        """Several RPCs in flight at once on this thread's proxy (each service works on its
        part at the same time), their answers in the order of `calls`: [(service, method, args,
        kwargs)]. Errors as `call`: the first failing answer raises (a RemoteError as is), or
        with `settled` a service's refusal (RemoteError) takes that answer's place in the list
        and the others are still answered (a page part that may be refused on its own)."""
        started = []
        try:
            proxy = self._proxy()
            for service, method, args, kwargs in calls:
                started.append((service, method, getattr(getattr(proxy, service), method).call_async(*args, **kwargs)))
            answers = []
            for _, _, reply in started:
                try:
                    answers.append(reply.result())
                except RemoteError as exc:
                    if not settled:
                        raise
                    answers.append(exc)
            return answers
        except RemoteError:
            raise
        except RpcTimeout as exc:
            self._reset()
            service, method = started[-1][:2] if started else calls[0][:2]
            raise ServiceUnavailable(f"{service}.{method} timed out") from exc
        except Exception as exc:  # noqa: BLE001 - broker gone: drop this proxy, answer 503
            log.warning("rpc %s failed: %r", ", ".join(f"{s}.{m}" for s, m, *_ in calls), exc)
            self._reset()
            raise ServiceUnavailable("service unavailable") from exc

    def close_all(self):
        with self._lock:
            for ctx in self._all:
                try:
                    ctx.stop()
                except Exception:  # noqa: BLE001
                    pass
            self._all.clear()
