"""Refusals of the transfer package (gateway/gateway/errors.py maps each code to HTTP and zh-TW)."""
from ..errors import Conflict, Invalid


class TransferTooLarge(Invalid):
    """A package too large to hand to the portal in one answer."""
    code = "transfer_package_too_large"


class TransferEvidenceChanged(Conflict):
    """An evidence file's bytes, read for the package, are not the fingerprint the record keeps."""
    code = "transfer_evidence_changed"
