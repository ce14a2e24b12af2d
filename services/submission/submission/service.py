"""nameko entrypoints of the submission service: load, call a use case, dump."""

from portfolio_common.permissions import ANYONE, allowed, open_to
from nameko.rpc import RpcProxy
from nameko.timer import timer

from portfolio_common import events
from portfolio_common.nameko_kit import batch_event_handler, reliable_event_handler, rpc

from . import usecases
from .schoolcalendar import usecases as calendar
from .national import adapter as national_adapter
from .national import usecases as national
from .selection import consent as consents
from .selection import lock as locks
from .selection import usecases as choice
from .sealing import usecases as sealing
from .transfer import importing
from .transfer import usecases as transfer
from .dependencies import SubmissionPlatform


# Every role a person holds in a tenant (accounts.domain.ROLES): the calendar is the school's
# and each of its people reads it; `system` is the platform's tools.
TENANT_PEOPLE = ("student", "subject_teacher", "homeroom_teacher", "subject_convener", "consultation_teacher",
                 "guidance_counsellor", "registrar", "elective_officer", "discipline_section",
                 "activities_section", "organising_unit", "system_admin", "executive_secretary", "principal", "ops")


class SubmissionService:
    name = "submission"
    platform = SubmissionPlatform()
    records = RpcProxy("records")

    @rpc
    @open_to(ANYONE)
    def ping(self):
        return "pong"

    @rpc
    @allowed("student")
    def get_my_selection(self, caller, school_year):
        with self.platform.uow() as uow:
            return usecases.get_my_selection(uow, caller, school_year)

    @rpc
    @allowed("student")
    def select_outcomes(self, caller, school_year, outcome_ids):
        with self.platform.uow() as uow:
            return usecases.select_outcomes(uow, caller, school_year, outcome_ids)

    @rpc
    @allowed("registrar", "system")
    def lock_selections(self, caller, school_year, scope="tenant", scope_label="", student_user_ids=None):
        """Lock students' selections (selection.lock.lock: scope tenant | grade | class |
        student, the scope's students named by the gateway from records); holds a copy and
        publishes selection-locked for each student with consent; already_locked, invalid."""
        with self.platform.uow() as uow:
            result = usecases.lock_selections(uow, caller, school_year, scope, scope_label, student_user_ids)
        self.platform.events_written()
        return result

    @rpc
    @allowed("registrar", "system")
    def list_locked(self, caller, school_year):
        with self.platform.uow() as uow:
            return usecases.list_locked(uow, caller, school_year)

    @rpc
    @allowed(*TENANT_PEOPLE, "system")
    def get_calendar(self, caller, school_year=None, semester=None):
        """One term of the caller's tenant (None, None: the term holding today), see
        schoolcalendar.usecases.get_calendar for the shape; calendar_not_set, not_found."""
        with self.platform.uow() as uow:
            return calendar.get_calendar(uow, caller, school_year, semester)

    @rpc
    @allowed(*TENANT_PEOPLE, "system")
    def list_calendar(self, caller):
        """{today, current, terms: [...]} of the caller's tenant, newest term first."""
        with self.platform.uow() as uow:
            return calendar.list_calendar(uow, caller)

    @rpc
    @allowed("registrar", "system")
    def list_calendar_changes(self, caller, school_year, semester):
        """Every change of one term (who, when, before, after), newest first."""
        with self.platform.uow() as uow:
            return calendar.list_calendar_changes(uow, caller, school_year, semester)

    @rpc
    @allowed("registrar", "system")
    def set_term(self, caller, school_year, semester, fields, expected_version=None):
        """Create or change one term (windows, days, national deadline, the year's limits) and
        publish calendar-changed; fields_invalid by field, calendar_stale (see the use case)."""
        with self.platform.uow() as uow:
            result = calendar.set_term(uow, caller, school_year, semester, fields, expected_version)
        self.platform.events_written()
        return result

    @reliable_event_handler("certification", events.CERTIFIED)
    def handle_certified(self, body):
        env = events.load_event(events.CERTIFIED, body)
        with self.platform.uow() as uow:
            usecases.record_certified(uow, env)

    @reliable_event_handler("certification", events.CERTIFICATION_WITHDRAWN)
    def handle_certification_withdrawn(self, body):
        env = events.load_event(events.CERTIFICATION_WITHDRAWN, body)
        with self.platform.uow() as uow:
            usecases.record_withdrawn(uow, env)

    @timer(interval=1)
    def relay_outbox(self):
        self.platform.flush()

    # ---------------------------------------------------------------- the national side

    def _directory(self, caller):
        """records' export fields for the national rosters, asked as `system:submission` for the
        registrar's tenant (sealed RPC: the answer carries national IDs)."""
        def ask(year, ids, semester=None):
            token = self.platform.own_caller_token("records", caller.tenant)
            return self.records.national_export_fields(token, year, ids, caller.user_id, semester)
        return ask

    @rpc
    @allowed("registrar", "system")
    def national_precheck(self, caller, school_year, semester):
        """Every row of every roster of the semester validated, problems by student, sheet and
        row (national.usecases.precheck); not_locked, semester_invalid, column_set_missing."""
        with self.platform.uow() as uow:
            return national.precheck(uow, self._directory(caller), caller, school_year, semester)

    @rpc
    @allowed("registrar", "system")
    def submit_national(self, caller, school_year, semester):
        """Pre-check, build every roster and the package with the evidence files (streamed from
        files), send to NATIONAL_ENDPOINT, import the receipt, publish national-submitted
        (national.usecases.submit); precheck_failed, evidence_changed, storage_unavailable,
        national_unavailable, national_package_refused."""
        with self.platform.uow() as uow:
            evidence = national_adapter.FilesEvidence(lambda: self.platform.own_caller_token("files", caller.tenant))
            result = national.submit(uow, self._directory(caller), national_adapter.NationalGateway(), caller,
                                     school_year, semester, national_adapter.school_code(), evidence=evidence.open)
        self.platform.events_written()
        return result

    @rpc
    @allowed("registrar", "system")
    def national_roster_file(self, caller, school_year, semester, roster):
        """One roster (xlsx) or the whole package (roster "package", evidence files included) of
        the semester, built from the current data for the registrar to check
        (national.usecases.roster_file), kept a day by files for the caller alone. -> its metadata
        {filename, content_type, size, sha256, problem_count, download_id, expires_at}, no bytes;
        not_found, not_locked, evidence_changed, storage_unavailable."""
        evidence = national_adapter.FilesEvidence(lambda: self.platform.own_caller_token("files", caller.tenant))
        keep = national_adapter.FilesDownloads(lambda: self.platform.own_caller_token("files", caller.tenant)).keep
        with self.platform.uow() as uow:
            return national.roster_file(uow, self._directory(caller), caller, school_year, semester, roster,
                                        national_adapter.school_code(), evidence=evidence.open, keep=keep)

    @rpc
    @allowed("registrar", "system")
    def import_national_receipt(self, caller, batch_id, receipt):
        """A receipt file (text) for a batch; receipt_invalid, receipt_other_school,
        receipt_other_batch, receipt_already_imported, not_found."""
        with self.platform.uow() as uow:
            result = national.import_receipt(uow, caller, batch_id, receipt)
        self.platform.events_written()
        return result

    @rpc
    @allowed("registrar", "system")
    def list_national_batches(self, caller, school_year):
        with self.platform.uow() as uow:
            return national.list_batches(uow, caller, school_year)

    @rpc
    @allowed("registrar", "system")
    def get_national_batch(self, caller, batch_id):
        with self.platform.uow() as uow:
            return national.get_batch(uow, caller, batch_id)

    @rpc
    @allowed("student")
    def get_my_national_rows(self, caller, school_year):
        """我的上傳結果: the student's own rows in the latest receipts (national.usecases.my_rows)."""
        with self.platform.uow() as uow:
            return national.my_rows(uow, caller, school_year)

    @rpc
    @allowed("student")
    def report_national_row(self, caller, batch_id, roster, row, message):
        """A student's error report on their own row within the check days; not_found,
        window_closed, receipt_not_imported, report_invalid."""
        with self.platform.uow() as uow:
            return national.report_row(uow, caller, batch_id, roster, row, message)

    @rpc
    @allowed("registrar", "system")
    def list_national_reports(self, caller, school_year):
        with self.platform.uow() as uow:
            return national.list_reports(uow, caller, school_year)

    @rpc
    @allowed("registrar", "system")
    def resolve_national_report(self, caller, report_id, resolution):
        """The correction made for a report (who, when, what); report_already_resolved."""
        with self.platform.uow() as uow:
            return national.resolve_report(uow, caller, report_id, resolution)
    # ---------------------------------------------------------------- transfer (issue 9 item 8)

    @rpc
    @allowed(*transfer.EXPORT_ROLES)
    def export_transfer_package(self, caller, student_id=None):
        """A student's portfolio as a signed `portfolio-transfer` package (docs/transfer-package.md;
        transfer.usecases.export_package): the registrar names a student of the tenant, a student
        gets their own. The package goes to files, kept a day for the caller alone (no byte in the
        answer). -> {filename, content_type, size, sha256, key_id, download_id, expires_at};
        not_found, transfer_evidence_changed, storage_unavailable."""
        def directory(student_id=None, student_user_id=None):
            from nameko.exceptions import RemoteError
            from portfolio_common.errors import split_remote
            from portfolio_common.sealing import StudentSealed
            token = self.platform.own_caller_token("records", caller.tenant)
            try:
                return self.records.transfer_export_fields(token, student_id, student_user_id, caller.user_id)
            except RemoteError as exc:    # records' refusal, not a failure: passed on with its code
                code = split_remote(exc.value or "")[0]
                if code in ("not_found", "invalid"):
                    raise transfer.NotFound("student not found") from None
                if code == "student_sealed":
                    raise StudentSealed("this student is sealed: the portfolio is not exported") from None
                raise
        evidence = national_adapter.FilesEvidence(lambda: self.platform.own_caller_token("files", caller.tenant))
        code = national_adapter.school_code()
        keep = national_adapter.FilesDownloads(lambda: self.platform.own_caller_token("files", caller.tenant)).keep
        return transfer.export_package(directory, evidence.open, transfer.TransferSigner.from_config(code),
                                       caller, student_id, code, keep)

    # transfer import (the receiving school): submission/transfer/importing.py

    def _transfer_ports(self, caller):
        """The ports of an import, acting as system:submission of the caller's tenant: the
        uploaded zip and its evidence at files, the student at records (sealed: the national ID
        is sent to records to compare, never answered)."""
        from nameko.exceptions import RemoteError
        from portfolio_common.config import env
        from portfolio_common.errors import split_remote
        from portfolio_common.sealing import StudentSealed

        def records_call(method, *args):
            token = self.platform.own_caller_token("records", caller.tenant)
            try:
                return getattr(self.records, method)(token, *args)
            except RemoteError as exc:    # records' refusal, not a failure: passed on with its code
                code = split_remote(exc.value or "")[0]
                if code in ("not_found", "invalid"):
                    raise transfer.NotFound("student not found") from None
                if code == "student_sealed":
                    raise StudentSealed("this student is sealed: nothing is imported") from None
                raise

        files = national_adapter.FilesTransferPackages(lambda: self.platform.own_caller_token("files", caller.tenant))
        code = national_adapter.school_code()
        trusted = importing.trusted_keys(transfer.TransferSigner.from_config(code),
                                         env("TRANSFER_TRUSTED_KEYS"))
        target = lambda student_id, national_id: records_call(  # noqa: E731
            "transfer_import_target", student_id, national_id)
        store = lambda student_id, record: records_call(  # noqa: E731
            "store_transfer_import", student_id, record, caller.user_id, caller.username)
        return files, target, store, trusted, code

    @rpc
    @allowed(*importing.IMPORT_ROLES)
    def preview_transfer_import(self, caller, student_id, file_id):
        """What importing the uploaded transfer package `file_id` for a student of the tenant
        would store (transfer.importing.preview_import for the shape): origin, verified or not,
        counts per kind, the package's student next to ours. Nothing is stored. not_found,
        student_sealed, transfer_package_invalid, transfer_signature_invalid,
        transfer_file_mismatch, transfer_student_mismatch, transfer_same_school (this school's and
        tenant's own export brought back), storage_unavailable."""
        files, target, _, trusted, code = self._transfer_ports(caller)
        return importing.preview_import(files.open, target, trusted, caller, student_id, file_id, school_code=code)

    @rpc
    @allowed(*importing.IMPORT_ROLES)
    def import_transfer_package(self, caller, student_id, file_id):
        """The registrar confirmed: store the package's items (records, labelled 轉入 with the
        origin school) and its evidence files (files). Idempotent by the zip's SHA-256:
        {import_id, created, package_sha256, items, evidence}. The refusals of
        preview_transfer_import."""
        files, target, store, trusted, code = self._transfer_ports(caller)
        return importing.import_package(files.open, target, files.unpack, store, trusted, caller,
                                        student_id, file_id, school_code=code)

    # --- selection (issue 9 item 2): submission/selection/ -----------------------------------

    @rpc
    @allowed("student")
    def save_selection(self, caller, school_year, outcome_ids=None, performance_ids=None, expected_version=None):
        """Set the student's outcomes and performances of a year (None keeps a kind): see
        selection.usecases.save_selection for the shape and the refusals (window_closed,
        selection_locked, not_selectable, selection_quota_exceeded, selection_stale)."""
        with self.platform.uow() as uow:
            return choice.save_selection(uow, caller, school_year, outcome_ids, performance_ids, expected_version)

    @rpc
    @allowed("student")
    def set_selected(self, caller, school_year, kind, item_id, selected):
        """Select or unselect one outcome or performance (selection.usecases.set_item)."""
        with self.platform.uow() as uow:
            return choice.set_item(uow, caller, school_year, kind, item_id, bool(selected))

    @rpc
    @allowed("student", "registrar", "system")
    def list_selection_changes(self, caller, school_year, student_user_id=None):
        """Every change of a student's selection (who, when, before, after), newest first."""
        with self.platform.uow() as uow:
            return choice.list_selection_changes(uow, caller, school_year, student_user_id)

    @batch_event_handler("files", events.OUTCOME_UPLOADED)
    def handle_outcome_uploaded(self, bodies):
        """A batch of `outcome-uploaded` in one transaction (selection.usecases.
        record_outcomes_uploaded); a failing batch is applied event by event
        (nameko_kit.BatchEventHandler), so a bad event is retried or dead-lettered alone."""
        envs = [events.load_event(events.OUTCOME_UPLOADED, body) for body in bodies]
        with self.platform.uow() as uow:
            choice.record_outcomes_uploaded(uow, envs)

    @reliable_event_handler("certification", events.CERTIFICATION_RETURNED)
    def handle_certification_returned(self, body):
        env = events.load_event(events.CERTIFICATION_RETURNED, body)
        with self.platform.uow() as uow:
            choice.record_certification_returned(uow, env)

    @reliable_event_handler("files", events.PERFORMANCE_UPLOADED)
    def handle_performance_uploaded(self, body):
        env = events.load_event(events.PERFORMANCE_UPLOADED, body)
        with self.platform.uow() as uow:
            choice.record_performance_uploaded(uow, env)

    # --- consent (issue 9 item 3) and unlock, overview (item 4): submission/selection/ -------

    @rpc
    @allowed("student")
    def get_consent(self, caller, school_year):
        """The student's consent to release of a year and the wording to show (consent.get_consent)."""
        with self.platform.uow() as uow:
            return consents.get_consent(uow, caller, school_year)

    @rpc
    @allowed("student")
    def set_consent(self, caller, school_year, give, wording_version=None):
        """Give (with the wording version shown) or revoke the consent until the lock;
        selection_locked, consent_wording_changed (consent.set_consent)."""
        with self.platform.uow() as uow:
            return consents.set_consent(uow, caller, school_year, give, wording_version)

    @rpc
    @allowed("student", "registrar", "system")
    def list_consent_changes(self, caller, school_year, student_user_id=None):
        """Every give and revoke with its wording, newest first (consent.consent_log)."""
        with self.platform.uow() as uow:
            return consents.consent_log(uow, caller, school_year, student_user_id)

    @rpc
    @allowed("registrar", "system")
    def unlock_selections(self, caller, school_year, student_user_ids, reason):
        """Unlock named students for a correction, with a reason (audited in lock_events);
        unlock_reason_required, not_locked (lock.unlock)."""
        with self.platform.uow() as uow:
            return locks.unlock(uow, caller, school_year, student_user_ids, reason)

    @rpc
    @allowed("registrar", "system")
    def selection_overview(self, caller, school_year):
        """Per student: uploaded, certified, waiting, returned, unselected, selections, consent,
        lock; and the lock log (lock.overview)."""
        with self.platform.uow() as uow:
            return locks.overview(uow, caller, school_year)

    @rpc
    @allowed(*locks.LOCK_READERS)
    def locked_outcomes(self, caller, outcome_ids):
        """[outcome_id] of those named held in a student's current locked copy (lock.locked_outcomes):
        certification's own identity only, before a withdrawal."""
        with self.platform.uow() as uow:
            return locks.locked_outcomes(uow, caller, outcome_ids)

    @rpc
    @allowed("registrar", "system")
    def list_held_versions(self, caller, school_year, student_user_id):
        """Every held version of one student's locked selection (lock.held)."""
        with self.platform.uow() as uow:
            return locks.held(uow, caller, school_year, student_user_id)


    # ---------------------------------------------------------------- sealing (issue 9 item 7)

    @rpc
    @allowed("registrar", "system")
    def record_application_date(self, caller, student_id, student_user_id, applied_on):
        """Record a student's college application date (ISO date, not in the future).
        -> {student_id, applied_on, seal_due_on, previous}; errors application_date_invalid,
        student_sealed. Kept append-only with who and when (sealing/usecases.py)."""
        with self.platform.uow() as uow:
            return sealing.record_application_date(uow, caller, student_id, student_user_id, applied_on)

    @rpc
    @allowed("registrar", "system")
    def import_application_dates(self, caller, rows, dry_run=True, basis=None, options=None):
        """College application dates from the registrar's spreadsheet (sealing/importer.py):
        rows [{row, cells: {student_no, applied_on, student_id, student_user_id}}] (the gateway
        resolves 學號). -> {kind, dry_run, written, problems: [{row, column, code, params}],
        rows: [{row, key, action}], summary: {created, updated, unchanged}, basis}; all or
        nothing (portfolio_common/importing.py); stale_record when basis no longer holds."""
        from portfolio_common import importing
        from .sealing.importer import IMPORTER
        with self.platform.uow() as uow:
            return importing.run_import(uow, IMPORTER, {"caller": caller}, rows, dry_run=dry_run, basis=basis)

    @rpc
    @allowed("registrar", "system")
    def get_sealing_status(self, caller, student_id):
        """-> {student_id, applied_on, seal_due_on, sealed, sealed_at} (caller's tenant)."""
        with self.platform.uow() as uow:
            return sealing.get_sealing_status(uow, caller, student_id)

    @rpc
    @allowed("registrar", "system")
    def get_sealing_manifest(self, caller, student_id):
        """-> {manifest, signature, key_id}: Ed25519 over the canonical JSON of manifest,
        verifiable with the `submission` key of CALLER_PUBLIC_KEYS; not_found if not sealed."""
        with self.platform.uow() as uow:
            return sealing.get_sealing_manifest(uow, caller, student_id)

    @rpc
    @allowed("system")
    def run_sealing(self, caller):
        """Run the sealing job now (the platform's tools; the timer runs it hourly).
        -> {"sealed": n}."""
        return {"sealed": self._seal_due()}

    @rpc
    @allowed("registrar")
    def request_sealed_read(self, caller, student_id, reason):
        """Ask to read a sealed student's data (reason ≤ 500 characters). -> the request;
        student_not_sealed when not sealed in the caller's tenant; read_reason_required / reason_too_long."""
        with self.platform.uow() as uow:
            return sealing.request_sealed_read(uow, caller, student_id, reason)

    @rpc
    @allowed("principal", "executive_secretary")
    def approve_sealed_read(self, caller, request_id):
        """Approve a read request for your role (two roles, two people, not the requester);
        the second approval publishes sealed-read-approved (valid 7 days)."""
        with self.platform.uow() as uow:
            result = sealing.approve_sealed_read(uow, caller, request_id)
        self.platform.events_written()
        return result

    @rpc
    @allowed("registrar", "principal", "executive_secretary")
    def list_sealed_read_requests(self, caller):
        """The tenant's read requests of sealed data with their approvals, newest first."""
        with self.platform.uow() as uow:
            return sealing.list_sealed_read_requests(uow, caller)

    @timer(interval=3600, eager=True)
    def seal_due_students(self):
        """Hourly (and at start): seal every student five years after the college application."""
        self._seal_due()

    def _seal_due(self):
        signer = sealing.ManifestSigner.from_config()
        total = 0
        while True:
            with self.platform.uow() as uow:
                done = sealing.seal_due_students(uow, signer)
            total += len(done)
            if done:
                self.platform.events_written()
                self.platform.flush()
            if len(done) < 500:
                return total
