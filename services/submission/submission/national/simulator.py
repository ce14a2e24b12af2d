"""A simulator of the national side (the central database's upload), for the demo and the tests.

    python -m submission.national.simulator --port 8099   (the launcher and the test stack start it)

POST /packages with a package zip (rosters.py's format) as the body answers 200 with a receipt
file (JSON, `national-receipt/1`): one result per roster row, `accepted` or `refused` with the
reason's code; a package it cannot read answers 422 `{"error": "package_invalid", "reason"}`.
It checks what the national side is known to check: the manifest's fingerprints (evidence
files included: their bytes against the manifest, and each row's file named in evidence.jsonl
present), the cover sheet against the manifest, every sheet's column headers against the year's
column set, and every row of every sheet (身分證號 and its checksum, 出生日期 as ROC yyyMMdd,
課程代碼, 成果簡述, and each column by its type: codes, dates, numbers, grades, required fields). With
NATIONAL_SIM_COURSE_CODES (a file, one code a line: the course-plan platform's code file) a row
whose 課程代碼 is not listed is refused `course_code_unknown`: the school cannot see that list, so
this is how a row passes the school's pre-check and is still refused, as happens for real.
Nothing is stored; receipt ids count up from 1 per process.
"""
import argparse
import datetime as dt
import hashlib
import io
import itertools
import json
import os
import tempfile
import zipfile

from flask import Flask, jsonify, request

from portfolio_common import clock

from . import builders, columnset, domain, rosters

RECEIPT_FORMAT = "national-receipt/1"
MAX_PACKAGE_BYTES = 512 * 1024 * 1024


class PackageInvalid(Exception):
    pass


def _hash_entry(zf, name):
    h = hashlib.sha256()
    with zf.open(name) as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_evidence_index(zf, manifest):
    """Every evidence file evidence.jsonl names is in the package and in the manifest (whose
    fingerprints were checked against the bytes above)."""
    listed = {f["path"] for f in manifest.get("files", [])}
    try:
        with zf.open(rosters.EVIDENCE) as fh:
            for line in fh:
                e = json.loads(line)
                if e.get("path") and e["path"] not in listed:
                    raise PackageInvalid(f"{e['path']}: named by evidence.jsonl, missing from the manifest")
                if e.get("path") and not e["path"].startswith(rosters.EVIDENCE_DIR + e["sha256"]):
                    raise PackageInvalid(f"{e['path']}: not the file of its row's fingerprint")
    except KeyError:
        raise PackageInvalid("evidence.jsonl is missing") from None


def check_package(fh, today: dt.date, course_codes=None, receipt_id="") -> dict:
    """The receipt for the package in the seekable binary file `fh` (raises PackageInvalid)."""
    from openpyxl import load_workbook
    try:
        zf = zipfile.ZipFile(fh)
        manifest = json.loads(zf.read(rosters.MANIFEST).decode("utf-8"))
    except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise PackageInvalid(f"not a package: {exc}") from None
    if manifest.get("format") != rosters.PACKAGE_FORMAT:
        raise PackageInvalid("unknown package format")
    try:
        cs = columnset.load(int(manifest["school_year"]))
    except Exception as exc:  # noqa: BLE001 - any bad year is the package's fault
        raise PackageInvalid(f"school year: {exc}") from None
    results = []
    for entry in manifest.get("files", []):
        try:
            if _hash_entry(zf, entry["path"]) != entry["sha256"]:
                raise PackageInvalid(f"{entry['path']}: fingerprint does not match the manifest")
        except KeyError:
            raise PackageInvalid(f"{entry.get('path')}: missing from the package") from None
        if "roster" not in entry:
            continue
        roster = cs.roster(entry["roster"])
        wb = load_workbook(io.BytesIO(zf.read(entry["path"])), read_only=True)
        cover = {r[0]: r[1] for r in wb[cs.cover_sheet].iter_rows(values_only=True) if r and r[0]}
        if (str(cover.get("學校代碼")), str(cover.get("學年度")), str(cover.get("學期"))) != (
                str(manifest["school_code"]), str(manifest["school_year"]), str(manifest["semester"])):
            raise PackageInvalid(f"{entry['path']}: the cover sheet does not match the manifest")
        for sheet in roster.sheets:
            if sheet.name not in wb.sheetnames:
                raise PackageInvalid(f"{entry['path']}: sheet {sheet.name} is missing")
            values_of = wb[sheet.name].iter_rows(values_only=True)
            header = tuple(h for h in next(values_of, ()) if h is not None)
            tenant = next((t for t in ("day", "ce") if header == tuple(c.title for c in sheet.columns_for(t))), None)
            if tenant is None:
                raise PackageInvalid(f"{entry['path']}: {sheet.name}: columns are not the {cs.version} column set")
            columns = sheet.columns_for(tenant)
            main = {c.field for c in cs.roster("course_outcomes").sheets[0].columns}
            for n, values in enumerate(values_of, start=2):
                row = {c.field: v for c, v in zip(columns, values)}
                if roster.id == "course_outcomes":
                    problems = domain.row_problems(row, today, course_codes) + builders.row_problems(
                        [c for c in columns if c.field not in main], row, today)
                else:
                    problems = builders.row_problems(columns, row, today, course_codes)
                first = problems[0] if problems else None
                results.append({"roster": sheet.id, "row": n, "result": "refused" if first else "accepted",
                                "field": first[0] if first else None, "code": first[1] if first else None})
    _check_evidence_index(zf, manifest)
    return {"format": RECEIPT_FORMAT, "receipt_id": receipt_id, "school_code": manifest["school_code"],
            "school_year": manifest["school_year"], "semester": manifest["semester"],
            "package_sha256": rosters.sha256_of(fh), "received_at": clock.now().isoformat(),
            "accepted": sum(r["result"] == "accepted" for r in results),
            "refused": sum(r["result"] == "refused" for r in results), "rows": results}


def _codes(path):
    if not path:
        return None
    with open(path, encoding="utf-8") as fh:
        return {line.strip() for line in fh if line.strip()}


def create_app(course_codes_file=None):
    app = Flask("national-simulator")
    counter = itertools.count(1)

    @app.get("/health")
    def health():
        return {"ok": True}

    @app.post("/packages")
    def receive():
        if (request.content_length or 0) > MAX_PACKAGE_BYTES:
            return jsonify(error="package_invalid", reason="package too large"), 413
        with tempfile.TemporaryFile() as tmp:
            for chunk in iter(lambda: request.stream.read(1024 * 1024), b""):
                tmp.write(chunk)
            tmp.seek(0)
            try:
                manifest_school = None
                # read at each package: a test (or the demo) may change the national code file
                receipt = check_package(tmp, clock.today_in_school(), _codes(course_codes_file), receipt_id="")
            except PackageInvalid as exc:
                return jsonify(error="package_invalid", reason=str(exc)), 422
        receipt["receipt_id"] = f"{receipt['school_code']}-{receipt['school_year']}-{receipt['semester']}-{next(counter):04d}"
        body = json.dumps(receipt, ensure_ascii=False).encode("utf-8")
        return app.response_class(body, mimetype="application/json", headers={
            "Content-Disposition": f"attachment; filename=receipt-{receipt['receipt_id']}.json"})

    return app


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("NATIONAL_SIM_PORT", "8099")))
    args = ap.parse_args(argv)
    from werkzeug.serving import run_simple
    run_simple(args.host, args.port, create_app(os.environ.get("NATIONAL_SIM_COURSE_CODES")), threaded=True)


if __name__ == "__main__":
    main()
