"""Transfer packages at the files service (issue 9 item 8, import side), over the in-memory
repository and store: a registrar's ticket of kind transfer_package takes a zip only (by
content), within TRANSFER_MAX_BYTES, publishes nothing; only submission reads it back; on
confirm its evidence entries become files of the student, fingerprints checked, once."""
import datetime as dt
import hashlib
import io
import uuid
import zipfile

import pytest

from files import domain, usecases
from files.errors import FileDamaged, FileTooLarge, FileTypeRefused, NotFound
from files.repository import FakeFileRepository, FakeObjectStore
from portfolio_common import caller as caller_mod
from tests.support import evidence as ev

PDF = ev.pdf()
LIMITS = domain.Limits(package_max_bytes=1024 * 1024)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def a_zip(extra=b""):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", b"{}")
        zf.writestr(f"evidence/{sha(PDF)}.pdf", PDF)
        if extra:
            zf.writestr("evidence/" + "1" * 64 + ".bin", extra)
    return buf.getvalue()


def setup():
    reg = caller_mod.Caller(user_id=str(uuid.uuid4()), username="reg_day", tenant="day", roles=("registrar",))
    student_user = str(uuid.uuid4())
    t = {"kind": "transfer_package", "package_id": str(uuid.uuid4()), "tenant": "day",
         "student_id": str(uuid.uuid4()), "student_user_id": student_user, "uploader_user_id": reg.user_id,
         "school_year": 115, "semester": None}
    ticket = domain.TicketClaims.from_ticket(t)
    ticket.expires_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=15)
    return FakeFileRepository(), FakeObjectStore(), reg, ticket


def submission(tenant="day"):
    return caller_mod.Caller(user_id="system:submission", username="system:submission", tenant=tenant,
                             roles=("system:submission",))


def upload(data, name="轉學檔案.zip"):
    repo, store, reg, t = setup()
    status, res = usecases.upload_once(repo, store, LIMITS, reg, t, io.BytesIO(data), name, len(data))
    return repo, store, reg, t, status, res


def test_a_zip_is_stored_under_transfers_without_an_event():
    data = a_zip()
    repo, store, reg, t, status, res = upload(data)
    assert status == 201 and res["kind"] == "transfer_package" and res["sha256"] == sha(data)
    assert res["content_type"] == "application/zip" and res["filename"] == "轉學檔案.zip"
    assert [k[1] for k in store.objects] == [f"transfers/{t.student_id}/{res['file_id']}"]
    assert repo.events == []     # nobody waits for it; records keeps no quota slot for it


@pytest.mark.parametrize("data,error", [
    (PDF, FileTypeRefused),                                  # not a zip, whatever its name
    (a_zip()[:-30], FileDamaged),                            # cut short: no central directory
    (a_zip(extra=bytes(range(256)) * 5000), FileTooLarge),   # over TRANSFER_MAX_BYTES (1 MB here)
])
def test_anything_but_a_whole_zip_within_the_limit_is_refused(data, error):
    repo, store, reg, t = setup()
    with pytest.raises(error) as exc:
        usecases.upload_once(repo, store, LIMITS, reg, t, io.BytesIO(data), "x.zip", len(data))
    assert store.objects == {} and repo.events == []          # no upload-refused: no slot to free
    assert exc.value.zh.startswith(("轉學檔案", "ZIP"))


def test_a_declared_length_over_the_limit_is_refused_before_any_byte():
    with pytest.raises(FileTooLarge):
        domain.inspector_for(LIMITS.for_year(115), "transfer_package", 2 * 1024 * 1024)


def test_only_submission_reads_an_uploaded_package():
    repo, store, reg, t, _, res = upload(a_zip())
    student = caller_mod.Caller(user_id=t.student_user_id, username="s", tenant="day", roles=("student",))
    for who in (reg, student):
        with pytest.raises(NotFound):
            usecases.download_link(repo, who, res["file_id"], "k")
    link = usecases.download_link(repo, submission(), res["file_id"], "k")
    assert link["kind"] == "transfer_package" and link["student_id"] == t.student_id
    with pytest.raises(NotFound):     # the other tenant's submission
        usecases.download_link(repo, submission("ce"), res["file_id"], "k")


def test_unpack_keeps_each_evidence_entry_once_with_its_fingerprint():
    repo, store, reg, t, _, res = upload(a_zip())
    entry = {"path": f"evidence/{sha(PDF)}.pdf", "sha256": sha(PDF), "size": len(PDF), "filename": "專題.pdf"}
    out = usecases.unpack_transfer(repo, store, submission(), res["file_id"], t.student_id, [entry])
    kept = out[sha(PDF)]
    row = repo.find(uuid.UUID(kept["file_id"]), "day")
    assert row["kind"] == "transfer_evidence" and row["sha256"] == sha(PDF) and row["content_type"] == "application/pdf"
    assert row["filename"] == "專題.pdf" and str(row["owner_user_id"]) == t.student_user_id
    assert store.objects[(row["bucket"], row["key"], row["version_id"])] == PDF
    n = len(store.objects)
    again = usecases.unpack_transfer(repo, store, submission(), res["file_id"], t.student_id, [entry])
    assert again == out and len(store.objects) == n            # the same file, nothing stored twice
    # the student reads it as its owner; the registrar only with records' grant
    student = caller_mod.Caller(user_id=t.student_user_id, username="s", tenant="day", roles=("student",))
    assert usecases.download_link(repo, student, kept["file_id"], "k")["filename"] == "專題.pdf"
    with pytest.raises(NotFound):
        usecases.download_link(repo, reg, kept["file_id"], "k")


def test_unpack_refuses_others_and_entries_that_are_not_their_fingerprint():
    repo, store, reg, t, _, res = upload(a_zip())
    entry = {"path": f"evidence/{sha(PDF)}.pdf", "sha256": sha(PDF), "size": len(PDF)}
    with pytest.raises(NotFound):
        usecases.unpack_transfer(repo, store, reg, res["file_id"], t.student_id, [entry])
    with pytest.raises(NotFound):
        usecases.unpack_transfer(repo, store, submission(), res["file_id"], str(uuid.uuid4()), [entry])
    with pytest.raises(FileDamaged):
        usecases.unpack_transfer(repo, store, submission(), res["file_id"], t.student_id,
                                 [dict(entry, sha256="0" * 64, path="evidence/" + "0" * 64 + ".pdf")])
    with pytest.raises(FileDamaged):
        usecases.unpack_transfer(repo, store, submission(), res["file_id"], t.student_id, [dict(entry, size=1)])
    from files.errors import Invalid
    with pytest.raises(Invalid):
        usecases.unpack_transfer(repo, store, submission(), res["file_id"], t.student_id,
                                 [dict(entry, path="../../etc/passwd")])
    assert len(store.objects) == 1


def test_a_package_older_than_its_keep_is_purged_and_its_imported_evidence_stays():
    """purge_old_packages: the zip (a national ID inside) is deleted once it is older than the
    keep (30 days by default); the evidence files it was unpacked into, other packages still in
    their keep, and a sealed student's package stay. A purged package is not found by anyone,
    submission included, and purging twice changes nothing."""
    repo, store, reg, t, _, old = upload(a_zip())
    entry = {"path": f"evidence/{sha(PDF)}.pdf", "sha256": sha(PDF), "size": len(PDF)}
    kept = usecases.unpack_transfer(repo, store, submission(), old["file_id"], t.student_id, [entry])[sha(PDF)]
    young = usecases.upload_once(repo, store, LIMITS, reg, _ticket_like(t), io.BytesIO(a_zip(b"y")), "b.zip", None)[1]
    sealed = usecases.upload_once(repo, store, LIMITS, reg, _ticket_like(t), io.BytesIO(a_zip(b"s")), "c.zip", None)[1]
    now = dt.datetime.now(dt.timezone.utc)
    repo.rows[old["file_id"]]["created_at"] = now - dt.timedelta(days=31)
    repo.rows[sealed["file_id"]]["created_at"] = now - dt.timedelta(days=400)
    repo.set_file_state(sealed["file_id"], "sealed")
    evidence_row = repo.rows[kept["file_id"]]
    evidence_row["created_at"] = now - dt.timedelta(days=400)     # evidence is never a package

    assert usecases.purge_old_packages(repo, store, keep_days=30, now=now) == 1
    keys = {k[1] for k in store.objects}
    assert f"transfers/{t.student_id}/{old['file_id']}" not in keys
    assert {f"transfers/{t.student_id}/{young['file_id']}", f"transfers/{t.student_id}/{sealed['file_id']}",
            evidence_row["key"]} <= keys
    assert repo.rows[old["file_id"]]["state"] == "purged" and repo.rows[old["file_id"]]["sha256"] == old["sha256"]
    with pytest.raises(NotFound):
        usecases.download_link(repo, submission(), old["file_id"], "k")
    with pytest.raises(NotFound):
        usecases.unpack_transfer(repo, store, submission(), old["file_id"], t.student_id, [entry])
    assert usecases.purge_old_packages(repo, store, keep_days=30, now=now) == 0


def _ticket_like(t):
    """Another package of the same student (a new package id)."""
    import copy
    other = copy.copy(t)
    other.subject_id = str(uuid.uuid4())
    return other
