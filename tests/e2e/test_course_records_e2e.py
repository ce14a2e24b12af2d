"""Course records (修課紀錄) through the gateway against real servers: the registrar imports the
grade sheet a school system exports (Big5, ="..." numbers) and enters a grade by form; the elective
officer enrols an elective; the student, the homeroom teacher of class 101, the registrar and the
section's subject teacher read what they may; another student, another teacher, the other tenant
read nothing; bad rows are refused by row and column and nothing is written."""
import pytest

pytestmark = pytest.mark.slow

PROG = "115050407H11A0101"   # 程式設計實習, class 101 (t_wang), 1150001 and 1150002
LOGIC = "115050407H11B0101"  # 數位邏輯, class 101 (t_lin)
HEAD = "學號,學年度,學期,課程代碼,科目名稱,學期學業成績,成績及格,補考成績,補考及格,是否採計學分,質性文字描述\n"


def student_id(api, username):
    return api(username).get("/me/records").json()["student"]["id"]


def codes(r):
    return {(f, p["code"]) for f, ps in r.json()["error"]["fields"]["record"].items() for p in ps}


def post_sheet(client, data, dry_run, basis=None, name="成績.csv"):
    form = {"dry_run": "true" if dry_run else "false"} | ({"basis": basis} if basis else {})
    return client.post("/imports/course_grade", data=form, files={"file": (name, data, "text/csv")})


def test_registrar_imports_the_grade_sheet_and_the_allowed_read_it(api):
    reg = api("reg_day")
    sheet = (HEAD + f'="1150001",115,1,="{PROG}",程式設計實習,88,,,,,實作認真\n'
                    f'="1150002",115,1,="{PROG}",程式設計實習,52,否,61,是,是,\n').encode("big5")
    preview = post_sheet(reg, sheet, True)
    assert preview.status_code == 200 and not preview.json()["problems"], preview.text
    done = post_sheet(reg, sheet, False, preview.json()["basis"])
    assert done.json()["written"], done.text
    again = post_sheet(reg, sheet, False)
    assert again.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 2}  # the same file twice
    s1 = student_id(api, "s_day01")
    mine = api("s_day01").get("/records/grades").json()
    (g,) = [i for i in mine if i["course_code"] == PROG and not i["voided_at"]]
    assert (g["subject_name"], g["credits"], g["semester_grade"], g["passed"], g["remark"]) == (
        "程式設計實習", 3, 88, True, "實作認真")
    assert any(i["id"] == g["id"] for i in api("s_day01").get("/me/records").json()["kinds"]["course_grade"])
    s2_grades = api("reg_day").get("/records/grades", params={"student_id": student_id(api, "s_day02")}).json()
    (g2,) = [i for i in s2_grades if i["course_code"] == PROG and not i["voided_at"]]
    assert (g2["passed"], g2["makeup_grade"], g2["makeup_passed"], g2["credit_counted"]) == (False, 61, True, True)
    # the homeroom teacher of 101 sees the class's grades; the class view has them too
    by_class = api("t_wang").get("/records/grades", params={"class_code": "101"}).json()
    assert g["id"] in {i["id"] for row in by_class for i in row["items"]}
    view = api("t_wang").get("/classes/101/records").json()
    assert g["id"] in {i["id"] for its in view["kinds"]["course_grade"].values() for i in its}
    # the subject teacher of the section reads its grades; the teacher of another section does not
    section = api("t_wang").section("程式設計實習")
    sheet_view = api("t_wang").get(f"/sections/{section['id']}/grades").json()
    assert {r["student"]["student_no"]: r["grade"]["semester_grade"] for r in sheet_view["students"]
            if r["grade"]}["1150001"] == 88
    r = api("t_lin").get(f"/sections/{section['id']}/grades")
    assert r.status_code == 404 and "1150001" not in r.text
    # attackers: another student, a teacher of no class, the other tenant's registrar
    for who, params in (("s_day02", {"student_id": s1}), ("t_lin", {"student_id": s1}), ("reg_ce", {"student_id": s1}),
                        ("t_lin", {"class_code": "101"})):
        r = api(who).get("/records/grades", params=params)
        assert r.status_code in (403, 404), (who, r.status_code)
        assert g["id"] not in r.text
    assert api("reg_ce").get(f"/sections/{section['id']}/grades").status_code == 404
    # the history says who and what
    hist = api("reg_day").get(f"/students/{s1}/history").json()
    assert any(h["entity"] == "course_grade" and h["actor_username"] == "reg_day" for h in hist)


def test_bad_rows_are_refused_by_row_and_column_and_nothing_is_written(api):
    reg = api("reg_day")
    before = api("s_day03").get("/records/grades").json()
    bad = (HEAD + f"1150003,115,1,{PROG},程式設計實習,70,,,,,\n"           # not enrolled (class 102)
                  "1150003,115,1,115-0504,程式設計實習,70,,,,,\n"          # malformed code
                  f"1150003,115,1,115050407H11A0102,程式設計實習,101,,,,,\n"  # out of range
                  f"1150003,115,1,115050407H11A0102,程式設計實習,85.5,,,,,\n"  # decimals
                  f"1150003,115,1,115050407H11A0102,程式設計實習,45,是,,,,\n"  # pass flag vs. grade
                  f"N1150001,115,1,{PROG},程式設計實習,70,,,,,\n").encode("utf-8-sig")  # the other tenant's
    r = post_sheet(reg, bad, False)
    assert r.status_code == 200 and not r.json()["written"], r.text
    got = {(p["row"], p["column"], p["code"]) for p in r.json()["problems"]}
    assert got >= {(2, "course_code", "student_not_enrolled"), (3, "course_code", "course_code_malformed"),
                   (4, "semester_grade", "grade_invalid"), (5, "semester_grade", "grade_invalid"),
                   (6, "passed", "pass_flag_inconsistent"), (7, "student_no", "student_unknown")}
    assert api("s_day03").get("/records/grades").json() == before
    # the elective officer and the other tenant's registrar cannot import grades
    assert post_sheet(api("elective_day"), bad, True).status_code == 403
    assert post_sheet(api("t_wang"), bad, True).status_code == 403


def test_the_registrar_form_and_the_elective_officer(api):
    s4 = student_id(api, "s_day04")
    body = {"student_id": s4, "school_year": "115", "semester": "1", "course_code": LOGIC, "semester_grade": "55"}
    r = api("reg_day").post("/records/grades", json=body)
    assert r.status_code == 422 and codes(r) == {("course_code", "student_not_enrolled")}
    # the elective officer enrols 1150004 (class 102) in 數位邏輯 after course selection
    for who in ("reg_day", "s_day04", "t_lin"):
        r = api(who).post("/electives", json={"student_id": s4, "course_code": LOGIC, "school_year": "115", "semester": "1"})
        assert r.status_code == 403, (who, r.text)
    r = api("elective_day").post("/electives", json={"student_id": s4, "course_code": LOGIC, "school_year": "115",
                                                     "semester": "1"})
    assert r.status_code == 200 and r.json()["subject_name"] == "數位邏輯", r.text
    r = api("elective_ce").post("/electives", json={"student_id": s4, "course_code": LOGIC, "school_year": "115",
                                                    "semester": "1"})
    assert r.status_code == 404
    # now the registrar grades it; a pass flag that contradicts the grade is refused by field
    r = api("reg_day").post("/records/grades", json=body | {"passed": "是"})
    assert r.status_code == 422 and codes(r) == {("passed", "pass_flag_inconsistent")}
    assert "60" in r.json()["error"]["fields"]["record"]["passed"][0]["message_zh"]
    r = api("reg_day").post("/records/grades", json=body | {"passed": "是", "pass_exception": "是"})
    if r.status_code == 422:  # a grade from an earlier run of this test on this stack
        assert codes(r) == {("course_code", "item_exists")}
    else:
        assert r.status_code == 201 and r.json()["passed"] is True and r.json()["pass_exception"] is True, r.text
    mine = [i for i in api("s_day04").get("/records/grades").json() if i["course_code"] == LOGIC and not i["voided_at"]]
    assert mine and mine[0]["credits"] == 2
    # a student cannot enter their own grade
    r = api("s_day04").post("/records/grades", json=body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_allowed"
