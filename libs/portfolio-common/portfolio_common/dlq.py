"""Ops tool for dead letters: list queues with dead letters, show them, replay them.

  portfolio-dlq list
  portfolio-dlq show  <handler-queue> [--limit N]
  portfolio-dlq replay <handler-queue> [--limit N]

Run it with the vhost's administrator (AMQP_URI). Dead-letter queues are quorum queues, which
count every delivery, and RabbitMQ 4 drops a message after its delivery limit: so `show` never
hands a letter back with basic.nack. It takes each letter and puts an identical copy (body,
properties, headers) at the back of the same queue, confirmed, before acknowledging the
original: the whole queue goes round once, in order, and every letter's delivery count stays 0.
(A letter that arrives while `show` runs ends up ahead of the ones it went round with.)
"""
import argparse
import json
import uuid

import pika

from .amqp import PikaPublisher, all_queues, dead_letter_queue, queue_service, service_exchange
from .config import amqp_uri


def counts(pub):
    def fn(ch):
        out = {}
        for q in all_queues():
            out[q] = ch.queue_declare(dead_letter_queue(q), passive=True).method.message_count
        return out
    return pub.call(fn)


def _letter(props, body):
    return {"headers": {k: v for k, v in (props.headers or {}).items()},
            "body": body.decode("utf-8", "replace")}


def peek(pub, queue, limit=20):
    """The first `limit` dead letters of `queue`'s DLQ, without consuming a delivery of any."""
    dlq = dead_letter_queue(queue)
    route = (service_exchange(queue_service(queue)), dlq)

    def fn(ch):
        total = ch.queue_declare(dlq, passive=True).method.message_count
        items = []
        for _ in range(total):
            method, props, body = ch.basic_get(dlq, auto_ack=False)
            if method is None:
                break
            if len(items) < limit:
                items.append(_letter(props, body))
            # the copy is confirmed (confirm mode) before the original is acknowledged
            ch.basic_publish(route[0], route[1], body, pika.BasicProperties(
                content_type=props.content_type, delivery_mode=2, headers=props.headers,
                message_id=props.message_id, correlation_id=props.correlation_id), mandatory=True)
            ch.basic_ack(method.delivery_tag)
        return items
    return pub.call(fn)


def replay(pub, queue, limit=None):
    """Move dead letters back to the handler's queue, attempt count reset. Returns how many.

    A letter that fails again comes back to the DLQ while the replay still runs; it carries
    this replay's id, so the replay stops there instead of looping on it (that one letter is
    handed back once, counting one delivery).
    """
    replay_id = uuid.uuid4().hex
    exchange = service_exchange(queue_service(queue))
    moved = 0

    def take(ch):
        return ch.basic_get(dead_letter_queue(queue), auto_ack=False)

    while limit is None or moved < limit:
        method, props, body = pub.call(take)
        if method is None:
            break
        headers = dict(props.headers or {})
        if headers.get("x-replay-id") == replay_id:
            pub.call(lambda ch: ch.basic_nack(method.delivery_tag, requeue=True))
            break
        headers = {k: v for k, v in headers.items() if not k.startswith("x-")}
        headers["x-replay-id"] = replay_id
        pub.publish(exchange, queue, body, headers=headers)
        pub.call(lambda ch: ch.basic_ack(method.delivery_tag))
        moved += 1
    return moved


def main(argv=None):
    p = argparse.ArgumentParser(prog="portfolio-dlq", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--amqp-uri", default=amqp_uri())
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list")
    for name in ("show", "replay"):
        s = sub.add_parser(name)
        s.add_argument("queue")
        s.add_argument("--limit", type=int, default=None if name == "replay" else 20)
    a = p.parse_args(argv)
    pub = PikaPublisher(a.amqp_uri, connection_name="dlq-tool")
    try:
        if a.cmd == "list":
            for q, n in counts(pub).items():
                print(f"{n:6d}  {q}")
        elif a.cmd == "show":
            print(json.dumps(peek(pub, a.queue, a.limit), ensure_ascii=False, indent=2, default=str))
        else:
            print(f"replayed {replay(pub, a.queue, a.limit)} message(s) to {a.queue}")
    finally:
        pub.close()
