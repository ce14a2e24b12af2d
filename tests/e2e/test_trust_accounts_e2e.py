"""Issue 6 through the running platform: a division's admin cannot take over another division's
or a cross-division account; each tenant reads only its own audit; the proxy form tells nothing;
weak passwords get a zh-TW reason; a third tenant added as a row works on the admin and roster
import pages.

Attacks are made against the demo's accounts and must change nothing: each test ends by
signing in as the victim with the demo password."""
import hashlib
import random
import re
import uuid

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_admin_import_e2e import count, csrf, people_csv, portal, problems, token
from tests.e2e.test_roster_import_e2e import national_id, roster_csv
from tests.e2e.test_roster_import_e2e import problems as roster_problems
from tests.support.callers import as_system

pytestmark = pytest.mark.slow


def system_token(tenant="day"):
    """The platform's tools' caller (`system`, the ops key) for accounts."""
    return as_system(tenant, "accounts")


def upload(s, base, path, data, filename, confirm_sha=None, **form):
    form["csrf_token"] = csrf(s.get(base + path, timeout=30).text)
    if confirm_sha:
        form |= {"confirm": "1", "sha256": confirm_sha}
    return s.post(base + path, data=form, timeout=60, files={"file": (filename, data, "text/csv")})


def still_signs_in(stack, username):
    r = token(stack, username, PASSWORD)
    return r.status_code == 201 and r.json()["user"]["must_change_password"] is False


# ---------------------------------------------------------------- item 1

def test_day_admin_cannot_take_over_a_ce_only_account(stack):
    base = stack.gateway_url
    s, r = portal(stack, "admin_day")
    assert r.status_code == 302
    data = people_csv([["reg_ce", "進修部教務組 周組長", "", "日間部:學生"]])  # step one: a day role
    preview = upload(s, base, "/admin/import", data, "名單.csv")
    assert [(row, code) for row, code, _ in problems(preview.text)] == [(2, "account_managed_elsewhere")]
    assert "只能由平台管理者變更" in preview.text
    confirm = upload(s, base, "/admin/import", data, "名單.csv", confirm_sha=hashlib.sha256(data).hexdigest())
    assert confirm.status_code == 422 and "沒有匯入任何資料" in confirm.text
    page = s.get(base + "/admin/reset", timeout=30)
    r = s.post(base + "/admin/reset", data={"username": "reg_ce", "csrf_token": csrf(page.text)}, timeout=30)
    assert r.status_code == 404 and "temporary-password" not in r.text
    assert still_signs_in(stack, "reg_ce")
    assert token(stack, "reg_ce", PASSWORD).json()["user"]["grants"] == [{"tenant": "ce", "role": "registrar"}]


@pytest.mark.parametrize("victim", ["dean", "t_chen_day"])
def test_day_admin_cannot_take_over_an_account_of_both_divisions(stack, victim):
    base = stack.gateway_url
    if victim == "t_chen_day":  # a teacher of both divisions, made at platform level
        victim = f"t_both_{uuid.uuid4().hex[:6]}"
        with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
            rpc.accounts.import_people(system_token(), [{
                "username": victim, "display_name": "兩部老師", "password": PASSWORD,
                "grants": [{"tenant": "day", "role": "subject_teacher"}, {"tenant": "ce", "role": "subject_teacher"}]}])
    s, _ = portal(stack, "admin_day")
    page = s.get(base + "/admin/users", timeout=30)
    row = re.search(rf'<tr data-username="{victim}">(.*?)</tr>', page.text, re.S).group(1)
    assert 'data-testid="read-only"' in row and "由平台管理者管理" in row and "進修部" in row
    assert 'name="role"' not in row  # no form to change it
    assert 'data-testid="platform-note"' in page.text
    r = s.post(base + "/admin/users", data={"username": victim, "role": ["student"], "csrf_token": csrf(page.text)},
               timeout=30)
    assert r.status_code == 403 and "只能由平台管理者變更" in r.text
    r = s.post(base + "/admin/reset", data={"username": victim, "csrf_token": csrf(page.text)}, timeout=30)
    assert r.status_code == 403 and "temporary-password" not in r.text
    data = people_csv([[victim, "改名", "", "日間部:學生"]])
    assert [code for _, code, _ in problems(upload(s, base, "/admin/import", data, "x.csv").text)] == \
        ["account_managed_elsewhere"]
    assert still_signs_in(stack, victim)


# ---------------------------------------------------------------- item 7

def test_the_ce_ops_user_does_not_see_a_day_teachers_sign_in(stack):
    assert token(stack, "t_wang", PASSWORD).status_code == 201
    ops = token(stack, "ops", PASSWORD).json()["token"]
    rows = {}
    for tenant in ("ce", "day"):
        r = requests.get(stack.gateway_url + "/api/v1/audit", params={"limit": 1000}, timeout=30,
                         headers={"Authorization": f"Bearer {ops}", "X-Portfolio-Tenant": tenant})
        assert r.status_code == 200, r.text
        rows[tenant] = r.json()
    assert not [x for x in rows["ce"] if x["username"] == "t_wang"]
    assert [x for x in rows["day"] if x["username"] == "t_wang" and x["action"] == "sign_in"]


# ---------------------------------------------------------------- items 6 and 12

def test_the_proxy_form_answers_alike_for_no_such_user_and_a_teacher_of_the_other_division(stack):
    base = stack.gateway_url
    s, _ = portal(stack, "t_wang")
    answers = []
    for other in (f"nobody_{uuid.uuid4().hex[:6]}", "t_chen", "s_day01"):
        page = s.get(base + "/proxies", timeout=30)
        r = s.post(base + "/proxies", timeout=30, data={
            "proxy_username": other, "starts_on": "2026-12-01", "ends_on": "2026-12-02", "csrf_token": csrf(page.text)})
        answers.append((r.status_code,) + re.search(r'role="alert" data-code="([a-z_]+)">(.*?)<', r.text, re.S).groups())
    assert len(set(answers)) == 1 and answers[0][:2] == (422, "proxy_not_teacher") and "本部的教師" in answers[0][2]


def test_weak_passwords_are_refused_with_a_zh_reason_on_change(stack):
    user = f"weak_{uuid.uuid4().hex[:6]}"
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        rpc.accounts.import_people(system_token(), [{"username": user, "display_name": "弱密碼", "password": PASSWORD,
                                                     "must_change_password": True,
                                                     "grants": [{"tenant": "day", "role": "student"}]}])
    s, r = portal(stack, user)
    assert r.headers["Location"].endswith("/password")  # the forced choice after an import or reset
    for weak, reason in (("password123", "太常見"), ("A123456789", "身分證號"), (user + "1", "不可與帳號相同")):
        page = s.get(stack.gateway_url + "/password", timeout=30)
        r = s.post(stack.gateway_url + "/password", timeout=30, data={
            "old_password": PASSWORD, "new_password": weak, "confirm_password": weak, "csrf_token": csrf(page.text)})
        assert r.status_code == 422 and reason in r.text, (weak, re.findall(r"data-code=\"([a-z_]+)", r.text), r.text[-1500:])
    r = requests.post(stack.gateway_url + "/api/v1/auth/token", json={"username": user, "password": PASSWORD},
                      timeout=30)
    assert r.status_code == 201  # nothing changed


# ---------------------------------------------------------------- item 14

def test_a_third_tenant_added_as_a_row_works_on_the_admin_and_roster_import_pages(stack):
    tag = uuid.uuid4().hex[:6]
    code, name = f"night{tag}", f"附設夜間部{tag}"
    admin, registrar = f"adm3_{tag}", f"reg3_{tag}"
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        rpc.accounts.ensure_tenants(system_token(), [{"code": code, "school_code": "050407", "division": name,
                                                      "name": name}])
        report = rpc.accounts.import_people(system_token(code), [
            {"username": admin, "display_name": "第三部管理者", "password": PASSWORD,
             "grants": [{"tenant": code, "role": "system_admin"}]},
            {"username": registrar, "display_name": "第三部註冊組", "password": PASSWORD,
             "grants": [{"tenant": code, "role": "registrar"}]}])
        assert not report["refused"], report
    base = stack.gateway_url
    s, r = portal(stack, admin)
    assert r.status_code == 302
    page = s.get(base + "/admin/import", timeout=30)
    assert name in page.text and f"（{code}）" in page.text  # the tenant list of the hint
    students = [f"s3_{tag}_{i}" for i in range(2)]
    data = people_csv([[u, f"第三部學生{i}", "night-pass-2026", f"{name}:學生"] for i, u in enumerate(students)])
    preview = upload(s, base, "/admin/import", data, "名單.csv")
    assert preview.status_code == 200 and problems(preview.text) == [], preview.text
    assert f"{name} 學生" in preview.text
    report = upload(s, base, "/admin/import", data, "名單.csv", confirm_sha=hashlib.sha256(data).hexdigest())
    assert count(report.text, "count-created") == 2, report.text
    users_page = s.get(base + "/admin/users", timeout=30)
    assert f"人員與角色（{name}）" in users_page.text and all(f'data-username="{u}"' in users_page.text for u in students)
    # the other divisions' rows are refused by name
    other = people_csv([[f"x3_{tag}", "別部", "night-pass-2026", "日間部:學生"]])
    assert [c for _, c, _ in problems(upload(s, base, "/admin/import", other, "x.csv").text)] == ["tenant_not_allowed"]

    reg, r = portal(stack, registrar)
    assert r.status_code == 302
    form = reg.get(base + "/registrar/roster", timeout=30)
    assert f"匯入{name}的學籍資料" in form.text
    rng = random.Random(tag)
    roster = roster_csv([[f"N{tag}{i}", f"第三部學生{i}", national_id(rng), f"N{tag}", "夜間一年甲班", i + 1, u]
                         for i, u in enumerate(students)], header="學號,姓名,身分證號,班級代碼,班級名稱,座號,帳號")
    preview = upload(reg, base, "/registrar/roster", roster, "名冊.csv", school_year="115", semester="1")
    assert preview.status_code == 200 and roster_problems(preview.text) == [], preview.text
    assert count(preview.text, "count-created") == 2, preview.text
    assert name in preview.text
    done = upload(reg, base, "/registrar/roster", roster, "名冊.csv", school_year="115", semester="1",
                  confirm_sha=hashlib.sha256(roster).hexdigest())
    assert done.status_code == 200 and name in done.text and count(done.text, "count-created") == 2, done.text


def test_a_bogus_bearer_token_on_every_request_does_not_write_a_row_each(stack):
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        def session_refusals():
            rows = rpc.accounts.list_access_audit(system_token(), 1000)
            return [r for r in rows if r["action"] == "refused" and (r["detail"] or "").startswith(
                "accounts.resolve_session")]
        before = len(session_refusals())
        for i in range(30):
            r = requests.get(stack.gateway_url + "/api/v1/me", timeout=30,
                             headers={"Authorization": f"Bearer bogus-{i}-{uuid.uuid4().hex}"})
            assert (r.status_code, r.json()["error"]["code"]) == (401, "session_invalid")
        # one row a minute per kind (with the count left out), never one per request
        assert len(session_refusals()) - before <= 2
