"""Requests no client can mean are refused before a view or a service sees them (gateway.inputs):
each input here once reached a service, or the gateway itself, and answered 500. No I/O: the
RPC pool is a fake that fails the test if anything gets through."""
import json

import pytest

from gateway.app import create_app


class NoRpc:
    def call(self, service, method, *args, **kwargs):
        raise AssertionError(f"{service}.{method} was called with input that should have been refused")


@pytest.fixture
def client():
    app = create_app()
    app.extensions["rpc"] = NoRpc()
    return app.test_client()


def code(resp):
    return resp.status_code, resp.get_json()["error"]["code"]


@pytest.mark.parametrize("body", [
    {"username": "s_day\u000001", "password": "x"},          # PostgreSQL text cannot hold a NUL
    {"username": "s", "password": "x\u0000"},
    {"user\u0000name": "s", "password": "x"},
    {"username": "s", "password": "x", "extra": [[{"deep": "\u0000"}]]},
])
def test_a_nul_anywhere_in_a_json_body_is_400(client, body):
    assert code(client.post("/api/v1/auth/token", data=json.dumps(body), content_type="application/json")) == \
        (400, "malformed_request")


def test_json_nested_too_deeply_for_the_parser_is_400_not_a_recursion_error(client):
    body = b"[" * 100_000 + b"]" * 100_000
    assert code(client.post("/api/v1/auth/token", data=body, content_type="application/json")) == \
        (400, "malformed_request")


@pytest.mark.parametrize("path", ["/api/v1/outcomes/a%00b", "/api/v1/audit?limit=%00", "/api/v1/me?x%00=1",
                                  "/outcomes?year=1%00"])
def test_a_nul_in_the_path_or_query_is_400(client, path):
    assert client.get(path).status_code == 400


def test_a_nul_in_next_still_lets_the_sign_in_page_answer(client):
    assert client.get("/login?next=/%00//evil.example").status_code == 200


@pytest.mark.parametrize("fields", [{"username": "a\u0000"}, {"csrf_token": "\u0000"}])
def test_a_nul_in_a_form_field_is_400(client, fields):
    assert client.post("/login", data=fields).status_code == 400


def test_a_multipart_part_whose_name_cannot_be_read_is_no_500(client):
    """Found by Schemathesis: werkzeug reads name="x\\" as the name None."""
    b = "b0undary"
    body = (f'--{b}\r\nContent-Disposition: form-data; name="S\x1d\\"\r\n\r\n-4180647\r\n'
            f'--{b}\r\nContent-Disposition: form-data; name="section_id"\r\n\r\nx\r\n--{b}--\r\n').encode()
    # the API takes JSON only (evidence goes to the files service): refused cleanly, never a 500
    resp = client.post("/api/v1/outcomes/tickets", data=body, content_type=f"multipart/form-data; boundary={b}")
    assert code(resp) == (415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "multipart/form-data; boundary=x"])
def test_an_api_body_that_is_not_json_is_415(client, content_type):
    resp = client.post("/api/v1/auth/token", data=b"username=s&password=x", content_type=content_type)
    assert code(resp) == (415, "unsupported_media_type")


def test_the_ticket_request_takes_json_and_nothing_else(client):
    """No file is posted to the gateway any more: the ticket request is JSON, the bytes go to files."""
    resp = client.post("/api/v1/outcomes/tickets", data=b'{"section_id": "x", "description": "d"}',
                       content_type="application/json")
    assert code(resp) == (401, "not_authenticated")  # past the input checks, at the sign-in wall
    for content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        resp = client.post("/api/v1/outcomes/tickets", data={"section_id": "x", "description": "d"},
                           content_type=content_type)
        assert code(resp) == (415, "unsupported_media_type")


def test_a_body_too_large_is_413_and_not_called_a_file(client):
    resp = client.post("/api/v1/auth/token", data=b" " * (7 * 1024 * 1024), content_type="application/json")
    assert code(resp) == (413, "request_too_large")
