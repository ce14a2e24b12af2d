from portfolio_common.errors import Conflict, Invalid, NotAllowed, NotFound  # noqa: F401


class AlreadyDecided(Conflict):
    code = "already_decided"


class ReasonRequired(Invalid):
    code = "reason_required"
