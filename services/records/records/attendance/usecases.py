"""Attendance (出缺勤): entered and imported by the discipline section; read by the student and
the homeroom teacher of the student's class. One item per student, term and absence code."""
from .. import itemkit
from .domain import FIELDS, read_attendance
from .orm import attendance_counts

KIND = itemkit.ItemKind(
    name="attendance", table=attendance_counts, writers=("discipline_section", "system"),
    read=read_attendance, fields=FIELDS, key=("school_year", "semester", "absence_code"))

HISTORY_READERS = {"attendance": itemkit.may_read_item(KIND)}
