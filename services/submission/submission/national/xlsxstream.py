"""The national rosters' xlsx writer: XlsxWriter in constant-memory mode (each row is flushed to
a temporary file as soon as the next row starts, so memory does not grow with the rows).

Why XlsxWriter and not openpyxl's write-only workbook (used before): openpyxl builds a cell
object and an element per value and serialises them through et_xmlfile; for 2,000 students
(56,000 rows) that was most of the package's build time (docs/benchmarks.md, national).
XlsxWriter writes each row's XML directly. The files it writes are read by openpyxl (the
simulator, the tests), Excel and LibreOffice.

Values: str -> always a string (a leading '=' is never a formula, leading zeros and '+886'
stay, a URL stays text); int / float -> a number; bool -> a boolean; None -> no cell.
Characters XML 1.0 does not allow (control characters) are dropped.
"""
import re

import xlsxwriter

ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
OPTIONS = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
           "strings_to_urls": False, "use_zip64": True}


def column_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


class Workbook:
    """Write an xlsx to a seekable binary file object: `sheet(name, rows)` for each sheet in
    order (rows: an iterable of lists of values), then `close()` (or use it as a context
    manager)."""

    def __init__(self, fh):
        self.book = xlsxwriter.Workbook(fh, OPTIONS)

    def sheet(self, name: str, rows) -> int:
        """Write one worksheet; returns how many rows it has. Sheet names are cleaned of the
        characters Excel refuses in them ([]:*?/\\) and cut to its 31 characters."""
        ws = self.book.add_worksheet(re.sub(r"[\[\]:*?/\\]", "_", ILLEGAL.sub("", name))[:31])
        n = 0
        for r, values in enumerate(rows):
            n += 1
            for c, v in enumerate(values):
                if v is None:
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(r, c, v)
                elif isinstance(v, (int, float)):
                    ws.write_number(r, c, v)
                else:
                    ws.write_string(r, c, ILLEGAL.sub("", str(v)))
        return n

    def close(self):
        self.book.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
