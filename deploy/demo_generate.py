"""Grow the hand-written demo school to the size of a real one (issue 8, item 14).

`grow(school, people, size)` keeps every hand-written login of deploy/demo/people.csv and every
class, student and section of deploy/demo/school.json exactly as they are (the README's
walkthroughs and the benchmarks sign in as them), and adds made-up people around them:

    size "full":  about 1,200 日間部 and 300 進修部 students in three grades, their classes
                  (40 and 50 seats), homeroom and subject teachers, staff of every role, and
                  each class's sections with enrolments;
    size "large": 1,800 日間部 and 300 進修部 students (make bench imports it);
    size "small": the hand-written school alone (what tests load).

Every student, hand-written or generated, has a birth date that fits their grade (a first-year
of school year 115 was born 2010-09-01..2011-08-31, a second-year a year earlier, ...) and the
gender code (1 男, 2 女) their national ID's second character says, as the national rosters need
them (issue 9); deploy.demo_school loads them through the registrar's roster import.

Everything is deterministic (one seed), so loading twice changes nothing. Generated people
sign in only through the school's SSO (`sso_only`: no password is hashed for them, which is
what keeps `make up` well under a minute); only the hand-written logins have the demo password.
National IDs are made up with valid checksums (citizen format, DOMAIN.md) and never repeat.
"""
import copy
import datetime as dt
import random

SIZES = ("full", "small", "large")
# size -> classes a grade per department (日間部, 進修部): full 1,200 + 300 students, large
# (make bench's import) 1,800 + 300 = 2,100
CLASSES_PER_DEPARTMENT = {"full": (2, 1), "large": (3, 1)}
SCHOOL_YEAR = 115

_SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高潘簡朱鍾彭游詹胡施沈余盧梁趙顏柯翁魏孫戴范方宋"
_GIVEN = "怡君柏宇雅婷家豪淑芬志明冠廷宜蓁承恩詩涵子晴彥廷品妤宥辰欣妤俊傑佳穎建宏思妤宇翔"
_LETTERS = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "J": 18, "K": 19,
    "L": 20, "M": 21, "N": 22, "P": 23, "Q": 24, "R": 25, "S": 26, "T": 27, "U": 28, "V": 29,
    "X": 30, "Y": 31, "W": 32, "Z": 33, "I": 34, "O": 35,
}
_WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1)

# (department, its two specialised subjects); the 日間部 has five departments of two classes a
# grade (10 x 40 seats x 3 grades = 1,200), the 進修部 two departments of one class a grade
# (2 x 50 seats x 3 grades = 300).
DAY_DEPARTMENTS = [("資料處理科", ("程式設計實習", "數位邏輯")), ("電機科", ("基本電學", "電工實習")),
                   ("機械科", ("機械製造", "機械基礎實習")), ("商業經營科", ("商業概論", "會計學")),
                   ("應用外語科", ("英語聽講練習", "觀光英語"))]
CE_DEPARTMENTS = [("商業經營科", ("商業概論", "會計學")), ("資料處理科", ("程式設計實習", "計算機概論"))]
COMMON_SUBJECTS = ("國語文", "英語文", "數學")
GRADE_NAMES = {1: "一", 2: "二", 3: "三"}
# Staff of every role a division has (accounts ROLES): one generated person each, SSO only.
STAFF_ROLES = {"subject_convener": ("convener", "學科召集人"), "consultation_teacher": ("consult", "課程諮詢教師"),
               "guidance_counsellor": ("counsel", "輔導教師"), "elective_officer": ("elective", "選課承辦人"),
               "discipline_section": ("discipline", "生輔組"), "activities_section": ("activity", "活動組"),
               "organising_unit": ("organiser", "競賽承辦單位")}


def national_id(letter: str, gender: int, body: int) -> str:
    """A citizen-format ID (letter, 1/2, seven digits, check digit) with a valid checksum."""
    head = f"{gender}{body:07d}"
    code = _LETTERS[letter]
    digits = [code // 10, code % 10] + [int(c) for c in head]
    total = sum(d * w for d, w in zip(digits, _WEIGHTS))
    return f"{letter}{head}{(10 - total % 10) % 10}"


def birth_range(school_year: int, grade: int) -> tuple[dt.date, dt.date]:
    """(first, last) birth date of a student in `grade` (1-3) of ROC `school_year`: a class
    enters senior high the August after its members turn 15 (the 1 September school-age
    cut-off), so a first-year of 115 (2026) was born 2010-09-01..2011-08-31."""
    first = dt.date(school_year + 1911 - 15 - grade, 9, 1)
    return first, dt.date(first.year + 1, 8, 31)


def birth_date(rng, school_year: int, grade: int) -> str:
    """A made-up birth date (ISO) in `birth_range`."""
    first, last = birth_range(school_year, grade)
    return (first + dt.timedelta(days=rng.randrange((last - first).days + 1))).isoformat()


def gender_of(national_id: str) -> str:
    """The gender code (1 男, 2 女) a citizen-format national ID carries as its second character."""
    return national_id[1]


class _Names:
    def __init__(self, rng):
        self.rng = rng

    def __call__(self):
        r = self.rng
        return r.choice(_SURNAMES) + "".join(r.choice(_GIVEN) for _ in range(2))


def grow(school: dict, people: list, size: str = "full", seed: int = SCHOOL_YEAR) -> tuple[dict, list]:
    """(school, people) as deploy.demo_school reads them -> the same, grown to `size`.

    school: {"tenants": [...], "terms": {tenant: {school_year, semester, classes, students,
    sections}}}; people: [{username, display_name, password, grants, platform_roles}].
    Returns new objects; the inputs are not changed. Raises ValueError for an unknown size.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}")
    school, people = copy.deepcopy(school), copy.deepcopy(people)
    if size == "small":
        return school, people
    rng = random.Random(seed)
    born = random.Random(seed + 1)   # its own stream: the names and IDs stay those of earlier loads
    name = _Names(rng)
    taken_ids = {s["national_id"] for term in school["terms"].values() for s in term["students"]}
    usernames = {p["username"] for p in people}

    def person(username, display_name, grants):
        assert username not in usernames, username
        usernames.add(username)
        people.append({"username": username, "display_name": display_name, "password": None, "sso_only": True,
                       "grants": grants, "platform_roles": []})

    def new_id(letter):
        while True:
            nid = national_id(letter, rng.choice((1, 2)), rng.randrange(10 ** 7))
            if nid not in taken_ids:
                taken_ids.add(nid)
                return nid

    day_classes, ce_classes = CLASSES_PER_DEPARTMENT[size]
    plans = {"day": (DAY_DEPARTMENTS, day_classes, 40, "H", "A", ""),
             "ce": (CE_DEPARTMENTS, ce_classes, 50, "N", "P", "N")}
    for tenant, term in school["terms"].items():
        departments, per_grade, seats, course_mark, id_letter, no_prefix = plans[tenant]
        year = term["school_year"]
        classes = {c["code"]: c for c in term["classes"]}
        seated = {}
        for s in term["students"]:
            seated.setdefault(s["class_code"], set()).add(s["seat_no"])
        numbers = {s["student_no"] for s in term["students"]}
        teachers = []

        def teacher(_kind):
            username = f"t_{tenant}{len(teachers) + 1:03d}"
            person(username, name() + "老師", [{"tenant": tenant, "role": "subject_teacher"}])
            teachers.append(username)
            return username

        first_grade_room = 1 if tenant == "day" else 5
        for grade in (1, 2, 3):
            entry_year = year - grade + 1
            seq = 1
            for d, (dept, specials) in enumerate(departments):
                for k in range(per_grade):
                    code = f"{first_grade_room + grade - 1}{d * per_grade + k + 1:02d}"
                    if code not in classes:
                        homeroom = teacher("homeroom")
                        classes[code] = {"code": code, "homeroom": homeroom,
                                         "name": f"{'進修部' if tenant == 'ce' else ''}{dept}{GRADE_NAMES[grade]}年{'甲乙丙丁'[k]}班"}
                        term["classes"].append(classes[code])
                    elif classes[code].get("homeroom") is None:
                        classes[code]["homeroom"] = teacher("homeroom")
                    for seat in range(1, seats + 1):
                        if seat in seated.get(code, ()):
                            continue
                        while f"{no_prefix}{entry_year}{seq:04d}" in numbers:
                            seq += 1
                        no = f"{no_prefix}{entry_year}{seq:04d}"
                        numbers.add(no)
                        username = f"s_{no.lower()}"
                        person(username, name(), [{"tenant": tenant, "role": "student"}])
                        nid = new_id(id_letter)
                        term["students"].append({"student_no": no, "username": username, "class_code": code,
                                                 "seat_no": seat, "national_id": nid,
                                                 "birth_date": birth_date(born, year, grade),
                                                 "gender": gender_of(nid)})
        for c in term["classes"]:
            c["homeroom"] = c.get("homeroom")
        # homeroom teachers hold the role too
        homerooms = {c["homeroom"] for c in term["classes"] if c.get("homeroom")}
        for p in people:
            if p["username"] in homerooms and p.get("sso_only"):
                p["grants"].append({"tenant": tenant, "role": "homeroom_teacher"})
        # Sections: the common subjects for every class, the department's two for generated
        # classes (the hand-written classes keep their hand-written sections).
        members = {}
        for s in term["students"]:
            members.setdefault(s["class_code"], []).append(s["student_no"])
        existing = {(sec["course_code"], sec["class_code"]) for sec in term["sections"]}
        hand_written = {sec["class_code"] for sec in term["sections"]}
        subject_teachers = {}
        for c in sorted(term["classes"], key=lambda c: c["code"]):
            grade = int(c["code"][0]) - first_grade_room + 1
            d = (int(c["code"][1:]) - 1) // per_grade
            subjects = list(COMMON_SUBJECTS)  # course letters K L M; the department's A B
            if c["code"] not in hand_written:
                subjects += list(departments[d][1])
            for j, subject in enumerate(subjects):
                letter = "KLM"[j] if j < len(COMMON_SUBJECTS) else "AB"[j - len(COMMON_SUBJECTS)]
                course_code = f"{year}050407{course_mark}{grade}{d + 1}{letter}0{c['code']}"
                if (course_code, c["code"]) in existing:
                    continue
                # a subject teacher teaches the same subject in up to six classes
                pool = subject_teachers.setdefault(subject, [])
                if not pool or pool[-1][1] >= 6:
                    pool.append([teacher("subject"), 0])
                pool[-1][1] += 1
                term["sections"].append({
                    "course_code": course_code, "subject_name": subject, "class_code": c["code"],
                    "grade_level": grade, "credits": 3 if subject in COMMON_SUBJECTS else 2,
                    "teacher": pool[-1][0], "students": sorted(members.get(c["code"], []))})
        for role, (tag, title) in STAFF_ROLES.items():
            username = f"{tag}_{tenant}"
            if username not in usernames:   # a hand-written login of that name wins
                person(username, f"{title} {name()}", [{"tenant": tenant, "role": role}])
    return school, people
