"""Who is calling: the portal cookie or an API bearer token carries a server-side session token
(accounts owns the sessions); the gateway turns it into a signed caller for the services.

The session check is local on most requests (`sessions.SessionCache`: accounts' answer is kept a
few seconds per worker). The caller token is minted per service called (`aud`), signed with the
gateway's Ed25519 key (GATEWAY_SIGNING_KEY), lives 60 s, and is reused for every call to that
service while serving one request (`portfolio_common.caller`).

Other ways in (a school's OpenID Connect single sign-on) end the same way: accounts opens a
session for a verified identity (`sign_in_with_identity`, which answers only the gateway's own
signed identity), and everything after that is unchanged.
"""
import dataclasses
import hmac
import secrets
import time
from functools import wraps

from flask import current_app, g, request, session

from portfolio_common import caller as caller_mod
from portfolio_common.caller import TTL_SECONDS

from .errors import ApiError

TENANT_HEADER = "X-Portfolio-Tenant"


def _rpc():
    return current_app.extensions["rpc"]


def session_token():
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.via_token = True
        return header[7:].strip()
    return session.get("st")


def current_user():
    """The signed-in user with the active tenant, or None. Accounts is asked at most once per
    SESSION_CACHE_SECONDS per session token and worker (sessions.SessionCache).

    An API client picks its tenant with the X-Portfolio-Tenant header; a tenant the user holds
    no role in is refused (403 tenant_not_granted), never replaced by another of the user's
    tenants. Without the header the first of the user's tenants is active; the portal keeps
    the one chosen on the division switch (checked when it was chosen)."""
    if "user_error" in g:
        raise g.user_error
    if "user" in g:
        return g.user
    token = session_token()
    user = None
    if token:
        try:
            found = _resolve_session(token)
        except Exception as exc:  # noqa: BLE001
            from .errors import to_api_error
            err = to_api_error(exc)
            if err.code != "session_invalid":
                raise
            session.pop("st", None)
            if g.get("via_token"):
                raise err from None
        else:
            tenants = sorted({gr["tenant"] for gr in found["grants"]})
            if g.get("via_token"):
                wanted = request.headers.get(TENANT_HEADER, "").strip()
                if wanted and wanted not in tenants:
                    g.user_error = ApiError("tenant_not_granted")
                    raise g.user_error
            else:
                wanted = session.get("tenant")
            found["tenant"] = wanted if wanted in tenants else (tenants[0] if tenants else None)
            user = found
    g.user = user
    return user


def roles(user=None) -> set:
    user = user or current_user()
    if not user:
        return set()
    # platform grants (accounts' platform_roles) hold in every tenant
    return {gr["role"] for gr in user["grants"] if gr["tenant"] == user["tenant"]} | set(user.get("platform_roles") or ())


def _sessions():
    return current_app.extensions["sessions"]


def _resolve_session(token):
    cache = _sessions()
    found = cache.get(token)
    if found is None:
        started = cache.clock()  # the entry's life counts from before the question was asked
        found = _rpc().call("accounts", "resolve_session", token)
        cache.put(token, found, started)
    return found


def sessions_changed(method, args, kwargs=None):
    """What this worker forgets at once after an accounts RPC that ends sessions or changes
    rights succeeded (clients.rpc / rpc_public call it); other workers within the bound."""
    cache = _sessions()
    if method == "sign_out":
        cache.forget_token(args[0])
    elif method == "change_password":          # the user's other sessions end
        user = g.get("user")
        if user:
            cache.forget(user_id=user["user_id"])
        cache.forget_token(args[0])
    elif method == "end_session":
        cache.forget(session_id=args[1])
    elif method == "reset_password":           # every session of that user ends
        cache.forget(username=args[0])
    # rights change: the profiles concerned are asked again (roles, proxies)
    elif method == "import_people" and not (args[1] if len(args) > 1 else (kwargs or {}).get("dry_run")):
        for row in args[0] or ():
            cache.forget(username=row.get("username"))
    elif method == "grant_proxy":
        cache.forget(username=args[1])
    elif method == "revoke_proxy":             # whose delegation it was is not known here
        cache.clear()


def caller_token(audience: str, user=None) -> str:
    """The signed caller for one call to `audience` (a service name); one token per service and
    request, minted again when it has lived half its 60 s (a long upload)."""
    user = user or current_user()
    tokens = g.setdefault("caller_tokens", {})
    key = (audience, user["user_id"], user["tenant"])
    minted = tokens.get(key)
    if minted and time.monotonic() - minted[0] < TTL_SECONDS / 2:
        return minted[1]
    c = caller_mod.Caller(user_id=user["user_id"], username=user["username"], tenant=user["tenant"],
                          roles=tuple(sorted(roles(user))),
                          proxy_for=tuple(user.get("proxy_for", {}).get(user["tenant"], ())),
                          remote_addr=request.remote_addr or "")
    token = current_app.config["CALLER_SIGNER"].mint(c, audience)
    tokens[key] = (time.monotonic(), token)
    return token


def sign_in_with_identity(provider: str, subject: str, kind: str = "portal") -> dict:
    """Open a session for an external identity the gateway has verified (an OpenID Connect ID
    token: signature, issuer, audience, expiry, nonce). Accounts answers only the gateway's own
    signed identity (`system:gateway`), so nothing else on the broker can sign anyone in this way.
    Returns the profile with `session_token`, as a password sign-in does."""
    me = dataclasses.replace(caller_mod.service_caller("gateway"), remote_addr=request.remote_addr or "")
    token = current_app.config["CALLER_SIGNER"].mint(me, "accounts")
    return _rpc().call("accounts", "sign_in_with_identity", token, provider, subject,
                       request.remote_addr, request.user_agent.string, kind)


def login_required(view):
    @wraps(view)
    def wrapper(*a, **kw):
        user = current_user()
        if not user:
            raise ApiError("not_authenticated")
        if user["must_change_password"]:
            raise ApiError("password_change_required")
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
    if request.path.startswith("/api/") and "st" not in session:
        return  # no cookie authenticates this call: nothing to forge; login_required answers 401
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    if not session.get("csrf") or not hmac.compare_digest(sent, session["csrf"]):
        raise ApiError("csrf_failed")
