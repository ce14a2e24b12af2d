"""The portal and the API in a browser's world (issue 6 item 8), against the running platform:
`next=` after sign-in stays on the site whatever the encoding, every kind of response carries
the security headers (HSTS too with secure cookies), the client address behind a trusted proxy
is what the audit and the lockout record, and a tenant the user lacks is refused."""
import re
import uuid
from urllib.parse import quote, urljoin, urlsplit

import pytest
import requests

from tests.e2e.conftest import PASSWORD, pdf

# Raw query strings: how an attacker writes them into a link (percent-encodings included).
NEXT_RAW = [
    "/%09/evil.example", "//evil.example", "///evil.example", "/%5Cevil.example", "%5C%5Cevil.example",
    "/%2F%2Fevil.example", "%2F%2Fevil.example", "https://evil.example", "https:%2F%2Fevil.example",
    "javascript:alert(1)", "/%0d%0aSet-Cookie:%20st=forged", "/ok%0aLocation:%20//evil.example",
    "/%E3%80%80/evil.example", "/%E2%80%8B/evil.example", "/%C2%A0/evil.example", "/%00/evil.example",
    "/%252F%252Fevil.example", "%20//evil.example", "/\\evil.example", "/%09%09//evil.example",
]
# The same kinds, as text the browser would encode itself (tabs, CR/LF, backslashes, unicode).
NEXT_TEXT = ["/\t/evil.example", "/\\/evil.example", "\\\\evil.example", "/\r\n/evil.example",
             "/ok\r\nSet-Cookie: st=forged", "/\u3000/evil.example", "/\u2028/evil.example", "//evil.example/%2e%2e"]


def portal_sign_in(base, username, raw_query):
    s = requests.Session()
    page = s.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = s.post(f"{base}/login?{raw_query}", data={"username": username, "password": PASSWORD,
                                                     "csrf_token": token}, allow_redirects=False)
    return s, resp


def assert_same_site(base, resp):
    assert resp.status_code == 302, resp.text[:300]
    target = urljoin(base + "/login", resp.headers["Location"])
    assert urlsplit(target)[:2] == urlsplit(base)[:2], f"redirected off the site: {resp.headers['Location']!r}"
    assert not re.search(r"[\x00-\x20\\]", resp.headers["Location"])
    return target


@pytest.mark.parametrize("raw", NEXT_RAW + [f"next={quote(t, safe='')}" for t in NEXT_TEXT],
                         ids=lambda r: r.encode("unicode_escape").decode()[:40])
def test_sign_in_never_leaves_the_site_and_never_fails(stack, raw):
    query = raw if raw.startswith("next=") else f"next={raw}"
    s, resp = portal_sign_in(stack.gateway_url, "s_ce02", query)
    target = assert_same_site(stack.gateway_url, resp)
    assert urlsplit(target).path == "/"
    assert "Set-Cookie" not in resp.headers or "forged" not in resp.headers["Set-Cookie"]
    assert s.get(target).status_code == 200  # the session that was opened works


def test_sign_in_keeps_a_same_site_next(stack):
    s, resp = portal_sign_in(stack.gateway_url, "s_ce02", "next=" + quote("/selection?year=115", safe="/"))
    assert assert_same_site(stack.gateway_url, resp) == stack.gateway_url + "/selection?year=115"


# ---------------------------------------------------------------- headers on every response

def assert_headers(resp, hsts=False):
    what = f"{resp.request.method} {resp.url} -> {resp.status_code}"
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, what
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", what
    assert resp.headers.get("Referrer-Policy") == "same-origin", what
    assert ("Strict-Transport-Security" in resp.headers) is hsts, what
    if resp.headers.get("Content-Type", "").startswith("text/html"):
        assert re.search(r"script-src 'self'(;|$)", csp), what
        assert "connect-src 'self'" in csp, what


def every_kind_of_response(base, api_token, file_id):
    """Portal pages, redirects and error pages; API answers, errors and its document; static
    files; an evidence file streamed from the files service; HEAD and OPTIONS."""
    bearer = {"Authorization": "Bearer " + api_token}
    s, _ = portal_sign_in(base, "s_day03", "next=/")
    return [
        requests.get(base + "/login"), requests.get(base + "/", allow_redirects=False),
        requests.get(base + "/no-such-page"), s.get(base + "/outcomes"), s.get(base + "/certification"),
        # a download is the gateway's redirect to the files service (whose own headers on user
        # files, nosniff and a sandbox CSP, are tested with the files service)
        s.get(f"{base}/files/{file_id}", allow_redirects=False), s.post(base + "/logout", allow_redirects=False),
        requests.get(base + "/api/v1/me", headers=bearer), requests.get(base + "/api/v1/me"),
        requests.get(base + "/api/v1/nothing-here", headers=bearer),
        requests.patch(base + "/api/v1/me", headers=bearer),
        requests.get(base + "/api/v1/audit", params={"limit": -1}, headers=bearer),
        requests.get(f"{base}/api/v1/files/{file_id}", headers=bearer, allow_redirects=False),
        requests.get(base + "/api/v1/openapi.json"), requests.get(base + "/static/app.css"),
        requests.get(base + "/static/portal.js"), requests.get(base + "/static/nothing.js"),
        requests.head(base + "/login"), requests.options(base + "/api/v1/me"), requests.get(base + "/healthz"),
    ]


@pytest.fixture(scope="module")
def evidence(api):
    """One stored evidence file of s_day03's, to see the headers of a streamed file."""
    student = api("s_day03")
    r = student.upload(student.section("程式設計實習")["id"], "標頭檢查用的成果", pdf())
    assert r.status_code == 201, r.text
    return r.json()["file_id"]


def test_every_response_carries_the_browser_headers(stack, api, evidence):
    responses = every_kind_of_response(stack.gateway_url, api("s_day03").s.headers["Authorization"][7:], evidence)
    assert {r.status_code for r in responses} >= {200, 302, 401, 403, 404, 405, 422}
    for resp in responses:
        assert_headers(resp, hsts=False)  # the test platform's cookies are not Secure


def test_secure_cookies_bring_hsts_on_every_response(api, evidence, extra_gateway):
    gw = extra_gateway({"COOKIE_SECURE": "1"})
    token = requests.post(gw.url + "/api/v1/auth/token", json={"username": "s_day03", "password": PASSWORD}).json()
    for resp in every_kind_of_response(gw.url, token["token"], evidence):
        assert_headers(resp, hsts=True)
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


# ---------------------------------------------------------------- the client behind a proxy

def audit_rows(api, action, username):
    ops = api("ops")
    rows = ops.get("/audit", params={"limit": 1000}, headers={"X-Portfolio-Tenant": "day"}).json()
    return [r for r in rows if r["action"] == action and r["username"] == username]


def test_behind_a_trusted_proxy_the_audit_and_the_lockout_see_the_client(api, extra_gateway):
    gw = extra_gateway({"TRUSTED_PROXY_HOPS": "1"})
    client = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    # the client wrote 198.51.100.66 into the header itself; the proxy appended what it saw
    forwarded = {"X-Forwarded-For": f"198.51.100.66, {client}"}
    r = requests.post(gw.url + "/api/v1/auth/token", json={"username": "s_day03", "password": PASSWORD},
                      headers=forwarded)
    assert r.status_code == 201, r.text
    sessions = requests.get(gw.url + "/api/v1/auth/sessions",
                            headers={"Authorization": "Bearer " + r.json()["token"]}).json()
    assert [x["remote_addr"] for x in sessions if x["current"]] == [client]
    assert client in [x["remote_addr"] for x in audit_rows(api, "sign_in", "s_day03")]

    # failures up to a lockout: every row carries the client the proxy saw, never the forged one
    for _ in range(5):
        r = requests.post(gw.url + "/api/v1/auth/token", json={"username": "dean", "password": "wrong-" + client},
                          headers=forwarded)
        assert r.status_code == 401
    r = requests.post(gw.url + "/api/v1/auth/token", json={"username": "dean", "password": PASSWORD},
                      headers=forwarded)
    assert (r.status_code, r.json()["error"]["code"]) == (429, "account_locked")
    assert client in [x["remote_addr"] for x in audit_rows(api, "locked_out", "dean")]
    assert client in [x["remote_addr"] for x in audit_rows(api, "sign_in_locked", "dean")]
    failed = [x["remote_addr"] for x in audit_rows(api, "sign_in_failed", "dean")]
    assert failed.count(client) >= 5 and "198.51.100.66" not in failed


def test_without_a_trusted_proxy_a_forwarded_for_header_is_ignored(stack, api):
    forged = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    r = requests.post(stack.gateway_url + "/api/v1/auth/token", json={"username": "s_day03", "password": PASSWORD},
                      headers={"X-Forwarded-For": forged})
    assert r.status_code == 201
    sessions = requests.get(stack.gateway_url + "/api/v1/auth/sessions",
                            headers={"Authorization": "Bearer " + r.json()["token"]}).json()
    assert [x["remote_addr"] for x in sessions if x["current"]] == ["127.0.0.1"]
    assert forged not in [x["remote_addr"] for x in audit_rows(api, "sign_in", "s_day03")]


# ---------------------------------------------------------------- the tenant header

@pytest.mark.parametrize("path", ["/me", "/students", "/selections/115/locked", "/outcomes"])
@pytest.mark.parametrize("tenant", ["ce", "no-such-tenant"])
def test_a_tenant_the_user_lacks_is_refused_not_replaced(api, path, tenant):
    r = api("reg_day").get(path, headers={"X-Portfolio-Tenant": tenant})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "tenant_not_granted")
    assert r.json()["error"]["message_zh"]


def test_a_tenant_the_user_holds_is_served(api):
    principal = api("principal")
    assert principal.get("/me", headers={"X-Portfolio-Tenant": "ce"}).json()["tenant"] == "ce"
    assert principal.get("/me", headers={"X-Portfolio-Tenant": "day"}).json()["tenant"] == "day"
    reg = api("reg_day")
    assert reg.get("/students", headers={"X-Portfolio-Tenant": "day"}).status_code == 200
