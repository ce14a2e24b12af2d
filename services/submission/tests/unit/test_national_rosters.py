"""The national column sets, the pre-check's rules and the rosters read back with openpyxl."""
import datetime as dt
import io
import json
import tracemalloc
import uuid
import zipfile

import pytest
from openpyxl import load_workbook

from submission.errors import Invalid
from submission.national import columnset, domain, rosters

TODAY = dt.date(2027, 1, 10)
GOOD_ID = "A123456789"          # valid checksum
GOOD_ID2 = "B123456780"


# ---------------------------------------------------------------- column sets (data)

DOMAIN_COURSE_OUTCOME_COLUMNS = ["實際修課學期", "課程代碼", "科目名稱", "開課年級", "修課學分", "成果簡述"]


def test_column_set_115_has_domain_md_course_outcome_columns_keyed_by_id_and_birth_date():
    cs = columnset.load(115)
    r = cs.roster("course_outcomes")
    assert r.name == "課程學習成果名冊" and r.sheet == "學期課程學習成果"
    assert r.key == ("身分證號", "出生日期")
    titles = [c.title for c in r.columns_for("day")]
    assert titles[:2] == ["身分證號", "出生日期"] and titles[2:] == DOMAIN_COURSE_OUTCOME_COLUMNS
    ce = [c.title for c in r.columns_for("ce")]
    assert "修課節數" in ce and "修課學分" not in ce     # 進修部: 修課節數 instead of 修課學分
    assert [c.title for c in cs.cover] == ["學校代碼", "學年度", "學期", "名冊名稱"]


def test_a_later_year_without_its_own_file_uses_the_newest_earlier_one_and_an_older_is_refused():
    assert columnset.load(117).version == 115
    with pytest.raises(Invalid) as e:
        columnset.load(100)
    assert e.value.code == "column_set_missing"


# ---------------------------------------------------------------- rules

@pytest.mark.parametrize("nid,problem", [
    ("A123456789", None), ("a123456789", None), ("Ａ１２３４５６７８９", None),
    ("A123456788", "national_id_checksum"), ("", "national_id_missing"), (None, "national_id_missing"),
    ("A12345678", "national_id_format"), ("1234567890", "national_id_format"),
    ("A323456789", "national_id_format"),
])
def test_national_id_rules(nid, problem):
    assert domain.national_id_problem(nid, TODAY) == problem


def test_resident_numbers_new_and_old_with_the_2031_cutoff():
    new = _with_checksum("A8", "0000000")
    assert domain.national_id_problem(new, TODAY) is None
    old = _with_checksum("AC", "0000000")
    assert domain.national_id_problem(old, TODAY) is None
    assert domain.national_id_problem(old, dt.date(2031, 1, 1)) == "national_id_expired_format"


def _with_checksum(prefix, body):
    for last in range(10):
        nid = f"{prefix}{body}{last}"
        if domain.national_id_problem(nid, TODAY) is None:
            return nid
    raise AssertionError("no checksum digit fits")


@pytest.mark.parametrize("value,roc", [
    ("2010-03-05", "0990305"), (dt.date(2011, 12, 31), "1001231"), ("1911-12-31", None), (None, None),
    ("not a date", None),
])
def test_birth_dates_are_written_as_roc_yyymmdd(value, roc):
    assert domain.roc_date(value) == roc


@pytest.mark.parametrize("text,ok", [
    ("0990305", True), ("1001231", True), ("0990230", False), ("990305", False), ("0991305", False),
    ("2010-03-05", False), ("", False),
])
def test_roc_dates_checked_as_the_national_side_reads_them(text, ok):
    assert domain.roc_date_ok(text) is ok


# ---------------------------------------------------------------- the pre-check

def student(n=1, nid=GOOD_ID, birth="2010-03-05", **outcome_meta):
    sid, uid, oid = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    held = {"student_id": sid, "student_user_id": uid, "outcomes": [
        {"outcome_id": oid, "course_code": "C1", "subject_name": "程式設計", "description": "我的作品", "sha256": "a" * 64}]}
    cert = {oid: {"semester": 1, "school_year": 115, "sha256": "a" * 64}}
    meta = {"status": "certified", "size": 1000, "content_type": "application/pdf", "grade_level": 1,
            "credits": 2, "file_id": str(uuid.uuid4()), "sha256": "a" * 64}
    meta.update(outcome_meta)
    info = {"national_id": nid, "birth_date": birth, "name": f"學生{n}", "class_name": "資一甲", "seat_no": n,
            "outcomes": {oid: meta}}
    return held, cert, {sid: info}


def combine(*students):
    held, cert, directory = [], {}, {}
    for h, c, d in students:
        held.append(h)
        cert.update(c)
        directory.update(d)
    return held, cert, directory


def test_clean_rows_have_no_problems_and_carry_the_roster_fields():
    held, cert, d = combine(student(1), student(2, nid=GOOD_ID2))
    rows, problems = domain.precheck(held, cert, d, 1, TODAY)
    assert problems == []
    assert [r["row"] for r in rows] == [2, 3]
    r = rows[0]
    assert (r["national_id"], r["birth_date"], r["term"], r["course_code"], r["credits"]) == (
        GOOD_ID, "0990305", "1151", "C1", 2)


def test_every_problem_is_named_by_student_row_and_field_in_zh_tw():
    held, cert, d = combine(
        student(1, nid="A123456788"),                       # checksum
        student(2, nid=GOOD_ID2, birth=None),               # birth date missing
        student(3, nid=GOOD_ID, status="returned"),         # certification state
        student(4, nid=GOOD_ID, size=5 * domain.MB),        # a document over 4 MB
        student(5, nid=GOOD_ID, content_type="application/zip"),
    )
    rows, problems = domain.precheck(held, cert, d, 1, TODAY)
    found = {(p["seat_no"], p["row"], p["field"], p["code"]) for p in problems}
    assert found == {(1, 2, "national_id", "national_id_checksum"), (2, 3, "birth_date", "birth_date_missing"),
                     (3, 4, "outcome", "not_certified"), (4, 5, "file", "file_too_large"),
                     (5, 6, "file", "file_type_not_allowed")}
    assert all(p["message"] and "A12345678" not in p["message"] for p in problems)
    grouped = domain.problems_by_student(problems)
    assert [g["seat_no"] for g in grouped] == [1, 2, 3, 4, 5]


def test_a_video_may_be_10_mb_and_a_student_records_does_not_know_is_a_problem():
    held, cert, d = combine(student(1, content_type="video/mp4", size=9 * domain.MB))
    ghost_held, ghost_cert, _ = student(2)
    held.append(ghost_held)
    cert.update(ghost_cert)
    rows, problems = domain.precheck(held, cert, d, 1, TODAY)
    assert [(p["row"], p["code"]) for p in problems] == [(None, "student_unknown")]
    assert len(rows) == 1


def test_changed_fingerprint_more_than_six_and_a_long_description_are_refused():
    h, c, d = student(1)
    h["outcomes"][0]["description"] = "字" * 101
    c[h["outcomes"][0]["outcome_id"]]["sha256"] = "b" * 64
    extra = []
    for _ in range(6):
        oid = str(uuid.uuid4())
        extra.append({**h["outcomes"][0], "outcome_id": oid, "description": "ok"})
        c[oid] = {"semester": 2, "school_year": 115, "sha256": "a" * 64}
    h["outcomes"] += extra
    rows, problems = domain.precheck([h], c, d, 1, TODAY)
    codes = {p["code"] for p in problems}
    assert {"quota_exceeded", "description_too_long", "fingerprint_mismatch"} <= codes
    assert len(rows) == 1       # only semester 1's row in this semester's roster


def test_only_the_asked_semester_is_in_the_roster():
    held, cert, d = combine(student(1))
    rows, _ = domain.precheck(held, cert, d, 2, TODAY)
    assert rows == []


# ---------------------------------------------------------------- xlsx and package

def _rows(n_students, per_student=6):
    row = 1
    for s in range(n_students):
        for k in range(per_student):
            row += 1
            yield {"row": row, "national_id": GOOD_ID, "birth_date": "0990305", "term": "1151",
                   "course_code": f"0{k}1234567890123456789", "subject_name": "程式設計", "grade_level": 1,
                   "credits": 2, "description": f"學生 {s} 的第 {k} 件成果，說明文字" * 3,
                   "outcome_id": str(uuid.uuid4()), "file_id": str(uuid.uuid4()), "sha256": "a" * 64}


COVER = {"school_code": "050407", "school_year": 115, "semester": 1}


def test_roster_read_back_has_the_cover_and_the_column_set_with_text_kept_as_text():
    buf = io.BytesIO()
    rows = list(_rows(1, 2))
    rows[0]["description"] = "=SUM(A1:A2) 不是公式"
    n = rosters.write_roster(buf, columnset.load(115), "course_outcomes", "day", COVER, rows)
    assert n == 2
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    assert wb.sheetnames == ["封面", "學期課程學習成果", "補修課程學習成果", "重修課程學習成果", "重讀課程學習成果",
                             "轉學轉科課程學習成果", "借讀課程學習成果"]     # variants: headers only here
    cover = [tuple(r) for r in wb["封面"].iter_rows(values_only=True)]
    assert cover == [("學校代碼", "050407"), ("學年度", "115"), ("學期", "1"), ("名冊名稱", "課程學習成果名冊")]
    data = [list(r) for r in wb["學期課程學習成果"].iter_rows(values_only=True)]
    assert data[0] == ["身分證號", "出生日期", "實際修課學期", "課程代碼", "科目名稱", "開課年級", "修課學分", "成果簡述"]
    assert data[1][:4] == [GOOD_ID, "0990305", "1151", "001234567890123456789"]   # leading zeros kept
    assert data[1][5:7] == [1, 2]
    assert data[1][7] == "=SUM(A1:A2) 不是公式"
    assert wb["學期課程學習成果"]["H2"].data_type == "s"


def test_ce_roster_writes_class_hours():
    buf = io.BytesIO()
    rosters.write_roster(buf, columnset.load(115), "course_outcomes", "ce", COVER, list(_rows(1, 1)))
    header = next(load_workbook(io.BytesIO(buf.getvalue()))["學期課程學習成果"].iter_rows(values_only=True))
    assert "修課節數" in header and "修課學分" not in header


def test_package_manifest_fingerprints_match_the_entries():
    buf = io.BytesIO()
    manifest = rosters.build_package(buf, columnset.load(115), "day", COVER,
                                     {"course_outcomes": _rows(3, 2)}, "2027-01-10T00:00:00+00:00")
    zf = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    assert json.loads(zf.read("manifest.json")) == manifest
    import hashlib
    for f in manifest["files"]:
        assert hashlib.sha256(zf.read(f["path"])).hexdigest() == f["sha256"]
    evidence = [json.loads(line) for line in zf.read("evidence.jsonl").splitlines()]
    assert [e["row"] for e in evidence] == [2, 3, 4, 5, 6, 7] and all(e["sha256"] == "a" * 64 for e in evidence)
    assert manifest["files"][0]["rows"] == 6
    assert "A123456789" not in zf.read("manifest.json").decode() + zf.read("evidence.jsonl").decode()


def _peak_building(n_students):
    tracemalloc.start()
    try:
        with rosters.spooled_package_file() as out:
            rosters.build_package(out, columnset.load(115), "day", COVER,
                                  {"course_outcomes": _rows(n_students)}, "2027-01-10T00:00:00+00:00")
            rosters.remove_quietly(out.name)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_two_thousand_students_build_in_constant_memory():
    """12,000 rows: the traced peak stays within a fixed bound and close to a 200-student build."""
    columnset.load(115)
    small = _peak_building(200)
    large = _peak_building(2000)
    assert large < 16 * 1024 * 1024
    assert large < small * 1.5 + 2 * 1024 * 1024, (small, large)
