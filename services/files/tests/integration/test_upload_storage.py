"""Uploads against a real S3 endpoint and PostgreSQL: stored whole, or nothing left behind."""
import io
import uuid

import pytest
import sqlalchemy as sa

from files import usecases
from files.repository import SqlFileRepository
from files.errors import AlreadyUploaded, FileTooLarge, FileTypeRefused, TicketMismatch
from portfolio_common import caller as caller_mod
from portfolio_common import signing

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


def student(tenant="day"):
    return caller_mod.Caller(user_id=str(uuid.uuid4()), username="s", tenant=tenant, roles=("student",))


def ticket_for(c, **over):
    t = {"kind": "outcome", "outcome_id": str(uuid.uuid4()), "tenant": c.tenant, "student_id": str(uuid.uuid4()),
         "student_user_id": c.user_id, "section_id": str(uuid.uuid4()), "teacher_user_id": str(uuid.uuid4()),
         "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計", "description": "簡述"}
    t.update(over)
    return t


def everything_in(store, tenant):
    bucket = store.bucket_for(tenant)
    if not store.client.bucket_exists(bucket):
        return []
    return [(o.object_name, o.version_id, o.is_delete_marker) for o in store.versions(bucket, "")]


@pytest.fixture
def files_db(service_db):
    return service_db("files")


def test_stored_object_is_promoted_fingerprinted_and_announced(files_db, object_store):
    c = student()
    t = ticket_for(c)
    res = usecases.upload_outcome(SqlFileRepository(files_db.engine), object_store, c, t, io.BytesIO(PDF), "x.pdf", len(PDF))
    bucket = object_store.bucket_for("day")
    (row,) = files_db.rows("stored_files")
    assert row["sha256"] == res["sha256"] and row["key"] == f"outcomes/{t['student_id']}/{res['file_id']}"
    assert object_store.open(bucket, row["key"], row["version_id"]).read() == PDF
    names = {n for n, _, _ in everything_in(object_store, "day")}
    assert names == {row["key"]}, "the quarantine copy is gone"
    assert object_store.client.get_bucket_versioning(bucket).status == "Enabled"
    assert object_store.client.get_object_lock_config(bucket) is not None
    (rule,) = object_store.client.get_bucket_lifecycle(bucket).rules
    assert rule.rule_filter.prefix == "quarantine/" and rule.expiration.days == 1
    (event,) = files_db.outbox_bodies("outcome-uploaded")
    assert event["payload"]["outcome_id"] == t["outcome_id"] and event["tenant"] == "day"
    with pytest.raises(AlreadyUploaded):
        usecases.upload_outcome(SqlFileRepository(files_db.engine), object_store, c, t, io.BytesIO(PDF), "x.pdf", len(PDF))


@pytest.mark.parametrize("body,error", [
    (b"MZ\x90\x00 an exe renamed to .pdf", FileTypeRefused),
    (b"%PDF-" + b"0" * (4 * 1024 * 1024), FileTooLarge),
])
def test_refused_upload_leaves_nothing_behind(files_db, object_store, body, error):
    c = student("ce")
    before = everything_in(object_store, "ce")
    with pytest.raises(error):
        usecases.upload_outcome(SqlFileRepository(files_db.engine), object_store, c, ticket_for(c), io.BytesIO(body), "a.pdf")
    assert everything_in(object_store, "ce") == before
    assert files_db.rows("stored_files") == [] and files_db.outbox_bodies() == []


def test_declared_oversize_is_refused_before_reading(files_db, object_store):
    c = student()
    with pytest.raises(FileTooLarge):
        usecases.upload_outcome(SqlFileRepository(files_db.engine), object_store, c, ticket_for(c), io.BytesIO(b""), "a.pdf",
                                declared_length=50 * 1024 * 1024)


def test_tickets_bind_student_and_tenant():
    c = student("day")
    tok = signing.sign(ticket_for(c), "k", ttl=60, purpose=usecases.TICKET_PURPOSE)
    assert usecases.check_ticket(c, tok, "k")["student_user_id"] == c.user_id
    other_student = caller_mod.Caller(user_id=str(uuid.uuid4()), username="x", tenant="day", roles=("student",))
    same_user_other_tenant = caller_mod.Caller(user_id=c.user_id, username="s", tenant="ce", roles=("student",))
    for who in (other_student, same_user_other_tenant):
        with pytest.raises(TicketMismatch):
            usecases.check_ticket(who, tok, "k")
    with pytest.raises(Exception) as e:
        usecases.check_ticket(c, tok, "another key")
    assert e.value.code == "token_invalid"


def test_tenants_have_separate_buckets_and_downloads_do_not_cross(files_db, object_store):
    day, ce = student("day"), student("ce")
    r = usecases.upload_outcome(SqlFileRepository(files_db.engine), object_store, day, ticket_for(day), io.BytesIO(PDF), "a.pdf")
    assert object_store.bucket_for("day") != object_store.bucket_for("ce")
    assert usecases.find_for_download(SqlFileRepository(files_db.engine), day, r["file_id"])["size"] == len(PDF)
    ce_registrar = caller_mod.Caller(user_id=str(uuid.uuid4()), username="r", tenant="ce", roles=("registrar",))
    classmate = student("day")
    for who in (ce_registrar, classmate):
        with pytest.raises(Exception) as e:
            usecases.find_for_download(SqlFileRepository(files_db.engine), who, r["file_id"])
        assert e.value.code == "not_found"
    with files_db.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from stored_files")).scalar() == 1
