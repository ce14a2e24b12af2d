"""The national loop end to end on its own stack (it locks day's 115): real processes, real
PostgreSQL, RabbitMQ and S3, the national simulator started by the launcher, all over HTTP.

lock -> pre-check (problems by student and row) -> correction in records -> submit -> receipt
with one refused row -> the student sees it and reports it -> the registrar records the
correction -> resubmission -> national-submitted published; and the attacker's refusals."""
import json

import pytest
import sqlalchemy as sa

from tests.e2e.conftest import Api, eventually, pdf
from tests.support.ids import SECRETS
from tests.support.school import add_class
from tests.support.stack import running_stack

YEAR = 115


@pytest.fixture(scope="module")
def world(tmp_path_factory, pg_base_url, amqp_uri, s3_endpoint, run_id):
    codes = tmp_path_factory.mktemp("national") / "course-codes.txt"
    # the national course-plan code file knows class N1's course, not N2's (yet)
    codes.write_text("115050407H11Z0N1\n", encoding="utf-8")
    with running_stack(tmp_path_factory.mktemp("stack"), name="national", pg_base_url=pg_base_url,
                       amqp_uri=amqp_uri, s3_endpoint=s3_endpoint, secrets=SECRETS, run_id=run_id,
                       env_overrides={"national-sim": {"NATIONAL_SIM_COURSE_CODES": str(codes)}}) as stack:
        add_class(stack, prefix="nat_a", class_code="N1", subject="國家甲班專題", n=1, nid_letter="N")
        add_class(stack, prefix="nat_b", class_code="N2", subject="國家乙班專題", n=1, nid_letter="M")
        yield stack, codes


def api_of(stack):
    cache = {}

    def make(username):
        if username not in cache:
            cache[username] = Api(stack.gateway_url, username)
        return cache[username]
    return make


def certify_and_select(api, username, subject):
    student, teacher = api(username), api("t_wang")
    up = student.upload(student.section(subject)["id"], f"{subject}成果", pdf()).json()
    task = eventually(lambda: [t for t in teacher.get("/certification/tasks").json()
                               if t["outcome_id"] == up["outcome_id"]])[0]
    assert teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [task["id"]]}).ok
    eventually(lambda: [c for c in student.get(f"/selections/{YEAR}").json()["candidates"]
                        if c["outcome_id"] == up["outcome_id"]])
    assert student.put(f"/selections/{YEAR}", json={"outcome_ids": [up["outcome_id"]]}).ok
    return up


def submission_outbox(stack):
    engine = sa.create_engine(stack.database_url("submission"))
    try:
        with engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(sa.text(
                "select routing_key, body, sent_at from outbox where routing_key = 'national-submitted'"))]
    finally:
        engine.dispose()


def test_lock_precheck_submit_receipt_report_correct_resubmit(world):
    stack, codes = world
    api = api_of(stack)
    registrar, a, b = api("reg_day"), api("nat_a01"), api("nat_b01")
    r = registrar.get(f"/national/{YEAR}/1/precheck")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_locked")

    certify_and_select(api, "nat_a01", "國家甲班專題")
    certify_and_select(api, "nat_b01", "國家乙班專題")
    assert registrar.post(f"/selections/{YEAR}/lock").status_code == 201

    # the pre-check names each student and row: no birth date in the school's records yet
    check = registrar.get(f"/national/{YEAR}/1/precheck").json()
    assert not check["ready"] and check["rows"] == 2
    problems = {(s["class_name"], s["seat_no"], p["row"], p["code"]) for s in check["by_student"] for p in s["problems"]}
    assert problems == {("國家乙班專題班", 1, 2, "birth_date_missing"), ("國家甲班專題班", 1, 3, "birth_date_missing")}
    r = registrar.post(f"/national/{YEAR}/1/submissions")
    assert (r.status_code, r.json()["error"]["code"]) == (422, "precheck_failed")
    assert registrar.get(f"/national/{YEAR}/submissions").json()["batches"] == []

    # the registrar corrects the profiles (records keeps who, when, before, after)
    for st in registrar.get("/students").json():
        if st["class_code"] in ("N1", "N2"):
            body = {"student_no": st["student_no"], "name": st["name"], "class_code": st["class_code"],
                    "seat_no": str(st["seat_no"]), "birth_date": "0990305", "version": st["version"]}
            r = registrar.put(f"/students/{st['id']}", json=body)
            assert r.status_code == 200, r.text
    assert registrar.get(f"/national/{YEAR}/1/precheck").json()["ready"]

    # submit: the simulator refuses N2's row (its course code is not in the national code file)
    r = registrar.post(f"/national/{YEAR}/1/submissions")
    assert r.status_code == 201, r.text
    batch = r.json()
    assert (batch["attempt"], batch["accepted"], batch["refused"]) == (1, 1, 1)
    assert batch["receipt_id"].startswith("050407-115-1-")
    detail = registrar.get(f"/national/submissions/{batch['batch_id']}").json()
    refused = [row for row in detail["rows"] if row["result"] == "refused"]
    assert [(row["class_name"], row["code"]) for row in refused] == [("國家乙班專題班", "course_code_unknown")]
    sent = eventually(lambda: [o for o in submission_outbox(stack) if o["sent_at"] is not None])
    assert sent[0]["body"]["payload"]["receipt_id"] == batch["receipt_id"]

    # the students see their own rows only; B reports the error; A cannot report B's row
    mine_a = a.get(f"/national/{YEAR}/my-rows").json()["semesters"][0]["rows"]
    assert [row["result"] for row in mine_a] == ["accepted"]
    (sem_b,) = b.get(f"/national/{YEAR}/my-rows").json()["semesters"]
    assert sem_b["can_report"] and sem_b["rows"][0]["result"] == "refused"
    assert sem_b["rows"][0]["reason"] == "課程代碼不在課程計畫平臺的代碼表中。"
    row_b = sem_b["rows"][0]["row"]
    r = a.post(f"/national/submissions/{batch['batch_id']}/rows/course_outcomes/{row_b}/reports",
               json={"message": "不是我的列"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = b.post(f"/national/submissions/{batch['batch_id']}/rows/course_outcomes/{row_b}/reports",
               json={"message": "課程代碼應已送課程計畫平臺"})
    assert r.status_code == 201, r.text
    (report,) = registrar.get(f"/national/{YEAR}/reports").json()["reports"]
    r = registrar.post(f"/national/reports/{report['report_id']}/resolution", json={"resolution": "已補登課程代碼"})
    assert r.json()["status"] == "corrected"

    # the course code is now in the national code file: resubmit, every row received
    codes.write_text("115050407H11Z0N1\n115050407H11Z0N2\n", encoding="utf-8")
    again = registrar.post(f"/national/{YEAR}/1/submissions").json()
    assert (again["attempt"], again["accepted"], again["refused"]) == (2, 2, 0)
    assert b.get(f"/national/{YEAR}/my-rows").json()["semesters"][0]["rows"][0]["result"] == "accepted"
    eventually(lambda: len([o for o in submission_outbox(stack) if o["sent_at"] is not None]) == 2)

    # the attacker's side: another tenant's registrar, a student on the registrar's API
    ce = api("reg_ce")
    r = ce.get(f"/national/submissions/{batch['batch_id']}")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    assert ce.get(f"/national/{YEAR}/submissions").json()["batches"] == []
    r = ce.post(f"/national/submissions/{batch['batch_id']}/receipt", json={"receipt": "{}"})
    assert r.status_code == 404
    for path in (f"/national/submissions/{batch['batch_id']}", f"/national/{YEAR}/reports"):
        r = b.get(path)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "not_allowed")
    assert b.post(f"/national/{YEAR}/1/submissions").status_code == 403
    r = registrar.get(f"/national/{YEAR}/my-rows")
    assert r.status_code == 403

    # a receipt file of another school is refused with its reason; nothing changes
    other = {"format": "national-receipt/1", "receipt_id": "999999-115-1-0001", "school_code": "999999",
             "school_year": YEAR, "semester": 1, "package_sha256": again["package_sha256"], "rows": []}
    r = registrar.post(f"/national/submissions/{again['batch_id']}/receipt", json={"receipt": json.dumps(other)})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "receipt_other_school")
    r = registrar.post(f"/national/submissions/{again['batch_id']}/receipt", json={"receipt": "not json"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "receipt_invalid")
