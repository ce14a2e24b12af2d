"""Flask adapter of the files service (stateless; run N replicas behind the gateway)."""
import logging
import os
import time
from urllib.parse import quote, unquote

from flask import Flask, Response, jsonify, request, stream_with_context
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest

from portfolio_common import caller as caller_mod
from portfolio_common import trust
from portfolio_common.amqp import PikaPublisher
from portfolio_common.config import amqp_uri, database_url, env, secret
from portfolio_common.db import add_outbox_event, check_schema_current, make_engine
from portfolio_common import events
from portfolio_common.errors import NotAllowed, NotAuthenticated, NotFound, PortfolioError
from portfolio_common.outbox import OutboxRelay, RelayLoop

from . import usecases
from .orm import outbox
from .repository import SqlFileRepository
from .storage import ObjectStore

log = logging.getLogger("files")
MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")
UPLOADS = Counter("files_uploads_total", "Outcome uploads by result", ["result"])


OUTBOX_BACKLOG = Gauge("files_outbox_backlog", "Unsent outbox rows: pending (due now) or parked "
                       "(unroutable, waiting for their back-off)", ["state"])
OUTBOX_PARKED = Counter("files_outbox_parked_total", "Outbox rows parked because the broker could not route them")


class Relay:
    """The outbox relay of this process: one thread publishes, requests only kick it.

    It publishes right after each commit (the kick) and, as a safety net, every second; a
    broker outage keeps that thread waiting, never a request.
    """

    def __init__(self, engine, uri):
        self.publisher = PikaPublisher(uri, connection_name="files")
        self.relay = OutboxRelay(engine, outbox, self.publisher, on_parked=OUTBOX_PARKED.inc)
        self.loop = RelayLoop(self.relay, interval=1.0, after_flush=self._update_gauges,
                              name="files-outbox").start()

    def _update_gauges(self):
        backlog = self.relay.backlog()
        OUTBOX_BACKLOG.labels(state="pending").set(backlog["pending"])
        OUTBOX_BACKLOG.labels(state="parked").set(backlog["parked"])

    def kick(self):
        self.loop.kick()


def create_app(config=None):
    app = Flask(__name__)
    cfg = {
        "DATABASE_URL": database_url("files"),
        "AMQP_URI": amqp_uri(),
        "S3_ENDPOINT": env("S3_ENDPOINT", "127.0.0.1:9000"),
        "S3_ACCESS_KEY": env("S3_ACCESS_KEY", "minioadmin"),
        "S3_SECRET_KEY": env("S3_SECRET_KEY", "minioadmin"),
        "S3_SECURE": env("S3_SECURE", "0") == "1",
        "S3_VERIFY_TLS": env("S3_VERIFY_TLS", "1") == "1",
        "S3_BUCKET_PREFIX": env("S3_BUCKET_PREFIX", "portfolio"),
        # the issuers' public keys: this service verifies callers for the audience `files` only
        "CALLER_PUBLIC_KEYS": secret(trust.PUBLIC_KEYS),
        "TICKET_KEY": secret("TICKET_KEY"),
    }
    cfg.update(config or {})
    logging.basicConfig(level=logging.INFO)
    engine = make_engine(cfg["DATABASE_URL"])
    # Migrated by the migrate step as the database's owner; this process may only use rows.
    check_schema_current(engine, MIGRATIONS, "files")
    store = ObjectStore(cfg["S3_ENDPOINT"], cfg["S3_ACCESS_KEY"], cfg["S3_SECRET_KEY"],
                        secure=cfg["S3_SECURE"], prefix=cfg["S3_BUCKET_PREFIX"],
                        verify_tls=cfg["S3_VERIFY_TLS"])
    relay = Relay(engine, cfg["AMQP_URI"])
    repo = SqlFileRepository(engine)
    app.extensions["files"] = {"engine": engine, "store": store, "relay": relay}

    verifier = caller_mod.Verifier("files", cfg["CALLER_PUBLIC_KEYS"])

    def current_caller():
        return verifier.verify(request.headers.get("X-Portfolio-Caller", ""))

    def audit_refusal(exc):
        """Refused calls are audited (accounts keeps the trail) through this service's outbox."""
        refused = isinstance(exc, (NotAllowed, NotAuthenticated)) or exc.code == "ticket_mismatch" or (
            isinstance(exc, NotFound) and exc.details.get("refused"))
        if not refused:
            return
        try:
            who = current_caller()
        except PortfolioError:
            who = None
        env = events.make_event(events.ACCESS_REFUSED, who.tenant if who else "unknown", {
            "user_id": who.user_id if who else None, "username": who.username if who else None,
            "roles": list(who.roles) if who else [], "action": f"files.{request.endpoint}",
            "code": exc.code, "remote_addr": (who.remote_addr or None) if who else None,
            "at": events.utcnow()}, producer="files")
        with engine.begin() as conn:
            add_outbox_event(conn, outbox, env)
        relay.kick()

    @app.errorhandler(PortfolioError)
    def portfolio_error(exc):
        try:
            audit_refusal(exc)
        except Exception:  # noqa: BLE001 - auditing must not change the answer
            log.exception("could not record a refused call")
        details = {k: v for k, v in exc.details.items() if k != "refused"}
        return jsonify(error={"code": exc.code, "message": exc.text, **details}), exc.http_status

    @app.post("/v1/outcome-files")
    def upload_outcome():
        caller = current_caller()
        ticket = usecases.check_ticket(caller, request.headers.get("X-Upload-Ticket"), cfg["TICKET_KEY"])
        try:
            result = usecases.upload_outcome(
                repo, store, caller, ticket, request.stream,
                unquote(request.headers.get("X-Filename", "")), request.content_length)
        except PortfolioError as exc:
            UPLOADS.labels(result=exc.code).inc()
            raise
        UPLOADS.labels(result="stored").inc()
        relay.kick()  # never flush here: a broker outage must not hold the upload's answer
        return jsonify(result), 201

    @app.get("/v1/files/<file_id>")
    def download(file_id):
        row = usecases.find_for_download(repo, current_caller(), file_id)
        obj = store.open(row["bucket"], row["key"], row["version_id"])

        def body():
            try:
                yield from obj.stream(64 * 1024)
            finally:
                obj.close()
                obj.release_conn()
        return Response(stream_with_context(body()), content_type=row["content_type"], headers={
            "Content-Length": str(row["size"]), "X-Content-SHA256": row["sha256"],
            "X-Filename": quote(row["filename"])})

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "time": time.time()}

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    return app
