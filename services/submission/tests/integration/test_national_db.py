"""The national loop against a real PostgreSQL database and the simulator over real HTTP:
lock -> pre-check -> submit (rosters, package, adapter) -> receipt with a refused row -> the
student's rows and report -> correction -> resubmission; other tenants see nothing."""
import json
import socket
import threading
import uuid

import pytest
from werkzeug.serving import make_server

from portfolio_common import caller as caller_mod
from portfolio_common import events
from submission import usecases as selection
from submission.national import adapter, simulator, usecases

YEAR = 115


def who(role, uid=None, tenant="day"):
    return caller_mod.Caller(user_id=uid or str(uuid.uuid4()), username=role, tenant=tenant, roles=(role,))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """The simulator on its own port; its course-code file lacks C2."""
    codes = tmp_path_factory.mktemp("sim") / "codes.txt"
    codes.write_text("C1\n", encoding="utf-8")
    port = _free_port()
    server = make_server("127.0.0.1", port, simulator.create_app(str(codes)), threaded=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield {"endpoint": f"http://127.0.0.1:{port}", "codes": codes}
    server.shutdown()


@pytest.fixture
def world(service_db):
    db = service_db("submission")
    registrar = who("registrar")
    students, directory, chosen = [], {}, {}
    for n, (nid, code) in enumerate([("A123456789", "C1"), ("B123456780", "C2")], start=1):
        uid, sid = str(uuid.uuid4()), str(uuid.uuid4())
        env = events.load_event(events.CERTIFIED, events.make_event(events.CERTIFIED, "day", {
            "task_id": str(uuid.uuid4()), "outcome_id": str(uuid.uuid4()), "student_id": sid,
            "student_user_id": uid, "section_id": str(uuid.uuid4()), "school_year": YEAR, "semester": 1,
            "course_code": code, "subject_name": "程式設計", "description": "我的專題", "sha256": "a" * 64,
            "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": events.utcnow()}))
        oid = str(env["payload"]["outcome_id"])
        with db.uow() as uow:
            selection.record_certified(uow, env)
        chosen[who("student", uid)] = [oid]
        students.append(who("student", uid))
        directory[sid] = {"user_id": uid, "national_id": nid, "birth_date": "2010-03-05", "name": f"學生{n}", "class_name": "資一甲",
                          "seat_no": n, "outcomes": {oid: {"status": "certified", "size": 1000,
                                                           "content_type": "application/pdf", "grade_level": 1,
                                                           "credits": 2, "file_id": str(uuid.uuid4()),
                                                           "sha256": "a" * 64}}}
    # a student of the semester who selected nothing: records names them with the semester
    directory[str(uuid.uuid4())] = {"user_id": str(uuid.uuid4()), "national_id": "C123456781",
                                    "birth_date": "2010-04-01", "name": "學生3", "class_name": "資一甲",
                                    "seat_no": 3, "outcomes": {}}
    from submission.national.testing import select_consent_and_lock
    select_consent_and_lock(db, registrar, chosen, YEAR)
    return db, registrar, students, (lambda year, ids, semester=None: {
        k: v for k, v in directory.items() if k in ids or semester is not None})


def test_submit_receipt_report_correct_resubmit(world, national):
    db, registrar, students, directory = world
    gateway = adapter.NationalGateway(national["endpoint"])
    with db.uow() as uow:
        assert usecases.precheck(uow, directory, registrar, YEAR, 1)["ready"]
    with db.uow() as uow:
        batch = usecases.submit(uow, directory, gateway, registrar, YEAR, 1, "050407")
    # every roster's rows: three students' 學生資料 rows (the one who selected nothing too) and
    # one 課程學習成果 row accepted, the outcome with the course code the national side does not
    # know refused
    assert (batch["attempt"], batch["accepted"], batch["refused"]) == (1, 4, 1)
    stored = db.rows("national_rows")
    assert sorted((r["roster"], r["result"]) for r in stored) == [
        ("course_outcomes", "accepted"), ("course_outcomes", "refused"),
        ("student_data", "accepted"), ("student_data", "accepted"), ("student_data", "accepted")]
    assert [r["row_no"] for r in stored if r["seat_no"] == 3] == [4]
    assert {r["result"] for r in stored} == {"accepted", "refused"}
    # no national ID is kept anywhere in the service's tables
    dump = json.dumps([db.rows(t) for t in ("national_rows", "national_batches", "outbox")], default=str)
    assert "A123456789" not in dump and "B123456780" not in dump and "C123456781" not in dump
    outbox = [r["body"] for r in db.rows("outbox") if r["routing_key"] == events.NATIONAL_SUBMITTED]
    assert len(outbox) == 1 and outbox[0]["payload"]["receipt_id"] == batch["receipt_id"]

    with db.uow() as uow:
        mine = usecases.my_rows(uow, students[1], YEAR)["semesters"][0]
    assert mine["rows"][0]["result"] == "refused" and mine["rows"][0]["code"] == "course_code_unknown"
    with db.uow() as uow:
        report = usecases.report_row(uow, students[1], batch["batch_id"], "course_outcomes", 3, "代碼有誤")
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.report_row(uow, students[0], batch["batch_id"], "course_outcomes", 3, "別人的列")
    assert e.value.code == "not_found"
    with db.uow() as uow:
        usecases.resolve_report(uow, registrar, report["report_id"], "代碼已更正")
    assert db.rows("national_reports")[0]["resolved_by"] == uuid.UUID(registrar.user_id)

    national["codes"].write_text("C1\nC2\n", encoding="utf-8")   # the code was corrected nationally
    with db.uow() as uow:
        again = usecases.submit(uow, directory, gateway, registrar, YEAR, 1, "050407")
    assert (again["attempt"], again["refused"]) == (2, 0)
    with db.uow() as uow:
        assert usecases.my_rows(uow, students[1], YEAR)["semesters"][0]["rows"][0]["result"] == "accepted"
    with db.uow() as uow:
        assert usecases.list_batches(uow, who("registrar", tenant="ce"), YEAR)["batches"] == []
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.get_batch(uow, who("registrar", tenant="ce"), batch["batch_id"])
    assert e.value.code == "not_found"


def test_the_national_side_refuses_a_broken_package_and_nothing_is_recorded(world, national):
    import requests
    r = requests.post(f"{national['endpoint']}/packages", data=b"PK not a zip", timeout=10)
    assert r.status_code == 422 and r.json()["error"] == "package_invalid"
    db, registrar, students, directory = world
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.submit(uow, directory, adapter.NationalGateway("http://127.0.0.1:9"), registrar, YEAR, 1, "050407")
    assert e.value.code == "national_unavailable"
    assert db.rows("national_batches") == []
