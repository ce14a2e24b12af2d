"""Sealing five years on (issue 9 item 7), against the running platform: the registrar records a
college application date six years back, the sealing job seals the student, and from then on
every service refuses writes (in its database, even to its own app role), the student's object
is under COMPLIANCE retention on the real S3 server, the signed manifest verifies with the
submission key, and the student's data is read only through a request the principal and the
executive secretary approved. Attackers: another tenant, a forged `sealed` on the broker."""
import base64
import datetime as dt
import hashlib
import json
import random
import uuid

import pika
import pytest
import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from minio import Minio
from nameko.standalone.rpc import ClusterRpcProxy

from portfolio_common import caller as caller_mod
from portfolio_common import events
from portfolio_common.sealing import STUDENT_SEALED_SQLSTATE
from submission.sealing import domain as manifest_domain
from tests.e2e.conftest import Api, eventually, pdf
from tests.e2e.test_profile_e2e import make_account
from tests.e2e.test_roster_import_e2e import national_id
from tests.support import uploads
from tests.support.callers import as_gateway, as_system
from tests.support.ids import S3_ADMIN

pytestmark = pytest.mark.slow


def signed_in(stack, username, first_password):
    """An imported account: change the initial password once, then an API client."""
    base = stack.gateway_url + "/api/v1"
    tok = requests.post(base + "/auth/token", json={"username": username, "password": first_password},
                        timeout=30).json()["token"]
    r = requests.post(base + "/auth/password", headers={"Authorization": f"Bearer {tok}"}, timeout=30,
                      json={"old_password": first_password, "new_password": "demo-pass-2026"})
    assert r.status_code == 204, r.text
    return Api(stack.gateway_url, username)


@pytest.fixture(scope="module")
def sealed_world(stack, api):
    """A new day student with an account and a performance proof in files, sealed by the job."""
    tag = uuid.uuid4().hex[:6]
    username = f"seal_{tag}"
    make_account(stack, username)
    reg = api("reg_day")
    r = reg.post("/students", json={"student_no": f"S{tag}", "name": "封存同學", "class_code": "101",
                                    "national_id": national_id(random.Random(tag)), "username": username})
    assert r.status_code == 201, r.text
    student_id = r.json()["id"]
    student = signed_in(stack, username, "profile-pass-1")
    perf = student.post("/performances", json={"kind": "work", "fields": {"name": "木工作品", "made_on": "2026-05-01", "description": "木工作品"}})
    assert perf.status_code == 201, perf.text
    ticket = student.post(f"/performances/{perf.json()['id']}/tickets").json()
    content = pdf()
    up = uploads.send_file(requests.Session(), ticket, content, "作品.pdf")
    assert up.status_code == 201, up.text

    six_years_back = (dt.date.today() - dt.timedelta(days=6 * 366)).isoformat()
    r = reg.put(f"/sealing/students/{student_id}", json={"applied_on": six_years_back})
    assert r.status_code == 200, r.text
    assert r.json()["seal_due_on"] < dt.date.today().isoformat()
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        rpc.submission.run_sealing(as_system("day", "submission"))
    assert eventually(lambda: reg.get(f"/sealing/students/{student_id}").json()["sealed"], timeout=30)
    # `sealed` reaches records, certification and files through the broker: the tests below
    # start once each has applied it (the seal's own propagation, seconds on a busy machine;
    # they failed in CI when they wrote before records had it)
    for service in ("records", "certification", "files"):
        engine = sa.create_engine(stack.service_database_url(service))
        try:
            def applied():
                with engine.connect() as c:
                    return c.execute(sa.text("select count(*) from sealed_students where student_id = :s"),
                                     {"s": student_id}).scalar() == 1
            assert eventually(applied, timeout=60), f"{service} did not apply the seal"
        finally:
            engine.dispose()
    files_db = sa.create_engine(stack.database_url("files"))
    try:
        def retained():
            with files_db.connect() as c:
                return c.execute(sa.text("select state from stored_files where id = :f"),
                                 {"f": up.json()["file_id"]}).scalar() == "sealed"
        assert eventually(retained, timeout=60), "files did not put the proof under retention"
    finally:
        files_db.dispose()
    return {"student_id": student_id, "student": student, "reg": reg, "sha256": hashlib.sha256(content).hexdigest(),
            "file_id": up.json()["file_id"], "performance_id": perf.json()["id"], "username": username}


def test_a_future_or_malformed_application_date_is_refused(api):
    reg = api("reg_day")
    sid = reg.get("/students").json()[0]["id"]
    for bad in ((dt.date.today() + dt.timedelta(days=2)).isoformat(), "去年", ""):
        r = reg.put(f"/sealing/students/{sid}", json={"applied_on": bad})
        assert r.status_code == 422 and r.json()["error"]["code"] == "application_date_invalid", r.text
        assert r.json()["error"]["message_zh"]


def test_every_service_refuses_writes_to_the_sealed_student(stack, sealed_world):
    w = sealed_world
    # records (the student, the registrar), by the API: 409 student_sealed with its sentence
    r = w["student"].post("/performances", json={"kind": "work", "fields": {"name": "再一件", "made_on": "2026-05-02", "description": "再一件"}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "student_sealed", r.text
    assert "封存" in r.json()["error"]["message_zh"]
    r = w["reg"].post(f"/students/{w['student_id']}/status-changes",
                      json={"change": "repeat", "effective_on": "2026-09-01"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "student_sealed", r.text
    # the date itself is final
    r = w["reg"].put(f"/sealing/students/{w['student_id']}", json={"applied_on": "2020-01-01"})
    assert r.status_code in (403, 409) and r.json()["error"]["code"] in ("student_sealed", "sealed_read_required")
    # each database refuses it to its own app role, whatever SQL is sent
    for service, sql in (("records", "update students set name = 'x' where id = :s"),
                         ("certification", "insert into tasks (id, tenant, outcome_id, student_id, student_user_id, "
                                           "section_id, teacher_user_id, school_year, semester, course_code, "
                                           "subject_name, description, sha256, status) values (gen_random_uuid(), "
                                           "'day', gen_random_uuid(), :s, gen_random_uuid(), gen_random_uuid(), "
                                           "gen_random_uuid(), 115, 1, 'C', 'S', 'd', 'x', 'pending')"),
                         ("files", "update stored_files set state = 'stored' where student_id = :s")):
        engine = sa.create_engine(stack.service_database_url(service))
        try:
            def sealed_here():
                with engine.connect() as c:
                    return c.execute(sa.text("select count(*) from sealed_students where student_id = :s"),
                                     {"s": w["student_id"]}).scalar() == 1
            eventually(sealed_here, timeout=30)
            with pytest.raises(sa.exc.DBAPIError) as e, engine.begin() as c:
                c.execute(sa.text(sql), {"s": w["student_id"]})
            assert e.value.orig.pgcode == STUDENT_SEALED_SQLSTATE, service
        finally:
            engine.dispose()


def test_the_object_is_under_compliance_retention_on_the_s3_server(stack, sealed_world):
    engine = sa.create_engine(stack.database_url("files"))
    with engine.connect() as c:
        row = c.execute(sa.text("select bucket, key, version_id, state from stored_files where id = :f"),
                        {"f": sealed_world["file_id"]}).one()
    engine.dispose()
    assert row.state == "sealed"
    admin = Minio(stack.s3_endpoint, *S3_ADMIN, secure=False)
    stat = admin.stat_object(row.bucket, row.key, version_id=row.version_id)
    assert stat.metadata.get("x-amz-object-lock-mode") == "COMPLIANCE"
    with pytest.raises(Exception):
        admin.remove_object(row.bucket, row.key, version_id=row.version_id)


def test_the_manifest_is_signed_by_submission_and_lists_what_it_holds(stack, sealed_world, api):
    r = sealed_world["reg"].get(f"/sealing/students/{sealed_world['student_id']}/manifest")
    assert r.status_code == 200, r.text
    body = r.json()
    jwks = json.loads(stack.secrets["CALLER_PUBLIC_KEYS"])
    jwk = next(k for k in jwks["keys"] if k["kid"] == body["key_id"] == "submission")
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4)))
    assert manifest_domain.verify(body["manifest"], body["signature"], key)
    assert not manifest_domain.verify(dict(body["manifest"], tenant="ce"), body["signature"], key)
    assert body["manifest"]["student_id"] == sealed_world["student_id"]
    # another tenant's registrar finds nothing, and cannot set the date of (so seal) a day student
    assert api("reg_ce").get(f"/sealing/students/{sealed_world['student_id']}/manifest").status_code == 404
    day_student = sealed_world["reg"].get("/students").json()[0]["id"]
    r = api("reg_ce").put(f"/sealing/students/{day_student}", json={"applied_on": "2015-01-01"})
    assert r.status_code == 404, r.text
    assert sealed_world["reg"].get(f"/sealing/students/{day_student}").json()["applied_on"] != "2015-01-01"


def test_reads_only_through_a_request_two_roles_approved(stack, sealed_world, api):
    w = sealed_world
    reg = w["reg"]
    r = reg.get(f"/students/{w['student_id']}")
    assert r.status_code == 403 and r.json()["error"]["code"] == "sealed_read_required", r.text
    # another tenant's registrar cannot even ask
    assert api("reg_ce").post("/sealing/read-requests", json={"student_id": w["student_id"], "reason": "x"}) \
        .status_code == 404
    r = reg.post("/sealing/read-requests", json={"student_id": w["student_id"], "reason": ""})
    assert r.status_code == 422 and r.json()["error"]["code"] == "read_reason_required"
    req = reg.post("/sealing/read-requests", json={"student_id": w["student_id"], "reason": "補發在校紀錄"})
    assert req.status_code == 201, req.text
    rid = req.json()["id"]
    # the registrar cannot approve; the principal and the executive secretary do (as the gateway signs them)
    assert reg.post(f"/sealing/read-requests/{rid}/approve").json()["error"]["code"] == "not_allowed"
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        for role in ("principal", "executive_secretary"):
            who = caller_mod.Caller(user_id=str(uuid.uuid4()), username=f"{role}-e2e", tenant="day", roles=(role,))
            out = rpc.submission.approve_sealed_read(as_gateway(who, "submission"), rid)
        ce_principal = caller_mod.Caller(user_id=str(uuid.uuid4()), username="p-ce", tenant="ce", roles=("principal",))
        with pytest.raises(Exception):
            rpc.submission.approve_sealed_read(as_gateway(ce_principal, "submission"), rid)
    assert out["expires_at"] and len(out["approvals"]) == 2
    got = eventually(lambda: (lambda x: x if x.status_code == 200 else None)(reg.get(f"/students/{w['student_id']}")),
                     timeout=30)
    assert got.json()["name"] == "封存同學"
    engine = sa.create_engine(stack.database_url("records"))
    with engine.connect() as c:
        reads = c.execute(sa.text("select reader_user_id::text from sealed_reads where student_id = :s"),
                          {"s": w["student_id"]}).scalars().all()
    engine.dispose()
    assert reads and set(reads) == {reg.user["user_id"]}


def test_a_forged_sealed_event_from_another_service_is_refused_by_the_broker(stack):
    env = events.make_event(events.SEALED, "day", {
        "student_id": str(uuid.uuid4()), "student_user_id": str(uuid.uuid4()), "sealed_at": events.utcnow(),
        "manifest_digest": "0" * 64}, producer="submission")
    for principal in ("records", "files", "certification"):
        conn = pika.BlockingConnection(pika.URLParameters(stack.amqp_uri_for(principal)))
        ch = conn.channel()
        ch.confirm_delivery()   # so the broker's refusal comes back on the publish itself
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            ch.basic_publish("submission.events", events.SEALED, json.dumps(env, default=str).encode())
        assert e.value.reply_code == 403, principal
        conn.close()
