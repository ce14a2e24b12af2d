from portfolio_common.errors import Conflict, Invalid, NotAllowed, NotFound, QuotaExceeded, StaleRecord  # noqa: F401


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


class FieldsInvalid(Invalid):
    """One or more fields refused: problems [{field, code, params}] for the form. They travel in
    the message as JSON (nameko carries only the message across RPC); codes and field names
    only, never a value typed into a field."""
    code = "fields_invalid"

    def __init__(self, message="", *, problems=(), **details):
        import json
        problems = [dict(p) for p in problems]
        super().__init__(json.dumps(problems, ensure_ascii=False, default=str), problems=problems, **details)


class OutcomeNotReturned(Conflict):
    """A re-upload asked for an outcome that is not returned (only a returned outcome may be
    uploaded again by its student)."""
    code = "outcome_not_returned"


class SlotInvalid(Invalid):
    """An upload ticket asked for a slot an outcome does not have (document | media)."""
    code = "slot_invalid"
