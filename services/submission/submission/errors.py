from portfolio_common.errors import Conflict, Invalid, NotAllowed, NotFound, QuotaExceeded, WindowClosed  # noqa: F401


class SelectionLocked(WindowClosed):
    code = "selection_locked"


class AlreadyLocked(Conflict):
    code = "already_locked"


class SelectionQuotaExceeded(QuotaExceeded):
    code = "selection_quota_exceeded"


class NotSelectable(Invalid):
    code = "not_selectable"
