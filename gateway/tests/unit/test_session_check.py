"""The gateway's session check (kept a few seconds per worker) and the caller tokens it mints.

The worker here is a real app with a fake RPC pool standing in for the broker; the real-process
bound across two gunicorn workers is in tests/e2e/test_session_check_e2e.py.
"""
import uuid

import pytest
from nameko.exceptions import RemoteError

from gateway.app import create_app
from gateway.sessions import SessionCache
from portfolio_common.caller import Verifier
from portfolio_common.errors import NotAuthenticated
from tests.support.ids import SECRETS


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FakeAccounts:
    """resolve_session / sign_out / change_password / end_session / reset_password, in memory."""

    def __init__(self):
        self.calls = []
        self.sessions = {}      # token -> profile
        self.revoked = set()

    def open(self, username="s_day01", must_change=False, user_id=None):
        token = uuid.uuid4().hex
        self.sessions[token] = {"user_id": user_id or str(uuid.uuid5(uuid.NAMESPACE_DNS, username)),
                                "username": username, "display_name": username,
                                "must_change_password": must_change, "session_id": str(uuid.uuid4()),
                                "grants": [{"tenant": "day", "role": "student"}], "proxy_for": {}}
        return token

    def call(self, service, method, *args, **kwargs):
        self.calls.append((service, method, args))
        if (service, method) == ("accounts", "resolve_session"):
            token = args[0]
            if token not in self.sessions or token in self.revoked:
                raise RemoteError("SessionInvalid", "[session_invalid] the session has ended")
            return dict(self.sessions[token])
        if (service, method) == ("accounts", "sign_out"):
            self.revoked.add(args[0])
            return True
        if (service, method) == ("accounts", "change_password"):
            me = self.sessions[args[0]]
            self.revoked |= {t for t, p in self.sessions.items() if p["user_id"] == me["user_id"] and t != args[0]}
            return True
        if (service, method) == ("accounts", "end_session"):
            self.revoked |= {t for t, p in self.sessions.items() if p["session_id"] == args[1]}
            return True
        if (service, method) == ("accounts", "reset_password"):
            self.revoked |= {t for t, p in self.sessions.items() if p["username"] == args[1]}
            return {"username": args[1], "temporary_password": "x"}
        if (service, method) == ("records", "list_my_outcomes"):
            return []
        raise AssertionError(f"unexpected call {service}.{method}")

    def resolves(self):
        return sum(1 for s, m, _ in self.calls if m == "resolve_session")


@pytest.fixture
def worker():
    app = create_app({"TESTING": True})
    fake = FakeAccounts()
    clock = Clock()
    app.extensions["rpc"] = fake
    app.extensions["sessions"] = SessionCache(5, clock=clock)
    client = app.test_client()

    def get(token, path="/api/v1/me"):
        return client.get(path, headers={"Authorization": f"Bearer {token}"})
    return app, fake, clock, client, get


def test_accounts_is_asked_once_per_session_within_the_bound(worker):
    app, fake, clock, client, get = worker
    token = fake.open()
    for _ in range(10):
        assert get(token).status_code == 200
    assert fake.resolves() == 1
    clock.now += 4.9
    assert get(token).status_code == 200 and fake.resolves() == 1
    clock.now += 0.2            # 5.1 s after the check started: asked again
    assert get(token).status_code == 200 and fake.resolves() == 2


def test_a_session_ended_elsewhere_is_refused_once_the_bound_has_passed(worker):
    app, fake, clock, client, get = worker
    token = fake.open()
    assert get(token).status_code == 200
    fake.revoked.add(token)     # signed out through another worker
    clock.now += 5.0
    r = get(token)
    assert r.status_code == 401 and r.json["error"]["code"] == "session_invalid"


def test_sign_out_in_this_worker_takes_effect_at_once(worker):
    app, fake, clock, client, get = worker
    token = fake.open()
    assert get(token).status_code == 200
    assert client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    r = get(token)
    assert r.status_code == 401 and r.json["error"]["code"] == "session_invalid"


def test_password_change_ends_the_users_other_sessions_in_this_worker_at_once(worker):
    app, fake, clock, client, get = worker
    uid = str(uuid.uuid4())
    mine, other, stranger = fake.open("t_wang", user_id=uid), fake.open("t_wang", user_id=uid), fake.open("t_lin")
    for t in (mine, other, stranger):
        assert get(t).status_code == 200
    r = client.post("/api/v1/auth/password", json={"old_password": "old-pass-1", "new_password": "new-pass-2"},
                    headers={"Authorization": f"Bearer {mine}"})
    assert r.status_code == 204, r.data
    assert get(other).status_code == 401
    assert get(mine).status_code == 200 and get(stranger).status_code == 200
    asked = [args[0] for _, m, args in fake.calls if m == "resolve_session"]
    assert asked.count(mine) == 2 and asked.count(stranger) == 1  # the stranger's entry was kept


def test_ending_one_of_my_sessions_takes_effect_at_once(worker):
    app, fake, clock, client, get = worker
    uid = str(uuid.uuid4())
    mine, other = fake.open("t_wang", user_id=uid), fake.open("t_wang", user_id=uid)
    assert get(mine).status_code == 200 and get(other).status_code == 200
    sid = fake.sessions[other]["session_id"]
    r = client.delete(f"/api/v1/auth/sessions/{sid}", headers={"Authorization": f"Bearer {mine}"})
    assert r.status_code == 204
    assert get(other).status_code == 401


def test_an_admin_reset_in_this_worker_takes_effect_at_once(worker):
    from gateway.clients import rpc
    app, fake, clock, client, get = worker
    victim = fake.open("t_lin")
    admin = fake.open("admin")
    fake.sessions[admin]["grants"] = [{"tenant": "day", "role": "system_admin"}]
    assert get(victim).status_code == 200
    with app.test_request_context(headers={"Authorization": f"Bearer {admin}"}):
        rpc("accounts", "reset_password", "t_lin")
    assert get(victim).status_code == 401


def test_must_change_password_is_never_kept(worker):
    app, fake, clock, client, get = worker
    token = fake.open(must_change=True)
    get(token)
    get(token)
    assert fake.resolves() == 2


def test_an_answer_older_than_a_sign_out_in_this_worker_is_not_kept():
    clock = Clock()
    cache = SessionCache(5, clock=clock)
    started = clock()           # a check starts ...
    clock.now += 0.01
    cache.forget_token("other") # ... a sign-out is served meanwhile ...
    cache.put("t", {"user_id": "u", "must_change_password": False}, started)
    assert cache.get("t") is None  # ... so its possibly stale answer is not kept
    clock.now += 0.01
    cache.put("t", {"user_id": "u", "must_change_password": False}, clock())
    assert cache.get("t")["user_id"] == "u"


def test_the_cache_is_bounded_and_keyed_by_a_hash():
    cache = SessionCache(5, maxsize=3)
    for i in range(10):
        cache.put(f"token-{i}", {"user_id": str(i)}, cache.clock())
    assert len(cache) == 3
    assert not any(k.startswith("token-") for k in cache._cache)


def test_each_service_gets_a_token_for_itself_only(worker):
    app, fake, clock, client, get = worker
    token = fake.open()
    assert get(token, "/api/v1/outcomes").status_code == 200
    sent = next(args[0] for s, m, args in fake.calls if m == "list_my_outcomes")
    me = Verifier("records", SECRETS["CALLER_PUBLIC_KEYS"]).verify(sent)
    assert (me.username, me.tenant, me.roles, me.issuer) == ("s_day01", "day", ("student",), "gateway")
    for other in ("accounts", "files", "certification", "submission"):
        with pytest.raises(NotAuthenticated):
            Verifier(other, SECRETS["CALLER_PUBLIC_KEYS"]).verify(sent)


def test_sign_in_with_identity_is_sent_as_the_gateways_own_identity(worker):
    from gateway import auth
    app, fake, clock, client, get = worker
    sent = []
    fake.call = lambda service, method, *args, **kw: sent.append((service, method, args)) or {"ok": 1}
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        auth.sign_in_with_identity("moe-cloud", "sub-1")
    (service, method, args), = sent
    assert (service, method, args[1:3]) == ("accounts", "sign_in_with_identity", ("moe-cloud", "sub-1"))
    me = Verifier("accounts", SECRETS["CALLER_PUBLIC_KEYS"]).verify(args[0])
    assert me.roles == ("system:gateway",) and me.issuer == "gateway" and me.remote_addr == "10.1.2.3"


def test_a_change_of_rights_in_this_worker_is_seen_at_once(worker):
    """Roles imported, a proxy named or revoked: the profiles concerned are asked again."""
    from gateway.clients import rpc
    app, fake, clock, client, get = worker
    lin, wang, s1, admin = fake.open("t_lin"), fake.open("t_wang"), fake.open("s_day01"), fake.open("admin")
    fake.sessions[admin]["grants"] = [{"tenant": "day", "role": "system_admin"}]
    real_call = fake.call
    fake.call = lambda service, method, *a, **kw: (
        {} if method in ("grant_proxy", "revoke_proxy", "import_people") else real_call(service, method, *a, **kw))

    def asked(token):
        return sum(1 for _, m, args in fake.calls if m == "resolve_session" and args[0] == token)

    for t in (lin, wang, s1):
        get(t)
    with app.test_request_context(headers={"Authorization": f"Bearer {admin}"}):
        rpc("accounts", "grant_proxy", "t_wang", "t_lin", "2026-01-01", "2026-01-31")
    for t in (lin, wang, s1):
        get(t)
    assert (asked(lin), asked(wang), asked(s1)) == (2, 1, 1)
    with app.test_request_context(headers={"Authorization": f"Bearer {admin}"}):
        rpc("accounts", "import_people", [{"username": "s_day01"}], True)   # a preview changes nothing
        get(s1)
        assert asked(s1) == 1
        rpc("accounts", "import_people", [{"username": "s_day01"}], False)
    get(s1)
    assert asked(s1) == 2
    with app.test_request_context(headers={"Authorization": f"Bearer {admin}"}):
        rpc("accounts", "revoke_proxy", str(uuid.uuid4()))
    for t in (lin, wang, s1):
        get(t)
    assert (asked(lin), asked(wang), asked(s1)) == (3, 2, 3)
