"""Legal hold on locked selections' files (issue 9 item 4) against real PostgreSQL, RabbitMQ and
S3 (SeaweedFS): `selection-locked`, delivered through the broker as the migrate step's queue
does, puts a legal hold on exactly the locked object versions; a re-lock after a correction
holds the new set and releases the ones no longer locked; redeliveries and stale versions
change nothing; an event naming another student's file is dead-lettered, not dropped; one
naming a file that has not arrived yet is retried until it has (issue 8 item 15)."""
import json
import time
import uuid

import pika
import pytest
from minio import Minio
from minio.error import S3Error

from files import locked
from files import usecases
from portfolio_common import amqp, events, signing
from tests.support import evidence as ev
from tests.support.ids import SECRETS
from tests.support.ids import S3_ADMIN

from .test_sealing_storage import Student, files, post, vhost_uri  # noqa: F401 - fixtures


def stored(client, ext, student, n):
    """n PDFs of the student, distinct bytes each: {outcome_id: stored_files row}."""
    for i in range(n):
        r = post(client, student, ev.pdf() + f"\n% {uuid.uuid4()}\n".encode())
        assert r.status_code == 201, r.get_json()
    return {str(r["subject_id"]): r for r in ext["repo"].files_of("day", student.student_id)}


def event(student, rows, version, tenant="day"):
    return events.make_event(events.SELECTION_LOCKED, tenant, {
        "student_id": student.student_id, "student_user_id": student.user_id, "school_year": 115,
        "outcome_ids": [str(r["subject_id"]) for r in rows], "locked_by": str(uuid.uuid4()),
        "locked_at": events.utcnow(), "lock_version": version,
        "files": [{"kind": "outcome", "subject_id": str(r["subject_id"]), "sha256": r["sha256"]} for r in rows]})


def publish(uri, env):
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    conn.channel().basic_publish("submission.events", events.SELECTION_LOCKED, json.dumps(env, default=str).encode(),
                                 pika.BasicProperties(delivery_mode=2, content_type="application/json"))
    conn.close()


def eventually(fn, within_s=30):
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("not within the time")


def held(store, row):
    return store.is_held(row["bucket"], row["key"], row["version_id"])


def test_lock_holds_locked_versions_relock_releases_the_rest(files, s3_endpoint):
    client, ext, uri = files
    store, admin = ext["store"], Minio(s3_endpoint, *S3_ADMIN, secure=False)
    s = Student()
    a, b, c = stored(client, ext, s, 3).values()
    publish(uri, event(s, [a, b], 1))
    eventually(lambda: held(store, a) and held(store, b))
    assert not held(store, c)
    for who in (store.client, admin):       # nobody deletes a held version on the real server
        with pytest.raises(S3Error):
            who.remove_object(a["bucket"], a["key"], version_id=a["version_id"])
    assert b"".join(store.read_all(a["bucket"], a["key"], a["version_id"]))

    # unlock for a correction, the student swaps b for c, re-lock: version 2
    publish(uri, event(s, [a, c], 2))
    eventually(lambda: held(store, c) and not held(store, b))
    assert held(store, a)
    assert {str(r["id"]) for r in locked.held_files(ext["engine"], "day", s.user_id, 115)} == {str(a["id"]), str(c["id"])}
    # b, no longer locked, can be deleted again (its hold lifted on the server)
    admin.remove_object(b["bucket"], b["key"], version_id=b["version_id"])

    # a late redelivery of version 1 changes nothing; a re-lock holding nothing releases all
    assert locked.apply_selection_locked(ext["engine"], store, events.load_event(
        events.SELECTION_LOCKED, event(s, [a], 1)))["skipped"]
    assert held(store, c)
    publish(uri, event(s, [], 3))
    eventually(lambda: not held(store, a) and not held(store, c))


def test_redelivery_is_harmless_and_another_students_file_is_not_held(files):
    client, ext, _ = files
    s, other = Student(), Student()
    (a,) = stored(client, ext, s, 1).values()
    (x,) = stored(client, ext, other, 1).values()
    env = events.load_event(events.SELECTION_LOCKED, event(s, [a], 1))
    assert locked.apply_selection_locked(ext["engine"], ext["store"], env) == {"held": 1, "released": 0,
                                                                                "skipped": False}
    assert locked.apply_selection_locked(ext["engine"], ext["store"], env)["held"] == 1
    assert len(locked.held_files(ext["engine"], "day", s.user_id, 115)) == 1
    # an event naming the other student's file (or another tenant's) holds nothing: dead-lettered
    for forged in (event(s, [x], 2), event(s, [a], 2, tenant="ce")):
        with pytest.raises(events.PermanentEventError):
            locked.apply_selection_locked(ext["engine"], ext["store"], events.load_event(events.SELECTION_LOCKED, forged))
    assert not held(ext["store"], x)
    assert [str(r["id"]) for r in locked.held_files(ext["engine"], "day", s.user_id, 115)] == [str(a["id"])]


def test_an_event_from_before_the_files_field_holds_the_outcomes_newest_version(files):
    client, ext, _ = files
    s = Student()
    (a,) = stored(client, ext, s, 1).values()
    env = event(s, [a], 1)
    del env["payload"]["files"], env["payload"]["lock_version"]
    assert locked.apply_selection_locked(ext["engine"], ext["store"], events.load_event(
        events.SELECTION_LOCKED, env))["held"] == 1
    assert held(ext["store"], a)


def _dlq_count(uri):
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    try:
        return conn.channel().queue_declare(amqp.dead_letter_queue(locked.QUEUE), passive=True).method.message_count
    finally:
        conn.close()


def test_a_lock_naming_a_file_not_arrived_yet_is_retried_until_it_has(files, monkeypatch):
    """selection-locked published before the locked file is stored in files (its upload applied
    later, e.g. restored behind the lock): the event waits on the retry queue instead of the
    DLQ, and once the file is stored the hold is applied."""
    monkeypatch.setenv("EVENT_RETRY_DELAYS_MS", "1000")     # the retry queue the fixture's vhost has
    client, ext, uri = files
    s = Student()
    outcome_id = str(uuid.uuid4())
    data = ev.pdf() + f"\n% {uuid.uuid4()}\n".encode()
    import hashlib
    early = {"subject_id": outcome_id, "sha256": hashlib.sha256(data).hexdigest()}
    publish(uri, event(s, [early], 1))
    time.sleep(4)       # several attempts: it neither applies nor reaches the DLQ
    assert locked.held_files(ext["engine"], "day", s.user_id, 115) == []
    assert _dlq_count(uri) == 0

    claims = {"kind": "outcome", "tenant": "day", "student_id": s.student_id, "student_user_id": s.user_id,
              "school_year": 115, "description": "期末專題：記帳程式", "outcome_id": outcome_id,
              "section_id": str(uuid.uuid4()), "teacher_user_id": str(uuid.uuid4()), "semester": 1,
              "course_code": "115050407H11A0101", "subject_name": "程式設計實習"}
    r = client.post("/v1/files", data=data, headers={
        "Authorization": f"Bearer {s.token()}", "X-Filename": "a.pdf", "Content-Type": "application/octet-stream",
        "X-Upload-Ticket": signing.sign(claims, SECRETS["TICKET_KEY"], ttl=900, purpose=usecases.TICKET_PURPOSE)})
    assert r.status_code == 201, r.get_json()
    (row,) = ext["repo"].files_of("day", s.student_id)
    eventually(lambda: held(ext["store"], row), within_s=30)
    assert [str(f["id"]) for f in locked.held_files(ext["engine"], "day", s.user_id, 115)] == [str(row["id"])]
    assert _dlq_count(uri) == 0


def test_not_arrived_is_retried_and_another_students_file_is_permanent(files):
    """The consumer's decision, without the broker: a file files holds nothing of -> RetryLater
    (never the DLQ at once); the same subject stored for another student -> PermanentEventError."""
    from portfolio_common.errors import RetryLater
    client, ext, _ = files
    s, other = Student(), Student()
    (x,) = stored(client, ext, other, 1).values()
    ghost = {"subject_id": str(uuid.uuid4()), "sha256": "0" * 64}
    with pytest.raises(RetryLater):
        locked.apply_selection_locked(ext["engine"], ext["store"], events.load_event(
            events.SELECTION_LOCKED, event(s, [ghost], 1)))
    old = event(s, [ghost], 1)
    del old["payload"]["files"]
    with pytest.raises(RetryLater):
        locked.apply_selection_locked(ext["engine"], ext["store"], events.load_event(events.SELECTION_LOCKED, old))
    with pytest.raises(events.PermanentEventError):
        locked.apply_selection_locked(ext["engine"], ext["store"], events.load_event(
            events.SELECTION_LOCKED, event(s, [x], 1)))
    assert locked.held_files(ext["engine"], "day", s.user_id, 115) == []
