"""The student profile (基本資料) and status history over HTTP: the registrar's API and form,
the version that guards against overwriting, the history those allowed may read, the event a
status change publishes, and the one import endpoint fed a few hundred malformed files."""
import random
import re
import uuid

import pytest

from tests.e2e.conftest import eventually
from tests.e2e.test_admin_import_e2e import csrf, portal
from tests.e2e.test_roster_import_e2e import national_id
from tests.support.fuzzfiles import files

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def newcomer(api):
    """A new student of 日間部 for this run: its own student number and national ID."""
    tag = uuid.uuid4().hex[:6]
    return {"tag": tag, "nid": national_id(random.Random(tag)), "student_no": f"P{tag}"}


def make_account(stack, username):
    from tests.e2e.test_admin_import_e2e import Admin, people_csv
    import hashlib
    admin = Admin(stack)
    data = people_csv([[username, "新同學", "profile-pass-1", "日間部:學生"]])
    admin.upload(data)
    admin.upload(data, confirm_sha=hashlib.sha256(data).hexdigest())


def test_the_registrar_creates_changes_and_reads_a_profile_with_its_history(stack, api, newcomer):
    reg = api("reg_day")
    username = f"pf_{newcomer['tag']}"
    make_account(stack, username)
    body = {"student_no": newcomer["student_no"], "name": "林新生", "national_id": newcomer["nid"].lower().replace(
        newcomer["nid"][1], chr(ord(newcomer["nid"][1]) + 0xFEE0)), "birth_date": "民國94年3月15日", "gender": "女",
        "class_code": "101", "seat_no": "３０", "username": username}
    r = reg.post("/students", json=body)
    assert r.status_code == 201, r.text
    st = r.json()
    assert (st["national_id_masked"], st["birth_date_roc"], st["gender"], st["seat_no"], st["version"]) == (
        newcomer["nid"][:3] + "*****" + newcomer["nid"][-2:], "0940315", "2", 30, 1)
    assert st["school_code"] == "050407" and newcomer["nid"] not in r.text
    # the same person again (typed in lower case): refused by the duplicate check after normalising
    r = reg.post("/students", json=body | {"student_no": f"Q{newcomer['tag']}", "national_id": newcomer["nid"].lower()})
    assert r.status_code == 422 and r.json()["error"]["code"] == "fields_invalid"
    assert {(f, p["code"]) for f, ps in r.json()["error"]["fields"]["record"].items() for p in ps} >= {
        ("national_id", "duplicate_national_id")}
    # a change with the version read; a second change from the same old version is refused
    upd = {"student_no": newcomer["student_no"], "name": "林新生", "class_code": "101", "birth_date": "2005-03-16"}
    r = reg.put(f"/students/{st['id']}", json=upd | {"version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["birth_date_roc"] == "0940316"
    r = reg.put(f"/students/{st['id']}", json=upd | {"name": "別人的修改", "version": 1})
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_record"
    assert reg.get(f"/students/{st['id']}").json()["name"] == "林新生"
    hist = reg.get(f"/students/{st['id']}/history").json()
    assert [h["action"] for h in hist] == ["created", "updated"]
    assert hist[1]["before"]["birth_date"] == "2005-03-15" and hist[1]["after"]["birth_date"] == "2005-03-16"
    assert hist[0]["actor_username"] == "reg_day" and newcomer["nid"] not in str(hist)
    newcomer["id"] = st["id"]


@pytest.mark.parametrize("over,field,code", [
    ({"national_id": "A123456788"}, "national_id", "national_id_checksum"),
    ({"birth_date": "94/02/31"}, "birth_date", "date_impossible"),
    ({"birth_date": "民國2005年1月1日"}, "birth_date", "date_mixed_era"),
    ({"gender": "9"}, "gender", "code_unknown"),
    ({"username": "t_wang"}, "user_id", "student_account_missing"),
])
def test_bad_fields_are_refused_by_field_and_nothing_is_written(api, over, field, code):
    reg = api("reg_day")
    before = len(reg.get("/students").json())
    body = {"student_no": f"X{uuid.uuid4().hex[:6]}", "name": "錯誤", "national_id": "F131104093",
            "class_code": "101", "username": "nobody-here"} | over
    r = reg.post("/students", json=body)
    assert r.status_code == 422, r.text
    found = r.json()["error"]["fields"]["record"]
    assert (field, code) in {(f, p["code"]) for f, ps in found.items() for p in ps}
    assert all(p["message_zh"] for ps in found.values() for p in ps)
    assert len(reg.get("/students").json()) == before


def test_others_read_a_profile_as_missing_and_a_student_reads_their_own(api):
    day = api("reg_day").get("/students").json()
    own = next(s for s in day if s["student_no"] == "1150001")
    other = next(s for s in day if s["student_no"] == "1150002")
    assert api("s_day01").get(f"/students/{own['id']}").json()["student_no"] == "1150001"
    assert api("s_day01").get(f"/students/{own['id']}/history").status_code == 200
    for who, sid in (("s_day01", other["id"]), ("reg_ce", own["id"]), ("t_wang", own["id"])):
        r = api(who).get(f"/students/{sid}")
        assert r.status_code in (403, 404), (who, r.status_code)
        assert api(who).get(f"/students/{sid}/history").status_code in (403, 404)


def test_the_demo_students_have_a_birth_date_and_gender(api):
    """The demo school's profiles come through the registrar's roster import with 出生日期 and
    性別 (deploy/demo_school.py), so the national pre-check does not stop at the demo."""
    for registrar, no in (("reg_day", "1150001"), ("reg_ce", "N1150001")):
        student = next(s for s in api(registrar).get("/students").json() if s["student_no"] == no)
        assert student["birth_date"] and student["birth_date_roc"] and student["gender"] in ("1", "2"), student
        history = api(registrar).get(f"/students/{student['id']}/history").json()
        assert history[0]["action"] == "created" and history[0]["after"]["birth_date"], history[0]


def test_a_status_change_is_kept_published_and_voided_not_deleted(stack, api, newcomer):
    """The event travels over the broker: a queue of this test, bound as a consumer's would be,
    receives student-status-changed with the WAVE2 payload."""
    import json

    import pika
    reg = api("reg_day")
    sid = newcomer.get("id") or pytest.fail("needs the profile test's student (run the module)")
    conn = pika.BlockingConnection(pika.URLParameters(stack.amqp_uri))
    ch_ = conn.channel()
    queue = f"test-status-{uuid.uuid4().hex[:8]}"
    ch_.queue_declare(queue, exclusive=True)
    ch_.queue_bind(queue, "records.events", routing_key="student-status-changed")
    try:
        r = reg.post(f"/students/{sid}/status-changes", json={"change": "visiting_study", "effective_on": "115/03/02",
                                                              "other_school_code": "11301", "note": "交換一學期"})
        assert r.status_code == 201, r.text
        ch = r.json()
        assert (ch["other_school_code"], ch["school_year"], ch["semester"], ch["recorded_via"]) == ("011301", 114, 2, "form")

        def received():
            while True:
                method, _, body = ch_.basic_get(queue, auto_ack=True)
                if method is None:
                    return None
                env = json.loads(body)
                if env["payload"]["student_id"] == sid:
                    return env
        env = eventually(received)
        assert env["event"] == "student-status-changed" and env["producer"] == "records" and env["tenant"] == "day"
        assert env["payload"] == {"student_id": sid, "student_user_id": env["payload"]["student_user_id"],
                                  "change": "visiting_study", "effective_on": "2026-03-02",
                                  "other_school_code": "011301", "school_year": 114, "semester": 2}
    finally:
        conn.close()
    r = reg.post(f"/students/{sid}/status-changes/{ch['id']}/void", json={"version": 1, "reason": "登錄錯誤"})
    assert r.status_code == 200 and r.json()["voided_at"]
    assert reg.post(f"/students/{sid}/status-changes/{ch['id']}/void", json={"version": 1, "reason": "x"}).status_code == 409
    listed = reg.get(f"/students/{sid}/status-changes").json()
    assert [c["id"] for c in listed] == [ch["id"]] and listed[0]["void_reason"] == "登錄錯誤"
    assert api("reg_ce").get(f"/students/{sid}/status-changes").status_code in (403, 404)


def test_the_profile_form_in_the_portal_refuses_a_stale_save(stack, api):
    s, _ = portal(stack, "reg_day")
    (st,) = [x for x in api("reg_day").get("/students").json() if x["student_no"] == "1150003"]
    page = s.get(f"{stack.gateway_url}/registrar/students/{st['id']}", timeout=30)
    assert page.status_code == 200 and st["national_id_masked"] in page.text
    form = dict(re.findall(r'<input id="f-([a-z_]+)" name="\1" value="([^"]*)"', page.text))
    form |= {"csrf_token": csrf(page.text), "version": str(st["version"]), "gender": "", "class_type_code": "",
             "status": "enrolled", "name": st["name"] + "（改）"}
    r = s.post(f"{stack.gateway_url}/registrar/students/{st['id']}", data=form, timeout=30, allow_redirects=False)
    assert r.status_code == 302, r.text[:500]
    r = s.post(f"{stack.gateway_url}/registrar/students/{st['id']}", data=form | {"name": "舊版本的修改"}, timeout=30)
    assert r.status_code == 409 and "已被其他人修改" in r.text
    assert api("reg_day").get(f"/students/{st['id']}").json()["name"] == st["name"] + "（改）"
    hist = s.get(f"{stack.gateway_url}/registrar/students/{st['id']}/history", timeout=30).text
    assert "（改）" in hist and "reg_day" in hist


def test_the_import_endpoint_never_answers_a_malformed_file_with_a_server_error(api):
    reg = api("reg_day")
    seen = {"file": 0, "rows": 0}
    for name, data, what in files(300, seed=7):
        r = reg.post("/imports/student_profile", files={"file": (name, data, "application/octet-stream")},
                     data={"dry_run": "true"})
        assert r.status_code in (200, 413), f"{what}: {r.status_code} {r.text[:300]}"
        if r.status_code == 413:  # larger than the gateway takes at all
            continue
        body = r.json()
        assert body["written"] is False and isinstance(body["problems"], list), what
        assert all(isinstance(p["row"], int) and p["code"] and p["message_zh"] for p in body["problems"]), what
        seen["file" if any(p["row"] == 0 for p in body["problems"]) else "rows"] += 1
    assert seen["file"] > 30 and seen["rows"] > 30, seen


def test_the_import_api_previews_then_writes_with_the_basis(api):
    reg = api("reg_day")
    csv_ = "學號,異動類別,異動日期,原校或借讀學校代碼\n1150004,重讀,115/09/01,\n".encode()
    r = reg.post("/imports/status_change", files={"file": ("異動.csv", csv_, "text/csv")})
    assert r.status_code == 200 and r.json()["problems"] == [], r.text
    basis = r.json()["basis"]
    r = reg.post("/imports/status_change", files={"file": ("異動.csv", csv_, "text/csv")},
                 data={"dry_run": "false", "basis": basis})
    assert r.status_code == 200 and r.json()["written"] and r.json()["summary"]["created"] + r.json()["summary"]["unchanged"] == 1
    r = reg.post("/imports/status_change", files={"file": ("異動.csv", csv_, "text/csv")}, data={"dry_run": "false"})
    assert r.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert api("t_wang").post("/imports/status_change", files={"file": ("a.csv", csv_, "text/csv")}).status_code == 403
