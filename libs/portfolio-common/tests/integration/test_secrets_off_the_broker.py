"""Passwords and national IDs never reach RabbitMQ in the clear, nor as persistent messages
(a real broker and a real nameko service; what the broker holds is read with a tap queue bound
to every routing key of `nameko-rpc`)."""
import json
import os
import subprocess
import sys
import time
import uuid

import pika
import pytest
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService

from portfolio_common import amqp
from portfolio_common.rpc_transport import rpc_proxy
from tests.support.ids import SECRETS

HERE = os.path.dirname(__file__)
TAP = "tap-everything"


def _tap(admin):
    admin.call(lambda ch: (ch.queue_declare(TAP, durable=True), ch.queue_bind(TAP, amqp.RPC_EXCHANGE, "#")))


def _tapped(admin):
    out = []

    def take(ch):
        while True:
            m, props, body = ch.basic_get(TAP, auto_ack=True)
            if m is None:
                return
            out.append((m.routing_key, props, body))
    admin.call(take)
    return out


def test_a_sign_in_waiting_on_the_broker_is_sealed_and_transient(private_amqp_uri):
    admin = amqp.PikaPublisher(private_amqp_uri)
    admin.call(amqp.declare_topology)
    # accounts is down: the request waits in its queue (where a broker would page it to disk)
    admin.call(lambda ch: (ch.queue_declare("rpc-accounts", durable=True),
                           ch.queue_bind("rpc-accounts", amqp.RPC_EXCHANGE, "accounts.*")))
    password = f"pw-{uuid.uuid4().hex}"
    with rpc_proxy(client="gateway", uri=private_amqp_uri, timeout=1) as rpc:
        with pytest.raises(RpcTimeout):
            rpc.accounts.sign_in("s_day01", password, "127.0.0.1")
    method, props, body = admin.call(lambda ch: ch.basic_get("rpc-accounts", auto_ack=True))
    assert method.routing_key == "accounts.sign_in"
    assert props.delivery_mode == 1, "an RPC is transient: nothing of it needs to survive a restart"
    assert password.encode() not in body and b"s_day01" not in body
    assert set(json.loads(body)) == {"args", "kwargs", "sealed"}
    admin.close()


def test_a_sealed_rpc_and_its_answer_cross_the_broker_as_ciphertext(tmp_path, private_amqp_uri):
    admin = amqp.PikaPublisher(private_amqp_uri)
    admin.call(amqp.declare_topology)
    _tap(admin)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"AMQP_URI: {private_amqp_uri}\n")
    env = dict(os.environ, SEAL_KEY=SECRETS["RECORDS_SEAL_KEY"],
               PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "nameko"), "run", "--config",
                             str(cfg), "sealed_kit_service"], env=env, cwd=HERE,
                            stdout=open(tmp_path / "log", "w"), stderr=subprocess.STDOUT)
    try:
        student = str(uuid.uuid4())
        with rpc_proxy(client="gateway", uri=private_amqp_uri, timeout=10) as rpc:
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert rpc.records.ping() == "pong"
                    break
                except (RpcTimeout, RemoteError, UnknownService):
                    assert time.monotonic() < deadline, (tmp_path / "log").read_text()[-2000:]
                    time.sleep(0.3)
            # the caller gets the answer in the clear ...
            assert rpc.records.reveal_national_id("token", student) == {
                "student_id": student, "national_id": "A123456789"}
        # ... while the broker carried the request and the answer sealed, both transient.
        wire = [(key, props, body) for key, props, body in _tapped(admin)
                if key != "records.ping" and b"pong" not in body]
        keys = [key for key, _, _ in wire]
        assert "records.reveal_national_id" in keys and len(wire) == 2, keys
        for key, props, body in wire:
            assert props.delivery_mode == 1, key
            assert b"A123456789" not in body and student.encode() not in body, key
            assert "sealed" in json.loads(body), key

        # A request for a sealed method that comes in the clear is refused by the service.
        reply_key = str(uuid.uuid4())
        admin.call(lambda ch: (ch.queue_declare("reply-clear", durable=False),
                               ch.queue_bind("reply-clear", amqp.RPC_EXCHANGE, reply_key)))
        admin.call(lambda ch: ch.basic_publish(amqp.RPC_EXCHANGE, "records.reveal_national_id", json.dumps(
            {"args": ["token", student], "kwargs": {}}).encode(), pika.BasicProperties(
            content_type="application/json", reply_to=reply_key, correlation_id="c1")))
        deadline, answer = time.monotonic() + 20, None
        while answer is None and time.monotonic() < deadline:
            m, _, body = admin.call(lambda ch: ch.basic_get("reply-clear", auto_ack=True))
            answer = json.loads(body) if m else None
            time.sleep(0.1)
        assert answer and answer["result"] is None and answer["error"]["exc_type"] == "NotSealed"
    finally:
        proc.terminate()
        proc.wait(20)
        admin.close()
