"""The student's portfolio page (我的紀錄, GET /me/records: every kind of item the school's units
entered, rendered by the gateway from one records RPC) with 50 concurrent sessions (issue 8:
p50/p95, target p95 <= 100 ms), as a ratio to the target.

Fifty signed-in sessions of the demo's students (the hand-written ones: the generated students
sign in through SSO only; they hold the demo's items of every kind), kept-alive connections
(bench.reads' Client), each run BENCH_PORTFOLIO_SECONDS (default 10 s) after a warm-up:

- open loop at 25 and 50 pages/s: the 50 sessions taking turns, a page due every 1/rate s
  whatever happened to the ones before (latency counted from when it was due: no coordinated
  omission). 50 pages/s is each of the 50 people opening the page once a second, more than a
  person reading it does; the target is judged on that line.
- closed loop ("no pause"): each session sends its next request the moment the last one ends.
  That is the page's saturation throughput on this machine, not 50 people: with 50 requests
  always in flight, latency is 50 / throughput (Little's law), so p95 <= 100 ms there would take
  some 600 pages/s from two cores shared by the load generator, the gateway, records,
  RabbitMQ and PostgreSQL. Printed for its pages/s, to compare run to run.
"""
import collections
import os
import statistics
import threading
import time

from bench.reads import Client, open_loop, pct, sign_in_readers

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


RATES = (25, 50)


def _line(label, results, seconds):
    ok = sorted(ms for ms, status in results if status == 200)
    failed = collections.Counter(status or "no answer" for _, status in results if status != 200)
    errors = ", ".join(f"{n} x {status}" for status, n in sorted(failed.items(), key=str)) or "0 errors"
    if not ok:
        print(f"portfolio  GET {PATH}, {label}: no request answered 200 ({errors})")
        return
    p50, p95 = statistics.median(ok), pct(ok, 0.95)
    print(f"portfolio  GET {PATH}, {SESSIONS} sessions, {label}, {seconds:.0f} s: p50 {p50:.0f} ms  "
          f"p95 {p95:.0f} ms  {len(ok) / seconds:.0f} pages/s ({errors})   vs p95 target {TARGET_P95_MS} ms   "
          f"ratio {TARGET_P95_MS / p95:.2f}x")


def run(stack):
    seconds = float(os.environ.get("BENCH_PORTFOLIO_SECONDS", "10"))
    tokens = sign_in_readers(stack, SESSIONS)
    client = Client(stack.gateway_url)
    _closed_loop(client, tokens, 2)   # warm-up: connections, sessions, pools
    for rate in RATES:
        _line(f"open loop {rate}/s", open_loop(client, tokens, rate, seconds, path=PATH), seconds)
    _line("no pause (saturation)", _closed_loop(client, tokens, seconds), seconds)
