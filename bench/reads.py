"""Reads at open-loop rates: GET /api/v1/outcomes from 50 signed-in readers at 50, 100, 200 and
300 requests/s.

Open loop: request i is due at start + i/rate whatever happened to the ones before it (a pool of
threads sends it when it is due, or as soon as a thread is free), and its latency counts from
when it was due, so a server that falls behind shows in the percentiles instead of slowing the
load down (no coordinated omission). Each rate runs BENCH_READS_SECONDS (default 10 s) after a
warm-up pass. Readers are 50 sessions of the demo's students (several sessions each), each
request on a kept-alive connection from the pool.

The common request checks the session in the gateway's worker (a few seconds' cache, see
gateway/gateway/sessions.py) and makes one RPC to records. Run with SESSION_CACHE_SECONDS=0 in
the environment to measure the old way (an accounts RPC on every request).
"""
import collections
import http.client
import itertools
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

RATES = (50, 100, 200, 300)
READERS = 50
TARGET_P95_MS = 300                 # a page's data call at the 95th percentile
THREADS = 96
DEMO_STUDENTS = ("s_day01", "s_day02", "s_day03", "s_day04", "s_ce01", "s_ce02")
DEMO_PASSWORD = "demo-pass-2026"    # deploy/demo/people.csv
PATH = "/api/v1/outcomes"


class Client:
    """One kept-alive HTTP connection per thread (http.client: cheap on a 2-core machine)."""

    def __init__(self, base_url):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self._local = threading.local()

    def get(self, path, token):
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                resp = conn.getresponse()
                resp.read()
                return resp.status
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None  # the server closed an idle kept-alive connection: reconnect
                if attempt == 2:
                    return 0


def sign_in_readers(stack, n=READERS):
    tokens = []
    for username in itertools.islice(itertools.cycle(DEMO_STUDENTS), n):
        r = requests.post(stack.gateway_url + "/api/v1/auth/token", timeout=60,
                          json={"username": username, "password": DEMO_PASSWORD})
        r.raise_for_status()
        tokens.append(r.json()["token"])
    return tokens


def open_loop(client, tokens, rate, seconds, path=PATH):
    """[(latency ms from the due time, status)] of rate*seconds requests to `path` due at a
    steady rate, the sessions (`tokens`) taking turns."""
    n = int(rate * seconds)
    results = [None] * n
    order = itertools.cycle(tokens)

    def one(i, due, token):
        status = client.get(path, token)
        results[i] = ((time.perf_counter() - due) * 1000, status)

    with ThreadPoolExecutor(THREADS) as pool:
        start = time.perf_counter() + 0.05
        for i in range(n):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, i, due, next(order))
    return results


def pct(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def run(stack):
    seconds = float(os.environ.get("BENCH_READS_SECONDS", "10"))
    tokens = sign_in_readers(stack)
    client = Client(stack.gateway_url)
    open_loop(client, tokens, 50, 2)   # warm-up: connections, sessions, pools
    cache = os.environ.get("SESSION_CACHE_SECONDS", "5 (default)")
    print(f"reads      open loop, {READERS} readers, GET {PATH}, {seconds:.0f} s per rate, "
          f"session cache {cache} s")
    for rate in RATES:
        results = open_loop(client, tokens, rate, seconds)
        ok = sorted(ms for ms, status in results if status == 200)
        failed = collections.Counter(status or "no answer" for _, status in results if status != 200)
        errors = ", ".join(f"{n} x {status}" for status, n in sorted(failed.items(), key=str)) or "0 errors"
        if not ok:
            print(f"reads {rate:>4}/s  no request answered 200 ({errors})")
            continue
        p50, p95, p99 = statistics.median(ok), pct(ok, 0.95), pct(ok, 0.99)
        print(f"reads {rate:>4}/s  p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  p99 {p99:6.0f} ms  "
              f"{len(ok)} ok ({errors})   vs p95 target {TARGET_P95_MS} ms   "
              f"ratio {TARGET_P95_MS / p95:.1f}x")
