"""National rosters as xlsx and the package that carries them, built in constant memory.

openpyxl's write-only workbook streams rows to a temporary file (3.1 writes strings inline, so
nothing grows with the row count); the package is a zip written to a file object, entries
copied in 1 MiB chunks while their SHA-256 is computed. Rows come from an iterator, so 2,000
students' rows never sit in memory as a workbook.

Package layout (format `portfolio-national-package/1`):
  rosters/<名冊名稱>.xlsx   one per roster, cover sheet first
  evidence.jsonl           per row: the evidence file's SHA-256 and file id
  manifest.json            school, year, semester, column set, every entry's SHA-256 and size
The evidence bytes themselves are not in the package yet: the manifest lists their
fingerprints and file ids (the files service holds them); see the service README.
"""
import hashlib
import json
import os
import tempfile
import zipfile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

PACKAGE_FORMAT = "portfolio-national-package/1"
MANIFEST = "manifest.json"
EVIDENCE = "evidence.jsonl"
CHUNK = 1024 * 1024
TEXT_FIELDS = {"national_id", "birth_date", "term", "course_code", "subject_name", "description",
               "school_code"}


def _cell(ws, value, as_text):
    """A write-only cell; text stays text (an ID's or code's leading zeros, a 簡述 that begins
    with '=' is never a formula)."""
    if value is None:
        return None
    if as_text or isinstance(value, str):
        c = WriteOnlyCell(ws, value=str(value))
        c.data_type = "s"
        return c
    return value


def write_roster(fh, column_set, roster_id: str, tenant: str, cover: dict, rows) -> int:
    """Write one roster workbook to the binary file object `fh`.

    cover: {school_code, school_year, semester}; rows: an iterable of dicts with the roster's
    fields (domain.precheck's rows). Returns the number of data rows written."""
    roster = column_set.roster(roster_id)
    columns = roster.columns_for(tenant)
    wb = Workbook(write_only=True)
    cs = wb.create_sheet(column_set.cover_sheet)
    values = dict(cover, roster_name=roster.name)
    for col in column_set.cover:
        cs.append([_cell(cs, col.title, True), _cell(cs, values.get(col.field), True)])
    ws = wb.create_sheet(roster.sheet)
    ws.append([_cell(ws, c.title, True) for c in columns])
    n = 0
    for row in rows:
        ws.append([_cell(ws, row.get(c.field), c.field in TEXT_FIELDS) for c in columns])
        n += 1
    wb.save(fh)
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


def build_package(out, column_set, tenant: str, cover: dict, rosters: dict, created_at: str) -> dict:
    """Write the package zip to the binary file object `out`; returns the manifest.

    rosters: {roster_id: iterable of rows}. Each roster is first written to a temporary file
    (write-only workbooks need a seekable target), then streamed into the zip; each row's
    evidence fingerprint goes, as it passes, to `evidence.jsonl` (one JSON object a line:
    roster, row, outcome_id, file_id, sha256), so nothing accumulates per row."""
    manifest = {"format": PACKAGE_FORMAT, "school_code": cover["school_code"],
                "school_year": cover["school_year"], "semester": cover["semester"],
                "column_set": column_set.version, "created_at": created_at, "files": []}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf, \
            tempfile.TemporaryFile() as evidence:
        for roster_id, rows in rosters.items():
            roster = column_set.roster(roster_id)

            def tracked(rows=rows, roster_id=roster_id):
                for r in rows:
                    evidence.write(json.dumps({"roster": roster_id, "row": r["row"],
                                               "outcome_id": r.get("outcome_id"), "file_id": r.get("file_id"),
                                               "sha256": r.get("sha256")}).encode() + b"\n")
                    yield r

            with tempfile.TemporaryFile() as tmp:
                count = write_roster(tmp, column_set, roster_id, tenant, cover, tracked())
                tmp.seek(0)
                name = f"rosters/{roster.name}.xlsx"
                with zf.open(name, "w", force_zip64=True) as entry:
                    digest, size = _copy_hashed(tmp, entry)
            manifest["files"].append({"path": name, "roster": roster_id, "rows": count,
                                      "sha256": digest, "size": size})
        evidence.seek(0)
        with zf.open(EVIDENCE, "w", force_zip64=True) as entry:
            digest, size = _copy_hashed(evidence, entry)
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

