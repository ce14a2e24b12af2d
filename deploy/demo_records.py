"""Records of every kind for the generated demo students (issue 8 item 14), made up and plausible.

`plan(school, hand_written_numbers)` turns a grown school (deploy.demo_generate) into what each
school unit would have entered by the middle of the demo term (115-1), deterministically (one
seed): attendance (a few students absent a few periods), cadres, clubs and service hours, course
grades of every enrolment, licences and competitions reported by the school, consultation
records, career-plan assessments and in-school competitions. The hand-written students keep only
their hand-written items (deploy/demo/items.json), so the README's walkthroughs and the tests'
expectations about them do not move.

`load(rpc, system, planned)` enters them through the units' own paths: the spreadsheet imports
where a unit has one (`import_attendance`, `import_activities`, `import_course_grades`,
`import_performances`, all or nothing, idempotent: loading twice changes nothing), and the
units' forms for the kinds without an import (`record_consultation`, `record_career_assessment`,
`record_competition`), after reading each class's items once so an item already there is not
entered twice. The students' autobiographies are not generated: only a student writes one (no
tool may write as a student), see services/records/README.md.
"""
import random
import time

SCHOOL_YEAR, SEMESTER = 115, 1
CHUNK = 2000            # rows per import call (records takes at most 5,000)

CLUBS = ("資訊研究社", "吉他社", "熱舞社", "籃球社", "桌球社", "攝影社", "英語會話社", "國樂社", "童軍團",
         "機器人研究社", "烹飪社", "羽球社")
CADRES = ("班長", "副班長", "學藝股長", "風紀股長", "衛生股長", "總務股長")
SERVICES = (("校園環境清潔服務", "service"), ("圖書館志工", "volunteer"), ("社區淨灘活動", "volunteer"),
            ("交通導護服務", "service"))
ABSENCES = (("02", 0.25, 6), ("03", 0.3, 8), ("12", 0.05, 4), ("01", 0.1, 6))   # code, share, most periods
LICENCES = {"資料處理科": ("電腦軟體應用丙級", "11700"), "電機科": ("室內配線丙級", "00700"),
            "機械科": ("車床丙級", "01800"), "商業經營科": ("會計事務丙級", "19000"),
            "應用外語科": ("門市服務丙級", "19900")}
PLACES = ("輔導室", "圖書館研討室", "教務處會議室", "班級教室")
TOPICS = (("想了解二年級的選修課程與多元選修的差別。", "建議先看課程地圖，選修與興趣相關的專業課程。"),
          ("考慮跨科選修，不確定學分是否足夠。", "已核對畢業學分，可選修一門跨科課程。"),
          ("想參加校外技能檢定，詢問課程安排。", "建議選修實習課程並報名丙級檢定。"),
          ("對升學四技二專的科系選擇感到困惑。", "建議先做學群探索量表，再與導師討論。"))
GROUPS = ("資訊學群", "工程學群", "管理學群", "財經學群", "外語學群", "設計學群", "大眾傳播學群")
PLANS = ("升學四技相關科系，並持續參加技能檢定。", "先就業累積實務經驗，再進修二技。",
         "升學科技大學，高三參加專題競賽累積作品。", "考取證照後投入相關產業，並利用進修部繼續學習。")
CONTESTS = (("校內程式設計競賽", "個人組"), ("校內英語演講比賽", "高一組"), ("校內專題製作競賽", "團體組"),
            ("校內作文比賽", "高二組"), ("校內科展", "物理組"))
RESULTS = ("第一名", "第二名", "第三名", "佳作")


def _roc(month, day):
    return f"{SCHOOL_YEAR}/{month:02d}/{day:02d}"


def plan(school: dict, hand_written_numbers: set, seed: int = SCHOOL_YEAR) -> dict:
    """{tenant: {"imports": {rpc: [(options, rows)]}, "forms": {rpc: [(class_code, student_no, data)]}}}
    for the students of `school` not in `hand_written_numbers`. Pure; the same school gives the
    same records."""
    rng = random.Random(seed * 7 + 1)
    out = {}
    for tenant, term in school["terms"].items():
        students = sorted((s for s in term["students"] if s["student_no"] not in hand_written_numbers),
                          key=lambda s: s["student_no"])
        names = {c["code"]: c["name"] for c in term["classes"]}
        attendance, activities, grades, licences, forms = [], [], [], [], {}
        by_no = {s["student_no"]: s for s in students}
        row = iter(range(2, 10 ** 7))

        def add(kind, **cells):
            kind.append({"row": next(row), "cells": {k: str(v) for k, v in cells.items()}})

        def form(method, s, data):
            forms.setdefault(method, []).append((s["class_code"], s["student_no"], data))
        for s in students:
            no, code, seat = s["student_no"], s["class_code"], s["seat_no"]
            grade = int(code[0]) - (0 if tenant == "day" else 4)
            for absence, share, most in ABSENCES:
                if rng.random() < share:
                    add(attendance, student_no=no, school_year=SCHOOL_YEAR, semester=SEMESTER, absence_code=absence,
                        periods=rng.randint(1, most))
            if tenant == "day" or rng.random() < 0.3:
                add(activities, student_no=no, school_year=SCHOOL_YEAR, semester=SEMESTER, category="club",
                    name=rng.choice(CLUBS), started_on=_roc(9, 1))
            if seat <= len(CADRES):
                add(activities, student_no=no, school_year=SCHOOL_YEAR, semester=SEMESTER, category="cadre",
                    name=names.get(code, code), position=CADRES[seat - 1], started_on=_roc(9, 1))
            if rng.random() < 0.2:
                service, category = rng.choice(SERVICES)
                add(activities, student_no=no, school_year=SCHOOL_YEAR, semester=SEMESTER, category=category,
                    name=service, hours=rng.choice((2, 4, 6, 8)), started_on=_roc(10, rng.randint(1, 28)))
            dept = next((d for d in LICENCES if d in names.get(code, "")), None)
            if dept and grade >= 2 and rng.random() < 0.35:
                licence, licence_code = LICENCES[dept]
                add(licences, student_no=no, entered_by="校外機構", licence_code=licence_code,
                    obtained_on=_roc(rng.choice((8, 9, 10)), rng.randint(1, 28)), group=licence,
                    description=f"取得{licence}技術士證")
            if rng.random() < 0.08:
                topic, advice = rng.choice(TOPICS)
                form("record_consultation", s, {"held_on": _roc(10, rng.randint(1, 30)), "held_at": "12:10-12:50",
                                                "place": rng.choice(PLACES), "content": topic, "advice": advice})
            if grade == 3 and rng.random() < 0.2:
                form("record_career_assessment", s, {
                    "assessed_on": _roc(10, rng.randint(1, 30)), "instrument": "大學學群興趣量表",
                    "suggested_groups": "、".join(rng.sample(GROUPS, 2)), "career_plan": rng.choice(PLANS)})
            if rng.random() < 0.05:
                contest, group = rng.choice(CONTESTS)
                form("record_competition", s, {"name": f"{SCHOOL_YEAR} 學年度{contest}", "content": group,
                                               "result": rng.choice(RESULTS), "announced_on": _roc(11, rng.randint(1, 12))})
        for sec in term["sections"]:
            for no in sec["students"]:
                if no not in by_no:
                    continue
                mark = max(0, min(100, int(rng.gauss(74, 12))))
                add(grades, student_no=no, school_year=SCHOOL_YEAR, semester=SEMESTER,
                    course_code=sec["course_code"], semester_grade=mark)
        imports = {"import_attendance": [(None, attendance)], "import_activities": [(None, activities)],
                   "import_course_grades": [(None, grades)],
                   "import_performances": [({"kind": "performance_licence"}, licences)]}
        out[tenant] = {"imports": imports, "forms": forms}
    return out


LISTS = {"record_consultation": "list_consultations", "record_career_assessment": "list_career_assessments",
         "record_competition": "list_competitions"}
SAME = {"record_consultation": ("held_on", "content"), "record_career_assessment": ("assessed_on",),
        "record_competition": ("name", "content")}


def _iso(roc):
    y, m, d = roc.split("/")
    return f"{int(y) + 1911:04d}-{int(m):02d}-{int(d):02d}"


def load(rpc, system, planned: dict) -> dict:
    """Enter the planned records through the units' paths (see the module docstring). Returns
    {tenant: {kind: count written or found, ...}, "seconds": float, "seconds_by_kind": {kind:
    float, both tenants}}. Raises SystemExit when an import refuses a row (a generator bug:
    nothing of that import is written)."""
    started, report, spent = time.monotonic(), {}, {}

    def timed(method, t0):
        spent[method] = spent.get(method, 0.0) + time.monotonic() - t0
    for tenant, p in planned.items():
        counts = report.setdefault(tenant, {})
        for method, batches in p["imports"].items():
            t0 = time.monotonic()
            for options, rows in batches:
                for i in range(0, len(rows), CHUNK):
                    chunk = rows[i:i + CHUNK]
                    res = getattr(rpc.records, method)(system(tenant, "records"), chunk, False, None, options)
                    if res["problems"]:
                        raise SystemExit(f"{tenant} {method}: refused {res['problems'][:3]}")
                    counts[method] = counts.get(method, 0) + len(chunk)
            timed(method, t0)
        if not p["forms"]:
            continue
        ids = {s["student_no"]: s["id"] for s in rpc.records.list_students(system(tenant, "records"))}
        for method, entries in p["forms"].items():
            t0 = time.monotonic()
            held = {}
            for class_code in sorted({c for c, _, _ in entries}):
                for r in getattr(rpc.records, LISTS[method])(system(tenant, "records"), None, class_code):
                    for it in r["items"]:
                        if it["voided_at"] is None:
                            held.setdefault(r["student"]["student_no"], []).append(it)
            for _class_code, no, data in entries:
                key = {k: (_iso(data[k]) if k.endswith("_on") else data[k]) for k in SAME[method]}
                if not any(all(it.get(k) == v for k, v in key.items()) for it in held.get(no, [])):
                    getattr(rpc.records, method)(system(tenant, "records"), ids[no], data)
                counts[method] = counts.get(method, 0) + 1
            timed(method, t0)
    report["seconds"] = round(time.monotonic() - started, 1)
    report["seconds_by_kind"] = {k: round(v, 1) for k, v in spent.items()}
    return report
