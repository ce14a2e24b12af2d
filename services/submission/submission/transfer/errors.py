"""Refusals of the transfer package (gateway/gateway/errors.py maps each code to HTTP and zh-TW)."""
from ..errors import Conflict


class TransferEvidenceChanged(Conflict):
    """An evidence file's bytes, read for the package, are not the fingerprint the record keeps."""
    code = "transfer_evidence_changed"
