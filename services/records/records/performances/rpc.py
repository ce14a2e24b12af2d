"""nameko entrypoints of performances (多元表現): load, call a use case, dump."""
from portfolio_common.permissions import allowed

from portfolio_common import events
from portfolio_common.nameko_kit import reliable_event_handler, rpc

from .. import importing
from ..errors import NotFound
from . import usecases
from .importer import IMPORTERS


class Rpc:
    @rpc
    @allowed("registrar", "organising_unit", "system")
    def import_performances(self, caller, rows, dry_run=True, basis=None, options=None):
        """Rows of one sheet of the 多元表現名冊 the school or an external body reports;
        options {kind: "performance_<kind>"} names the sheet (performances/importer.py;
        records/importing.py for the answer). An unknown kind: not_found."""
        importer = IMPORTERS.get(str((options or {}).get("kind") or ""))
        if importer is None:
            raise NotFound("no such performance sheet")
        with self.platform.uow() as uow:
            return importing.run_import(uow, importer, {"caller": caller}, rows, dry_run=dry_run, basis=basis)

    @rpc
    @allowed("student", "registrar", "organising_unit", "system")
    def record_performance(self, caller, data):
        """Record a performance: {kind, fields, student_id?, entered_by?, school_year?} ->
        the performance (state proof_missing). Students record their own (entered_by student);
        the registrar and organising unit record `school` or `external` ones for a student.
        Errors: fields_invalid (problems by field), not_found."""
        with self.platform.uow() as uow:
            return usecases.record_performance(uow, caller, data)

    @rpc
    @allowed("student", "homeroom_teacher", "registrar", "organising_unit", "system")
    def list_performances(self, caller, student_id=None, school_year=None):
        """[performance] of one student (default: the calling student), newest year first."""
        with self.platform.uow() as uow:
            return usecases.list_performances(uow, caller, student_id, school_year)

    @rpc
    @allowed("student", "registrar", "organising_unit", "system")
    def issue_performance_ticket(self, caller, performance_id):
        """{performance_id, ticket}: the proof's upload ticket for the files service (15 min)."""
        with self.platform.uow() as uow:
            return usecases.issue_proof_ticket(uow, caller, performance_id, self.platform.ticket_key)

    @rpc
    @allowed("student", "homeroom_teacher", "registrar", "organising_unit", "system")
    def grant_performance_proof_read(self, caller, performance_id):
        """{file_id, filename, grant}: for a reader of the performance (the student, the homeroom
        teacher of the student's class, the registrar), a 60 s grant the files service needs to
        answer a download link of its proof. Errors: not_found (no such performance, not yours
        to read, or no proof yet)."""
        with self.platform.uow() as uow:
            return usecases.grant_proof_read(uow, caller, performance_id, self.platform.ticket_key)

    @rpc
    @allowed("student", "registrar", "organising_unit", "system")
    def void_performance(self, caller, performance_id, expected_version, reason):
        """Void a mistaken performance with a reason (kept, marked). Errors: stale_record,
        fields_invalid (no reason), performance_voided, not_found."""
        with self.platform.uow() as uow:
            return usecases.void_performance(uow, caller, performance_id, expected_version, reason)

    @reliable_event_handler("files", events.PERFORMANCE_UPLOADED)
    def handle_performance_uploaded(self, body):
        env = events.load_event(events.PERFORMANCE_UPLOADED, body)
        with self.platform.uow() as uow:
            usecases.attach_proof(uow, env)
