"""Deadline-night benchmark: `make bench` (or `python -m bench`). Prints ratios, asserts nothing.

Starts the whole platform as the launcher does (own vhost, databases, S3), adds a class of 40
students, and measures on this machine:
  1. uploads through the gateway (4 MB limit; the bench uses 256 KB PDFs) from 8 clients,
  2. the event hop: from the last 201 until the teacher's queue holds every upload,
  3. a read through the gateway (GET /api/v1/outcomes: one session check + one RPC).
Targets come from DOMAIN.md's sizing: a vocational school of 2,500 students peaks at about
1,000 uploads an hour; the worst case (every student uploading 6 x 10 MB in two hours) is about
100 Mbit/s. A ratio above 1 means headroom.
"""
import os
import statistics
import sys
import tempfile
import time
import uuid

TARGET_UPLOADS_PER_S = 1000 / 3600          # DOMAIN.md: ~1,000 uploads in the peak hour
TARGET_WORST_MBIT_S = 100                   # DOMAIN.md: worst case, every student at once
TARGET_HOP_S = 5.0                          # an upload should reach the teacher's queue within seconds
TARGET_READ_P95_MS = 300                    # a page's data call at the 95th percentile


def main():
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("EVENT_RETRY_DELAYS_MS", "500,2000,5000")
    import requests

    from tests.reliability import burst as b
    from tests.support import servers
    from tests.support.ids import RUN, SECRETS
    from tests.support.stack import running_stack

    pad = os.urandom(256 * 1024)
    b.tiny_pdf = lambda tag: b"%PDF-1.4\n% " + tag.encode() + b"\n" + pad + b"\n%%EOF\n"  # 256 KB each
    moto = None if os.environ.get("TEST_S3_ENDPOINT") else servers.MotoServer()
    s3 = os.environ.get("TEST_S3_ENDPOINT") or moto.endpoint
    try:
        with tempfile.TemporaryDirectory() as tmp, running_stack(
                tmp, name="bench", pg_base_url=servers.postgres_url(), amqp_uri=servers.amqp_uri(),
                s3_endpoint=s3, secrets=SECRETS, run_id=RUN) as stack:
            klass = b.add_burst_class(stack)
            burst = b.Burst(klass, workers=8)
            burst.start()
            burst.join(timeout=600)
            ok = len(burst.outcome_ids)
            seconds = burst.finished - burst.started
            t0 = time.monotonic()
            stats, _, _ = b.poll_stats(klass, ok, timeout=120)
            hop = time.monotonic() - t0
            student = klass.students[0]
            lat = []
            for _ in range(200):
                t = time.perf_counter()
                requests.get(stack.gateway_url + "/api/v1/outcomes",
                             headers={"Authorization": f"Bearer {student.token}"}, timeout=30)
                lat.append((time.perf_counter() - t) * 1000)
    finally:
        if moto:
            moto.stop()
    rate = ok / seconds
    mbit = rate * (len(pad) * 8 / 1e6)
    p50, p95 = statistics.median(lat), sorted(lat)[int(len(lat) * 0.95)]
    print(f"\nbench run {uuid.uuid4().hex[:6]} on {os.cpu_count()} cores (everything on this one machine)")
    print(f"uploads    {ok} x 256 KB in {seconds:.1f} s = {rate:.1f}/s   vs peak-hour target "
          f"{TARGET_UPLOADS_PER_S:.2f}/s   ratio {rate / TARGET_UPLOADS_PER_S:.0f}x")
    print(f"throughput {mbit:.0f} Mbit/s   vs worst-case target {TARGET_WORST_MBIT_S} Mbit/s   "
          f"ratio {mbit / TARGET_WORST_MBIT_S:.2f}x")
    print(f"event hop  all {stats and stats.get('total')} tasks queued {hop:.1f} s after the last upload   "
          f"vs target {TARGET_HOP_S:.0f} s   ratio {TARGET_HOP_S / max(hop, 0.01):.1f}x")
    print(f"read       GET /api/v1/outcomes p50 {p50:.0f} ms, p95 {p95:.0f} ms   vs p95 target "
          f"{TARGET_READ_P95_MS} ms   ratio {TARGET_READ_P95_MS / p95:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
