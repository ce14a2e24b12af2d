"""Rules of the student record, free of frameworks and I/O."""
import re

from .errors import DescriptionInvalid, IdempotencyKeyReused, NationalIdInvalid, OutcomeQuotaExceeded

MAX_OUTCOMES_PER_SEMESTER = 6      # regulation §4: at most 6 course outcomes per semester
MAX_DESCRIPTION_CHARS = 100        # national practice: 簡述 at most 100 characters

_LETTERS = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34, "J": 18,
    "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25, "S": 26, "T": 27,
    "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
}
_NEW_FORMAT = re.compile(r"^[A-Z][1289]\d{8}$")
_OLD_RESIDENT = re.compile(r"^[A-Z][A-D]\d{8}$")


def national_id_checksum_ok(nid: str) -> bool:
    code = _LETTERS[nid[0]]
    second = _LETTERS[nid[1]] % 10 if nid[1].isalpha() else int(nid[1])
    digits = [code // 10, code % 10, second] + [int(c) for c in nid[2:]]
    weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]
    return sum(d * w for d, w in zip(digits, weights)) % 10 == 0


def validate_national_id(raw: str) -> str:
    """Citizens (1/2), new resident numbers (8/9), and old two-letter resident numbers."""
    nid = (raw or "").strip().upper()
    if not (_NEW_FORMAT.match(nid) or _OLD_RESIDENT.match(nid)):
        raise NationalIdInvalid("national ID has the wrong format")
    if not national_id_checksum_ok(nid):
        raise NationalIdInvalid("national ID checksum does not match")
    return nid


def clean_description(raw) -> str:
    """簡述: required, at most 100 characters (counted as characters, not bytes)."""
    text = (raw or "").strip()
    if not text:
        raise DescriptionInvalid("description (簡述) is required", code="description_empty")
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise DescriptionInvalid(
            f"description (簡述) has {len(text)} characters; at most {MAX_DESCRIPTION_CHARS}",
            code="description_too_long")
    return text


def check_outcome_quota(existing_in_semester: int):
    if existing_in_semester >= MAX_OUTCOMES_PER_SEMESTER:
        raise OutcomeQuotaExceeded(
            f"at most {MAX_OUTCOMES_PER_SEMESTER} course outcomes per semester")


def check_same_upload(reserved: dict, asked: dict) -> None:
    """An upload key names one upload: the retry of a reserved upload must ask for the same
    section, term (school_year, semester) and 簡述, else IdempotencyKeyReused.

    `reserved` and `asked` are {section_id, school_year, semester, description}; a reservation
    made before keys were bound has section_id and description None, and is then compared
    on its term only. Where it comes from: issue 6 item 9 (a key reused for another term
    carried a slot past that term's quota check).
    """
    if (reserved["school_year"], reserved["semester"]) != (asked["school_year"], asked["semester"]):
        raise IdempotencyKeyReused("this Idempotency-Key was used for an upload of another term")
    if reserved["section_id"] is not None and str(reserved["section_id"]) != str(asked["section_id"]):
        raise IdempotencyKeyReused("this Idempotency-Key was used for an upload to another section")
    if reserved["description"] is not None and reserved["description"] != asked["description"]:
        raise IdempotencyKeyReused("this Idempotency-Key was used for an upload with another description")
