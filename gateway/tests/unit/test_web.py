"""The gateway in a browser's world, without I/O: same-site redirects after sign-in, security
headers on every kind of response, the client address behind trusted proxies, and the tenant
header. Accounts is a fake here; tests/e2e/test_browser_world_e2e.py runs the same promises
against the real platform."""
import re
from pathlib import Path

import pytest

from gateway import web
from gateway.app import create_app

TEMPLATES = Path(web.__file__).parent / "templates"

# Every way we know to make a "path" leave the site once a browser has resolved it.
OFF_SITE = [
    "//evil.example", "///evil.example", "////evil.example/x",
    "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example",
    "/\t/evil.example", "/%09/evil.example", "/\n/evil.example", "/\r/evil.example",
    "/%0a/evil.example", "/%0d/evil.example", "%2F%2Fevil.example", "/%2F/evil.example",
    "/%2f%2fevil.example", "/%5Cevil.example", "/%5cevil.example", "/%255C%255Cevil.example",
    "/%252F%252Fevil.example", "https://evil.example", "http:evil.example", "HTTPS://evil.example",
    "//evil.example:443@good", "javascript:alert(1)", "jAvAsCrIpT:alert(1)", "data:text/html,x",
    " //evil.example", "\x00//evil.example", "/\x00/evil.example", "evil.example", "",
    "/ok\r\nSet-Cookie: st=forged", "/ok%0d%0aSet-Cookie:%20st=forged", "/ok\nLocation: //evil",
    "/\u3000/evil.example", "/\u00a0/evil.example", "/\u200b/evil.example", "/\u202e/evil.example",
    "/\u2028/evil.example", "/\ufeff/evil.example", "/%E3%80%80/evil.example", "/%E2%80%8B/evil.example",
    "/%C2%A0/evil.example", "/%ef%bc%8f%ef%bc%8fevil.example\t",
]
SAME_SITE = [
    "/", "/outcomes", "/selection?year=115", "/certification?status=returned",
    "/files/3f1c%2Fa", "/outcomes?q=%E6%88%90%E6%9E%9C", "/成果", "/%EF%BC%8F%EF%BC%8Fevil.example",
]


@pytest.mark.parametrize("value", OFF_SITE)
def test_off_site_next_falls_back_to_home(value):
    assert web.safe_next(value, "/home") == "/home"


@pytest.mark.parametrize("value", SAME_SITE)
def test_same_site_next_is_kept(value):
    assert web.safe_next(value, "/home") == value


def test_next_of_another_type_falls_back():
    assert web.safe_next(None, "/home") == "/home"
    assert web.safe_next(["/outcomes"], "/home") == "/home"
    assert web.safe_next("/" + "a" * 3000, "/home") == "/home"


# ---------------------------------------------------------------- the app, with accounts faked

STUDENT = {"user_id": "u-1", "username": "s_day01", "display_name": "王小明", "must_change_password": False,
           "grants": [{"tenant": "day", "role": "student"}]}


class FakeAccounts:
    """Stands in for the accounts RPCs the sign-in and the session check make."""

    def __init__(self):
        self.calls = []

    def call(self, service, method, *args, **kwargs):
        self.calls.append((service, method, args))
        if method == "sign_in":
            return dict(STUDENT, session_token="st-1")
        if method == "resolve_session":
            return dict(STUDENT)
        if method in ("list_my_sessions",):
            return []
        raise AssertionError(f"unexpected RPC {service}.{method}")


def make_app(**config):
    app = create_app(config)
    app.extensions["rpc"] = FakeAccounts()
    return app


@pytest.fixture
def app():
    return make_app()


def sign_in(client, next_value):
    client.get("/login")
    with client.session_transaction() as s:
        csrf = s["csrf"]
    return client.post("/login", query_string={"next": next_value},
                       data={"csrf_token": csrf, "username": "s_day01", "password": "pw"})


@pytest.mark.parametrize("value", OFF_SITE)
def test_sign_in_never_redirects_off_site_nor_fails(app, value):
    resp = sign_in(app.test_client(), value)
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"


def test_sign_in_keeps_a_same_site_next(app):
    resp = sign_in(app.test_client(), "/selection?year=115")
    assert (resp.status_code, resp.headers["Location"]) == (302, "/selection?year=115")


def assert_browser_headers(resp):
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    return csp


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/login", 200),                      # portal page
    ("GET", "/no-such-page", 404),               # portal error page
    ("GET", "/static/app.css", 200),             # static file
    ("GET", "/static/portal.js", 200),
    ("GET", "/api/v1/openapi.json", 200),        # API document
    ("GET", "/api/v1/me", 401),                  # API error
    ("GET", "/api/v1/no-such-thing", 404),
    ("PATCH", "/api/v1/me", 405),
    ("GET", "/healthz", 200),
    ("GET", "/", 302),                           # redirect to sign-in
])
def test_every_response_carries_the_browser_headers(app, method, path, status):
    resp = app.test_client().open(path, method=method)
    assert resp.status_code == status
    assert_browser_headers(resp)
    assert "Strict-Transport-Security" not in resp.headers  # plain-HTTP development cookies


def test_pages_allow_scripts_and_styles_only_from_the_site():
    resp = make_app().test_client().get("/login")
    csp = assert_browser_headers(resp)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9_-]{16,}'", directives["style-src"])
    assert directives["connect-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"


def test_style_nonce_is_new_on_every_response():
    client = make_app().test_client()
    nonces = {re.search(r"'nonce-([^']+)'", client.get("/login").headers["Content-Security-Policy"])[1]
              for _ in range(3)}
    assert len(nonces) == 3


def test_files_service_address_is_allowed_for_uploads():
    csp = make_app(FILES_PUBLIC_URL="http://127.0.0.1:18081/").test_client().get("/login") \
        .headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:18081;" in csp
    same_origin = make_app(FILES_PUBLIC_URL="/files").test_client().get("/login").headers["Content-Security-Policy"]
    assert "connect-src 'self';" in same_origin


def test_a_files_address_that_is_no_url_stops_the_start():
    with pytest.raises(ValueError, match="FILES_PUBLIC_URL"):
        make_app(FILES_PUBLIC_URL="javascript:alert(1)")


def test_hsts_when_cookies_are_secure():
    app = make_app(SESSION_COOKIE_SECURE=True)
    for path in ("/login", "/api/v1/me", "/static/app.css", "/no-such-page"):
        assert app.test_client().get(path).headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_inline_script_or_handler_in_any_template():
    """The policy forbids inline scripts; a template that still had one would silently break."""
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline <script> in {path.name}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"inline event handler in {path.name}"
        assert "javascript:" not in text, path.name
        assert not re.search(r"\sstyle\s*=", text), f"style attribute in {path.name}"
        for tag in re.findall(r"<style[^>]*>", text):
            assert "csp_nonce()" in tag, f"<style> without the nonce in {path.name}"


# ---------------------------------------------------------------- client address behind proxies

def signed_in_addr(app, **environ):
    client = app.test_client()
    client.post("/api/v1/auth/token", json={"username": "s_day01", "password": "pw"},
                environ_base=environ, headers={"X-Forwarded-For": "198.51.100.66, 203.0.113.7"})
    (_, _, args), = [c for c in app.extensions["rpc"].calls if c[1] == "sign_in"]
    return args[2]


def test_without_trusted_proxies_a_forwarded_for_header_is_ignored():
    assert signed_in_addr(make_app(), REMOTE_ADDR="192.0.2.10") == "192.0.2.10"


def test_with_one_trusted_proxy_the_client_is_the_address_it_saw():
    # the client wrote 198.51.100.66 itself; the proxy appended what it saw: 203.0.113.7
    assert signed_in_addr(make_app(TRUSTED_PROXY_HOPS="1"), REMOTE_ADDR="10.0.0.2") == "203.0.113.7"
    assert signed_in_addr(make_app(TRUSTED_PROXY_HOPS="2"), REMOTE_ADDR="10.0.0.2") == "198.51.100.66"


@pytest.mark.parametrize("hops", ["-1", "one", "1.5"])
def test_a_wrong_number_of_hops_stops_the_start(hops):
    with pytest.raises(ValueError, match="TRUSTED_PROXY_HOPS"):
        make_app(TRUSTED_PROXY_HOPS=hops)


# ---------------------------------------------------------------- the tenant header

@pytest.mark.parametrize("tenant", ["ce", "nope", "DAY"])
def test_a_tenant_the_user_lacks_is_refused_not_replaced(app, tenant):
    resp = app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer st-1",
                                                        "X-Portfolio-Tenant": tenant})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "tenant_not_granted"


def test_the_users_own_tenant_or_none_named_is_served(app):
    client = app.test_client()
    for headers in ({"X-Portfolio-Tenant": "day"}, {}):
        resp = client.get("/api/v1/me", headers={"Authorization": "Bearer st-1", **headers})
        assert (resp.status_code, resp.get_json()["tenant"]) == (200, "day")


@pytest.mark.parametrize("headers,kwargs", [
    ({"X-Requested-With": "fetch"}, {"data": {"a": "1"}}),
    ({}, {"json": {"school_year": 115}}),
    ({"Accept": "application/json"}, {"data": {"a": "1"}}),
])
def test_a_script_without_the_form_token_gets_the_code_as_json(app, headers, kwargs):
    """A client posting to a portal address without the session's form token (a forged
    cross-site post, or a script that forgot it) is refused 400 csrf_failed, and a script gets
    that as JSON it can read, not an HTML page."""
    client = app.test_client()
    sign_in(client, "/")
    resp = client.post("/outcomes/ticket", headers=headers, **kwargs)
    assert resp.status_code == 400
    assert resp.is_json and resp.get_json()["error"]["code"] == "csrf_failed", resp.data[:200]


def test_a_browser_form_without_the_token_gets_the_page_in_chinese(app):
    client = app.test_client()
    sign_in(client, "/")
    resp = client.post("/outcomes/ticket", data={"a": "1"},
                       headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    assert "表單已過期" in resp.get_data(as_text=True)


class AccountsDown(FakeAccounts):
    """Accounts signs in, then stops answering (a broker hiccup, a restart)."""

    def __init__(self):
        super().__init__()
        self.down = False

    def call(self, service, method, *args, **kwargs):
        from gateway.rpc import ServiceUnavailable
        if self.down:
            raise ServiceUnavailable(f"{service}.{method} timed out")
        return super().call(service, method, *args, **kwargs)


@pytest.fixture
def down_app():
    app = create_app({"SESSION_CACHE_SECONDS": 0})
    app.extensions["rpc"] = AccountsDown()
    return app


def test_static_files_are_served_while_accounts_is_unreachable(down_app):
    client = down_app.test_client()
    sign_in(client, "/")
    down_app.extensions["rpc"].down = True
    for path in ("/static/portal.js", "/static/upload.js", "/static/app.css"):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
    assert not [c for c in down_app.extensions["rpc"].calls if c[1] == "resolve_session"][1:], \
        "a static file asked accounts for the session"


def test_a_page_while_accounts_is_unreachable_is_the_503_page_not_a_500(down_app):
    client = down_app.test_client()
    sign_in(client, "/")
    down_app.extensions["rpc"].down = True
    resp = client.get("/outcomes")
    assert resp.status_code == 503 and resp.mimetype == "text/html"
    assert "暫時" in resp.get_data(as_text=True) or "稍後" in resp.get_data(as_text=True)
    resp = client.post("/outcomes/ticket", data={"csrf_token": "x"})
    assert resp.status_code in (400, 503), resp.status_code
