"""Transfer IMPORT (issue 9 item 8, the receiving side) against the running platform.

A student of 日間部 (class 151, tid01) with a performance and its proof and an autobiography is
exported with the existing export (reg_day); the same person is a student of 進修部 (class 151
of ce, tic01: the same national-ID sequence, letter B block 6). reg_ce uploads the zip to the
files service under a transfer ticket, previews it (verified: our own school's key), imports it;
the items are read only, labelled 轉入（原校 050407）, on the student's 我的紀錄, for the registrar and
the homeroom teacher; the proof downloads with its SHA-256; importing again changes nothing.
Bad packages (not a zip, edited manifest, changed evidence, another person's, a path outside the
package, a zip bomb) are refused with their codes and store nothing. Attackers: the other tenant's
registrar, a student, a teacher, a forged (re-signed) manifest."""
import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nameko.standalone.rpc import ClusterRpcProxy

from submission.transfer.usecases import TransferSigner
from tests.e2e.conftest import eventually, pdf, sha
from tests.support import uploads
from tests.support.callers import as_system
from tests.support.school import PASSWORD, add_class
from tests.reliability.burst import valid_national_ids

pytestmark = pytest.mark.slow
SUBJECT = "轉入檔案實作"


@pytest.fixture(scope="module")
def world(stack, api):
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        report = rpc.accounts.import_people(as_system("ce", "accounts"), [
            {"username": "tim_hr", "display_name": "轉入導師", "password": PASSWORD,
             "grants": [{"tenant": "ce", "role": "homeroom_teacher"}]}])
    assert not report["refused"], report
    day = add_class(stack, prefix="tid", class_code="151", subject=SUBJECT, n=2, nid_letter="B", nid_block=6)
    ce = add_class(stack, prefix="tic", class_code="151", subject=SUBJECT, n=4, nid_letter="B", nid_block=6,
                   tenant="ce", homeroom="tim_hr")
    origin = api(day[0])
    perf = origin.post("/performances", json={"kind": "work", "fields": {
        "name": "橋樑模型", "made_on": "2026-05-01", "description": "橋樑模型"}})
    assert perf.status_code == 201, perf.text
    proof = pdf()
    t = origin.post(f"/performances/{perf.json()['id']}/tickets")
    assert uploads.send_file(origin.s, t.json(), proof, "橋樑.pdf").status_code == 201
    eventually(lambda: [p for p in origin.get("/performances").json() if p.get("sha256") == sha(proof)], timeout=60)
    r = origin.put("/autobiography", json={"version": 0, "autobiography": "我在原校做了橋樑模型。", "career_plan": "土木",
                                            "expectations": "持續", "strengths": "耐心", "interests": "模型"})
    assert r.status_code in (200, 201), r.text
    reg_day, reg_ce = api("reg_day"), api("reg_ce")
    day_id = next(s["id"] for s in reg_day.get("/students").json() if s["student_no"] == "11515101")
    r = reg_day.get(f"/students/{day_id}/transfer-package")
    assert r.status_code == 200, r.text[:300]
    ce_students = {s["student_no"]: s["id"] for s in reg_ce.get("/students").json()}
    return {"zip": r.content, "proof": proof, "reg": reg_ce, "student": api(ce[0]), "other_student": api(ce[1]),
            "sid": ce_students["11515101"], "other_sid": ce_students["11515102"],
            "sealed_sid": ce_students["11515103"], "own_sid": ce_students["11515104"], "hr": api("tim_hr")}


def upload(client, student_id, data, name="轉學檔案.zip"):
    """The registrar's ticket, then the zip straight to the files service: (status, answer)."""
    t = client.post(f"/students/{student_id}/transfer-imports/tickets")
    assert t.status_code == 201, t.text
    r = uploads.send_file(client.s, t.json(), data, name)
    return r.status_code, r.json()


def imported(client, student_id=None):
    r = client.get(f"/students/{student_id}/transfer-imports" if student_id else "/me/transfer-imports")
    assert r.status_code == 200, r.text
    return r.json()["imports"]


def test_the_registrar_previews_then_imports_and_everyone_who_may_read_sees_it(stack, world, api):
    reg, sid = world["reg"], world["sid"]
    status, up = upload(reg, sid, world["zip"])
    assert status == 201 and up["kind"] == "transfer_package", up
    # the preview: verified (our own school's key), what it holds, the two students; nothing stored
    r = reg.post(f"/students/{sid}/transfer-imports/preview", json={"file_id": up["file_id"]})
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["origin"] == {"school_code": "050407", "tenant": "day"} and p["signature"]["verified"] is True
    assert p["counts"]["performances"] == 1 and p["counts"]["autobiography"] == 1 and p["evidence"] == 1
    assert p["theirs"]["student_no"] == "11515101" and p["ours"]["student_no"] == "11515101"
    assert p["package_sha256"] == sha(world["zip"]) and not p["already_imported"]
    assert "national_id" not in json.dumps(p) and valid_national_ids(1, "B", 6)[0] not in r.text
    assert imported(reg, sid) == []
    # confirm: stored once
    r = reg.post(f"/students/{sid}/transfer-imports", json={"file_id": up["file_id"]})
    assert r.status_code == 201, r.text
    assert r.json()["created"] and r.json()["evidence"] == 1
    (imp,) = imported(reg, sid)
    assert imp["origin_school_code"] == "050407" and imp["verified"] and imp["imported_by_username"] == "reg_ce"
    kinds = {i["kind"] for i in imp["items"]}
    assert {"performances", "autobiography"} <= kinds
    perf = next(i for i in imp["items"] if i["kind"] == "performances")["item"]
    assert perf["file"]["sha256"] == sha(world["proof"]) and perf["file"]["file_id"]
    # the same package again (even uploaded again): nothing changes
    status, up2 = upload(reg, sid, world["zip"])
    assert status == 201
    r = reg.post(f"/students/{sid}/transfer-imports", json={"file_id": up2["file_id"]})
    assert r.status_code == 200 and not r.json()["created"], r.text
    assert len(imported(reg, sid)) == 1
    # the student (我的紀錄), the homeroom teacher: read only, and the proof's bytes are the origin's
    for reader, path in ((world["student"], f"/me/transfer-imports/files/{perf['file']['file_id']}"),
                         (world["hr"], f"/students/{sid}/transfer-imports/files/{perf['file']['file_id']}"),
                         (reg, f"/students/{sid}/transfer-imports/files/{perf['file']['file_id']}")):
        mine = imported(reader, None if reader is world["student"] else sid)
        assert mine[0]["import_id"] == imp["import_id"]
        link = reader.get(path, params={"download": "true"}, allow_redirects=False)
        assert link.status_code == 302, link.text
        got = reader.s.get(link.headers["Location"], timeout=60)
        assert got.status_code == 200 and sha(got.content) == sha(world["proof"])
    # the portal's 我的紀錄 labels it
    page = portal(stack, world["student"].user["username"]).get(stack.gateway_url + "/me/records", timeout=60)
    assert "轉入（原校 050407）" in page.text and "橋樑模型" in page.text


def portal(stack, username):
    import requests
    s = requests.Session()
    r = s.get(stack.gateway_url + "/login", timeout=30)
    import re
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
    r = s.post(stack.gateway_url + "/login", data={"username": username, "password": PASSWORD,
                                                  "csrf_token": token}, timeout=30)
    assert r.status_code in (200, 302), r.text[:300]
    return s


def _rewrite(data, name, change):
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for n in src.namelist():
            dst.writestr(n, change(src.read(n)) if n == name else src.read(n))
    return out.getvalue()


def _with(data, name, content, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a", compression=compression) as zf:
        zf.writestr(name, content)
    return buf.getvalue()


def _evidence_path(data):
    return next(n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.startswith("evidence/"))


def test_bad_packages_are_refused_with_their_codes_and_nothing_is_stored(world):
    reg, sid, good = world["reg"], world["other_sid"], world["zip"]
    ev = _evidence_path(good)
    cases = [
        (_rewrite(good, "manifest.json", lambda b: b.replace(b'"version":1', b'"version":2')),
         "transfer_package_invalid"),
        (_rewrite(good, "manifest.json", lambda b: b.replace("11515101".encode(), "11515102".encode())),
         "transfer_signature_invalid"),
        (_rewrite(good, ev, lambda b: b[:-3] + b"EOF"), "transfer_file_mismatch"),
        (_with(good, "../../outside.pdf", b"%PDF-1.4"), "transfer_package_invalid"),
        (_with(good, "evidence/" + "0" * 64 + ".pdf", b"\0" * (40 * 1024 * 1024), zipfile.ZIP_DEFLATED),
         "transfer_package_invalid"),
        (good, "transfer_student_mismatch"),        # tic02 is another person
    ]
    for data, code in cases:
        status, up = upload(reg, sid, data)
        assert status == 201, up
        for path in ("/preview", ""):
            r = reg.post(f"/students/{sid}/transfer-imports{path}", json={"file_id": up["file_id"]})
            assert (r.status_code, r.json()["error"]["code"]) == (422, code), (code, r.text)
            assert r.json()["error"]["message_zh"]
        if code == "transfer_file_mismatch":
            assert ev in r.json()["error"]["message_zh"]
    assert imported(reg, sid) == []
    # not a zip at all, and a cut-off zip: the files service refuses the bytes themselves
    t = reg.post(f"/students/{sid}/transfer-imports/tickets").json()
    r = uploads.send_file(reg.s, t, pdf(), "package.zip")
    assert (r.status_code, r.json()["error"]["code"]) == (415, "file_type_refused")
    assert "ZIP" in r.json()["error"]["message_zh"]
    t = reg.post(f"/students/{sid}/transfer-imports/tickets").json()
    r = uploads.send_file(reg.s, t, good[:-40], "package.zip")
    assert (r.status_code, r.json()["error"]["code"]) == (422, "file_damaged")
    # over the size limit: refused from the declared length, before any byte (tus creation)
    t = reg.post(f"/students/{sid}/transfer-imports/tickets").json()
    assert t["max_bytes"] == 200 * 1024 * 1024
    r = reg.s.post(t["resumable_url"], timeout=60, headers={
        "Authorization": f"Bearer {t['files_token']}", "X-Upload-Ticket": t["ticket"], "Tus-Resumable": "1.0.0",
        "Upload-Length": str(t["max_bytes"] + 1)})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "file_too_large"), r.text
    assert "200 MB" in r.json()["error"]["message_zh"]


def test_a_forged_manifest_resigned_with_another_key_is_unverified_and_cannot_pass_for_ours(world):
    """An attacker edits the manifest and signs it with a key of their own: the package carries
    their key, so it opens, but only as unverified (never as our school's); one naming our key_id
    with another key fails its signature."""
    reg, sid = world["reg"], world["sid"]
    zf = zipfile.ZipFile(io.BytesIO(world["zip"]))
    manifest = json.loads(zf.read("manifest.json"))
    ours = json.loads(zf.read("manifest.sig"))
    forger = TransferSigner(Ed25519PrivateKey.generate(), "050407")
    from submission.sealing.domain import canonical
    manifest["origin"]["school_code"] = "050407"
    forged_sig = {"algorithm": "Ed25519", "key_id": forger.key_id, "public_key": forger.public_key,
                  "signature": forger.sign(manifest)}
    forged = _rewrite(world["zip"], "manifest.sig", lambda b: json.dumps(forged_sig).encode())
    status, up = upload(reg, sid, forged)
    r = reg.post(f"/students/{sid}/transfer-imports/preview", json={"file_id": up["file_id"]})
    assert r.status_code == 200 and r.json()["signature"]["verified"] is False, r.text
    assert canonical(manifest) == zf.read("manifest.json")
    # our key_id, the forger's key and signature: refused
    posing = dict(forged_sig, key_id=ours["key_id"])
    status, up = upload(reg, sid, _rewrite(world["zip"], "manifest.sig", lambda b: json.dumps(posing).encode()))
    r = reg.post(f"/students/{sid}/transfer-imports/preview", json={"file_id": up["file_id"]})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "transfer_signature_invalid"), r.text


def package_for(national_id) -> bytes:
    """Another school's package (built with the format's builder and a test key) for this person."""
    import contextlib
    import uuid
    from submission.transfer import package
    doc = pdf()
    export = {"student_id": str(uuid.uuid4()), "student_user_id": str(uuid.uuid4()), "school_years": [114],
              "profile": {"student_no": "X0004", "name": "轉入同學04", "birth_date": None, "gender": None,
                          "national_id": national_id, "class_name": "", "seat_no": None, "status": "enrolled",
                          "school_code": "099999"},
              "grades": [], "attendance": [], "activities": [], "competitions": [], "status_changes": [],
              "outcomes": [], "autobiography": [],
              "performances": [{"school_year": 114, "id": str(uuid.uuid4()), "kind": "work", "fields": {},
                                "description": "模型", "entered_by": "student", "state": "ready", "file_id": "f",
                                "sha256": sha(doc), "size": len(doc), "content_type": "application/pdf"}]}

    @contextlib.contextmanager
    def source(_):
        yield io.BytesIO(doc)
    out = io.BytesIO()
    package.build(out, export, origin={"school_code": "099999", "tenant": "ce"}, exported_at="2026-07-01T08:00:00+08:00",
                  exported_by="registrar", evidence=source, signer=TransferSigner(Ed25519PrivateKey.generate(), "099999"))
    return out.getvalue()


def test_no_one_else_imports_or_reads(world, api):
    """tic04's own import (a package of another school, unverified), then everyone else tries."""
    sid, reg = world["own_sid"], world["reg"]
    status, up = upload(reg, sid, package_for(valid_national_ids(4, "B", 6)[3]))
    r = reg.post(f"/students/{sid}/transfer-imports", json={"file_id": up["file_id"]})
    assert r.status_code in (200, 201), r.text
    # the other tenant's registrar: not their student (ticket, preview, import, list)
    other = api("reg_day")
    r = other.post(f"/students/{sid}/transfer-imports/tickets")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    for path in ("/preview", ""):
        r = other.post(f"/students/{sid}/transfer-imports{path}", json={"file_id": up["file_id"]})
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), r.text
    assert other.get(f"/students/{sid}/transfer-imports").status_code == 404
    # a student (even the one it is for) and a teacher: refused by the gates
    for who in (world["student"], api("t_wang"), world["hr"]):
        r = who.post(f"/students/{sid}/transfer-imports/tickets")
        assert (r.status_code, r.json()["error"]["code"]) == (403, "not_allowed"), r.text
        r = who.post(f"/students/{sid}/transfer-imports", json={"file_id": up["file_id"]})
        assert (r.status_code, r.json()["error"]["code"]) == (403, "not_allowed"), r.text
    # another student and a teacher who is not the homeroom teacher read nothing of it
    assert world["other_student"].get(f"/students/{sid}/transfer-imports").status_code == 404
    assert api("t_wang").get(f"/students/{sid}/transfer-imports").status_code == 404
    assert world["other_student"].get("/me/transfer-imports").json()["imports"] == []
    (imp,) = imported(reg, sid)
    fid = imp["files"][0]["file_id"]
    for who in (world["other_student"], api("reg_day")):
        r = who.get(f"/students/{sid}/transfer-imports/files/{fid}", allow_redirects=False)
        assert r.status_code == 404, r.text
    r = world["other_student"].get(f"/me/transfer-imports/files/{fid}", allow_redirects=False)
    assert r.status_code == 404
    # the uploaded package itself (it holds a national ID) is handed to no one but submission
    r = reg.get(f"/files/{up['file_id']}", allow_redirects=False)
    assert r.status_code == 404, r.text


def test_a_sealed_student_takes_no_import(stack, world):
    import datetime as dt
    reg, sid = world["reg"], world["sealed_sid"]
    status, up = upload(reg, sid, world["zip"])      # uploaded before the seal
    six_years_back = (dt.date.today() - dt.timedelta(days=6 * 366)).isoformat()
    assert reg.put(f"/sealing/students/{sid}", json={"applied_on": six_years_back}).status_code == 200
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        rpc.submission.run_sealing(as_system("ce", "submission"))

    def refused():
        r = reg.post(f"/students/{sid}/transfer-imports/tickets")
        return [r] if r.status_code != 201 else None
    (r,) = eventually(refused, timeout=120)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "student_sealed"), r.text
    r = reg.post(f"/students/{sid}/transfer-imports", json={"file_id": up["file_id"]})
    assert r.status_code in (403, 409), r.text


def test_the_portal_says_why_a_package_is_refused(stack, world):
    """The registrar's preview page of a refused package: the upload page again with the zh-TW
    sentence (422), never an error page, nothing stored."""
    import re
    reg, sid = world["reg"], world["other_sid"]
    status, up = upload(reg, sid, world["zip"])         # tic02 is another person than the package's
    s = portal(stack, "reg_ce")
    r = s.get(f"{stack.gateway_url}/students/{sid}/transfer-import/preview", params={"file": up["file_id"]}, timeout=60)
    assert r.status_code == 422, r.text[:300]
    assert 'data-code="transfer_student_mismatch"' in r.text and "不是這位學生的" in r.text
    assert 'id="upload"' in r.text                       # the form again, to choose the right file
    page = s.get(f"{stack.gateway_url}/students/{sid}/transfer-import", timeout=60)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text) or re.search(r'data-csrf="([^"]+)"', page.text)
    r = s.post(f"{stack.gateway_url}/students/{sid}/transfer-import", timeout=60,
               data={"file_id": up["file_id"], "csrf_token": token.group(1)})
    assert r.status_code == 422 and "不是這位學生的" in r.text, r.text[:300]
    assert imported(reg, sid) == []
