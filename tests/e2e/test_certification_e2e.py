"""Certification end to end: real processes, PostgreSQL, RabbitMQ and S3, over the gateway's API.

The calendar is published by the tests as submission would (tests/support/calendars.py) until
submission owns calendars; the stack fixture sends each tenant's term first."""
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from portfolio_common import amqp, clock, events
from tests.e2e.conftest import eventually, pdf, sha
from tests.support.calendars import publish_calendar, wait_applied

SUBJECT, OTHER_SUBJECT = "認證實作", "認證實作（林老師）"


@pytest.fixture(scope="module")
def students(stack):
    """Students of their own (the demo's have semester quotas other tests use): class 196 in
    王老師's section, class 195 in 林老師's."""
    from tests.support.school import add_class
    return (add_class(stack, prefix="cert", class_code="196", subject=SUBJECT, n=4, nid_letter="T"),
            add_class(stack, prefix="cerl", class_code="195", subject=OTHER_SUBJECT, n=1, nid_letter="U",
                      teacher="t_lin"))


def decide(who, action, ids, **kw):
    r = who.post("/certification/decisions", json={"action": action, "task_ids": list(ids), **kw})
    assert r.status_code == 200, r.text
    return r.json()


def task_of(who, outcome_id, status="pending"):
    return eventually(lambda: [t for t in who.get(f"/certification/tasks?status={status}").json()
                               if t["outcome_id"] == outcome_id])[0]


def processed(stack, event_id):
    """Whether certification has handled this event (its processed_events row)."""
    engine = sa.create_engine(stack.database_url("certification"))
    try:
        with engine.connect() as c:
            return c.execute(sa.text("SELECT count(*) FROM processed_events WHERE event_id = :e"),
                             {"e": event_id}).scalar() > 0
    finally:
        engine.dispose()


def replay_upload(stack, student, up, section, description):
    """files publishes outcome-uploaded again for a known outcome (a restore after a storage
    loss re-sends the same file: DOMAIN.md, 2021)."""
    env = events.make_event(events.OUTCOME_UPLOADED, "day", {
        "outcome_id": up["outcome_id"], "file_id": up["file_id"], "student_id": section["student_id"], "student_user_id": student.user["user_id"],
        "section_id": section["id"], "teacher_user_id": section["teacher_user_id"], "school_year": 115,
        "semester": 1, "course_code": section["course_code"], "subject_name": section["subject_name"],
        "description": description, "filename": "成果.pdf", "content_type": "application/pdf",
        "size": up["size"], "sha256": up["sha256"], "uploaded_at": events.utcnow()})
    pub = amqp.PikaPublisher(stack.amqp_uri_for("files"))
    try:
        pub.publish(events.exchange_for(events.OUTCOME_UPLOADED), events.OUTCOME_UPLOADED, env)
    finally:
        pub.close()
    return env


def test_upload_return_with_a_listed_reason_reupload_certify_withdraw_recertify(stack, api, students):
    student, teacher, other_teacher = api(students[0][0]), api("t_wang"), api("t_lin")
    section = student.section(SUBJECT)

    reasons = teacher.get("/certification/return-reasons").json()
    assert {"incomplete", "other"} <= {r["code"] for r in reasons}
    incomplete = next(r for r in reasons if r["code"] == "incomplete")

    # upload -> a task -> returned with a listed reason and free text
    up = student.upload(section["id"], "期中作業：流程圖", pdf(), "流程圖.pdf").json()
    task = task_of(teacher, up["outcome_id"])
    assert task["round"] == 1 and task["sha256"] == up["sha256"]
    bad = teacher.post("/certification/decisions", json={"action": "return", "task_ids": [task["id"]]})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "reason_required")
    res = decide(teacher, "return", [task["id"]], reason_code="incomplete", reason="請補上封面")
    assert res["returned"] == [task["id"]] and res["refused"] == []
    mine = eventually(lambda: (o := student.get("/outcomes/" + up["outcome_id"]).json())["status"] == "returned" and o)
    assert mine["return_reason"] == f"{incomplete['label']}：請補上封面"
    returned = task_of(teacher, up["outcome_id"], "returned")
    assert returned["reason"] == mine["return_reason"] and returned["reason_code"] == "incomplete"
    # a stale tab that still shows it pending: one clear answer, no false success
    stale = decide(teacher, "certify", [task["id"]])
    assert stale["certified"] == [] and stale["refused"][0]["code"] == "already_decided"
    assert stale["refused"][0]["message_zh"] == "此項目已經處理過。"

    # only the student's own returned outcome may be uploaded again
    intruder = api(students[0][1])
    r = intruder.post(f"/outcomes/{up['outcome_id']}/reupload", json={"description": "偷改"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = api(students[1][0]).post(f"/outcomes/{up['outcome_id']}/reupload", json={"description": "偷改"})
    assert r.status_code == 404
    # the student uploads the returned outcome again (重新上傳): the SAME outcome, round 2 in the
    # teacher's queue, the returned round kept with its reason -> certified on the new file
    content = pdf()
    up2 = student.reupload(up["outcome_id"], "期中作業：流程圖（補上封面）", content, "流程圖-v2.pdf").json()
    assert up2["outcome_id"] == up["outcome_id"] and up2["sha256"] == sha(content)
    task2 = task_of(teacher, up2["outcome_id"])
    assert task2["round"] == 2 and task2["sha256"] == sha(content) and task2["description"] == "期中作業：流程圖（補上封面）"
    mine = eventually(lambda: (o := student.get("/outcomes/" + up["outcome_id"]).json())["status"] == "uploaded" and o)
    assert (mine["sha256"], mine["filename"], mine["upload_round"], mine["return_reason"]) == \
        (sha(content), "流程圖-v2.pdf", 2, None)
    assert task_of(teacher, up["outcome_id"], "returned")["reason_code"] == "incomplete"
    again = student.post(f"/outcomes/{up['outcome_id']}/reupload", json={"description": "再傳一次"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "outcome_not_returned")
    assert decide(teacher, "certify", [task2["id"]])["certified"] == [task2["id"]]
    eventually(lambda: student.get("/outcomes/" + up2["outcome_id"]).json()["status"] == "certified")
    eventually(lambda: up2["outcome_id"] in [c["outcome_id"] for c in student.get("/selections/115").json()["candidates"]])
    done = task_of(teacher, up2["outcome_id"], "certified")
    assert done["decided_by"] == teacher.user["user_id"] and done["decided_for"] is None and done["sha256"] == sha(content)

    # the identical file again for the same outcome (a restore): the certification is kept
    env = replay_upload(stack, student, up2, dict(section, teacher_user_id=teacher.user["user_id"],
                                                  student_id=done["student_id"]), "期中作業：流程圖（補上封面）")
    eventually(lambda: processed(stack, env["event_id"]))
    assert sorted((t["round"], t["status"]) for t in teacher.get("/certification/tasks?status=all").json()
                  if t["outcome_id"] == up2["outcome_id"]) == [(1, "returned"), (2, "certified")]
    # ... and records agrees: still certified, no new upload round
    assert eventually(lambda: (o := student.get("/outcomes/" + up2["outcome_id"]).json())["filename"] == "成果.pdf"
                      and o)["status"] == "certified"

    # a mistaken certification is withdrawn with a reason: history kept, the outcome waits again
    r = teacher.post("/certification/decisions", json={"action": "withdraw", "task_ids": [task2["id"]], "reason": " "})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "reason_required")
    assert other_teacher.post("/certification/decisions", json={"action": "withdraw", "task_ids": [task2["id"]],
                              "reason": "不是我的"}).json()["refused"][0]["code"] == "not_found"
    res = decide(teacher, "withdraw", [task2["id"]], reason="誤按認證：封面仍是別人的名字")
    assert res["withdrawn"] == [task2["id"]]
    eventually(lambda: student.get("/outcomes/" + up2["outcome_id"]).json()["status"] == "uploaded")
    eventually(lambda: up2["outcome_id"] not in [c["outcome_id"] for c in student.get("/selections/115").json()["candidates"]])
    withdrawn = task_of(teacher, up2["outcome_id"], "withdrawn")
    assert withdrawn["withdrawal_reason"] == "誤按認證：封面仍是別人的名字"
    round3 = task_of(teacher, up2["outcome_id"])
    assert round3["round"] == 3 and round3["sha256"] == up2["sha256"]
    # ... and certified again in the new round
    assert decide(teacher, "certify", [round3["id"]])["certified"] == [round3["id"]]
    eventually(lambda: student.get("/outcomes/" + up2["outcome_id"]).json()["status"] == "certified")
    eventually(lambda: up2["outcome_id"] in [c["outcome_id"] for c in student.get("/selections/115").json()["candidates"]])


def test_a_proxy_returns_for_the_teacher_and_it_is_recorded(stack, api, students):
    teacher, proxy, student = api("t_wang"), api("t_lin"), api(students[0][1])
    today = clock.today_in_school()
    r = teacher.post("/proxies", json={"proxy_username": "t_lin", "starts_on": str(today - dt.timedelta(days=1)),
                                       "ends_on": str(today + dt.timedelta(days=3))})
    assert r.status_code == 201, r.text
    try:
        up = student.upload(student.section(SUBJECT)["id"], "代理退回測試", pdf()).json()
        task = task_of(proxy, up["outcome_id"])
        assert task["acting_for"] == teacher.user["user_id"]
        res = decide(proxy, "return", [task["id"]], reason_code="unreadable")
        assert res["returned"] == [task["id"]]
        done = task_of(teacher, up["outcome_id"], "returned")
        assert done["decided_by"] == proxy.user["user_id"] and done["decided_for"] == teacher.user["user_id"]
    finally:
        (d,) = [d for d in teacher.get("/proxies").json() if d["proxy_username"] == "t_lin"]
        assert teacher.delete(f"/proxies/{d['id']}").status_code == 204


def test_bulk_mixed_decides_the_allowed_and_names_the_refused(stack, api, students):
    student, other_student, teacher, other_teacher = api(students[0][2]), api(students[1][0]), api("t_wang"), api("t_lin")
    ce_student, ce_teacher = api("s_ce01"), api("t_chen")
    mine = student.upload(student.section(SUBJECT)["id"], "批次：我的課", pdf()).json()
    theirs = other_student.upload(other_student.section(OTHER_SUBJECT)["id"], "批次：林老師的課", pdf()).json()
    ce = ce_student.upload(ce_student.section("商業概論")["id"], "批次：進修部", pdf()).json()
    t_mine, t_theirs = task_of(teacher, mine["outcome_id"]), task_of(other_teacher, theirs["outcome_id"])
    t_ce = task_of(ce_teacher, ce["outcome_id"])
    missing = str(uuid.uuid4())
    res = decide(teacher, "certify", [t_mine["id"], t_theirs["id"], t_ce["id"], missing])
    assert res["certified"] == [t_mine["id"]]
    assert [(r["task_id"], r["code"]) for r in res["refused"]] == [
        (t_theirs["id"], "not_found"), (t_ce["id"], "not_found"), (missing, "not_found")]
    # another teacher's item reads exactly like a missing one, and stays theirs, undecided
    assert res["refused"][0]["message_zh"] == res["refused"][2]["message_zh"]
    assert task_of(other_teacher, theirs["outcome_id"])["status"] == "pending"
    # the other tenant sees none of day's queue, day none of ce's
    assert not [t for t in ce_teacher.get("/certification/tasks?status=all").json()
                if t["outcome_id"] in (mine["outcome_id"], theirs["outcome_id"])]
    assert not [t for t in teacher.get("/certification/tasks?status=all").json() if t["outcome_id"] == ce["outcome_id"]]
    assert decide(ce_teacher, "certify", [t_ce["id"]])["certified"] == [t_ce["id"]]


def test_decisions_outside_the_window_are_refused_with_its_dates(stack, api, students):
    student, teacher = api(students[0][3]), api("t_wang")
    up = student.upload(student.section(SUBJECT)["id"], "期限外的認證", pdf()).json()
    task = task_of(teacher, up["outcome_id"])
    today = clock.today_in_school()
    closed = {"opens_on": str(today - dt.timedelta(days=30)), "closes_on": str(today - dt.timedelta(days=1))}
    wait_applied(stack, publish_calendar(stack, "day", certification=closed))
    try:
        res = decide(teacher, "certify", [task["id"]])
        (refusal,) = res["refused"]
        assert res["certified"] == [] and refusal["code"] == "window_closed"
        assert closed["opens_on"] in refusal["message_zh"] and closed["closes_on"] in refusal["message_zh"]
        assert task_of(teacher, up["outcome_id"])["status"] == "pending"
    finally:
        wait_applied(stack, publish_calendar(stack, "day"))
    assert decide(teacher, "certify", [task["id"]])["certified"] == [task["id"]]


@pytest.fixture(scope="module")
def officials(stack):
    """An executive secretary (教務主任) of `day` and one of `ce`, signed up as a school does."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from tests.support.callers import as_system
    from tests.support.school import PASSWORD
    people = [{"username": f"es_{t}_cert", "display_name": f"{t} 教務主任", "password": PASSWORD,
               "grants": [{"tenant": t, "role": "executive_secretary"}]} for t in ("day", "ce")]
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        report = rpc.accounts.import_people(as_system("day", "accounts"), people)
    assert not report["refused"], report
    return "es_day_cert", "es_ce_cert"


def test_oversight_figures_for_the_academic_office_only_and_per_tenant(stack, api, students, officials):
    student, teacher = api(students[0][3]), api("t_wang")
    section = student.section(SUBJECT)
    ups = [student.upload(section["id"], f"統計用成果 {i}", pdf(), f"統計{i}.pdf").json() for i in range(2)]
    first, second = (task_of(teacher, u["outcome_id"]) for u in ups)
    decide(teacher, "certify", [first["id"]])
    day_es, ce_es = (api(u) for u in officials)

    by_subject = {f["key"]: f for f in day_es.get("/certification/oversight?by=subject").json()}
    mine = by_subject[SUBJECT]
    assert mine["certified"] >= 1 and mine["open"] >= 1 and mine["decided"] >= 1
    assert mine["median_hours_to_decide"] is not None and mine["median_hours_to_decide"] >= 0
    (whole,) = day_es.get("/certification/oversight?by=tenant").json()
    assert whole["key"] is None and whole["certified"] >= mine["certified"]
    by_teacher = {f["key"]: f for f in day_es.get("/certification/oversight?by=teacher").json()}
    assert by_teacher[teacher.user["user_id"]]["certified"] >= 1

    csv = day_es.get("/certification/oversight?by=subject&format=csv")
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("科目,待認證,已認證,已退回,已撤回認證")
    assert any(line.startswith(SUBJECT + ",") for line in lines[1:])

    # another tenant's academic office sees none of day's figures
    assert SUBJECT not in {f["key"] for f in ce_es.get("/certification/oversight?by=subject").json()}
    # a subject teacher (whatever section) is refused; 王老師 as homeroom teacher of 101 sees
    # only his class, not these (class 196 has no homeroom teacher); a bad grouping: a stable code
    r = api("t_lin").get("/certification/oversight?by=subject")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "not_allowed")
    assert SUBJECT not in {f["key"] for f in teacher.get("/certification/oversight?by=subject").json()}
    r = day_es.get("/certification/oversight?by=nonsense")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"
    assert second["status"] == "pending"


def test_open_rounds_before_the_close_are_listed_and_handed_to_a_proxy(stack, api, students, officials):
    student, teacher, proxy = api(students[0][3]), api("t_wang"), api("t_lin")
    day_es, ce_es = (api(u) for u in officials)
    up = student.upload(student.section(SUBJECT)["id"], "期限前待認證", pdf()).json()
    task = task_of(teacher, up["outcome_id"])
    today = clock.today_in_school()
    closing = {"opens_on": str(today - dt.timedelta(days=30)), "closes_on": str(today + dt.timedelta(days=2))}
    wait_applied(stack, publish_calendar(stack, "day", certification=closing))
    try:
        rows = day_es.get("/certification/open-at-close?within_days=7").json()
        mine = [r for r in rows if r["subject_name"] == SUBJECT and r["teacher_user_id"] == teacher.user["user_id"]]
        assert mine and mine[0]["open"] >= 1 and mine[0]["window"] == "closing"
        assert mine[0]["closes_on"] == closing["closes_on"]
        soon = day_es.get("/certification/open-at-close?within_days=1").json()   # not yet that close
        assert not [r for r in soon if r["window"] == "closing"]
        # other tenant: nothing of day's; a teacher: refused; a silly horizon: a stable code
        assert SUBJECT not in {r["subject_name"] for r in ce_es.get("/certification/open-at-close").json()}
        r = proxy.get("/certification/open-at-close")     # 林老師: a subject teacher only
        assert (r.status_code, r.json()["error"]["code"]) == (403, "not_allowed")
        assert day_es.get("/certification/open-at-close?within_days=999").status_code == 422

        # the academic section hands 王老師's open rounds to 林老師, who certifies for him
        r = day_es.post("/proxies", json={"teacher_username": "t_wang", "proxy_username": "t_lin",
                                          "starts_on": str(today), "ends_on": str(today + dt.timedelta(days=2))})
        assert r.status_code == 201, r.text
        try:
            handed = task_of(proxy, up["outcome_id"])
            assert handed["acting_for"] == teacher.user["user_id"]
            assert decide(proxy, "certify", [handed["id"]])["certified"] == [handed["id"]]
            done = task_of(teacher, up["outcome_id"], "certified")
            assert done["decided_by"] == proxy.user["user_id"] and done["decided_for"] == teacher.user["user_id"]
        finally:
            assert day_es.delete(f"/proxies/{r.json()['id']}").status_code == 204
    finally:
        wait_applied(stack, publish_calendar(stack, "day"))
