"""The school calendar end to end: the registrar sets a window in the portal's API, submission
publishes it, records' copy refuses an upload ticket outside it; the other tenant is untouched.

The stack is shared: every change made here is put back (and records' copy waited for) before
the test ends, so the tests after it find the demo's open calendar; and nothing is uploaded (a
ticket proves the window), so no teacher's queue gets a task another test does not expect."""
import datetime as dt
import re

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from portfolio_common import clock
from tests.e2e.conftest import eventually
from tests.support.callers import as_system
from tests.support.school import PASSWORD, add_class


def copy_version(stack, tenant, year=115, semester=1):
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        held = rpc.records.get_calendar_copy(as_system(tenant, "records"), year, semester)
    return held and held["version"]


def put_term(stack, registrar, tenant, changes, expected_version):
    """PUT the change, then wait until records holds the new version (events are asynchronous)."""
    r = registrar.put("/calendar/115/1", json=dict(changes, expected_version=expected_version))
    assert r.status_code == 200, r.text
    term = r.json()
    eventually(lambda: (copy_version(stack, tenant) or 0) >= term["version"])
    return term


@pytest.fixture(scope="module")
def students(stack, api):
    day = add_class(stack, prefix="cal", class_code="171", subject="行事曆實習", n=2, nid_letter="X")
    ce = add_class(stack, prefix="calce", class_code="571", subject="進修行事曆", n=1, tenant="ce",
                   teacher="t_chen", nid_letter="Q")
    return {"day": api(day[0]), "ce": api(ce[0])}


def test_everyone_of_the_tenant_sees_the_current_term(api):
    for who in ("s_day01", "t_wang", "reg_day"):
        r = api(who).get("/calendar/current")
        assert r.status_code == 200, r.text
        term = r.json()
        assert (term["school_year"], term["semester"], term["current"]) == (115, 1, True)
        assert term["windows"]["upload"]["state"] == "open" and term["windows"]["upload"]["days_left"] >= 1
        assert term["today"] == clock.today_in_school().isoformat()


def test_a_ticket_outside_the_upload_window_is_refused_with_the_dates(stack, api, students):
    reg_day, reg_ce = api("reg_day"), api("reg_ce")
    before = reg_day.get("/calendar/115/1").json()
    ce_before = reg_ce.get("/calendar/115/1").json()
    today = clock.today_in_school()
    opens, closes = today - dt.timedelta(days=20), today - dt.timedelta(days=1)
    student = students["day"]
    section = student.section("行事曆實習")
    try:
        closed = put_term(stack, reg_day, "day", {"upload_opens_on": opens.isoformat(),
                                                  "upload_closes_on": closes.isoformat()}, before["version"])
        assert closed["version"] == before["version"] + 1
        assert closed["windows"]["upload"]["state"] == "closed"
        r = student.post("/outcomes/tickets", json={"section_id": section["id"], "description": "期限後上傳"})
        assert r.status_code == 409, r.text
        err = r.json()["error"]
        assert err["code"] == "window_closed"
        assert opens.isoformat() in err["message_zh"] and closes.isoformat() in err["message_zh"]
        assert student.get("/outcomes/quota?school_year=115&semester=1").json()["held"] == 0  # no slot taken
        # the other tenant's calendar is untouched, and its students still upload
        ce_now = reg_ce.get("/calendar/115/1").json()
        assert (ce_now["version"], ce_now["upload"]) == (ce_before["version"], ce_before["upload"])
        ce = students["ce"]  # a ticket only: an upload would add a task to the teacher's shared queue
        assert ce.ticket(ce.section("進修行事曆")["id"], "進修部照常上傳").status_code == 201
        # and the day registrar's history shows who closed it, before and after
        (last, *_) = reg_day.get("/calendar/115/1/changes").json()
        assert last["changed_by_username"] == "reg_day" and last["after"]["upload"]["closes_on"] == closes.isoformat()
        assert last["before"]["upload"] == before["upload"]
        assert all(c["after"]["upload"] != closed["upload"] for c in reg_ce.get("/calendar/115/1/changes").json())
    finally:
        now = reg_day.get("/calendar/115/1").json()
        put_term(stack, reg_day, "day", {"upload_opens_on": before["upload"]["opens_on"],
                                         "upload_closes_on": before["upload"]["closes_on"]}, now["version"])
    assert student.ticket(section["id"], "重新開放後上傳").status_code == 201


def test_a_changed_national_deadline_moves_the_completion_date(stack, api):
    reg = api("reg_day")
    before = reg.get("/calendar/115/1").json()
    deadline = dt.date.fromisoformat(before["national_deadline"])
    # earlier: the selection window would end after the school's completion date: refused by field
    r = reg.put("/calendar/115/1", json={"national_deadline": (deadline - dt.timedelta(days=3)).isoformat()})
    assert r.status_code == 422
    (problem,) = r.json()["error"]["fields"]["record"]["selection_closes_on"]
    assert problem["code"] == "selection_after_completion" and "完成日" in problem["message_zh"]
    assert reg.get("/calendar/115/1").json()["version"] == before["version"]  # nothing stored
    try:
        moved = put_term(stack, reg, "day", {"national_deadline": (deadline + dt.timedelta(days=10)).isoformat()},
                         before["version"])
        assert moved["school_completion_on"] == (deadline + dt.timedelta(days=10 - 14)).isoformat()
        assert api("s_day01").get("/calendar/current").json()["school_completion_on"] == moved["school_completion_on"]
    finally:
        now = reg.get("/calendar/115/1").json()
        put_term(stack, reg, "day", {"national_deadline": before["national_deadline"]}, now["version"])


@pytest.mark.parametrize("who", ["s_day01", "t_wang", "s_ce01"])
def test_only_the_registrar_of_the_tenant_edits(api, who):
    r = api(who).put("/calendar/115/1", json={"upload_closes_on": "2026-09-02"})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "not_allowed")
    assert api(who).get("/calendar/115/1/changes").status_code == 403


def test_bad_input_is_refused_with_a_reason_and_changes_nothing(api):
    reg = api("reg_ce")
    before = reg.get("/calendar/115/1").json()
    r = reg.put("/calendar/115/1", json={"upload_opens_on": "2027-01-10", "upload_closes_on": "2026-12-01",
                                         "certification_closes_on": "明天", "outcomes_selected_per_year": 9})
    assert r.status_code == 422
    fields = r.json()["error"]["fields"]["record"]
    assert fields["upload_closes_on"][0]["code"] == "window_inverted"
    assert fields["certification_closes_on"][0]["code"] == "calendar_date_invalid"
    assert fields["outcomes_selected_per_year"][0]["message_zh"] == "須為 1 至 6 的整數。"
    assert reg.put("/calendar/99/1", json={}).json()["error"]["code"] == "school_year_invalid"
    assert reg.put("/calendar/115/3", json={}).json()["error"]["code"] == "semester_invalid"
    stale = reg.put("/calendar/115/1", json={"upload_closes_on": before["upload"]["closes_on"],
                                             "expected_version": before["version"] - 1 or 99})
    assert stale.json()["error"]["code"] == "calendar_stale"
    assert reg.get("/calendar/115/1").json()["version"] == before["version"]


def test_the_calendar_pages_speak_chinese(stack):
    s = requests.Session()
    page = s.get(stack.gateway_url + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    s.post(stack.gateway_url + "/login", data={"username": "reg_ce", "password": PASSWORD, "csrf_token": token})
    cal = s.get(stack.gateway_url + "/calendar")
    assert cal.status_code == 200 and "115 學年度第 1 學期" in cal.text and "還有" in cal.text
    edit = s.get(stack.gateway_url + "/calendar/edit")
    assert edit.status_code == 200 and "編輯行事曆（教務組）" in edit.text and "變更紀錄" in edit.text


def test_lowering_a_limit_in_the_portal_warns_what_it_means(stack, api):
    """The registrar lowers the uploads-a-semester limit of a term in the edit form: saved, and a
    warning says that what is uploaded stays but students at the new limit cannot add more.
    A term of its own (ce, 119-1, years ahead) so no other test's term changes."""
    reg = api("reg_ce")
    term = {"starts_on": "2030-08-01", "ends_on": "2031-01-31", "upload_opens_on": "2030-09-01",
            "upload_closes_on": "2030-12-20", "certification_opens_on": "2030-09-01",
            "certification_closes_on": "2030-12-31", "selection_opens_on": "2031-01-02",
            "selection_closes_on": "2031-01-10", "national_deadline": "2031-02-28",
            "outcome_uploads_per_semester": 6, "outcomes_selected_per_year": 6,
            "performances_selected_per_year": 10}
    r = reg.put("/calendar/119/1", json=term)
    assert r.status_code == 200, r.text
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(stack.gateway_url + "/login").text).group(1)
    s.post(stack.gateway_url + "/login", data={"username": "reg_ce", "password": PASSWORD, "csrf_token": token})
    form = s.get(stack.gateway_url + "/calendar/edit").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    saved = s.post(stack.gateway_url + "/calendar/edit", data=dict(
        {k: str(v) for k, v in term.items()}, school_year="119", semester="1", csrf_token=token,
        outcome_uploads_per_semester="4", expected_version=str(r.json()["version"])))
    assert saved.status_code == 200, saved.text[:500]
    assert "已儲存 119 學年度第 1 學期的行事曆" in saved.text
    warn = re.search(r'<p class="flash warn"[^>]*>([^<]+)</p>', saved.text)
    assert warn, saved.text[:2000]
    assert "由 6 降為 4" in warn.group(1) and "已上傳或已勾選的項目都會保留" in warn.group(1)
    assert reg.get("/calendar/119/1").json()["limits"]["outcome_uploads_per_semester"] == 4
    # raising it back (or saving it unchanged) warns nothing
    form = s.get(stack.gateway_url + "/calendar/edit").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    again = s.post(stack.gateway_url + "/calendar/edit", data=dict(
        {k: str(v) for k, v in term.items()}, school_year="119", semester="1", csrf_token=token))
    assert again.status_code == 200 and 'class="flash warn"' not in again.text
