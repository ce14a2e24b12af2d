"""Items the school's units enter (consultation records, career-plan assessments, attendance,
activities, in-school competitions) through the gateway against real servers: each unit enters
its own kind, the student, the homeroom teacher of class 101 and the counsellors read what they
may, everyone else is refused like a missing record, and every change is in the history."""
import uuid

import pytest

from tests.e2e.test_admin_import_e2e import csrf, portal

pytestmark = pytest.mark.slow


def student_id(api, username):
    """The demo student's record id, as the student reads it."""
    return api(username).get("/me/records").json()["student"]["id"]


def codes(r):
    return {(f, p["code"]) for f, ps in r.json()["error"]["fields"]["record"].items() for p in ps}


def test_the_consultation_teacher_enters_and_the_allowed_read(api):
    s1 = student_id(api, "s_day01")
    body = {"student_id": s1, "held_on": "115/11/05", "held_at": "12:10-12:50", "place": "輔導室",
            "content": f"選課諮詢 {uuid.uuid4().hex[:6]}", "advice": "先修程式設計"}
    r = api("t_consult").post("/records/consultations", json=body)
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["held_on"], item["held_at"], item["recorded_by_username"]) == ("2026-11-05", "12:10-12:50", "t_consult")
    # the student, the homeroom teacher of 101 and the counsellor read it
    assert item["id"] in {i["id"] for i in api("s_day01").get("/records/consultations").json()}
    assert item["id"] in {i["id"] for i in api("s_day01").get("/me/records").json()["kinds"]["consultation"]}
    by_class = api("t_wang").get("/records/consultations", params={"class_code": "101"}).json()
    assert item["id"] in {i["id"] for row in by_class for i in row["items"]}
    assert item["id"] in {i["id"] for i in api("counsel").get("/records/consultations", params={"student_id": s1}).json()}
    # the history: who and what
    hist = api("t_consult").get(f"/students/{s1}/history")  # the student's whole history is the registrar's
    assert hist.status_code == 404
    # attackers: another student, a teacher of no class, the registrar, the other tenant's teacher
    for who in ("s_day02", "t_lin", "reg_day"):
        r = api(who).get("/records/consultations", params={"student_id": s1})
        assert r.status_code in (403, 404), (who, r.status_code)
        assert item["id"] not in r.text
    # 進修部's staff: the other tenant's student is not found
    r = api("act_ce").get("/records/activities", params={"student_id": s1})
    assert r.status_code == 404 and s1 not in r.text
    # a change from an old version is refused; a void keeps the item, marked
    r = api("t_consult").put(f"/records/consultations/{item['id']}", json=body | {"place": "圖書館", "version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = api("t_consult").put(f"/records/consultations/{item['id']}", json=body | {"place": "別處", "version": 1})
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_record"
    r = api("t_consult").post(f"/records/consultations/{item['id']}/void", json={"version": 2, "reason": "誤植"})
    assert r.status_code == 200 and r.json()["void_reason"] == "誤植"
    mine = {i["id"]: i for i in api("s_day01").get("/records/consultations").json()}
    assert mine[item["id"]]["voided_at"] and mine[item["id"]]["place"] == "圖書館"


@pytest.mark.parametrize("who,kind,body", [
    ("s_day01", "consultations", {"held_on": "115/11/05", "held_at": "12:10", "place": "x", "content": "x", "advice": "x"}),
    ("t_wang", "career", {"assessed_on": "115/10/01", "suggested_groups": "資訊學群", "career_plan": "升學"}),
    ("counsel", "attendance", {"school_year": "115", "semester": "1", "absence_code": "02", "periods": "1"}),
    ("disc_day", "activities", {"school_year": "115", "semester": "1", "category": "club", "name": "x"}),
    ("act_day", "competitions", {"name": "x", "content": "x", "result": "x", "announced_on": "115/11/01"}),
    ("reg_day", "consultations", {"held_on": "115/11/05", "held_at": "12:10", "place": "x", "content": "x", "advice": "x"}),
])
def test_only_the_unit_responsible_enters_its_kind(api, who, kind, body):
    r = api(who).post(f"/records/{kind}", json=body | {"student_id": student_id(api, "s_day01")})
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_allowed", r.text


def test_the_counsellor_enters_a_career_plan_and_a_bad_one_is_refused_by_field(api):
    s2 = student_id(api, "s_day02")
    r = api("counsel").post("/records/career", json={"student_id": s2, "assessed_on": "115/02/30",
                                                     "suggested_groups": "", "career_plan": "字" * 501})
    assert r.status_code == 422 and codes(r) == {("assessed_on", "date_impossible"), ("suggested_groups", "field_missing"),
                                                 ("career_plan", "text_too_long")}
    assert r.json()["error"]["fields"]["record"]["career_plan"][0]["message_zh"] == "超過 500 個字。"
    r = api("counsel").post("/records/career", json={"student_id": s2, "assessed_on": "2026-10-20",
                                                     "suggested_groups": "管理學群", "career_plan": "先就業再進修"})
    assert r.status_code == 201, r.text
    assert r.json()["id"] in {i["id"] for i in api("s_day02").get("/records/career").json()}
    # a student of another class: not the homeroom teacher's (t_wang has 101; s_day03 is in 102)
    s3 = student_id(api, "s_day03")
    assert api("t_wang").get("/records/career", params={"student_id": s3}).status_code == 404
    assert api("t_wang").get("/records/career", params={"class_code": "102"}).status_code == 404
    assert api("t_wang").get("/classes/102/records").status_code == 404


def test_attendance_and_activities_by_their_units_with_imports(api, stack):
    s1 = student_id(api, "s_day01")
    r = api("disc_day").post("/records/attendance", json={"student_id": s1, "school_year": "115", "semester": "2",
                                                          "absence_code": "99", "periods": "-1"})
    assert r.status_code == 422 and codes(r) == {("absence_code", "absence_code_unknown"), ("periods", "periods_invalid")}
    tag = uuid.uuid4().hex[:4]
    csv = ("學號,學年度,學期,假別,節數\n"
           f"1150001,114,2,事假,{int(tag, 16) % 50}\n"
           "1150002,114,2,12,1\n").encode("utf-8")
    disc = api("disc_day")
    r = disc.post("/imports/attendance", data={"dry_run": "true"}, files={"file": ("缺曠.csv", csv, "text/csv")})
    assert r.status_code == 200 and not r.json()["problems"], r.text
    r = disc.post("/imports/attendance", data={"dry_run": "false", "basis": r.json()["basis"]},
                  files={"file": ("缺曠.csv", csv, "text/csv")})
    assert r.json()["written"] and r.json()["summary"]["created"] + r.json()["summary"]["updated"] >= 1
    again = disc.post("/imports/attendance", data={"dry_run": "false"}, files={"file": ("缺曠.csv", csv, "text/csv")})
    assert again.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 2}
    mine = api("s_day01").get("/records/attendance").json()
    assert any((i["school_year"], i["semester"], i["absence_code"]) == (114, 2, "02") for i in mine)
    # a row for the other tenant's student, an unknown code: nothing written, problems by row and column
    bad = "學號,學年度,學期,假別,節數\n1150001,114,2,03,2\nN1150001,114,2,01,1\n1150002,114,2,遲到,1\n".encode("utf-8")
    r = disc.post("/imports/attendance", data={"dry_run": "false"}, files={"file": ("bad.csv", bad, "text/csv")})
    assert not r.json()["written"]
    assert {(p["row"], p["column"], p["code"]) for p in r.json()["problems"]} == {
        (3, "student_no", "student_unknown"), (4, "absence_code", "absence_code_unknown")}
    assert not any((i["school_year"], i["absence_code"]) == (114, "03") for i in api("s_day01").get("/records/attendance").json())
    # the activities section of 日間部 cannot import attendance; the discipline section not activities
    r = api("act_day").post("/imports/attendance", data={"dry_run": "true"}, files={"file": ("a.csv", csv, "text/csv")})
    assert r.status_code == 403
    acts = ("學號,學年度,學期,類別,名稱,擔任職務,時數\n"
            f"1150002,114,2,幹部,資料處理科一年甲班{tag},風紀股長,\n"
            f"1150002,114,2,志工,淨灘活動{tag},,6\n").encode("utf-8")
    r = api("act_day").post("/imports/activity", data={"dry_run": "false"}, files={"file": ("幹部.csv", acts, "text/csv")})
    assert r.status_code == 200 and r.json()["written"], r.text
    # 進修部's student affairs section enters ce's activities only
    r = api("act_ce").post("/imports/activity", data={"dry_run": "true"}, files={"file": ("幹部.csv", acts, "text/csv")})
    assert {p["code"] for p in r.json()["problems"]} == {"student_unknown"}
    # the homeroom teacher of 101 sees the class's items of every kind
    view = api("t_wang").get("/classes/101/records").json()
    assert set(view["kinds"]) == {"consultation", "career_assessment", "attendance", "activity", "competition",
                                 "course_grade"}
    s2 = student_id(api, "s_day02")
    assert any(i["name"] == f"淨灘活動{tag}" and i["hours"] == 6 for i in view["kinds"]["activity"][s2])
    assert [c["code"] for c in api("t_wang").get("/classes").json()] == ["101"]
    # history of an item: who, before, after
    item = next(i for i in api("s_day01").get("/records/attendance").json() if (i["school_year"], i["absence_code"]) == (114, "02"))
    hist = api("disc_day").get(f"/records/attendance/{item['id']}/history")
    assert hist.status_code == 200, hist.text  # the unit reads the item's history (issue 8 item 12)
    assert hist.json()[0]["action"] == "created"
    assert api("s_day02").get(f"/records/attendance/{item['id']}/history").status_code == 404  # another student
    from nameko.standalone.rpc import ClusterRpcProxy
    from tests.support.callers import as_system
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        rows = rpc.records.get_history(as_system("day", "records"), "attendance", item["id"])
    assert rows[0]["action"] == "created" and rows[0]["actor_username"] == "disc_day"


def test_the_organising_unit_enters_a_competition_without_a_proof_file(api):
    s1 = student_id(api, "s_day01")
    name = f"校內英文簡報比賽 {uuid.uuid4().hex[:4]}"
    r = api("org_day").post("/records/competitions", json={"student_id": s1, "name": name, "content": "個人組",
                                                           "result": "佳作", "announced_on": "2026-11-20"})
    assert r.status_code == 201, r.text
    assert name in {i["name"] for i in api("s_day01").get("/me/records").json()["kinds"]["competition"]}
    assert api("s_day02").get("/records/competitions", params={"student_id": s1}).status_code == 404


def test_the_unit_pages_list_by_class_and_enter_through_the_form(stack, api):
    s, _ = portal(stack, "counsel")
    page = s.get(stack.gateway_url + "/records/career?class=101")
    assert page.status_code == 200 and "學群探索與就業規劃" in page.text and "1150001" in page.text
    sid = student_id(api, "s_day02")
    form = s.get(stack.gateway_url + f"/records/career/new?student={sid}&class=101")
    assert form.status_code == 200
    r = s.post(stack.gateway_url + "/records/career/new", allow_redirects=False, data={
        "csrf_token": csrf(form.text), "student": sid, "class": "101", "assessed_on": "115/13/01",
        "suggested_groups": "資訊學群", "career_plan": "升學"})
    assert r.status_code == 422 and 'data-field="assessed_on"' in r.text  # the problem beside its field
    r = s.post(stack.gateway_url + "/records/career/new", allow_redirects=False, data={
        "csrf_token": csrf(form.text), "student": sid, "class": "101", "assessed_on": "115/11/02",
        "suggested_groups": "設計學群", "career_plan": "參加校外設計營"})
    assert r.status_code == 302
    assert "設計學群" in s.get(stack.gateway_url + "/records/career?class=101").text
    st, _ = portal(stack, "s_day02")
    assert "設計學群" in st.get(stack.gateway_url + "/me/records").text
    # a student opening a unit's page is refused; the homeroom teacher's class view shows the class
    assert st.get(stack.gateway_url + "/records/career?class=101").status_code == 403
    # the other tenant's class (ce 501) through the address bar: named as not found or not
    # theirs, never "this class has no students", and none of its students shown
    other = s.get(stack.gateway_url + "/records/career?class=501")
    assert other.status_code == 404 and "找不到班級「501」" in other.text, other.text[:500]
    assert "這個班級沒有學生" not in other.text and "N115000" not in other.text
    t, _ = portal(stack, "t_wang")
    page = t.get(stack.gateway_url + "/records/class?class=101")
    assert page.status_code == 200 and "設計學群" in page.text and "班級紀錄" in page.text
    assert t.get(stack.gateway_url + "/records/class?class=102").status_code == 404
    d, _ = portal(stack, "disc_day")
    assert "出缺勤匯入" in d.get(stack.gateway_url + "/records/imports/attendance").text


def test_the_autobiography_is_written_returned_rewritten_and_approved_with_every_version_kept(api, stack):
    me = api("s_day04")  # class 102: no homeroom teacher in the demo; the counsellor reviews
    current = me.get("/autobiography").json()["versions"]
    seen = current[0]["version_no"] if current else 0
    text = {"autobiography": "我在工廠長大。", "career_plan": f"升學 {uuid.uuid4().hex[:4]}", "expectations": "準時交作業",
            "strengths": "動手做", "interests": "機械"}
    r = me.put("/autobiography", json=text | {"version": seen, "strengths": ""})
    assert r.status_code == 422 and codes(r) == {("strengths", "field_missing")}
    r = me.put("/autobiography", json=text | {"version": seen})
    assert r.status_code == 201 and r.json()["status"] == "submitted", r.text
    v1 = r.json()
    assert me.put("/autobiography", json=text | {"version": seen, "interests": "別的分頁"}).status_code == 409
    sid = me.get("/me/records").json()["student"]["id"]
    # a staff member cannot write it; t_wang (homeroom of 101, not 102) neither reads nor reviews it
    assert api("counsel").put("/autobiography", json=text | {"version": 0}).status_code == 403
    assert api("t_wang").get("/autobiography", params={"student_id": sid}).status_code == 404
    assert api("t_wang").post(f"/autobiography/{v1['id']}/review", json={"decision": "approve"}).status_code == 404
    assert api("s_day01").get("/autobiography", params={"student_id": sid}).status_code == 404
    r = api("counsel").post(f"/autobiography/{v1['id']}/review", json={"decision": "return", "comment": ""})
    assert r.status_code == 422 and codes(r) == {("comment", "field_missing")}
    r = api("counsel").post(f"/autobiography/{v1['id']}/review", json={"decision": "return", "comment": "請寫具體的升學目標"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    v2 = me.put("/autobiography", json=text | {"version": v1["version_no"], "career_plan": "報考科大機械系"}).json()
    r = api("counsel").post(f"/autobiography/{v2['id']}/review", json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["reviewed_by_username"] == "counsel"
    versions = me.get("/autobiography").json()["versions"]
    assert [(v["version_no"], v["status"]) for v in versions[:2]] == [(v2["version_no"], "approved"),
                                                                      (v1["version_no"], "returned")]
    assert versions[1]["review_comment"] == "請寫具體的升學目標" and versions[1]["career_plan"] == text["career_plan"]
    rows = api("counsel").get("/classes/102/autobiographies").json()
    assert {r["student"]["student_no"]: (r["latest"] or {}).get("status") for r in rows}["1150004"] == "approved"
    assert api("t_wang").get("/classes/102/autobiographies").status_code == 404
    from nameko.standalone.rpc import ClusterRpcProxy
    from tests.support.callers import as_system
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        hist = rpc.records.get_history(as_system("day", "records"), "autobiography", v1["id"])
    assert [(h["action"], h["actor_username"]) for h in hist] == [("written", "s_day04"), ("returned", "counsel")]


def test_the_student_writes_and_the_homeroom_teacher_reviews_on_the_pages(stack):
    st, _ = portal(stack, "s_day01")
    page = st.get(stack.gateway_url + "/me/autobiography")
    assert page.status_code == 200 and "自傳與學習計畫" in page.text
    version = __import__("re").search(r'name="version" value="(\d+)"', page.text).group(1)
    r = st.post(stack.gateway_url + "/me/autobiography", allow_redirects=False, data={
        "csrf_token": csrf(page.text), "version": version, "career_plan": "升學資管", "expectations": "多讀書",
        "strengths": "細心", "interests": f"攝影{uuid.uuid4().hex[:4]}"})
    assert r.status_code == 302, r.text[:500]
    t, _ = portal(stack, "t_wang")
    listing = t.get(stack.gateway_url + "/records/autobiographies?class=101")
    assert listing.status_code == 200 and "待審閱" in listing.text
    # s_day01's row (1150001), not whichever student of the class comes first: other tests write too
    sid = __import__("re").search(r'/records/autobiographies/([0-9a-f-]{36})">1150001<', listing.text).group(1)
    page = t.get(stack.gateway_url + f"/records/autobiographies/{sid}")
    vid = __import__("re").search(r'name="version_id" value="([^"]+)"', page.text).group(1)
    r = t.post(stack.gateway_url + f"/records/autobiographies/{sid}", allow_redirects=False, data={
        "csrf_token": csrf(page.text), "version_id": vid, "decision": "return", "comment": ""})
    assert r.status_code == 422 and 'data-field="comment"' in r.text
    r = t.post(stack.gateway_url + f"/records/autobiographies/{sid}", allow_redirects=False, data={
        "csrf_token": csrf(page.text), "version_id": vid, "decision": "return", "comment": "興趣再寫具體一點"})
    assert r.status_code == 302
    assert "興趣再寫具體一點" in st.get(stack.gateway_url + "/me/autobiography").text
