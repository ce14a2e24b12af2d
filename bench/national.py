"""National rosters: time and peak memory to pre-check and build the 課程學習成果名冊 and its
package for a 2,000-student tenant (6 outcomes each), in-process, with the same code the
submission service runs (issue 9 target: ≤ 30 s, flat memory). Needs no stack."""
import datetime as dt
import time
import tracemalloc
import uuid

STUDENTS = 2000
PER_STUDENT = 6
TARGET_S = 30.0


def _world(n):
    held, certified, directory = [], {}, {}
    for s in range(n):
        sid, uid = str(uuid.uuid4()), str(uuid.uuid4())
        outs, meta = [], {}
        for k in range(PER_STUDENT):
            oid = str(uuid.uuid4())
            outs.append({"outcome_id": oid, "course_code": f"115050407H11Z0{k:02d}", "subject_name": "程式設計",
                         "description": f"學生 {s} 的第 {k} 件成果：專題說明", "sha256": "a" * 64})
            certified[oid] = {"semester": 1, "school_year": 115, "sha256": "a" * 64}
            meta[oid] = {"status": "certified", "size": 100_000, "content_type": "application/pdf",
                         "grade_level": 1, "credits": 2, "file_id": str(uuid.uuid4()), "sha256": "a" * 64}
        held.append({"student_id": sid, "student_user_id": uid, "outcomes": outs})
        directory[sid] = {"national_id": "A123456789", "birth_date": "2010-03-05", "name": f"學生{s}",
                          "class_name": f"資{s // 40:02d}", "seat_no": s % 40 + 1, "outcomes": meta}
    return held, certified, directory


def run(stack=None):
    from submission.national import columnset, domain, rosters
    held, certified, directory = _world(STUDENTS)
    cs = columnset.load(115)
    tracemalloc.start()
    t0 = time.perf_counter()
    rows, problems = domain.precheck(held, certified, directory, 1, dt.date(2027, 1, 10))
    t1 = time.perf_counter()
    before_build = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    with rosters.spooled_package_file() as fh:
        manifest = rosters.build_package(fh, cs, "day", {"school_code": "050407", "school_year": 115, "semester": 1},
                                         {"course_outcomes": iter(rows)}, "2027-01-10T00:00:00+00:00")
        size = fh.tell()
        rosters.remove_quietly(fh.name)
    t2 = time.perf_counter()
    build_peak = tracemalloc.get_traced_memory()[1] - before_build
    tracemalloc.stop()
    total = t2 - t0
    print(f"national rosters: {STUDENTS} students, {len(rows)} rows, {len(problems)} problems; pre-check "
          f"{t1 - t0:.1f} s, build + package {t2 - t1:.1f} s ({size / 1e6:.1f} MB, "
          f"{manifest['files'][0]['rows']} rows); total {total:.1f} s vs {TARGET_S:.0f} s target "
          f"({total / TARGET_S:.2f} of it); build peak above the rows {build_peak / 1e6:.1f} MB")


if __name__ == "__main__":
    run()
