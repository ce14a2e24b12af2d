"""Sign-in and sessions over HTTP against the launched platform."""
import requests

from tests.e2e.conftest import PASSWORD


def token(stack, username, password=PASSWORD):
    return requests.post(stack.gateway_url + "/api/v1/auth/token",
                         json={"username": username, "password": password}, timeout=30)


def test_sign_out_ends_the_token_at_once(stack):
    # one kept-alive connection: the worker that served the sign-out refuses the token at once
    # (every other worker within the bound: tests/e2e/test_session_check_e2e.py)
    c = requests.Session()
    t = token(stack, "s_day03").json()["token"]
    h = {"Authorization": f"Bearer {t}"}
    assert c.get(stack.gateway_url + "/api/v1/me", headers=h).status_code == 200
    mine = c.get(stack.gateway_url + "/api/v1/auth/sessions", headers=h).json()
    assert any(s["current"] and s["kind"] == "api" for s in mine)
    assert c.delete(stack.gateway_url + "/api/v1/auth/token", headers=h).status_code == 204
    r = c.get(stack.gateway_url + "/api/v1/me", headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "session_invalid")


def test_repeated_failures_lock_the_account_with_a_clear_answer(stack):
    for _ in range(5):
        assert token(stack, "principal", "wrong-password").json()["error"]["code"] == "invalid_credentials"
    r = token(stack, "principal")
    assert (r.status_code, r.json()["error"]["code"]) == (429, "account_locked")
    assert "此帳號暫時無法從這裡登入" in r.json()["error"]["message_zh"]


def test_a_named_proxy_certifies_the_teachers_section_and_is_recorded(stack, api):
    import datetime as dt

    from tests.e2e.conftest import eventually, pdf
    teacher, proxy, student = api("t_wang"), api("t_lin"), api("s_day03")
    today = dt.date.today()
    bad = teacher.post("/proxies", json={"proxy_username": "t_lin", "starts_on": str(today),
                                         "ends_on": str(today - dt.timedelta(days=2))})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "proxy_period_invalid")
    r = teacher.post("/proxies", json={"proxy_username": "t_lin", "starts_on": str(today - dt.timedelta(days=1)),
                                       "ends_on": str(today + dt.timedelta(days=7))})
    assert r.status_code == 201, r.text
    up = student.upload(student.section("程式設計實習")["id"], "代理認證測試", pdf()).json()
    task = eventually(lambda: [t for t in proxy.get("/certification/tasks").json()
                               if t["outcome_id"] == up["outcome_id"]])[0]
    assert task["acting_for"] == teacher.user["user_id"] and task["student_name"] == "黃雅婷"
    assert proxy.get(f"/files/{up['file_id']}").status_code == 200
    assert proxy.post("/certification/decisions", json={"action": "certify", "task_ids": [task["id"]]}) \
        .json()["certified"] == [task["id"]]
    eventually(lambda: student.get("/outcomes/" + up["outcome_id"]).json()["status"] == "certified")
    # once the delegation ends, the proxy sees nothing of the teacher's sections
    (d,) = [d for d in teacher.get("/proxies").json() if d["proxy_username"] == "t_lin"]
    assert teacher.delete(f"/proxies/{d['id']}").status_code == 204
    # ... at once in the gateway worker that served the revocation, within the bound in the others
    from gateway.sessions import DEFAULT_SECONDS
    eventually(lambda: not [t for t in proxy.get("/certification/tasks?status=all").json()
                            if t["outcome_id"] == up["outcome_id"]], timeout=DEFAULT_SECONDS + 1)
