"""Refusals of the national side (gateway/gateway/errors.py maps each code to HTTP and zh-TW)."""
from ..errors import Conflict, Invalid, NotFound  # noqa: F401


class NotLocked(Conflict):
    code = "not_locked"


class PrecheckFailed(Invalid):
    code = "precheck_failed"


class ReceiptInvalid(Invalid):
    code = "receipt_invalid"


class ReceiptOtherSchool(Invalid):
    code = "receipt_other_school"


class ReceiptOtherBatch(Invalid):
    code = "receipt_other_batch"


class ReceiptAlreadyImported(Conflict):
    code = "receipt_already_imported"


class ReceiptNotImported(Conflict):
    code = "receipt_not_imported"


class ReportInvalid(Invalid):
    code = "report_invalid"


class ReportAlreadyResolved(Conflict):
    code = "report_already_resolved"


class EvidenceChanged(Conflict):
    """An evidence file's bytes, read for the package, do not have its kept fingerprint."""
    code = "evidence_changed"
