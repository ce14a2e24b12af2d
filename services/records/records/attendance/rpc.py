"""nameko entrypoints of attendance."""
from portfolio_common.nameko_kit import rpc
from portfolio_common.permissions import allowed

from .. import importing, itemkit
from .importer import IMPORTERS
from .usecases import KIND


class Rpc:
    @rpc
    @allowed("discipline_section", "homeroom_teacher", "student", "system")
    def list_attendance(self, caller, student_id=None, class_code=None):
        """class_code: [{student, items}]; student_id: [item]; neither: the calling student's own.
        item: {id, school_year, semester, absence_code (01-12), periods, version, voided_at, ...}."""
        with self.platform.uow() as uow:
            if class_code:
                return itemkit.list_for_class(uow, KIND, caller, class_code)
            if student_id:
                return itemkit.list_for_student(uow, KIND, caller, student_id)
            return itemkit.list_mine(uow, KIND, caller)

    @rpc
    @allowed("discipline_section", "system")
    def record_attendance(self, caller, student_id, data):
        """New count {school_year, semester, absence_code, periods}; the same student, term and
        code already counted: item_exists (change that one)."""
        with self.platform.uow() as uow:
            return itemkit.record_item(uow, KIND, caller, student_id, data)

    @rpc
    @allowed("discipline_section", "system")
    def update_attendance(self, caller, item_id, data, expected_version):
        with self.platform.uow() as uow:
            return itemkit.update_item(uow, KIND, caller, item_id, data, expected_version)

    @rpc
    @allowed("discipline_section", "system")
    def void_attendance(self, caller, item_id, expected_version, reason):
        with self.platform.uow() as uow:
            return itemkit.void_item(uow, KIND, caller, item_id, expected_version, reason)

    @rpc
    @allowed("discipline_section", "system")
    def import_attendance(self, caller, rows, dry_run=True, basis=None, options=None):
        """Rows of the discipline section's file (records/importing.py)."""
        with self.platform.uow() as uow:
            return importing.run_import(uow, IMPORTERS["attendance"], {"caller": caller}, rows,
                                        dry_run=dry_run, basis=basis)
