"""The transfer package (issue 9 item 8): built from a fake export, valid against the documented
JSON Schema, signed; a tampered package (evidence byte, edited manifest) is refused by name."""
import contextlib
import hashlib
import io
import json
import pathlib
import uuid
import zipfile

import jsonschema
import pytest

from submission.national.testing import FakeDownloads
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portfolio_common import caller as caller_mod
from submission.errors import NotFound
from submission.transfer.errors import TransferEvidenceChanged
from submission.transfer import package, usecases

DOCS = pathlib.Path(__file__).resolve().parents[4] / "docs" / "schemas"
KEY = Ed25519PrivateKey.generate()
SIGNER = usecases.TransferSigner(KEY, "050407")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 50
SID, UID = str(uuid.uuid4()), str(uuid.uuid4())


def sha(b):
    return hashlib.sha256(b).hexdigest()


def export():
    pdf_id, mp3_id, proof_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    return {"student_id": SID, "student_user_id": UID, "school_years": [115],
            "profile": {"student_no": "T1001", "name": "王小明", "birth_date": "2009-03-04", "gender": "1",
                        "national_id": "A123456789", "class_name": "資一甲", "seat_no": 1, "status": "enrolled",
                        "school_code": "050407"},
            "grades": [{"school_year": 115, "id": str(uuid.uuid4()), "semester": 1, "course_code": "C1",
                        "subject_name": "程式設計", "grade_level": 1, "credits": 3, "semester_grade": 88,
                        "passed": True}],
            "attendance": [], "activities": [], "competitions": [], "status_changes": [],
            "outcomes": [{"outcome_id": str(uuid.uuid4()), "school_year": 115, "semester": 1, "course_code": "C1",
                          "subject_name": "程式設計", "description": "期末專題", "status": "certified",
                          "files": [{"slot": "document", "file_id": pdf_id, "filename": "a.pdf",
                                     "content_type": "application/pdf", "size": len(PDF), "sha256": sha(PDF)},
                                    {"slot": "media", "file_id": mp3_id, "filename": "a.mp3",
                                     "content_type": "audio/mpeg", "size": len(MP3), "sha256": sha(MP3)}],
                          "certification": {"certified_by": str(uuid.uuid4()), "acting_for": None,
                                            "certified_at": "2026-11-01T10:00:00+08:00", "sha256": sha(PDF)}}],
            "performances": [{"school_year": 115, "id": str(uuid.uuid4()), "kind": "work", "fields": {},
                              "description": "作品", "entered_by": "student", "state": "submitted",
                              "file_id": proof_id, "sha256": sha(PDF), "size": len(PDF),
                              "content_type": "application/pdf"}],
            "autobiography": [{"version_no": 1, "autobiography": "我", "career_plan": "", "expectations": "",
                               "strengths": "", "interests": "", "written_at": "2026-10-01T00:00:00+08:00",
                               "status": "approved", "reviewed_by_username": "t_wang", "reviewed_at": None}]}, \
        {pdf_id: PDF, mp3_id: MP3, proof_id: PDF}


def source(files):
    @contextlib.contextmanager
    def open_(file_id):
        yield io.BytesIO(files[file_id])
    return open_


def caller(role, uid=None, tenant="day"):
    return caller_mod.Caller(user_id=uid or str(uuid.uuid4()), username=role, tenant=tenant, roles=(role,))


def build(exp=None, files=None):
    if exp is None:
        exp, files = export()
    out = io.BytesIO()
    manifest = package.build(out, exp, origin={"school_code": "050407", "tenant": "day"},
                             exported_at="2026-11-30T08:00:00+08:00", exported_by="registrar",
                             evidence=source(files), signer=SIGNER)
    return out.getvalue(), manifest


def test_the_package_matches_the_documented_schema_and_its_fingerprints():
    data, manifest = build()
    zf = zipfile.ZipFile(io.BytesIO(data))
    on_disk = json.loads(zf.read("manifest.json"))
    assert on_disk == manifest
    jsonschema.validate(on_disk, json.loads((DOCS / "portfolio-transfer-1.schema.json").read_text()))
    jsonschema.validate(json.loads(zf.read("manifest.sig")),
                        json.loads((DOCS / "portfolio-transfer-1.signature.schema.json").read_text()))
    paths = {f["path"] for f in manifest["files"]}
    assert paths == set(zf.namelist()) - {"manifest.json", "manifest.sig"}
    assert f"evidence/{sha(PDF)}.pdf" in paths and f"evidence/{sha(MP3)}.mp3" in paths
    assert len([p for p in paths if p.startswith("evidence/")]) == 2      # the same PDF once
    for f in manifest["files"]:
        assert sha(zf.read(f["path"])) == f["sha256"] and len(zf.read(f["path"])) == f["size"]
    outcomes = json.loads(zf.read("records/course_outcomes.json"))
    assert outcomes[0]["certification"]["sha256"] == sha(PDF)
    assert outcomes[0]["files"][0]["path"] == f"evidence/{sha(PDF)}.pdf"
    assert "file_id" not in json.dumps(outcomes)
    assert manifest["student"]["national_id"] == "A123456789"
    assert "A123456789" not in zf.read("records/profile.json").decode()
    assert manifest["exported_by"] == {"role": "registrar"}


def test_a_sound_package_opens_verified_with_the_known_key_and_unverified_without():
    data, _ = build()
    assert package.open_package(io.BytesIO(data), {SIGNER.key_id: SIGNER.public_key})["signature"]["verified"]
    opened = package.open_package(io.BytesIO(data))
    assert opened["signature"] == {"key_id": SIGNER.key_id, "verified": False}
    assert opened["records"]["course_grades"][0]["semester_grade"] == 88


def _rewrite(data, change):
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, change(name, src.read(name)))
    return out.getvalue()


def test_an_altered_evidence_byte_is_refused_naming_the_file():
    data, _ = build()
    path = f"evidence/{sha(PDF)}.pdf"
    bad = _rewrite(data, lambda n, b: (b[:-2] + b"X\n") if n == path else b)
    with pytest.raises(package.PackageProblem) as exc:
        package.open_package(io.BytesIO(bad))
    assert exc.value.code == "transfer_file_mismatch" and exc.value.path == path


def test_an_edited_manifest_fails_its_signature():
    data, _ = build()
    bad = _rewrite(data, lambda n, b: b.replace("王小明".encode(), "王大明".encode()) if n == "manifest.json" else b)
    with pytest.raises(package.PackageProblem) as exc:
        package.open_package(io.BytesIO(bad))
    assert exc.value.code == "transfer_signature_invalid"


def test_a_package_signed_by_another_key_than_the_known_one_is_refused():
    data, _ = build()
    other = usecases.TransferSigner(Ed25519PrivateKey.generate(), "050407")
    with pytest.raises(package.PackageProblem) as exc:
        package.open_package(io.BytesIO(data), {SIGNER.key_id: other.public_key})
    assert exc.value.code == "transfer_signature_invalid"


def test_not_a_zip_and_an_unlisted_entry_are_refused():
    with pytest.raises(package.PackageProblem) as exc:
        package.open_package(io.BytesIO(b"not a zip"))
    assert exc.value.code == "transfer_package_invalid"
    data, _ = build()
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("evidence/extra.pdf", PDF)
    with pytest.raises(package.PackageProblem) as exc:
        package.open_package(io.BytesIO(buf.getvalue()))
    assert exc.value.code == "transfer_file_mismatch" and exc.value.path == "evidence/extra.pdf"


def test_evidence_whose_bytes_changed_refuses_the_export():
    exp, files = export()
    files[exp["outcomes"][0]["files"][0]["file_id"]] = PDF + b" "
    with pytest.raises(TransferEvidenceChanged):
        usecases.export_package(lambda **kw: exp, source(files), SIGNER, caller("registrar"), SID, "050407", FakeDownloads().keep)


def test_registrar_names_the_student_and_a_student_gets_only_their_own():
    exp, files = export()
    asked = []

    def directory(**kw):
        asked.append(kw)
        return exp
    out = usecases.export_package(directory, source(files), SIGNER, caller("registrar"), SID, "050407", FakeDownloads().keep)
    assert out["filename"] == "050407-T1001-transfer.zip" and out["key_id"] == SIGNER.key_id
    assert asked[-1] == {"student_id": SID}
    me = caller("student", uid=UID)
    usecases.export_package(directory, source(files), SIGNER, me, None, "050407", FakeDownloads().keep)
    assert asked[-1] == {"student_user_id": UID}
    with pytest.raises(NotFound):      # another student's id answers like a missing one
        usecases.export_package(directory, source(files), SIGNER, me, str(uuid.uuid4()), "050407", FakeDownloads().keep)
    with pytest.raises(NotFound):
        usecases.export_package(directory, source(files), SIGNER, caller("registrar"), None, "050407", FakeDownloads().keep)
    with pytest.raises(Exception) as exc:
        usecases.export_package(directory, source(files), SIGNER, caller("subject_teacher"), SID, "050407", FakeDownloads().keep)
    assert getattr(exc.value, "code", "") == "not_allowed"


def test_the_package_must_be_the_chosen_students():
    data, _ = build()
    manifest = package.open_package(io.BytesIO(data))["manifest"]
    package.match_student(manifest, "a123456789")
    with pytest.raises(package.PackageProblem) as exc:
        package.match_student(manifest, "A223456780")
    assert exc.value.code == "transfer_student_mismatch"
    assert "A123456789" not in str(exc.value) and "A223456780" not in str(exc.value)


def test_the_package_is_kept_by_files_for_the_one_who_asked_and_the_answer_carries_no_bytes():
    """Any size: the built zip goes to the files service (keep), the answer is its metadata."""
    import hashlib
    exp, files = export()
    kept = FakeDownloads()
    reg = caller("registrar")
    out = usecases.export_package(lambda **kw: exp, source(files), SIGNER, reg, SID, "050407", kept.keep)
    assert set(out) == {"filename", "content_type", "size", "sha256", "key_id", "download_id", "expires_at"}
    data = kept.data(out["download_id"])
    assert (len(data), hashlib.sha256(data).hexdigest()) == (out["size"], out["sha256"])
    k = kept.kept[out["download_id"]]
    assert (k["requested_by"], k["purpose"], k["filename"]) == (reg.user_id, "transfer-package", out["filename"])
    assert package.open_package(io.BytesIO(data))["manifest"]["student"]["student_no"] == "T1001"


def test_a_student_with_nothing_yet_gets_a_package_without_evidence():
    exp, _ = export()
    exp.update(outcomes=[], performances=[], grades=[], autobiography=[])
    data, manifest = build(exp, {})
    assert [f["path"] for f in manifest["files"] if f["path"].startswith("evidence/")] == []
    assert package.open_package(io.BytesIO(data))["records"]["course_outcomes"] == []
