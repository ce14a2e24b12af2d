"""Error bases. Each carries a stable code; the gateway maps codes to HTTP once.

Errors cross nameko RPC as (exc_type name, message); `code` survives in the message
prefix ``[code] text`` so the gateway can map it without importing service modules.
"""


class PortfolioError(Exception):
    code = "error"
    http_status = 500

    def __init__(self, message="", *, code=None, **details):
        if code:
            self.code = code
        self.details = details
        super().__init__(f"[{self.code}] {message}")
        self.text = message


class NotFound(PortfolioError):
    code = "not_found"
    http_status = 404


class NotAllowed(PortfolioError):
    code = "not_allowed"
    http_status = 403


class NotAuthenticated(PortfolioError):
    code = "not_authenticated"
    http_status = 401


class Invalid(PortfolioError):
    code = "invalid"
    http_status = 422


class Conflict(PortfolioError):
    code = "conflict"
    http_status = 409


class StaleRecord(Conflict):
    """The record changed since the caller read it: they must reload and redo their change
    (a change never silently overwrites another's)."""
    code = "stale_record"


class QuotaExceeded(PortfolioError):
    code = "quota_exceeded"
    http_status = 409


class WindowClosed(PortfolioError):
    code = "window_closed"
    http_status = 409


class PermanentEventError(PortfolioError):
    """A message that can never be handled (malformed): dead-letter at once, no retry."""
    code = "malformed_event"


class RetryLater(PortfolioError):
    """The event cannot be applied yet (it arrived before one it depends on): keep retrying at
    the longest back-off for a long while instead of dead-lettering after a few attempts."""
    code = "retry_later"


def split_remote(message: str):
    """'[code] text' -> (code, text); anything else -> (None, message)."""
    if message and message.startswith("[") and "] " in message:
        code, _, text = message[1:].partition("] ")
        return code, text
    return None, message
