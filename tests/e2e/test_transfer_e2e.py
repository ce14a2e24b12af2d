"""Transfer packages (issue 9 item 8) against the running platform: the registrar exports a
student's portfolio (profile, course outcome certified by the teacher, a performance with its
proof, the autobiography) as a `portfolio-transfer` zip; its manifest is valid against the
documented JSON Schema, every entry has its fingerprint, the evidence is the stored bytes, the
signature holds with the submission key; the student exports their own. Attackers: the other
tenant's registrar, another student, a teacher."""
import io
import json
import datetime as dt
import pathlib
import zipfile

import jsonschema
import pytest

from nameko.standalone.rpc import ClusterRpcProxy

from submission.transfer import package
from tests.support.callers import as_system
from tests.e2e.conftest import eventually, pdf, sha
from tests.support import uploads

pytestmark = pytest.mark.slow
SUBJECT = "轉學檔案實作"
SCHEMAS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.fixture(scope="module")
def world(stack, api):
    """Class 157 of its own: student 01 with a certified outcome, a performance with its proof
    and an autobiography; student 02 as the other student; student 03 to be sealed."""
    from tests.support.school import add_class
    names = add_class(stack, prefix="tpk", class_code="157", subject=SUBJECT, n=3, nid_letter="B", nid_block=4)
    student, teacher, reg = api(names[0]), api("t_wang"), api("reg_day")
    doc = pdf()
    up = student.upload(student.section(SUBJECT)["id"], "轉學前的期末專題", doc, "專題.pdf")
    assert up.status_code == 201, up.text
    oid = up.json()["outcome_id"]
    task = eventually(lambda: [t for t in teacher.get("/certification/tasks").json() if t["outcome_id"] == oid],
                      timeout=90)[0]
    r = teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [task["id"]]})
    assert r.json()["certified"] == [task["id"]], r.text
    eventually(lambda: student.get(f"/outcomes/{oid}").json()["status"] == "certified", timeout=90)
    perf = student.post("/performances", json={"kind": "work", "fields": {
        "name": "校園導覽模型", "made_on": "2026-05-01", "description": "校園導覽模型"}})
    assert perf.status_code == 201, perf.text
    proof = pdf()
    t = student.post(f"/performances/{perf.json()['id']}/tickets")
    assert uploads.send_file(student.s, t.json(), proof, "模型.pdf").status_code == 201
    eventually(lambda: [p for p in student.get("/performances").json()
                        if p["id"] == perf.json()["id"] and p.get("sha256") == sha(proof)])
    r = student.put("/autobiography", json={"version": 0, "autobiography": "我喜歡做模型。", "career_plan": "讀建築",
                                             "expectations": "做好每件作品", "strengths": "細心", "interests": "模型"})
    assert r.status_code in (200, 201), r.text
    student_id = next(s["id"] for s in reg.get("/students").json() if s["student_no"] == "11515701")
    return {"student": student, "other": api(names[1]), "reg": reg, "student_id": student_id, "doc": doc,
            "proof": proof, "outcome_id": oid}


def submission_key(stack):
    jwk = next(k for k in json.loads(stack.secrets["CALLER_PUBLIC_KEYS"])["keys"] if k["kid"] == "submission")
    return jwk["x"]


def test_the_registrar_exports_a_signed_package_that_matches_its_schema(stack, world, api):
    r = world["reg"].get(f"/students/{world['student_id']}/transfer-package")
    assert r.status_code == 200, r.text[:300]
    # the gateway answered a 303 to the files service, which kept the package and serves it
    (sent,) = r.history
    assert sent.status_code == 303 and sent.headers["Location"].startswith(stack.files_url + "/v1/downloads/")
    assert r.headers["Content-Type"] == "application/zip" and r.headers["Cache-Control"] == "no-store"
    assert sent.headers["X-Package-SHA256"] == sha(r.content) == r.headers["X-Content-SHA256"]
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    manifest = json.loads(zf.read("manifest.json"))
    jsonschema.validate(manifest, json.loads((SCHEMAS / "portfolio-transfer-1.schema.json").read_text()))
    sig = json.loads(zf.read("manifest.sig"))
    jsonschema.validate(sig, json.loads((SCHEMAS / "portfolio-transfer-1.signature.schema.json").read_text()))
    assert sig["key_id"] == sent.headers["X-Transfer-Key-Id"] and sig["public_key"] == submission_key(stack)
    assert manifest["origin"] == {"school_code": "050407", "tenant": "day"}
    assert manifest["exported_by"] == {"role": "registrar"}
    assert manifest["student"]["student_no"] == "11515701" and manifest["student"]["national_id"][0] == "B"
    # every entry's fingerprint, the evidence is the stored bytes, the signature holds with the known key
    opened = package.open_package(io.BytesIO(r.content), {sig["key_id"]: submission_key(stack)})
    assert opened["signature"]["verified"]
    paths = {f["path"] for f in manifest["files"]}
    assert zf.read(f"evidence/{sha(world['doc'])}.pdf") == world["doc"]
    assert zf.read(f"evidence/{sha(world['proof'])}.pdf") == world["proof"]
    assert {"records/profile.json", "records/course_outcomes.json", "records/performances.json",
            "records/autobiography.json", "records/course_grades.json"} <= paths
    outcome = next(o for o in opened["records"]["course_outcomes"] if o["outcome_id"] == world["outcome_id"])
    assert outcome["status"] == "certified" and outcome["course_code"] == "115050407H11Z0157"
    att = outcome["certification"]
    assert att["sha256"] == sha(world["doc"]) and att["certified_at"]
    assert att["certified_by"] == api("t_wang").user["user_id"]
    assert opened["records"]["autobiography"][0]["autobiography"] == "我喜歡做模型。"
    assert [p["file"]["sha256"] for p in opened["records"]["performances"]] == [sha(world["proof"])]


def test_the_student_exports_their_own_from_the_portal_and_the_api(stack, world):
    r = world["student"].get("/me/transfer-package")
    assert r.status_code == 200, r.text[:300]
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("manifest.json"))
    assert manifest["exported_by"] == {"role": "student"} and manifest["student"]["student_no"] == "11515701"


def test_no_one_else_gets_the_package(stack, world, api):
    sid = world["student_id"]
    # the other tenant's registrar: not their student
    r = api("reg_ce").get(f"/students/{sid}/transfer-package")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    # another student naming this one: answered like a missing one
    r = world["other"].get(f"/students/{sid}/transfer-package")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    # a teacher, of this student's section even: refused by the gate
    for who in ("t_wang", "t_chen"):
        r = api(who).get(f"/students/{sid}/transfer-package")
        assert (r.status_code, r.json()["error"]["code"]) == (403, "not_allowed"), who
        r = api(who).get("/me/transfer-package")
        assert (r.status_code, r.json()["error"]["code"]) == (403, "not_allowed"), who
    # a student id that is not a uuid
    r = world["reg"].get("/students/not-a-uuid/transfer-package")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


def test_a_sealed_student_is_not_exported(stack, world):
    reg = world["reg"]
    sid = next(s["id"] for s in reg.get("/students").json() if s["student_no"] == "11515703")
    six_years_back = (dt.date.today() - dt.timedelta(days=6 * 366)).isoformat()
    assert reg.put(f"/sealing/students/{sid}", json={"applied_on": six_years_back}).status_code == 200
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        rpc.submission.run_sealing(as_system("day", "submission"))
    eventually(lambda: reg.get(f"/sealing/students/{sid}").json()["sealed"], timeout=30)

    def refused():
        r = reg.get(f"/students/{sid}/transfer-package")
        return [r] if r.status_code != 200 else None   # a list: a 4xx Response is itself falsy
    (r,) = eventually(refused, timeout=120)  # records learns of the seal from the `sealed` event
    assert (r.status_code, r.json()["error"]["code"]) == (409, "student_sealed"), r.text[:300]
    assert "封存" in r.json()["error"]["message_zh"]
