"""The broker as a trust boundary: each principal's RabbitMQ user, as the launcher, the tests
and compose create it (portfolio_common.broker_access), tried as an attacker would.

Each test gets its own vhost; the users are named after the run and removed afterwards.
"""
import json
import secrets
import uuid

import pika
import pytest

from portfolio_common import amqp, broker_access, events
from tests.support.ids import RUN

RPC = amqp.RPC_EXCHANGE


@pytest.fixture
def broker(private_amqp_uri):
    """{principal: AMQP URI of its own user}, with the platform's topology declared."""
    tag = uuid.uuid4().hex[:6]
    users = {p: (f"t_{RUN}_{tag}-{p}", secrets.token_hex(12)) for p in broker_access.PRINCIPALS}
    broker_access.apply(private_amqp_uri, broker_access.definitions(
        broker_access.vhost_of(private_amqp_uri), users))
    admin = amqp.PikaPublisher(private_amqp_uri, connection_name="trust-test-admin")
    admin.call(amqp.declare_topology)
    try:
        yield {p: broker_access.uri_for(private_amqp_uri, name, pw) for p, (name, pw) in users.items()}, admin
    finally:
        admin.close()
        broker_access.delete_users(private_amqp_uri, [name for name, _ in users.values()])


def _channel(uri):
    conn = pika.BlockingConnection(amqp.connection_parameters(uri, connection_name="trust-test"))
    ch = conn.channel()
    ch.confirm_delivery()
    return conn, ch


def _refused(uri, action):
    """Run action(channel) as that user; the broker's refusal code (403...), or None if allowed."""
    conn, ch = _channel(uri)
    try:
        action(ch)
        return None
    except pika.exceptions.ChannelClosedByBroker as exc:
        return exc.reply_code
    finally:
        if conn.is_open:
            conn.close()


def _publish(exchange, key, body=b"{}"):
    return lambda ch: ch.basic_publish(exchange, key, body, pika.BasicProperties(
        content_type="application/json", delivery_mode=2), mandatory=False)


def _count(admin, queue):
    return admin.call(lambda ch: ch.queue_declare(queue, passive=True).method.message_count)


CERTIFIED_TO_RECORDS = events.queue_name(events.CERTIFIED, "records", "handle_certified")
UPLOADED_TO_CERTIFICATION = events.queue_name(events.OUTCOME_UPLOADED, "certification", "handle_outcome_uploaded")


def test_files_cannot_publish_a_certified_event(broker):
    uris, admin = broker
    forged = json.dumps(events.make_event(events.CERTIFIED, "day", {
        "outcome_id": str(uuid.uuid4()), "task_id": str(uuid.uuid4()), "student_id": str(uuid.uuid4()),
        "student_user_id": str(uuid.uuid4()), "section_id": str(uuid.uuid4()), "school_year": 115,
        "semester": 1, "course_code": "C1", "subject_name": "x", "description": "x", "sha256": "0" * 64,
        "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": events.utcnow()},
        producer="certification"), default=str).encode()
    files = uris["files"]
    assert _refused(files, _publish("certification.events", events.CERTIFIED, forged)) == 403
    # not on its own exchange either (a topic permission: files publishes only its own events)
    assert _refused(files, _publish("files.events", events.CERTIFIED, forged)) == 403
    # nor straight into a consumer's queue through the default exchange, or a service's retry route
    assert _refused(files, _publish("", CERTIFIED_TO_RECORDS, forged)) == 403
    assert _refused(files, _publish("records.dlx", CERTIFIED_TO_RECORDS, forged)) == 403
    assert _count(admin, CERTIFIED_TO_RECORDS) == 0
    # what it may do: publish its own event
    assert _refused(files, _publish("files.events", events.OUTCOME_UPLOADED)) is None
    assert _count(admin, UPLOADED_TO_CERTIFICATION) == 1
    # and route its own handler queue's retries and dead letters (files/sealing.py, RetryLater)
    locked_q = events.queue_name(events.SELECTION_LOCKED, "files", "handle_selection_locked")
    assert _refused(files, _publish("files.dlx", amqp.retry_queue(locked_q, amqp.retry_delays_ms()[0]))) is None
    assert _refused(files, _publish("files.dlx", amqp.dead_letter_queue(locked_q))) is None
    assert _count(admin, amqp.dead_letter_queue(locked_q)) == 1


def test_records_cannot_consume_or_tap_certifications_queues(broker):
    uris, admin = broker
    admin.publish("files.events", events.OUTCOME_UPLOADED, {"n": 1})
    records = uris["records"]
    take = lambda q: lambda ch: ch.basic_get(q, auto_ack=True)  # noqa: E731
    assert _refused(records, take(UPLOADED_TO_CERTIFICATION)) == 403
    assert _refused(records, take(amqp.dead_letter_queue(UPLOADED_TO_CERTIFICATION))) == 403
    assert _refused(records, take("rpc-certification")) == 403
    # nor bind a queue of its own to events it does not subscribe to, or to others' RPCs
    own = CERTIFIED_TO_RECORDS
    assert _refused(records, lambda ch: ch.queue_bind(own, "certification.events", "certification-returned")) is None
    # an event records does not subscribe to (computed: records subscribes to more with every issue)
    theirs = sorted((e, src) for e, src, svc, _ in events.subscriptions() if svc != "records"
                    and (e, src) not in {(e2, s2) for e2, s2, svc2, _ in events.subscriptions() if svc2 == "records"})
    event, source = theirs[0]
    assert _refused(records, lambda ch: ch.queue_bind(own, f"{source}.events", event)) == 403
    assert _refused(records, lambda ch: ch.queue_bind(own, RPC, "accounts.*")) == 403
    assert _refused(records, lambda ch: ch.queue_declare("evt-files-outcome-uploaded--certification.x",
                                                         durable=True)) == 403
    assert _refused(records, lambda ch: ch.exchange_delete("certification.events")) == 403
    assert _count(admin, UPLOADED_TO_CERTIFICATION) == 1
    # what it may do: consume its own queue
    assert _refused(records, take(events.queue_name(events.OUTCOME_UPLOADED, "records",
                                                    "handle_outcome_uploaded"))) is None


def test_the_gateway_can_only_make_rpc_calls(broker):
    uris, admin = broker
    gw = uris["gateway"]
    for producer in amqp.producers():
        for event in sorted(set(events.PRODUCERS) | set(events.SHARED_EVENTS)):
            assert _refused(gw, _publish(f"{producer}.events", event)) == 403, (producer, event)
    assert _refused(gw, _publish("", "rpc-accounts")) == 403
    # an RPC reply to someone else's reply queue (a uuid routing key) is not a call
    assert _refused(gw, _publish(RPC, str(uuid.uuid4()))) == 403
    assert _refused(gw, lambda ch: ch.basic_get("rpc-accounts", auto_ack=True)) == 403
    assert _refused(gw, lambda ch: ch.queue_declare("rpc.reply-records-x", durable=True)) == 403
    # what it may do: call a service, and listen on a reply queue of its own
    admin.call(lambda ch: (ch.queue_declare("rpc-accounts", durable=True),
                           ch.queue_bind("rpc-accounts", RPC, "accounts.*")))
    assert _refused(gw, _publish(RPC, "accounts.ping", b'{"args": [], "kwargs": {}}')) is None
    assert _count(admin, "rpc-accounts") == 1
    reply = f"rpc.reply-gateway-{uuid.uuid4()}"
    assert _refused(gw, lambda ch: (ch.queue_declare(reply, arguments={"x-expires": 60000}),
                                    ch.queue_bind(reply, RPC, str(uuid.uuid4())))) is None


def test_a_service_answers_rpcs_but_cannot_call_anothers(broker):
    uris, admin = broker
    accounts = uris["accounts"]
    admin.call(lambda ch: (ch.queue_declare("rpc-records", durable=True),
                           ch.queue_bind("rpc-records", RPC, "records.*")))
    assert _refused(accounts, _publish(RPC, "records.reveal_national_id")) == 403
    assert _refused(accounts, _publish(RPC, str(uuid.uuid4()))) is None   # a reply
    assert _refused(accounts, _publish(RPC, "accounts.ping")) is None     # its own health check
    assert _count(admin, "rpc-records") == 0


def test_certification_may_ask_accounts_for_addresses_and_nothing_else(broker):
    """The reminder job's one call (SERVICE_CALLS): accounts.user_emails, not sign-ins, imports
    or another service's methods."""
    uris, admin = broker
    certification = uris["certification"]
    admin.call(lambda ch: (ch.queue_declare("rpc-accounts", durable=True),
                           ch.queue_bind("rpc-accounts", RPC, "accounts.*")))
    assert _refused(certification, _publish(RPC, "accounts.user_emails")) is None
    for other in ("accounts.import_people", "accounts.reset_password", "accounts.list_users",
                  "records.reveal_national_id"):
        assert _refused(certification, _publish(RPC, other)) == 403, other
    assert _count(admin, "rpc-accounts") == 1


def test_permissions_cover_every_principal_and_nothing_is_left_open():
    for principal in broker_access.PRINCIPALS:
        perms = broker_access.permissions(principal)
        assert all(p.startswith("^") and p.endswith("$") for p in perms.values()), principal
        assert ".*" not in (perms["configure"], perms["write"], perms["read"])
        for tp in broker_access.topic_permissions(principal):
            assert tp["write"].startswith("^") and tp["read"].startswith("^") and "{" not in tp["write"] + tp["read"]
    assert broker_access.permissions("files")["configure"] == "^$"
    assert broker_access.permissions("gateway")["write"] == r"^(nameko\-rpc|rpc\.reply-gateway-.+)$"
