"""Runs last: no national ID (身分證號) in any log line the whole test run produced.

Every platform the tests start (end-to-end, browser, reliability, messaging kit) writes its
process logs under pytest's base temporary directory; the demo school and the burst classes
send real, checksum-valid national IDs through the import paths, so a leak would show here.
"""
import json
import os
import re

from records.domain import national_id_checksum_ok

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NATIONAL_ID = re.compile(r"(?<![A-Za-z0-9])([A-Z][1289A-D]\d{8})(?![0-9])")


def known_ids():
    school = json.load(open(os.path.join(ROOT, "deploy", "demo", "school.json"), encoding="utf-8"))
    return {s["national_id"] for t in school["terms"].values() for s in t["students"]}


def test_no_national_id_in_any_log(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    logs = [os.path.join(d, f) for d, _, files in os.walk(base) for f in files
            if f.endswith(".log") or f == "log"]
    assert logs, f"no process logs under {base}: did the platform tests run in this session?"
    ids = known_ids()
    leaks = []
    for path in logs:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                for m in NATIONAL_ID.findall(line):
                    if m in ids or national_id_checksum_ok(m):
                        leaks.append(f"{os.path.relpath(path, base)}:{n}: {line.strip()[:160]}")
    assert not leaks, "national IDs in logs:\n" + "\n".join(leaks[:20])
