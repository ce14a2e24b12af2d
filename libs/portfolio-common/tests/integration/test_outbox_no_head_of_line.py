"""The outbox relay against a real RabbitMQ and PostgreSQL: no row holds back the rows behind it,
and nobody who only kicks the relay ever waits for the broker."""
import threading
import time
import uuid

import sqlalchemy as sa

from portfolio_common import amqp
from tests.support.servers import take_all
from portfolio_common.db import make_engine, messaging_tables
from portfolio_common.outbox import OutboxRelay, RelayLoop, park_delay_s


def _setup(fresh_db, uri):
    md = sa.MetaData()
    outbox, _ = messaging_tables(md)
    engine = make_engine(fresh_db("outbox"))
    md.create_all(engine)
    pub = amqp.PikaPublisher(uri, connection_name="outbox-test")
    ex, q = "hol.events", "hol-q"
    pub.call(lambda ch: (ch.exchange_declare(ex, "topic", durable=True),
                         ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum"}),
                         ch.queue_bind(q, ex, routing_key="routed")))
    return engine, outbox, pub, ex, q


def _add(engine, outbox, ex, key, n, tag):
    with engine.begin() as conn:
        conn.execute(outbox.insert(), [{"id": uuid.uuid4(), "exchange": ex, "routing_key": key,
                                        "body": {"tag": tag, "n": i}} for i in range(n)])


def test_500_unroutable_rows_at_the_head_do_not_hold_back_the_routable_ones(fresh_db, private_amqp_uri):
    engine, outbox, pub, ex, q = _setup(fresh_db, private_amqp_uri)
    _add(engine, outbox, ex, "nobody-listens", 500, "unroutable")   # no queue bound to this key
    _add(engine, outbox, "no-such-exchange", "x", 3, "no-exchange")  # refused by the broker (404)
    _add(engine, outbox, ex, "routed", 5, "routable")
    parked_seen = []
    relay = OutboxRelay(engine, outbox, pub, on_parked=parked_seen.append)
    with engine.connect() as c:
        before = c.execute(sa.select(sa.func.now())).scalar_one()

    assert relay.flush() == 5
    assert [b["n"] for b in take_all(pub, q)] == [0, 1, 2, 3, 4]
    assert relay.backlog()["parked"] == 503 and relay.backlog()["pending"] == 0
    assert relay.parked_total == 503 and sum(parked_seen) == 503
    with engine.connect() as c:
        first_retry = c.execute(sa.select(sa.func.min(outbox.c.next_attempt_at))
                                .where(outbox.c.sent_at.is_(None))).scalar_one()
    assert (first_retry - before).total_seconds() >= park_delay_s(1), "parked rows wait for their back-off"

    # Later rows keep flowing while those wait; a row is not tried again before its time.
    with engine.begin() as c:  # (an hour, so that a slow machine cannot reach it meanwhile)
        c.execute(outbox.update().where(outbox.c.sent_at.is_(None))
                  .values(next_attempt_at=sa.func.now() + sa.text("interval '1 hour'")))
    _add(engine, outbox, ex, "routed", 2, "later")
    assert relay.flush() == 2 and len(take_all(pub, q)) == 2
    assert relay.backlog()["parked"] == 503

    # Once someone subscribes and the back-off is over, the parked events are delivered: kept, not lost.
    pub.call(lambda ch: ch.queue_bind(q, ex, routing_key="nobody-listens"))
    with engine.begin() as c:
        c.execute(outbox.update().values(next_attempt_at=sa.func.now() - sa.text("interval '1 second'")))
    assert relay.flush() == 500
    assert sorted(b["n"] for b in take_all(pub, q)) == list(range(500))
    backlog = relay.backlog()
    assert (backlog["pending"], backlog["parked"]) == (0, 3) and backlog["oldest_s"] > 0
    with engine.connect() as c:
        attempts = c.execute(sa.select(outbox.c.attempts).where(outbox.c.sent_at.is_(None))).scalars().all()
    assert attempts == [2, 2, 2], "each retry of a parked row counts, and its back-off doubles"
    pub.close()
    engine.dispose()


def test_a_broker_outage_parks_nothing_and_loses_nothing(fresh_db, private_amqp_uri):
    engine, outbox, pub, ex, q = _setup(fresh_db, private_amqp_uri)
    _add(engine, outbox, ex, "routed", 3, "outage")
    dead = OutboxRelay(engine, outbox, amqp.PikaPublisher("amqp://guest:guest@127.0.0.1:1/"))
    assert dead.flush() == 0
    assert dead.backlog()["pending"] == 3 and dead.backlog()["parked"] == 0
    assert OutboxRelay(engine, outbox, pub).flush() == 3 and len(take_all(pub, q)) == 3
    pub.close()
    engine.dispose()


def test_kicking_the_relay_never_waits_for_the_broker_or_the_publisher_lock(fresh_db, private_amqp_uri):
    engine, outbox, pub, ex, q = _setup(fresh_db, private_amqp_uri)
    relay = OutboxRelay(engine, outbox, pub)
    loop = RelayLoop(relay, interval=0.2).start()
    try:
        with pub.lock:  # the relay is stuck in a publish (a hanging broker holds the lock as long)
            _add(engine, outbox, ex, "routed", 1, "kicked")
            done = threading.Event()
            threading.Thread(target=lambda: (loop.kick(), loop.kick(), done.set()), daemon=True).start()
            assert done.wait(10), "kick() waited for the publisher"
            assert relay.backlog()["pending"] == 1
        deadline = time.monotonic() + 20
        got = []
        while not got and time.monotonic() < deadline:
            got = take_all(pub, q)
        assert [b["tag"] for b in got] == ["kicked"], "published once the lock was free"
    finally:
        loop.stop()
        pub.close()
        engine.dispose()
