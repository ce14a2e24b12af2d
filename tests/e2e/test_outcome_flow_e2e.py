"""The course-outcome flow end to end: real processes, real PostgreSQL, RabbitMQ and S3, over HTTP."""
import re
import uuid

import pika
import requests
from minio import Minio

from portfolio_common import amqp, events
from tests.e2e.conftest import eventually, pdf, sha


def s3(stack):
    env = stack.client_env()
    return Minio(stack.s3_endpoint, env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"], secure=False)


def bucket(stack, tenant):
    return f"{stack.client_env()['S3_BUCKET_PREFIX']}-{tenant}"


def test_day_flow_upload_certify_select_lock(stack, api):
    student, teacher, other_teacher, registrar = api("s_day01"), api("t_wang"), api("t_lin"), api("reg_day")
    section = student.section("程式設計實習")
    content = pdf()
    r = student.upload(section["id"], "期末專題：記帳程式", content, "期末專題.pdf")
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["sha256"] == sha(content) and up["size"] == len(content)

    # the file is in the tenant's bucket, byte for byte, with its fingerprint
    key = f"outcomes/{eventually(lambda: student.get('/outcomes/' + up['outcome_id']).ok) and ''}"
    objects = [o.object_name for o in s3(stack).list_objects(bucket(stack, "day"), recursive=True)]
    (key,) = [o for o in objects if o.endswith(up["file_id"])]
    assert sha(s3(stack).get_object(bucket(stack, "day"), key).read()) == up["sha256"]
    assert not [o for o in objects if o.startswith("quarantine/")]
    assert student.get(f"/files/{up['file_id']}").content == content

    # outcome-uploaded reached records and certification
    mine = student.get("/outcomes/" + up["outcome_id"]).json()
    assert mine["status"] == "uploaded" and mine["description"] == "期末專題：記帳程式"
    queue = eventually(lambda: [t for t in teacher.get("/certification/tasks").json()
                                if t["outcome_id"] == up["outcome_id"]])
    assert queue[0]["student_name"] == "陳怡君" and queue[0]["sha256"] == up["sha256"]
    assert teacher.get(f"/files/{up['file_id']}").content == content
    assert not [t for t in other_teacher.get("/certification/tasks").json() if t["outcome_id"] == up["outcome_id"]]

    # the teacher certifies -> certified reaches records and submission
    r = teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [queue[0]["id"]]})
    assert r.json()["certified"] == [queue[0]["id"]]
    again = teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [queue[0]["id"]]})
    assert again.json()["refused"][0]["code"] == "already_decided"
    eventually(lambda: student.get("/outcomes/" + up["outcome_id"]).json()["status"] == "certified")
    sel = eventually(lambda: [c for c in student.get("/selections/115").json()["candidates"]
                              if c["outcome_id"] == up["outcome_id"]])
    assert sel[0]["selected"] is False

    # the student selects, the registrar locks -> selection-locked reaches records
    assert student.put("/selections/115", json={"outcome_ids": [up["outcome_id"]]}).ok
    wording = student.get("/selections/115/consent").json()["wording"]["version"]
    assert student.put("/selections/115/consent", json={"give": True, "wording_version": wording}).ok
    assert student.post("/selections/115/lock").json()["error"]["code"] == "not_allowed"
    r = registrar.post("/selections/115/lock", json={"scope": "class", "class_code": "101"})
    assert r.status_code == 201 and r.json()["students"] >= 1, r.text
    held = registrar.get("/selections/115/locked").json()
    assert held["locked"] and any(o["outcome_id"] == up["outcome_id"] and o["sha256"] == up["sha256"]
                                  for s in held["students"] for o in s["outcomes"])
    eventually(lambda: student.get("/outcomes/" + up["outcome_id"]).json()["selected_locked"])
    r = student.put("/selections/115", json={"outcome_ids": []})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "selection_locked")
    assert registrar.post("/selections/115/lock", json={"scope": "class", "class_code": "101"}) \
        .json()["error"]["code"] == "already_locked"


def test_ce_flow_is_isolated_from_day(stack, api):
    student, teacher, registrar = api("s_ce02"), api("t_chen"), api("reg_ce")
    day_student, day_teacher = api("s_day02"), api("t_wang")
    section = student.section("商業概論")
    up = student.upload(section["id"], "商業概論：夜市商圈訪談", pdf()).json()
    task = eventually(lambda: [t for t in teacher.get("/certification/tasks").json()
                               if t["outcome_id"] == up["outcome_id"]])[0]
    assert teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [task["id"]]}).ok
    eventually(lambda: student.get("/outcomes/" + up["outcome_id"]).json()["status"] == "certified")
    assert up["file_id"] in [o.object_name.rsplit("/", 1)[-1]
                             for o in s3(stack).list_objects(bucket(stack, "ce"), recursive=True)]

    # day users see none of it; a ce id reads exactly like one that does not exist
    missing = str(uuid.uuid4())
    for path in (f"/outcomes/{up['outcome_id']}", f"/files/{up['file_id']}"):
        assert day_student.get(path).json() == day_student.get(path.rsplit("/", 1)[0] + "/" + missing).json()
        assert day_student.get(path).status_code == 404
    assert not [t for t in day_teacher.get("/certification/tasks?status=all").json()
                if t["outcome_id"] == up["outcome_id"]]
    assert day_teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [task["id"]]}) \
        .json()["refused"][0]["code"] == "not_found"
    # a day section is not there for a ce student
    day_section = day_student.section("程式設計實習")
    r = student.upload(day_section["id"], "跨部上傳", pdf())
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    # the day lock did not lock ce
    assert registrar.get("/selections/115/locked").json()["locked"] is False


def test_bad_uploads_are_refused_clearly_and_leave_nothing(stack, api):
    student = api("s_day02")
    other = api("s_day03")   # class 102: not in 101's 數位邏輯
    section = student.section("數位邏輯")
    client = s3(stack)

    def listing():  # every version: a refusal must not leave even a deleted one behind
        if not client.bucket_exists(bucket(stack, "day")):
            return []
        return sorted((o.object_name, o.version_id) for o in client.list_objects(
            bucket(stack, "day"), recursive=True, include_version=True))
    before = listing()
    count_before = len(student.get("/outcomes").json())
    cases = [
        (student.upload(section["id"], "假的 PDF", b"MZ\x90\x00 this is an exe", "report.pdf"), 415, "file_type_refused"),
        (student.upload(section["id"], "太大", b"%PDF-" + b"0" * (4 * 1024 * 1024 + 10)), 413, "file_too_large"),
        (student.upload(section["id"], "", pdf()), 422, "description_empty"),
        (student.upload(section["id"], "字" * 101, pdf()), 422, "description_too_long"),
        (student.post("/outcomes/tickets", json={"section_id": section["id"]}), 422, None),
        (other.upload(section["id"], "不是我的課", pdf()), 403, "not_enrolled"),
        (student.upload(str(uuid.uuid4()), "不存在的課", pdf()), 404, "not_found"),
        (requests.post(stack.gateway_url + "/api/v1/outcomes/tickets",
                       json={"section_id": section["id"], "description": "x"}), 401, "not_authenticated"),
    ]
    for resp, status, code in cases:
        assert resp.status_code == status, resp.text
        err = resp.json()["error"]
        assert err["message"] and err["message_zh"]
        if code:
            assert err["code"] == code
    after = listing()
    assert after == before, "a refused upload left an object behind"
    assert len(student.get("/outcomes").json()) == count_before


def test_semester_quota_of_six(stack, api):
    student = api("s_day04")
    section = student.section("程式設計實習")
    for i in range(6):
        assert student.upload(section["id"], f"第 {i + 1} 件", pdf()).status_code == 201
    eventually(lambda: len(student.get("/outcomes").json()) == 6)
    r = student.upload(section["id"], "第 7 件", pdf())
    assert (r.status_code, r.json()["error"]["code"]) == (409, "outcome_quota_exceeded")


def test_malformed_event_is_dead_lettered_not_dropped(stack):
    pub = amqp.PikaPublisher(stack.amqp_uri)
    try:
        pub.publish("files.events", events.OUTCOME_UPLOADED, {"event": "outcome-uploaded", "garbage": True})
        queues = [events.queue_name(e, s, m, src) for e, src, s, m in events.subscriptions()
                  if e == events.OUTCOME_UPLOADED]
        count = lambda q: pub.call(lambda ch: ch.queue_declare(amqp.dead_letter_queue(q), passive=True)  # noqa: E731
                                   .method.message_count)
        eventually(lambda: all(count(q) >= 1 for q in queues))
    finally:
        pub.close()


def test_openapi_document_and_portal_pages(stack, api):
    spec = requests.get(stack.gateway_url + "/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.") and {"/api/v1/outcomes", "/api/v1/certification/decisions",
                                                 "/api/v1/selections/{school_year}/lock"} <= set(spec["paths"])
    s = requests.Session()
    page = s.get(stack.gateway_url + "/login").text
    assert "登入" in page and 'lang="zh-Hant-TW"' in page
    # a form posted without its CSRF token is refused
    r = s.post(stack.gateway_url + "/login", data={"username": "s_day01", "password": "demo-pass-2026"})
    assert r.status_code == 400 and "表單已過期" in r.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = s.post(stack.gateway_url + "/login", data={"username": "s_day01", "password": "wrong", "csrf_token": token})
    assert r.status_code == 401 and "帳號或密碼錯誤" in r.text
    r = s.post(stack.gateway_url + "/login", data={"username": "s_day01", "password": "demo-pass-2026",
                                                   "csrf_token": token})
    assert r.status_code == 200 and "上傳課程學習成果" in r.text and "陳怡君" in r.text
    assert s.get(stack.gateway_url + "/certification").status_code == 403
    assert s.cookies.get("session") and "HttpOnly" in requests.get(stack.gateway_url + "/login").headers.get(
        "Set-Cookie", "HttpOnly")
