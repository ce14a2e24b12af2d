"""Upload benchmark (`python -m bench uploads`): the files service against the S3 server it
writes to, on this machine. Prints, one line each, to compare run to run:

  upload c=<n> direct=<MB/s> files=<MB/s> end_to_end=<MB/s> ratio_files=<x.xx> ratio_end_to_end=<x.xx>
      at 1, 8 and 32 concurrent clients, the realistic mix (90% documents 0.5-4 MB, 10% media
      5-10 MB): direct = minio PUT straight to S3; files = bytes to the files service with
      tickets issued beforehand; end_to_end = ticket from the gateway + bytes + until the
      outcome-uploaded event is published (the outbox is empty). Each phase starts on a quiet
      machine (wait_quiet): the events of the phase before are consumed first, so their
      consumers' CPU is not charged to the next phase; a phase's own consumers run during it.
  cpu c=<n> phase=<direct|files|end_to_end> s_per_100MB total=<s> <part>=<s> ...
                             where each phase's CPU went: seconds per 100 MB uploaded, for
                             every process of the platform, PostgreSQL, RabbitMQ and the client
  files_peak_rss_mb=<n>      the largest peak RSS (VmHWM) of one files worker while 32 clients
                             each upload 10 MB
  deadline_night students=2000 uploads=<n> rate=<uploads/s> p50_ms=<n> p99_ms=<n> errors=<n>
                             a tenant of 2,000 students, 400 of them uploading end to end at once

Targets (issue 7): ratio_files >= 0.9, ratio_end_to_end >= 0.5, peak RSS < 200 MB, 0 errors.
Everything runs on loopback, every loop is bounded. Scale with BENCH_UPLOADS_SCALE (default 1).
"""
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MB = 1024 * 1024
SCALE = float(os.environ.get("BENCH_UPLOADS_SCALE", "1"))
COUNTS = {1: int(16 * SCALE), 8: int(48 * SCALE), 32: int(96 * SCALE)}
STUDENTS = int(os.environ.get("BENCH_UPLOADS_STUDENTS", "2000"))
DEADLINE_UPLOADERS = int(400 * SCALE)
PASSWORD = "demo-pass-2026"
SUBJECT = "壓測上傳實習"


def mix(n, seed):
    """(kind, size) for n uploads: 90% documents 0.5-4 MB, 10% media 5-10 MB."""
    rnd = random.Random(seed)
    return [("mp4", rnd.randint(5 * MB, 10 * MB)) if rnd.random() < 0.1 else ("pdf", rnd.randint(MB // 2, 4 * MB))
            for _ in range(n)]


class Payloads:
    """Bytes of each kind and size, cut from one random block (generating costs no time later)."""

    def __init__(self):
        self.block = os.urandom(10 * MB)

    def make(self, kind, size, tag):
        if kind == "pdf":
            head = b"%PDF-1.4\n% " + tag.encode() + b"\n"
            return head + self.block[:size - len(head) - 6] + b"\n%%EOF"
        import struct
        ftyp = struct.pack(">I4s4sI", 24, b"ftyp", b"isom", 0x200) + b"isomiso2"
        body = self.block[:size - len(ftyp) - 8]
        return ftyp + struct.pack(">I4s", 8 + len(body), b"mdat") + body


def run_pool(c, jobs, fn):
    """Run fn(job) for every job on c threads; (seconds, results, errors)."""
    errors, results = [], []
    lock = threading.Lock()

    def one(job):
        try:
            out = fn(job)
            with lock:
                results.append(out)
        except Exception as exc:  # noqa: BLE001 - counted and printed
            with lock:
                errors.append(repr(exc)[:200])
    t0 = time.perf_counter()
    with ThreadPoolExecutor(c) as pool:
        list(pool.map(one, jobs))
    return time.perf_counter() - t0, results, errors


def cpu_seconds(stack) -> dict:
    """CPU seconds (user + system) so far of each part of the platform on this machine: every
    process the launcher started (with its children: gunicorn workers, weed's), PostgreSQL,
    RabbitMQ and this bench's own client. Diff two readings to see where a phase's CPU went."""
    import psutil

    def own(q):  # its own CPU and that of its children it has reaped (a PostgreSQL backend
        try:     # that ended, a gunicorn worker that was replaced): a reading never goes down
            t = q.cpu_times()
            return t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            return 0.0

    def tree(root):
        try:
            return own(root) + sum(own(q) for q in root.children(recursive=True))
        except psutil.Error:
            return 0.0
    out = {name: tree(psutil.Process(pid)) for name, pid in stack.running().items()}
    for label, names in (("postgres", {"postgres"}), ("rabbitmq", {"beam.smp", "erl_child_setup", "epmd"})):
        roots = []   # the top process of each (the postmaster: its backends come and go)
        for q in psutil.process_iter(["name", "ppid"]):
            try:
                if q.info["name"] in names and psutil.Process(q.info["ppid"]).name() not in names:
                    roots.append(q)
            except psutil.Error:
                pass
        out[label] = sum(tree(q) for q in roots)
    out["client"] = sum(psutil.Process().cpu_times()[:2])
    return out


def cpu_line(c, phase, before, after, total_mb) -> str:
    """`cpu c=8 phase=files s_per_100MB weed=0.90 files=0.48 ...`: CPU seconds per 100 MB
    uploaded in that phase, per part, largest first."""
    per = {k: 100 * (after.get(k, 0) - before.get(k, 0)) / total_mb for k in after}
    parts = " ".join(f"{k}={v:.2f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1]) if v >= 0.005)
    return f"cpu c={c} phase={phase} s_per_100MB total={sum(per.values()):.2f} {parts}"


def wait_outbox_empty(stack, timeout=300):
    import sqlalchemy as sa
    eng = sa.create_engine(stack.database_url("files"))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with eng.connect() as c:
                left = c.execute(sa.text("select count(*) from outbox where sent_at is null")).scalar()
            if left == 0:
                return True
            time.sleep(0.05)
        return False
    finally:
        eng.dispose()


def wait_quiet(stack, timeout=120, busy_cores=0.2, step=0.5):
    """Until the platform (every part cpu_seconds reads but this client) used less than
    `busy_cores` of the machine over two `step`s in a row: the consumers have worked off the
    events of the phase before, so a phase is measured from a quiet machine and does not pay
    for the one before it. Bounded by `timeout` seconds; returns whether it got quiet."""
    deadline = time.monotonic() + timeout
    prev, calm = cpu_seconds(stack), 0
    while time.monotonic() < deadline:
        time.sleep(step)
        cur = cpu_seconds(stack)
        busy = sum(cur[k] - prev.get(k, 0) for k in cur if k != "client") / step
        prev = cur
        calm = calm + 1 if busy < busy_cores else 0
        if calm >= 2:
            return True
    return False


def worker_peak_rss_mb(stack):
    """The largest VmHWM (peak resident set) among the files service's worker processes."""
    import psutil
    master = psutil.Process(stack.running()["files"])
    peaks = []
    for p in master.children(recursive=True):
        for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def run(stack):
    """Measure on `stack` (bench/__main__.py started it, with its own SeaweedFS)."""
    import requests
    from minio import Minio

    from tests.support import uploads
    from tests.support.school import add_class

    payloads = Payloads()
    t0 = time.monotonic()
    needed = (sum(COUNTS.values()) * 2 + 32) // 6 + 2
    names = add_class(stack, prefix="bu", class_code="196", subject=SUBJECT, n=STUDENTS, nid_letter="T",
                      rpc_timeout=1800, accounts=needed + DEADLINE_UPLOADERS)
    print(f"setup: {STUDENTS} students imported ({len(names)} with accounts) in "
          f"{time.monotonic() - t0:.0f} s", flush=True)
    gw = stack.gateway_url

    def sign_in(name):
        r = requests.post(gw + "/api/v1/auth/token", json={"username": name, "password": PASSWORD}, timeout=120)
        r.raise_for_status()
        s = requests.Session()
        s.headers["Authorization"] = "Bearer " + r.json()["token"]
        return name, s
    users = names
    t0 = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        sessions = dict(pool.map(sign_in, users))
    print(f"setup: {len(users)} students signed in in {time.monotonic() - t0:.0f} s", flush=True)
    section = next(s["id"] for s in sessions[users[0]].get(gw + "/api/v1/sections", timeout=60).json()
                   if s["subject_name"] == SUBJECT)
    slots = [(u, i) for u in users[:needed] for i in range(6)]   # (student, slot) never reused
    slot_iter = iter(slots)
    admin = Minio(stack.s3_endpoint, stack.secrets["S3_ACCESS_KEY"], stack.secrets["S3_SECRET_KEY"], secure=False)
    direct_bucket = f"{stack.bucket_prefix}-direct"
    admin.make_bucket(direct_bucket)

    def ticket(user):
        r = uploads.request_ticket(sessions[user], gw, section, "壓測上傳")
        r.raise_for_status()
        return r.json()

    for c, n in COUNTS.items():
        jobs = [(k, size, f"c{c}-{i}") for i, (k, size) in enumerate(mix(n, seed=c))]
        total_mb = sum(size for _, size, _ in jobs) / MB

        def direct(job):
            import io
            data = payloads.make(*job)
            admin.put_object(direct_bucket, f"bench/{job[2]}", io.BytesIO(data), len(data))
        wait_quiet(stack)
        cpu0 = cpu_seconds(stack)
        sec_direct, _, err_direct = run_pool(c, jobs, direct)
        cpu1 = cpu_seconds(stack)

        pre = [ticket(next(slot_iter)[0]) for _ in jobs]  # issued before the clock starts
        wait_quiet(stack)

        def files_only(job_ticket):
            job, t = job_ticket
            r = uploads.send_file(requests.Session(), t, payloads.make(*job), f"{job[2]}.{job[0]}")
            if r.status_code != 201:
                raise RuntimeError(f"{r.status_code} {r.text[:120]}")
        cpu2 = cpu_seconds(stack)
        sec_files, _, err_files = run_pool(c, list(zip(jobs, pre)), files_only)
        cpu3 = cpu_seconds(stack)
        wait_outbox_empty(stack)
        wait_quiet(stack)   # the consumers of the files phase's events are done before the next phase

        def end_to_end(job):
            user = next(slot_iter)[0]
            r = uploads.upload_outcome(sessions[user], gw, section, "壓測上傳", payloads.make(*job),
                                       f"{job[2]}.{job[0]}")
            if r.status_code != 201:
                raise RuntimeError(f"{r.status_code} {r.text[:120]}")
        t_e2e = time.perf_counter()
        cpu4 = cpu_seconds(stack)
        _, _, err_e2e = run_pool(c, jobs, end_to_end)
        wait_outbox_empty(stack)
        sec_e2e = time.perf_counter() - t_e2e
        cpu5 = cpu_seconds(stack)
        d, f, e = total_mb / sec_direct, total_mb / sec_files, total_mb / sec_e2e
        errs = len(err_direct) + len(err_files) + len(err_e2e)
        print(f"upload c={c} direct={d:.1f} files={f:.1f} end_to_end={e:.1f} ratio_files={f / d:.2f} "
              f"ratio_end_to_end={e / d:.2f}" + (f" errors={errs} first={(err_direct + err_files + err_e2e)[0]}"
                                                 if errs else ""), flush=True)
        for phase, (a, b) in (("direct", (cpu0, cpu1)), ("files", (cpu2, cpu3)), ("end_to_end", (cpu4, cpu5))):
            print(cpu_line(c, phase, a, b, total_mb), flush=True)

    # peak memory of one files process: a fresh files, 32 clients x 10 MB
    stack.stop(["files"])
    stack.start(["files"])
    big = [("mp4", 10 * MB, f"rss-{i}") for i in range(32)]
    pre = [ticket(next(slot_iter)[0]) for _ in big]
    _, _, err_rss = run_pool(32, list(zip(big, pre)), lambda jt: uploads.send_file(
        requests.Session(), jt[1], payloads.make(*jt[0]), "rss.mp4").raise_for_status())
    print(f"files_peak_rss_mb={worker_peak_rss_mb(stack):.0f}" + (f" errors={len(err_rss)}" if err_rss else ""),
          flush=True)

    # deadline night: distinct students, each one upload end to end, 32 at a time
    night = users[needed:needed + DEADLINE_UPLOADERS]
    kinds = mix(len(night), seed=2000)
    lat = []

    def one_student(args):
        user, (k, size) = args
        t = time.perf_counter()
        r = uploads.upload_outcome(sessions[user], gw, section, "期末成果", payloads.make(k, size, user),
                                   f"{user}.{k}")
        if r.status_code != 201:
            raise RuntimeError(f"{r.status_code} {r.text[:120]}")
        lat.append((time.perf_counter() - t) * 1000)
    t0 = time.perf_counter()
    _, _, err_night = run_pool(32, list(zip(night, kinds)), one_student)
    wait_outbox_empty(stack)
    secs = time.perf_counter() - t0
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0
    print(f"deadline_night students={STUDENTS} uploads={len(lat)} rate={len(lat) / secs:.1f}/s "
          f"p50_ms={statistics.median(lat) if lat else 0:.0f} p99_ms={p99:.0f} errors={len(err_night)}", flush=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end "
          f"(this bench's own platform included: the 1-minute average of the deadline-night burst)", flush=True)

