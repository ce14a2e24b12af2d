"""nameko entrypoints of the status history."""
from portfolio_common.permissions import allowed

from portfolio_common.nameko_kit import rpc

from .. import importing
from ..errors import Invalid
from . import usecases
from .importer import IMPORTERS


class Rpc:
    @rpc
    @allowed("registrar", "system", "student")
    def list_status_changes(self, caller, student_id):
        """[{id, change, effective_on, other_school_code, school_year, semester, note,
        recorded_via, voided_at, void_reason, version}] of one student, earliest first."""
        with self.platform.uow() as uow:
            return usecases.list_status_changes(uow, caller, student_id)

    @rpc
    @allowed("registrar", "system")
    def record_status_change(self, caller, student_id, data):
        """Add a dated status change; publishes student-status-changed (outbox)."""
        if not isinstance(data, dict):
            raise Invalid("the change is an object of fields")
        with self.platform.uow() as uow:
            result = usecases.record_status_change(uow, caller, student_id, data)
        self.platform.events_written()
        return result

    @rpc
    @allowed("registrar", "system")
    def void_status_change(self, caller, change_id, expected_version, reason):
        with self.platform.uow() as uow:
            return usecases.void_status_change(uow, caller, change_id, expected_version, reason)

    @rpc
    @allowed("registrar", "system")
    def import_status_changes(self, caller, rows, dry_run=True, basis=None, options=None):
        """Rows of a status-change file (records/importing.py)."""
        with self.platform.uow() as uow:
            ctx = {"caller": caller}
            result = importing.run_import(uow, IMPORTERS["status_change"], ctx, rows,
                                          dry_run=dry_run, basis=basis)
        if result["written"]:
            self.platform.events_written()
        return result
