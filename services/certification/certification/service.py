"""nameko entrypoints of the certification service: load, call a use case, dump."""

import logging

import eventlet

from portfolio_common.permissions import ANYONE, allowed, open_to
from portfolio_common.plaindump import dump_many
from nameko.rpc import RpcProxy
from nameko.timer import timer

from portfolio_common import events
from portfolio_common.errors import PortfolioError
from portfolio_common.nameko_kit import batch_event_handler, reliable_event_handler, rpc

from . import mail, reminders, sealing, usecases
from .dependencies import CertificationPlatform
from .schemas import ReturnReasonRead, TaskRead


log = logging.getLogger(__name__)
REMINDER_INTERVAL = reminders.interval_seconds()  # REMINDER_INTERVAL_SECONDS, read at start
SUBMISSION_TIMEOUT_SECONDS = 10  # a withdrawal waits this long for submission's locked outcomes
RECORDS_TIMEOUT_SECONDS = 20  # the longest the oversight figures wait for records' classes
ACCOUNTS_TIMEOUT_SECONDS = 60  # the longest the reminder job waits for accounts' address book


class CertificationService:
    name = "certification"
    platform = CertificationPlatform()
    accounts = RpcProxy("accounts")
    submission = RpcProxy("submission")
    records = RpcProxy("records")
    _sender = None

    @rpc
    @open_to(ANYONE)
    def ping(self):
        return "pong"

    @rpc
    @allowed("subject_teacher", "homeroom_teacher")
    def list_queue(self, caller, status="pending"):
        """usecases.list_queue dumped as TaskRead (plaindump: the same answer, without
        marshmallow's per-field cost on a queue of hundreds of rows)."""
        with self.platform.uow() as uow:
            return dump_many(TaskRead, usecases.list_queue(uow, caller, status))

    @rpc
    @allowed("ops", "executive_secretary", "principal", "system")
    def count_tasks(self, caller):
        with self.platform.uow() as uow:
            return usecases.count_tasks(uow, caller)

    def _current_classes(self, caller):
        """records.current_classes as system:certification, for the caller's tenant, with a
        bounded wait: no answer refuses the request with `service_unavailable` (the figures
        would otherwise count students under a class they have left)."""
        def current_classes(student_ids):
            try:
                with eventlet.Timeout(RECORDS_TIMEOUT_SECONDS):
                    return self.records.current_classes(
                        self.platform.own_caller_token("records", caller.tenant), student_ids)
            except eventlet.Timeout:
                raise PortfolioError("records did not say which class each student is in",
                                     code="service_unavailable") from None
        return current_classes

    @rpc
    @allowed("ops", "executive_secretary", "principal", "registrar", "homeroom_teacher", "subject_convener",
             "system")
    def oversight_figures(self, caller, by="teacher"):
        """[{key, label, open, certified, returned, withdrawn, decided, median_hours_to_decide}]
        per `by` (tenant | teacher | section | subject | class) of the part of the caller's
        tenant they oversee (whole tenant; a homeroom teacher's class; a convener's subjects:
        usecases.oversight_figures); Invalid for another `by`."""
        with self.platform.uow() as uow:
            return usecases.oversight_figures(uow, caller, by, current_classes=self._current_classes(caller))

    @rpc
    @allowed("ops", "executive_secretary", "principal", "registrar", "homeroom_teacher", "subject_convener",
             "system")
    def list_open_at_window_close(self, caller, within_days=7):
        """Open rounds per teacher and section whose certification window has closed or closes
        within `within_days` days (dates as ISO strings), scoped like oversight_figures;
        Invalid for a bad `within_days`."""
        with self.platform.uow() as uow:
            rows = usecases.open_at_window_close(uow, caller, within_days,
                                                 current_classes=self._current_classes(caller))
        return [dict(r, closes_on=r["closes_on"].isoformat() if r["closes_on"] else None) for r in rows]

    @rpc
    @allowed("subject_teacher", "homeroom_teacher")
    def certify(self, caller, task_ids):
        with self.platform.uow() as uow:
            result = usecases.certify(uow, caller, task_ids)
        self.platform.events_written()
        return result

    @rpc
    @allowed("subject_teacher", "homeroom_teacher")
    def return_outcomes(self, caller, task_ids, reason_code=None, note=None):
        with self.platform.uow() as uow:
            result = usecases.return_outcomes(uow, caller, task_ids, reason_code, note)
        self.platform.events_written()
        return result

    @rpc
    @allowed("subject_teacher", "homeroom_teacher")
    def withdraw_certifications(self, caller, task_ids, reason):
        """usecases.withdraw_certifications; whether an outcome is held in a locked selection is
        submission's answer (submission.locked_outcomes as system:certification, bounded wait:
        no answer refuses the whole request with `service_unavailable`, nothing withdrawn)."""
        def locked(outcome_ids):
            try:
                with eventlet.Timeout(SUBMISSION_TIMEOUT_SECONDS):
                    return self.submission.locked_outcomes(
                        self.platform.own_caller_token("submission", caller.tenant), outcome_ids)
            except eventlet.Timeout:
                raise PortfolioError("submission did not say which outcomes are locked",
                                     code="service_unavailable") from None
        with self.platform.uow() as uow:
            result = usecases.withdraw_certifications(uow, caller, task_ids, reason, locked_outcomes=locked)
        self.platform.events_written()
        return result

    @rpc
    @allowed("subject_teacher", "homeroom_teacher", "executive_secretary", "system")
    def list_return_reasons(self, caller, include_retired=False):
        with self.platform.uow() as uow:
            return ReturnReasonRead(many=True).dump(usecases.list_return_reasons(uow, caller, include_retired))

    @rpc
    @allowed("executive_secretary", "system")
    def save_return_reason(self, caller, code, label, needs_note=False, active=True, position=0):
        with self.platform.uow() as uow:
            return ReturnReasonRead().dump(
                usecases.save_return_reason(uow, caller, code, label, needs_note, active, position))

    @batch_event_handler("files", events.OUTCOME_UPLOADED)
    def handle_outcome_uploaded(self, bodies):
        """A batch of `outcome-uploaded` (nameko_kit.BatchEventHandler: up to EVENT_BATCH_SIZE)
        in one transaction (usecases.create_tasks); a batch that fails is applied again one
        event at a time, so a malformed or failing event is retried or dead-lettered alone."""
        envs = [events.load_event(events.OUTCOME_UPLOADED, body) for body in bodies]
        with self.platform.uow() as uow:
            usecases.create_tasks(uow, envs)

    @reliable_event_handler("submission", events.CALENDAR_CHANGED)
    def handle_calendar_changed(self, body):
        env = events.load_event(events.CALENDAR_CHANGED, body)
        with self.platform.uow() as uow:
            usecases.apply_calendar(uow, env)

    @reliable_event_handler("records", events.STUDENT_STATUS_CHANGED)
    def handle_student_status_changed(self, body):
        env = events.load_event(events.STUDENT_STATUS_CHANGED, body)
        with self.platform.uow() as uow:
            usecases.close_for_status_change(uow, env)

    @timer(interval=REMINDER_INTERVAL)
    def send_reminders(self):
        """The reminder job (reminders.py): every tenant's due reminders, addresses from
        accounts.user_emails (as system:certification), the sender from configuration."""
        if CertificationService._sender is None:
            CertificationService._sender = mail.configured_sender()
            log.info("reminder e-mails every %s s via %s", REMINDER_INTERVAL, mail.describe(self._sender))

        def addresses(tenant, user_ids):
            # nameko's RpcProxy waits forever: a bounded wait, so an accounts outage only
            # postpones this tenant's reminders to the next run instead of stalling the timer
            try:
                with eventlet.Timeout(ACCOUNTS_TIMEOUT_SECONDS):
                    return self.accounts.user_emails(self.platform.own_caller_token("accounts", tenant), user_ids)
            except eventlet.Timeout:
                raise TimeoutError("accounts.user_emails did not answer in time") from None
        reminders.run_once(self.platform.uow, self._sender, addresses)

    @timer(interval=1)
    def relay_outbox(self):
        self.platform.flush()

    @reliable_event_handler("submission", events.SEALED)
    def handle_sealed(self, body):
        """A sealed student: their tasks take no further decision (sealing.py)."""
        env = events.load_event(events.SEALED, body)
        with self.platform.uow() as uow:
            sealing.record_sealed(uow, env)
