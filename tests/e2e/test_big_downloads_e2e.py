"""Large downloads through files (issue 9) on a stack of its own, all real processes over HTTP:
a transfer package larger than the old 48 MB ceiling of one RPC answer (the student's 50 MB
video, allowed by this school year's upload limits: UPLOAD_LIMITS, configuration the platform
has anyway) is built by submission, kept by files, and downloaded whole with the right SHA-256;
the gateway only answers a 303 to files. Attackers: the other tenant's registrar, another
student, a ticket of another download (the other tenant's), a replayed, an expired and a forged
ticket.

Its own stack: the upload limit is the files process's configuration (the session stack keeps
the national 10 MB)."""
import hashlib
import io
import json
import uuid
import zipfile

import pytest
import requests

from portfolio_common import signing
from tests.e2e.conftest import eventually
from tests.support import evidence as ev
from tests.support.national import api_of
from tests.support.school import add_class
from tests.support.stack import running_stack
from tests.support.ids import SECRETS

pytestmark = pytest.mark.slow
SUBJECT = "大檔下載實作"
MB = 1024 * 1024
BIG = 50 * MB          # over the old 48 MB ceiling on its own
LIMITS = {"default": {"media": {"types": ["mp3", "mp4"], "max_bytes": 60 * MB}}}


@pytest.fixture(scope="module")
def world(tmp_path_factory, pg_base_url, amqp_uri, s3_endpoint, run_id):
    with running_stack(tmp_path_factory.mktemp("stack"), name="bigdl", pg_base_url=pg_base_url, amqp_uri=amqp_uri,
                       s3_endpoint=s3_endpoint, secrets=SECRETS, run_id=run_id,
                       env_overrides={"files": {"UPLOAD_LIMITS": json.dumps(LIMITS)}}) as stack:
        api = api_of(stack)
        names = add_class(stack, prefix="bigdl", class_code="153", subject=SUBJECT, n=2, nid_letter="B", nid_block=7)
        student, teacher = api(names[0]), api("t_wang")
        video = ev.mp4(BIG)
        up = student.upload(student.section(SUBJECT)["id"], "期末專題影片", video, "專題影片.mp4", slot="media")
        assert up.status_code == 201, up.text
        oid = up.json()["outcome_id"]
        task = eventually(lambda: [t for t in teacher.get("/certification/tasks").json() if t["outcome_id"] == oid],
                          timeout=90)[0]
        r = teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [task["id"]]})
        assert r.json()["certified"] == [task["id"]], r.text
        eventually(lambda: student.get(f"/outcomes/{oid}").json()["status"] == "certified", timeout=90)
        reg = api("reg_day")
        sid = next(s["id"] for s in reg.get("/students").json() if s["student_no"] == "11515301")
        yield {"stack": stack, "api": api, "student": student, "other": api(names[1]), "reg": reg,
               "student_id": sid, "video": video}


def no_follow(client, path):
    return client.s.get(client.base + path, allow_redirects=False, timeout=600)


def test_a_package_over_the_old_ceiling_downloads_whole_and_the_gateway_only_redirects(world):
    stack, reg = world["stack"], world["reg"]
    r = no_follow(reg, f"/students/{world['student_id']}/transfer-package")
    # the gateway's answer: a 303 to the files service and the metadata, no byte of the package
    assert r.status_code == 303, r.text[:300]
    assert len(r.content) < 2000 and r.headers["Cache-Control"] == "no-store"
    meta = r.json()
    assert r.headers["Location"] == meta["download_url"] and meta["download_url"].startswith(stack.files_url + "/")
    assert meta["size"] > 48 * MB and meta["sha256"] == r.headers["X-Package-SHA256"]
    assert meta["expires_in"] <= 60 and meta["key_id"] == r.headers["X-Transfer-Key-Id"]
    assert meta["filename"] == "050407-11515301-transfer.zip"

    got = requests.get(meta["download_url"], stream=True, timeout=600)      # no session, no token: the ticket
    assert got.status_code == 200
    assert got.headers["Content-Length"] == str(meta["size"]) and got.headers["Cache-Control"] == "no-store"
    assert got.headers["Content-Type"] == "application/zip"
    assert "filename*=UTF-8''050407-11515301-transfer.zip" in got.headers["Content-Disposition"]
    h, buf = hashlib.sha256(), io.BytesIO()
    for chunk in got.iter_content(1024 * 1024):
        h.update(chunk)
        buf.write(chunk)
    assert h.hexdigest() == meta["sha256"] and buf.tell() == meta["size"]
    zf = zipfile.ZipFile(buf)
    video_sha = hashlib.sha256(world["video"]).hexdigest()
    assert zf.read(f"evidence/{video_sha}.mp4") == world["video"]

    # the same link again: spent
    again = requests.get(meta["download_url"], timeout=60)
    assert (again.status_code, again.json()["error"]["code"]) == (403, "link_used")
    assert "已經用過" in again.json()["error"]["message_zh"]
    # a fresh link for the same package within the day, without building it again
    r2 = no_follow(reg, f"/downloads/{meta['download_id']}")
    assert r2.status_code == 303 and r2.json()["sha256"] == meta["sha256"]
    assert r2.headers["Location"] != meta["download_url"]


def test_an_api_client_that_follows_the_redirect_gets_the_file(world):
    r = world["student"].get("/me/transfer-package")          # requests follows the 303 (without its token)
    assert r.status_code == 200 and r.history and r.history[0].status_code == 303
    assert hashlib.sha256(r.content).hexdigest() == r.history[0].json()["sha256"]
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("manifest.json"))
    assert manifest["exported_by"] == {"role": "student"} and manifest["student"]["student_no"] == "11515301"


def test_no_one_else_gets_a_link_or_the_bytes(world):
    api, stack = world["api"], world["stack"]
    # its own two downloads (the registrar's and the student's), not the tests above: no skip,
    # no order between tests
    reg_r = no_follow(world["reg"], f"/students/{world['student_id']}/transfer-package")
    student_r = no_follow(world["student"], "/me/transfer-package")
    assert reg_r.status_code == 303 and student_r.status_code == 303, (reg_r.text[:200], student_r.text[:200])
    reg_dl, student_dl = reg_r.json(), student_r.json()
    # the other tenant's registrar, another student, a teacher: the same answer as a missing id
    for who, dl in (("reg_ce", reg_dl), ("t_wang", reg_dl), ("reg_day", student_dl)):
        r = no_follow(api(who), f"/downloads/{dl['download_id']}")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), who
    r = no_follow(world["other"], f"/downloads/{student_dl['download_id']}")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = no_follow(world["other"], f"/students/{world['student_id']}/transfer-package")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = no_follow(world["reg"], f"/downloads/{uuid.uuid4()}")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")

    # the other tenant's registrar's own ticket (their own student's package) on this download
    ce = api("reg_ce")
    ce_student = ce.get("/students").json()[0]["id"]
    ce_link = no_follow(ce, f"/students/{ce_student}/transfer-package")
    assert ce_link.status_code == 303, ce_link.text[:300]
    ce_ticket = ce_link.headers["Location"].split("ticket=")[1]
    r = requests.get(f"{stack.files_url}/v1/downloads/{reg_dl['download_id']}?ticket={ce_ticket}", timeout=60)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "link_invalid")

    # forged: this download's claims signed with a key that is not files'; a tampered ticket
    claims = {"download_id": reg_dl["download_id"], "tenant": "day", "user_id": world["reg"].user["user_id"],
              "ticket_id": str(uuid.uuid4())}
    forged = signing.sign(claims, "guessed-key", ttl=60, purpose="package-download")
    r = requests.get(f"{stack.files_url}/v1/downloads/{reg_dl['download_id']}?ticket={forged}", timeout=60)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "link_invalid")
    fresh = no_follow(world["reg"], f"/downloads/{reg_dl['download_id']}").headers["Location"]
    payload, mac = fresh.split("ticket=")[1].split(".")
    r = requests.get(fresh.split("ticket=")[0] + f"ticket={payload}.{mac[:-3]}AAA", timeout=60)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "link_invalid")
    # expired: a ticket files itself would sign (its key), 60 s over
    late = signing.sign(claims, stack.secrets["FILES_LINK_KEY"], ttl=-61, purpose="package-download")
    r = requests.get(f"{stack.files_url}/v1/downloads/{reg_dl['download_id']}?ticket={late}", timeout=60)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "link_invalid")
    assert "過期" in r.json()["error"]["message_zh"]
    # the untouched fresh link still serves the one it was made for (the refusals spent nothing)
    ok = requests.get(fresh, stream=True, timeout=600)
    assert ok.status_code == 200 and ok.headers["X-Content-SHA256"] == reg_dl["sha256"]
    ok.close()
