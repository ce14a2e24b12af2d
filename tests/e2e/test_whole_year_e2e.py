"""One tenant's whole year against real servers (issue 9 "Done when"), on a stack of its own (it
locks day's 115 and moves the clock): the calendar and an upload refused outside its window,
uploads inside it, certification, selection with consent, a lock refused outside the selection
window, pre-check, the lock (files holds the locked objects on the S3 server), rosters and
submission to the national simulator, the receipt, a student's error report, the correction
and the resubmission; then, the platform restarted five years on: sealing, a write refused in
every service's database, a refused delete of the sealed object on the real S3 server, a
refused download, and a read through a request two roles approved.

Class 168 (national-ID letter F); its course code is not in the simulator's code file at
first, so the national side refuses the rows until the registrar has it added."""
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from minio import Minio
from nameko.standalone.rpc import ClusterRpcProxy

from portfolio_common import caller as caller_mod
from portfolio_common.sealing import STUDENT_SEALED_SQLSTATE
from tests.e2e.conftest import eventually, pdf
from tests.e2e.test_calendar_e2e import put_term
from tests.support.callers import as_gateway, as_system
from tests.support.ids import S3_ADMIN, SECRETS
from tests.support.national import api_of, set_birth_dates, submission_outbox
from tests.support.school import add_class
from tests.support.stack import running_stack

pytestmark = pytest.mark.slow

YEAR = 115
CLASS, SUBJECT = "168", "全年專題"
CODE = f"115050407H11Z0{CLASS}"
FIVE_YEARS_S = 5 * 366 * 86400


@pytest.fixture(scope="module")
def world(tmp_path_factory, pg_base_url, amqp_uri, s3_endpoint, run_id):
    codes = tmp_path_factory.mktemp("national") / "course-codes.txt"
    codes.write_text("115050407H11Z0XXX\n", encoding="utf-8")
    with running_stack(tmp_path_factory.mktemp("stack"), name="year", pg_base_url=pg_base_url, amqp_uri=amqp_uri,
                       s3_endpoint=s3_endpoint, secrets=SECRETS, run_id=run_id,
                       env_overrides={"national-sim": {"NATIONAL_SIM_COURSE_CODES": str(codes)}}) as stack:
        names = add_class(stack, prefix="year", class_code=CLASS, subject=SUBJECT, n=2, nid_letter="F")
        yield stack, codes, names


def db_row(stack, service, sql, **params):
    engine = sa.create_engine(stack.database_url(service))
    try:
        with engine.connect() as c:
            return c.execute(sa.text(sql), params).first()
    finally:
        engine.dispose()


def held(admin, f) -> bool:
    """Whether the S3 server reports a legal hold on the file's version (SeaweedFS answers
    NoSuchObjectLegalHold for a version that never had one)."""
    from minio.error import S3Error
    try:
        return admin.is_object_legal_hold_enabled(f.bucket, f.key, version_id=f.version_id)
    except S3Error as exc:
        if exc.code == "NoSuchObjectLegalHold":
            return False
        raise


def test_a_tenants_whole_year(world):
    stack, codes, (name_a, name_b) = world
    api = api_of(stack)
    reg, teacher, a, b = api("reg_day"), api("t_wang"), api(name_a), api(name_b)
    section = a.section(SUBJECT)["id"]

    # --- calendar: the registrar closes the upload window; an upload is refused with its dates
    before = reg.get(f"/calendar/{YEAR}/1").json()
    today = dt.date.today()
    closed = put_term(stack, reg, "day", {"upload_opens_on": (today - dt.timedelta(days=20)).isoformat(),
                                          "upload_closes_on": (today - dt.timedelta(days=1)).isoformat()},
                      before["version"])
    r = a.post("/outcomes/tickets", json={"section_id": section, "description": "期限後上傳"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "window_closed"), r.text
    put_term(stack, reg, "day", {"upload_opens_on": before["upload"]["opens_on"],
                                 "upload_closes_on": before["upload"]["closes_on"]}, closed["version"])

    # --- uploads inside the window, certification, selection with consent
    ups = {}
    for who, student in ((name_a, a), (name_b, b)):
        ups[who] = student.upload(section, f"{SUBJECT}成果", pdf()).json()
    tasks = eventually(lambda: (lambda got: got if len(got) == 2 else None)(
        [t["id"] for t in teacher.get("/certification/tasks").json()
         if t["outcome_id"] in {u["outcome_id"] for u in ups.values()}]))
    assert teacher.post("/certification/decisions", json={"action": "certify", "task_ids": tasks}).ok
    for who, student in ((name_a, a), (name_b, b)):
        oid = ups[who]["outcome_id"]
        eventually(lambda: [c for c in student.get(f"/selections/{YEAR}").json()["candidates"] if c["outcome_id"] == oid])
        assert student.put(f"/selections/{YEAR}", json={"outcome_ids": [oid]}).ok
        wording = student.get(f"/selections/{YEAR}/consent").json()["wording"]["version"]
        assert student.put(f"/selections/{YEAR}/consent", json={"give": True, "wording_version": wording}).ok

    # --- a lock outside the selection window is refused; inside it, the lock holds the files
    now = reg.get(f"/calendar/{YEAR}/1").json()
    shut = put_term(stack, reg, "day", {"selection_opens_on": (today - dt.timedelta(days=20)).isoformat(),
                                        "selection_closes_on": (today - dt.timedelta(days=1)).isoformat()},
                    now["version"])
    r = reg.post(f"/selections/{YEAR}/lock", json={"scope": "class", "class_code": CLASS})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "window_closed"), r.text
    put_term(stack, reg, "day", {"selection_opens_on": now["selection"]["opens_on"],
                                 "selection_closes_on": now["selection"]["closes_on"]}, shut["version"])
    r = reg.get(f"/national/{YEAR}/1/precheck")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_locked")
    r = reg.post(f"/selections/{YEAR}/lock", json={"scope": "class", "class_code": CLASS})
    assert r.status_code == 201 and r.json()["held"] == 2, r.text
    admin = Minio(stack.s3_endpoint, *S3_ADMIN, secure=False)
    files = {}
    for who in (name_a, name_b):
        files[who] = db_row(stack, "files", "select id, bucket, key, version_id from stored_files where subject_id = :o",
                            o=ups[who]["outcome_id"])
        eventually(lambda: held(admin, files[who]), timeout=90)
    with pytest.raises(Exception):      # a locked object's version cannot be deleted
        admin.remove_object(files[name_a].bucket, files[name_a].key, version_id=files[name_a].version_id)

    # --- pre-check (birth dates missing), correction, rosters and submission to the simulator
    check = reg.get(f"/national/{YEAR}/1/precheck").json()
    assert not check["ready"]
    set_birth_dates(reg)        # every student of the semester is in the 學生資料名冊: all of them
    assert reg.get(f"/national/{YEAR}/1/precheck").json()["ready"]
    first = reg.post(f"/national/{YEAR}/1/submissions")
    assert first.status_code == 201, first.text
    first = first.json()
    # every roster goes, with every student of the semester: the six 學生資料 rows (class 168's two
    # and the demo school's four, who selected nothing), the demo's four absences and three
    # 幹部/服務/競賽 entries are accepted; the two outcomes' unknown course code refused
    assert (first["attempt"], first["accepted"], first["refused"]) == (1, 13, 2)

    # --- the receipt: a student sees the refused row and reports it; the registrar corrects
    (sem,) = b.get(f"/national/{YEAR}/my-rows").json()["semesters"]
    (outcome_row,) = [r for r in sem["rows"] if r["roster"] == "course_outcomes"]
    assert sem["can_report"] and outcome_row["result"] == "refused"
    r = b.post(f"/national/submissions/{first['batch_id']}/rows/course_outcomes/{outcome_row['row']}/reports",
               json={"message": "課程代碼應已送課程計畫平臺"})
    assert r.status_code == 201, r.text
    (report,) = reg.get(f"/national/{YEAR}/reports").json()["reports"]
    assert reg.post(f"/national/reports/{report['report_id']}/resolution",
                    json={"resolution": "已補登課程代碼"}).json()["status"] == "corrected"
    codes.write_text(f"{CODE}\n", encoding="utf-8")
    again = reg.post(f"/national/{YEAR}/1/submissions").json()
    assert (again["attempt"], again["accepted"], again["refused"]) == (2, 15, 0)
    eventually(lambda: len([o for o in submission_outbox(stack) if o["sent_at"] is not None]) == 2)

    # --- the application date; then five years on
    sid = next(s["id"] for s in reg.get("/students").json() if s["student_no"].startswith(f"115{CLASS}01"))
    assert reg.put(f"/sealing/students/{sid}", json={"applied_on": (today - dt.timedelta(days=1)).isoformat()}).ok
    processes = ["accounts", "records", "certification", "submission", "files", "gateway"]
    stack.stop(processes)
    stack.env_overrides["PORTFOLIO_CLOCK_OFFSET_SECONDS"] = str(FIVE_YEARS_S)
    stack.start(processes, timeout=180)
    api = api_of(stack)
    reg, a = api("reg_day"), api(name_a)
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=120) as rpc:
        # the hourly timer may have sealed the student as the restarted service came up
        rpc.submission.run_sealing(as_system("day", "submission"))
    assert eventually(lambda: reg.get(f"/sealing/students/{sid}").json()["sealed"], timeout=60)

    # --- a write refused in every service: through the API, and in each database
    r = a.post("/performances", json={"kind": "work", "fields": {"name": "再一件", "made_on": "2026-05-02",
                                                                  "description": "再一件"}})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "student_sealed"), r.text
    uid = a.user["user_id"]
    for service, sql in (
            ("records", "update students set name = 'x' where id = :s"),
            ("certification", "update tasks set status = 'pending' where student_id = :s"),
            ("files", "update stored_files set state = 'stored' where student_id = :s"),
            ("submission", "update student_selections set changed_at = now() where student_user_id = :u")):
        engine = sa.create_engine(stack.service_database_url(service))
        try:
            eventually(lambda: db_row(stack, service, "select 1 from sealed_students where student_id = :s", s=sid),
                       timeout=60)
            with pytest.raises(sa.exc.DBAPIError) as e, engine.begin() as c:
                c.execute(sa.text(sql), {"s": sid, "u": uid})
            assert e.value.orig.pgcode == STUDENT_SEALED_SQLSTATE, service
        finally:
            engine.dispose()

    # --- the sealed object on the real S3 server: COMPLIANCE retention, no delete, no download
    f = files[name_a]
    eventually(lambda: admin.stat_object(f.bucket, f.key, version_id=f.version_id)
               .metadata.get("x-amz-object-lock-mode") == "COMPLIANCE", timeout=60)
    with pytest.raises(Exception):
        admin.remove_object(f.bucket, f.key, version_id=f.version_id)
    r = a.get(f"/files/{f.id}", allow_redirects=False)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "sealed_read_required"), r.text
    r = a.get(f"/outcomes/{ups[name_a]['outcome_id']}")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "sealed_read_required"), r.text

    # --- the audited read: refused, then asked, approved by two roles, read and logged
    r = reg.get(f"/students/{sid}")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "sealed_read_required")
    rid = reg.post("/sealing/read-requests", json={"student_id": sid, "reason": "補發在校紀錄"}).json()["id"]
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        for role in ("principal", "executive_secretary"):
            who = caller_mod.Caller(user_id=str(uuid.uuid4()), username=f"{role}-year", tenant="day", roles=(role,))
            rpc.submission.approve_sealed_read(as_gateway(who, "submission"), rid)
    got = eventually(lambda: (lambda x: x if x.status_code == 200 else None)(reg.get(f"/students/{sid}")), timeout=60)
    assert got.json()["student_no"].startswith(f"115{CLASS}")
    assert db_row(stack, "records", "select count(*) from sealed_reads where student_id = :s", s=sid)[0] >= 1
