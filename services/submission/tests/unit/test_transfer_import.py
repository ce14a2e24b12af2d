"""Transfer IMPORT (issue 9 item 8, the receiving side) over fakes: a package is checked by the
one checker (package.open_package), matched to the chosen student by the service that keeps the
national ID, previewed without storing anything, stored once per zip SHA-256; every refusal has
its code and stores nothing (no unpack, no store)."""
import contextlib
import hashlib
import io
import json
import uuid
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portfolio_common import caller as caller_mod
from submission.errors import Invalid, NotAllowed, NotFound
from submission.transfer import importing, package, usecases

KEY = Ed25519PrivateKey.generate()
SIGNER = usecases.TransferSigner(KEY, "012345")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
SID = str(uuid.uuid4())
NID = "B612345678"


def sha(b):
    return hashlib.sha256(b).hexdigest()


def export(nid=NID):
    fid = str(uuid.uuid4())
    return {"student_id": str(uuid.uuid4()), "student_user_id": str(uuid.uuid4()), "school_years": [114],
            "profile": {"student_no": "A0001", "name": "林小華", "birth_date": "2009-01-02", "gender": "2",
                        "national_id": nid, "class_name": "一甲", "seat_no": 3, "status": "enrolled",
                        "school_code": "012345"},
            "grades": [{"school_year": 114, "semester": 1, "course_code": "C1", "subject_name": "國文",
                        "credits": 4, "semester_grade": 80, "passed": True}],
            "attendance": [], "activities": [], "competitions": [], "status_changes": [],
            "outcomes": [{"outcome_id": str(uuid.uuid4()), "school_year": 114, "semester": 1, "course_code": "C1",
                          "subject_name": "國文", "description": "讀書報告", "status": "certified",
                          "files": [{"slot": "document", "file_id": fid, "filename": "報告.pdf",
                                     "content_type": "application/pdf", "size": len(PDF), "sha256": sha(PDF)}],
                          "certification": None}],
            "performances": [], "autobiography": []}, {fid: PDF}


def build(nid=NID, signer=SIGNER):
    exp, files = export(nid)

    @contextlib.contextmanager
    def source(file_id):
        yield io.BytesIO(files[file_id])
    out = io.BytesIO()
    package.build(out, exp, origin={"school_code": "012345", "tenant": "day"}, exported_at="2026-11-01T08:00:00+08:00",
                  exported_by="registrar", evidence=source, signer=signer)
    return out.getvalue()


class World:
    """The ports: files holds uploaded zips, records the student (its national ID), stores."""

    def __init__(self, data, kind="transfer_package", student_id=SID, nid=NID, sealed=False, school_code="099999"):
        self.file_id = str(uuid.uuid4())
        self.school_code = school_code  # this platform's school (the packages above come from 012345)
        self.data, self.kind, self.student_id, self.nid, self.sealed = data, kind, student_id, nid, sealed
        self.unpacked, self.stored = [], {}

    @contextlib.contextmanager
    def package_file(self, file_id):
        if file_id != self.file_id:
            raise NotFound("package not found")
        yield io.BytesIO(self.data), {"kind": self.kind, "student_id": self.student_id, "sha256": sha(self.data),
                                      "size": len(self.data)}

    def target(self, student_id, national_id):
        if student_id != SID:
            raise NotFound("student not found")
        if self.sealed:
            from portfolio_common.sealing import StudentSealed
            raise StudentSealed("sealed")
        return {"student_id": SID, "student_user_id": "u", "student_no": "11515201", "name": "林小華",
                "class_name": "資一甲", "matches": national_id.upper() == self.nid, "imported": list(self.stored)}

    def unpack(self, file_id, student_id, entries):
        self.unpacked.append(entries)
        return {e["sha256"]: {"file_id": str(uuid.uuid5(uuid.NAMESPACE_OID, e["sha256"])), "filename": e.get("filename"),
                              "content_type": "application/pdf", "size": e["size"]} for e in entries}

    def store(self, student_id, record):
        created = record["package_sha256"] not in self.stored
        self.stored.setdefault(record["package_sha256"], record)
        return {"import_id": "imp-" + record["package_sha256"][:8], "created": created}

    def preview(self, who=None, trusted=None, student_id=SID):
        return importing.preview_import(self.package_file, self.target, trusted or {}, who or registrar(),
                                        student_id, self.file_id, school_code=self.school_code)

    def run(self, who=None, trusted=None, student_id=SID):
        return importing.import_package(self.package_file, self.target, self.unpack, self.store, trusted or {},
                                        who or registrar(), student_id, self.file_id, school_code=self.school_code)


def registrar(role="registrar", tenant="day"):
    return caller_mod.Caller(user_id=str(uuid.uuid4()), username=role, tenant=tenant, roles=(role,))


def test_this_schools_own_package_is_not_imported_back_into_the_same_division():
    # QA: reg_day imported a day student's own day export; the records were duplicated as 轉入
    w = World(build(), school_code="012345")    # the package's origin: 012345, day
    for attempt in (w.preview, w.run):
        with pytest.raises(Invalid) as exc:
            attempt()
        assert exc.value.code == "transfer_same_school" and "本校本部別匯出" in exc.value.text
    assert w.unpacked == [] and w.stored == {}
    # the same school's other division (day -> 進修部) is a real transfer
    assert w.preview(who=registrar(tenant="ce"))["origin"] == {"school_code": "012345", "tenant": "day"}
    assert w.run(who=registrar(tenant="ce"))["created"]


def test_the_preview_says_what_an_import_holds_and_stores_nothing():
    w = World(build())
    p = w.preview()
    assert p["origin"] == {"school_code": "012345", "tenant": "day"}
    assert p["signature"] == {"key_id": SIGNER.key_id, "verified": False}      # a key we do not know: unverified
    assert p["counts"]["course_grades"] == 1 and p["counts"]["course_outcomes"] == 1 and p["evidence"] == 1
    assert p["theirs"]["student_no"] == "A0001" and p["ours"]["student_no"] == "11515201"
    assert p["package_sha256"] == sha(w.data) and not p["already_imported"]
    assert NID not in json.dumps(p)
    assert w.unpacked == [] and w.stored == {}
    assert w.preview(trusted={SIGNER.key_id: SIGNER.public_key})["signature"]["verified"]


def test_an_import_stores_items_with_their_evidence_once_per_package():
    w = World(build())
    first = w.run()
    assert first["created"] and first["items"] == 2 and first["evidence"] == 1
    record = w.stored[sha(w.data)]
    assert record["origin_school_code"] == "012345" and record["verified"] is False
    outcome = next(i for i in record["items"] if i["kind"] == "course_outcomes")
    f = outcome["item"]["files"][0]
    assert f["file_id"] == record["evidence"][0]["file_id"] and f["sha256"] == sha(PDF)
    assert w.unpacked[0][0]["filename"] == "報告.pdf"
    assert NID not in json.dumps(record)
    again = w.run()
    assert not again["created"] and again["import_id"] == first["import_id"] and len(w.stored) == 1
    assert w.preview()["already_imported"]


@pytest.mark.parametrize("change,code", [
    (lambda d: b"not a zip at all", "transfer_package_invalid"),
    (lambda d: _rewrite(d, "manifest.json", lambda b: b.replace("林小華".encode(), "林大華".encode())),
     "transfer_signature_invalid"),
    (lambda d: _rewrite(d, f"evidence/{sha(PDF)}.pdf", lambda b: b[:-1] + b"X"), "transfer_file_mismatch"),
    (lambda d: _rewrite(d, "manifest.json", lambda b: b.replace(b'"version":1', b'"version":2')),
     "transfer_package_invalid"),
])
def test_a_bad_package_is_refused_with_its_code_and_nothing_is_stored(change, code):
    w = World(change(build()))
    for attempt in (w.preview, w.run):
        with pytest.raises(Invalid) as exc:
            attempt()
        assert exc.value.code == code
    assert w.unpacked == [] and w.stored == {}


def test_a_changed_entry_is_named_in_the_sentence():
    w = World(_rewrite(build(), f"evidence/{sha(PDF)}.pdf", lambda b: b + b"!"))
    with pytest.raises(Invalid) as exc:
        w.run()
    assert f"evidence/{sha(PDF)}.pdf" in exc.value.text and "不符" in exc.value.text


def test_another_persons_package_is_refused_without_saying_either_id():
    w = World(build(nid="C198765432"))
    with pytest.raises(Invalid) as exc:
        w.run()
    assert exc.value.code == "transfer_student_mismatch"
    assert "C198765432" not in str(exc.value) and NID not in str(exc.value)
    assert w.unpacked == [] and w.stored == {}


def test_only_the_registrar_imports_and_only_the_students_own_upload():
    w = World(build())
    for role in ("student", "homeroom_teacher", "subject_teacher", "system_admin"):
        with pytest.raises(NotAllowed):
            w.run(who=registrar(role))
    # an upload of another kind, or for another student, is not a package of this student
    for other in (World(build(), kind="performance"), World(build(), student_id=str(uuid.uuid4()))):
        with pytest.raises(NotFound):
            other.run()
        assert other.stored == {}
    with pytest.raises(NotFound):
        w.run(student_id="not-a-uuid")


def test_a_sealed_student_takes_no_import():
    from portfolio_common.sealing import StudentSealed
    w = World(build(), sealed=True)
    with pytest.raises(StudentSealed):
        w.run()
    assert w.stored == {}


def _rewrite(data, name, change):
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for n in src.namelist():
            dst.writestr(n, change(src.read(n)) if n == name else src.read(n))
    return out.getvalue()


# ---------------------------------------------------------------- the checker's own guards

def test_an_entry_named_outside_the_package_is_refused():
    data = build()
    for name in ("../evil.pdf", "/etc/passwd", "evidence/..\\x.pdf", "records/../../x.json", "evidence/"):
        buf = io.BytesIO(data)
        with zipfile.ZipFile(buf, "a") as zf:
            zf.writestr(name, b"x")
        with pytest.raises(package.PackageProblem) as exc:
            package.open_package(io.BytesIO(buf.getvalue()))
        assert exc.value.code == "transfer_package_invalid", name


def test_a_zip_bomb_is_refused_before_it_is_read():
    data = build()
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"evidence/{'0' * 64}.pdf", b"\0" * (64 * 1024 * 1024))   # 64 MiB of zeros packs to ~64 KB
    assert len(buf.getvalue()) < 2 * 1024 * 1024
    with pytest.raises(package.PackageProblem) as exc:
        package.open_package(io.BytesIO(buf.getvalue()))
    assert exc.value.code == "transfer_package_invalid" and "bomb" in str(exc.value)
    # and a whole that unpacks to more than allowed
    with pytest.raises(package.PackageProblem) as exc:
        package.open_package(io.BytesIO(data), max_unpacked=100)
    assert exc.value.code == "transfer_package_invalid"


def test_trusted_keys_are_ours_and_the_configured_ones():
    keys = importing.trusted_keys(SIGNER, json.dumps({"999999:submission:abc": "k"}))
    assert keys == {SIGNER.key_id: SIGNER.public_key, "999999:submission:abc": "k"}
