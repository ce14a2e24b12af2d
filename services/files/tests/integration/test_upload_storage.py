"""The files service over HTTP (Flask's client) against real PostgreSQL, RabbitMQ and S3
(SeaweedFS): what is stored, what is refused, and that a refusal leaves nothing behind and
writes `upload-refused` so records frees the quota slot. Tickets are minted here as records
mints them (TICKET_KEY), callers as the gateway signs them (tests.support.callers: Ed25519,
audience `files`)."""
import base64
import datetime as dt
import hashlib
import io
import os
import time
import uuid

import pytest
from minio import Minio
from minio.error import S3Error

from files import usecases
from files.app import create_app
from files.repository import SqlFileRepository
from files.verify import verify_tenant
from portfolio_common import caller as caller_mod
from portfolio_common import events, signing
from tests.support import evidence as ev
from tests.support import servers
from tests.support.callers import as_gateway
from tests.support.ids import BUCKET_PREFIX, S3_ADMIN, S3_FILES, SECRETS

MB = 1024 * 1024
PORTAL = "http://127.0.0.1:18080"


class Student:
    def __init__(self, tenant="day"):
        self.user_id, self.student_id, self.tenant = str(uuid.uuid4()), str(uuid.uuid4()), tenant

    def caller(self, roles=("student",)):
        return caller_mod.Caller(user_id=self.user_id, username="s", tenant=self.tenant, roles=roles)

    def token(self):
        return as_gateway(self.caller(), "files")

    def ticket(self, kind="outcome", ttl=900, key=None, **over):
        claims = {"kind": kind, "tenant": self.tenant, "student_id": self.student_id,
                  "student_user_id": self.user_id, "school_year": 115, "description": "期末專題：記帳程式"}
        if kind == "outcome":
            claims.update(outcome_id=str(uuid.uuid4()), section_id=str(uuid.uuid4()),
                          teacher_user_id=str(uuid.uuid4()), semester=1, course_code="115050407H11A0101",
                          subject_name="程式設計實習")
        else:
            claims.update(performance_id=str(uuid.uuid4()), performance_kind="competition", entered_by="student")
        claims.update(over)
        return signing.sign(claims, key or SECRETS["TICKET_KEY"], ttl=ttl, purpose=usecases.TICKET_PURPOSE), claims


@pytest.fixture(scope="module")
def vhost_uri(amqp_uri, run_id):
    name = f"pt_{run_id}_files_it"
    uri = servers.create_vhost(amqp_uri, name)
    yield uri
    servers.delete_vhost(name)


def migrated(service_db):
    """A files database brought to head (the migrate step's job), as a URL."""
    return service_db("files").engine.url.render_as_string(hide_password=False)


@pytest.fixture
def files(service_db, s3_endpoint, vhost_uri):
    """(Flask test client, app extensions, bucket prefix) of a files service of its own."""
    prefix = f"{BUCKET_PREFIX}f{uuid.uuid4().hex[:6]}"
    app = create_app({"DATABASE_URL": migrated(service_db), "AMQP_URI": vhost_uri, "S3_ENDPOINT": s3_endpoint,
                      "S3_ACCESS_KEY": S3_FILES[0], "S3_SECRET_KEY": S3_FILES[1], "S3_BUCKET_PREFIX": prefix,
                      "PORTAL_ORIGIN": PORTAL, "SWEEP_EVERY_S": 3600})
    app.config["TESTING"] = True
    ext = app.extensions["files"]
    yield app.test_client(), ext, prefix
    ext["stop"].set()
    ext["engine"].dispose()


def admin(s3_endpoint):
    return Minio(s3_endpoint, *S3_ADMIN, secure=False)


def objects(files_ext, tenant="day"):
    store = files_ext["store"]
    bucket = store.bucket_for(tenant)
    if not store.client.bucket_exists(bucket):
        return []
    return sorted((o.object_name, o.is_delete_marker) for o in store.versions(bucket, ""))


def outbox(files_ext, event=None):
    import sqlalchemy as sa
    from files.orm import outbox as t
    q = sa.select(t.c.body).order_by(t.c.seq)
    if event:
        q = q.where(t.c.routing_key == event)
    with files_ext["engine"].connect() as c:
        return list(c.execute(q).scalars())


def broken(client, method, path, body, declared, headers):
    """A request whose body stops short of its Content-Length, as when a phone loses its
    connection mid-upload (Flask's test client would correct the length; this does not)."""
    from flask import json
    from werkzeug.test import EnvironBuilder, run_wsgi_app
    environ = EnvironBuilder(path=path, method=method, headers=headers, input_stream=io.BytesIO(body)).get_environ()
    environ["CONTENT_LENGTH"] = str(declared)
    app_iter, status, hdrs = run_wsgi_app(client.application, environ, buffered=True)
    data = b"".join(app_iter)
    return int(status.split()[0]), (json.loads(data) if data else None)


def post(client, who, ticket, data, name="期末專題.pdf", **headers):
    from urllib.parse import quote
    return client.post("/v1/files", data=data, headers={
        "Authorization": f"Bearer {who.token()}", "X-Upload-Ticket": ticket, "X-Filename": quote(name),
        "Content-Type": "application/octet-stream", **headers})


# ------------------------------------------------------------------ stored, exactly once

def test_stored_once_verified_fingerprinted_and_announced(files):
    client, ext, _ = files
    s = Student()
    tok, claims = s.ticket()
    data = ev.pdf(300_000)
    r = post(client, s, tok, data)
    assert r.status_code == 201, r.get_json()
    res = r.get_json()
    assert res["sha256"] == hashlib.sha256(data).hexdigest() and res["size"] == len(data)
    assert res["content_type"] == "application/pdf" and res["filename"] == "期末專題.pdf"
    key = f"outcomes/{s.student_id}/{res['file_id']}"
    # only the verified bytes were ever written, to their final key: one version, nothing else
    # (no quarantine object, no delete marker). The quarantine of a one-request upload is the
    # replica's spool (usecases.upload_once); the resumable path's is tested below.
    assert objects(ext) == [(key, False)]
    store = ext["store"]
    bucket = store.bucket_for("day")
    assert store.client.get_bucket_versioning(bucket).status == "Enabled"
    assert store.client.get_object_lock_config(bucket) is not None
    (row,) = SqlFileRepository(ext["engine"]).files_of("day")
    assert (row["key"], row["sha256"]) == (key, res["sha256"])
    assert b"".join(store.read_all(bucket, key, row["version_id"])) == data
    (event,) = outbox(ext, events.OUTCOME_UPLOADED)
    assert event["payload"]["outcome_id"] == claims["outcome_id"] and event["payload"]["sha256"] == res["sha256"]
    assert outbox(ext, events.UPLOAD_REFUSED) == []

    # the same upload retried after a lost answer: the same answer, nothing stored twice
    again = post(client, s, tok, data)
    assert again.status_code == 200 and again.get_json()["file_id"] == res["file_id"]
    # the used ticket with other bytes: refused, and the stored item is untouched
    other = post(client, s, tok, ev.pdf(1000))
    assert (other.status_code, other.get_json()["error"]["code"]) == (409, "ticket_used")
    assert objects(ext) == [(key, False)] and len(outbox(ext, events.OUTCOME_UPLOADED)) == 1
    assert outbox(ext, events.UPLOAD_REFUSED) == [], "a used ticket's slot is not given back"


def test_a_returned_outcome_uploaded_again_is_a_new_upload_of_the_same_outcome(files):
    """records' re-upload ticket names the same outcome with `attempt` 2: files stores the new
    file beside the first (both fingerprinted) and announces it for the same outcome_id; that
    ticket, like any, is used once."""
    client, ext, _ = files
    s = Student()
    tok, claims = s.ticket()
    first = post(client, s, tok, ev.pdf(2000))
    assert first.status_code == 201, first.get_json()
    tok2, _ = s.ticket(outcome_id=claims["outcome_id"], attempt=2, description="補上封面")
    second = post(client, s, tok2, ev.pdf(3000), name="補件.pdf")
    assert second.status_code == 201, second.get_json()
    assert second.get_json()["outcome_id"] == claims["outcome_id"] != None  # noqa: E711
    assert second.get_json()["file_id"] != first.get_json()["file_id"]
    sent = [e["payload"] for e in outbox(ext, events.OUTCOME_UPLOADED) if e["payload"]["outcome_id"] == claims["outcome_id"]]
    assert [(p["filename"], p["description"]) for p in sent] == [("期末專題.pdf", "期末專題：記帳程式"), ("補件.pdf", "補上封面")]
    assert post(client, s, tok2, ev.pdf(4000)).get_json()["error"]["code"] == "ticket_used"
    rows = [r for r in SqlFileRepository(ext["engine"]).files_of("day") if str(r["subject_id"]) == claims["outcome_id"]]
    assert sorted(r["attempt"] for r in rows) == [1, 2]


@pytest.mark.parametrize("name,make,ctype", [
    ("口頭報告_短.mp4", lambda: ev.case("U04")[1], "video/mp4"),
    ("口頭報告_長.mp4", lambda: ev.mp4_padded(ev.case("U04")[1], 6 * MB), "video/mp4"),
    ("報告_匯出.pdf", lambda: ev.case("U07")[1], "application/pdf"),
    ("錄音.mp3", lambda: ev.mp3(2 * MB), "audio/mpeg"),
    ("海報.png", lambda: ev.png(64, 64), "image/png"),
    ("照片.jpg", lambda: ev.jpg(100_000), "image/jpeg"),
])
def test_every_kind_of_evidence_is_accepted(files, name, make, ctype):
    client, ext, _ = files
    s = Student()
    data = make()
    r = post(client, s, s.ticket()[0], data, name)
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["content_type"], r.get_json()["size"], r.get_json()["filename"]) == (ctype, len(data), name)


def test_performance_proof_emits_performance_uploaded(files):
    client, ext, _ = files
    s = Student()
    tok, claims = s.ticket(kind="performance", description="全國技能競賽 佳作")
    data = ev.mp4(3 * MB)
    r = post(client, s, tok, data, "決賽.mp4")
    assert r.status_code == 201, r.get_json()
    assert objects(ext)[0][0].startswith(f"performances/{s.student_id}/")
    (event,) = outbox(ext, events.PERFORMANCE_UPLOADED)
    assert event["payload"]["performance_id"] == claims["performance_id"]
    assert event["payload"]["content_type"] == "video/mp4" and event["payload"]["size"] == len(data)
    events.load_event(events.PERFORMANCE_UPLOADED, event)


# ------------------------------------------------------------------ every refusal is clean

REFUSALS = [
    ("U02 empty", lambda: ev.case("U02")[1], "成果.pdf", 422, "file_empty"),
    ("renamed executable", lambda: ev.EXE, "report.pdf", 415, "file_type_refused"),
    ("zip renamed .png", lambda: ev.zip_bytes(), "photo.png", 415, "file_type_refused"),
    ("zip behind a png", lambda: ev.png(trailing=ev.zip_bytes()), "photo.png", 415, "file_type_refused"),
    ("pdf inside a jpeg", lambda: ev.jpg(10)[:20] + b"%PDF-1.4\n" + ev.jpg(2000), "x.jpg", 415, "file_type_refused"),
    ("mp4 that lies about its length", lambda: ev.mp4(2 * MB, lie=MB), "video.mp4", 422, "file_damaged"),
    ("document over 4 MB", lambda: ev.pdf(4 * MB + 10), "big.pdf", 413, "file_too_large"),
    ("media over 10 MB", lambda: ev.mp4(10 * MB + 10), "big.mp4", 413, "file_too_large"),
    ("path traversal", lambda: ev.pdf(), "../../etc/passwd.pdf", 422, "filename_invalid"),
    ("300-character name", lambda: ev.pdf(), "報" * 300 + ".pdf", 422, "filename_too_long"),
]


@pytest.mark.parametrize("what,make,name,status,code", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_store_nothing_and_give_the_slot_back(files, what, make, name, status, code):
    client, ext, _ = files
    s = Student()
    kept = post(client, s, s.ticket()[0], ev.pdf(), "already.pdf")  # the student's other item
    assert kept.status_code == 201
    before = objects(ext)
    tok, claims = s.ticket()
    r = post(client, s, tok, make(), name)
    assert r.status_code == status, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == code and err["message_zh"] and err["message"]
    assert objects(ext) == before, "a refused upload left bytes behind"
    (released,) = outbox(ext, events.UPLOAD_REFUSED)
    assert released["payload"]["subject_id"] == claims["outcome_id"] and released["payload"]["code"] == code
    assert released["payload"]["student_id"] == s.student_id
    assert len(SqlFileRepository(ext["engine"]).files_of("day")) == 1
    # the ticket is spent: a second try with it is refused without freeing anything again
    again = post(client, s, tok, ev.pdf())
    assert again.get_json()["error"]["code"] == "ticket_used" and len(outbox(ext, events.UPLOAD_REFUSED)) == 1


def test_truncated_body_is_refused_and_frees_the_slot(files):
    client, ext, _ = files
    s = Student()
    tok, claims = s.ticket()
    data = ev.pdf(200_000)
    status, body = broken(client, "POST", "/v1/files", data[:50_000], len(data), {
        "Authorization": f"Bearer {s.token()}", "X-Upload-Ticket": tok})
    assert (status, body["error"]["code"]) == (400, "upload_truncated")
    assert objects(ext) == []
    assert outbox(ext, events.UPLOAD_REFUSED)[0]["payload"]["code"] == "upload_truncated"


def test_storage_down_answers_503_and_never_holds_the_slot(service_db, vhost_uri):
    app = create_app({"DATABASE_URL": migrated(service_db), "AMQP_URI": vhost_uri,
                      "S3_ENDPOINT": f"127.0.0.1:{servers.free_port()}", "S3_ACCESS_KEY": "k",
                      "S3_SECRET_KEY": "s", "S3_BUCKET_PREFIX": f"{BUCKET_PREFIX}down", "SWEEP_EVERY_S": 3600})
    s = Student()
    tok, claims = s.ticket()
    r = post(app.test_client(), s, tok, ev.pdf())
    assert (r.status_code, r.get_json()["error"]["code"]) == (503, "storage_unavailable")
    assert "沒有遺失" in r.get_json()["error"]["message_zh"]
    (released,) = outbox(app.extensions["files"], events.UPLOAD_REFUSED)
    assert released["payload"]["subject_id"] == claims["outcome_id"]
    app.extensions["files"]["stop"].set()
    app.extensions["files"]["engine"].dispose()


# ------------------------------------------------------------------ tickets

def test_tickets_bind_student_tenant_and_time(files):
    client, ext, _ = files
    owner, thief = Student(), Student()
    tok, _ = owner.ticket()
    cases = [
        (post(client, thief, tok, ev.pdf()), 403, "ticket_mismatch"),              # another student's ticket
        (post(client, Student("ce"), tok, ev.pdf()), 403, "ticket_mismatch"),      # from the other tenant
        (post(client, owner, owner.ticket(ttl=-1)[0], ev.pdf()), 403, "ticket_expired"),
        (post(client, owner, owner.ticket(key="forged")[0], ev.pdf()), 403, "ticket_invalid"),
        (post(client, owner, "", ev.pdf()), 403, "ticket_invalid"),
        (client.post("/v1/files", data=ev.pdf(), headers={"X-Upload-Ticket": tok}), 401, "token_invalid"),
    ]
    for r, status, code in cases:
        assert (r.status_code, r.get_json()["error"]["code"]) == (status, code)
    assert objects(ext) == [] and outbox(ext, events.UPLOAD_REFUSED) == []
    audited = outbox(ext, events.ACCESS_REFUSED)
    assert {a["payload"]["code"] for a in audited} >= {"ticket_mismatch"}
    # the owner's upload is unharmed by the attempts
    assert post(client, owner, tok, ev.pdf()).status_code == 201


# ------------------------------------------------------------------ resumable (tus)

def tus(client, who, method, path, **kw):
    headers = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {who.token()}", **kw.pop("headers", {})}
    return client.open(path, method=method, headers=headers, **kw)


def test_resumed_upload_continues_where_it_stopped(files):
    client, ext, _ = files
    s = Student()
    tok, claims = s.ticket()
    data = ev.mp4(10 * MB)
    meta = "filename " + base64.b64encode("口頭報告.mp4".encode()).decode()
    r = tus(client, s, "POST", "/v1/uploads", headers={"Upload-Length": str(len(data)), "Upload-Metadata": meta,
                                                       "X-Upload-Ticket": tok})
    assert r.status_code == 201 and r.headers["Location"].startswith("uploads/")
    url = "/v1/" + r.headers["Location"]
    # the phone loses its connection after 3.5 MB of a 10 MB PATCH
    broken(client, "PATCH", url, data[:3_500_000], len(data), {
        "Tus-Resumable": "1.0.0", "Authorization": f"Bearer {s.token()}", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    head = tus(client, s, "HEAD", url)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "3500000"
    assert head.headers["Upload-Length"] == str(len(data)) and head.headers["Upload-Expires"]
    # a PATCH at the wrong offset is refused; the upload goes on
    bad = tus(client, s, "PATCH", url, data=data[:10], headers={
        "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert (bad.status_code, bad.get_json()["error"]["code"]) == (409, "upload_offset_mismatch")
    # another student cannot see or continue it
    assert tus(client, Student(), "HEAD", url).status_code == 404
    r = tus(client, s, "PATCH", url, data=data[3_500_000:], headers={
        "Upload-Offset": "3500000", "Content-Type": "application/offset+octet-stream"})
    assert r.status_code == 204, r.get_json()
    assert r.headers["Upload-Offset"] == str(len(data))
    assert r.headers["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    stored = objects(ext)
    assert stored == [(f"outcomes/{s.student_id}/{r.headers['X-File-Id']}", False)], "pieces left in quarantine"
    (event,) = outbox(ext, events.OUTCOME_UPLOADED)
    assert event["payload"]["filename"] == "口頭報告.mp4" and event["payload"]["size"] == len(data)
    # a retried final PATCH (lost answer) is answered as done
    assert tus(client, s, "HEAD", url).headers["Upload-Offset"] == str(len(data))


def test_resumable_refusal_at_the_first_bytes_and_at_the_end(files):
    client, ext, _ = files
    s = Student()
    for data, code in ((ev.EXE + b"\x00" * 5000, "file_type_refused"), (ev.mp4(MB, lie=10), "file_damaged")):
        tok, claims = s.ticket()
        r = tus(client, s, "POST", "/v1/uploads", headers={"Upload-Length": str(len(data)), "X-Upload-Ticket": tok})
        url = "/v1/" + r.headers["Location"]
        r = tus(client, s, "PATCH", url, data=data, headers={
            "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
        assert (r.status_code, r.get_json()["error"]["code"])[1] == code
        assert tus(client, s, "HEAD", url).status_code == 410
    assert objects(ext) == []
    assert [e["payload"]["code"] for e in outbox(ext, events.UPLOAD_REFUSED)] == ["file_type_refused", "file_damaged"]


def test_half_finished_upload_expires_and_frees_its_slot(files):
    client, ext, _ = files
    s = Student()
    tok, claims = s.ticket(ttl=2)
    data = ev.pdf(MB)
    r = tus(client, s, "POST", "/v1/uploads", headers={"Upload-Length": str(len(data)), "X-Upload-Ticket": tok})
    url = "/v1/" + r.headers["Location"]
    broken(client, "PATCH", url, data[:300_000], len(data), {
        "Tus-Resumable": "1.0.0", "Authorization": f"Bearer {s.token()}", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert len(objects(ext)) == 1  # the piece that arrived waits in quarantine
    time.sleep(2.5)
    assert usecases.sweep_expired(ext["repo"], ext["store"]) == 1
    assert objects(ext) == []
    (released,) = outbox(ext, events.UPLOAD_REFUSED)
    assert (released["payload"]["code"], released["payload"]["subject_id"]) == ("upload_expired", claims["outcome_id"])
    assert tus(client, s, "HEAD", url).status_code == 410
    assert usecases.sweep_expired(ext["repo"], ext["store"]) == 0


def test_cancelled_upload_frees_its_slot(files):
    client, ext, _ = files
    s = Student()
    tok, claims = s.ticket()
    r = tus(client, s, "POST", "/v1/uploads", headers={"Upload-Length": "5000", "X-Upload-Ticket": tok})
    url = "/v1/" + r.headers["Location"]
    assert tus(client, s, "DELETE", url).status_code == 204
    assert outbox(ext, events.UPLOAD_REFUSED)[0]["payload"]["code"] == "upload_cancelled"


# ------------------------------------------------------------------ downloads

def test_download_after_authorisation_streamed_ranged_sandboxed(files):
    client, ext, _ = files
    s = Student()
    data = ev.pdf(100_000)
    fid = post(client, s, s.ticket()[0], data, "期末 報告.pdf").get_json()["file_id"]
    link = client.post(f"/v1/files/{fid}/link", headers={"Authorization": f"Bearer {s.token()}"}).get_json()
    r = client.get("/" + link["path"])
    assert r.status_code == 200 and r.data == data
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"].startswith("sandbox")
    assert r.headers["Content-Disposition"] == \
        "inline; filename=\"__ __.pdf\"; filename*=UTF-8''%E6%9C%9F%E6%9C%AB%20%E5%A0%B1%E5%91%8A.pdf"
    part = client.get("/" + link["path"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert client.get("/" + link["path"], headers={"Range": f"bytes={len(data) + 5}-"}).status_code == 416
    att = client.post(f"/v1/files/{fid}/link", json={"disposition": "attachment"},
                      headers={"Authorization": f"Bearer {s.token()}"}).get_json()
    assert client.get("/" + att["path"]).headers["Content-Disposition"].startswith("attachment;")
    # a classmate, the other tenant's registrar: the same 404 as a missing file
    missing = client.post(f"/v1/files/{uuid.uuid4()}/link", headers={"Authorization": f"Bearer {s.token()}"})
    for who in (Student(), Student("ce")):
        other = client.post(f"/v1/files/{fid}/link", headers={"Authorization": f"Bearer {who.token()}"})
        assert other.status_code == 404 and other.get_json()["error"]["code"] == missing.get_json()["error"]["code"]
    # the submission service on its own (the national package's evidence): its tenant's files only;
    # another service on its own is refused like anyone else
    from tests.support.callers import signer
    sub = signer("submission").mint(caller_mod.service_caller("submission", "day"), "files")
    via = client.post(f"/v1/files/{fid}/link", json={"disposition": "attachment"}, headers={"X-Portfolio-Caller": sub})
    assert via.status_code == 200 and client.get("/" + via.get_json()["path"]).data == data
    for issuer, tenant in (("submission", "ce"), ("records", "day")):
        token = signer(issuer).mint(caller_mod.service_caller(issuer, tenant), "files")
        assert client.post(f"/v1/files/{fid}/link", headers={"X-Portfolio-Caller": token}).status_code == 404
    # a link with its signature changed, or for another file
    assert client.get("/" + link["path"][:-3] + "AAA").status_code == 403
    assert client.get("/" + link["path"].replace(fid, str(uuid.uuid4()))).status_code == 403


# ------------------------------------------------------------------ fingerprints, sealing, S3 rights

def test_verifier_finds_a_tampered_and_a_missing_object(files, s3_endpoint):
    client, ext, _ = files
    s = Student()
    ids = [post(client, s, s.ticket()[0], ev.pdf(5000), f"{i}.pdf").get_json()["file_id"] for i in range(3)]
    repo, store = ext["repo"], ext["store"]
    lines = []
    clean = verify_tenant(repo, store, "day", out=lines.append)
    assert (clean["checked"], clean["missing"], clean["altered"], clean["extra"]) == (3, [], [], [])
    rows = {str(r["id"]): r for r in repo.files_of("day")}
    root = admin(s3_endpoint)
    bucket = store.bucket_for("day")
    tampered, deleted = rows[ids[0]], rows[ids[1]]
    root.put_object(bucket, tampered["key"], io.BytesIO(b"%PDF-1.4 forged"), 15)          # overwritten
    root.remove_object(bucket, deleted["key"], version_id=deleted["version_id"])         # deleted for good
    root.put_object(bucket, f"outcomes/{s.student_id}/{uuid.uuid4()}", io.BytesIO(b"x"), 1)  # planted
    found = verify_tenant(repo, store, "day", out=lines.append)
    assert [str(r["id"]) for r in found["altered"]] == [ids[0]]
    assert [str(r["id"]) for r in found["missing"]] == [ids[1]]
    assert len(found["extra"]) == 1
    assert any(line.startswith("altered") and ids[0] in line for line in lines)


def test_verifier_command_exits_non_zero_on_findings(files, s3_endpoint, monkeypatch):
    from files import verify
    client, ext, prefix = files
    s = Student()
    fid = post(client, s, s.ticket()[0], ev.pdf(), "a.pdf").get_json()["file_id"]
    monkeypatch.setenv("DATABASE_URL", ext["engine"].url.render_as_string(hide_password=False))
    monkeypatch.setenv("S3_ENDPOINT", s3_endpoint)
    monkeypatch.setenv("S3_ACCESS_KEY", S3_FILES[0])
    monkeypatch.setenv("S3_SECRET_KEY", S3_FILES[1])
    monkeypatch.setenv("S3_BUCKET_PREFIX", prefix)
    assert verify.main(["--tenant", "day"]) == 0
    row = ext["repo"].find_any(uuid.UUID(fid))
    admin(s3_endpoint).remove_object(row["bucket"], row["key"], version_id=row["version_id"])
    assert verify.main(["--tenant", "day"]) == 1


def test_sealed_object_cannot_be_deleted_by_anyone(files, s3_endpoint):
    client, ext, _ = files
    s = Student()
    post(client, s, s.ticket()[0], ev.pdf(), "a.pdf")
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert usecases.seal_student_files(ext["repo"], ext["store"], "day", s.student_id, until) == 1
    (row,) = ext["repo"].files_of("day")
    assert row["state"] == "sealed"
    for client_ in (ext["store"].client, admin(s3_endpoint)):
        with pytest.raises(S3Error):
            client_.remove_object(row["bucket"], row["key"], version_id=row["version_id"])
    from minio.commonconfig import COMPLIANCE
    from minio.retention import Retention
    with pytest.raises(S3Error):  # nor can the retention be shortened
        admin(s3_endpoint).set_object_retention(row["bucket"], row["key"], Retention(
            COMPLIANCE, dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)), version_id=row["version_id"])
    assert b"".join(ext["store"].read_all(row["bucket"], row["key"], row["version_id"]))


def test_locked_selections_files_get_a_legal_hold_the_server_reports(files, s3_endpoint):
    """issue 9 item 4: the evidence of a locked selection is held on the real S3 server; the
    other tenant's ids and files not in the selection are untouched."""
    client, ext, _ = files
    s = Student()
    held, free = (post(client, s, s.ticket()[0], ev.pdf(), "a.pdf").get_json() for _ in range(2))
    assert usecases.hold_locked_files(ext["repo"], ext["store"], "day", [held["outcome_id"]]) == 1
    assert usecases.hold_locked_files(ext["repo"], ext["store"], "ce", [held["outcome_id"]]) == 0
    rows = {str(r["subject_id"]): r for r in ext["repo"].files_of("day")}
    h, f = rows[held["outcome_id"]], rows[free["outcome_id"]]
    assert ext["store"].is_held(h["bucket"], h["key"], h["version_id"])
    assert admin(s3_endpoint).is_object_legal_hold_enabled(h["bucket"], h["key"], version_id=h["version_id"])
    assert not ext["store"].is_held(f["bucket"], f["key"], f["version_id"])
    with pytest.raises(S3Error):   # a held version cannot be deleted
        ext["store"].client.remove_object(h["bucket"], h["key"], version_id=h["version_id"])
    assert b"".join(ext["store"].read_all(h["bucket"], h["key"], h["version_id"]))


def test_files_s3_identity_reaches_only_its_own_buckets(s3_endpoint):
    mine = Minio(s3_endpoint, *S3_FILES, secure=False)
    outside = f"other-{uuid.uuid4().hex[:8]}"
    admin(s3_endpoint).make_bucket(outside)
    for attempt in (lambda: mine.make_bucket(f"x{uuid.uuid4().hex[:8]}"),
                    lambda: list(mine.list_objects(outside)),
                    lambda: mine.put_object(outside, "k", io.BytesIO(b"x"), 1)):
        with pytest.raises(S3Error) as e:
            attempt()
        assert e.value.code == "AccessDenied"
    admin(s3_endpoint).remove_bucket(outside)


def test_a_put_signed_with_the_fingerprint_stores_the_bytes_and_the_next_put_is_hashed_again(s3_endpoint):
    """A single PUT is signed with the Inspector's SHA-256 instead of minio hashing the bytes
    again (storage.put_stream), against the real S3 server: the signature holds and the bytes
    are stored; the thread's next PUT without a fingerprint is signed with minio's own hash.
    (SeaweedFS 4.48 does not compare the signed payload hash with the body, AWS S3 and MinIO
    do: tests/unit of files check the value handed over is the body's.)"""
    from files.storage import ObjectStore
    store = ObjectStore(s3_endpoint, *S3_FILES, secure=False, prefix=BUCKET_PREFIX + "sig")
    bucket = store.ensure_bucket("day")
    for name, data in (("memory", ev.pdf(300_000)), ("media", ev.mp4(6 * MB))):
        body = io.BytesIO(data) if name == "memory" else io.BufferedReader(io.BytesIO(data))
        version = store.put_stream(bucket, f"outcomes/{name}", body, "application/pdf", len(data),
                                   sha256=hashlib.sha256(data).hexdigest())
        assert b"".join(store.read_all(bucket, f"outcomes/{name}", version)) == data
    other = ev.pdf(1000)
    v2 = store.put_stream(bucket, "outcomes/plain", io.BytesIO(other), "application/pdf", len(other))
    assert b"".join(store.read_all(bucket, "outcomes/plain", v2)) == other


def test_a_transfer_package_past_its_keep_is_deleted_from_the_store_and_not_reported_missing(files):
    """purge_old_packages against the real S3 server and database: the zip's version is gone
    from the bucket for good, its row says `purged` (fingerprint kept), the verifier does not
    report it missing, and a younger package is untouched."""
    import sqlalchemy as sa
    import zipfile

    from files import domain
    from files.orm import stored_files
    _, ext, _ = files
    repo, store = ext["repo"], ext["store"]
    reg = caller_mod.Caller(user_id=str(uuid.uuid4()), username="reg_day", tenant="day", roles=("registrar",))

    def package(tag):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("manifest.json", b"{}")
            zf.writestr("note.txt", tag.encode())
        t = domain.TicketClaims.from_ticket({
            "kind": "transfer_package", "package_id": str(uuid.uuid4()), "tenant": "day",
            "student_id": str(uuid.uuid4()), "student_user_id": str(uuid.uuid4()), "uploader_user_id": reg.user_id,
            "school_year": 115, "semester": None})
        t.expires_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=15)
        data = buf.getvalue()
        return usecases.upload_once(repo, store, ext["limits"], reg, t, io.BytesIO(data), "轉學.zip", len(data))[1]
    old, young = package("old"), package("young")
    with ext["engine"].begin() as c:
        c.execute(stored_files.update().where(stored_files.c.id == uuid.UUID(old["file_id"]))
                  .values(created_at=sa.func.now() - sa.text("interval '31 days'")))
    old_row = repo.find_any(uuid.UUID(old["file_id"]))

    assert usecases.purge_old_packages(repo, store, keep_days=30) == 1
    names = {(v.object_name, v.version_id) for v in store.versions(old_row["bucket"], "transfers/")}
    assert (old_row["key"], old_row["version_id"]) not in names
    assert not any(n == old_row["key"] for n, _ in names)          # no version, no delete marker
    young_row = repo.find_any(uuid.UUID(young["file_id"]))
    assert (young_row["key"], young_row["version_id"]) in names
    purged = repo.find_any(uuid.UUID(old["file_id"]))
    assert purged["state"] == "purged" and purged["sha256"] == old["sha256"]
    report = verify_tenant(repo, store, "day", out=lambda line: None)
    assert old["file_id"] not in {str(r["id"]) for r in report["missing"] + report["altered"]}
    assert usecases.purge_old_packages(repo, store, keep_days=30) == 0


# ------------------------------------------------------------------ browser and operations

def test_cors_answers_the_portal_origin_only(files):
    client, _, _ = files
    pre = {"Access-Control-Request-Method": "PATCH",
           "Access-Control-Request-Headers": "authorization,upload-offset,tus-resumable,content-type"}
    ok = client.options("/v1/uploads/x", headers={"Origin": PORTAL, **pre})
    assert ok.headers["Access-Control-Allow-Origin"] == PORTAL
    assert "upload-offset" in ok.headers["Access-Control-Allow-Headers"].lower()
    bad = client.options("/v1/uploads/x", headers={"Origin": "https://evil.example", **pre})
    assert "Access-Control-Allow-Origin" not in bad.headers


def test_metrics_need_the_token_and_count_by_result_and_reason(files):
    client, _, _ = files
    s = Student()
    post(client, s, s.ticket()[0], ev.pdf())
    post(client, s, s.ticket()[0], b"")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    text = client.get("/metrics", headers={"Authorization": f"Bearer {SECRETS['FILES_METRICS_TOKEN']}"}).get_data(True)
    assert 'files_uploads_total{kind="outcome",reason="ok",result="stored"}' in text
    assert 'reason="file_empty",result="refused"' in text
    for name in ("files_upload_bytes_total", "files_uploads_in_flight", "files_upload_duration_seconds_bucket",
                 "files_s3_request_seconds_bucket", "files_outbox_backlog"):
        assert name in text


def test_limits_are_published_for_the_portal(files):
    client, _, _ = files
    fams = client.get("/v1/limits?school_year=115").get_json()["families"]
    assert fams["document"]["max_bytes"] == 4 * MB and fams["media"]["types"] == ["mp3", "mp4"]


# ------------------------------------------------------------------ what a client can send in headers

def test_a_nul_in_the_file_name_is_stripped_like_any_control_character_never_a_500(files):
    """Found by a new user's fuzzing: `X-Filename: a%00b.pdf` (and the same name in tus's
    Upload-Metadata) reached PostgreSQL and answered 500, holding the quota slot until the
    ticket expired. The name is stored without its NUL, as every other control character."""
    client, ext, _ = files
    s = Student()
    r = post(client, s, s.ticket()[0], ev.pdf(), "a\x00b\x01.pdf")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["filename"] == "ab.pdf"
    tok, _ = s.ticket()
    data = ev.pdf(50_000)
    meta = "filename " + base64.b64encode("報\x00告.pdf".encode()).decode()
    r = tus(client, s, "POST", "/v1/uploads", headers={"Upload-Length": str(len(data)), "Upload-Metadata": meta,
                                                       "X-Upload-Ticket": tok})
    assert r.status_code == 201, r.get_json()
    r = tus(client, s, "PATCH", "/v1/" + r.headers["Location"], data=data, headers={
        "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert r.status_code == 204, r.get_json()
    assert [e["payload"]["filename"] for e in outbox(ext, events.OUTCOME_UPLOADED)] == ["ab.pdf", "報告.pdf"]
    assert outbox(ext, events.UPLOAD_REFUSED) == []


@pytest.mark.parametrize("declared", [2 ** 63, 10 ** 26])
def test_a_declared_length_beyond_any_column_is_too_large_and_gives_the_slot_back(files, declared):
    """Found by fuzzing: `Upload-Length: 99999999999999999999999999` answered 500 (bigint out
    of range) with the slot held; so would the same Content-Length on the one-request path.
    Both are refused as file_too_large (413) and the slot comes back at once."""
    client, ext, _ = files
    s = Student()
    tok, claims = s.ticket()
    r = tus(client, s, "POST", "/v1/uploads", headers={"Upload-Length": str(declared), "X-Upload-Ticket": tok})
    assert (r.status_code, r.get_json()["error"]["code"]) == (413, "file_too_large")
    tok2, claims2 = s.ticket()
    status, body = broken(client, "POST", "/v1/files", ev.pdf(1000), declared, {
        "Authorization": f"Bearer {s.token()}", "X-Upload-Ticket": tok2, "X-Filename": "big.pdf"})
    assert (status, body["error"]["code"]) == (413, "file_too_large")
    assert [(e["payload"]["subject_id"], e["payload"]["code"]) for e in outbox(ext, events.UPLOAD_REFUSED)] == [
        (claims["outcome_id"], "file_too_large"), (claims2["outcome_id"], "file_too_large")]
    assert objects(ext) == []


def test_a_path_files_does_not_serve_answers_not_found_in_the_api_format(files):
    client, _, _ = files
    r = client.get("/v1/no-such-thing")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found" and r.get_json()["error"]["message_zh"] == "找不到資料。"
