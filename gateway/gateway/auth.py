"""Who is calling: portal session cookie or API bearer token -> a signed caller for services.

The plain demo sign-in of the foundation; the accounts capability (lockout, server-side
sessions, SSO) builds on the same `current_user()` seam.
"""
import hmac
import secrets
from functools import wraps

from flask import current_app, g, request, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portfolio_common import caller as caller_mod

from .errors import ApiError

TOKEN_MAX_AGE = 8 * 3600


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token")


def make_user(auth: dict, tenant=None) -> dict:
    tenants = sorted({gr["tenant"] for gr in auth["grants"]})
    tenant = tenant if tenant in tenants else (tenants[0] if tenants else None)
    return {"user_id": auth["user_id"], "username": auth["username"],
            "display_name": auth["display_name"], "grants": auth["grants"], "tenant": tenant}


def issue_token(user: dict) -> str:
    return _serializer().dumps(user)


def current_user():
    if "user" in g:
        return g.user
    user = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        try:
            user = _serializer().loads(header[7:], max_age=TOKEN_MAX_AGE)
        except SignatureExpired:
            raise ApiError("token_expired") from None
        except BadSignature:
            raise ApiError("token_invalid") from None
        g.via_token = True
    elif "user" in session:
        user = session["user"]
    g.user = user
    return user


def roles(user=None) -> set:
    user = user or current_user()
    if not user:
        return set()
    return {gr["role"] for gr in user["grants"] if gr["tenant"] == user["tenant"]}


def caller_token(user=None) -> str:
    user = user or current_user()
    c = caller_mod.Caller(user_id=user["user_id"], username=user["username"], tenant=user["tenant"],
                          roles=tuple(sorted(roles(user))))
    return caller_mod.encode(c, current_app.config["CALLER_KEY"])


def login_required(view):
    @wraps(view)
    def wrapper(*a, **kw):
        if not current_user():
            raise ApiError("not_authenticated")
        return view(*a, **kw)
    return wrapper


# ---------------------------------------------------------------- CSRF for portal forms

def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf():
    """Every state-changing portal request carries the session's token (form field or header).
    API calls with a bearer token carry no cookie, so they are not exposed to CSRF."""
    if request.method in ("GET", "HEAD", "OPTIONS") or g.get("via_token"):
        return
    if request.path.startswith("/api/") and "user" not in session:
        return  # no cookie authenticates this call: nothing to forge; login_required answers 401
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    if not session.get("csrf") or not hmac.compare_digest(sent, session["csrf"]):
        raise ApiError("csrf_failed")
