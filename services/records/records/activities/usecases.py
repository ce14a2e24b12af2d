"""Cadres, clubs, public service and volunteering: entered and imported by the activities section
(in 進修部 the student affairs section holds the same role); read by the student and the homeroom
teacher of the student's class. One item per student, term, category and name."""
from .. import itemkit
from .domain import FIELDS, read_activity
from .orm import activities

KIND = itemkit.ItemKind(
    name="activity", table=activities, writers=("activities_section", "system"),
    read=read_activity, fields=FIELDS, key=("school_year", "semester", "category", "name"))

HISTORY_READERS = {"activity": itemkit.may_read_item(KIND)}
