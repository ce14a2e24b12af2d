"""nameko entrypoints of the records service: load, call a use case, dump. Nothing else.

The entrypoints of each item kind live in its package (records/<area>/rpc.py, class Rpc) and
are mixed in here (records/areas.py); this module keeps the older ones and the event handlers.
"""

from portfolio_common.permissions import ANYONE, allowed, open_to
from nameko.timer import timer

from portfolio_common import events
from portfolio_common.nameko_kit import batch_event_handler, reliable_event_handler, rpc
from portfolio_common.plaindump import dump_many

from . import areas, usecases
from .schoolcalendar import usecases as calendar
from .nationalexport import usecases as national_export
from .dependencies import RecordsPlatform
from .schemas import OutcomeRead, SchoolImport, SectionRead, StudentRead


class RecordsService(*areas.rpc_mixins()):
    name = "records"
    platform = RecordsPlatform()

    @rpc
    @open_to(ANYONE)
    def ping(self):
        return "pong"

    @rpc
    @allowed("registrar", "system")
    def import_school(self, caller, data, dry_run=False):
        payload = SchoolImport().load(data)
        with self.platform.uow() as uow:
            return usecases.import_school(uow, self.platform.vault, caller, payload, dry_run=dry_run)

    @rpc
    @allowed("student", "subject_teacher", "homeroom_teacher")
    def list_my_sections(self, caller):
        with self.platform.uow() as uow:
            return SectionRead(many=True).dump(usecases.list_my_sections(uow, caller))

    @rpc
    @allowed("student")
    def list_my_outcomes(self, caller, school_year=None):
        with self.platform.uow() as uow:
            return OutcomeRead(many=True).dump(usecases.list_my_outcomes(uow, caller, school_year))

    @rpc
    @allowed("student", "subject_teacher", "homeroom_teacher", "registrar", "system")
    def get_outcome(self, caller, outcome_id):
        with self.platform.uow() as uow:
            return OutcomeRead().dump(usecases.get_outcome(uow, caller, outcome_id))

    @rpc
    @allowed("subject_teacher", "homeroom_teacher")
    def list_my_students(self, caller):
        with self.platform.uow() as uow:
            return dump_many(StudentRead, usecases.list_my_students(uow, caller))

    @rpc
    @allowed(*usecases.CLASS_READERS)
    def current_classes(self, caller, student_ids):
        """{student_id: {class_code, class_name, homeroom_user_id}}: each named student's class
        today (usecases.current_classes); certification's own identity, for oversight."""
        with self.platform.uow() as uow:
            return usecases.current_classes(uow, caller, student_ids)

    @rpc
    @allowed("registrar")
    def reveal_national_id(self, caller, student_id):
        with self.platform.uow() as uow:
            return usecases.reveal_national_id(uow, self.platform.vault, caller, student_id)

    @rpc
    @allowed("student")
    def issue_outcome_ticket(self, caller, section_id, description, upload_key=None, slot=None):
        with self.platform.uow() as uow:
            return usecases.issue_outcome_ticket(uow, caller, section_id, description,
                                                 self.platform.ticket_key, upload_key, slot=slot)

    @rpc
    @allowed("student")
    def issue_reupload_ticket(self, caller, outcome_id, description, upload_key=None, slot=None):
        with self.platform.uow() as uow:
            return usecases.issue_reupload_ticket(uow, caller, outcome_id, description,
                                                  self.platform.ticket_key, upload_key, slot=slot)

    @rpc
    @allowed("student")
    def release_outcome_ticket(self, caller, outcome_id):
        with self.platform.uow() as uow:
            return usecases.release_outcome_ticket(uow, caller, outcome_id)

    @rpc
    @allowed("student")
    def get_my_outcome_quota(self, caller, school_year, semester):
        """{school_year, semester, limit, used, held, left}: the semester's outcome quota."""
        with self.platform.uow() as uow:
            return usecases.outcome_quota(uow, caller, int(school_year), int(semester))

    @reliable_event_handler("files", events.UPLOAD_REFUSED)
    def handle_upload_refused(self, body):
        env = events.load_event(events.UPLOAD_REFUSED, body)
        with self.platform.uow() as uow:
            usecases.release_refused_upload(uow, env)

    @batch_event_handler("files", events.OUTCOME_UPLOADED)
    def handle_outcome_uploaded(self, bodies):
        """A batch of `outcome-uploaded` in one transaction (usecases.record_outcomes_uploaded);
        a failing batch is applied event by event (nameko_kit.BatchEventHandler)."""
        envs = [events.load_event(events.OUTCOME_UPLOADED, body) for body in bodies]
        with self.platform.uow() as uow:
            usecases.record_outcomes_uploaded(uow, envs)

    @reliable_event_handler("certification", events.CERTIFIED)
    def handle_certified(self, body):
        env = events.load_event(events.CERTIFIED, body)
        with self.platform.uow() as uow:
            usecases.record_certified(uow, env)

    @reliable_event_handler("certification", events.CERTIFICATION_RETURNED)
    def handle_certification_returned(self, body):
        env = events.load_event(events.CERTIFICATION_RETURNED, body)
        with self.platform.uow() as uow:
            usecases.record_returned(uow, env)

    @reliable_event_handler("certification", events.CERTIFICATION_WITHDRAWN)
    def handle_certification_withdrawn(self, body):
        env = events.load_event(events.CERTIFICATION_WITHDRAWN, body)
        with self.platform.uow() as uow:
            usecases.record_withdrawn(uow, env)

    @reliable_event_handler("submission", events.SELECTION_LOCKED)
    def handle_selection_locked(self, body):
        env = events.load_event(events.SELECTION_LOCKED, body)
        with self.platform.uow() as uow:
            usecases.record_selection_locked(uow, env)

    @reliable_event_handler("submission", events.CALENDAR_CHANGED)
    def handle_calendar_changed(self, body):
        env = events.load_event(events.CALENDAR_CHANGED, body)
        with self.platform.uow() as uow:
            calendar.record_calendar_changed(uow, env)

    @reliable_event_handler("submission", events.NATIONAL_SUBMITTED)
    def handle_national_submitted(self, body):
        env = events.load_event(events.NATIONAL_SUBMITTED, body)
        with self.platform.uow() as uow:
            national_export.record_national_submitted(uow, env)

    @timer(interval=2)
    def relay_outbox(self):
        self.platform.flush()
