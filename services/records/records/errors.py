from portfolio_common.errors import Invalid, NotAllowed, NotFound, QuotaExceeded  # noqa: F401


class NotEnrolled(NotAllowed):
    code = "not_enrolled"


class DescriptionInvalid(Invalid):
    code = "description_invalid"


class NationalIdInvalid(Invalid):
    code = "national_id_invalid"


class OutcomeQuotaExceeded(QuotaExceeded):
    code = "outcome_quota_exceeded"
