"""No event lost, none doubled: 200 course-outcome uploads while a consumer crashes or the broker restarts.

Each test runs its own platform (own vhost, own databases) with the demo school and a "burst
class" of 40 students (tests/reliability/burst.py), uploads 5 outcomes per student through the
gateway from 8 threads, breaks something during the burst, and then checks the end state the
events must produce:

- the certification service holds exactly one task per upload: stats total == distinct == 200;
- the teacher's queue holds exactly the 200 outcome ids the uploads were answered with;
- the records service (the other consumer of outcome-uploaded) shows each student exactly
  their 5 outcomes.
"""
import time

import pytest

from deploy.launcher import PROCESSES
from tests.reliability import burst as b
from tests.support.ids import SECRETS
from tests.support.stack import running_stack

pytestmark = pytest.mark.slow

TOTAL = b.STUDENTS * b.UPLOADS_PER_STUDENT   # 200
# Short handler back-off, so a retried event does not dominate the test's time.
ENV = {"EVENT_RETRY_DELAYS_MS": "500,2000,5000"}


def _stack(tmp_path, name, pg_base_url, amqp_uri, s3_endpoint, run_id):
    return running_stack(tmp_path, name=name, pg_base_url=pg_base_url, amqp_uri=amqp_uri,
                         s3_endpoint=s3_endpoint, secrets=SECRETS, run_id=run_id, env_overrides=ENV)


def _logs(stack, *names, lines=25):
    return "\n".join(f"--- {n} ({stack.log_path(n)}):\n{stack.log_tail(n, lines)}" for n in names)


def _assert_all_running(stack, when):
    """Every platform process (for a nameko service: its supervisor) must still be running;
    the test never restarts one it did not kill itself."""
    running = stack.running()
    dead = [n for n in PROCESSES if n not in running]
    assert not dead, (f"{when}: platform process(es) no longer running: {', '.join(dead)}\n"
                      + _logs(stack, *dead, lines=40))


def _check_end_state(stack, klass, burst, stats_timeout, timings):
    uploaded = burst.outcome_ids
    assert len(uploaded) == TOTAL and len(set(uploaded)) == TOTAL, \
        f"uploads answered 201 with {len(set(uploaded))} distinct outcome ids, want {TOTAL}"

    stats, error, waited = b.poll_stats(klass, TOTAL, stats_timeout)
    timings["stats converged after burst"] = f"{waited:.1f}s"
    assert stats is not None, \
        f"GET /certification/stats never answered within {stats_timeout}s: {error}\n" + \
        _logs(stack, "certification", "gateway")
    assert stats["total"] == TOTAL and stats["distinct_outcomes"] == TOTAL, (
        f"certification holds {stats} after {waited:.0f}s; want total == distinct_outcomes == {TOTAL} "
        f"(fewer: events lost; total > distinct: doubled). Last error: {error}\n"
        + _logs(stack, "certification", "files"))

    queue = b.teacher_queue_outcome_ids(klass)
    dup = b.duplicates(queue)
    missing = set(uploaded) - set(queue)
    extra = set(queue) - set(uploaded)
    assert not dup and not missing and not extra and len(queue) == TOTAL, (
        f"teacher queue has {len(queue)} tasks: {len(missing)} uploaded outcomes missing, "
        f"{len(extra)} unknown, duplicated: {dup}")

    t0 = time.monotonic()
    per_student = b.poll_records_outcomes(klass, b.UPLOADS_PER_STUDENT, timeout=60)
    timings["records converged"] = f"{time.monotonic() - t0:.1f}s"
    in_records = [oid for ids in per_student.values() for oid in ids]
    dup = b.duplicates(in_records)
    odd = [u for u, ids in per_student.items() if len(ids) != b.UPLOADS_PER_STUDENT]
    assert sorted(in_records) == sorted(uploaded), (
        f"records shows {len(in_records)} outcomes: {len(set(uploaded) - set(in_records))} missing, "
        f"{len(set(in_records) - set(uploaded))} unknown, duplicated: {dup}\n"
        f"{b.explain_students(klass, burst, odd, stack=stack)}\n" + _logs(stack, "records"))


def test_certification_crash_mid_burst_loses_and_doubles_nothing(
        tmp_path, pg_base_url, amqp_uri, s3_endpoint, run_id):
    timings = {}
    with _stack(tmp_path, "rel1", pg_base_url, amqp_uri, s3_endpoint, run_id) as stack:
        t0 = time.monotonic()
        klass = b.add_burst_class(stack)
        timings["burst class"] = f"{time.monotonic() - t0:.1f}s"

        burst = b.Burst(klass, workers=8, retry_503=False).start()
        try:
            burst.wait_done(60, timeout=180)
            killed_at = burst.done
            stack.kill("certification")
            assert "certification" not in stack.running()
            # Keep uploading with certification down; bring it back while the burst still runs
            # (or right after it ended, if it was faster).
            burst.wait_done(min(140, TOTAL), timeout=240)
            restart_at = burst.done
            t1 = time.monotonic()
            stack.start(["certification"])
            timings["certification restart"] = f"{time.monotonic() - t1:.1f}s"
        finally:
            burst.join(timeout=300)
        timings["burst"] = burst.summary()
        timings["killed after / restarted after"] = f"{killed_at} / {restart_at} uploads"

        _assert_all_running(stack, "after the certification crash and restart")
        assert not burst.failures, (
            f"certification being down must not affect uploads: {len(burst.failures)} failed\n"
            f"{burst.failure_report()}\n{_logs(stack, 'gateway', 'files')}")
        _check_end_state(stack, klass, burst, stats_timeout=90, timings=timings)
    print("\nrel1 timings:", timings)


def test_broker_restart_during_uploads_loses_and_doubles_nothing(
        tmp_path, pg_base_url, amqp_uri, s3_endpoint, run_id):
    """rabbitmqctl stop_app / start_app during the burst; students retry a 503 with back-off.

    This restarts the whole RabbitMQ node (every vhost on it), so run it where nobody else
    uses that broker; rabbitmqctl honours RABBITMQ_NODENAME, so TEST_AMQP_URI plus
    RABBITMQ_NODENAME can point it at a private node on another loopback port."""
    ctl = b.rabbitmqctl_or_fail(amqp_uri)
    timings = {}
    with _stack(tmp_path, "rel2", pg_base_url, amqp_uri, s3_endpoint, run_id) as stack:
        t0 = time.monotonic()
        klass = b.add_burst_class(stack)
        timings["burst class"] = f"{time.monotonic() - t0:.1f}s"

        burst = b.Burst(klass, workers=8, retry_503=True, retry_budget_s=120).start()
        restart = b.BrokerRestart(ctl, outage_s=3.0)
        try:
            burst.wait_done(50, timeout=180)
            restarted_after = burst.done
            restart.run()
        finally:
            restart.ensure_running()
            burst.join(timeout=420)
        timings["broker"] = restart.summary()
        timings["restart began after"] = f"{restarted_after} uploads"
        timings["burst"] = burst.summary()
        print("\nrel2 timings so far:", timings)

        _assert_all_running(stack, f"after the broker restart ({restart.summary()})")
        refused = [j.student.username for j in burst.failures if j.attempts]
        assert not burst.failures, (
            f"{len(burst.failures)} uploads never answered 201 (a 503 is retried for up to 120 s)\n"
            f"{burst.failure_report()}\n{b.explain_students(klass, burst, refused, stack=stack)}\n"
            f"{_logs(stack, 'gateway', 'files', 'records')}")
        _check_end_state(stack, klass, burst, stats_timeout=120, timings=timings)
    print("\nrel2 timings:", timings)
