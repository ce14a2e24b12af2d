"""No file, however malformed, makes the reader raise: only row problems or a file-level refusal."""
from gateway import sheets
from tests.support.fuzzfiles import files

from .test_sheets import COLUMNS


def test_five_hundred_mutated_files_read_without_an_exception():
    refused = read = 0
    for name, data, what in files(500):
        sheet = sheets.read_sheet(name, data, COLUMNS)
        assert sheet.rows or sheet.problems, what
        for p in sheet.problems:
            assert isinstance(p["row"], int) and p["code"] and p["message"], (what, p)
            assert p["code"] != "file_unreadable", f"{what}: an unexpected failure hidden as unreadable"
        if any(p["row"] == 0 for p in sheet.problems):
            refused += 1
            assert sheet.rows == [], what
        else:
            read += 1
            assert all(isinstance(v, str) and len(v) <= sheets.MAX_CELL for r in sheet.rows for v in r["cells"].values()), what
    assert refused > 50 and read > 50  # the mutations reach both kinds of outcome
