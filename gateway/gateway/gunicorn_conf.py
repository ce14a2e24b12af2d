"""gunicorn settings of the gateway: `gunicorn -c python:gateway.gunicorn_conf gateway.app:create_app()`.

- Binds GATEWAY_BIND (default 0.0.0.0:8080; the launcher passes -b for its own port).
- gthread workers (GATEWAY_WORKERS x GATEWAY_THREADS, default 2 x 8): a request waiting on an
  RPC holds a thread; an idle keep-alive connection holds none.
- keepalive is longer than any client that reuses connections to us keeps them idle: the
  ingress (deploy/nginx/ingress.conf, upstream keepalive_timeout 60 s) and API clients. With
  gunicorn's default of 2 s the server closed a connection at the moment a client sent its
  next request on it, and the client saw "Remote end closed connection without response"
  (an nginx ingress answers that with a 502). Rule: this value > the ingress's upstream
  keepalive_timeout (tests/compose/test_keepalive.py holds it).
"""
import os

bind = os.environ.get("GATEWAY_BIND", "0.0.0.0:8080")
worker_class = "gthread"
workers = int(os.environ.get("GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("GATEWAY_THREADS", "8"))
keepalive = 75  # seconds; > nginx upstream keepalive_timeout 60 s


def post_worker_init(worker):
    """Once the app is loaded: keep the objects that live as long as the worker (modules, the
    app, clients) out of every cyclic garbage collection (as files/gunicorn_conf.py does)."""
    import gc
    gc.freeze()
