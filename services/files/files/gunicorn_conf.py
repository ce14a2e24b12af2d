"""gunicorn settings of the files service: `gunicorn -c python:files.gunicorn_conf files.app:create_app()`.

- Listens on loopback unless told otherwise (FILES_BIND, or -b on the command line): in
  containers compose sets FILES_BIND=0.0.0.0:8081 on the private network only.
- gthread workers: an upload holds a thread while its body arrives; a one-request upload is
  spooled to disk meanwhile and holds its body (≤ 10 MB) in memory once, during its single
  PUT; a resumable PATCH holds one 5 MB S3 part. A worker peaks near 90 MB + 15 MB per thread,
  so 6 threads keep one process under 200 MB (bench/uploads.py, files_peak_rss_mb). Scale out
  with replicas rather than threads.
- Prometheus multiprocess mode: every worker writes its metrics to PROMETHEUS_MULTIPROC_DIR
  (made empty at start, one per replica), so /metrics reports the whole replica.
"""
import os
import shutil
import tempfile

bind = os.environ.get("FILES_BIND", "127.0.0.1:8081")
worker_class = "gthread"
workers = int(os.environ.get("FILES_WORKERS", "2"))
threads = int(os.environ.get("FILES_THREADS", "6"))
timeout = 300            # a 10 MB body from a slow phone
graceful_timeout = 30
keepalive = 75          # seconds; > the ingress's upstream keepalive_timeout 60 s (see gateway/gunicorn_conf.py)


def on_starting(server):
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        path = tempfile.mkdtemp(prefix="files-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Once the app is loaded in a worker: move every object that exists now (modules, the app,
    SQLAlchemy's tables and compiled caches) out of the cyclic garbage collector's reach. They
    live as long as the worker; without this each full collection walked them all again, about
    a tenth of the worker's CPU during an upload burst (perf, docs/benchmarks.md)."""
    import gc
    gc.freeze()
