"""Sealing rules and the sealing manifest, free of frameworks and I/O."""
import base64
import datetime as dt
import hashlib
import json

from portfolio_common.errors import Invalid
from portfolio_common.sealing import SEALING_YEARS

MANIFEST_VERSION = 1


def parse_application_date(value, today: dt.date) -> dt.date:
    """An ISO date (YYYY-MM-DD) not after today (Asia/Taipei); else application_date_invalid."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            raise Invalid("the college application date must be a date (YYYY-MM-DD)",
                          code="application_date_invalid") from None
    if value > today:
        raise Invalid("the college application date cannot be in the future", code="application_date_invalid")
    if value.year < 2000:
        raise Invalid("the college application date is too early", code="application_date_invalid")
    return value


def seal_due_on(applied_on: dt.date) -> dt.date:
    """The day a student is sealed: five years after the college application (DOMAIN.md).
    An application on 29 February is sealed on 28 February five years on."""
    try:
        return applied_on.replace(year=applied_on.year + SEALING_YEARS)
    except ValueError:
        return applied_on.replace(year=applied_on.year + SEALING_YEARS, day=28)


def canonical(manifest: dict) -> bytes:
    """The bytes that are signed: JSON, keys sorted, no spaces, UTF-8."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def build_manifest(*, tenant, student_id, student_user_id, applied_on, sealed_at, certified, held) -> dict:
    """Every fingerprint submission holds for the student.

    certified: [{outcome_id, sha256, school_year, semester, course_code}] (copies of `certified`);
    held: [{school_year, outcomes: [{outcome_id, sha256, ...}]}] (locked selections).
    `not_included` names what other services hold and this manifest does not list yet.
    """
    outcomes = sorted(({"outcome_id": str(c["outcome_id"]), "sha256": c["sha256"],
                        "school_year": c["school_year"], "semester": c["semester"],
                        "course_code": c["course_code"]} for c in certified), key=lambda o: o["outcome_id"])
    locked = sorted(({"school_year": h["school_year"],
                      "outcomes": sorted((str(o["outcome_id"]), o["sha256"]) for o in h["outcomes"])}
                     for h in held), key=lambda h: h["school_year"])
    m = {
        "version": MANIFEST_VERSION, "tenant": tenant, "student_id": str(student_id),
        "student_user_id": str(student_user_id), "applied_on": applied_on.isoformat(),
        "sealed_at": sealed_at.isoformat(), "certified_outcomes": outcomes, "locked_selections": locked,
        "not_included": ["records: profile, status, items and performances (their own history chain)",
                         "files: objects not certified (performance proofs, uncertified outcomes)"],
    }
    m["digest"] = hashlib.sha256(canonical(m)).hexdigest()
    return m


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(manifest: dict, private_key) -> str:
    """base64url Ed25519 signature of canonical(manifest) (cryptography's Ed25519PrivateKey)."""
    return _b64(private_key.sign(canonical(manifest)))


def verify(manifest: dict, signature: str, public_key) -> bool:
    """Whether `signature` is the submission key's over canonical(manifest)."""
    from cryptography.exceptions import InvalidSignature
    try:
        public_key.verify(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), canonical(manifest))
        return True
    except (InvalidSignature, ValueError):
        return False
