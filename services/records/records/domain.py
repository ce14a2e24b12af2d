"""Rules of the student record shared by every item kind, free of frameworks and I/O.

Sources: DOMAIN.md ("身分證號 validation", "Rules with numbers"), the WAVE2 clock contract.
"""
import datetime as dt
import re
import unicodedata

from portfolio_common import clock
from portfolio_common.text import clean_text

from .errors import DescriptionInvalid, IdempotencyKeyReused, NationalIdInvalid, OutcomeQuotaExceeded

MAX_OUTCOMES_PER_SEMESTER = 6      # regulation §4: at most 6 course outcomes per semester
MAX_DESCRIPTION_CHARS = 100        # national practice: 簡述 at most 100 characters
# Old two-letter resident certificate numbers stay valid until this date (DOMAIN.md).
OLD_RESIDENT_VALID_UNTIL = dt.date(2031, 1, 1)

_LETTERS = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34, "J": 18,
    "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25, "S": 26, "T": 27,
    "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
}
_CITIZEN = re.compile(r"^[A-Z][12]\d{8}$")
_RESIDENT_2021 = re.compile(r"^[A-Z][89]\d{8}$")
_OLD_RESIDENT = re.compile(r"^[A-Z][A-D]\d{8}$")


def normalize_national_id(raw) -> str:
    """What a person typed -> the canonical form the checksum and the duplicate check see:
    NFKC (full-width Ａ１ -> A1), invisible characters and spaces removed, upper case.
    Every path (form, import, API) goes through here before anything else."""
    text = unicodedata.normalize("NFKC", str(raw or ""))
    text = "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))
    return text.upper()


def national_id_checksum_ok(nid: str) -> bool:
    code = _LETTERS[nid[0]]
    second = _LETTERS[nid[1]] % 10 if nid[1].isalpha() else int(nid[1])
    digits = [code // 10, code % 10, second] + [int(c) for c in nid[2:]]
    weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]
    return sum(d * w for d, w in zip(digits, weights)) % 10 == 0


def national_id_kind(nid: str) -> str | None:
    if _CITIZEN.match(nid):
        return "citizen"
    if _RESIDENT_2021.match(nid):
        return "resident"
    if _OLD_RESIDENT.match(nid):
        return "old_resident"
    return None


def validate_national_id(raw, today: dt.date | None = None) -> str:
    """Citizens (second character 1/2), resident certificates since 2021 (8/9), and the old
    two-letter resident numbers (second letter A-D) until 2031-01-01 by the platform clock.
    Returns the normalised ID; raises NationalIdInvalid (never quoting the number)."""
    nid = normalize_national_id(raw)
    if not nid:
        raise NationalIdInvalid("national ID is missing", code="national_id_missing")
    kind = national_id_kind(nid)
    if kind is None:
        raise NationalIdInvalid("national ID has the wrong format")
    if kind == "old_resident" and (today or clock.today_in_school()) >= OLD_RESIDENT_VALID_UNTIL:
        raise NationalIdInvalid("old two-letter resident numbers are valid until 2030-12-31",
                                code="national_id_expired_format")
    if not national_id_checksum_ok(nid):
        raise NationalIdInvalid("national ID checksum does not match", code="national_id_checksum")
    return nid


def clean_description(raw) -> str:
    """簡述: required, at most 100 characters, cleaned and counted by portfolio_common.text
    (the portal's counter follows the same rules)."""
    text = clean_text(raw)
    if not text:
        raise DescriptionInvalid("description (簡述) is required", code="description_empty")
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise DescriptionInvalid(
            f"description (簡述) has {len(text)} characters; at most {MAX_DESCRIPTION_CHARS}",
            code="description_too_long")
    return text


def check_outcome_quota(existing_in_semester: int, limit: int = MAX_OUTCOMES_PER_SEMESTER):
    """Refuse one more outcome when the term already holds `limit` (the school calendar's
    outcome_uploads_per_semester for the term; the regulation's 6 by default)."""
    if existing_in_semester >= limit:
        raise OutcomeQuotaExceeded(f"本學期的課程學習成果已達上限 {limit} 件", limit=limit)


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


# ---------------------------------------------------------------- an outcome's two files
# DOMAIN.md (national practice): an item is a 簡述 plus a document, a media file, or both. An
# outcome has two slots, `document` (pdf, jpg, png) and `media` (mp3, mp4); files checks the
# kind by content against the slot the ticket names. The quota counts outcomes, not files.

SLOTS = ("document", "media")
# which outcome statuses let a student put a file into an EMPTY slot: adding a media file to an
# outcome waiting for or holding a certification opens a new round (a certification attests the
# outcome as a whole); a returned one is being uploaded again anyway
ADD_FILE_STATUSES = ("uploaded", "certified", "returned")


def check_slot(slot):
    """`document`, `media`, or None (an API client that names no slot: files puts the file in
    the slot of its kind); anything else is SlotInvalid (`slot_invalid`)."""
    from .errors import SlotInvalid
    if slot is not None and slot not in SLOTS:
        raise SlotInvalid("slot is document or media")
    return slot


def check_file_ticket(status: str, selected_locked: bool, files: dict, slot) -> str:
    """May the student upload a file into `slot` of their outcome now? Returns "add" (the slot
    is empty) or "replace" (a file is there). Replacing follows the re-upload rule: only a
    returned outcome. Adding is allowed to an uploaded, certified or returned outcome. Without
    a slot (an API client from before slots: the file goes where its kind belongs) only a
    returned outcome ("reupload"). Nothing of an outcome locked in a selection changes.
    Raises OutcomeNotReturned (`outcome_not_returned`) otherwise."""
    from .errors import OutcomeNotReturned
    if selected_locked:
        raise OutcomeNotReturned("this outcome is locked in a selection")
    if slot is None:
        if status != "returned":
            raise OutcomeNotReturned("only a returned outcome may be uploaded again")
        return "reupload"
    if slot in files:
        if status != "returned":
            raise OutcomeNotReturned("only a returned outcome's file may be replaced")
        return "replace"
    if status not in ADD_FILE_STATUSES:
        raise OutcomeNotReturned(f"a file cannot be added to an outcome that is {status}")
    return "add"


def principal_file(files: dict) -> dict:
    """The file older readers see in an outcome's single-file fields: the document, or the
    media file of an outcome without one."""
    return files.get("document") or files["media"]


def apply_uploaded_file(status: str, files: dict, slot: str, new: dict) -> tuple:
    """What `outcome-uploaded` for a known outcome does (new: {file_id, filename, content_type,
    size, sha256, uploaded_at (ISO)}). Returns (files after, action):

    - "stale": an upload of this slot older than the one held (delivered late): nothing changes;
    - "same_file": the identical file (same SHA-256) of a certified or waiting outcome: the new
      copy is recorded, the certification (or the wait) is kept, as certification does;
    - "reuploaded" (a file replaced) or "file_added" (an empty slot filled): the outcome waits
      for a new decision on all its files (a new round in certification).
    """
    held = files.get(slot)
    after = {**files, slot: dict(new)}
    if held is not None and held.get("uploaded_at") and \
            _instant(new["uploaded_at"]) <= _instant(held["uploaded_at"]):
        return files, "stale"
    if held is not None and held["sha256"] == new["sha256"] and status in ("certified", "uploaded"):
        return after, "same_file"
    return after, "reuploaded" if held is not None else "file_added"


def _instant(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
