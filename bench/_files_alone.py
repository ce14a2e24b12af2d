"""The files service alone (`python -m bench._files_alone [label]`): not part of `make bench`.

bench/uploads.py's `files` and `direct` lines and `files_peak_rss_mb`, without the rest of the
platform: the files service under gunicorn as the launcher starts it (2 workers x 6 threads)
against a SeaweedFS and a files database of its own, no broker (events stay in the outbox),
tickets and callers minted here as records and the gateway mint them. With nothing else
competing for the cores it isolates what the files path costs; it also prints the S3 server's
CPU seconds per 100 MB for each way (`weed_cpu`), so two versions of files can be compared
(run it on each; docs/benchmarks.md "One S3 write per upload"). Loopback only, bounded loops.
"""
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_FILES_PORT", "18381"))
# BENCH_PIN=1: the S3 server alone on core 0, the files service and the clients on the rest, as
# when S3 runs on its own host; both ways (direct and files) run under the same pinning
PIN = os.environ.get("BENCH_PIN") == "1" and (os.cpu_count() or 1) >= 2


def main(label="files"):
    sys.path.insert(0, str(ROOT))
    import psutil
    import requests
    import sqlalchemy as sa
    from minio import Minio

    from bench.uploads import COUNTS, MB, Payloads, mix, run_pool
    from deploy.seaweedfs import Identity
    from files import usecases
    from portfolio_common import caller as caller_mod
    from portfolio_common import signing
    from portfolio_common.db import drop_database, ensure_database
    from tests.support import servers
    from tests.support.callers import as_gateway
    from tests.support.ids import BUCKET_PREFIX, RUN, S3_ADMIN, S3_FILES, SECRETS
    from tests.support.servicedb import ServiceDb

    tmp = tempfile.TemporaryDirectory()
    work = Path(tmp.name)
    (work / "bench_files_app.py").write_text("from files.app import create_app\napp = create_app()\n")
    weed = servers.SeaweedServer(str(work), admin=S3_ADMIN,
                                 files_identity=Identity("files", *S3_FILES, bucket_prefix=BUCKET_PREFIX))
    url = sa.engine.make_url(servers.postgres_url()).set(
        database=f"t_{RUN}_files_alone").render_as_string(hide_password=False)
    ensure_database(url)
    ServiceDb(url, "files").engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE")}
    env.update(SECRETS)
    env.update(DATABASE_URL=url, AMQP_URI="amqp://guest:guest@127.0.0.1:9/",  # no broker: outbox only
               S3_ENDPOINT=weed.endpoint, S3_ACCESS_KEY=S3_FILES[0], S3_SECRET_KEY=S3_FILES[1],
               S3_BUCKET_PREFIX=BUCKET_PREFIX + "p", FILES_SEALED_CONSUMER="0", FILES_LOCKED_CONSUMER="0",
               FILES_SWEEP_EVERY_S="3600", PYTHONPATH=os.pathsep.join([str(work), str(ROOT / "services" / "files")]))
    weed_proc = psutil.Process(weed.proc.pid)

    def weed_cpu():
        return sum(sum(p.cpu_times()[:2]) for p in [weed_proc, *weed_proc.children(recursive=True)])

    def files_cpu(p):
        """CPU seconds (user + system) of the files service's master and workers so far."""
        proc = psutil.Process(p.pid)
        return sum(sum(q.cpu_times()[:2]) for q in [proc, *proc.children(recursive=True)])

    def start():
        log = open(work / "files.log", "ab")
        p = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "python:files.gunicorn_conf",
                              "-b", f"127.0.0.1:{PORT}", "bench_files_app:app"], env=env, cwd=work,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(240):
            try:
                if requests.get(f"http://127.0.0.1:{PORT}/healthz", timeout=2).ok:
                    return p
            except requests.RequestException:
                pass
            time.sleep(0.5)
        p.terminate()
        raise SystemExit((work / "files.log").read_text()[-3000:])

    def stop(p):
        p.terminate()
        p.wait(30)

    def ticket():
        c = caller_mod.Caller(user_id=str(uuid.uuid4()), username="s", tenant="day", roles=("student",))
        claims = {"kind": "outcome", "tenant": "day", "student_id": str(uuid.uuid4()), "student_user_id": c.user_id,
                  "school_year": 115, "description": "壓測", "outcome_id": str(uuid.uuid4()),
                  "section_id": str(uuid.uuid4()), "teacher_user_id": str(uuid.uuid4()), "semester": 1,
                  "course_code": "C1", "subject_name": "壓測上傳實習"}
        return signing.sign(claims, SECRETS["TICKET_KEY"], ttl=3600, purpose=usecases.TICKET_PURPOSE), \
            as_gateway(c, "files")

    def send(t, data, name):
        r = requests.post(f"http://127.0.0.1:{PORT}/v1/files", data=data, timeout=300, headers={
            "Authorization": f"Bearer {t[1]}", "X-Upload-Ticket": t[0], "X-Filename": name,
            "Content-Type": "application/octet-stream"})
        if r.status_code != 201:
            raise RuntimeError(f"{r.status_code} {r.text[:160]}")

    payloads = Payloads()
    admin = Minio(weed.endpoint, *S3_ADMIN, secure=False)
    direct_bucket = f"{BUCKET_PREFIX}direct"
    admin.make_bucket(direct_bucket)
    p = start()
    if PIN:  # the S3 server on core 0, everything else (files, this client) on the others
        others = set(range(1, os.cpu_count()))

        def pin(proc, cores):  # every thread: a thread keeps the mask it had when it started
            for tid in os.listdir(f"/proc/{proc.pid}/task"):
                os.sched_setaffinity(int(tid), cores)
        for q in [weed_proc, *weed_proc.children(recursive=True)]:
            pin(q, {0})
        for q in [psutil.Process(p.pid), *psutil.Process(p.pid).children(recursive=True), psutil.Process()]:
            pin(q, others)
    try:
        send(ticket(), payloads.make("pdf", MB, "warm"), "warm.pdf")
        for c, n in COUNTS.items():
            jobs = [(k, size, f"c{c}-{i}") for i, (k, size) in enumerate(mix(n, seed=c))]
            total = sum(size for _, size, _ in jobs) / MB
            w0 = weed_cpu()
            sec_d, _, err_d = run_pool(c, jobs, lambda j: admin.put_object(
                direct_bucket, f"b/{j[2]}", io.BytesIO(payloads.make(*j)), j[1]))
            w1 = weed_cpu()
            pre = [ticket() for _ in jobs]
            f0 = files_cpu(p)
            sec_f, _, err_f = run_pool(c, list(zip(jobs, pre)), lambda jt: send(
                jt[1], payloads.make(*jt[0]), f"{jt[0][2]}.{jt[0][0]}"))
            w2 = weed_cpu()
            f_cpu = files_cpu(p) - f0
            errs = err_d + err_f
            print(f"{label} upload c={c} direct={total / sec_d:.1f} files={total / sec_f:.1f} "
                  f"ratio_files={sec_d / sec_f:.2f} weed_cpu_s_per_100MB direct={100 * (w1 - w0) / total:.2f} "
                  f"files={100 * (w2 - w1) / total:.2f} files_cpu_s_per_100MB={100 * f_cpu / total:.2f}" + (f" errors={len(errs)} first={errs[0]}" if errs else ""),
                  flush=True)
        stop(p)
        p = start()   # a fresh files: 32 clients x 10 MB, the largest peak RSS of one worker
        big = [(ticket(), payloads.make("mp4", 10 * MB, f"rss-{i}")) for i in range(32)]
        _, _, err = run_pool(32, big, lambda tb: send(tb[0], tb[1], "rss.mp4"))
        peaks = [int(line.split()[1]) / 1024 for ch in psutil.Process(p.pid).children(recursive=True)
                 for line in Path(f"/proc/{ch.pid}/status").read_text().splitlines() if line.startswith("VmHWM:")]
        print(f"{label} files_peak_rss_mb={max(peaks):.0f}" + (f" errors={len(err)}" if err else ""), flush=True)
        print(f"{label} machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end", flush=True)
    finally:
        stop(p)
        weed.stop()
        drop_database(url)
        tmp.cleanup()


if __name__ == "__main__":
    main(*sys.argv[1:2])
