"""The publisher against a real RabbitMQ: a connection the broker dropped while it lay idle is
replaced on the next publish, which goes out at once (found by a new user: the first upload after
a quiet spell waited for the relay's next tick, and the portal reloaded before its outcome
existed); a broker that is not there is still an outage the caller sees."""
import json
import shutil
import urllib.parse
import urllib.request
import subprocess
import time
import uuid

import pytest

from portfolio_common import amqp
from tests.support.servers import take_all


def _broker_closes(uri):
    """What the broker does to a blocking connection that missed its heartbeats: close it (every
    connection of the test's own vhost: only the publisher's)."""
    p = urllib.parse.urlsplit(uri)
    vhost = urllib.parse.unquote(p.path.lstrip("/"))
    if shutil.which("rabbitmqctl") and p.hostname in ("127.0.0.1", "localhost"):
        subprocess.run(["rabbitmqctl", "-q", "close_all_connections", "--vhost", vhost, "idle too long (test)"],
                       check=True, capture_output=True)
    else:   # a broker elsewhere (a container): its management API, as tests/support/servers.py does
        api = f"http://{p.hostname}:15672/api"
        auth = urllib.request.HTTPBasicAuthHandler()
        auth.add_password("RabbitMQ Management", api, p.username or "guest", p.password or "guest")
        opener = urllib.request.build_opener(auth)
        conns = json.load(opener.open(f"{api}/vhosts/{urllib.parse.quote(vhost, safe='')}/connections", timeout=10))
        for c in conns:
            opener.open(urllib.request.Request(f"{api}/connections/{urllib.parse.quote(c['name'], safe='')}",
                                               method="DELETE"), timeout=10)
    time.sleep(0.5)


def test_a_connection_the_broker_dropped_while_idle_is_replaced_and_the_publish_goes_out_at_once(private_amqp_uri):
    name = f"reconnect-{uuid.uuid4().hex[:8]}"
    pub = amqp.PikaPublisher(private_amqp_uri, connection_name=name)
    ex, q = "rc.events", "rc-q"
    pub.call(lambda ch: (ch.exchange_declare(ex, "topic", durable=True),
                         ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum"}),
                         ch.queue_bind(q, ex, routing_key="k")))
    pub.publish(ex, "k", {"n": 1})
    _broker_closes(private_amqp_uri)
    pub.publish(ex, "k", {"n": 2})          # no PublishFailed: a new connection, at once
    assert [m["n"] for m in take_all(pub, q)] == [1, 2]
    # a message's own refusal is still reported as such after a reconnect
    _broker_closes(private_amqp_uri)
    with pytest.raises(amqp.PublishFailed) as e:
        pub.publish(ex, "nobody-listens", {"n": 3})
    assert e.value.unroutable
    pub.close()


def test_a_broker_that_is_not_there_is_an_outage_not_a_retry_loop():
    pub = amqp.PikaPublisher("amqp://guest:guest@127.0.0.1:9/", connection_name="nobody")
    t0 = time.monotonic()
    with pytest.raises(amqp.PublishFailed) as e:
        pub.publish("x", "y", {"n": 1})
    assert "broker unavailable" in str(e.value) and not e.value.unroutable
    assert time.monotonic() - t0 < 10
