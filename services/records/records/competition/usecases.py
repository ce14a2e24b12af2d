"""In-school competitions: entered by the organising unit; read by the student and the homeroom
teacher of the student's class. One item per student, term, competition and item (項目); each
takes a proof file (證明文件) the organising unit uploads (records/itemproofs)."""
from .. import itemkit
from .domain import FIELDS, read_competition
from .orm import competitions

KIND = itemkit.ItemKind(
    name="competition", table=competitions, writers=("organising_unit", "system"),
    read=read_competition, fields=FIELDS, key=("school_year", "semester", "name", "content"), proof=True)

HISTORY_READERS = {"competition": itemkit.may_read_item(KIND)}
