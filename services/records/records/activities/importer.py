"""The activities section's spreadsheet: one row per student, term, category and name."""
from ..itemkit import STUDENT_NO, ItemImporter
from .usecases import KIND

COLUMNS = [
    STUDENT_NO,
    ("school_year", "學年度", ("school_year", "學年"), True, "code", None),
    ("semester", "學期", ("semester",), True, "code", None),
    ("category", "類別", ("項目", "category", "type"), True, "text", None),
    ("name", "名稱", ("單位名稱", "社團名稱", "服務名稱", "name"), True, "text", None),
    ("position", "擔任職務", ("職務", "position"), False, "text", None),
    ("hours", "時數", ("服務時數", "hours"), False, "int", None),
    ("started_on", "開始日期", ("起日", "started_on"), False, "date", None),
    ("ended_on", "結束日期", ("迄日", "ended_on"), False, "date", None),
    ("description", "內容簡述", ("簡述", "description"), False, "text", None),
]

IMPORTERS = {"activity": ItemImporter(KIND, COLUMNS)}
