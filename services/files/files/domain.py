"""What may be stored, decided by content the way readers decide it; sizes per school year;
file names kept only as clean metadata. No framework, no I/O.

Sources: DOMAIN.md (national practice: documents pdf/jpg/png at most 4 MB, audio and video
mp3/mp4 at most 10 MB; every number is per-school, per-year configuration), and how readers
open files (Acrobat and pdf.js accept a `%PDF-` header anywhere in the first 1,024 bytes).
"""
from __future__ import annotations

import hashlib
import json
import math
import struct
import unicodedata
from dataclasses import dataclass, field

import puremagic

from .errors import (FileDamaged, FileEmpty, FileSlotMismatch, FileTooLarge, FileTypeRefused,
                     FilenameInvalid, FilenameTooLong)

MB = 1024 * 1024
HEAD_BYTES = 1024                    # where a reader looks for the PDF header
TAIL_BYTES = 64 * 1024 + 22          # a ZIP end-of-central-directory record lives in here
MAX_FILENAME_CHARS = 200

# type -> (content type, family, extensions a name may already carry)
TYPES = {
    "pdf": ("application/pdf", "document", ("pdf",)),
    "jpg": ("image/jpeg", "document", ("jpg", "jpeg")),
    "png": ("image/png", "document", ("png",)),
    "mp3": ("audio/mpeg", "media", ("mp3",)),
    "mp4": ("video/mp4", "media", ("mp4", "m4a", "m4v")),
    # a transfer package (ticket kind transfer_package only: ZipInspector; never an evidence type)
    "zip": ("application/zip", "package", ("zip",)),
}
FAMILY_NAMES_ZH = {"document": "文件（PDF、JPG、PNG）", "media": "影音（MP3、MP4）"}
# An outcome holds at most one file of each family, each in its slot named after the family
# (DOMAIN.md: a 簡述 plus a document, a media file, or both).
SLOTS = ("document", "media")
SLOT_NAMES_ZH = {"document": "文件", "media": "影音檔"}

# National practice, the default for every school year; a school overrides per year
# (UPLOAD_LIMITS / UPLOAD_LIMITS_FILE, see Limits.from_config).
DEFAULT_LIMITS = {
    "document": {"types": ["pdf", "jpg", "png"], "max_bytes": 4 * MB},
    "media": {"types": ["mp3", "mp4"], "max_bytes": 10 * MB},
}

# ISO BMFF major brands of MP4 files (phones, cameras, encoders); QuickTime ("qt  ") is not MP4.
MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
              b"M4A ", b"M4B ", b"MSNV", b"dash", b"mmp4", b"f4v ", b"3gp4", b"3gp5", b"3gp6"}
_MIME_TO_TYPE = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png",
                 "audio/mpeg": "mp3", "video/mp4": "mp4", "audio/mp4": "mp4"}
_NEVER_BEFORE_PDF = (b"MZ", b"\x7fELF", b"PK\x03\x04", b"#!", b"\xca\xfe\xba\xbe")


# ---------------------------------------------------------------- limits per school year

@dataclass(frozen=True)
class Family:
    name: str
    types: tuple
    max_bytes: int


DEFAULT_PACKAGE_MAX_BYTES = 200 * MB   # a transfer package (TRANSFER_MAX_BYTES)


@dataclass(frozen=True)
class YearLimits:
    families: dict  # name -> Family
    package_max_bytes: int = DEFAULT_PACKAGE_MAX_BYTES

    @property
    def largest(self) -> int:
        return max(f.max_bytes for f in self.families.values())

    def family_of(self, type_name):
        return next((f for f in self.families.values() if type_name in f.types), None)

    def allowed_types(self):
        return [t for f in self.families.values() for t in f.types]

    def describe(self) -> dict:
        """For the portal and API clients: what may be uploaded this year."""
        return {name: {"types": list(f.types), "max_bytes": f.max_bytes,
                       "content_types": [TYPES[t][0] for t in f.types]}
                for name, f in self.families.items()}


class Limits:
    """Upload limits by school year (ROC year); "default" applies to every other year.

    Configuration (JSON): {"default": {"document": {"types": ["pdf", "jpg", "png"],
    "max_bytes": 4194304}, "media": {...}}, "116": {...}}; a year names the families it changes.
    """

    def __init__(self, by_year: dict | None = None, package_max_bytes: int | None = None):
        by_year = by_year or {}
        self.package_max_bytes = int(package_max_bytes or DEFAULT_PACKAGE_MAX_BYTES)
        self._default = self._build(DEFAULT_LIMITS, by_year.get("default", {}), self.package_max_bytes)
        self._years = {int(y): self._build(DEFAULT_LIMITS, {**by_year.get("default", {}), **v},
                                           self.package_max_bytes)
                       for y, v in by_year.items() if y != "default"}

    @staticmethod
    def _build(base, override, package_max_bytes=DEFAULT_PACKAGE_MAX_BYTES) -> YearLimits:
        merged = {**base, **override}
        fams = {}
        for name, spec in merged.items():
            types = tuple(spec["types"])
            unknown = set(types) - set(TYPES)
            if unknown:
                raise ValueError(f"upload limits: unknown types {sorted(unknown)}")
            fams[name] = Family(name, types, int(spec["max_bytes"]))
        return YearLimits(fams, int(package_max_bytes))

    @classmethod
    def from_config(cls, text: str | None, package_max_bytes: int | None = None) -> "Limits":
        return cls(json.loads(text) if text else None, package_max_bytes)

    def for_year(self, school_year) -> YearLimits:
        try:
            return self._years.get(int(school_year), self._default)
        except (TypeError, ValueError):
            return self._default


# ---------------------------------------------------------------- type by content

def detect(head: bytes) -> str | None:
    """The type a reader would open `head` (the first bytes, up to 1,024) as, or None.

    A general detector (puremagic) names what the bytes start with; a PDF is also recognised
    by its header anywhere in the first 1,024 bytes, as Acrobat and pdf.js accept it, unless
    what comes before the header is itself something (an executable, an archive, an image).
    A file that reads as two types at once (an image with a PDF inside its first bytes) is a
    polyglot: refused, as it may open differently in different readers.
    """
    found = _detected_types(head)
    pdf_at = head.find(b"%PDF-", 0, HEAD_BYTES)
    if found:
        kind = found[0]
        if kind != "pdf" and pdf_at >= 0:
            raise FileTypeRefused("the file reads as two types at once (a polyglot)", detail="polyglot")
        if kind == "mp4" and not _mp4_brand_ok(head):
            return None
        return kind
    if pdf_at > 0:
        prefix = head[:pdf_at]
        if prefix.startswith(_NEVER_BEFORE_PDF) or _identified(prefix):
            raise FileTypeRefused("the file reads as two types at once (a polyglot)", detail="polyglot")
        return "pdf"
    return None


def _matches(data: bytes) -> list:
    """puremagic's matches that name something (a bare text/BOM signature names nothing)."""
    try:
        return [m for m in puremagic.magic_string(data) if m.mime_type or m.extension]
    except (puremagic.PureError, ValueError):
        return []


def _identified(data: bytes) -> bool:
    return bool(_matches(data))


def _detected_types(head: bytes) -> list:
    """Our types among puremagic's matches at offset 0 (or an MP4 `ftyp` at offset 4)."""
    matches = _matches(head) if head else []
    if not matches:
        return []
    top = matches[0]
    kind = _MIME_TO_TYPE.get(top.mime_type)
    if kind is None:
        return ["other:" + (top.extension or "?")]  # something else: an executable, an archive...
    return [kind]


def _mp4_brand_ok(head: bytes) -> bool:
    return len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS


# ---------------------------------------------------------------- streaming inspection

@dataclass
class Verdict:
    type_name: str
    content_type: str
    family: str
    size: int
    sha256: str


class _Mp4Walker:
    """Top-level ISO BMFF boxes: each header's length must land inside the file, exactly at
    its end (an MP4 whose header lies about its length is damaged). Trailing zero bytes (a
    file padded to a size) are accepted, as players ignore them."""

    def __init__(self):
        self.next_box = 0
        self.carry, self.carry_at = b"", 0
        self.zero_tail = False
        self.to_eof = False
        self.damaged = None

    def feed(self, pos: int, chunk: bytes):
        if self.damaged or self.to_eof:
            return
        if self.zero_tail:
            if chunk.strip(b"\x00"):
                self.damaged = "bytes after the last box"
            return
        data, base = chunk, pos
        if self.carry:
            data, base = self.carry + chunk, self.carry_at
            self.carry = b""
        end = base + len(data)
        while self.next_box < end:
            off = self.next_box - base
            header = data[off:off + 16]
            if len(header) < 16 and self.next_box + 16 > end:
                self.carry, self.carry_at = data[off:], self.next_box
                return
            self._box(header, data[off:])
            if self.damaged or self.to_eof or self.zero_tail:
                return

    def _box(self, header, rest):
        size, box = struct.unpack(">I4s", header[:8])
        if size == 0 and box == b"\x00\x00\x00\x00":
            self.zero_tail = True
            if rest.strip(b"\x00"):
                self.damaged = "bytes after the last box"
            return
        if size == 0:  # "to the end of the file": the last box
            self.to_eof = True
            return
        if size == 1:
            size = struct.unpack(">Q", header[8:16])[0]
        if size < 8 or not all(32 <= c < 127 for c in box):
            self.damaged = "a box header is not a box"
            return
        self.next_box += size

    def finish(self, total: int):
        if self.carry and not self.damaged and not self.to_eof:
            # headers shorter than 16 bytes at the very end: walk what is there
            data, self.carry = self.carry, b""
            while self.next_box < total and not (self.damaged or self.to_eof or self.zero_tail):
                off = self.next_box - self.carry_at
                if total - self.next_box < 8:
                    return "the file ends inside a box header"
                self._box(data[off:off + 16].ljust(16, b"\x00"), data[off:])
        if self.damaged:
            return self.damaged
        if self.to_eof or self.zero_tail:
            return None
        if self.next_box != total:
            return f"a box claims {self.next_box} bytes, the file has {total}"
        return None


class _PngWalker:
    """PNG chunks: each length lands inside the file, IEND ends it, nothing follows IEND
    (bytes after IEND are how PNG polyglots carry a second file)."""

    def __init__(self):
        self.next_chunk = 8
        self.carry = b""
        self.carry_at = None
        self.after_iend = False
        self.damaged = None
        self.polyglot = False

    def feed(self, pos: int, chunk: bytes):
        if self.damaged or self.polyglot:
            return
        if self.after_iend:  # only IEND's own CRC may still come
            self.polyglot = pos + len(chunk) > self.next_chunk
            return
        data, base = chunk, pos
        if self.carry:
            data, base = self.carry + chunk, self.carry_at
            self.carry = b""
        end = base + len(data)
        while self.next_chunk < end:
            off = self.next_chunk - base
            if off < 0:
                return
            header = data[off:off + 8]
            if len(header) < 8:
                self.carry, self.carry_at = data[off:], self.next_chunk
                return
            length, ctype = struct.unpack(">I4s", header)
            if not ctype.isalpha():
                self.damaged = "a chunk header is not a chunk"
                return
            self.next_chunk += 12 + length
            if ctype == b"IEND":
                self.after_iend = True
                if self.next_chunk < end:
                    self.polyglot = True
                return
            if self.next_chunk > end:
                return

    def finish(self, total: int):
        if self.damaged:
            return self.damaged, False
        if self.polyglot:
            return None, True
        if not self.after_iend or self.next_chunk != total:
            return "the image ends before its last chunk", False
        return None, False


class Inspector:
    """Fed the bytes of one upload as they arrive: counts, hashes (SHA-256), decides the type
    from the first 1,024 bytes, applies that type's size limit, and checks the structure (MP4
    boxes, PNG chunks, no ZIP archive appended to any file). Raises the refusal as soon as it is
    certain, so an oversize or wrong-type body is never read to its end."""

    def __init__(self, limits: YearLimits, declared_length: int | None = None, slot: str | None = None):
        self.limits = limits
        self.declared = declared_length
        # the slot the ticket names: only files of that family, within that family's limit
        # (None: any family, e.g. a performance's proof)
        self.slot = limits.families.get(slot) if slot else None
        self.size = 0
        self.hasher = hashlib.sha256()
        self.head = b""
        self.pending = []    # (offset, chunk) until the type is decided
        self.tail = b""
        self.type_name = None
        self.family = None
        self.walker = None
        if declared_length is not None and declared_length > self.limit:
            raise _too_large(declared_length, self.limit, self.slot)

    @property
    def limit(self) -> int:
        family = self.family or self.slot
        return family.max_bytes if family else self.limits.largest

    def feed(self, chunk: bytes):
        if not chunk:
            return
        pos = self.size
        self.size += len(chunk)
        if self.size > self.limit:
            raise _too_large(self.size, self.limit, self.family)
        self.hasher.update(chunk)
        if self.type_name is None:
            self.head += chunk[:HEAD_BYTES - len(self.head)]
            self.pending.append((pos, chunk))  # references, not copies: chunks may be 5 MB
            if len(self.head) >= HEAD_BYTES:
                self._decide()
        elif self.walker is not None:
            self.walker.feed(pos, chunk)
        # only the last 64 KB matter; never copy a whole chunk to keep them
        self.tail = (self.tail + chunk[-TAIL_BYTES:])[-TAIL_BYTES:] if len(chunk) < TAIL_BYTES \
            else bytes(chunk[-TAIL_BYTES:])

    def _decide(self):
        kind = detect(self.head)
        family = self.limits.family_of(kind) if kind else None
        if family is None:
            allowed = "、".join(t.upper() for t in self.limits.allowed_types())
            raise FileTypeRefused(f"only {allowed} files are accepted (checked by content, not by name)",
                                  detail=kind.split(":", 1)[-1] if kind else "unknown")
        if self.slot is not None and family.name != self.slot.name:
            raise slot_mismatch(self.slot.name, family.name)
        self.type_name, self.family = kind, family
        if self.declared is not None and self.declared > family.max_bytes:
            raise _too_large(self.declared, family.max_bytes, family)
        if self.size > family.max_bytes:
            raise _too_large(self.size, family.max_bytes, family)
        self.walker = {"mp4": _Mp4Walker, "png": _PngWalker}.get(kind, lambda: None)()
        if self.walker is not None:  # the bytes read so far, from byte 0
            for pos, chunk in self.pending:
                self.walker.feed(pos, chunk)
        self.pending = []

    def finish(self) -> Verdict:
        if self.size == 0:
            raise FileEmpty("the file is empty")
        if self.type_name is None:
            self._decide()
        if self.type_name == "mp4":
            why = self.walker.finish(self.size)
            if why:
                raise FileDamaged(f"the MP4 file is damaged: {why}")
        elif self.type_name == "png":
            why, polyglot = self.walker.finish(self.size)
            if polyglot:
                raise FileTypeRefused("data follows the end of the image (a polyglot)", detail="polyglot")
            if why:
                raise FileDamaged(f"the PNG file is damaged: {why}")
        if _has_zip_directory(self.tail):
            raise FileTypeRefused("an archive is hidden in the file (a polyglot)", detail="polyglot")
        ctype, family, _ = TYPES[self.type_name]
        return Verdict(self.type_name, ctype, family, self.size, self.hasher.hexdigest())


class ZipInspector:
    """The Inspector of a transfer package (ticket kind transfer_package): counts and hashes
    like Inspector; the content must be a zip (a local file header at byte 0 and the
    end-of-central-directory record at its end: a truncated or other file is refused), at most
    `max_bytes` (TRANSFER_MAX_BYTES, refused from the declared length on). What is inside is
    checked by submission (the format's checker), not here."""

    def __init__(self, max_bytes: int, declared_length: int | None = None):
        self.max_bytes = max_bytes
        self.size = 0
        self.hasher = hashlib.sha256()
        self.head = b""
        self.tail = b""
        self.type_name = None
        if declared_length is not None and declared_length > max_bytes:
            raise _package_too_large(declared_length, max_bytes)

    @property
    def limit(self) -> int:
        return self.max_bytes

    def feed(self, chunk: bytes):
        if not chunk:
            return
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise _package_too_large(self.size, self.max_bytes)
        self.hasher.update(chunk)
        if len(self.head) < 4:
            self.head += chunk[:4 - len(self.head)]
            if len(self.head) == 4:
                if self.head != b"PK\x03\x04":
                    raise _not_a_zip()
                self.type_name = "zip"
        self.tail = (self.tail + chunk[-TAIL_BYTES:])[-TAIL_BYTES:] if len(chunk) < TAIL_BYTES \
            else bytes(chunk[-TAIL_BYTES:])

    def finish(self) -> Verdict:
        if self.size == 0:
            raise FileEmpty("the file is empty")
        if self.head != b"PK\x03\x04":
            raise _not_a_zip()
        if not _has_zip_directory(self.tail):
            err = FileDamaged("the zip file is incomplete: its central directory is missing")
            err.zh = "ZIP 檔不完整（缺少檔案目錄），請重新下載轉學檔案後再上傳。"
            raise err
        return Verdict("zip", "application/zip", "package", self.size, self.hasher.hexdigest())


def _not_a_zip():
    err = FileTypeRefused("a transfer package is a zip file (checked by content, not by name)", detail="not_zip")
    err.zh = "轉學檔案須為 ZIP 壓縮檔（系統依檔案內容判斷，而非副檔名）。"
    return err


def _mb_up(size: int) -> str:
    """A size in MB rounded up to two decimals: a file just over its limit never reads as the
    limit itself ("4.0 MB; the limit is 4 MB" for 4,195,612 bytes)."""
    return f"{math.ceil(size * 100 / MB) / 100:.2f}"


def _package_too_large(size, limit):
    err = FileTooLarge(f"the package is {_mb_up(size)} MB; the limit is {limit / MB:g} MB", size=size, limit=limit)
    err.zh = f"轉學檔案超過上限：最大 {limit / MB:g} MB；請洽原校分次提供。"
    return err


def inspector_for(year: YearLimits, kind: str, declared_length=None, slot=None):
    """The inspector of one upload: a transfer package's (ZipInspector) or evidence's (Inspector)."""
    if kind in PACKAGE_KINDS:
        return ZipInspector(year.package_max_bytes, declared_length)
    return Inspector(year, declared_length, slot=slot)


def _has_zip_directory(tail: bytes) -> bool:
    """A ZIP end-of-central-directory record whose comment runs exactly to the end: what makes
    unzip (and browsers' archive handling) open the file as an archive."""
    at = tail.rfind(b"PK\x05\x06")
    while at >= 0:
        if len(tail) - at >= 22:
            comment = struct.unpack("<H", tail[at + 20:at + 22])[0]
            if at + 22 + comment == len(tail):
                return True
        at = tail.rfind(b"PK\x05\x06", 0, at)
    return False


def slot_mismatch(slot: str, family: str) -> FileSlotMismatch:
    """The file's kind (by content) is not the one of the slot the ticket names."""
    err = FileSlotMismatch(f"this is a {family} file; upload it to the {family} slot, not the {slot} slot",
                           detail=family)
    err.zh = (f"這個欄位只接受{FAMILY_NAMES_ZH.get(slot, slot)}；您選的檔案是"
              f"{SLOT_NAMES_ZH.get(family, family)}，請改用「{SLOT_NAMES_ZH.get(family, family)}」欄位上傳。")
    return err


def _too_large(size, limit, family):
    what = FAMILY_NAMES_ZH.get(family.name, family.name) if family else "檔案"
    err = FileTooLarge(f"the file is {_mb_up(size)} MB; the limit is {limit / MB:g} MB",
                       size=size, limit=limit)
    err.zh = f"檔案超過上限：{what}最大 {limit / MB:g} MB，請壓縮後再上傳。"
    return err


# ---------------------------------------------------------------- names (metadata only)

def clean_filename(raw: str | None, type_name: str | None = None) -> str:
    """The name the student gave, as metadata only (objects are keyed by id, never by name).

    NFC; control and format characters (NUL, bidi overrides, zero-width) removed; a name with a
    path in it (`/`, `\\`, a `..` segment) or longer than 200 characters is refused; the
    extension of the detected type is added when the name does not carry it.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")
                   or c == " ").strip()
    if "/" in name or "\\" in name or name in (".", ".."):
        raise FilenameInvalid("a file name may not contain a path")
    if len(name) > MAX_FILENAME_CHARS:
        raise FilenameTooLong(f"the file name has {len(name)} characters; at most {MAX_FILENAME_CHARS}")
    if not name:
        name = "evidence"
    if type_name:
        exts = TYPES[type_name][2]
        if name.rsplit(".", 1)[-1].lower() not in exts or "." not in name:
            name = f"{name}.{exts[0]}"
    return name


def ascii_fallback(name: str) -> str:
    """The plain `filename=` of Content-Disposition for old clients (RFC 6266 §4.3)."""
    out = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_" for c in name)
    return out or "evidence"


# Ticket kinds (records signs them): the claim naming the upload's subject, the folder its stored
# objects go to, the claims its event needs. `item_proof`: the proof file of a staff-entered item
# (an in-school competition's 證明文件), subject = the item (records/itemproofs).
# `transfer_package`: another school's transfer package (a zip) the registrar uploads for a
# student (records/transferin), read back only by submission, which checks it; its evidence
# files, once the registrar confirms the import, become files of kind `transfer_evidence`
# (usecases.unpack_transfer), never uploaded by anyone directly.
TICKET_KINDS = ("outcome", "performance", "item_proof", "transfer_package")
PACKAGE_KINDS = ("transfer_package",)
SUBJECT_CLAIM = {"outcome": "outcome_id", "performance": "performance_id", "item_proof": "item_id",
                 "transfer_package": "package_id"}
FOLDERS = {"outcome": "outcomes", "performance": "performances", "item_proof": "proofs",
           "transfer_package": "transfers", "transfer_evidence": "transfers"}
EVENT_CLAIMS = {"performance": ("performance_kind", "entered_by"), "item_proof": ("item_kind", "semester")}


@dataclass
class TicketClaims:
    """What records signed into an upload ticket (verified by the caller of these functions)."""
    kind: str
    subject_id: str
    tenant: str
    student_id: str
    student_user_id: str
    school_year: int
    semester: int | None
    claims: dict = field(default_factory=dict)
    expires_at: object = None
    attempt: int = 1  # 2, 3, ... for a returned outcome uploaded again (records' issue_reupload_ticket)
    # the outcome's slot the file goes into (`document` | `media`); None: decided by the content
    # (a performance's proof, or an outcome ticket issued before outcomes had two slots)
    slot: str | None = None

    @classmethod
    def from_ticket(cls, t: dict) -> "TicketClaims":
        subject = t[SUBJECT_CLAIM[t["kind"]]]
        for claim in EVENT_CLAIMS.get(t["kind"], ()):  # what the kind's event must carry
            t[claim]  # noqa: B018 - KeyError: the ticket lacks a field
        slot = t.get("slot") if t.get("kind") == "outcome" else None
        if slot is not None and slot not in SLOTS:
            raise ValueError("unknown slot")
        return cls(kind=t["kind"], subject_id=str(subject), tenant=t["tenant"], student_id=str(t["student_id"]),
                   student_user_id=str(t["student_user_id"]), school_year=int(t["school_year"]),
                   semester=t.get("semester"), claims=dict(t), attempt=int(t.get("attempt") or 1), slot=slot)
