"""The messaging kit against a real RabbitMQ and PostgreSQL."""
import json
import os
import subprocess
import sys
import time
import uuid

import pika
import pytest
import sqlalchemy as sa

from portfolio_common import amqp, dlq, events
from portfolio_common.db import add_outbox_event, claim_event, make_engine, messaging_tables
from portfolio_common.outbox import OutboxRelay

HERE = os.path.dirname(__file__)


@pytest.fixture
def publisher(amqp_uri):
    pub = amqp.PikaPublisher(amqp_uri, connection_name="kit-test")
    yield pub
    pub.close()


@pytest.fixture
def test_exchange(publisher):
    """An exchange + queue of this test only (never the platform's names)."""
    ex, q = f"it-{uuid.uuid4().hex[:8]}.events", f"it-q-{uuid.uuid4().hex[:8]}"

    def setup(ch):
        ch.exchange_declare(ex, "topic", durable=True)
        ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum"})
        ch.queue_bind(q, ex, routing_key="#")
    publisher.call(setup)
    yield ex, q
    publisher.call(lambda ch: (ch.queue_delete(q), ch.exchange_delete(ex)))


def _drain(publisher, q):
    out = []

    def take(ch):
        while True:
            m, props, body = ch.basic_get(q, auto_ack=True)
            if m is None:
                return
            out.append((props, json.loads(body)))
    publisher.call(take)
    return out


def test_unroutable_publish_is_an_error_not_a_silent_drop(publisher):
    ex = f"it-{uuid.uuid4().hex[:8]}.events"
    publisher.call(lambda ch: ch.exchange_declare(ex, "topic", durable=True))
    with pytest.raises(amqp.PublishFailed):
        publisher.publish(ex, "nobody-listens", {"x": 1})
    with pytest.raises(amqp.PublishFailed):  # undeclared exchange: channel closed, reported
        publisher.publish(f"missing-{uuid.uuid4().hex}", "x", {"x": 1})
    publisher.call(lambda ch: ch.exchange_delete(ex))


def test_topology_is_quorum_and_idempotent(private_amqp_uri):
    publisher = amqp.PikaPublisher(private_amqp_uri)
    publisher.call(amqp.declare_topology)
    publisher.call(amqp.declare_topology)
    q = events.queue_name(*events.SUBSCRIPTIONS[0][:3])
    # Redeclaring a quorum queue as classic is refused by the broker: proof of its type.
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        publisher.call(lambda ch: ch.queue_declare(q, durable=True))
    assert e.value.reply_code == 406
    publisher.close()


def test_outbox_relay_publishes_confirmed_rows_once(fresh_db, publisher, test_exchange, amqp_uri):
    ex, q = test_exchange
    md = sa.MetaData()
    outbox, processed = messaging_tables(md)
    engine = make_engine(fresh_db("kit"))
    md.create_all(engine)
    ids = []
    with engine.begin() as conn:
        for i in range(5):
            env = {"event_id": str(uuid.uuid4()), "event": "thing", "n": i}
            conn.execute(outbox.insert().values(id=env["event_id"], exchange=ex, routing_key="thing", body=env))
            ids.append(env["event_id"])
    relay = OutboxRelay(engine, outbox, publisher)
    assert relay.flush() == 5 and relay.pending() == 0
    assert relay.flush() == 0
    got = _drain(publisher, q)
    assert [b["n"] for _, b in got] == [0, 1, 2, 3, 4]
    assert [p.message_id for p, _ in got] == ids and all(p.delivery_mode == 2 for p, _ in got)

    # Broker unreachable: nothing is marked sent, nothing is lost; a later flush delivers.
    with engine.begin() as conn:
        conn.execute(outbox.insert().values(id=uuid.uuid4(), exchange=ex, routing_key="thing", body={"n": 9}))
    dead = OutboxRelay(engine, outbox, amqp.PikaPublisher("amqp://guest:guest@127.0.0.1:1/"))
    assert dead.flush() == 0 and dead.pending() == 1
    assert relay.flush() == 1 and [b["n"] for _, b in _drain(publisher, q)] == [9]

    # A row nobody is subscribed to stays pending but does not hold back the rows behind it.
    unbound = f"it-unbound-{uuid.uuid4().hex[:8]}.events"
    publisher.call(lambda ch: ch.exchange_declare(unbound, "topic", durable=True))
    with engine.begin() as conn:
        conn.execute(outbox.insert().values(id=uuid.uuid4(), exchange=unbound, routing_key="x", body={"n": 10}))
        conn.execute(outbox.insert().values(id=uuid.uuid4(), exchange=ex, routing_key="thing", body={"n": 11}))
    assert relay.flush() == 1 and relay.pending() == 1
    assert [b["n"] for _, b in _drain(publisher, q)] == [11]
    publisher.call(lambda ch: ch.exchange_delete(unbound))
    engine.dispose()


def test_processed_event_is_claimed_once(fresh_db):
    md = sa.MetaData()
    outbox, processed = messaging_tables(md)
    engine = make_engine(fresh_db("kit"))
    md.create_all(engine)
    eid = str(uuid.uuid4())
    with engine.begin() as conn:
        assert claim_event(conn, processed, eid, "svc.handle")
        assert not claim_event(conn, processed, eid, "svc.handle")
        assert claim_event(conn, processed, eid, "other.handle")
        add_outbox_event(conn, outbox, events.make_event(events.SEALED, "day", {
            "student_id": str(uuid.uuid4()), "student_user_id": str(uuid.uuid4()), "sealed_at": events.utcnow(),
            "manifest_digest": "0" * 64}))
        assert conn.execute(sa.select(outbox.c.exchange)).scalar() == "submission.events"
    engine.dispose()


def _wait(pred, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def test_failing_handler_is_retried_then_dead_lettered_and_replayable(tmp_path, private_amqp_uri):
    amqp_uri = private_amqp_uri
    publisher = amqp.PikaPublisher(amqp_uri, connection_name="kit-test")
    delays = [200, 200, 200]
    ex, queue = "kitsrc.events", "evt-kitsrc-thing-happened--kittest.handle"
    publisher.call(lambda ch: ch.exchange_declare(ex, "topic", durable=True))
    publisher.call(lambda ch: amqp.declare_handler_queue(ch, ex, "thing-happened", queue, delays))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"AMQP_URI: {amqp_uri}\n")
    env = dict(os.environ, KIT_STATE_DIR=str(tmp_path), EVENT_RETRY_DELAYS_MS=",".join(map(str, delays)),
               PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "nameko"), "run", "--config",
                             str(cfg), "kit_service"], env=env, cwd=HERE,
                            stdout=open(tmp_path / "log", "w"), stderr=subprocess.STDOUT)
    try:
        done = lambda n: (tmp_path / f"done-{n}").exists()  # noqa: E731
        # wait until the consumer is attached
        assert _wait(lambda: publisher.call(lambda ch: ch.queue_declare(queue, passive=True)
                                            .method.consumer_count) >= 1), (tmp_path / "log").read_text()
        for n, fail_times in (("ok", 0), ("flaky", 2), ("poison", 4)):
            publisher.publish(ex, "thing-happened", {"n": n, "fail_times": fail_times})
        publisher.publish(ex, "thing-happened", b'"just a string"')
        publisher.publish(ex, "thing-happened", b'{not json at all')  # cannot even be decoded
        assert _wait(lambda: done("ok") and done("flaky")), (tmp_path / "log").read_text()[-3000:]
        assert json.loads((tmp_path / "done-flaky").read_text())["attempts"] == 3
        # poison: 1 attempt + 3 retries, then the DLQ; malformed: straight to the DLQ
        dead_letters = lambda: publisher.call(lambda ch: ch.queue_declare(  # noqa: E731
            amqp.dead_letter_queue(queue), passive=True).method.message_count)
        assert _wait(lambda: dead_letters() == 3)
        assert (tmp_path / "attempts-poison").read_text() == "4" and not done("poison")
        letters = dlq.peek(publisher, queue)
        kinds = sorted(m["headers"]["x-error-type"] for m in letters)
        assert kinds == ["ContentDisallowed", "PermanentEventError", "RuntimeError"] or \
            kinds == ["DecodeError", "PermanentEventError", "RuntimeError"], kinds
        assert "{not json at all" in [m["body"] for m in letters]
        assert all(m["headers"]["x-original-queue"] == queue for m in letters)
        # ops replays: the poison message now succeeds on its 5th attempt
        assert dlq.replay(publisher, queue) == 3
        assert _wait(lambda: done("poison")), (tmp_path / "log").read_text()[-3000:]
        assert _wait(lambda: dead_letters() == 2)  # the two malformed ones are still malformed
    finally:
        proc.terminate()
        proc.wait(20)
        publisher.close()  # the vhost goes with the fixture


def test_batch_handler_applies_a_backlog_in_batches_and_a_poison_event_fails_alone(tmp_path, private_amqp_uri):
    """BatchEventHandler (issue 10): a backlog is handed over in batches; a batch with a poison
    or malformed event is applied again one event at a time, so the good events of that batch
    are applied once and only the bad ones are retried and dead-lettered, each alone."""
    amqp_uri = private_amqp_uri
    publisher = amqp.PikaPublisher(amqp_uri, connection_name="kit-test")
    delays = [200, 200, 200]
    ex, queue = "kitsrc.events", "evt-kitsrc-things-happened--kitbatch.handle"
    publisher.call(lambda ch: ch.exchange_declare(ex, "topic", durable=True))
    publisher.call(lambda ch: amqp.declare_handler_queue(ch, ex, "things-happened", queue, delays))
    # the backlog is waiting before the service starts, as after an outage
    good = [f"ok{i}" for i in range(60)]
    for n in good[:30]:
        publisher.publish(ex, "things-happened", {"n": n})
    publisher.publish(ex, "things-happened", {"n": "poison", "poison": True})
    publisher.publish(ex, "things-happened", b'"just a string"')
    for n in good[30:]:
        publisher.publish(ex, "things-happened", {"n": n})
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"AMQP_URI: {amqp_uri}\n")
    env = dict(os.environ, KIT_STATE_DIR=str(tmp_path), EVENT_RETRY_DELAYS_MS=",".join(map(str, delays)),
               EVENT_BATCH_SIZE="25", EVENT_BATCH_WAIT_MS="50",
               PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "nameko"), "run", "--config",
                             str(cfg), "kit_batch_service"], env=env, cwd=HERE,
                            stdout=open(tmp_path / "log", "w"), stderr=subprocess.STDOUT)
    try:
        log = lambda: (tmp_path / "log").read_text()[-3000:]  # noqa: E731
        assert _wait(lambda: all((tmp_path / f"done-{n}").exists() for n in good), 60), log()
        dead_letters = lambda: publisher.call(lambda ch: ch.queue_declare(  # noqa: E731
            amqp.dead_letter_queue(queue), passive=True).method.message_count)
        assert _wait(lambda: dead_letters() == 2, 60), log()
        # every good event applied exactly once, most of them in batches of more than one
        done = [json.loads((tmp_path / f"done-{n}").read_text()) for n in good]
        assert all(d["times"] == 1 for d in done)
        assert sum(1 for d in done if d["batch"] > 1) >= 30, done
        assert max(int(x) for x in (tmp_path / "batches").read_text().split()) <= 25
        # the poison event: 1 attempt alone + 3 retries alone, then the DLQ with its error
        assert (tmp_path / "attempts-poison").read_text() == "4" and not (tmp_path / "done-poison").exists()
        kinds = sorted(m["headers"]["x-error-type"] for m in dlq.peek(publisher, queue))
        assert kinds == ["PermanentEventError", "RuntimeError"], kinds
    finally:
        proc.terminate()
        proc.wait(20)
        publisher.close()
