"""Certification reminders by e-mail, end to end (issue 10 item 5: "reminders received by the
SMTP server"): a real SMTP server started here (aiosmtpd), the platform started as the launcher
does with certification configured to send to it every 2 s (SMTP_HOST, SMTP_PORT, SMTP_FROM,
REMINDER_INTERVAL_SECONDS), real PostgreSQL and RabbitMQ. Addresses come from accounts (the
demo logins' and those people set on their own), read by certification's timer through
accounts.user_emails as `system:certification`; nobody else may read them."""
import datetime as dt
import email
import email.policy
import threading
import time
import uuid

import pytest
import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from portfolio_common import caller as caller_mod
from portfolio_common import clock, trust
from portfolio_common.caller import Signer
from tests.e2e.conftest import Api, eventually, pdf
from tests.support import servers
from tests.support.calendars import publish_calendar, wait_applied
from tests.support.callers import as_gateway, as_system, signer
from tests.support.ids import RUN, SECRETS
from tests.support.stack import running_stack

pytestmark = pytest.mark.slow
SUBJECT = "提醒測試實習"
INTERVAL = 2  # seconds between two runs of the reminder job in this stack


class Inbox:
    """What the SMTP server received: (recipients, From, Subject, body)."""

    def __init__(self):
        self.messages, self._lock = [], threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), msg["From"], msg["Subject"], msg.get_content()))
        return "250 OK"

    def to(self, address):
        with self._lock:
            return [m for m in self.messages if m[0] == [address]]


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=servers.free_port())
    ctl.start()
    yield inbox, ctl.port
    ctl.stop()


@pytest.fixture(scope="module")
def remind_stack(tmp_path_factory, pg_base_url, amqp_uri, s3_endpoint, smtp):
    _, port = smtp
    env = {"certification": {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                             "SMTP_FROM": "portfolio@demo-school.example",
                             "REMINDER_INTERVAL_SECONDS": str(INTERVAL)}}
    with running_stack(tmp_path_factory.mktemp("remind"), name="remind", pg_base_url=pg_base_url,
                       amqp_uri=amqp_uri, s3_endpoint=s3_endpoint, secrets=SECRETS, run_id=RUN,
                       env_overrides=env) as st:
        yield st


def window_closing_in(stack, days):
    """The registrar's calendar (through submission) with certification closing in `days` days,
    applied by certification before going on."""
    today = clock.today_in_school()
    env = publish_calendar(stack, "day", certification={
        "opens_on": (today - dt.timedelta(days=30)).isoformat(),
        "closes_on": (today + dt.timedelta(days=days)).isoformat()})
    wait_applied(stack, env)
    return (today + dt.timedelta(days=days)).isoformat()


def reminders_sent(stack):
    engine = sa.create_engine(stack.database_url("certification"))
    try:
        with engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(sa.text("SELECT kind, user_id FROM reminders_sent"))]
    finally:
        engine.dispose()


def test_teacher_and_returned_student_each_get_one_email_and_no_address_is_skipped(remind_stack, smtp):
    from tests.support.school import add_class
    stack, (inbox, _) = remind_stack, smtp
    far = window_closing_in(stack, 40)  # not yet near the close: no teacher reminder
    assert far
    names = add_class(stack, prefix="remd", class_code="161", subject=SUBJECT, n=3, nid_letter="H")
    s1, s2, s3 = (Api(stack.gateway_url, n) for n in names)
    teacher = Api(stack.gateway_url, "t_wang")

    # a student sets their own address (a malformed one is refused in zh-TW, nothing stored)
    bad = s1.put("/me/email", json={"email": "王同學 <remd01@school.example>"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "email_invalid"
    assert s1.get("/me/email").json() == {"email": None}
    assert s1.put("/me/email", json={"email": " remd01@School.Example "}).json() == {"email": "remd01@school.example"}
    assert teacher.get("/me/email").json() == {"email": "t_wang@demo-school.example"}  # the demo's address

    # s1 and s2 upload one each, s3 two; the teacher returns s1's and s2's
    ups = {}
    for who, n in ((s1, 1), (s2, 1), (s3, 2)):
        section = who.section(SUBJECT)
        for i in range(n):
            r = who.upload(section["id"], f"提醒測試{i}", pdf())
            assert r.status_code == 201, r.text
            ups.setdefault(who.user["username"], []).append(r.json()["outcome_id"])

    def pending():
        return {t["outcome_id"]: t for t in teacher.get("/certification/tasks?status=pending").json()}
    all_ids = [o for os_ in ups.values() for o in os_]
    eventually(lambda: set(all_ids) <= set(pending()), timeout=60)
    tasks = pending()
    to_return = [tasks[ups[names[0]][0]]["id"], tasks[ups[names[1]][0]]["id"]]
    r = teacher.post("/certification/decisions", json={"action": "return", "task_ids": to_return,
                                                        "reason_code": "incomplete", "reason": "請補上封面"})
    assert r.status_code == 200 and r.json()["refused"] == [], r.text

    # the returned student with an address hears at the next run; the one without is skipped
    (got,) = eventually(lambda: inbox.to("remd01@school.example"), timeout=30)
    _, sender, subject, body = got
    assert sender == "portfolio@demo-school.example"
    assert subject == f"【學習歷程檔案】課程學習成果被退回：{SUBJECT}"
    assert "請補上封面" in body and "重新上傳" in body
    assert not inbox.to("t_wang@demo-school.example")  # the window is still far from its close

    # the window now closes in 3 days: t_wang hears once, with the count and the sections
    open_now = pending()
    mine = [t for t in open_now.values()]
    closes = window_closing_in(stack, 3)
    (got,) = eventually(lambda: inbox.to("t_wang@demo-school.example"), timeout=30)
    _, _, subject, body = got
    assert subject == f"【學習歷程檔案】115-1 課程學習成果認證將於 {closes} 截止"
    assert f"您還有 {len(mine)} 件課程學習成果待認證" in body
    per_subject = {}
    for t in mine:
        per_subject[t["subject_name"]] = per_subject.get(t["subject_name"], 0) + 1
    for name, count in per_subject.items():
        assert f"{name}：{count} 件" in body
    assert f"{SUBJECT}：2 件" in body  # s3's two (s1's and s2's were returned)

    # several more runs: nothing is sent again, and s2 (no address) got nothing
    time.sleep(4 * INTERVAL)
    assert len(inbox.to("t_wang@demo-school.example")) == 1 and len(inbox.to("remd01@school.example")) == 1
    assert {m[0][0] for m in inbox.messages} == {"t_wang@demo-school.example", "remd01@school.example"}
    kinds = sorted(r["kind"] for r in reminders_sent(stack))
    assert kinds == ["student_returned", "teacher_window_closing"]

    # s2 adds an address later: the skipped reminder is sent at the next run, once
    assert s2.put("/me/email", json={"email": "remd02@school.example"}).status_code == 200
    (got,) = eventually(lambda: inbox.to("remd02@school.example"), timeout=30)
    assert got[2] == f"【學習歷程檔案】課程學習成果被退回：{SUBJECT}"
    time.sleep(2 * INTERVAL)
    assert len(inbox.to("remd02@school.example")) == 1 and not inbox.to(f"{names[2]}@school.example")


def test_only_certification_itself_reads_the_addresses(remind_stack):
    """accounts.user_emails answers the certification service's own signed identity, for its
    tenant only; a student, a teacher, the platform's tools, another service, the gateway's own
    identity and a forged certification key are refused (and audited)."""
    stack = remind_stack
    t_wang = Api(stack.gateway_url, "t_wang").user
    t_chen = Api(stack.gateway_url, "t_chen").user
    ids = [t_wang["user_id"], t_chen["user_id"]]
    own = signer("certification")
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        day = rpc.accounts.user_emails(own.mint(caller_mod.service_caller("certification", "day"), "accounts"), ids)
        assert day == {t_wang["user_id"]: "t_wang@demo-school.example"}
        ce = rpc.accounts.user_emails(own.mint(caller_mod.service_caller("certification", "ce"), "accounts"), ids)
        assert ce == {t_chen["user_id"]: "t_chen@demo-school.example"}

        student = caller_mod.Caller(user_id=str(uuid.uuid4()), username="remd03", tenant="day", roles=("student",))
        teacher = caller_mod.Caller(user_id=t_wang["user_id"], username="t_wang", tenant="day",
                                    roles=("subject_teacher",))
        refused = {
            "student": as_gateway(student, "accounts"),
            "teacher": as_gateway(teacher, "accounts"),
            "system (ops tools)": as_system("day", "accounts"),
            "records itself": signer("records").mint(caller_mod.service_caller("records", "day"), "accounts"),
            "gateway itself": signer("gateway").mint(caller_mod.service_caller("gateway", "day"), "accounts"),
        }
        for who, token in refused.items():
            with pytest.raises(RemoteError) as e:
                rpc.accounts.user_emails(token, ids)
            assert e.value.exc_type == "NotAllowed", who
        # a key that is not certification's, claiming to be certification
        forged = Signer("certification", trust.generate_signing_key())
        with pytest.raises(RemoteError) as e:
            rpc.accounts.user_emails(forged.mint(caller_mod.service_caller("certification", "day"), "accounts"), ids)
        assert e.value.exc_type == "NotAuthenticated"
        # the gateway cannot sign system:certification at all
        with pytest.raises(ValueError):
            as_gateway(caller_mod.service_caller("certification", "day"), "accounts")
        # the refusals are in the access audit
        def audited():
            rows = rpc.accounts.list_access_audit(as_system("day", "accounts"), 200)
            return {r["username"] for r in rows if r["action"] == "refused" and "user_emails" in (r["detail"] or "")} \
                >= {"remd03", "t_wang"}
        eventually(audited, timeout=30)
    # no API endpoint hands out another person's address
    r = requests.get(stack.gateway_url + "/api/v1/me/email", timeout=30)
    assert r.status_code == 401
