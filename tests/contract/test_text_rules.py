"""One definition of how short texts are cleaned and counted, on both sides of the wire:
the services' `portfolio_common.text` and the portal's `static/textrules.js`, each checked
against the same table (text-rules.json, which holds the shared cases U09 and U11)."""
import json
import os
import shutil
import subprocess

import pytest

from portfolio_common.text import clean_text, cleaned_length

HERE = os.path.dirname(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))
TABLE = json.load(open(os.path.join(HERE, "text-rules.json"), encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", TABLE, ids=[c["name"] for c in TABLE])
def test_the_service_side_follows_the_table(case):
    assert clean_text(case["input"]) == case["cleaned"]
    assert cleaned_length(case["input"]) == case["length"]


CASES = os.path.join(ROOT, "..", "shared", "cases")


def test_the_table_holds_the_shared_cases_byte_for_byte():
    def read(name):
        with open(os.path.join(CASES, name, "description.txt"), encoding="utf-8", newline="") as fh:
            return fh.read()
    assert TABLE[0]["input"] == read("U09_crlf_description") and TABLE[0]["length"] == 100
    assert TABLE[1]["input"] == read("U11_zero_width_description") and TABLE[1]["cleaned"] == ""


def test_the_portal_counter_follows_the_same_table():
    node = shutil.which("node")
    assert node, "node is needed to test the portal's text rules (apt-get install nodejs)"
    res = subprocess.run([node, "--test", os.path.join(ROOT, "gateway", "tests", "js")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert f"# pass {len(TABLE)}" in res.stdout
