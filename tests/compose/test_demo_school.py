"""The demo school at the size of a real one (issue 8, item 14): deploy.demo_generate."""
import collections
import json
import os

import pytest

from deploy import demo_generate, demo_school
from records.domain import validate_national_id

HERE = os.path.join(os.path.dirname(demo_school.__file__), "demo")


@pytest.fixture(scope="module")
def hand_written():
    with open(os.path.join(HERE, "school.json"), encoding="utf-8") as fh:
        school = json.load(fh)
    return school, demo_school.read_people(os.path.join(HERE, "people.csv"))


@pytest.fixture(scope="module")
def full(hand_written):
    return demo_generate.grow(*hand_written, "full")


def test_a_full_demo_school_has_the_size_of_a_real_one(full):
    school, people = full
    day, ce = school["terms"]["day"], school["terms"]["ce"]
    assert len(day["students"]) == 1200 and len(ce["students"]) == 300
    for term, per_class in ((day, 40), (ce, 50)):
        grades = collections.Counter(c["code"][0] for c in term["classes"])
        assert len(grades) == 3, "three grades"
        seats = collections.Counter(s["class_code"] for s in term["students"])
        assert set(seats.values()) == {per_class}
        assert all(c.get("homeroom") for c in term["classes"]), "every class has a homeroom teacher"
    roles = {(g["tenant"], g["role"]) for p in people for g in p["grants"]}
    for tenant in ("day", "ce"):
        missing = {r for r in demo_generate.STAFF_ROLES} - {r for t, r in roles if t == tenant}
        assert not missing, f"{tenant} has no {missing}"


def test_every_hand_written_login_class_and_section_is_kept_as_it_was(hand_written, full):
    school, people = hand_written
    grown_school, grown_people = full
    by_name = {p["username"]: p for p in grown_people}
    for p in people:
        assert by_name[p["username"]] == p, "the README's logins keep their password and roles"
    for tenant, term in school["terms"].items():
        grown = grown_school["terms"][tenant]
        for s in term["students"]:
            assert s in grown["students"]
        for sec in term["sections"]:
            twin = [g for g in grown["sections"] if (g["course_code"], g["class_code"]) == (sec["course_code"], sec["class_code"])]
            assert len(twin) == 1 and twin[0]["teacher"] == sec["teacher"]
            assert set(sec["students"]) <= set(twin[0]["students"])


def test_generated_people_sign_in_through_sso_only_and_no_password_is_hashed_for_them(hand_written, full):
    hand = {p["username"] for p in hand_written[1]}
    generated = [p for p in full[1] if p["username"] not in hand]
    assert len(generated) > 1500
    assert all(p["sso_only"] is True and p["password"] is None for p in generated)


def test_national_ids_are_valid_made_up_and_never_repeat(full):
    ids = [s["national_id"] for term in full[0]["terms"].values() for s in term["students"]]
    assert len(set(ids)) == len(ids)
    for nid in ids:
        assert validate_national_id(nid) == nid


@pytest.mark.parametrize("size", ["small", "full"])
def test_every_student_has_a_birth_date_fitting_their_grade_and_the_gender_their_id_says(hand_written, size):
    """The national pre-check needs 出生日期 and 性別 of every student (issue 9's rosters): a
    first-year of 115 was born 2010-09-01..2011-08-31, a third-year two years earlier; the
    gender code is the national ID's second character (1 男, 2 女). The loader sends them through
    the registrar's roster import, whose rules each row passes here."""
    import datetime as dt
    from deploy.demo_school import profile_rows
    from records.profile.domain import read_profile
    school, people = demo_generate.grow(*hand_written, size)
    born_in = collections.Counter()
    for tenant, term in school["terms"].items():
        first_room = 1 if tenant == "day" else 5
        for s in term["students"]:
            grade = int(s["class_code"][0]) - first_room + 1
            first, last = demo_generate.birth_range(term["school_year"], grade)
            assert first <= dt.date.fromisoformat(s["birth_date"]) <= last, (s["student_no"], grade, s["birth_date"])
            assert s["gender"] == s["national_id"][1] and s["gender"] in ("1", "2")
            born_in[grade] += 1
        assert demo_generate.birth_range(115, 1) == (dt.date(2010, 9, 1), dt.date(2011, 8, 31))
        names = {p["username"]: p["display_name"] for p in people}
        for s in term["students"]:
            s["display_name"] = names[s["username"]]
        ids = {s["username"]: "8e3f3b2c-5d3a-4e6a-8f2c-3c4d5e6f7a03" for s in term["students"]}
        for row in profile_rows(term, ids)[:200]:
            values, problems = read_profile(row["cells"], today=dt.date(2026, 11, 30))
            assert problems == [] and values["birth_date"] and values["gender"], row["row"]
    assert set(born_in) == ({1} if size == "small" else {1, 2, 3})


def test_student_numbers_usernames_and_sections_are_unique(full):
    school, people = full
    usernames = [p["username"] for p in people]
    assert len(set(usernames)) == len(usernames)
    for term in school["terms"].values():
        numbers = [s["student_no"] for s in term["students"]]
        assert len(set(numbers)) == len(numbers)
        keys = [(sec["course_code"], sec["class_code"]) for sec in term["sections"]]
        assert len(set(keys)) == len(keys)
        classes = {c["code"] for c in term["classes"]}
        assert all(sec["class_code"] in classes and sec["students"] for sec in term["sections"])
        subjects = collections.defaultdict(set)
        for sec in term["sections"]:
            subjects[sec["class_code"]].add(sec["subject_name"])
        assert all(set(demo_generate.COMMON_SUBJECTS) <= subjects[c] for c in classes)


def test_growing_is_deterministic_and_leaves_its_inputs_alone(hand_written, full):
    before = json.dumps(hand_written, sort_keys=True, ensure_ascii=False)
    assert demo_generate.grow(*hand_written, "full") == full
    assert json.dumps(hand_written, sort_keys=True, ensure_ascii=False) == before


def test_the_small_school_is_the_hand_written_one_and_an_unknown_size_is_refused(hand_written):
    assert demo_generate.grow(*hand_written, "small") == (hand_written[0], hand_written[1])
    with pytest.raises(ValueError):
        demo_generate.grow(*hand_written, "huge")


def test_the_benchmark_school_has_over_two_thousand_students_in_the_same_shape(hand_written):
    school, people = demo_generate.grow(*hand_written, "large")
    day, ce = school["terms"]["day"], school["terms"]["ce"]
    assert (len(day["students"]), len(ce["students"])) == (1800, 300)
    assert len({s["national_id"] for t in (day, ce) for s in t["students"]}) == 2100
    assert len({p["username"] for p in people}) == len(people)


def test_generated_students_get_records_of_every_kind_and_the_hand_written_ones_only_theirs(hand_written, full):
    """deploy/demo_records.py: attendance, cadres/clubs/service, course grades and licences through
    the units' imports, consultations, career plans and competitions through their forms; every
    row one the records service accepts (checked by its own field rules here), none about a
    hand-written student (their items are deploy/demo/items.json's)."""
    import datetime as dt
    from deploy import demo_records
    from records.activities.domain import read_activity
    from records.attendance.domain import read_attendance
    from records.career.domain import read_assessment as read_career_assessment
    from records.competition.domain import read_competition
    from records.consultation.domain import read_consultation
    from records.performances.domain import read_performance
    hand = {s["student_no"] for t in hand_written[0]["terms"].values() for s in t["students"]}
    planned = demo_records.plan(full[0], hand)
    assert planned == demo_records.plan(full[0], hand), "deterministic: loading twice changes nothing"
    today = dt.date(2026, 11, 30)
    rules = {"import_attendance": read_attendance, "import_activities": read_activity,
             "record_consultation": read_consultation, "record_career_assessment": read_career_assessment,
             "record_competition": read_competition}
    for tenant, p in planned.items():
        sizes = {m: sum(len(rows) for _, rows in b) for m, b in p["imports"].items()}
        assert all(sizes.values()), (tenant, sizes)
        assert set(p["forms"]) == {"record_consultation", "record_career_assessment", "record_competition"}, tenant
        for method, batches in p["imports"].items():
            for _options, rows in batches:
                assert not hand & {r["cells"]["student_no"] for r in rows}
                for r in rows:
                    if method == "import_performances":
                        problems = read_performance("licence", r["cells"], today=today)[1]
                    elif method in rules:
                        problems = rules[method](r["cells"], today=today)[1]
                    else:
                        problems = []
                    assert not problems, (method, r, problems)
        for method, entries in p["forms"].items():
            for _class, no, data in entries:
                assert no not in hand and not rules[method](data, today=today)[1], (method, data)
    # every generated student has at least a grade; most a club or a cadre post
    graded = {r["cells"]["student_no"] for t in planned.values() for _, rows in t["imports"]["import_course_grades"]
              for r in rows}
    generated = {s["student_no"] for t in full[0]["terms"].values() for s in t["students"]} - hand
    assert graded == generated
