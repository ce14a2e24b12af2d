"""The student's portfolio page (我的紀錄, GET /me/records: every kind of item the school's units
entered, rendered by the gateway from one records RPC) with 50 concurrent sessions (issue 8:
p50/p95, target p95 <= 100 ms), as a ratio to the target.

Closed loop: 50 threads, each one signed-in session of a demo student (bench.reads' sign-in and
kept-alive connections), request after request for BENCH_PORTFOLIO_SECONDS (default 10 s) after
a warm-up; a request's latency is from its send to the end of the page. The sessions are the
hand-written demo students (the generated ones sign in through SSO only); they hold the demo's
items of every kind.
"""
import collections
import os
import statistics
import threading
import time

from bench.reads import Client, pct, sign_in_readers

SESSIONS = 50
TARGET_P95_MS = 100
PATH = "/me/records"


def _closed_loop(client, tokens, seconds):
    results, lock = [], threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(token):
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            status = client.get(PATH, token)
            mine.append(((time.perf_counter() - t0) * 1000, status))
        with lock:
            results.extend(mine)
    threads = [threading.Thread(target=worker, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def run(stack):
    seconds = float(os.environ.get("BENCH_PORTFOLIO_SECONDS", "10"))
    tokens = sign_in_readers(stack, SESSIONS)
    client = Client(stack.gateway_url)
    _closed_loop(client, tokens, 2)   # warm-up: connections, sessions, pools
    results = _closed_loop(client, tokens, seconds)
    ok = sorted(ms for ms, status in results if status == 200)
    failed = collections.Counter(status or "no answer" for _, status in results if status != 200)
    errors = ", ".join(f"{n} x {status}" for status, n in sorted(failed.items(), key=str)) or "0 errors"
    if not ok:
        print(f"portfolio  GET {PATH}: no request answered 200 ({errors})")
        return
    p50, p95 = statistics.median(ok), pct(ok, 0.95)
    print(f"portfolio  GET {PATH}, {SESSIONS} concurrent sessions, {seconds:.0f} s: p50 {p50:.0f} ms  "
          f"p95 {p95:.0f} ms  {len(ok) / seconds:.0f} pages/s ({errors})   vs p95 target {TARGET_P95_MS} ms   "
          f"ratio {TARGET_P95_MS / p95:.2f}x")
