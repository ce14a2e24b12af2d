"""Career-plan assessments (學群探索與就業規劃): entered by the guidance counsellor; read by the
counsellors, the student and the homeroom teacher of the student's class."""
from .. import itemkit
from .domain import FIELDS, read_assessment
from .orm import career_assessments

KIND = itemkit.ItemKind(
    name="career_assessment", table=career_assessments, writers=(itemkit.COUNSELLOR, "system"),
    read=read_assessment, fields=FIELDS)

HISTORY_READERS = {"career_assessment": itemkit.may_read_item(KIND)}
