"""Reminder e-mails (issue 10 item 5) sent to a REAL SMTP server started here (aiosmtpd), from a
real PostgreSQL database: a teacher whose term's certification window closes within 7 days with
open rounds, a student whose round was returned; each once, however often the job runs; a
failed send records nothing and is sent on the next run; people without an address are
skipped. No mocks: the address book is the job's input (where addresses come from is the
caller's choice, see services/certification/README.md)."""
import datetime as dt
import email
import email.policy
import smtplib
import ssl
import uuid

import pytest
from aiosmtpd.controller import Controller

from certification import usecases
from certification.mail import SmtpSender, from_env
from portfolio_common import clock, events
from tests.support import servers
from tests.support.calendars import calendar_changed

from portfolio_common import caller as caller_mod

TEACHER, STUDENT, SECTION = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())


def teacher(uid, tenant="day"):
    return caller_mod.Caller(user_id=uid, username="t", tenant=tenant, roles=("subject_teacher",))


def upload_event(tenant="day", teacher_id=TEACHER):
    return events.load_event(events.OUTCOME_UPLOADED, events.make_event(events.OUTCOME_UPLOADED, tenant, {
        "outcome_id": str(uuid.uuid4()), "file_id": str(uuid.uuid4()), "student_id": str(uuid.uuid4()),
        "student_user_id": str(uuid.uuid4()), "section_id": SECTION, "teacher_user_id": teacher_id,
        "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計", "description": "期末專題",
        "filename": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": "0" * 64,
        "uploaded_at": events.utcnow()}))


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, msg["Subject"], msg.get_content()))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=servers.free_port())
    ctl.start()
    try:
        yield inbox, SmtpSender("127.0.0.1", ctl.port, "portfolio@school.example")
    finally:
        ctl.stop()


@pytest.fixture
def db(service_db):
    db = service_db("certification")
    today = clock.today_in_school()
    closes = {"opens_on": (today - dt.timedelta(days=30)).isoformat(), "closes_on": (today + dt.timedelta(days=3)).isoformat()}
    with db.uow() as uow:
        usecases.apply_calendar(uow, events.load_event(events.CALENDAR_CHANGED, calendar_changed("day", certification=closes)))
    return db


def open_tasks(db, n, teacher_id=TEACHER, student=None):
    envs = [upload_event(teacher_id=teacher_id) for _ in range(n)]
    if student:
        for e in envs:
            e["payload"]["student_user_id"] = student
    for env in envs:
        with db.uow() as uow:
            usecases.create_task(uow, env)
    return envs


def run(db, sender, book):
    with db.uow() as uow:
        return usecases.send_reminders(uow, sender, lambda tenant, ids: {i: book[i] for i in ids if i in book},
                                       "day", clock.today_in_school())


def test_teacher_and_student_reminded_once_each(db, smtp):
    inbox, sender = smtp
    open_tasks(db, 3)
    (env,) = open_tasks(db, 1, student=STUDENT)
    with db.uow() as uow:
        task = next(t for t in usecases.list_queue(uow, teacher(TEACHER)) if str(t["outcome_id"]) == str(env["payload"]["outcome_id"]))
    with db.uow() as uow:
        assert usecases.return_outcomes(uow, teacher(TEACHER), [str(task["id"])], "incomplete", "請補上封面")["refused"] == []
    book = {TEACHER: "wang@school.example", STUDENT: "s1@school.example"}
    assert run(db, sender, book) == {"due": 2, "sent": 2, "no_address": 0}
    got = {tuple(to): (subject, body) for to, subject, body in inbox.messages}
    subject, body = got[("wang@school.example",)]
    closes = (clock.today_in_school() + dt.timedelta(days=3)).isoformat()
    assert subject == f"【學習歷程檔案】115-1 課程學習成果認證將於 {closes} 截止"
    assert "您還有 3 件課程學習成果待認證" in body and "程式設計：3 件" in body
    subject, body = got[("s1@school.example",)]
    assert subject == "【學習歷程檔案】課程學習成果被退回：程式設計" and "請補上封面" in body and "重新上傳" in body
    # the job runs again (every timer tick): nothing is sent twice
    assert run(db, sender, book) == {"due": 2, "sent": 0, "no_address": 0}
    assert len(inbox.messages) == 2
    assert {r["kind"] for r in db.rows("reminders_sent")} == {"teacher_window_closing", "student_returned"}


def test_a_failed_send_is_sent_on_the_next_run_and_no_address_is_skipped(db, smtp):
    inbox, sender = smtp
    open_tasks(db, 1)
    down = SmtpSender("127.0.0.1", servers.free_port(), "portfolio@school.example", timeout=5)  # nothing listens
    with pytest.raises(OSError):
        run(db, down, {TEACHER: "wang@school.example"})
    assert db.rows("reminders_sent") == [] and inbox.messages == []
    assert run(db, sender, {}) == {"due": 1, "sent": 0, "no_address": 1}
    assert run(db, sender, {TEACHER: "wang@school.example"})["sent"] == 1
    assert [m[0] for m in inbox.messages] == [["wang@school.example"]]


def test_no_reminder_far_from_the_close_or_for_another_tenant(db, smtp):
    inbox, sender = smtp
    far = clock.today_in_school() + dt.timedelta(days=30)
    with db.uow() as uow:
        usecases.apply_calendar(uow, events.load_event(events.CALENDAR_CHANGED, calendar_changed(
            "day", certification={"opens_on": "2026-01-01", "closes_on": far.isoformat()})))
    open_tasks(db, 2)
    with db.uow() as uow:
        usecases.create_task(uow, upload_event("ce", teacher_id=TEACHER))
    assert run(db, sender, {TEACHER: "wang@school.example"}) == {"due": 0, "sent": 0, "no_address": 0}
    assert inbox.messages == []


def test_sender_from_the_environment():
    assert from_env({}) is None
    s = from_env({"SMTP_HOST": "mail.school.example", "SMTP_PORT": "2525", "SMTP_FROM": "portfolio@school.example"})
    assert (s.host, s.port, s.sender) == ("mail.school.example", 2525, "portfolio@school.example")


# ---------------------------------------------------------------- the job (reminders.py) and its senders

def test_the_job_goes_over_every_tenant_and_one_tenants_failure_does_not_stop_the_others(db, smtp):
    """accounts unreachable for `day`: day's reminder waits for the next run, logged with no
    address; ce's is sent. The next run sends day's."""
    from certification import reminders
    inbox, sender = smtp
    with db.uow() as uow:
        usecases.apply_calendar(uow, events.load_event(events.CALENDAR_CHANGED, calendar_changed("ce", certification={
            "opens_on": (clock.today_in_school() - dt.timedelta(days=30)).isoformat(),
            "closes_on": (clock.today_in_school() + dt.timedelta(days=2)).isoformat()})))
    open_tasks(db, 2)
    ce_teacher = str(uuid.uuid4())
    with db.uow() as uow:
        usecases.create_task(uow, upload_event("ce", teacher_id=ce_teacher))
    book = {"day": {TEACHER: "wang@school.example"}, "ce": {ce_teacher: "chen@school.example"}}
    down = {"day"}

    def addresses(tenant, ids):
        if tenant in down:
            raise ConnectionRefusedError(111, "accounts did not answer for wang@school.example")
        return {i: book[tenant][i] for i in ids if i in book[tenant]}
    import io
    import logging
    logged = io.StringIO()
    handler, logger = logging.StreamHandler(logged), logging.getLogger("certification.reminders")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    try:
        out = reminders.run_once(db.uow, sender, addresses)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert out == {"ce": {"due": 1, "sent": 1, "no_address": 0}, "day": {"error": "ConnectionRefusedError errno 111"}}
    assert [m[0] for m in inbox.messages] == [["chen@school.example"]]
    text = logged.getvalue()
    assert "wang@" not in text and "chen@" not in text and "tenant day not all sent (ConnectionRefusedError" in text
    down.clear()
    assert reminders.run_once(db.uow, sender, addresses)["day"] == {"due": 1, "sent": 1, "no_address": 0}
    assert sorted(m[0][0] for m in inbox.messages) == ["chen@school.example", "wang@school.example"]


def test_the_folder_sender_writes_each_message_as_an_eml_file(tmp_path):
    from certification.mail import FolderSender, configured_sender
    sender = configured_sender({"REMINDER_MAIL_DIR": str(tmp_path / "mail"), "SMTP_FROM": "portfolio@school.example"})
    assert isinstance(sender, FolderSender)
    sender.send("wang@school.example", "【學習歷程檔案】認證將於 2026-12-01 截止", "老師您好：\n\n您還有 3 件")
    (eml,) = (tmp_path / "mail").glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert (msg["To"], msg["From"]) == ("wang@school.example", "portfolio@school.example")
    assert msg["Subject"] == "【學習歷程檔案】認證將於 2026-12-01 截止" and "您還有 3 件" in msg.get_content()
    assert list((tmp_path / "mail").glob("*.tmp")) == []


def test_smtp_login_and_the_settings_that_choose_it(tmp_path):
    """SMTP_USERNAME/SMTP_PASSWORD(_FILE) log in (a real aiosmtpd with AUTH; STARTTLS is
    configured with SMTP_STARTTLS: the tests below check it with real certificates)."""
    from aiosmtpd.smtp import AuthResult
    inbox = Inbox()
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"portfolio" and auth_data.password == b"s3cret")
    ctl = Controller(inbox, hostname="127.0.0.1", port=servers.free_port(), authenticator=authenticator,
                     auth_require_tls=False)
    ctl.start()
    try:
        (tmp_path / "pw").write_text("s3cret\n")
        env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(ctl.port), "SMTP_FROM": "portfolio@school.example",
               "SMTP_USERNAME": "portfolio", "SMTP_PASSWORD_FILE": str(tmp_path / "pw")}
        from_env(env).send("wang@school.example", "主旨", "內容")
        assert seen == [(b"portfolio", b"s3cret")] and [m[0] for m in inbox.messages] == [["wang@school.example"]]
    finally:
        ctl.stop()
    s = from_env({"SMTP_HOST": "mail.school.example", "SMTP_PORT": "587", "SMTP_STARTTLS": "1"})
    assert (s.port, s.starttls, s.username) == (587, True, None)


def test_the_interval_comes_from_the_environment():
    from certification import reminders
    assert reminders.interval_seconds({}) == 3600
    assert reminders.interval_seconds({"REMINDER_INTERVAL_SECONDS": "2"}) == 2
    assert reminders.interval_seconds({"REMINDER_INTERVAL_SECONDS": "-5"}) == 3600
    assert reminders.interval_seconds({"REMINDER_INTERVAL_SECONDS": "hourly"}) == 3600


# ---------------------------------------------------------------- STARTTLS, verified

class TlsInbox(Inbox):
    """Also records whether each message arrived over TLS."""

    def __init__(self):
        super().__init__()
        self.over_tls = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.over_tls.append(session.ssl is not None)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def tls_smtp(tmp_path):
    """A real aiosmtpd server on 127.0.0.1 that offers STARTTLS with a certificate made out to
    127.0.0.1 by a test authority (trustme), requires TLS before AUTH, and checks one login.
    Yields (inbox, logins seen, start, trustme): start(ca, names, tls) starts one and returns its port."""
    import trustme
    from aiosmtpd.smtp import AuthResult
    inbox, seen, controllers = TlsInbox(), [], []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"portfolio" and auth_data.password == b"s3cret")

    def start(ca, names=("127.0.0.1",), tls=True):
        kwargs = {}
        if tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(*names).configure_cert(ctx)
            kwargs = {"tls_context": ctx, "require_starttls": True}
        ctl = Controller(inbox, hostname="127.0.0.1", port=servers.free_port(), authenticator=authenticator,
                         auth_require_tls=True, **kwargs)
        ctl.start()
        controllers.append(ctl)
        return ctl.port
    try:
        yield inbox, seen, start, trustme
    finally:
        for ctl in controllers:
            ctl.stop()


def _sender(tmp_path, port, ca, login=True):
    ca_file = tmp_path / "school-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_FROM": "portfolio@school.example",
           "SMTP_STARTTLS": "1", "SMTP_CA_BUNDLE": str(ca_file)}
    if login:
        env |= {"SMTP_USERNAME": "portfolio", "SMTP_PASSWORD": "s3cret"}
    return from_env(env)


def test_starttls_with_the_schools_authority_delivers_over_tls_and_logs_in(tmp_path, tls_smtp):
    inbox, seen, start, trustme = tls_smtp
    ca = trustme.CA()
    _sender(tmp_path, start(ca), ca).send("wang@school.example", "【學習歷程檔案】提醒", "老師您好")
    assert seen == [(b"portfolio", b"s3cret")]
    assert [m[0] for m in inbox.messages] == [["wang@school.example"]] and inbox.over_tls == [True]


def test_a_server_with_another_authoritys_certificate_gets_neither_message_nor_password(tmp_path, tls_smtp):
    """A machine in the middle answering for the mail server with a certificate our authority did
    not sign: the handshake fails before AUTH, nothing is delivered."""
    inbox, seen, start, trustme = tls_smtp
    ours, theirs = trustme.CA(), trustme.CA()
    with pytest.raises(ssl.SSLCertVerificationError):
        _sender(tmp_path, start(theirs), ours).send("wang@school.example", "主旨", "內容")
    assert seen == [] and inbox.messages == []


def test_a_certificate_made_out_to_another_name_is_refused(tmp_path, tls_smtp):
    inbox, seen, start, trustme = tls_smtp
    ca = trustme.CA()
    with pytest.raises(ssl.SSLCertVerificationError):
        _sender(tmp_path, start(ca, names=("mail.other-school.example",)), ca).send("wang@school.example", "主旨", "內容")
    assert seen == [] and inbox.messages == []


def test_a_server_that_offers_no_starttls_gets_nothing_in_the_clear(tmp_path, tls_smtp):
    inbox, seen, start, trustme = tls_smtp
    ca = trustme.CA()
    with pytest.raises(smtplib.SMTPNotSupportedError):
        _sender(tmp_path, start(ca, tls=False), ca).send("wang@school.example", "主旨", "內容")
    assert seen == [] and inbox.messages == []


def test_a_login_without_starttls_to_another_host_is_a_configuration_error():
    with pytest.raises(ValueError, match="SMTP_STARTTLS"):
        from_env({"SMTP_HOST": "mail.school.example", "SMTP_USERNAME": "portfolio", "SMTP_PASSWORD": "s3cret"})
    # on this host, or over STARTTLS, the login is allowed
    assert from_env({"SMTP_HOST": "localhost", "SMTP_USERNAME": "p", "SMTP_PASSWORD": "x"}).username == "p"
    assert from_env({"SMTP_HOST": "mail.school.example", "SMTP_STARTTLS": "1", "SMTP_USERNAME": "p"}).starttls
