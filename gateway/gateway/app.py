"""Gateway app factory: portal pages (zh-TW) and the JSON API, both thin over the services."""
import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from nameko.exceptions import RemoteError
from portfolio_common import trust
from portfolio_common.caller import Signer
from portfolio_common.config import amqp_uri, env, secret
from portfolio_common.errors import PortfolioError

from . import admin, api, auth, inputs, portal, web
from . import calendar_pages, items, national, performances, roster, sealing, sessions, students, transfer
from .errors import ApiError, to_api_error
from .rpc import RpcPool, ServiceUnavailable

log = logging.getLogger("gateway")


def create_app(config=None):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret("GATEWAY_SECRET_KEY"),
        # Only the gateway holds this key: it signs the caller of every call (caller.Signer).
        CALLER_SIGNER=Signer("gateway", secret(trust.signing_key_name("gateway"))),
        # How long a worker trusts accounts' answer about a session (sessions.SessionCache).
        SESSION_CACHE_SECONDS=float(env("SESSION_CACHE_SECONDS", str(sessions.DEFAULT_SECONDS))),
        AMQP_URI=amqp_uri(),
        FILES_URL=env("FILES_URL", "http://127.0.0.1:8081"),
        # The address the browser uses for the files service (a URL, or a path on this origin
        # behind the ingress); the portal's Content-Security-Policy lets pages talk to it.
        FILES_PUBLIC_URL=env("FILES_PUBLIC_URL", ""),
        # How many proxies in front of the gateway append to X-Forwarded-For (0: none, the TCP
        # peer is the client). Never more than there are: the client could then pick its address.
        TRUSTED_PROXY_HOPS=env("TRUSTED_PROXY_HOPS", "0"),
        # The current school year and semester come from the school calendar (schoolcalendar.py);
        # a worker trusts submission's answer for this long.
        CALENDAR_CACHE_SECONDS=float(env("CALENDAR_CACHE_SECONDS", "5")),
        # How long the gateway waits for submission to build a file to download (a national
        # package or transfer package of gigabytes: the bytes then go to files, downloads.py).
        RPC_BUILD_TIMEOUT=float(env("RPC_BUILD_TIMEOUT", "900")),
        # No evidence file passes through the gateway (the browser sends it to files): the
        # largest body here is a 2 MB spreadsheet import with its form around it.
        MAX_CONTENT_LENGTH=int(env("GATEWAY_MAX_BODY_BYTES", str(3 * 1024 * 1024))),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=env("COOKIE_SECURE", "0") == "1",
        API_TITLE="學習歷程檔案 Learning Portfolio API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.config.update(config or {})
    logging.basicConfig(level=logging.INFO)
    web.init_app(app)
    app.before_request(inputs.check_request)  # first: nothing below sees what no one can mean
    RpcPool(app)
    RpcPool(app, extension="rpc_build", timeout_key="RPC_BUILD_TIMEOUT", default_timeout=900)
    app.extensions["sessions"] = sessions.SessionCache(app.config["SESSION_CACHE_SECONDS"])
    api.init_app(app)
    app.register_blueprint(portal.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(roster.bp)
    app.register_blueprint(students.bp)
    app.register_blueprint(items.bp)
    app.register_blueprint(performances.bp)
    app.register_blueprint(calendar_pages.bp)
    app.register_blueprint(national.bp)
    app.register_blueprint(sealing.bp)
    app.register_blueprint(transfer.bp)

    @app.before_request
    def _csrf():
        if request.endpoint in ("api_auth.Token", "portal.healthz", "static") or request.routing_exception is not None:
            return  # no view will run (routing answers 404/405 itself), or a static file: no session needed
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return  # nothing to forge; the view resolves the session itself if it needs one
        try:
            auth.current_user()
        except ApiError:
            pass
        auth.check_csrf()

    @app.context_processor
    def _globals():
        try:
            user = auth.current_user()
        except (ApiError, ServiceUnavailable):
            user = None  # the page (often the 503 page itself) renders without the user's menu
        return {"user": user, "roles": auth.roles(user) if user else set(),
                "csrf_token": auth.csrf_token}

    def _wants_json():
        """A script on a portal address (the upload form's fetch, or a client that sent JSON or
        asked only for JSON) gets the error as JSON with its stable code, not an HTML page."""
        if request.headers.get("X-Requested-With") == "fetch" or request.is_json:
            return True
        best = request.accept_mimetypes.best_match(["text/html", "application/json"])
        return best == "application/json" and request.accept_mimetypes["text/html"] < request.accept_mimetypes[best]

    def handle(exc):
        if isinstance(exc, HTTPException) and not request.path.startswith("/api/") and exc.code == 404:
            err = ApiError("not_found")
        else:
            err = to_api_error(exc)
        if err.code == "internal":
            log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        # a 405 says which methods the address does take (RFC 9110 section 15.5.6)
        headers = {"Allow": ", ".join(sorted(exc.valid_methods))} \
            if isinstance(exc, MethodNotAllowed) and exc.valid_methods else {}
        if request.path.startswith("/api/") or _wants_json():
            return jsonify(err.body()), err.status, headers
        if err.code in ("not_authenticated", "token_invalid", "token_expired"):
            return portal.to_login()
        return render_template("error.html", error=err), err.status, headers

    for exc_type in (ApiError, RemoteError, PortfolioError, ServiceUnavailable, HTTPException, Exception):
        app.register_error_handler(exc_type, handle)
    return app
