"""Flask adapter of the files service: the browser and API clients send evidence bytes here
directly (the gateway never carries them). Stateless: run N replicas behind the ingress.

HTTP (all answers JSON except the bytes; refusals `{error: {code, message, message_zh}}`):
  POST   /v1/files                one-shot upload: raw body, Authorization, X-Upload-Ticket, X-Filename
  POST   /v1/uploads              tus 1.0.0 creation (Upload-Length, Upload-Metadata: filename)
  HEAD   /v1/uploads/<id>         tus offset
  PATCH  /v1/uploads/<id>         tus append (application/offset+octet-stream)
  DELETE /v1/uploads/<id>         tus termination (the quota slot comes back)
  POST   /v1/files/<id>/unpack    submission: keep an uploaded transfer package's evidence entries as files
  POST   /v1/files/<id>/link      a short-lived download link, after the authorisation check
                                  ({disposition, grant?}: records' read grant for an item's or a performance's proof)
  GET    /v1/files/<id>?exp&d&sig the bytes: streamed, ranged, sandboxed
  POST   /v1/packages             internal: submission deposits a package it built (caller system:submission;
                                  raw body, Content-Length, X-Content-SHA256, X-Requested-By, X-Package-Purpose)
  POST   /v1/downloads/<id>/link  a ticket (60 s, one download) for the person who asked for the package
  GET    /v1/downloads/<id>?ticket the package: streamed from S3, the download logged
  GET    /v1/limits               what may be uploaded in a school year
  GET    /healthz; GET /metrics (Prometheus, multiprocess; bearer FILES_METRICS_TOKEN)
"""
import hmac
import logging
import os
import threading
import time
from urllib.parse import quote, unquote

from flask import Flask, Response, jsonify, request, stream_with_context
from flask_cors import CORS
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest)

from portfolio_common import caller as caller_mod
from portfolio_common import events, trust
from portfolio_common.amqp import PikaPublisher
from portfolio_common.config import amqp_uri, database_url, env, secret
from portfolio_common.db import check_schema_current, make_engine
from portfolio_common.errors import NotAllowed, NotAuthenticated, NotFound, PortfolioError
from portfolio_common.outbox import OutboxRelay, RelayLoop

from . import domain, locked, sealing, usecases
from . import downloads as packages
from .errors import FilesError, TicketMismatch
from .orm import outbox
from .repository import SqlDownloadRepository, SqlFileRepository
from .storage import ObjectStore

log = logging.getLogger("files")
MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")
TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)

# Prometheus, in multiprocess mode under gunicorn (PROMETHEUS_MULTIPROC_DIR, gunicorn_conf.py):
# /metrics of any worker reports the whole replica.
UPLOADS = Counter("files_uploads_total", "Uploads that ended, by kind, result and reason",
                  ["kind", "result", "reason"])
UPLOAD_BYTES = Counter("files_upload_bytes_total", "Bytes of evidence stored", ["kind"])
IN_FLIGHT = Gauge("files_uploads_in_flight", "Upload requests being received now",
                  multiprocess_mode="livesum")
DURATION = Histogram("files_upload_duration_seconds", "Upload request duration, by result",
                     ["result"], buckets=DURATION_BUCKETS)
S3_SECONDS = Histogram("files_s3_request_seconds", "S3 call latency, by operation", ["operation"],
                       buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
OUTBOX_BACKLOG = Gauge("files_outbox_backlog", "Unsent outbox rows: pending (due now) or parked "
                       "(unroutable, waiting for their back-off)", ["state"], multiprocess_mode="max")
OUTBOX_PARKED = Counter("files_outbox_parked_total", "Outbox rows parked because the broker could not route them")
DOWNLOADS = Counter("files_downloads_total", "Downloads served, by status", ["status"])

CORS_HEADERS = ["Authorization", "Content-Type", "X-Upload-Ticket", "X-Filename", "Tus-Resumable",
                "Upload-Length", "Upload-Offset", "Upload-Metadata", "X-Requested-With"]
CORS_EXPOSE = ["Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Tus-Resumable",
               "Tus-Version", "Tus-Extension", "Tus-Max-Size", "X-File-Id", "X-Content-SHA256",
               "Content-Disposition"]


class Relay:
    """The outbox relay of this process: one thread publishes, requests only kick it.

    It publishes right after each commit (the kick) and, as a safety net, every second; a
    broker outage keeps that thread waiting, never a request.
    """

    def __init__(self, engine, uri):
        self.publisher = PikaPublisher(uri, connection_name="files")
        self.relay = OutboxRelay(engine, outbox, self.publisher, on_parked=OUTBOX_PARKED.inc)
        self._gauged_at = float("-inf")
        self.loop = RelayLoop(self.relay, interval=1.0, after_flush=self._update_gauges,
                              name="files-outbox").start()

    GAUGE_EVERY_S = 1.0  # the backlog is counted at most this often (Prometheus scrapes every 15 s)

    def _update_gauges(self):
        # after every flush would be one more query per upload on deadline night; the relay's
        # own tick (every second) still brings a burst's end into the gauge
        now = time.monotonic()
        if now - self._gauged_at < self.GAUGE_EVERY_S:
            return
        self._gauged_at = now
        backlog = self.relay.backlog()
        OUTBOX_BACKLOG.labels(state="pending").set(backlog["pending"])
        OUTBOX_BACKLOG.labels(state="parked").set(backlog["parked"])

    def kick(self):
        self.loop.kick()

    def stop(self):
        self.loop.stop()


def _sweeper(repo, store, every_s, stop, download_repo=None, package_keep_days=None):
    """Ends half-finished uploads past their expiry (bytes deleted, quota slot freed), deletes
    packages kept for download once they are a day old, and the bytes of uploaded transfer
    packages once they are `package_keep_days` old (usecases.purge_old_packages)."""
    purged_at = None   # packages are purged at most once an hour (a scan of stored_files)
    while not stop.wait(every_s):
        try:
            usecases.sweep_expired(repo, store)
        except Exception:  # noqa: BLE001 - next round retries
            log.exception("sweeping expired uploads failed")
        if package_keep_days is not None and (purged_at is None or time.monotonic() - purged_at >= 3600):
            purged_at = time.monotonic()
            try:
                usecases.purge_old_packages(repo, store, package_keep_days)
            except Exception:  # noqa: BLE001 - next round retries
                log.exception("purging old transfer packages failed")
        if download_repo is not None:
            try:
                packages.sweep_expired_downloads(download_repo, store)
            except Exception:  # noqa: BLE001 - next round retries
                log.exception("sweeping expired downloads failed")


def load_config(config=None) -> dict:
    cfg = {
        "DATABASE_URL": database_url("files"),
        "AMQP_URI": amqp_uri(),
        "S3_ENDPOINT": env("S3_ENDPOINT", "127.0.0.1:9000"),
        "S3_ACCESS_KEY": env("S3_ACCESS_KEY"),
        "S3_SECRET_KEY": env("S3_SECRET_KEY"),
        "S3_SECURE": env("S3_SECURE", "0") == "1",
        "S3_VERIFY_TLS": env("S3_VERIFY_TLS", "1") == "1",
        "S3_BUCKET_PREFIX": env("S3_BUCKET_PREFIX", "portfolio"),
        # the issuers' public keys: this service verifies callers for the audience `files` only
        "CALLER_PUBLIC_KEYS": secret(trust.PUBLIC_KEYS),
        "TICKET_KEY": secret("TICKET_KEY"),
        "FILES_LINK_KEY": secret("FILES_LINK_KEY"),
        "FILES_METRICS_TOKEN": env("FILES_METRICS_TOKEN") or _optional_secret("FILES_METRICS_TOKEN"),
        # the portal's origin, answered with CORS when the browser reaches files on another
        # origin (locally); behind the ingress files shares the portal's origin and needs none
        "PORTAL_ORIGIN": env("PORTAL_ORIGIN"),
        "UPLOAD_LIMITS": env("UPLOAD_LIMITS") or _read(env("UPLOAD_LIMITS_FILE")),
        # the largest transfer package (a zip) a registrar may upload for an import, in bytes
        "TRANSFER_MAX_BYTES": int(env("TRANSFER_MAX_BYTES", str(domain.DEFAULT_PACKAGE_MAX_BYTES))),
        "SWEEP_EVERY_S": float(env("FILES_SWEEP_EVERY_S", "30")),
        # days an uploaded transfer package (a national ID inside) is kept for preview and import
        "TRANSFER_PACKAGE_KEEP_DAYS": float(env("TRANSFER_PACKAGE_KEEP_DAYS", "30")),
        # where a one-request upload waits while it is verified (an anonymous file of at most
        # 10 MB per upload in flight; None: TMPDIR, else /tmp): usecases.upload_once
        "SPOOL_DIR": env("FILES_SPOOL_DIR") or None,
        # sealing: consume `sealed` (files/sealing.py) and retain sealed objects this many days
        "SEALED_CONSUMER": env("FILES_SEALED_CONSUMER", "1") != "0",
        "SEALED_RETENTION_DAYS": int(env("FILES_SEALED_RETENTION_DAYS", str(3650))),
        # locked selections: consume `selection-locked` (files/locked.py), legal hold on their files
        "LOCKED_CONSUMER": env("FILES_LOCKED_CONSUMER", "1") != "0",
    }
    cfg.update(config or {})
    return cfg


def _read(path):
    if not path:
        return None
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _optional_secret(name):
    try:
        return secret(name)
    except RuntimeError:
        return None


def create_app(config=None):
    app = Flask(__name__)
    cfg = load_config(config)
    logging.basicConfig(level=logging.INFO)
    engine = make_engine(cfg["DATABASE_URL"])
    # Migrated by the migrate step as the database's owner; this process may only use rows.
    check_schema_current(engine, MIGRATIONS, "files")
    store = ObjectStore(cfg["S3_ENDPOINT"], cfg["S3_ACCESS_KEY"], cfg["S3_SECRET_KEY"],
                        secure=cfg["S3_SECURE"], prefix=cfg["S3_BUCKET_PREFIX"],
                        verify_tls=cfg["S3_VERIFY_TLS"],
                        observe=lambda op, s: S3_SECONDS.labels(operation=op).observe(s))
    limits = domain.Limits.from_config(cfg["UPLOAD_LIMITS"], cfg["TRANSFER_MAX_BYTES"])
    stop = threading.Event()  # set by tests that start many apps in one process
    relay = Relay(engine, cfg["AMQP_URI"])
    threading.Thread(target=lambda: (stop.wait(), relay.stop()), name="relay-stopper", daemon=True).start()
    repo = SqlFileRepository(engine)
    download_repo = SqlDownloadRepository(engine)
    threading.Thread(target=_sweeper, args=(repo, store, cfg["SWEEP_EVERY_S"], stop, download_repo,
                                                     cfg["TRANSFER_PACKAGE_KEEP_DAYS"]),
                     name="sweeper", daemon=True).start()
    sealed_repo = sealing.SqlSealedRepository(engine)
    if cfg["SEALED_CONSUMER"]:
        sealing.SealedConsumer(cfg["AMQP_URI"], lambda env: sealing.record_sealed(
            repo, sealed_repo, store, env, cfg["SEALED_RETENTION_DAYS"]), stop).start()
    if cfg["LOCKED_CONSUMER"]:
        sealing.SealedConsumer(cfg["AMQP_URI"], lambda env: locked.apply_selection_locked(engine, store, env), stop,
                               queue=locked.QUEUE, event=events.SELECTION_LOCKED).start()
    app.extensions["files"] = {"engine": engine, "store": store, "relay": relay, "repo": repo,
                               "downloads": download_repo,
                               "limits": limits, "stop": stop, "sealed": sealed_repo}
    if cfg["PORTAL_ORIGIN"]:
        CORS(app, resources={r"/v1/*": {"origins": [o.strip() for o in cfg["PORTAL_ORIGIN"].split(",")]}},
             allow_headers=CORS_HEADERS, expose_headers=CORS_EXPOSE, supports_credentials=False,
             methods=["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"], max_age=600)

    verifier = caller_mod.Verifier("files", cfg["CALLER_PUBLIC_KEYS"])

    def current_caller():
        """The verified caller: the one place that reads and checks the gateway's token for the
        audience `files` (`Authorization: Bearer` from a browser or API client, or
        `X-Portfolio-Caller` from the gateway itself)."""
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else request.headers.get("X-Portfolio-Caller", "")
        return verifier.verify(token)

    def audit_refusal(exc):
        """Refused calls are audited (accounts keeps the trail) through this service's outbox."""
        refused = isinstance(exc, (NotAllowed, NotAuthenticated, TicketMismatch)) or (
            isinstance(exc, PortfolioError) and exc.details.get("refused"))
        if not refused:
            return
        try:
            who = current_caller()
        except PortfolioError:
            who = None
        repo.add_event(events.make_event(events.ACCESS_REFUSED, who.tenant if who else "unknown", {
            "user_id": who.user_id if who else None, "username": who.username if who else None,
            "roles": list(who.roles) if who else [], "action": f"files.{request.endpoint}",
            "code": exc.code, "remote_addr": (who.remote_addr or None) if who else None,
            "at": events.utcnow()}, producer="files"))
        relay.kick()

    def error_body(exc, status):
        zh = getattr(exc, "zh", None) or {401: "請重新登入。", 404: "找不到資料。"}.get(status, "系統發生錯誤，請稍後再試。")
        en = getattr(exc, "en", None) or getattr(exc, "text", "") or "error"
        details = {k: v for k, v in getattr(exc, "details", {}).items() if k != "refused"}
        return {"error": {"code": getattr(exc, "code", "internal"), "message": en, "message_zh": zh,
                          "detail": getattr(exc, "text", None), **details}}

    @app.errorhandler(PortfolioError)
    def portfolio_error(exc):
        try:
            audit_refusal(exc)
        except Exception:  # noqa: BLE001 - auditing must not change the answer
            log.exception("could not record a refused call")
        status = exc.http_status
        resp = jsonify(error_body(exc, status))
        resp.status_code = status
        if request.path.startswith("/v1/uploads"):
            resp.headers["Tus-Resumable"] = TUS_VERSION
        return resp

    @app.errorhandler(Exception)
    def unexpected(exc):
        from werkzeug.exceptions import HTTPException
        if isinstance(exc, HTTPException):
            if exc.code == 404:   # a path files does not serve: the same answer as any missing thing
                return jsonify(error={"code": "not_found", "message": "Not found.",
                                      "message_zh": "找不到資料。"}), 404
            return jsonify(error={"code": "invalid" if exc.code < 500 else "internal",
                                  "message": exc.description, "message_zh": "輸入資料有誤。"}), exc.code
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(error={"code": "internal", "message": "Internal error.",
                              "message_zh": "系統發生錯誤，請稍後再試。"}), 500

    # ------------------------------------------------------------ uploads

    def _drain(limit=12 * 1024 * 1024):
        """Read what is left of a refused body (bounded), so the client sees the answer instead
        of a reset connection."""
        try:
            left = request.content_length or 0
            if left > limit:
                return False
            while request.stream.read(64 * 1024):
                pass
            return True
        except Exception:  # noqa: BLE001 - the client is gone
            return False

    def timed_upload(kind_of, fn):
        t0 = time.perf_counter()
        IN_FLIGHT.inc()
        kind, result, reason = "unknown", "error", "internal"
        try:
            out = fn()
            kind, result, reason = kind_of(out), "stored", "ok"
            if kind is None:  # a resumable piece, not the end of an upload
                result = "partial"
            return out
        except FilesError as exc:
            result, reason = ("refused" if exc.http_status < 500 else "error"), exc.code
            raise
        except PortfolioError as exc:
            result, reason = "refused", exc.code
            raise
        finally:
            IN_FLIGHT.dec()
            DURATION.labels(result=result).observe(time.perf_counter() - t0)
            if result != "partial":
                UPLOADS.labels(kind=kind, result=result, reason=reason).inc()

    @app.post("/v1/files")
    def upload_once():
        def run():
            caller = current_caller()
            ticket = usecases.check_ticket(caller, request.headers.get("X-Upload-Ticket"), cfg["TICKET_KEY"])
            try:
                status, result = usecases.upload_once(
                    repo, store, limits, caller, ticket, request.stream,
                    unquote(request.headers.get("X-Filename", "")), request.content_length,
                    spool_dir=cfg["SPOOL_DIR"])
            except FilesError as exc:
                if exc.http_status < 500:
                    _drain()
                raise
            finally:
                relay.kick()
            if status == 201:
                UPLOAD_BYTES.labels(kind=result["kind"]).inc(result["size"])
            return status, result
        status, result = timed_upload(lambda out: out[1]["kind"], run)
        return jsonify(result), status

    def tus_headers(resp, row=None):
        resp.headers["Tus-Resumable"] = TUS_VERSION
        if row is not None:
            resp.headers["Upload-Offset"] = str(row["offset"] if row["state"] != "stored" else row["length"])
            resp.headers["Upload-Length"] = str(row["length"])
            resp.headers["Upload-Expires"] = row["expires_at"].strftime("%a, %d %b %Y %H:%M:%S GMT")
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.route("/v1/uploads", methods=["OPTIONS"], provide_automatic_options=False)
    def tus_options():
        resp = Response(status=204)
        resp.headers.update({"Tus-Version": TUS_VERSION, "Tus-Extension": TUS_EXTENSIONS,
                             "Tus-Max-Size": str(limits.for_year(None).largest)})
        return tus_headers(resp)

    @app.post("/v1/uploads")
    def tus_create():
        caller = current_caller()
        ticket = usecases.check_ticket(caller, request.headers.get("X-Upload-Ticket"), cfg["TICKET_KEY"])
        length = request.headers.get("Upload-Length", type=int)
        if length is None or length < 0:
            return _bad_request("Upload-Length is required")
        row = usecases.tus_create(repo, limits, caller, ticket, length, _tus_filename())
        relay.kick()
        resp = Response(status=201)
        # relative, so it resolves under whatever path the ingress serves files on (/files/...)
        resp.headers["Location"] = f"uploads/{row['id']}"
        return tus_headers(resp, row)

    def _tus_filename():
        import base64
        for item in (request.headers.get("Upload-Metadata") or "").split(","):
            key, _, value = item.strip().partition(" ")
            if key == "filename":
                try:
                    return base64.b64decode(value).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    return ""
        return ""

    @app.route("/v1/uploads/<upload_id>", methods=["HEAD"])
    def tus_head(upload_id):
        row = usecases.tus_status(repo, store, current_caller(), upload_id)
        return tus_headers(Response(status=200), row)

    @app.patch("/v1/uploads/<upload_id>")
    def tus_patch(upload_id):
        offset = request.headers.get("Upload-Offset", type=int)
        if offset is None or request.headers.get("Content-Type") != "application/offset+octet-stream":
            return _bad_request("Upload-Offset and Content-Type: application/offset+octet-stream are required")

        def run():
            caller = current_caller()
            try:
                return usecases.tus_patch(repo, store, limits, caller, upload_id, offset, request.stream,
                                          request.content_length)
            except FilesError as exc:
                if exc.http_status < 500:
                    _drain()
                raise
            finally:
                relay.kick()
        row, result = timed_upload(lambda out: out[0]["kind"] if out[1] else None, run)
        resp = tus_headers(Response(status=204), row)
        if result:
            UPLOAD_BYTES.labels(kind=result["kind"]).inc(result["size"])
            resp.headers["X-File-Id"] = result["file_id"]
            resp.headers["X-Content-SHA256"] = result["sha256"]
        return resp

    @app.delete("/v1/uploads/<upload_id>")
    def tus_delete(upload_id):
        usecases.tus_terminate(repo, store, current_caller(), upload_id)
        relay.kick()
        return tus_headers(Response(status=204))

    def _bad_request(text):
        return jsonify(error={"code": "invalid", "message": text, "message_zh": "上傳要求格式不正確。"}), 400

    # ------------------------------------------------------------ downloads

    @app.post("/v1/files/<file_id>/link")
    def link(file_id):
        body = request.get_json(silent=True) or {}
        return jsonify(usecases.download_link(repo, current_caller(), file_id, cfg["FILES_LINK_KEY"],
                                              body.get("disposition", "inline"), grant=body.get("grant"),
                                              grant_key=cfg["TICKET_KEY"]))

    @app.post("/v1/files/<file_id>/unpack")
    def unpack(file_id):
        """submission (system:submission) keeps the evidence entries of an uploaded transfer
        package as files of the student: usecases.unpack_transfer."""
        body = request.get_json(silent=True) or {}
        return jsonify(files=usecases.unpack_transfer(repo, store, current_caller(), file_id, body.get("student_id"),
                                                      body.get("entries"), spool_dir=cfg["SPOOL_DIR"]))

    @app.get("/v1/files/<file_id>")
    def download(file_id):
        disposition = request.args.get("d", "inline")
        row = usecases.check_link(repo, file_id, request.args.get("exp"), disposition,
                                  request.args.get("sig"), cfg["FILES_LINK_KEY"])
        size = row["size"]
        start, stop, status = 0, size, 200
        if request.range is not None:
            rng = request.range.range_for_length(size)
            if rng is None:
                DOWNLOADS.labels(status="416").inc()
                return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
            (start, stop), status = rng, 206
        obj = store.open(row["bucket"], row["key"], row["version_id"], offset=start,
                         length=stop - start if status == 206 else 0)

        def body():
            try:
                yield from obj.stream(64 * 1024)
            finally:
                obj.close()
                obj.release_conn()
        name = row["filename"]
        headers = {
            "Content-Length": str(stop - start), "Accept-Ranges": "bytes",
            "Content-Disposition": f"{disposition}; filename=\"{domain.ascii_fallback(name)}\"; "
                                   f"filename*=UTF-8''{quote(name, safe='')}",
            "X-Content-Type-Options": "nosniff",
            # user files never run anything in the portal's (or anyone's) origin
            "Content-Security-Policy": "sandbox; default-src 'none'; frame-ancestors 'none'",
            "Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store",
            "X-Content-SHA256": row["sha256"],
        }
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        DOWNLOADS.labels(status=str(status)).inc()
        return Response(stream_with_context(body()), status=status, content_type=row["content_type"],
                        headers=headers, direct_passthrough=True)

    # ------------------------------------------------------------ packages built by submission

    @app.post("/v1/packages")
    def deposit_package():
        """Internal (submission): a package it built, streamed in; kept a day for who asked."""
        # a refusal answers before the body is read: the caller (submission) sees it or a closed
        # connection, and keeps nothing either way
        result = packages.store_package(
            download_repo, store, current_caller(), request.stream, request.content_length,
            filename=unquote(request.headers.get("X-Filename", "")),
            content_type=(request.mimetype or ""), sha256=request.headers.get("X-Content-SHA256", ""),
            requested_by=request.headers.get("X-Requested-By"),
            purpose=request.headers.get("X-Package-Purpose", ""),
            subject=unquote(request.headers.get("X-Package-Subject", "")))
        return jsonify(result), 201

    @app.post("/v1/downloads/<download_id>/link")
    def package_link(download_id):
        return jsonify(packages.download_ticket(download_repo, current_caller(), download_id,
                                                cfg["FILES_LINK_KEY"]))

    @app.get("/v1/downloads/<download_id>")
    def package_download(download_id):
        head = request.method == "HEAD"     # a client's look before it downloads: the ticket stays unspent
        row = packages.open_download(download_repo, download_id, request.args.get("ticket"),
                                     cfg["FILES_LINK_KEY"], remote_addr=request.remote_addr, spend=not head)
        obj = None if head else store.open(row["bucket"], row["key"], row["version_id"])

        def body():
            try:
                yield from obj.stream(256 * 1024)
            finally:
                obj.close()
                obj.release_conn()
        name = row["filename"]
        if not head:
            DOWNLOADS.labels(status="200").inc()
            log.info("package %s downloaded by %s (%d bytes)", row["id"], row["requested_by"], row["size"])
        return Response(iter(()) if head else stream_with_context(body()), status=200, content_type=row["content_type"],
                        direct_passthrough=True, headers={
                            "Content-Length": str(row["size"]),
                            "Content-Disposition": f"attachment; filename=\"{domain.ascii_fallback(name)}\"; "
                                                   f"filename*=UTF-8''{quote(name, safe='')}",
                            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                            "Content-Security-Policy": "sandbox; default-src 'none'; frame-ancestors 'none'",
                            "Referrer-Policy": "no-referrer", "X-Content-SHA256": row["sha256"]})

    @app.get("/v1/limits")
    def upload_limits():
        year = request.args.get("school_year", type=int)
        return jsonify(school_year=year, families=limits.for_year(year).describe(),
                       transfer_max_bytes=limits.package_max_bytes)

    # ------------------------------------------------------------ operations

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "time": time.time()}

    @app.get("/metrics")
    def metrics():
        token = cfg["FILES_METRICS_TOKEN"]
        sent = request.headers.get("Authorization", "")[7:]
        if not token or not hmac.compare_digest(sent.encode(), token.encode()):
            return jsonify(error={"code": "not_found", "message": "Not found.", "message_zh": "找不到資料。"}), 404
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            from prometheus_client import REGISTRY as registry
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    return app
