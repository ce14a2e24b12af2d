"""National rosters as xlsx and the package that carries them, built in constant memory.

xlsxstream (XlsxWriter in constant-memory mode) flushes each row as it is written (nothing
grows with the row count, no cell object per value); the package is a
zip written to a file object, entries copied in 1 MiB chunks while their SHA-256 is computed
(the rosters and the evidence stored, not deflated again: an xlsx is a zip already, and
pdf / jpg / png / mp3 / mp4 are compressed). Rows come from an iterator, so 2,000
students' rows never sit in memory as a workbook.

Package layout (format `portfolio-national-package/1`):
  rosters/<名冊名稱>.xlsx   one per roster, cover sheet first, then each of its sheets
  evidence/<sha256>.<ext>  the evidence files themselves (when an evidence source is given),
                           streamed from the object store, each checked against its fingerprint
  evidence.jsonl           per file of a row (an outcome's document and media file each, a
                           performance's proof): sheet, row, slot, file id, SHA-256, path
  manifest.json            school, year, semester, column set, every entry's SHA-256 and size
"""
import hashlib
import json
import os
import tempfile
import zipfile

from . import xlsxstream

PACKAGE_FORMAT = "portfolio-national-package/1"
MANIFEST = "manifest.json"
EVIDENCE = "evidence.jsonl"
CHUNK = 1024 * 1024
TEXT_FIELDS = {"national_id", "birth_date", "term", "course_code", "subject_name", "description",
               "school_code"}
TEXT_TYPES = {"national_id", "date", "code", "course_code", "flag", "text", "description"}
EVIDENCE_DIR = "evidence/"
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "audio/mpeg": ".mp3",
              "video/mp4": ".mp4"}


class EvidenceMismatch(Exception):
    """An evidence file's bytes do not have the fingerprint kept when it was certified/locked."""


def _text(value, as_text):
    """A cell's value: text stays text (an ID's or code's leading zeros; a 簡述 that begins with
    '=' is never a formula: xlsxstream writes every str as a string, never a formula)."""
    if value is None:
        return None
    return str(value) if as_text or isinstance(value, str) else value


def write_roster(fh, column_set, roster_id: str, tenant: str, cover: dict, rows) -> int:
    """Write one roster workbook to the binary file object `fh` (xlsxstream: streamed).

    cover: {school_code, school_year, semester}; rows: an iterable of dicts with the roster's
    fields (domain.precheck's rows), or {sheet id: iterable of rows} for a roster of several
    sheets (every sheet of the roster is written, an empty one with its header only). Returns
    the number of data rows written."""
    roster = column_set.roster(roster_id)
    by_sheet = rows if isinstance(rows, dict) else {roster.sheets[0].id: rows}
    values = dict(cover, roster_name=roster.name)
    n = 0
    with xlsxstream.Workbook(fh) as wb:
        wb.sheet(column_set.cover_sheet, ([col.title, _text(values.get(col.field), True)] for col in column_set.cover))
        for sheet in roster.sheets:
            columns = sheet.columns_for(tenant)
            kinds = [(c.field, c.field in TEXT_FIELDS or c.type in TEXT_TYPES) for c in columns]

            def lines(rows=by_sheet.get(sheet.id, ())):
                yield [c.title for c in columns]
                for row in rows:
                    yield [_text(row.get(f), as_text) for f, as_text in kinds]
            n += wb.sheet(sheet.name, lines()) - 1
    return n


def _copy_hashed(src, dst) -> tuple:
    h, size = hashlib.sha256(), 0
    while True:
        chunk = src.read(CHUNK)
        if not chunk:
            return h.hexdigest(), size
        h.update(chunk)
        size += len(chunk)
        dst.write(chunk)


def sha256_of(fh) -> str:
    h = hashlib.sha256()
    fh.seek(0)
    for chunk in iter(lambda: fh.read(CHUNK), b""):
        h.update(chunk)
    fh.seek(0)
    return h.hexdigest()


def files_of(row) -> list:
    """The evidence files of a roster row: a course outcome's `files` (its document and its
    media file, domain.outcome_files), else the row's one file (a performance's proof)."""
    files = row.get("files")
    if files is None:
        files = [{"slot": None, "file_id": row.get("file_id"), "sha256": row.get("sha256"),
                  "content_type": row.get("content_type")}]
    return [f for f in files if f.get("sha256") and f.get("file_id")]


def _sheets_of(roster, rows):
    return rows if isinstance(rows, dict) else {roster.sheets[0].id: rows}


def build_package(out, column_set, tenant: str, cover: dict, rosters: dict, created_at: str,
                  evidence=None) -> dict:
    """Write the package zip to the binary file object `out`; returns the manifest.

    rosters: {roster_id: iterable of rows, or {sheet id: iterable of rows}}. Each roster is
    first written to a temporary file (write-only workbooks need a seekable target), then
    streamed into the zip; each row's evidence fingerprint goes, as it passes, to
    `evidence.jsonl` (one JSON object a line per file of a row, files_of: roster (the sheet
    id), row, outcome_id, item_id, slot (document | media | None), file_id, sha256, path), so
    nothing accumulates per row.

    evidence: None (the package lists fingerprints only) or a callable file_id -> a context
    manager giving a readable binary stream of that file's bytes (the object store's); each
    distinct file is then copied to `evidence/<sha256><ext>` in 1 MiB chunks while hashed, and
    the package is refused (EvidenceMismatch, nothing is sent) when the bytes' SHA-256 is not
    the one the row carries. Every entry, evidence included, is in the manifest with its
    SHA-256 and size."""
    manifest = {"format": PACKAGE_FORMAT, "school_code": cover["school_code"],
                "school_year": cover["school_year"], "semester": cover["semester"],
                "column_set": column_set.version, "created_at": created_at, "files": []}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf, \
            tempfile.TemporaryFile() as index:
        for roster_id, rows in rosters.items():
            roster = column_set.roster(roster_id)

            def tracked(rows, sheet_id):
                for r in rows:
                    for f in files_of(r):
                        index.write(json.dumps({
                            "roster": sheet_id, "row": r["row"], "outcome_id": r.get("outcome_id"),
                            "item_id": r.get("item_id"), "slot": f.get("slot"), "file_id": f["file_id"],
                            "sha256": f["sha256"], "content_type": f.get("content_type")}).encode() + b"\n")
                    yield r

            sheets = {k: tracked(v, k) for k, v in _sheets_of(roster, rows).items()}
            with tempfile.TemporaryFile() as tmp:
                count = write_roster(tmp, column_set, roster_id, tenant, cover, sheets)
                tmp.seek(0)
                name = f"rosters/{roster.name}.xlsx"
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_STORED          # an xlsx is deflated already
                with zf.open(info, "w", force_zip64=True) as entry:
                    digest, size = _copy_hashed(tmp, entry)
            manifest["files"].append({"path": name, "roster": roster_id, "rows": count,
                                      "sha256": digest, "size": size})
        index.seek(0)
        with tempfile.TemporaryFile() as listing:
            seen = set()                   # one fingerprint (64 characters) per distinct file
            for line in index:
                e = json.loads(line)
                path = f"{EVIDENCE_DIR}{e['sha256']}{EXTENSIONS.get(e.get('content_type'), '')}"
                if evidence is not None and e["sha256"] not in seen:
                    info = zipfile.ZipInfo(path)
                    info.compress_type = zipfile.ZIP_STORED      # pdf, jpg, mp4: compressed already
                    with evidence(e["file_id"]) as src, zf.open(info, "w", force_zip64=True) as entry:
                        digest, size = _copy_hashed(src, entry)
                    if digest != e["sha256"]:
                        raise EvidenceMismatch(f"file {e['file_id']}: its bytes do not have the kept fingerprint")
                    manifest["files"].append({"path": path, "evidence": True, "sha256": digest, "size": size})
                seen.add(e["sha256"])
                e.pop("content_type", None)
                e["path"] = path if evidence is not None else None
                listing.write(json.dumps(e).encode() + b"\n")
            listing.seek(0)
            with zf.open(EVIDENCE, "w", force_zip64=True) as entry:
                digest, size = _copy_hashed(listing, entry)
        manifest["files"].append({"path": EVIDENCE, "sha256": digest, "size": size})
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def read_manifest(path_or_fh) -> dict:
    with zipfile.ZipFile(path_or_fh) as zf:
        return json.loads(zf.read("manifest.json").decode("utf-8"))


def spooled_package_file(directory=None):
    """A temporary file for a package (on disk: packages can be large)."""
    return tempfile.NamedTemporaryFile(prefix="national-", suffix=".zip", dir=directory, delete=False)


def remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass

