"""nameko entrypoints of cadres, clubs, public service and volunteering."""
from portfolio_common.nameko_kit import rpc
from portfolio_common.permissions import allowed

from .. import importing, itemkit
from .importer import IMPORTERS
from .usecases import KIND


class Rpc:
    @rpc
    @allowed("activities_section", "homeroom_teacher", "student", "system")
    def list_activities(self, caller, student_id=None, class_code=None):
        """class_code: [{student, items}]; student_id: [item]; neither: the calling student's own.
        item: {id, school_year, semester, category (cadre|club|service|volunteer), name, position,
        hours, started_on, ended_on, description, version, voided_at, ...}."""
        with self.platform.uow() as uow:
            if class_code:
                return itemkit.list_for_class(uow, KIND, caller, class_code)
            if student_id:
                return itemkit.list_for_student(uow, KIND, caller, student_id)
            return itemkit.list_mine(uow, KIND, caller)

    @rpc
    @allowed("activities_section", "system")
    def record_activity(self, caller, student_id, data):
        with self.platform.uow() as uow:
            return itemkit.record_item(uow, KIND, caller, student_id, data)

    @rpc
    @allowed("activities_section", "system")
    def update_activity(self, caller, item_id, data, expected_version):
        with self.platform.uow() as uow:
            return itemkit.update_item(uow, KIND, caller, item_id, data, expected_version)

    @rpc
    @allowed("activities_section", "system")
    def void_activity(self, caller, item_id, expected_version, reason):
        with self.platform.uow() as uow:
            return itemkit.void_item(uow, KIND, caller, item_id, expected_version, reason)

    @rpc
    @allowed("activities_section", "system")
    def import_activities(self, caller, rows, dry_run=True, basis=None, options=None):
        """Rows of the activities section's file (records/importing.py)."""
        with self.platform.uow() as uow:
            return importing.run_import(uow, IMPORTERS["activity"], {"caller": caller}, rows,
                                        dry_run=dry_run, basis=basis)
