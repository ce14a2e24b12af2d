"""Sealing five years on (issue 9 "Benchmarks": the time to seal 2,000 students): 2,000 students
of a tenant with a college application date six years back and 6 certified outcomes each (the
copies submission keeps, written straight into its database as the events would), then the
sealing job through its RPC (`run_sealing`, what the hourly timer calls): the seal row, the
signed manifest and `sealed` in the outbox per student. Reported: the job's time, and the time
until records, certification and files have all recorded the 2,000 seals from the broker
(their databases refusing the students' writes from then on). Issue 9 sets no target."""
import datetime as dt
import time
import uuid

import sqlalchemy as sa

STUDENTS = 2000
PER_STUDENT = 6
TENANT = "ce"     # the other benchmarks use day's students


def _seed(stack):
    from submission.orm import certified_outcomes
    from submission.sealing.orm import college_applications
    engine = sa.create_engine(stack.database_url("submission"))
    applied = dt.date.today() - dt.timedelta(days=6 * 366)
    now = dt.datetime.now(dt.timezone.utc)
    students, apps, outs = [], [], []
    for s in range(STUDENTS):
        sid, uid = uuid.uuid4(), uuid.uuid4()
        students.append(str(sid))
        apps.append(dict(id=uuid.uuid4(), tenant=TENANT, student_id=sid, student_user_id=uid, applied_on=applied,
                         recorded_by=uid, recorded_at=now))
        for k in range(PER_STUDENT):
            outs.append(dict(outcome_id=uuid.uuid4(), tenant=TENANT, student_id=sid, student_user_id=uid,
                             school_year=109, semester=k % 2 + 1, course_code=f"109050407H11Z0{k:02d}",
                             subject_name="程式設計", description=f"學生 {s} 的第 {k} 件成果",
                             sha256=f"{s:032x}{k:032x}", certified_at=now))
    with engine.begin() as c:
        c.execute(college_applications.insert(), apps)
        c.execute(certified_outcomes.insert(), outs)
    engine.dispose()
    return set(students)


def _sealed_in(stack, service, students) -> int:
    engine = sa.create_engine(stack.database_url(service))
    try:
        with engine.connect() as c:
            got = {str(s) for s in c.execute(sa.text(
                "select student_id from sealed_students where tenant = :t"), {"t": TENANT}).scalars()}
        return len(got & students)
    finally:
        engine.dispose()


def run(stack):
    from nameko.standalone.rpc import ClusterRpcProxy

    from tests.support.callers import as_system
    students = _seed(stack)
    t0 = time.perf_counter()
    sealed = 0
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=1800) as rpc:
        while True:
            n = rpc.submission.run_sealing(as_system(TENANT, "submission"))["sealed"]
            sealed += n
            if not n:
                break
    job = time.perf_counter() - t0
    consumers = ("records", "certification", "files")
    deadline = time.monotonic() + 900
    counts = {}
    while time.monotonic() < deadline:
        counts = {svc: _sealed_in(stack, svc, students) for svc in consumers}
        if all(n == STUDENTS for n in counts.values()):
            break
        time.sleep(1)
    everywhere = time.perf_counter() - t0
    print(f"sealing: {sealed} of {STUDENTS} students sealed by the job ({PER_STUDENT} certified outcomes each, "
          f"a signed manifest per student) in {job:.1f} s ({job / STUDENTS * 1000:.1f} ms a student); "
          f"recorded by {', '.join(f'{k} {v}' for k, v in counts.items())} after {everywhere:.1f} s")


if __name__ == "__main__":
    raise SystemExit("run it through `make bench ARGS=sealing` (it needs the platform running)")
