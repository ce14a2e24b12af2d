from portfolio_common.errors import Conflict, Invalid, NotAllowed, NotFound, QuotaExceeded  # noqa: F401


class NotEnrolled(NotAllowed):
    code = "not_enrolled"


class DescriptionInvalid(Invalid):
    code = "description_invalid"


class NationalIdInvalid(Invalid):
    code = "national_id_invalid"


class OutcomeQuotaExceeded(QuotaExceeded):
    code = "outcome_quota_exceeded"


class IdempotencyKeyReused(Conflict):
    """An upload key sent again for a different upload (section, term or 簡述)."""
    code = "idempotency_key_reused"
