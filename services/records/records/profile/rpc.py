"""nameko entrypoints of the student profile: load, call a use case, dump."""
from portfolio_common.permissions import allowed

from portfolio_common.nameko_kit import rpc

from .. import importing
from ..errors import Invalid
from . import usecases
from .importer import IMPORTERS


def _fields(data):
    if not isinstance(data, dict):
        raise Invalid("the profile is an object of fields", code="invalid")
    return {str(k): v for k, v in data.items()}


class Rpc:
    @rpc
    @allowed("registrar", "system")
    def list_students(self, caller, class_code=None):
        """The tenant's student profiles, national IDs masked: [{id, student_no, name,
        class_code, class_name, seat_no, national_id_masked, birth_date, birth_date_roc, gender,
        status, version, ...}]."""
        with self.platform.uow() as uow:
            return usecases.list_students(uow, self.platform.vault, caller, class_code)

    @rpc
    @allowed("registrar", "system", "student")
    def get_student(self, caller, student_id):
        """One profile (the registrar's tenant, or the student's own); others: not_found."""
        with self.platform.uow() as uow:
            return usecases.get_student(uow, self.platform.vault, caller, student_id)

    @rpc
    @allowed("student")
    def get_my_profile(self, caller):
        with self.platform.uow() as uow:
            return usecases.get_my_profile(uow, self.platform.vault, caller)

    @rpc
    @allowed("registrar", "system")
    def create_student(self, caller, data, options):
        """New profile from the form/API. options: {school_year (ROC), school_code (the
        tenant's default)}. Refusals: fields_invalid with details.problems [{field, code}]."""
        with self.platform.uow() as uow:
            return usecases.create_student(uow, self.platform.vault, caller, _fields(data), options)

    @rpc
    @allowed("registrar", "system")
    def update_student(self, caller, student_id, data, expected_version, options):
        """Change a profile; `expected_version` is the version the caller read (stale_record
        when it changed since; nothing written)."""
        with self.platform.uow() as uow:
            return usecases.update_student(uow, self.platform.vault, caller, student_id, _fields(data),
                                           expected_version, options)

    @rpc
    @allowed("registrar", "system")
    def import_student_profiles(self, caller, rows, dry_run=True, basis=None, options=None):
        """Rows of the registrar's roster file (records/importing.py): every problem by row
        and column; all or nothing; idempotent; `basis` from the dry run guards the real run."""
        with self.platform.uow() as uow:
            ctx = usecases.ctx_of(caller, self.platform.vault, dict(options or {}, via="import"))
            return importing.run_import(uow, IMPORTERS["student_profile"], ctx, rows,
                                        dry_run=dry_run, basis=basis)
