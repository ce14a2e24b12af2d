"""The transfer package (format `portfolio-transfer`, version 1), free of frameworks and I/O
but for the file objects it is given. docs/transfer-package.md is its specification and
docs/schemas/portfolio-transfer-1.schema.json the manifest's JSON Schema.

Layout (a zip):
  records/<kind>.json       the student's records, one JSON document a kind (RECORD_KINDS)
  evidence/<sha256>.<ext>   every evidence file once, named by its SHA-256
  manifest.json             format, version, origin, exported_at, exported_by (role), the
                            student (national ID included: personal data), every entry's
                            path, sha256, size and media type; written as sealing's canonical
                            JSON (keys sorted, no spaces, UTF-8)
  manifest.sig              {algorithm: Ed25519, key_id, public_key, signature}: the detached
                            signature of manifest.json's bytes (base64url, no padding)

The evidence is copied from the given source in 1 MiB chunks while hashed (national.rosters),
and a file whose bytes are not the fingerprint the record keeps refuses the whole package.
"""
import hashlib
import json
import zipfile

from ..national.rosters import EXTENSIONS, EvidenceMismatch, _copy_hashed  # noqa: F401  (re-exported)
from ..sealing.domain import canonical

FORMAT = "portfolio-transfer"
VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
RECORD_KINDS = ("profile", "course_grades", "course_outcomes", "performances", "autobiography",
                "activities", "competitions", "attendance", "status_changes")
JSON_TYPE = "application/json"


def evidence_path(sha256: str, content_type) -> str:
    return f"evidence/{sha256}{EXTENSIONS.get(content_type, '.bin')}"


def records_of(export: dict) -> dict:
    """{kind: JSON-ready document} from records.transfer_export_fields' answer; evidence is
    named by its path in the package, never by the origin's internal file id."""
    def file_ref(f):
        return {"slot": f.get("slot"), "filename": f.get("filename"), "media_type": f.get("content_type"),
                "size": f.get("size"), "sha256": f.get("sha256"),
                "path": evidence_path(f["sha256"], f.get("content_type"))}

    outcomes = [{"outcome_id": o["outcome_id"], "school_year": o["school_year"], "semester": o["semester"],
                 "course_code": o["course_code"], "subject_name": o["subject_name"],
                 "description": o["description"], "status": o["status"],
                 "files": [file_ref(f) for f in o["files"] if f.get("sha256")],
                 "certification": o["certification"]} for o in export["outcomes"]]
    perfs = []
    for p in export["performances"]:
        p = {k: v for k, v in p.items() if k not in ("file_id", "content_type", "size", "sha256")} | (
            {"file": file_ref(p)} if p.get("sha256") else {"file": None})
        perfs.append(p)
    profile = {k: v for k, v in export["profile"].items() if k != "national_id"}
    return {"profile": {**profile, "school_years": export.get("school_years", [])},
            "course_grades": export["grades"], "course_outcomes": outcomes, "performances": perfs,
            "autobiography": export["autobiography"], "activities": export["activities"],
            "competitions": export["competitions"], "attendance": export["attendance"],
            "status_changes": export["status_changes"]}


def evidence_of(export: dict) -> list:
    """[(file_id, sha256, content_type)] of every distinct evidence file (by fingerprint)."""
    seen, out = set(), []
    files = [f for o in export["outcomes"] for f in o["files"]] + [p for p in export["performances"]]
    for f in files:
        if f.get("sha256") and f.get("file_id") and f["sha256"] not in seen:
            seen.add(f["sha256"])
            out.append((f["file_id"], f["sha256"], f.get("content_type")))
    return out


def build(out, export: dict, *, origin: dict, exported_at: str, exported_by: str, evidence, signer) -> dict:
    """Write the package zip to the binary file object `out`; returns the manifest.

    export: records.transfer_export_fields' answer; origin: {school_code, tenant};
    exported_by: the exporter's role (registrar | student | system), never a name;
    evidence: file_id -> context manager of a readable stream of its bytes;
    signer: .sign(manifest) -> base64url Ed25519 over canonical(manifest), .key_id, .public_key (base64url raw).
    EvidenceMismatch when a file's bytes are not its kept fingerprint (nothing usable is written)."""
    p = export["profile"]
    manifest = {"format": FORMAT, "version": VERSION, "origin": dict(origin), "exported_at": exported_at,
                "exported_by": {"role": exported_by},
                "student": {"student_no": p["student_no"], "name": p["name"], "birth_date": p.get("birth_date"),
                            "gender": p.get("gender"), "national_id": p["national_id"]},
                "files": []}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for kind, doc in records_of(export).items():
            data = json.dumps(doc, ensure_ascii=False, indent=1, default=str).encode("utf-8")
            path = f"records/{kind}.json"
            zf.writestr(path, data)
            manifest["files"].append({"path": path, "sha256": hashlib.sha256(data).hexdigest(),
                                      "size": len(data), "media_type": JSON_TYPE})
        for file_id, sha, kind in evidence_of(export):
            info = zipfile.ZipInfo(evidence_path(sha, kind))
            info.compress_type = zipfile.ZIP_STORED          # pdf, jpg, mp4: compressed already
            with evidence(file_id) as src, zf.open(info, "w", force_zip64=True) as entry:
                digest, size = _copy_hashed(src, entry)
            if digest != sha:
                raise EvidenceMismatch(f"file {file_id}: its bytes do not have the kept fingerprint")
            manifest["files"].append({"path": info.filename, "sha256": digest, "size": size,
                                      "media_type": kind or "application/octet-stream"})
        zf.writestr(MANIFEST, canonical(manifest))
        zf.writestr(SIGNATURE, json.dumps({"algorithm": "Ed25519", "key_id": signer.key_id,
                                           "public_key": signer.public_key, "signature": signer.sign(manifest)}))
    return manifest


# ---------------------------------------------------------------- reading (the receiving school)

class PackageProblem(Exception):
    """A package that cannot be imported: `code` says what failed (errors.py), `path` which entry."""

    def __init__(self, code, message, path=None):
        super().__init__(message)
        self.code, self.path = code, path


MAX_ENTRIES = 10000
MAX_RECORDS_BYTES = 16 * 1024 * 1024
MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024   # what all entries together may unpack to
MAX_RATIO = 200                                # unpacked / packed of one entry over 1 MiB: a zip bomb


def _unsafe_name(name: str) -> bool:
    """A name an unzip tool could write outside its folder (absolute, `..`, a Windows path or
    drive), a folder entry, or one with control characters."""
    parts = name.split("/")
    return not name or name.startswith("/") or "\\" in name or ":" in name or name.endswith("/") \
        or any(p in ("", ".", "..") for p in parts) or any(ord(c) < 32 or ord(c) == 127 for c in name)


def check_entries(zf, max_unpacked=MAX_UNPACKED_BYTES):
    """Before any entry is read: no entry's name points outside the package (no `..`, no
    absolute or Windows path, no folder entry; _unsafe_name), no entry claims to unpack to
    much more than it packs (a zip bomb), the whole unpacks to at most `max_unpacked` bytes.
    Python's zipfile never gives more bytes of an entry than its directory record says, so
    these sizes bound what reading costs. PackageProblem transfer_package_invalid."""
    total = 0
    for info in zf.infolist():
        if _unsafe_name(info.filename):
            raise PackageProblem("transfer_package_invalid", "an entry's name points outside the package")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PackageProblem("transfer_package_invalid",
                                 "an entry unpacks to far more than it packs (a zip bomb)", info.filename)
        if info.filename in (MANIFEST, SIGNATURE) and info.file_size > MAX_RECORDS_BYTES:
            raise PackageProblem("transfer_package_invalid", f"{info.filename} is too large", info.filename)
        total += info.file_size
    if total > max_unpacked:
        raise PackageProblem("transfer_package_invalid", f"the package unpacks to more than {max_unpacked} bytes")


def _b64decode(text):
    import base64
    return base64.urlsafe_b64decode(str(text) + "=" * (-len(str(text)) % 4))


def check_signature(manifest_bytes: bytes, sig: dict, trusted: dict) -> bool:
    """Whether manifest.sig holds: verified against the trusted key of its key_id when the
    receiving school knows it ({key_id: base64url raw public key}), else against the key the
    package carries. True: signed by a known key; False: the signature holds but the key is not
    known (shown as unverified). PackageProblem transfer_signature_invalid: it does not hold (the
    manifest was edited after signing, or signed by another key than the known one)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    if not isinstance(sig, dict) or sig.get("algorithm") != "Ed25519":
        raise PackageProblem("transfer_signature_invalid", "manifest.sig is not an Ed25519 signature", SIGNATURE)
    known = trusted.get(sig.get("key_id"))
    try:
        key = Ed25519PublicKey.from_public_bytes(_b64decode(known or sig.get("public_key") or ""))
        key.verify(_b64decode(sig.get("signature") or ""), manifest_bytes)
    except (InvalidSignature, ValueError, TypeError):
        raise PackageProblem("transfer_signature_invalid",
                             "the manifest's signature does not hold: it was changed after signing", MANIFEST) from None
    return known is not None


def open_package(fh, trusted=None, max_unpacked=MAX_UNPACKED_BYTES) -> dict:
    """Check a package (a seekable binary file object) before anything is stored.

    First the entries' names and sizes (check_entries: path traversal, zip bombs); every entry's SHA-256 and size against the manifest (streamed, 1 MiB at a time), no entry
    missing or unlisted, the signature (check_signature). Returns {manifest, signature:
    {key_id, verified}, records: {kind: document}}. PackageProblem with the code of what
    failed: transfer_package_invalid (not a zip, no manifest, another format or version, an
    entry name outside the format, a zip bomb),
    transfer_file_mismatch (an entry's bytes are not its fingerprint, or one is missing or
    unlisted: `path` names it), transfer_signature_invalid."""
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise PackageProblem("transfer_package_invalid", "this is not a zip file") from None
    with zf:
        check_entries(zf, max_unpacked)
        names = set(zf.namelist())
        if MANIFEST not in names or SIGNATURE not in names or len(names) > MAX_ENTRIES:
            raise PackageProblem("transfer_package_invalid", "manifest.json or manifest.sig is missing")
        raw = zf.read(MANIFEST)
        try:
            manifest = json.loads(raw.decode("utf-8"))
            sig = json.loads(zf.read(SIGNATURE).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise PackageProblem("transfer_package_invalid", "manifest.json is not JSON") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION \
                or not isinstance(manifest.get("files"), list) or not isinstance(manifest.get("student"), dict):
            raise PackageProblem("transfer_package_invalid", f"not a {FORMAT} package of version {VERSION}")
        verified = check_signature(raw, sig, trusted or {})
        listed = {}
        for f in manifest["files"]:
            if not isinstance(f, dict) or not isinstance(f.get("path"), str):
                raise PackageProblem("transfer_package_invalid", "a file entry of the manifest has no path")
            listed[f["path"]] = f
        for path in sorted(names - {MANIFEST, SIGNATURE} - set(listed)):
            raise PackageProblem("transfer_file_mismatch", f"{path} is in the package but not in the manifest", path)
        records = {}
        for path, f in listed.items():
            if path not in names:
                raise PackageProblem("transfer_file_mismatch", f"{path} is in the manifest but not in the package", path)
            h, size = hashlib.sha256(), 0
            keep = path.startswith("records/") and path.endswith(".json")
            buf = bytearray()
            with zf.open(path) as src:
                for chunk in iter(lambda: src.read(1024 * 1024), b""):
                    h.update(chunk)
                    size += len(chunk)
                    if keep and size <= MAX_RECORDS_BYTES:
                        buf += chunk
            if h.hexdigest() != f.get("sha256") or size != f.get("size"):
                raise PackageProblem("transfer_file_mismatch", f"{path}: its bytes are not the manifest's fingerprint", path)
            if keep:
                try:
                    records[path[len("records/"):-len(".json")]] = json.loads(bytes(buf).decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    raise PackageProblem("transfer_package_invalid", f"{path} is not JSON", path) from None
    return {"manifest": manifest, "signature": {"key_id": sig.get("key_id"), "verified": verified},
            "records": records}


def match_student(manifest: dict, national_id: str):
    """The receiving school chose a student on its roster: the package must be that student's
    (the manifest's national ID, compared case-insensitively); else PackageProblem
    transfer_student_mismatch. Neither ID is put into the message."""
    theirs = str((manifest.get("student") or {}).get("national_id") or "").strip().upper()
    if not theirs or theirs != str(national_id or "").strip().upper():
        raise PackageProblem("transfer_student_mismatch", "the package is another student's than the one chosen")
