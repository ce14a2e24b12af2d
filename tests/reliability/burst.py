"""The "burst class" the reliability tests upload from, and the tools to drive and check a burst.

A class of 40 extra students in tenant `day` (accounts through accounts.import_people, school
data through records.import_school, both as the system caller), one section taught by the demo
teacher t_wang, every student signed in through the gateway's API. `Burst` then uploads 5
course outcomes per student (200 in all) (ticket from the gateway, bytes to files) from a thread pool,
like students on deadline night, while a test breaks something underneath.

Every wait here is bounded in count and time; every address is loopback.
"""
from __future__ import annotations

import collections
import hashlib
import itertools
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from records.domain import national_id_checksum_ok
from tests.support.callers import as_system
from tests.support import uploads

TENANT = "day"
TENANT_HEADER = "X-Portfolio-Tenant"   # gateway/gateway/auth.py
SCHOOL_YEAR, SEMESTER = 115, 1
STUDENTS = 40
UPLOADS_PER_STUDENT = 5            # under the quota of 6 per semester
PASSWORD = "burst-pass-2026"       # >= 8 characters
DEMO_PASSWORD = "demo-pass-2026"   # deploy/demo/people.csv
CLASS_CODE = "199"
COURSE_CODE = "115050407H11Z0199"
HTTP_TIMEOUT = 150                 # > the gateway's RPC timeout (30 s) plus the files call
RETRYABLE_CODES = ("service_unavailable", "storage_unavailable")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


# ---------------------------------------------------------------- data

def valid_national_ids(n, letter="Q", block=0):
    """n distinct national IDs with a correct checksum (letter Q: none of the demo's).
    `block` (0-9) is the serial's first digit: each (letter, block) is its own sequence of up to
    1,000,000 IDs; block 0 gives the same IDs as before blocks existed."""
    assert 0 <= block <= 9 and n <= 1_000_000
    out = []
    for i in range(n):
        body = f"{letter}{1 + i % 2}{block}{i:06d}"
        digit = next(d for d in range(10) if national_id_checksum_ok(f"{body}{d}"))
        out.append(f"{body}{digit}")
    assert len(set(out)) == n
    return out


def tiny_pdf(tag: str) -> bytes:
    """A small PDF whose bytes are unique to `tag`."""
    return (b"%PDF-1.4\n% reliability burst " + tag.encode() + b"\n"
            b"1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def _check_loopback(url_or_uri: str):
    host = urllib.parse.urlsplit(url_or_uri).hostname
    assert host in LOOPBACK, f"reliability tests only talk to loopback, not {host!r} ({url_or_uri})"


# ---------------------------------------------------------------- gateway client

class Api:
    def __init__(self, base_url):
        _check_loopback(base_url)
        self.base = base_url.rstrip("/")
        self._local = threading.local()

    def _session(self):
        s = getattr(self._local, "s", None)
        if s is None:
            s = self._local.s = requests.Session()
        return s

    def request(self, method, path, token=None, **kw):
        headers = kw.pop("headers", {})
        # The active tenant of an API call (ops and the teacher hold grants in more than one).
        headers.setdefault(TENANT_HEADER, TENANT)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self._session().request(method, self.base + path, headers=headers, **kw)

    def login(self, username, password, tenant=TENANT, attempts=10):
        last = None
        for _ in range(attempts):
            r = self.request("POST", "/api/v1/auth/token",
                             json={"username": username, "password": password, "tenant": tenant})
            if r.status_code in (200, 201):
                return r.json()
            last = f"{r.status_code} {r.text[:300]}"
            if r.status_code != 503:
                break
            time.sleep(1)
        raise AssertionError(f"sign-in of {username} failed: {last}")


# ---------------------------------------------------------------- the class

@dataclass
class Student:
    username: str
    student_no: str
    token: str = ""


@dataclass
class BurstClass:
    api: Api
    section_id: str
    teacher_token: str
    ops_token: str
    students: list = field(default_factory=list)


def system_token(audience, tenant=TENANT):
    """The platform's tools' caller (`system`, signed with the ops key) for one service."""
    return as_system(tenant, audience)


def add_burst_class(stack, n_students=STUDENTS) -> BurstClass:
    """Import 40 students and a section taught by t_wang into tenant `day`; sign them all in."""
    _check_loopback(stack.amqp_uri)
    api = Api(stack.gateway_url)
    teacher = api.login("t_wang", DEMO_PASSWORD)
    wang_id = teacher["user"]["user_id"]
    ops = api.login("ops", DEMO_PASSWORD)

    students = [Student(f"burst{i:02d}", f"11599{i:02d}") for i in range(1, n_students + 1)]
    nids = valid_national_ids(n_students)
    people = [{"username": s.username, "display_name": f"壓測學生{i:02d}", "password": PASSWORD,
               "grants": [{"tenant": TENANT, "role": "student"}]}
              for i, s in enumerate(students, start=1)]
    term = {
        "school_year": SCHOOL_YEAR, "semester": SEMESTER,
        "classes": [{"code": CLASS_CODE, "name": "資料處理科一年壓測班", "homeroom_user_id": None}],
        "students": [{"student_no": s.student_no, "name": f"壓測學生{i:02d}", "user_id": None,
                      "class_code": CLASS_CODE, "seat_no": i, "national_id": nid}
                     for i, (s, nid) in enumerate(zip(students, nids), start=1)],
        "sections": [{"course_code": COURSE_CODE, "subject_name": "壓力測試實習", "class_code": CLASS_CODE,
                      "grade_level": 1, "credits": 2, "teacher_user_id": wang_id,
                      "students": [s.student_no for s in students]}],
    }
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        report = rpc.accounts.import_people(system_token("accounts"), people)
        assert not report["refused"], f"accounts refused the burst class: {report['refused']}"
        username_of = {s.student_no: s.username for s in students}
        for st in term["students"]:
            st["user_id"] = report["user_ids"][username_of[st["student_no"]]]
        result = rpc.records.import_school(system_token("records"), term)
        assert not result["refused"], f"records refused the burst class: {result['refused']}"
        assert result["imported"]["students"] == n_students, result

    sections = api.request("GET", "/api/v1/sections", teacher["token"])
    assert sections.status_code == 200, sections.text
    section_id = next(s["id"] for s in sections.json() if s["course_code"] == COURSE_CODE)

    def sign_in(s):
        s.token = api.login(s.username, PASSWORD)["token"]

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(sign_in, students))
    return BurstClass(api=api, section_id=section_id, teacher_token=teacher["token"],
                      ops_token=ops["token"], students=students)


# ---------------------------------------------------------------- the burst

@dataclass
class Upload:
    student: Student
    n: int
    attempts: list = field(default_factory=list)   # (status or exception name, error code)
    outcome_id: str | None = None
    sha256: str | None = None                      # of the bytes sent (the same on every retry)
    failure: str | None = None


class Burst:
    """Upload UPLOADS_PER_STUDENT outcomes per student from a pool of `workers` threads.

    retry_503: like a student, retry an upload the gateway answered 503 (service_unavailable /
    storage_unavailable) with back-off until it answers 201, giving up after retry_budget_s.
    Without it every upload gets exactly one attempt.
    """

    def __init__(self, klass: BurstClass, *, workers=8, retry_503=False, retry_budget_s=120.0,
                 uploads_per_student=UPLOADS_PER_STUDENT):
        self.k = klass
        self.workers = workers
        self.retry_503 = retry_503
        self.retry_budget_s = retry_budget_s
        # Round robin over the students, so the first uploads come from many students at once.
        self.jobs = [Upload(s, n) for n, s in itertools.product(range(uploads_per_student), klass.students)]
        self._done = 0
        self._cond = threading.Condition()
        self._pool = None
        self._futures = []
        # Once one upload has failed for good the test fails anyway: the uploads not yet begun
        # are skipped, so a platform that never recovers costs ~retry_budget_s, not an hour.
        self.aborted = threading.Event()
        self.started = self.finished = None

    @property
    def done(self):
        with self._cond:
            return self._done

    def start(self):
        self.started = time.monotonic()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="burst")
        self._futures = [self._pool.submit(self._run, job) for job in self.jobs]
        return self

    def wait_done(self, n, timeout):
        """Block until at least n uploads have finished (whatever their result)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._done < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"only {self._done} of {n} uploads finished within {timeout}s")
                self._cond.wait(min(left, 1.0))

    def join(self, timeout):
        self.wait_done(len(self.jobs), timeout)
        self._pool.shutdown(wait=True)
        for f in self._futures:
            f.result()  # _run never raises; this surfaces a bug in the harness itself
        self.finished = time.monotonic()
        return self

    def _run(self, job: Upload):
        try:
            if self.aborted.is_set():
                job.failure = "not attempted: the burst was aborted after an earlier upload failed"
            else:
                self._upload(job)
                if job.failure:
                    self.aborted.set()
        except Exception as exc:  # noqa: BLE001 - recorded, asserted by the test
            job.failure = f"harness error: {exc!r}"
            self.aborted.set()
        finally:
            with self._cond:
                self._done += 1
                self._cond.notify_all()

    def _upload(self, job: Upload):
        tag = f"{job.student.username}-{job.n}-{os.urandom(6).hex()}"
        pdf = tiny_pdf(tag)
        job.sha256 = hashlib.sha256(pdf).hexdigest()
        first_refusal = None
        delay = 0.5
        for _ in range(200):  # bounded in count as well as in time
            try:
                # one key for all retries of this upload: a retry after a lost answer takes
                # no second quota slot and stores no second copy (ticket from the gateway,
                # bytes straight to the files service)
                r = uploads.upload_outcome(
                    self.k.api._session(), self.k.api.base, self.k.section_id, f"壓測成果 {job.n + 1}",
                    pdf, f"outcome-{job.n + 1}.pdf", idempotency_key=tag, timeout=HTTP_TIMEOUT,
                    headers={TENANT_HEADER: TENANT, "Authorization": f"Bearer {job.student.token}"})
            except requests.RequestException as exc:
                # No answer: the upload may or may not have been stored, so a retry could make a
                # second outcome. Not retried; the test reports it.
                job.attempts.append((type(exc).__name__, None))
                job.failure = f"no answer from the gateway: {exc!r}"
                return
            code = _error_code(r)
            job.attempts.append((r.status_code, code))
            if r.status_code in (200, 201):
                body = r.json()
                job.outcome_id = body["outcome_id"]
                assert body["sha256"] == hashlib.sha256(pdf).hexdigest(), body
                return
            retryable = r.status_code == 503 and code in RETRYABLE_CODES
            if not (self.retry_503 and retryable):
                job.failure = f"HTTP {r.status_code} {code}: {r.text[:300]}"
                return
            first_refusal = first_refusal or time.monotonic()
            if time.monotonic() - first_refusal > self.retry_budget_s:
                job.failure = f"still 503 {code} after {self.retry_budget_s}s of retries"
                return
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        job.failure = "gave up after 200 attempts"

    # ---- results

    @property
    def outcome_ids(self):
        return [j.outcome_id for j in self.jobs if j.outcome_id]

    @property
    def failures(self):
        return [j for j in self.jobs if j.outcome_id is None]

    def status_histogram(self):
        return collections.Counter(f"{s}:{c}" if c else str(s) for j in self.jobs for s, c in j.attempts)

    def summary(self):
        took = (self.finished or time.monotonic()) - self.started
        return (f"{len(self.outcome_ids)}/{len(self.jobs)} uploads answered 201 in {took:.1f}s; "
                f"answers: {dict(self.status_histogram())}")

    def failure_report(self, limit=10):
        tried = [j for j in self.failures if j.attempts]
        skipped = len(self.failures) - len(tried)
        lines = [f"  {j.student.username} #{j.n}: {j.failure} (attempts {j.attempts})" for j in tried[:limit]]
        if skipped:
            lines.append(f"  ... and {skipped} upload(s) not attempted after the first failure")
        return "\n".join(lines)


def _quota_holds(stack, student_no):
    """Diagnostics only: the upload-quota reservations records holds for one student (read
    straight from the records database; the test never relies on it for a verdict)."""
    import sqlalchemy as sa
    eng = sa.create_engine(stack.database_url("records"))
    try:
        with eng.connect() as c:
            rows = c.execute(sa.text(
                "select r.outcome_id, r.expires_at > now() as live, "
                "exists(select 1 from outcomes o where o.id = r.outcome_id) as arrived "
                "from upload_reservations r join students s on s.id = r.student_id "
                "where s.tenant = :t and s.student_no = :n"), {"t": TENANT, "n": student_no}).all()
        return [f"{r.outcome_id} ({'live' if r.live else 'expired'}, "
                f"{'outcome arrived' if r.arrived else 'no outcome'})" for r in rows]
    except Exception as exc:  # noqa: BLE001 - a diagnostic must not hide the real failure
        return [f"(could not read reservations: {exc!r})"]
    finally:
        eng.dispose()


def explain_students(klass: BurstClass, burst: Burst, usernames, limit=3, stack=None):
    """For a failure report: what records holds for these students next to what the client
    sent and was answered, matched by the bytes' SHA-256 (one per upload, kept on retries)."""
    out = []
    by_user = {s.username: s for s in klass.students}
    for name in list(dict.fromkeys(usernames))[:limit]:
        if stack is not None:
            holds = _quota_holds(stack, by_user[name].student_no)
            out.append(f"  {name}: {len(holds)} quota reservation(s) held in records: {holds}")
        jobs = {j.sha256: j for j in burst.jobs if j.student.username == name and j.sha256}
        r = klass.api.request("GET", "/api/v1/outcomes", by_user[name].token, timeout=40)
        if r.status_code != 200:
            out.append(f"  {name}: records answered HTTP {r.status_code}")
            continue
        out.append(f"  {name}: records holds {len(r.json())} outcome(s):")
        for o in r.json():
            j = jobs.get(o["sha256"])
            who = (f"upload #{j.n}, client got {'this id' if j.outcome_id == o['id'] else j.outcome_id}, "
                   f"attempts {j.attempts}") if j else "no upload of the client has these bytes"
            out.append(f"    {o['id']} uploaded {o['uploaded_at']} sha {o['sha256'][:12]}: {who}")
    return "\n".join(out)


def _error_code(resp):
    try:
        return resp.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


# ---------------------------------------------------------------- checks

def poll_stats(klass: BurstClass, want_total, timeout):
    """GET /api/v1/certification/stats as ops until total == want_total (or time is up).
    Returns (last stats or None, last error text, seconds waited)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    stats, error = None, None
    for _ in range(int(timeout * 2) + 10):
        try:
            r = klass.api.request("GET", "/api/v1/certification/stats", klass.ops_token, timeout=40)
            if r.status_code == 200:
                stats, error = r.json(), None
                if stats.get("total", 0) >= want_total:
                    break
            else:
                error = f"HTTP {r.status_code}: {r.text[:300]}"
        except requests.RequestException as exc:
            error = repr(exc)
        if time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    return stats, error, time.monotonic() - t0


def teacher_queue_outcome_ids(klass: BurstClass):
    r = klass.api.request("GET", "/api/v1/certification/tasks", klass.teacher_token,
                          params={"status": "all"})
    assert r.status_code == 200, f"teacher queue: HTTP {r.status_code} {r.text[:500]}"
    return [t["outcome_id"] for t in r.json()]


def poll_records_outcomes(klass: BurstClass, want_per_student, timeout):
    """Each student's GET /api/v1/outcomes (the records service's copy) until every student
    has want_per_student outcomes in the burst section, or time is up.
    Returns {username: [outcome ids in the burst section]}."""
    deadline = time.monotonic() + timeout
    seen = {}
    for _ in range(int(timeout) + 10):
        for s in klass.students:
            if len(seen.get(s.username, ())) >= want_per_student:
                continue
            r = klass.api.request("GET", "/api/v1/outcomes", s.token, timeout=40)
            if r.status_code == 200:
                seen[s.username] = [o["id"] for o in r.json() if o["section_id"] == klass.section_id]
        if all(len(seen.get(s.username, ())) >= want_per_student for s in klass.students):
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(1)
    return seen


def duplicates(ids):
    return {i: n for i, n in collections.Counter(ids).items() if n > 1}


# ---------------------------------------------------------------- the broker

def rabbitmqctl_or_fail(amqp_uri):
    """The local rabbitmqctl. A broker that is not local cannot be restarted by this test:
    that is a failure of the environment, never a skip."""
    host = urllib.parse.urlsplit(amqp_uri).hostname
    ctl = shutil.which("rabbitmqctl")
    if host not in LOOPBACK or not ctl:
        pytest.fail(f"this test restarts RabbitMQ with rabbitmqctl and needs a local broker; broker "
                    f"host is {host!r}, rabbitmqctl on PATH: {ctl or 'none'}. Run it where RabbitMQ is "
                    f"installed locally (scripts/servers.sh ensure-rabbitmq), as a user allowed to run "
                    f"rabbitmqctl.", pytrace=False)
    return ctl


class BrokerRestart:
    """rabbitmqctl stop_app, a short outage, start_app, then await_startup until it succeeds.
    Timings are kept for the report. `ensure_running()` (call it in a finally) brings the
    broker back if a step failed half-way, so a failing test never leaves it stopped."""

    def __init__(self, ctl, outage_s=3.0, startup_timeout=120.0):
        self.ctl = ctl
        self.outage_s = outage_s
        self.startup_timeout = startup_timeout
        self.stopped_at = self.started_at = self.ready_at = None
        self.await_attempts = 0

    def _ctl(self, *args, timeout=120):
        return subprocess.run([self.ctl, *args], capture_output=True, text=True, timeout=timeout)

    def run(self):
        r = self._ctl("stop_app")
        assert r.returncode == 0, f"rabbitmqctl stop_app failed: {r.stdout}{r.stderr}"
        self.stopped_at = time.monotonic()
        time.sleep(self.outage_s)
        r = self._ctl("start_app")
        assert r.returncode == 0, f"rabbitmqctl start_app failed: {r.stdout}{r.stderr}"
        self.started_at = time.monotonic()
        self._await_startup()

    def _await_startup(self):
        deadline = time.monotonic() + self.startup_timeout
        last = None
        for _ in range(200):
            self.await_attempts += 1
            try:
                r = self._ctl("-q", "await_startup", timeout=60)
                if r.returncode == 0:
                    self.ready_at = time.monotonic()
                    return
                last = f"{r.stdout}{r.stderr}".strip()
            except subprocess.TimeoutExpired as exc:
                last = repr(exc)
            if time.monotonic() >= deadline:
                break
            time.sleep(1)
        raise AssertionError(f"RabbitMQ did not finish starting within {self.startup_timeout}s: {last}")

    def ensure_running(self):
        if self.stopped_at is not None and self.ready_at is None:
            try:
                self._ctl("start_app")
                self._await_startup()
            except Exception:  # noqa: BLE001 - best effort; the test already failed
                pass

    def summary(self):
        if self.ready_at is None:
            return "broker restart incomplete"
        return (f"broker down {self.started_at - self.stopped_at:.1f}s (stop_app -> start_app), "
                f"ready {self.ready_at - self.stopped_at:.1f}s after stop_app "
                f"({self.await_attempts} await_startup call(s))")
