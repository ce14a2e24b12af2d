"""Deadline night for one class: 40 students uploading (ticket from the gateway, bytes to files).

Measures on this machine:
  1. uploads end to end (256 KB PDFs) from 8 clients,
  2. the event hop: from the last 201 until the teacher's queue holds every upload,
  3. a read through the gateway (GET /api/v1/outcomes, one client, one request at a time).
Targets come from DOMAIN.md's sizing: a vocational school of 2,500 students peaks at about
1,000 uploads an hour; the worst case (every student uploading 6 x 10 MB in two hours) is about
100 Mbit/s. A ratio above 1 means headroom.
"""
import os
import statistics
import time

import requests

TARGET_UPLOADS_PER_S = 1000 / 3600          # DOMAIN.md: ~1,000 uploads in the peak hour
TARGET_WORST_MBIT_S = 100                   # DOMAIN.md: worst case, every student at once
TARGET_HOP_S = 5.0                          # an upload should reach the teacher's queue within seconds
TARGET_READ_P95_MS = 300                    # a page's data call at the 95th percentile


def run(stack):
    from tests.reliability import burst as b

    pad = os.urandom(256 * 1024)
    b.tiny_pdf = lambda tag: b"%PDF-1.4\n% " + tag.encode() + b"\n" + pad + b"\n%%EOF\n"  # 256 KB each
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
    rate = ok / seconds
    mbit = rate * (len(pad) * 8 / 1e6)
    p50, p95 = statistics.median(lat), sorted(lat)[int(len(lat) * 0.95)]
    print(f"uploads    {ok} x 256 KB in {seconds:.1f} s = {rate:.1f}/s   vs peak-hour target "
          f"{TARGET_UPLOADS_PER_S:.2f}/s   ratio {rate / TARGET_UPLOADS_PER_S:.0f}x")
    print(f"throughput {mbit:.0f} Mbit/s   vs worst-case target {TARGET_WORST_MBIT_S} Mbit/s   "
          f"ratio {mbit / TARGET_WORST_MBIT_S:.2f}x")
    print(f"event hop  all {stats and stats.get('total')} tasks queued {hop:.1f} s after the last upload   "
          f"vs target {TARGET_HOP_S:.0f} s   ratio {TARGET_HOP_S / max(hop, 0.01):.1f}x")
    print(f"read       GET /api/v1/outcomes p50 {p50:.0f} ms, p95 {p95:.0f} ms   vs p95 target "
          f"{TARGET_READ_P95_MS} ms   ratio {TARGET_READ_P95_MS / p95:.1f}x")
