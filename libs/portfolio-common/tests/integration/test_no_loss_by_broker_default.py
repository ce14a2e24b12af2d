"""No event lost to a broker default (real RabbitMQ, a vhost of each test's own).

- a handler queue sends a message that keeps coming back (its consumer crashing) to its DLQ
  after an explicit delivery limit, instead of looping for ever (RabbitMQ 3.x) or being dropped
  silently after 20 deliveries (RabbitMQ 4's default);
- `portfolio-dlq show` reads dead letters without consuming a delivery of any;
- a deployment whose queues an earlier version declared with other arguments is migrated,
  messages kept, instead of failing on the broker's 406.
"""
import time

import pika
import pytest

from portfolio_common import amqp, dlq, events

EVENT, SOURCE, SERVICE, METHOD = events.CERTIFIED, "certification", "records", "handle_certified"
QUEUE = events.queue_name(EVENT, SERVICE, METHOD, SOURCE)


@pytest.fixture
def pub(private_amqp_uri):
    p = amqp.PikaPublisher(private_amqp_uri, connection_name="broker-default-test")
    yield p
    p.close()


def _count(pub, queue):
    return pub.call(lambda ch: ch.queue_declare(queue, passive=True).method.message_count)


def _wait(pred, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def test_handler_and_dead_letter_queues_state_their_limits_and_targets(pub):
    pub.call(amqp.declare_topology)
    # The broker holds exactly these arguments (a redeclaration with any other is refused).
    args = amqp.handler_arguments(SERVICE, QUEUE)
    assert args["x-delivery-limit"] == amqp.HANDLER_DELIVERY_LIMIT
    assert args["x-dead-letter-exchange"] == "records.dlx" and args["x-dead-letter-routing-key"] == QUEUE + ".dlq"
    assert args["x-dead-letter-strategy"] == "at-least-once"
    assert amqp.queue_matches(pub, QUEUE, args) is True
    assert amqp.queue_matches(pub, QUEUE, {"x-queue-type": "quorum"}) is False
    assert amqp.queue_matches(pub, amqp.dead_letter_queue(QUEUE), amqp.dead_letter_arguments()) is True


def test_a_message_that_keeps_failing_its_consumer_ends_in_the_dlq_not_dropped(pub):
    pub.call(amqp.declare_topology)
    pub.publish("certification.events", EVENT, {"event_id": "poison"})
    dead = amqp.dead_letter_queue(QUEUE)
    # A consumer that dies before acking, over and over (here: nack with requeue).
    for _ in range(amqp.HANDLER_DELIVERY_LIMIT + 1):
        assert _wait(lambda: _count(pub, QUEUE) == 1 or _count(pub, dead) == 1)
        method, _, _ = pub.call(lambda ch: ch.basic_get(QUEUE, auto_ack=False))
        if method is None:
            break
        pub.call(lambda ch: ch.basic_nack(method.delivery_tag, requeue=True))
    assert _wait(lambda: _count(pub, dead) == 1), "dead-lettered after its delivery limit"
    assert _count(pub, QUEUE) == 0


def test_dlq_show_reads_without_consuming_deliveries(pub):
    pub.call(amqp.declare_topology)
    dead = amqp.dead_letter_queue(QUEUE)
    for n in range(3):
        pub.publish("records.dlx", dead, {"n": n}, headers={"x-error": f"boom {n}"})
    # More shows than RabbitMQ 4 would allow deliveries of a quorum message by default (20).
    for _ in range(25):
        shown = dlq.peek(pub, QUEUE, limit=2)
        assert [m["headers"]["x-error"] for m in shown] == ["boom 0", "boom 1"]
    assert _count(pub, dead) == 3
    seen = []
    for _ in range(3):
        method, props, body = pub.call(lambda ch: ch.basic_get(dead, auto_ack=True))
        seen.append((props.headers or {}).get("x-delivery-count", 0))
    assert seen == [0, 0, 0], f"a show counted deliveries: {seen}"


def test_queues_of_an_earlier_version_are_migrated_with_their_messages(pub):
    # What the previous version declared: no limits, retries through the default exchange.
    old = {QUEUE: {"x-queue-type": "quorum"}, amqp.dead_letter_queue(QUEUE): {"x-queue-type": "quorum"},
           amqp.retry_queue(QUEUE, 1000): {"x-message-ttl": 1000, "x-dead-letter-exchange": "",
                                           "x-dead-letter-routing-key": QUEUE}}
    for q, args in old.items():
        pub.call(lambda ch, q=q, args=args: ch.queue_declare(q, durable=True, arguments=args))
    for n in range(4):
        pub.publish("", QUEUE, {"n": n})
    pub.publish("", amqp.dead_letter_queue(QUEUE), {"dead": 1}, headers={"x-error": "kept"})
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:  # why a migration is needed
        pub.call(lambda ch: amqp.declare_topology(ch, delays=[1000]))
    assert e.value.reply_code == 406

    redone = amqp.migrate_queues(pub, delays=[1000], log_fn=lambda m: None)
    assert set(redone) == set(old)
    assert amqp.queue_matches(pub, QUEUE, amqp.handler_arguments(SERVICE, QUEUE)) is True
    assert _count(pub, QUEUE) == 4 and _count(pub, amqp.dead_letter_queue(QUEUE)) == 1
    assert dlq.peek(pub, QUEUE)[0]["headers"]["x-error"] == "kept"
    assert amqp.migrate_queues(pub, delays=[1000], log_fn=lambda m: None) == []  # idempotent
    # and the migrated handler queue is bound again to its event
    pub.publish("certification.events", EVENT, {"n": 4})
    assert _wait(lambda: _count(pub, QUEUE) == 5)
