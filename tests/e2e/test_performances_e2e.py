"""Student performances (多元表現, issue 8 item 9) end to end: recorded through the gateway, the
proof's bytes straight to the files service, performance-uploaded back in records, read by the
student, their homeroom teacher and the registrar, and by no one else."""
import uuid

from tests.e2e.conftest import eventually, pdf, sha
from tests.support import uploads

COMPETITION = {"name": "全國技能競賽", "event": "網頁設計", "level_code": "3", "award": "佳作",
               "announced_on": "1151120"}


def record(api_client, kind="competition", fields=None, **extra):
    tag = uuid.uuid4().hex[:6]
    body = {"kind": kind, "fields": dict(fields or COMPETITION, description=f"技能競賽 佳作 {tag}")} | extra
    return api_client.post("/performances", json=body)


def proof(api_client, performance_id, content, filename="獎狀.pdf"):
    t = api_client.post(f"/performances/{performance_id}/tickets")
    assert t.status_code == 201, t.text
    return uploads.send_file(api_client.s, t.json(), content, filename)


def mine(api_client, pid, student_id=None):
    params = {"student_id": student_id} if student_id else {}
    return next((p for p in api_client.get("/performances", params=params).json() if p["id"] == pid), None)


def test_a_student_records_a_performance_and_its_proof_arrives_through_the_files_service(api):
    student = api("s_day01")
    r = record(student)
    assert r.status_code == 201, r.text
    p = r.json()
    assert (p["state"], p["entered_by"], p["counts_toward_selection"], p["school_year"]) == \
        ("proof_missing", "student", True, 115)
    assert p["fields"]["announced_on"] == "2026-11-20"
    data = pdf()
    up = proof(student, p["id"], data)
    assert up.status_code == 201, up.text
    ready = eventually(lambda: (x := mine(student, p["id"])) and x["state"] == "ready" and x)
    assert (ready["sha256"], ready["filename"]) == (sha(data), "獎狀.pdf")
    body = student.get(f"/files/{ready['file_id']}")
    assert body.status_code == 200 and body.content == data
    # every change is in the student's attributable history
    history = api("reg_day").get(f"/students/{p['student_id']}/history").json()
    actions = [h["action"] for h in history if h.get("entity") == "performance" and h.get("entity_id") == p["id"]]
    assert actions == ["created", "proof_attached"], history[-3:]


def test_the_homeroom_teacher_and_registrar_read_it_and_no_one_else_does(api):
    student = api("s_day01")
    p = record(student).json()
    sid = p["student_id"]
    assert mine(api("t_wang"), p["id"], sid)["description"] == p["description"]      # homeroom of 101
    assert mine(api("reg_day"), p["id"], sid)["state"] == "proof_missing"
    # a subject teacher has no reading role at all; the rest read it as not found
    assert api("t_lin").get("/performances", params={"student_id": sid}).status_code == 403
    for outsider in ("t_chen", "s_day02", "reg_ce"):   # another tenant's homeroom teacher, another student
        r = api(outsider).get("/performances", params={"student_id": sid})
        assert r.status_code == 404, (outsider, r.status_code, r.text)
    # another student can neither get a ticket for it nor void it
    other = api("s_day02")
    assert other.post(f"/performances/{p['id']}/tickets").status_code == 404
    assert other.post(f"/performances/{p['id']}/void", json={"version": 1, "reason": "x"}).status_code == 404
    assert mine(student, p["id"])["state"] == "proof_missing"


def test_the_school_records_an_external_licence_that_does_not_count_toward_the_ten(api):
    sid = record(api("s_day01")).json()["student_id"]
    reg = api("reg_day")
    r = reg.post("/performances", json={"kind": "licence", "student_id": sid, "entered_by": "external", "fields": {
        "licence_code": "17200", "obtained_on": "115/10/02", "description": "電腦軟體應用丙級"}})
    assert r.status_code == 201, r.text
    lic = r.json()
    assert (lic["entered_by"], lic["counts_toward_selection"]) == ("external", False)
    up = proof(reg, lic["id"], pdf(), "證照.pdf")
    assert up.status_code == 201, up.text
    assert eventually(lambda: mine(api("s_day01"), lic["id"])["state"] == "ready")
    # the student sees it but may not void what the school entered
    r = api("s_day01").post(f"/performances/{lic['id']}/void", json={"version": lic["version"], "reason": "不是我的"})
    assert r.status_code == 404
    # the other division's registrar cannot enter one for this student
    r = api("reg_ce").post("/performances", json={"kind": "licence", "student_id": sid, "entered_by": "external",
                                                  "fields": {"licence_code": "1", "obtained_on": "1151002",
                                                             "description": "x"}})
    assert r.status_code == 404


def test_bad_fields_are_named_and_nothing_is_stored(api):
    student = api("s_day01")
    before = len(student.get("/performances").json())
    r = record(student, fields={"name": "", "level_code": "三級", "announced_on": "1150231"})
    assert r.status_code == 422
    fields = r.json()["error"]["fields"]["record"]
    assert set(fields) == {"name", "level_code", "announced_on"}
    assert all(p[0]["message_zh"] for p in fields.values())
    assert len(student.get("/performances").json()) == before
    assert student.post("/performances", json={"kind": "cadre", "fields": {}}).status_code == 422


def test_a_voided_performance_stays_with_its_reason_and_takes_no_proof(api):
    student = api("s_day01")
    p = record(student).json()
    stale = student.post(f"/performances/{p['id']}/void", json={"version": p["version"] + 5, "reason": "重複"})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_record"
    r = student.post(f"/performances/{p['id']}/void", json={"version": p["version"], "reason": "重複登錄"})
    assert r.status_code == 200 and r.json()["state"] == "voided"
    t = student.post(f"/performances/{p['id']}/tickets")
    assert t.status_code == 409 and t.json()["error"]["code"] == "performance_voided"
    assert mine(student, p["id"])["void_reason"] == "重複登錄"


def test_the_organising_unit_imports_a_licence_centres_list(api):
    """A licence centre's list in Big5 with ROC dates and ="..." numbers, through the one import flow:
    nothing written while a row is refused, then written, the same file twice changes nothing; the
    student sees them (not counted toward the 10, proof still to upload); the proof goes through
    the same ticket as a form's."""
    org = api("org_day")
    tag = uuid.uuid4().hex[:6].upper()
    head = "學號,來源,證照代碼,分數,取得證照日期,證照字號,檢定組別,內容簡述\n"
    good = (head + f'="1150001",校外機構,17200,92,115/10/20,{tag}01,乙級,網頁設計乙級技術士\n'
                   f'="1150002",校外機構,17200,88,1151020,{tag}02,乙級,網頁設計乙級技術士\n')
    bad = good + f'N1150001,校外機構,17200,90,115/02/30,{tag}03,乙級,網頁設計乙級\n'

    def send(text, dry_run, basis=None):
        form = {"dry_run": "true" if dry_run else "false"} | ({"basis": basis} if basis else {})
        return org.post("/imports/performance_licence", data=form,
                        files={"file": ("證照名單.csv", text.encode("big5"), "text/csv")})

    r = send(bad, False)
    assert r.status_code == 200 and not r.json()["written"], r.text
    assert {(p["row"], p["column"], p["code"]) for p in r.json()["problems"]} >= {
        (4, "obtained_on", "date_impossible")}
    preview = send(good, True)
    assert not preview.json()["problems"], preview.text
    done = send(good, False, preview.json()["basis"])
    assert done.json()["written"] and done.json()["summary"]["created"] == 2, done.text
    assert send(good, False).json()["summary"] == {"created": 0, "updated": 0, "unchanged": 2}
    (lic,) = [p for p in api("s_day01").get("/performances").json() if p["fields"].get("licence_no") == f"{tag}01"]
    assert (lic["entered_by"], lic["counts_toward_selection"], lic["state"]) == ("external", False, "proof_missing")
    assert lic["fields"]["obtained_on"] == "2026-10-20" and lic["school_year"] == 115
    up = proof(org, lic["id"], pdf(), "證照.pdf")
    assert up.status_code == 201, up.text
    assert eventually(lambda: mine(api("s_day01"), lic["id"])["state"] == "ready")
    # a student, a teacher, another unit: not allowed; the other tenant's unit finds no such student
    for who in ("s_day01", "t_wang", "disc_day"):
        r = api(who).post("/imports/performance_licence", data={"dry_run": "true"},
                          files={"file": ("a.csv", good.encode("big5"), "text/csv")})
        assert r.status_code == 403, (who, r.status_code)
    r = api("reg_ce").post("/imports/performance_licence", data={"dry_run": "true"},
                           files={"file": ("a.csv", good.encode("big5"), "text/csv")})
    assert {p["code"] for p in r.json()["problems"]} == {"student_unknown"}
