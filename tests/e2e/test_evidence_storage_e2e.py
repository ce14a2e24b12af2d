"""Evidence storage end to end: the platform as the launcher starts it (SeaweedFS of its own,
its data under the stack's folder), driven over HTTP like a browser or an API client would."""
import hashlib
import io
import uuid

import pytest
import requests
from minio import Minio
from minio.error import S3Error

from tests.e2e.conftest import Api, eventually
from tests.support import evidence as ev
from tests.support import uploads
from tests.support.ids import RUN, SECRETS
from tests.support.stack import running_stack

pytestmark = pytest.mark.slow
MB = 1024 * 1024
SUBJECT = "儲存測試實習"


@pytest.fixture(scope="module")
def storage_class(stack):
    """Eight students of tenant `day` of their own (class 198), so these tests never meet the
    demo students' quota."""
    from tests.support.school import add_class
    return add_class(stack, prefix="stor", class_code="198", subject=SUBJECT, nid_letter="R")


def test_an_outcome_survives_down_and_up_with_its_bytes_and_fingerprint(tmp_path, pg_base_url, amqp_uri):
    """`make down` / `make up` on the same folder: SeaweedFS started by the stack itself, a tiny
    gateway body limit (no file passes through the gateway), data kept across the restart."""
    secrets = {k: v for k, v in SECRETS.items() if not k.startswith(("S3_", "FILES_S3_"))}
    data = ev.mp4_padded(ev.case("U04")[1], 6 * MB)  # far over the gateway's body limit
    with running_stack(tmp_path, name="restart", pg_base_url=pg_base_url, amqp_uri=amqp_uri,
                       s3_endpoint=None, secrets=secrets, run_id=RUN,
                       env_overrides={"gateway": {"GATEWAY_MAX_BODY_BYTES": str(256 * 1024)}},
                       keep_data=True) as stack:
        assert stack.running().keys() >= {"s3", "files", "gateway"}
        student = Api(stack.gateway_url, "s_day01")
        section = student.section("程式設計實習")
        r = student.upload(section["id"], "口頭報告影片", data, "口頭報告.mp4")
        assert r.status_code == 201, r.json()
        up = r.json()
        assert up["content_type"] == "video/mp4" and up["sha256"] == hashlib.sha256(data).hexdigest()
        eventually(lambda: student.get(f"/outcomes/{up['outcome_id']}").ok)
        # the gateway itself refuses a body this large: the upload above never went through it
        big = requests.post(stack.gateway_url + "/api/v1/outcomes/tickets", data=b"x" * (512 * 1024),
                            headers={"Authorization": student.s.headers["Authorization"],
                                     "Content-Type": "application/json"}, timeout=30)
        assert big.status_code == 413
        # files has its own S3 identity, limited to this stack's buckets
        files_env = stack.env_for("files")
        assert files_env["S3_ACCESS_KEY"] == stack.secrets["FILES_S3_ACCESS_KEY"]
        limited = Minio(stack.s3_endpoint, files_env["S3_ACCESS_KEY"], files_env["S3_SECRET_KEY"], secure=False)
        with pytest.raises(S3Error):
            limited.make_bucket(f"elsewhere-{uuid.uuid4().hex[:6]}")
        stopped = stack.stop()
        assert "s3" in stopped and not stack.running()

        stack.start()  # `make up` again on the same folder
        again = Api(stack.gateway_url, "s_day01")
        mine = again.get(f"/outcomes/{up['outcome_id']}").json()
        assert (mine["sha256"], mine["size"], mine["filename"]) == (up["sha256"], len(data), "口頭報告.mp4")
        body = again.get(f"/files/{up['file_id']}")
        assert body.status_code == 200 and hashlib.sha256(body.content).hexdigest() == up["sha256"]
        assert body.headers["X-Content-SHA256"] == up["sha256"]


def test_every_bad_input_is_refused_with_its_code_and_the_slot_comes_back(stack, api, storage_class):
    student = api("stor01")
    section = student.section(SUBJECT)
    kept = student.upload(section["id"], "先前的成果", ev.pdf(), "先前.pdf")
    assert kept.status_code == 201, kept.json()
    before = [o["id"] for o in eventually(lambda: student.get("/outcomes").json())]
    quota = lambda: student.get("/outcomes/quota?school_year=115&semester=1").json()  # noqa: E731
    cases = [
        (ev.case("U02")[1], "成果.pdf", 422, "file_empty"),
        (ev.EXE, "report.pdf", 415, "file_type_refused"),
        (ev.png(trailing=ev.zip_bytes()), "photo.png", 415, "file_type_refused"),
        (ev.mp4(2 * MB, lie=MB), "video.mp4", 422, "file_damaged"),
        (ev.pdf(5 * MB), "big.pdf", 413, "file_too_large"),
        (ev.pdf(), "../../etc/passwd", 422, "filename_invalid"),
        (ev.pdf(), "長" * 300 + ".pdf", 422, "filename_too_long"),
    ]
    for data, name, status, code in cases:
        r = student.upload(section["id"], f"壞檔 {code}", data, name)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), name
        assert r.json()["error"]["message_zh"]
    # every slot is back at once (records heard upload-refused), nothing else changed
    eventually(lambda: quota()["held"] == 0, timeout=20)
    assert quota()["left"] == 6 - len(before)
    assert [o["id"] for o in student.get("/outcomes").json()] == before


def test_accepted_media_kinds_and_idempotent_retry(stack, api, storage_class):
    student = api("stor02")
    section = student.section(SUBJECT)
    for name, data in (("口頭報告_短.mp4", ev.case("U04")[1]), ("報告_匯出.pdf", ev.case("U07")[1]),
                       ("口頭報告_長.mp4", ev.mp4_padded(ev.case("U04")[1], 6 * MB))):
        r = student.upload(section["id"], f"成果 {name}", data, name)
        assert r.status_code == 201, r.json()
    # a retry after a lost answer: same Idempotency-Key -> same ticket -> same stored file
    key = uuid.uuid4().hex
    data = ev.pdf()
    first = student.upload(section["id"], "重送", data, "a.pdf", idempotency_key=key)
    again = student.upload(section["id"], "重送", data, "a.pdf", idempotency_key=key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["file_id"] == first.json()["file_id"]


def test_tickets_of_others_expired_reused_and_other_tenant(stack, api, storage_class):
    owner, thief = api("stor03"), api("stor04")
    t = owner.ticket(owner.section(SUBJECT)["id"], "偷用的憑證").json()
    thief_token = thief.post("/files/token").json()["token"]
    stolen = uploads.send_file(requests.Session(), dict(t, files_token=thief_token), ev.pdf(), "a.pdf")
    assert (stolen.status_code, stolen.json()["error"]["code"]) == (403, "ticket_mismatch")
    assert uploads.send_file(requests.Session(), t, ev.pdf(), "a.pdf").status_code == 201  # the owner's is intact
    reused = uploads.send_file(requests.Session(), t, ev.pdf(), "b.pdf")
    assert (reused.status_code, reused.json()["error"]["code"]) == (409, "ticket_used")
    # a ce student cannot get a ticket for a day section
    day_section = owner.section(SUBJECT)
    r = api("s_ce02").ticket(day_section["id"], "跨部上傳")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


def test_download_is_redirected_to_files_with_safe_headers(stack, api, storage_class):
    student, classmate = api("stor05"), api("stor06")
    up = student.upload(student.section(SUBJECT)["id"], "下載測試", ev.pdf(50_000), "期末 報告.pdf").json()
    eventually(lambda: student.get(f"/outcomes/{up['outcome_id']}").ok)
    r = student.get(f"/files/{up['file_id']}", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith(stack.files_url + "/v1/files/")
    got = requests.get(r.headers["Location"], headers={"Range": "bytes=0-9"}, timeout=30)
    assert got.status_code == 206 and got.content.startswith(b"%PDF-1.4")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Security-Policy"].startswith("sandbox")
    assert "filename*=UTF-8''%E6%9C%9F%E6%9C%AB%20%E5%A0%B1%E5%91%8A.pdf" in got.headers["Content-Disposition"]
    assert classmate.get(f"/files/{up['file_id']}").status_code == 404


def test_files_listens_on_loopback_and_hides_its_metrics(stack):
    import psutil
    pid = stack.running()["files"]
    addrs = {c.laddr for p in [psutil.Process(pid), *psutil.Process(pid).children()]
             for c in p.net_connections("tcp") if c.status == "LISTEN"}
    assert addrs and all(a.ip == "127.0.0.1" for a in addrs), addrs
    assert requests.get(stack.files_url + "/metrics", timeout=10).status_code == 404
    m = requests.get(stack.files_url + "/metrics", timeout=10,
                     headers={"Authorization": f"Bearer {stack.secrets['FILES_METRICS_TOKEN']}"})
    assert m.status_code == 200 and "files_uploads_total" in m.text
