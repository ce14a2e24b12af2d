"""Every answer as documented (issue 6 item 13), against the running platform: requests no
client can mean (a negative or huge limit, a CR/LF in next, an unsupported method, malformed
JSON, a wrong content type, a huge body, NUL characters, JSON nested too deeply) each get a 4xx
whose body matches the `Error` schema of the OpenAPI document, and the gateway's log shows no
traceback for any of them."""
import json

import jsonschema
import pytest
import requests

from tests.e2e.conftest import PASSWORD

HUGE = 7 * 1024 * 1024  # over the gateway's 6 MB body limit


def error_validator(base):
    spec = requests.get(base + "/api/v1/openapi.json").json()
    return jsonschema.Draft7Validator({"$ref": "#/components/schemas/Error", "components": spec["components"]})


def gateway_log_from(stack, offset):
    with open(stack.log_path("gateway"), "rb") as fh:
        fh.seek(offset)
        return fh.read().decode("utf-8", "replace")


def bad_requests(base, token):
    """(what, send) pairs; `send()` makes one request and returns the response."""
    bearer = {"Authorization": "Bearer " + token}
    api = base + "/api/v1"
    json_h = {**bearer, "Content-Type": "application/json"}

    def chunked_huge():
        for _ in range(HUGE // 65536 + 1):
            yield b" " * 65536

    cases = {}
    for limit in ("-1", "0", "1001", "99999999999999999999", "abc", "1e3", ""):
        cases[f"audit limit={limit!r}"] = lambda limit=limit: requests.get(api + "/audit", params={"limit": limit},
                                                                           headers=bearer)
    for year in ("5000", "99999999999999999999"):
        cases[f"outcomes school_year={year}"] = lambda year=year: requests.get(
            api + "/outcomes", params={"school_year": year}, headers=bearer)
        cases[f"selection of year {year}"] = lambda year=year: requests.get(f"{api}/selections/{year}", headers=bearer)
    for method, path in (("PATCH", "/me"), ("PUT", "/auth/token"), ("DELETE", "/outcomes"), ("POST", "/me"),
                         ("PROPFIND", "/me"), ("FOO", "/sections"), ("TRACE", "/audit")):
        cases[f"{method} {path}"] = lambda m=method, p=path: requests.request(m, api + p, headers=bearer)
    bodies = {"malformed JSON": b'{"username": "s_day01", "password": ', "JSON of another type": b'["a", "b"]',
              "not UTF-8": b'\xff\xfe{"a": 1}', "JSON nested too deeply": b"[" * 100000 + b"]" * 100000,
              "NUL in a JSON string": json.dumps({"username": "s_day\u000001", "password": "x"}).encode(),
              "NUL in a JSON key": json.dumps({"user\u0000name": "s", "password": "x"}).encode()}
    for what, body in bodies.items():
        cases[f"sign-in with {what}"] = lambda b=body: requests.post(
            api + "/auth/token", data=b, headers={"Content-Type": "application/json"})
    cases["selection with a NUL id"] = lambda: requests.put(api + "/selections/115", headers=json_h,
                                                            data=json.dumps({"outcome_ids": ["a\u0000b"]}))
    cases["decisions with a NUL id"] = lambda: requests.post(api + "/certification/decisions", headers=json_h,
                                                             data=json.dumps({"action": "certify",
                                                                              "task_ids": ["\u0000"]}))
    cases["outcome id with a NUL"] = lambda: requests.get(api + "/outcomes/a%00b", headers=bearer)
    cases["file id with a NUL"] = lambda: requests.get(api + "/files/a%00b", headers=bearer)
    cases["query with a NUL"] = lambda: requests.get(api + "/certification/tasks", params={"status": "a\u0000"},
                                                     headers=bearer)
    cases["ticket with a NUL in the 簡述"] = lambda: requests.post(
        api + "/outcomes/tickets", headers=json_h, data=json.dumps({"section_id": "x", "description": "a\u0000b"}))
    boundary = "b0undary"  # found by Schemathesis: the multipart parser reads name="x\\" as the name None
    unreadable = (f'--{boundary}\r\nContent-Disposition: form-data; name="S\x1d\\"\r\n\r\n-4180647\r\n'
                  f'--{boundary}\r\nContent-Disposition: form-data; name="section_id"\r\n\r\nx\r\n'
                  f'--{boundary}--\r\n').encode()
    cases["multipart with a part whose name cannot be read"] = lambda: requests.post(
        api + "/outcomes/tickets", data=unreadable,
        headers={**bearer, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    cases["sign-in as a form"] = lambda: requests.post(api + "/auth/token",
                                                       data={"username": "s_day01", "password": PASSWORD})
    cases["sign-in as text"] = lambda: requests.post(api + "/auth/token", data="username=s_day01",
                                                     headers={"Content-Type": "text/plain"})
    cases["ticket request as a form"] = lambda: requests.post(api + "/outcomes/tickets", headers=bearer,
                                                              data={"section_id": "x", "description": "d"})
    cases["huge JSON body"] = lambda: requests.post(api + "/auth/token", data=b" " * HUGE,
                                                    headers={"Content-Type": "application/json"})
    cases["huge chunked body"] = lambda: requests.post(api + "/proxies", data=chunked_huge(), headers=json_h)
    cases["a file posted to the gateway"] = lambda: requests.post(  # files go to the files service
        api + "/outcomes/tickets", headers=bearer, data={"section_id": "x", "description": "d"},
        files={"file": ("a.pdf", b"%PDF-" + b"0" * HUGE, "application/pdf")})
    cases["unknown API path"] = lambda: requests.get(api + "/no/such/thing", headers=bearer)
    cases["forged bearer token"] = lambda: requests.get(api + "/me", headers={"Authorization": "Bearer forged"})
    return cases


def test_bad_requests_get_documented_4xx_and_no_traceback(stack, api):
    ops = api("ops")
    validator = error_validator(stack.gateway_url)
    offset = stack.log_path("gateway").stat().st_size
    answers = {}
    for what, send in bad_requests(stack.gateway_url, ops.s.headers["Authorization"][7:]).items():
        resp = send()
        answers[what] = resp.status_code
        assert 400 <= resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:300]}"
        assert resp.headers["Content-Type"].startswith("application/json"), what
        body = resp.json()
        validator.validate(body)
        assert body["error"]["code"] != "internal", what
        if resp.status_code == 405:
            assert resp.headers["Allow"], what
    log = gateway_log_from(stack, offset)
    assert "Traceback" not in log and "ERROR:gateway" not in log, log[-3000:]
    # each kind gets its own answer, not one catch-all
    assert answers["audit limit='-1'"] == answers["audit limit='1001'"] == 422
    assert answers["PATCH /me"] == 405 and answers["sign-in with malformed JSON"] == 400
    assert answers["sign-in as text"] == 415 and answers["huge JSON body"] == 413
    assert answers["sign-in with JSON nested too deeply"] == 400 and answers["sign-in with NUL in a JSON string"] == 400


@pytest.mark.parametrize("next_value", ["/ok%0d%0aSet-Cookie:%20st=forged", "/%0a/evil.example", "/%00"])
def test_a_cr_lf_in_next_signs_in_without_a_500_or_traceback(stack, next_value):
    import re
    offset = stack.log_path("gateway").stat().st_size
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(stack.gateway_url + "/login").text).group(1)
    resp = s.post(f"{stack.gateway_url}/login?next={next_value}", allow_redirects=False,
                  data={"username": "s_ce02", "password": PASSWORD, "csrf_token": token})
    assert (resp.status_code, resp.headers["Location"]) == (302, "/")
    assert "Traceback" not in gateway_log_from(stack, offset)


def test_the_portal_answers_an_unsupported_method_with_405_not_500(stack):
    offset = stack.log_path("gateway").stat().st_size
    for method, path in (("PUT", "/login"), ("DELETE", "/outcomes"), ("PATCH", "/")):
        resp = requests.request(method, stack.gateway_url + path)
        assert resp.status_code == 405 and resp.headers["Allow"], (method, path)
    assert "Traceback" not in gateway_log_from(stack, offset)
