"""The national loop end to end on its own stack (it locks day's 115): real processes, real
PostgreSQL, RabbitMQ and S3, the national simulator started by the launcher, all over HTTP.

lock -> pre-check (problems by student and row) -> correction in records -> submit -> receipt
with one refused row -> the student sees it and reports it -> the registrar records the
correction -> resubmission -> national-submitted published; and the attacker's refusals."""
import hashlib
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook

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

    # the discipline section records A's absences: they go in the 缺勤紀錄名冊
    student_a = next(st for st in registrar.get("/students").json() if st["class_code"] == "N1")
    r = api("disc_day").post("/records/attendance", json={"student_id": student_a["id"], "school_year": "115",
                                                           "semester": "1", "absence_code": "02", "periods": "3"})
    assert r.status_code == 201, r.text

    # the pre-check names each student, sheet and row: no birth date in this module's students' records yet
    # every student of the semester is in the rosters, not only the two who selected something:
    # the demo school's four day students (no selection) have their 學生資料 rows, and their
    # absences (4) and 幹部/服務/競賽 entries (3) from deploy/demo/items.json
    check = registrar.get(f"/national/{YEAR}/1/precheck").json()
    assert not check["ready"] and check["rows"] == 16 and check["students"] == 6
    assert {x["roster"]: x["rows"] for x in check["rosters"]} == {
        "student_data": 6, "grades": 0, "attendance": 5, "course_outcomes": 2, "performances": 3}
    mine = ("國家甲班專題班", "國家乙班專題班")
    problems = {(s["class_name"], p["sheet"], p["code"]) for s in check["by_student"] for p in s["problems"]
                if s["class_name"] in mine}
    assert problems == {("國家乙班專題班", "course_outcomes", "birth_date_missing"),
                        ("國家甲班專題班", "course_outcomes", "birth_date_missing"),
                        ("國家乙班專題班", "student_data", "birth_date_missing"),
                        ("國家甲班專題班", "student_data", "birth_date_missing"),
                        ("國家甲班專題班", "attendance", "birth_date_missing")}
    # the demo school's students came with birth date and gender through the registrar's roster
    # import (deploy/demo): their rows pass, only the two classes made here lack a birth date
    demo = [s for s in check["by_student"] if s["class_name"] not in mine]
    assert demo == [], demo
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
    assert (batch["attempt"], batch["accepted"], batch["refused"]) == (1, 15, 1)
    # the package sent holds every roster and the two evidence PDFs, each in the manifest
    paths = {f["path"] for f in batch["files"]}
    assert {"rosters/學生資料名冊.xlsx", "rosters/缺勤紀錄名冊.xlsx", "rosters/課程學習成果名冊.xlsx",
            "rosters/學生成績名冊.xlsx", "rosters/多元表現名冊.xlsx", "evidence.jsonl"} <= paths
    assert len([f for f in batch["files"] if f.get("evidence")]) == 2
    assert batch["receipt_id"].startswith("050407-115-1-")
    detail = registrar.get(f"/national/submissions/{batch['batch_id']}").json()
    refused = [row for row in detail["rows"] if row["result"] == "refused"]
    assert [(row["class_name"], row["code"]) for row in refused] == [("國家乙班專題班", "course_code_unknown")]
    sent = eventually(lambda: [o for o in submission_outbox(stack) if o["sent_at"] is not None])
    assert sent[0]["body"]["payload"]["receipt_id"] == batch["receipt_id"]

    # the students see their own rows only; B reports the error; A cannot report B's row
    mine_a = a.get(f"/national/{YEAR}/my-rows").json()["semesters"][0]["rows"]
    assert sorted((row["roster"], row["result"]) for row in mine_a) == [
        ("attendance", "accepted"), ("course_outcomes", "accepted"), ("student_data", "accepted")]
    (sem_b,) = b.get(f"/national/{YEAR}/my-rows").json()["semesters"]
    (refused_b,) = [row for row in sem_b["rows"] if row["result"] == "refused"]
    assert sem_b["can_report"] and refused_b["roster"] == "course_outcomes"
    assert refused_b["reason"] == "課程代碼不在課程計畫平臺的代碼表中。"
    assert refused_b["roster_name"] == "課程學習成果名冊・學期課程學習成果"
    row_b = refused_b["row"]
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
    assert (again["attempt"], again["accepted"], again["refused"]) == (2, 16, 0)
    assert {row["result"] for row in b.get(f"/national/{YEAR}/my-rows").json()["semesters"][0]["rows"]} == {"accepted"}
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


def test_each_roster_and_the_package_download_with_the_evidence_bytes(world):
    """Runs after the loop above (same module stack: day's 115 locked, birth dates set)."""
    stack, _ = world
    api = api_of(stack)
    registrar = api("reg_day")
    r = registrar.get(f"/national/{YEAR}/1/rosters/student_data")
    assert r.status_code == 200, r.text
    # the gateway sent the registrar to files (a 303); files serves the roster it keeps for them
    assert [h.status_code for h in r.history] == [303]
    assert r.history[0].json()["sha256"] == hashlib.sha256(r.content).hexdigest()
    assert r.headers["Cache-Control"] == "no-store"
    assert "filename*=UTF-8''050407-115-1-%E5%AD%B8" in r.headers["Content-Disposition"]   # 學生資料名冊
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    assert wb.sheetnames == ["封面", "學生資料"]
    cover = {row[0]: row[1] for row in wb["封面"].iter_rows(values_only=True)}
    assert (cover["學校代碼"], cover["學年度"], cover["學期"], cover["名冊名稱"]) == ("050407", "115", "1", "學生資料名冊")
    header, *rows = list(wb["學生資料"].iter_rows(values_only=True))
    # every student of the semester: the two who selected and the demo school's four who did not
    assert header[:3] == ("身分證號", "性別代碼", "出生日期") and len(rows) == 6
    assert all(row[2] == "0990305" for row in rows)

    r = registrar.get(f"/national/{YEAR}/1/rosters/package")
    assert r.status_code == 200, r.text
    assert r.history[0].headers["X-Package-SHA256"] == r.headers["X-Content-SHA256"] == hashlib.sha256(r.content).hexdigest()
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    manifest = json.loads(zf.read("manifest.json"))
    for f in manifest["files"]:
        assert hashlib.sha256(zf.read(f["path"])).hexdigest() == f["sha256"], f["path"]
    evidence = [f for f in manifest["files"] if f.get("evidence")]
    assert len(evidence) == 2
    for f in evidence:
        data = zf.read(f["path"])
        assert data.startswith(b"%PDF") and f["path"] == f"evidence/{hashlib.sha256(data).hexdigest()}.pdf"

    r = registrar.get(f"/national/{YEAR}/1/rosters/nothing")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    # the attacker's side: a student, another tenant's registrar
    r = api("nat_a01").get(f"/national/{YEAR}/1/rosters/student_data")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "not_allowed")
    r = api("reg_ce").get(f"/national/{YEAR}/1/rosters/package")     # ce has locked nobody: nothing of day's
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_locked")
