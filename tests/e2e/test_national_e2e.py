"""The national loop end to end on its own stack (it locks day's 115): real processes, real
PostgreSQL, RabbitMQ and S3, the national simulator started by the launcher, all over HTTP.

lock -> pre-check (problems by student and row) -> correction in records -> submit -> receipt
with one refused row -> the student sees it and reports it -> the registrar records the
correction -> resubmission -> national-submitted published; and the attacker's refusals."""
import json

import pytest

from tests.e2e.conftest import eventually
from tests.support.national import (CODE_N1, CODE_N2, SUBJECT_N1, SUBJECT_N2, YEAR, api_of, certify_and_select,
                                    national_stack, set_birth_dates, submission_outbox)


@pytest.fixture(scope="module")
def world(tmp_path_factory, pg_base_url, amqp_uri, s3_endpoint, run_id):
    with national_stack(tmp_path_factory, "national", pg_base_url=pg_base_url, amqp_uri=amqp_uri,
                        s3_endpoint=s3_endpoint, run_id=run_id) as w:
        yield w


def test_lock_precheck_submit_receipt_report_correct_resubmit(world):
    stack, codes = world
    api = api_of(stack)
    registrar, a, b = api("reg_day"), api("nat_a01"), api("nat_b01")
    r = registrar.get(f"/national/{YEAR}/1/precheck")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_locked")

    certify_and_select(api, "nat_a01", SUBJECT_N1)
    certify_and_select(api, "nat_b01", SUBJECT_N2)
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
    set_birth_dates(registrar)
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
    codes.write_text(f"{CODE_N1}\n{CODE_N2}\n", encoding="utf-8")
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
