import hashlib
import time
import uuid

import pytest
import requests

from tests.support import uploads

PASSWORD = "demo-pass-2026"


class Api:
    """A signed-in API client: `api("s_day01").get("/outcomes")`."""

    def __init__(self, base, username):
        self.base = base + "/api/v1"
        r = requests.post(self.base + "/auth/token", json={"username": username, "password": PASSWORD}, timeout=30)
        assert r.status_code == 201, r.text
        self.user = r.json()["user"]
        self.s = requests.Session()
        self.s.headers["Authorization"] = "Bearer " + r.json()["token"]

    def __getattr__(self, verb):
        return lambda path, **kw: getattr(self.s, verb)(self.base + path, timeout=60, **kw)

    def upload(self, section_id, description, content, filename="成果.pdf", idempotency_key=None, slot=None):
        """Ticket from the gateway, bytes to the files service (tests/support/uploads.py)."""
        return uploads.upload_outcome(self.s, self.base[:-len("/api/v1")], section_id, description, content,
                                      filename, idempotency_key, slot=slot)

    def reupload(self, outcome_id, description, content, filename="成果.pdf", slot=None):
        """A file for an outcome of the student's (same outcome_id): a returned one uploaded
        again, or the file of its empty slot added."""
        return uploads.reupload_outcome(self.s, self.base[:-len("/api/v1")], outcome_id, description, content,
                                        filename, slot=slot)

    def ticket(self, section_id, description, idempotency_key=None):
        return uploads.request_ticket(self.s, self.base[:-len("/api/v1")], section_id, description, idempotency_key)

    def section(self, subject):
        return next(s for s in self.get("/sections").json() if s["subject_name"] == subject)


def pdf(tag=None):
    """A small valid PDF with unique bytes."""
    return (b"%PDF-1.4\n% " + (tag or uuid.uuid4().hex).encode() + b"\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def eventually(fn, timeout=20, interval=0.2):
    """Poll until fn() returns a truthy value (events are asynchronous: milliseconds, not seconds)."""
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"not true after {timeout}s: {fn}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def api(stack):
    cache = {}

    def make(username):
        if username not in cache:
            cache[username] = Api(stack.gateway_url, username)
        return cache[username]
    return make


class ExtraGateway:
    """One more gateway process in front of the stack's services, with its own settings (for
    example behind a proxy, or with secure cookies): the gateway keeps nothing, so a second one
    serves the same platform. Its log is its own, so a test can read just what it did."""

    def __init__(self, stack, tmp_path, env):
        import subprocess
        import sys
        from pathlib import Path

        from tests.support.servers import free_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tmp_path) / f"gateway-{self.port}.log"
        run_env = stack.env_for("gateway")
        run_env.update({k: str(v) for k, v in env.items()})
        cmd = [str(Path(sys.prefix) / "bin" / "gunicorn"), "-c", "python:gateway.gunicorn_conf", "-w", "1", "--threads", "4",
               "--graceful-timeout", "5", "-b", f"127.0.0.1:{self.port}", "gateway.app:create_app()"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=Path(__file__).resolve().parents[2], env=run_env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         # its own process group, so stop() takes the worker too
                                         start_new_session=True)
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise AssertionError(f"extra gateway did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.3)

    def stop(self):
        """TERM to the whole group (gunicorn's master and its worker); KILL after 15 s. Killing
        only the master would leave its worker orphaned and serving."""
        import os
        import signal
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except Exception:  # noqa: BLE001 - still there: next signal
                continue
            # the master is gone; make sure no worker of its group outlives it
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break


@pytest.fixture(scope="module")
def extra_gateway(stack, tmp_path_factory):
    """Factory: extra_gateway({"TRUSTED_PROXY_HOPS": "1"}) -> a running ExtraGateway (stopped
    at the end of the module)."""
    made = []

    def make(env):
        gw = ExtraGateway(stack, tmp_path_factory.mktemp("gateway"), env)
        made.append(gw)
        return gw
    yield make
    for gw in made:
        gw.stop()
