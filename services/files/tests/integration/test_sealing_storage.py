"""Sealing in files against real PostgreSQL, RabbitMQ and S3 (SeaweedFS enforces Object Lock):
`sealed` (through the broker, as the migrate step's queue delivers it) puts every stored object
of the student under COMPLIANCE retention, and from then on the database refuses the student's
new uploads (409 student_sealed) and any change to their file rows."""
import datetime as dt
import json
import time
import uuid

import pika
import pytest
import sqlalchemy as sa
from minio import Minio
from minio.error import S3Error

from files import sealing, usecases
from files.app import create_app
from portfolio_common import caller as caller_mod
from portfolio_common import events, signing
from portfolio_common.amqp import declare_topology
from portfolio_common.sealing import STUDENT_SEALED_SQLSTATE
from tests.support import evidence as ev
from tests.support import servers
from tests.support.callers import as_gateway
from tests.support.ids import BUCKET_PREFIX, S3_ADMIN, S3_FILES, SECRETS


class Student:
    def __init__(self, tenant="day"):
        self.user_id, self.student_id, self.tenant = str(uuid.uuid4()), str(uuid.uuid4()), tenant

    def token(self):
        return as_gateway(caller_mod.Caller(user_id=self.user_id, username="s", tenant=self.tenant,
                                            roles=("student",)), "files")

    def ticket(self):
        claims = {"kind": "outcome", "tenant": self.tenant, "student_id": self.student_id,
                  "student_user_id": self.user_id, "school_year": 115, "description": "期末專題：記帳程式",
                  "outcome_id": str(uuid.uuid4()), "section_id": str(uuid.uuid4()),
                  "teacher_user_id": str(uuid.uuid4()), "semester": 1, "course_code": "115050407H11A0101",
                  "subject_name": "程式設計實習"}
        return signing.sign(claims, SECRETS["TICKET_KEY"], ttl=900, purpose=usecases.TICKET_PURPOSE)


def post(client, who, data):
    return client.post("/v1/files", data=data, headers={
        "Authorization": f"Bearer {who.token()}", "X-Upload-Ticket": who.ticket(), "X-Filename": "a.pdf",
        "Content-Type": "application/octet-stream"})


@pytest.fixture
def vhost_uri(amqp_uri, run_id):
    name = f"pt_{run_id}_files_seal_{uuid.uuid4().hex[:4]}"
    uri = servers.create_vhost(amqp_uri, name)
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    declare_topology(conn.channel(), delays=[1000])
    conn.close()
    yield uri
    servers.delete_vhost(name)


@pytest.fixture
def files(service_db, s3_endpoint, vhost_uri):
    prefix = f"{BUCKET_PREFIX}s{uuid.uuid4().hex[:6]}"
    app = create_app({"DATABASE_URL": service_db("files").engine.url.render_as_string(hide_password=False),
                      "AMQP_URI": vhost_uri, "S3_ENDPOINT": s3_endpoint, "S3_ACCESS_KEY": S3_FILES[0],
                      "S3_SECRET_KEY": S3_FILES[1], "S3_BUCKET_PREFIX": prefix, "SWEEP_EVERY_S": 3600,
                      "SEALED_RETENTION_DAYS": 1})
    app.config["TESTING"] = True
    ext = app.extensions["files"]
    yield app.test_client(), ext, vhost_uri
    ext["stop"].set()
    ext["engine"].dispose()


def publish_sealed(uri, student, tenant="day"):
    env = events.make_event(events.SEALED, tenant, {
        "student_id": student.student_id, "student_user_id": student.user_id, "sealed_at": events.utcnow(),
        "manifest_digest": "0" * 64}, producer="submission")
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    conn.channel().basic_publish("submission.events", events.SEALED, json.dumps(env, default=str).encode(),
                                 pika.BasicProperties(delivery_mode=2, content_type="application/json"))
    conn.close()


def wait_sealed(ext, student, tenant="day", within_s=30):
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if ext["sealed"].is_sealed(tenant, student.student_id):
            return True
        time.sleep(0.2)
    return False


def test_sealed_event_retains_objects_and_the_database_refuses_new_uploads(files, s3_endpoint):
    client, ext, uri = files
    s, other = Student(), Student()
    first = post(client, s, ev.pdf())
    assert first.status_code == 201, first.get_json()
    publish_sealed(uri, s)
    assert wait_sealed(ext, s)

    (row,) = ext["repo"].files_of("day", s.student_id)
    assert row["state"] == "sealed"
    admin = Minio(s3_endpoint, *S3_ADMIN, secure=False)
    stat = admin.stat_object(row["bucket"], row["key"], version_id=row["version_id"])
    assert stat.metadata.get("x-amz-object-lock-mode") == "COMPLIANCE"
    with pytest.raises(S3Error):
        admin.remove_object(row["bucket"], row["key"], version_id=row["version_id"])

    refused = post(client, s, ev.pdf())
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "student_sealed"
    assert "封存" in refused.get_json()["error"]["message_zh"]
    assert len(ext["repo"].files_of("day", s.student_id)) == 1

    for sql in ("update stored_files set state = 'stored' where student_id = :s",
                "delete from stored_files where student_id = :s"):
        with pytest.raises(sa.exc.DBAPIError) as e, ext["engine"].begin() as c:
            c.execute(sa.text(sql), {"s": s.student_id})
        assert e.value.orig.pgcode == STUDENT_SEALED_SQLSTATE

    # another student of the tenant still uploads
    assert post(client, other, ev.pdf()).status_code == 201


def test_a_redelivered_sealed_changes_nothing(files):
    client, ext, _ = files
    s = Student()
    assert post(client, s, ev.pdf()).status_code == 201
    env = events.load_event(events.SEALED, events.make_event(events.SEALED, "day", {
        "student_id": s.student_id, "student_user_id": s.user_id, "sealed_at": events.utcnow(),
        "manifest_digest": "0" * 64}, producer="submission"))
    assert sealing.record_sealed(ext["repo"], ext["sealed"], ext["store"], env, 1) == 1
    assert sealing.record_sealed(ext["repo"], ext["sealed"], ext["store"], env, 1) == 0


def test_a_sealed_students_file_is_not_downloaded_by_anyone(files):
    """issue 9 item 7: sealed data is read only through the audited two-role request; files hands
    out no link to a sealed student's file (owner and registrar alike), and a link issued before
    the seal stops working."""
    client, ext, uri = files
    s = Student()
    up = post(client, s, ev.pdf())
    assert up.status_code == 201, up.get_json()
    fid = up.get_json()["file_id"]
    registrar = as_gateway(caller_mod.Caller(user_id=str(uuid.uuid4()), username="reg", tenant="day",
                                             roles=("registrar",)), "files")
    early = client.post(f"/v1/files/{fid}/link", headers={"Authorization": f"Bearer {s.token()}"}).get_json()
    assert client.get("/" + early["path"]).status_code == 200
    publish_sealed(uri, s)
    assert wait_sealed(ext, s)
    for token in (s.token(), registrar):
        r = client.post(f"/v1/files/{fid}/link", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "sealed_read_required", r.get_json()
        assert "封存" in r.get_json()["error"]["message_zh"]
    r = client.get("/" + early["path"])
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "sealed_read_required"
