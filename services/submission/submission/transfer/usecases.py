"""Transfer use cases (issue 9 item 8): export a student's portfolio as a `portfolio-transfer`
package another school can import (package.py; docs/transfer-package.md).

Who may export: the registrar of the student's tenant (day: 註冊組; ce: 教務組), any student of
the tenant; the student themself, their own only (learner-controlled transfer, DOMAIN.md);
`system` (the platform's tools). Anyone else is refused by the RPC's gate; another tenant's
student or another student's id answers not_found.

Ports passed in (unit tests use fakes):
- directory(student_id=None, student_user_id=None) -> records.transfer_export_fields' answer
  (sealed: it carries the national ID; never logged, never stored here);
- evidence(file_id) -> context manager of a readable stream of the file's bytes (national's
  FilesEvidence.open);
- signer: .sign(manifest), .key_id, .public_key (TransferSigner);
- keep(fh, filename=, content_type=, sha256=, requested_by=, purpose=, subject=) -> {download_id,
  expires_at}: the built package streamed to the files service, kept a day for the one who asked
  (national's FilesDownloads.keep), so no answer carries its bytes whatever its size.
"""
import uuid

from portfolio_common import clock

from ..errors import NotFound
from ..national.rosters import remove_quietly, sha256_of, spooled_package_file
from . import package
from .errors import TransferEvidenceChanged

EXPORT_ROLES = ("registrar", "student", "system")


class TransferSigner:
    """The submission service's Ed25519 key (sealing's ManifestSigner) named for a receiving
    school: key_id `<school code>:submission:<first 16 hex of SHA-256 of the public key>`,
    public_key base64url of the raw 32 bytes."""

    def __init__(self, private_key, school_code):
        import hashlib
        from cryptography.hazmat.primitives import serialization
        from ..sealing.domain import _b64
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.private_key = private_key
        self.public_key = _b64(raw)
        self.key_id = f"{school_code}:submission:{hashlib.sha256(raw).hexdigest()[:16]}"

    @classmethod
    def from_config(cls, school_code):
        from ..sealing.usecases import ManifestSigner
        return cls(ManifestSigner.from_config().private_key, school_code)

    def sign(self, manifest):
        from ..sealing.domain import sign
        return sign(manifest, self.private_key)


def _role(caller) -> str:
    for role in ("registrar", "student", "system"):
        if caller.has(role):
            return role
    return "system"


def _student_arg(value):
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise NotFound("student not found") from None


def export_package(directory, evidence, signer, caller, student_id, school_code, keep) -> dict:
    """Build the transfer package of one student and hand it to `keep` (the files service).

    student_id: the records student id (the registrar names one; a student passes None or their
    own, another's answers not_found exactly like a missing one).
    Returns the package's metadata, none of its bytes: {filename, content_type
    ("application/zip"), size (bytes), sha256 (of the zip), key_id, download_id, expires_at (ISO,
    UTC)}; only the caller gets a download ticket for download_id (files checks it). Errors:
    not_found, transfer_evidence_changed (an evidence file's bytes are not its kept fingerprint:
    nothing is handed out), storage_unavailable (files or S3 did not keep it)."""
    caller.require(*EXPORT_ROLES)
    wanted = _student_arg(student_id)
    role = _role(caller)
    if role == "student":
        export = directory(student_user_id=caller.user_id)
        if wanted is not None and wanted != export["student_id"]:
            raise NotFound("student not found")
    else:
        if wanted is None:
            raise NotFound("student not found")
        export = directory(student_id=wanted)
    origin = {"school_code": school_code, "tenant": caller.tenant}
    name = f"{school_code}-{export['profile']['student_no']}-transfer.zip"
    with spooled_package_file() as fh:
        try:
            try:
                package.build(fh, export, origin=origin, exported_at=clock.now().isoformat(),
                              exported_by=role, evidence=evidence, signer=signer)
            except package.EvidenceMismatch as exc:
                raise TransferEvidenceChanged(str(exc)) from None
            fh.flush()
            size = fh.tell()
            sha = sha256_of(fh)
            kept = keep(fh, filename=name, content_type="application/zip", sha256=sha,
                        requested_by=caller.user_id, purpose="transfer-package", subject=str(export["student_id"]))
        finally:
            remove_quietly(fh.name)
    return {"filename": name, "content_type": "application/zip", "size": size, "sha256": sha,
            "key_id": signer.key_id, "download_id": kept["download_id"], "expires_at": kept["expires_at"]}
