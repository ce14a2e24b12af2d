"""nameko entrypoints of transfer imports (records/transferin/usecases.py)."""
from portfolio_common.nameko_kit import rpc
from portfolio_common.permissions import allowed

from . import usecases


class Rpc:
    @rpc
    @allowed(*usecases.IMPORT_ROLES)
    def issue_transfer_ticket(self, caller, student_id):
        """{student_id, ticket}: the registrar's upload ticket (15 min) of a transfer package (zip)
        for a student of the tenant, for the files service. not_found, student_sealed."""
        with self.platform.uow() as uow:
            return usecases.issue_transfer_ticket(uow, caller, student_id, self.platform.ticket_key)

    @rpc
    @allowed(*usecases.SERVICE_ROLES)
    def transfer_import_target(self, caller, student_id, national_id):
        """Sealed (the package's national ID is an argument): {student_id, student_user_id,
        student_no, name, class_name, matches, imported}; the ID is compared by its keyed hash,
        never answered. system:submission or system. not_found, student_sealed."""
        with self.platform.uow() as uow:
            return usecases.transfer_import_target(uow, self.platform.vault, caller, student_id, national_id)

    @rpc
    @allowed(*usecases.SERVICE_ROLES)
    def store_transfer_import(self, caller, student_id, record, imported_by, imported_by_username=None):
        """Keep a checked package's items for a student, once per package SHA-256 ({import_id,
        created}); system:submission (for the registrar it names) or system. not_found,
        student_sealed, invalid."""
        with self.platform.uow() as uow:
            return usecases.store_transfer_import(uow, caller, student_id, record, imported_by, imported_by_username)

    @rpc
    @allowed("registrar", "homeroom_teacher", "student", "system")
    def list_transfer_imports(self, caller, student_id=None):
        """A student's imported packages and their items, read only (student_id None: the calling
        student's own): see transferin.usecases.list_transfer_imports. not_found."""
        with self.platform.uow() as uow:
            return usecases.list_transfer_imports(uow, caller, student_id)

    @rpc
    @allowed("registrar", "homeroom_teacher", "student", "system")
    def grant_transfer_evidence_read(self, caller, student_id, file_id):
        """{file_id, filename, grant}: a 60 s read grant of an imported evidence file for a reader
        of the student (student_id None: the calling student's own), which files checks. not_found."""
        with self.platform.uow() as uow:
            return usecases.grant_transfer_evidence_read(uow, caller, student_id, file_id, self.platform.ticket_key)
