"""Consultation records (課程諮詢紀錄): entered by the course-consultation teacher; read by the
student, the homeroom teacher of the student's class and the guidance counsellors (regulation
§3(二), DOMAIN.md). EXPORTS: `KIND.exported` is False — consultation records stay at school and
no export (national roster, portfolio download, transfer) may include them."""
from .. import itemkit
from .domain import FIELDS, read_consultation
from .orm import consultations

KIND = itemkit.ItemKind(
    name="consultation", table=consultations, writers=("consultation_teacher", "system"),
    readers=(itemkit.COUNSELLOR,), read=read_consultation, fields=FIELDS, exported=False)

HISTORY_READERS = {"consultation": itemkit.may_read_item(KIND)}
