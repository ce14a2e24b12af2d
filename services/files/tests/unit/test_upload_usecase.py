"""Upload use cases with the in-memory repository and store: no broker, no database, no S3."""
import datetime as dt
import io
import uuid

import pytest

from files import domain, usecases
from files.errors import (FileDamaged, FileEmpty, FileTypeRefused, FileTooLarge, TicketUsed, UploadInProgress,
                          UploadTruncated)
from files.repository import FakeFileRepository, FakeObjectStore
from files.storage import spool_body
from portfolio_common import caller as caller_mod
from tests.support import evidence as ev

LIMITS = domain.Limits()


def setup(kind="outcome"):
    c = caller_mod.Caller(user_id=str(uuid.uuid4()), username="s", tenant="day", roles=("student",))
    t = {"kind": kind, "tenant": "day", "student_id": str(uuid.uuid4()), "student_user_id": c.user_id,
         "school_year": 115, "description": "簡述", "semester": 1}
    if kind == "outcome":
        t.update(outcome_id=str(uuid.uuid4()), section_id=str(uuid.uuid4()), teacher_user_id=str(uuid.uuid4()),
                 course_code="C1", subject_name="程式設計")
    elif kind == "performance":
        t.update(performance_id=str(uuid.uuid4()), performance_kind="licence", entered_by="student")
    else:
        t.update(item_id=str(uuid.uuid4()), item_kind="competition", attempt=2)
    ticket = domain.TicketClaims.from_ticket(t)
    ticket.expires_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=15)
    return FakeFileRepository(), FakeObjectStore(), c, ticket


def test_stored_once_then_replayed_or_refused():
    repo, store, c, t = setup()
    data = ev.pdf()
    status, res = usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(data), "a.pdf", len(data))
    assert status == 201 and [e["event"] for e in repo.events] == ["outcome-uploaded"]
    # one object was ever written, at the final key (store._n counts every write)
    assert [k[1] for k in store.objects] == [f"outcomes/{t.student_id}/{res['file_id']}"] and store._n == 1
    status, again = usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(data), "a.pdf", len(data))
    assert (status, again["file_id"]) == (200, res["file_id"]) and len(store.objects) == 1
    with pytest.raises(TicketUsed):
        usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.pdf()), "b.pdf")
    assert len(repo.events) == 1


def test_refusal_ends_the_upload_and_frees_the_slot():
    repo, store, c, t = setup()
    with pytest.raises(FileEmpty):
        usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(b""), "成果.pdf", 0)
    assert store.objects == {}
    (ev_,) = repo.events
    assert ev_["event"] == "upload-refused" and ev_["payload"]["code"] == "file_empty"
    assert ev_["payload"]["subject_id"] == t.subject_id


def test_a_failure_after_the_write_leaves_nothing_and_frees_the_slot():
    repo, store, c, t = setup()
    repo.fail_on_store = RuntimeError("database gone")
    with pytest.raises(RuntimeError):
        usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.pdf()), "a.pdf")
    assert store.objects == {}
    assert [e["payload"]["code"] for e in repo.events] == ["internal"]


@pytest.mark.parametrize("data,name,error", [
    (ev.png(trailing=ev.zip_bytes()), "photo.png", FileTypeRefused),     # decided at the last byte
    (ev.mp4(2 * 1024 * 1024, lie=1024 * 1024), "video.mp4", FileDamaged),  # decided at the end
    (ev.pdf(4 * 1024 * 1024 + 10), "big.pdf", FileTooLarge),
], ids=["polyglot", "lying-mp4", "oversize"])
def test_bytes_refused_even_at_their_last_byte_are_never_written(data, name, error):
    repo, store, c, t = setup()
    with pytest.raises(error):
        usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(data), name)
    assert store._n == 0, "refused bytes reached the object store"
    assert [e["event"] for e in repo.events] == ["upload-refused"]


class _Breaks(io.RawIOBase):
    """A body whose connection drops after `n` bytes."""

    def __init__(self, data, n):
        self.data, self.n = data, n

    def readable(self):
        return True

    def read(self, size=-1):
        if self.n <= 0:
            raise ConnectionResetError("the phone lost its signal")
        out, self.data = self.data[:min(size, self.n)], self.data[min(size, self.n):]
        self.n -= len(out)
        return out


def test_a_truncated_or_broken_body_is_never_written():
    for body in (io.BytesIO(ev.pdf(200_000)[:50_000]), _Breaks(ev.pdf(200_000), 70_000)):
        repo, store, c, t = setup()
        with pytest.raises(UploadTruncated):
            usecases.upload_once(repo, store, LIMITS, c, t, body, "a.pdf", 200_000)
        assert store._n == 0 and [e["payload"]["code"] for e in repo.events] == ["upload_truncated"]


def test_the_spool_is_an_anonymous_file_on_disk_bounded_by_the_inspector(tmp_path):
    data = ev.pdf(300_000)
    for expected, memory_max in ((None, 4 * 1024 * 1024), (len(data), len(data) - 1)):
        seen = []   # no declared length, or one above the memory bound: on disk
        with spool_body(io.BytesIO(data), expected=expected, inspect=seen.append, directory=tmp_path,
                        memory_max=memory_max) as fh:
            assert fh.fileno() >= 0 and list(tmp_path.iterdir()) == []   # on disk, and nameless
            assert fh.read() == data and b"".join(seen) == data
    insp = domain.Inspector(LIMITS.for_year(115))
    with pytest.raises(FileTooLarge):   # the inspector stops it at the type's limit
        spool_body(io.BytesIO(ev.pdf(4 * 1024 * 1024 + 10)), inspect=insp.feed, directory=tmp_path)
    assert insp.size <= 4 * 1024 * 1024 + 1024 * 1024


def test_a_declared_document_size_is_received_in_memory_and_still_inspected_whole(tmp_path):
    data = ev.pdf(300_000)
    seen = []
    with spool_body(io.BytesIO(data), expected=len(data), inspect=seen.append, directory=tmp_path) as fh:
        assert isinstance(fh, io.BytesIO) and list(tmp_path.iterdir()) == []
        assert fh.read() == data and b"".join(seen) == data
    with pytest.raises(UploadTruncated):   # declared 300,000, sent fewer: refused, nothing returned
        spool_body(io.BytesIO(data[:1000]), expected=len(data), inspect=seen.append, directory=tmp_path)
    insp = domain.Inspector(LIMITS.for_year(115), declared_length=None)
    with pytest.raises(FileTooLarge):   # a declared length under the bound does not lift the limit
        spool_body(io.BytesIO(ev.pdf(4 * 1024 * 1024 + 10)), expected=4 * 1024 * 1024 + 10, inspect=insp.feed,
                   directory=tmp_path, memory_max=8 * 1024 * 1024)


def test_an_upload_in_progress_is_not_started_twice():
    repo, store, c, t = setup()
    repo.begin_upload(usecases._new_upload(t, c, filename="a.pdf", resumable=True, length=10))
    with pytest.raises(UploadInProgress):
        usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.pdf()), "a.pdf")


def test_performance_proof_is_announced_as_performance_uploaded():
    repo, store, c, t = setup("performance")
    usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.mp3()), "錄音.mp3")
    (e,) = repo.events
    assert e["event"] == "performance-uploaded" and e["payload"]["content_type"] == "audio/mpeg"


def test_an_items_proof_is_kept_under_proofs_and_announced_as_proof_uploaded():
    repo, store, c, t = setup("item_proof")
    status, res = usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.pdf()), "獎狀.pdf")
    (e,) = repo.events
    assert status == 201 and e["event"] == "proof-uploaded"
    assert (e["payload"]["item_kind"], e["payload"]["item_id"], e["payload"]["attempt"]) == \
        ("competition", t.subject_id, 2)
    assert [k[1] for k in store.objects] == [f"proofs/{t.student_id}/{res['file_id']}"]


def test_a_proofs_event_names_its_uploader_by_user_id_only():
    repo, store, c, t = setup("item_proof")
    uploader = str(uuid.uuid4())              # the organising unit's staff member holding the ticket
    t.claims["uploader_user_id"] = uploader
    usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.pdf()), "獎狀.pdf")
    (e,) = repo.events
    assert e["payload"]["uploader_user_id"] == uploader
    assert not {"uploader_username", "username", "display_name"} & set(e["payload"])


def test_an_items_proof_is_read_by_its_student_or_with_records_read_grant_only():
    from portfolio_common import signing
    from files.errors import NotFound
    repo, store, c, t = setup("item_proof")
    _, res = usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.pdf()), "獎狀.pdf")
    fid, key = res["file_id"], "grant-key"
    assert usecases.download_link(repo, c, fid, "link-key")["filename"] == "獎狀.pdf"   # its student
    teacher = caller_mod.Caller(user_id=str(uuid.uuid4()), username="t", tenant="day", roles=("homeroom_teacher",))
    registrar = caller_mod.Caller(user_id=str(uuid.uuid4()), username="r", tenant="day", roles=("registrar",))

    def grant(who, file_id=fid, tenant="day", purpose="file-read-grant", k=key):
        return signing.sign({"file_id": file_id, "tenant": tenant, "user_id": who.user_id}, k, ttl=60, purpose=purpose)
    assert usecases.download_link(repo, teacher, fid, "link-key", grant=grant(teacher), grant_key=key)["path"]
    refused = [(registrar, None),                       # no registrar shortcut for an item's proof
               (teacher, None), (teacher, grant(registrar)), (teacher, grant(teacher, file_id=str(uuid.uuid4()))),
               (teacher, grant(teacher, tenant="ce")), (teacher, grant(teacher, purpose="upload-ticket")),
               (teacher, grant(teacher, k="forged")), (teacher, "garbage")]
    for who, g in refused:
        with pytest.raises(NotFound):
            usecases.download_link(repo, who, fid, "link-key", grant=g, grant_key=key)


def test_a_performances_proof_is_read_by_the_homeroom_teacher_with_records_read_grant_only():
    from portfolio_common import signing
    from files.errors import NotFound
    repo, store, c, t = setup("performance")
    _, res = usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.pdf()), "證照.pdf")
    fid, key = res["file_id"], "grant-key"
    homeroom = caller_mod.Caller(user_id=str(uuid.uuid4()), username="t", tenant="day", roles=("homeroom_teacher",))
    other = caller_mod.Caller(user_id=str(uuid.uuid4()), username="o", tenant="day", roles=("homeroom_teacher",))

    def grant(who, file_id=fid):
        return signing.sign({"file_id": file_id, "tenant": "day", "user_id": who.user_id}, key, ttl=60,
                            purpose="file-read-grant")
    assert usecases.download_link(repo, c, fid, "link-key")["filename"] == "證照.pdf"        # its student
    assert usecases.download_link(repo, homeroom, fid, "link-key", grant=grant(homeroom), grant_key=key)["path"]
    for who, g in ((homeroom, None), (other, grant(homeroom)), (other, grant(other, str(uuid.uuid4()))),
                   (other, "garbage")):   # the other class's teacher holds no grant of theirs for it
        with pytest.raises(NotFound):
            usecases.download_link(repo, who, fid, "link-key", grant=g, grant_key=key)


def test_expired_uploads_are_swept_once():
    repo, store, c, t = setup()
    t.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    repo.begin_upload(usecases._new_upload(t, c, filename="a.pdf", resumable=True, length=10))
    assert usecases.sweep_expired(repo, store) == 1 and usecases.sweep_expired(repo, store) == 0
    assert repo.events[0]["payload"]["code"] == "upload_expired"


def test_a_single_put_is_signed_with_the_fingerprint_without_hashing_the_bytes_again(monkeypatch):
    """storage.put_stream(sha256=...) hands the Inspector's SHA-256 to minio's request signing
    for that one PUT (x-amz-content-sha256); minio hashes nothing itself then. A multipart
    upload, another thread's or the next request's body is hashed by minio as before."""
    import hashlib

    import minio.api

    from files import storage
    computed, signed = [], []
    monkeypatch.setattr(storage, "_minio_sha256_hash", lambda data: computed.append(len(data or b"")) or "h")

    class Client:   # the minio client's PUT: the payload hash it signs with, as _build_headers asks it
        def put_object(self, bucket, key, stream, length, part_size, content_type):
            body = stream.read(length)
            signed.append(minio.api.sha256_hash(body))
            return type("R", (), {"version_id": "v1"})()

    store = storage.ObjectStore.__new__(storage.ObjectStore)
    store.client, store.observe = Client(), lambda op, s: None
    data = ev.pdf(300_000)
    digest = hashlib.sha256(data).hexdigest()
    store.put_stream("b", "k", io.BytesIO(data), "application/pdf", len(data), sha256=digest)
    assert signed == [digest] and computed == []
    store.put_stream("b", "k", io.BytesIO(data), "application/pdf", len(data))          # none given
    store.put_stream("b", "k", io.BytesIO(data), "application/pdf", -1, sha256=digest)  # multipart: not used
    assert signed == [digest, "h", "h"] and computed == [len(data), len(data)]


def test_the_use_case_signs_the_put_with_the_fingerprint_of_the_bytes_it_stores():
    repo, store, c, t = setup()
    data = ev.pdf(200_000)
    status, out = usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(data), "a.pdf", len(data))
    # the fake store refuses a PUT whose bytes do not have the SHA-256 it is given, as S3 does
    assert status == 201 and out["sha256"] == __import__("hashlib").sha256(data).hexdigest()
    assert list(store.objects.values()) == [data]
