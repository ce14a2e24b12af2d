"""The platform's one clock (WAVE2 contract): every rule about windows, dates and "today"
reads time here, never from datetime.now().

Tests move time for a whole process with PORTFOLIO_CLOCK_OFFSET_SECONDS (an integer, read at
each call, default 0), so an end-to-end test can restart a stack "five years on".
"""
import datetime as dt
import os
from zoneinfo import ZoneInfo

SCHOOL_TZ = ZoneInfo("Asia/Taipei")


def _offset() -> dt.timedelta:
    try:
        return dt.timedelta(seconds=int(os.environ.get("PORTFOLIO_CLOCK_OFFSET_SECONDS") or 0))
    except ValueError:
        return dt.timedelta(0)


def now() -> dt.datetime:
    """Aware UTC datetime."""
    return dt.datetime.now(dt.timezone.utc) + _offset()


def today_in_school() -> dt.date:
    """Today's date in Asia/Taipei (school dates are Taiwan dates)."""
    return now().astimezone(SCHOOL_TZ).date()
