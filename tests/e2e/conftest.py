import hashlib
import time
import uuid

import pytest
import requests

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

    def upload(self, section_id, description, content, filename="成果.pdf"):
        return self.post("/outcomes", data={"section_id": section_id, "description": description},
                         files={"file": (filename, content, "application/pdf")})

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
