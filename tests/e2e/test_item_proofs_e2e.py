"""An in-school competition's proof file (issue 8 item 8) and every item's history (item 12)
through the gateway against real servers: the organising unit gets a ticket from records, sends
the bytes to the files service, `proof-uploaded` attaches the proof in records; the student, the
homeroom teacher of the student's class and the organising unit download it, nobody else (the
other student, the other tenant, the registrar, a forged grant); the item's history is read by
those who may read the item and by no one else."""
import uuid

import pytest
import requests

from tests.e2e.conftest import eventually, pdf, sha
from tests.support import uploads

pytestmark = pytest.mark.slow


def student_id(api, username):
    return api(username).get("/me/records").json()["student"]["id"]


def competition(api, sid):
    tag = uuid.uuid4().hex[:6]
    r = api("org_day").post("/records/competitions", json={
        "student_id": sid, "name": f"校內科展 {tag}", "content": "物理組：單擺的週期", "result": "第一名",
        "announced_on": "115/11/10"})
    assert r.status_code == 201, r.text
    return r.json()


def send_proof(api_client, item_id, data, filename="獎狀.pdf"):
    t = api_client.post(f"/records/competitions/{item_id}/proof-tickets")
    assert t.status_code == 201, t.text
    return t.json(), uploads.send_file(api_client.s, t.json(), data, filename)


def mine(api, item_id):
    return next((i for i in api("s_day01").get("/records/competitions").json() if i["id"] == item_id), None)


def test_the_organising_unit_uploads_a_proof_and_only_the_items_readers_download_it(api):
    item = competition(api, student_id(api, "s_day01"))
    assert mine(api, item["id"])["proof_file_id"] is None
    data = pdf()
    ticket, up = send_proof(api("org_day"), item["id"], data)
    assert up.status_code == 201, up.text
    assert ticket["attempt"] == 1 and up.json()["kind"] == "item_proof"
    got = eventually(lambda: (x := mine(api, item["id"])) and x["proof_file_id"] and x)
    assert (got["proof_filename"], got["proof_sha256"], got["version"]) == ("獎狀.pdf", sha(data), 1)
    # the student, the homeroom teacher of 101 and the organising unit: the bytes, through files
    for reader in ("s_day01", "t_wang", "org_day"):
        r = api(reader).get(f"/records/competitions/{item['id']}/proof")
        assert r.status_code == 200 and r.content == data, (reader, r.status_code)
        assert r.url.split("?")[0].endswith(f"/v1/files/{got['proof_file_id']}")
    # anyone else: not found, with the item's id or the file's (no registrar shortcut either)
    for outsider in ("s_day02", "t_chen", "reg_ce", "act_ce", "reg_day", "t_lin"):
        r = api(outsider).get(f"/records/competitions/{item['id']}/proof", allow_redirects=False)
        assert r.status_code in (403, 404), (outsider, r.status_code, r.text)
        r = api(outsider).get(f"/files/{got['proof_file_id']}", allow_redirects=False)
        assert r.status_code == 404, (outsider, r.status_code, r.text)
    # the homeroom teacher's grant is for them only: another signed-in user presenting it is refused
    grant_link = api("t_wang").get(f"/records/competitions/{item['id']}/proof", allow_redirects=False)
    assert grant_link.status_code == 302
    assert api("s_day02").get(f"/files/{got['proof_file_id']}", allow_redirects=False).status_code == 404


def test_a_later_proof_replaces_the_earlier_and_the_history_says_so(api):
    item = competition(api, student_id(api, "s_day01"))
    first, second = pdf(), pdf()
    assert send_proof(api("org_day"), item["id"], first)[1].status_code == 201
    eventually(lambda: (x := mine(api, item["id"])) and x["proof_sha256"] == sha(first))
    t, up = send_proof(api("org_day"), item["id"], second, "獎狀_更正.pdf")
    assert up.status_code == 201 and t["attempt"] == 2
    eventually(lambda: (x := mine(api, item["id"])) and x["proof_sha256"] == sha(second))
    assert api("s_day01").get(f"/records/competitions/{item['id']}/proof").content == second
    # the item's history: who, what, before -> after; void with its reason
    r = api("org_day").post(f"/records/competitions/{item['id']}/void", json={"version": 1, "reason": "名次誤植"})
    assert r.status_code == 200, r.text
    hist = api("s_day01").get(f"/records/competitions/{item['id']}/history")
    assert hist.status_code == 200, hist.text
    rows = hist.json()
    assert [h["action"] for h in rows] == ["created", "proof_attached", "proof_attached", "voided"]
    assert rows[0]["actor_username"] == "org_day" and rows[0]["after"]["result"] == "第一名"
    assert rows[2]["before"]["proof_filename"] == "獎狀.pdf" and rows[2]["after"]["proof_filename"] == "獎狀_更正.pdf"
    # each upload is the uploader's (proof-uploaded names them by user id), not 系統 (the consumer)
    org_id = api("org_day").user["user_id"]
    assert [(h["actor_user_id"], h["actor_username"]) for h in rows[1:3]] == [(org_id, "org_day")] * 2
    assert rows[3]["after"] == {"voided": True, "void_reason": "名次誤植"} and rows[3]["actor_username"] == "org_day"
    for reader in ("t_wang", "org_day"):
        assert api(reader).get(f"/records/competitions/{item['id']}/history").json() == rows
    for outsider in ("s_day02", "t_chen", "reg_ce", "t_lin", "counsel"):
        r = api(outsider).get(f"/records/competitions/{item['id']}/history")
        assert r.status_code in (403, 404) and item["id"] not in r.text, (outsider, r.status_code)
    # a voided competition takes no proof
    r = api("org_day").post(f"/records/competitions/{item['id']}/proof-tickets")
    assert r.status_code == 409 and r.json()["error"]["code"] == "item_voided"


def test_only_the_organising_unit_gets_a_ticket_and_a_ticket_is_its_own(api):
    item = competition(api, student_id(api, "s_day01"))
    for who in ("s_day01", "t_wang", "reg_day", "act_day"):
        r = api(who).post(f"/records/competitions/{item['id']}/proof-tickets")
        assert r.status_code == 403 and r.json()["error"]["code"] == "not_allowed", (who, r.text)
    r = api("act_ce").post(f"/records/competitions/{item['id']}/proof-tickets")
    assert r.status_code in (403, 404), r.text
    # a ticket is bound to the one who asked: the student cannot spend the unit's ticket
    t = api("org_day").post(f"/records/competitions/{item['id']}/proof-tickets").json()
    r = uploads.send_file(api("s_day01").s, dict(t, files_token=api("s_day01").post("/files/token").json()["token"]),
                          pdf(), "x.pdf")
    assert r.status_code == 403 and r.json()["error"]["code"] == "ticket_mismatch", r.text
    # a forged read grant does not open the file to anyone
    r = requests.post(t["upload_url"].rsplit("/v1/", 1)[0] + f"/v1/files/{uuid.uuid4()}/link",
                      json={"grant": "forged.grant"}, timeout=30,
                      headers={"X-Portfolio-Caller": api("s_day02").post("/files/token").json()["token"]})
    assert r.status_code in (401, 404), r.text
