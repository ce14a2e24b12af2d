"""The current school year and semester, from the school calendar (submission owns it), not
from the environment.

Each gateway worker keeps submission's answer about a tenant's current term for
CALENDAR_CACHE_SECONDS (default 5 s, like the session cache): a page or API call costs no
broker round trip on most requests, and a change of the calendar reaches every worker within
that bound (at once in the worker that saved it). No term holding today is an answer too
(`calendar_not_set`): pages then say 行事曆未設定 instead of failing.
"""
import threading
import time

from flask import current_app

from . import auth
from .clients import rpc
from .errors import ApiError, to_api_error

DEFAULT_SECONDS = 5.0
_lock = threading.Lock()
_cache = {}   # tenant -> (expires at (monotonic), term dict or None)


def current(refresh=False):
    """The signed-in user's tenant's current term (submission.get_calendar's shape), or None
    when the school calendar has no term holding today."""
    user = auth.current_user()
    if not user:
        raise ApiError("not_authenticated")
    tenant = user["tenant"]
    now = time.monotonic()
    with _lock:
        hit = _cache.get(tenant)
    if hit and hit[0] > now and not refresh:
        return hit[1]
    try:
        term = rpc("submission", "get_calendar")
    except Exception as exc:  # noqa: BLE001 - only "not set" is an answer; the rest propagates
        if to_api_error(exc).code != "calendar_not_set":
            raise
        term = None
    with _lock:
        _cache[tenant] = (now + float(current_app.config.get("CALENDAR_CACHE_SECONDS", DEFAULT_SECONDS)), term)
    return term


def forget(tenant=None):
    """Drop the cached term of `tenant` (all when None): the calendar was just changed here."""
    with _lock:
        if tenant is None:
            _cache.clear()
        else:
            _cache.pop(tenant, None)


def term_or_none():
    """(school_year, semester) of the current term, or (None, None)."""
    term = current()
    return (term["school_year"], term["semester"]) if term else (None, None)


def year_semester():
    """(school_year, semester) of the current term; ApiError calendar_not_set (409, 行事曆未設定)."""
    year, semester = term_or_none()
    if year is None:
        raise ApiError("calendar_not_set")
    return year, semester
