"""National rosters: time and peak memory to pre-check and build every roster (學生資料, 學生成績,
缺勤紀錄, 課程學習成果 with its variant sheets, 多元表現) and the package with the evidence files
streamed in, for a 2,000-student tenant, in-process, with the same code the submission service
runs (issue 9 item 5 target: ≤ 30 s, flat memory). Needs no stack: the evidence comes from an
in-process store that hands out each file as a stream (as FilesEvidence does from files).

Per student: 1 學生資料 row, 14 grades, 3 absence codes, 6 certified outcomes (one student in
forty transferred in: their outcomes go to the 轉學轉科 sheet), a cadre, a service item, a
selected licence and an external competition; each outcome and performance has its own
evidence file (EVIDENCE_BYTES, distinct bytes). Each size runs in a process of its own, for 200
and 2,000 students: the build's peak resident memory above its input (the records answer and the
rows, which the service also holds) should not grow with the students (flat)."""
import contextlib
import datetime as dt
import hashlib
import io
import os
import time
import uuid

STUDENTS = 2000
PER_STUDENT = 6
GRADES = 14
EVIDENCE_BYTES = 16 * 1024
TARGET_S = 30.0
TERM = {"starts_on": "2026-08-30", "ends_on": "2027-01-20"}
NIDS = ("A123456789", "B123456780", "A223456781")


def _bytes_of(file_id: str) -> bytes:
    seed = hashlib.sha256(file_id.encode()).digest()
    return b"%PDF-1.4\n" + (seed * (EVIDENCE_BYTES // len(seed) + 1))[:EVIDENCE_BYTES - 9]


def _world(n):
    held, certified, directory, sha_of = [], {}, {}, {}
    for s in range(n):
        sid, uid = str(uuid.uuid4()), str(uuid.uuid4())
        outs, meta = [], {}
        for k in range(PER_STUDENT):
            oid, fid = str(uuid.uuid4()), str(uuid.uuid4())
            digest = hashlib.sha256(_bytes_of(fid)).hexdigest()
            outs.append({"outcome_id": oid, "course_code": f"115050407H11Z0{k:02d}", "subject_name": "程式設計",
                         "description": f"學生 {s} 的第 {k} 件成果：專題說明", "sha256": digest})
            certified[oid] = {"semester": 1, "school_year": 115, "sha256": digest}
            meta[oid] = {"status": "certified", "size": EVIDENCE_BYTES, "content_type": "application/pdf",
                         "grade_level": 1, "credits": 2, "file_id": fid, "sha256": digest}
        perf = []
        for kind, by, fields in (("licence", "student", {"licence_code": "17200", "obtained_on": "2026-10-01"}),
                                 ("competition", "external", {"name": "技藝競賽", "level_code": "3",
                                                              "announced_on": "2026-11-03"})):
            fid = str(uuid.uuid4())
            perf.append({"id": str(uuid.uuid4()), "kind": kind, "fields": fields, "description": f"{kind} 簡述",
                         "entered_by": by, "state": "ready", "file_id": fid,
                         "sha256": hashlib.sha256(_bytes_of(fid)).hexdigest(), "size": EVIDENCE_BYTES,
                         "content_type": "application/pdf"})
        held.append({"student_id": sid, "student_user_id": uid, "outcomes": outs,
                     "performances": [{"performance_id": perf[0]["id"]}]})
        directory[sid] = {
            "national_id": NIDS[s % 3], "birth_date": "2010-03-05", "name": f"學生{s}",
            "class_name": f"資{s // 40:02d}", "seat_no": s % 40 + 1, "status": "enrolled", "outcomes": meta,
            "profile": {"gender": None, "group_code": "21", "department_code": "301", "division_code": "1",
                        "class_type_code": "1", "enrolment_route": "1", "grade_level": 1},
            "grades": [{"id": str(g), "semester": 1, "course_code": f"115050407H11Z1{g:02d}", "subject_name": "國文",
                        "grade_level": 1, "credits": 2, "semester_grade": 60 + g, "passed": True,
                        "credit_counted": True, "remark": "學習態度良好"} for g in range(GRADES)],
            "attendance": [{"semester": 1, "absence_code": c, "periods": 2} for c in ("02", "03", "12")],
            "activities": [{"id": "c", "semester": 1, "category": "cadre", "name": "資一甲", "position": "班長",
                            "started_on": "2026-09-01", "description": "帶領班級"},
                           {"id": "v", "semester": 1, "category": "service", "name": "淨灘", "hours": 4,
                            "started_on": "2026-10-01", "description": "海灘清潔"}],
            "competitions": [], "performances": perf,
            "status_changes": [{"change": "transfer_in", "effective_on": "2026-09-01", "other_school_code": "011301",
                                "school_year": 115, "semester": 1}] if s % 40 == 0 else []}
    return held, certified, directory


@contextlib.contextmanager
def _store(file_id):
    yield io.BytesIO(_bytes_of(file_id))


def _rss_mb() -> float:
    """This process's resident memory now (Linux /proc), in MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _measure(n, queue):
    """In a process of its own (so its peak is its own): time and memory of one build. Memory is
    the peak resident size (getrusage) above what the input already took before the build."""
    import resource

    from submission.national import builders, columnset, rosters
    held, certified, directory = _world(n)
    cs = columnset.load(115)
    t0 = time.perf_counter()
    out, problems = builders.precheck_all(held, certified, directory, school_year=115, semester=1, term=TERM,
                                          column_set=cs, tenant="day", today=dt.date(2027, 1, 10))
    t1 = time.perf_counter()
    before = _rss_mb()
    with rosters.spooled_package_file() as fh:
        manifest = rosters.build_package(fh, cs, "day", {"school_code": "050407", "school_year": 115, "semester": 1},
                                         out, "2027-01-10T00:00:00+00:00", evidence=_store)
        size = fh.tell()
        rosters.remove_quietly(fh.name)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3      # kB on Linux
    evidence = sum(1 for f in manifest["files"] if f.get("evidence"))
    queue.put({"rows": builders.row_count(out), "problems": len(problems), "precheck": t1 - t0,
               "build": t2 - t1, "size": size, "evidence": evidence, "peak": max(peak - before, 0.0)})


def _run_apart(n):
    import multiprocessing
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    p = ctx.Process(target=_measure, args=(n, queue))
    p.start()
    result = queue.get()
    p.join()
    return result


def run(stack=None):
    small = _run_apart(STUDENTS // 10)
    big = _run_apart(STUDENTS)
    total = big["precheck"] + big["build"]
    print(f"national rosters, all five and the package: {STUDENTS} students, {big['rows']} rows, "
          f"{big['evidence']} evidence files, {big['problems']} problems; pre-check {big['precheck']:.1f} s, "
          f"build + package {big['build']:.1f} s ({big['size'] / 1e6:.0f} MB); total {total:.1f} s vs "
          f"{TARGET_S:.0f} s target ({total / TARGET_S:.2f} of it); peak resident memory above the input "
          f"during the build {big['peak']:.0f} MB for {STUDENTS}, {small['peak']:.0f} MB for {STUDENTS // 10} "
          f"students (flat when about the same)")


if __name__ == "__main__":
    run()
