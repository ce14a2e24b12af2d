from portfolio_common.errors import Conflict, Invalid, NotAllowed, NotFound  # noqa: F401
from portfolio_common.windows import CalendarNotSet  # noqa: F401


class AlreadyDecided(Conflict):
    code = "already_decided"


class NotCertified(Conflict):
    code = "not_certified"


class ReasonRequired(Invalid):
    code = "reason_required"


class ReasonUnknown(Invalid):
    code = "reason_unknown"


class ReturnReasonInvalid(Invalid):
    code = "return_reason_invalid"
