"""Tenant names from accounts' tenant table (`accounts.list_tenants`): tenants are data, so a
tenant added as a row there is named on every page without a change here.

Cached per process for a minute; a code not in the cache refreshes it at once, so a new tenant
works from its first request."""
import logging
import threading
import time

from flask import g

from .clients import rpc_public

log = logging.getLogger("gateway.tenants")
TTL_S = 60.0
_cache = {"at": None, "names": {}}
_lock = threading.Lock()


def names(refresh=False) -> dict:
    """{code: name} of every tenant (e.g. {"day": "日間部", "ce": "進修部"})."""
    now = time.monotonic()
    with _lock:
        if not refresh and _cache["at"] is not None and now - _cache["at"] < TTL_S:
            return dict(_cache["names"])
    try:
        got = {t["code"]: t["name"] for t in rpc_public("accounts", "list_tenants")}
    except Exception:  # noqa: BLE001 - a page still renders (with codes) when accounts is away
        log.warning("could not read the tenants from accounts; using the last known names")
        with _lock:
            return dict(_cache["names"])
    with _lock:
        _cache.update(at=now, names=got)
    return dict(got)


def names_with(*codes) -> dict:
    """names(), refreshed first when one of `codes` is not in it yet (a tenant just added)."""
    n = names()
    if any(c and c not in n for c in codes):
        n = names(refresh=True)
    return n


def name(code) -> str:
    return names_with(code).get(code, code or "")


def for_page() -> dict:
    """The names templates see as TENANT_NAMES (the signed-in user's tenants included)."""
    user = g.get("user") or {}
    codes = {gr["tenant"] for gr in user.get("grants") or []} | {user.get("tenant")}
    return names_with(*codes)
