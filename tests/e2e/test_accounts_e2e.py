"""Sign-in and sessions over HTTP against the launched platform."""
import requests

from tests.e2e.conftest import PASSWORD


def token(stack, username, password=PASSWORD):
    return requests.post(stack.gateway_url + "/api/v1/auth/token",
                         json={"username": username, "password": password}, timeout=30)


def test_sign_out_ends_the_token_at_once(stack):
    t = token(stack, "s_day03").json()["token"]
    h = {"Authorization": f"Bearer {t}"}
    assert requests.get(stack.gateway_url + "/api/v1/me", headers=h).status_code == 200
    mine = requests.get(stack.gateway_url + "/api/v1/auth/sessions", headers=h).json()
    assert any(s["current"] and s["kind"] == "api" for s in mine)
    assert requests.delete(stack.gateway_url + "/api/v1/auth/token", headers=h).status_code == 204
    r = requests.get(stack.gateway_url + "/api/v1/me", headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "session_invalid")


def test_repeated_failures_lock_the_account_with_a_clear_answer(stack):
    for _ in range(5):
        assert token(stack, "principal", "wrong-password").json()["error"]["code"] == "invalid_credentials"
    r = token(stack, "principal")
    assert (r.status_code, r.json()["error"]["code"]) == (429, "account_locked")
    assert "帳號暫時鎖定" in r.json()["error"]["message_zh"]
