"""Every national roster's rows and pre-check (builders), the package with the evidence files
themselves, and the simulator reading all of it back."""
import contextlib
import datetime as dt
import hashlib
import io
import json
import uuid
import zipfile

import pytest
from openpyxl import load_workbook

from submission.national import builders, columnset, rosters, simulator

TODAY = dt.date(2027, 1, 10)
CS = columnset.load(115)
COVER = {"school_code": "050407", "school_year": 115, "semester": 1}
TERM = {"starts_on": "2026-08-30", "ends_on": "2027-01-20"}
PDF = b"%PDF-1.4\n" + b"x" * 3000


def sha(b):
    return hashlib.sha256(b).hexdigest()


def a_student(n, nid, *, status_changes=(), performances=(), selected=(), birth="2010-03-05", **profile):
    sid, uid, oid = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    fid = str(uuid.uuid4())
    held = {"student_id": sid, "student_user_id": uid,
            "outcomes": [{"outcome_id": oid, "course_code": "C1", "subject_name": "程式設計",
                          "description": "我的作品", "sha256": sha(PDF)}],
            "performances": [{"performance_id": p} for p in selected]}
    cert = {oid: {"semester": 1, "school_year": 115, "sha256": sha(PDF)}}
    info = {"national_id": nid, "birth_date": birth, "name": f"學生{n}", "class_name": "資一甲", "seat_no": n,
            "status": "enrolled",
            "outcomes": {oid: {"status": "certified", "size": len(PDF), "content_type": "application/pdf",
                               "grade_level": 1, "credits": 2, "file_id": fid, "sha256": sha(PDF)}},
            "profile": {"gender": None, "group_code": "21", "department_code": "301", "division_code": "1",
                        "class_type_code": "1", "enrolment_route": "1", "status_changed_on": None,
                        "grade_level": 1, **profile},
            "grades": [{"id": "g1", "semester": 1, "course_code": "C1", "subject_name": "程式設計", "grade_level": 1,
                        "credits": 2, "semester_grade": 75, "passed": True, "makeup_grade": None,
                        "makeup_passed": None, "credit_counted": True, "remark": "認真", "yearly_grade": None,
                        "yearly_passed": None},
                       {"id": "g2", "semester": 2, "course_code": "C2", "subject_name": "下學期", "grade_level": 1,
                        "credits": 2, "semester_grade": 80, "passed": True, "credit_counted": True}],
            "attendance": [{"semester": 1, "absence_code": "02", "periods": 3},
                           {"semester": 1, "absence_code": "12", "periods": 0}],
            "activities": [{"id": "a1", "semester": 1, "category": "cadre", "name": "資一甲", "position": "班長",
                            "hours": None, "started_on": "2026-09-01", "ended_on": "2027-01-20",
                            "description": "帶領班級"},
                           {"id": "a2", "semester": 1, "category": "club", "name": "吉他社", "position": None,
                            "started_on": "2026-09-01", "description": "社員"}],
            "competitions": [], "performances": list(performances), "status_changes": list(status_changes)}
    return held, cert, {sid: info}, fid


def world(*students):
    held, cert, directory, files = [], {}, {}, []
    for h, c, d, f in students:
        held.append(h)
        cert.update(c)
        directory.update(d)
        files.append(f)
    return held, cert, directory


def perf(kind, entered_by, fields, state="ready", data=PDF):
    return {"id": str(uuid.uuid4()), "kind": kind, "fields": fields, "description": f"{kind} 簡述",
            "entered_by": entered_by, "state": state, "file_id": str(uuid.uuid4()) if state == "ready" else None,
            "sha256": sha(data) if state == "ready" else None, "size": len(data), "content_type": "application/pdf"}


def check(held, cert, d, tenant="day"):
    return builders.precheck_all(held, cert, d, school_year=115, semester=1, term=TERM, column_set=CS,
                                 tenant=tenant, today=TODAY)


def test_every_roster_gets_its_rows_for_the_semester_keyed_by_id_and_roc_birth_date():
    own = perf("licence", "student", {"licence_code": "17200", "obtained_on": "2026-10-01"})
    unselected = perf("work", "student", {"name": "沒勾選的作品", "made_on": "2026-10-02"})
    external = perf("competition", "external", {"name": "全國技藝競賽", "level_code": "3",
                                                "announced_on": "2026-11-03"})
    held, cert, d = world(a_student(1, "A123456789", performances=[own, unselected, external],
                                    selected=[own["id"]]))
    out, problems = check(held, cert, d)
    assert problems == []
    (data,) = out["student_data"]["student_data"]
    assert (data["national_id"], data["birth_date"], data["gender"], data["status_code"]) == (
        "A123456789", "0990305", "1", "1")        # 性別代碼 from the citizen ID's second digit
    assert [g["course_code"] for g in out["grades"]["grades"]] == ["C1"]        # semester 1 only
    assert out["grades"]["grades"][0]["passed"] == "1"
    (absence,) = out["attendance"]["attendance"]      # a code with no periods is not a row
    assert (absence["absence_code"], absence["starts_on"], absence["ends_on"], absence["periods"]) == (
        "02", "1150830", "1160120", 3)
    perf_sheets = out["performances"]
    assert [r["position"] for r in perf_sheets["cadres"]] == ["班長"]
    assert [r["item_id"] for r in perf_sheets["licences"]] == [own["id"]]
    assert perf_sheets["works"] == []                 # the student did not select it
    assert [r["name"] for r in perf_sheets["competitions"]] == ["全國技藝競賽"]   # external: always
    assert perf_sheets["licences"][0]["obtained_on"] == "1151001"
    assert [r["row"] for r in out["course_outcomes"]["course_outcomes"]] == [2]
    assert builders.row_count(out) == 7


def test_status_changes_route_outcomes_to_the_variant_sheets_with_their_extra_columns():
    held, cert, d = world(
        a_student(1, "A123456789", status_changes=[{"change": "transfer_in", "effective_on": "2026-09-01",
                                                    "other_school_code": "011301", "school_year": 115,
                                                    "semester": 1}]),
        a_student(2, "B123456780", status_changes=[{"change": "visiting_study", "effective_on": "2026-09-01",
                                                    "other_school_code": "013302", "school_year": 115,
                                                    "semester": 1}]),
        a_student(3, "A223456781", status_changes=[{"change": "repeat", "effective_on": "2026-08-01",
                                                    "school_year": 115, "semester": 1}]),
        a_student(4, "A123456789"))
    out, problems = check(held, cert, d)
    assert problems == []
    co = out["course_outcomes"]
    assert [len(co[s]) for s in ("course_outcomes", "transfer", "visiting", "repeat", "makeup", "retake")] == [
        1, 1, 1, 1, 0, 0]
    t = co["transfer"][0]
    assert (t["row"], t["origin_school_code"], t["origin_school_year"], t["origin_semester"],
            t["origin_course_code"]) == (2, "011301", 115, "1", "C1")
    assert co["visiting"][0]["host_school_code"] == "013302"


def test_the_precheck_names_each_sheet_row_and_field():
    bad_perf = perf("work", "student", {"name": "作品", "made_on": "2026-10-02"}, state="proof_missing")
    held, cert, d = world(
        a_student(1, "A123456789", performances=[bad_perf], selected=[bad_perf["id"]], class_type_code="7"),
        a_student(2, "B123456780", status_changes=[{"change": "visiting_study", "effective_on": "2026-09-01",
                                                    "other_school_code": None, "school_year": 115, "semester": 1}]))
    info = next(iter(d.values()))
    info["grades"][0]["semester_grade"] = 130
    info["attendance"][0]["absence_code"] = "13"
    out, problems = check(held, cert, d)
    found = {(p["seat_no"], p["sheet"], p["row"], p["field"], p["code"]) for p in problems}
    assert found == {(1, "student_data", 2, "class_type_code", "code_unknown"),
                     (1, "grades", 2, "semester_grade", "grade_invalid"),
                     (1, "attendance", 2, "absence_code", "code_unknown"),
                     (1, "works", 2, "file", "proof_missing"),
                     (2, "visiting", 2, "host_school_code", "field_missing")}
    assert all(p["message"] and "A123456789" not in p["message"] for p in problems)


def test_continuing_education_grades_carry_class_hours_and_yearly_results():
    held, cert, d = world(a_student(1, "A123456789", class_type_code="01"))
    g = next(iter(d.values()))["grades"][0]
    g.update(credits=36, yearly_grade=70, yearly_passed=True)
    out, problems = check(held, cert, d, tenant="ce")
    assert problems == []
    buf = io.BytesIO()
    rosters.write_roster(buf, CS, "grades", "ce", COVER, out["grades"])
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    header, row = list(wb["學期成績"].iter_rows(values_only=True))
    got = dict(zip(header, row))
    assert (got["修課節數"], got["學年學業成績"], got["學年及格"], got["是否採計學時"]) == (36, 70, "1", "1")
    assert "修課學分" not in got


class Store:
    """A fake object store: file_id -> bytes, read in chunks (counts the opens)."""

    def __init__(self, files):
        self.files, self.opened = files, []

    @contextlib.contextmanager
    def open(self, file_id):
        self.opened.append(file_id)
        yield io.BytesIO(self.files[file_id])


def _package(evidence=None, tamper=None):
    own = perf("licence", "student", {"licence_code": "17200", "obtained_on": "2026-10-01"},
               data=b"%PDF-1.4 licence")
    s1 = a_student(1, "A123456789", performances=[own], selected=[own["id"]])
    s2 = a_student(2, "B123456780")
    held, cert, d = world(s1, s2)
    files = {s1[3]: PDF, s2[3]: PDF, own["file_id"]: b"%PDF-1.4 licence"}
    if tamper:
        files[tamper(s1, own)] = b"%PDF-1.4 changed"
    out, problems = check(held, cert, d)
    assert problems == []
    store = Store(files)
    buf = io.BytesIO()
    manifest = rosters.build_package(buf, CS, "day", COVER, out, "2027-01-10T00:00:00+00:00",
                                     evidence=store.open if evidence else None)
    return buf, manifest, store, files


def test_the_package_holds_every_roster_and_the_evidence_bytes_checked_against_the_manifest():
    buf, manifest, store, files = _package(evidence=True)
    zf = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    names = zf.namelist()
    assert {f"rosters/{r.name}.xlsx" for r in CS.rosters} <= set(names)
    ev = [f for f in manifest["files"] if f.get("evidence")]
    assert sorted(f["sha256"] for f in ev) == sorted({sha(PDF), sha(b"%PDF-1.4 licence")})   # one copy per file
    for f in manifest["files"]:
        assert hashlib.sha256(zf.read(f["path"])).hexdigest() == f["sha256"]
    assert zf.read(f"evidence/{sha(PDF)}.pdf") == PDF
    index = [json.loads(line) for line in zf.read("evidence.jsonl").splitlines()]
    assert {(e["roster"], e["path"]) for e in index} == {
        ("course_outcomes", f"evidence/{sha(PDF)}.pdf"), ("licences", f"evidence/{sha(b'%PDF-1.4 licence')}.pdf")}
    assert len(store.opened) == 2
    wb = load_workbook(io.BytesIO(zf.read("rosters/多元表現名冊.xlsx")))
    assert wb.sheetnames == ["封面"] + [s.name for s in CS.roster("performances").sheets]
    text = zf.read("manifest.json").decode() + zf.read("evidence.jsonl").decode()
    assert "A123456789" not in text


def test_changed_evidence_bytes_stop_the_package():
    with pytest.raises(rosters.EvidenceMismatch):
        _package(evidence=True, tamper=lambda s1, own: own["file_id"])


def test_the_simulator_reads_every_sheet_and_checks_the_evidence():
    buf, manifest, _, _ = _package(evidence=True)
    buf.seek(0)
    receipt = simulator.check_package(buf, TODAY)
    keys = {(r["roster"], r["row"]) for r in receipt["rows"]}
    two = {2, 3}
    assert {(s, n) for s in ("student_data", "grades", "attendance", "cadres", "course_outcomes") for n in two} \
        | {("licences", 2)} == keys
    assert receipt["refused"] == 0


def test_the_simulator_refuses_a_package_whose_evidence_differs_from_its_manifest():
    buf, manifest, _, _ = _package(evidence=True)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, b"%PDF-1.4 swapped" if name.startswith("evidence/") else data)
    out.seek(0)
    with pytest.raises(simulator.PackageInvalid, match="fingerprint"):
        simulator.check_package(out, TODAY)


def test_the_simulator_refuses_a_bad_code_the_school_would_also_refuse():
    held, cert, d = world(a_student(1, "A123456789"))
    out, _ = check(held, cert, d)
    out["attendance"]["attendance"][0]["absence_code"] = "99"
    buf = io.BytesIO()
    rosters.build_package(buf, CS, "day", COVER, out, "2027-01-10T00:00:00+00:00")
    buf.seek(0)
    receipt = simulator.check_package(buf, TODAY)
    refused = [r for r in receipt["rows"] if r["result"] == "refused"]
    assert [(r["roster"], r["row"], r["field"], r["code"]) for r in refused] == [
        ("attendance", 2, "absence_code", "code_unknown")]
