"""The discipline section's attendance spreadsheet: one row per student, term and absence code."""
from ..itemkit import STUDENT_NO, ItemImporter
from .usecases import KIND

COLUMNS = [
    STUDENT_NO,
    ("school_year", "學年度", ("school_year", "學年"), True, "code", None),
    ("semester", "學期", ("semester",), True, "code", None),
    ("absence_code", "假別代碼", ("假別", "缺曠別", "absence_code", "code"), True, "code", 2),
    ("periods", "節數", ("缺曠節數", "請假節數", "periods", "count"), True, "int", None),
]

IMPORTERS = {"attendance": ItemImporter(KIND, COLUMNS)}
