"""Calendars for tests, until submission publishes them itself (the calendar issue): a
canonical `calendar-changed` envelope (tests/contract/payloads/calendar-changed.json) with the
term around today, and a helper that publishes it on the submission exchange with the
submission service's own broker user, as the real producer would.

When the calendar lands, e2e tests switch from `publish_calendar` to the real RPC."""
import copy
import datetime as dt
import itertools
import json
import os
import time
import uuid

from portfolio_common import clock

CANONICAL = os.path.join(os.path.dirname(__file__), "..", "contract", "payloads", "calendar-changed.json")
_versions = itertools.count(int(time.time()))   # higher on every call within a run


def calendar_changed(tenant="day", *, school_year=115, semester=1, version=None, certification=None,
                     today=None) -> dict:
    """The JSON envelope of the whole term: every window open around `today` (default: the
    school's today by portfolio_common.clock), unless `certification` ({opens_on, closes_on},
    ISO dates) says otherwise."""
    with open(CANONICAL, encoding="utf-8") as f:
        env = json.load(f)
    env = copy.deepcopy(env)
    day = today or clock.today_in_school()
    iso = lambda n: (day + dt.timedelta(days=n)).isoformat()  # noqa: E731
    env["event_id"], env["tenant"] = str(uuid.uuid4()), tenant
    env["occurred_at"] = dt.datetime.now(dt.timezone.utc).isoformat()
    env["payload"].update({
        "school_year": school_year, "semester": semester, "starts_on": iso(-120), "ends_on": iso(120),
        "upload": {"opens_on": iso(-90), "closes_on": iso(90)},
        "certification": certification or {"opens_on": iso(-90), "closes_on": iso(90)},
        "selection": {"opens_on": iso(-90), "closes_on": iso(90)},
        "national_deadline": iso(200), "school_completion_on": iso(186),
        "version": version if version is not None else next(_versions),
        "changed_at": env["occurred_at"]})
    return env


def publish_calendar(stack, tenant="day", **kw) -> dict:
    """Publish a calendar-changed on `submission.events` as the submission service; returns the
    envelope. Pair with `wait_applied` before relying on it."""
    from portfolio_common import amqp, events
    env = calendar_changed(tenant, **kw)
    pub = amqp.PikaPublisher(stack.amqp_uri_for("submission"))
    try:
        pub.publish(events.exchange_for(events.CALENDAR_CHANGED), events.CALENDAR_CHANGED, env)
    finally:
        pub.close()
    return env


def wait_applied(stack, env, timeout=30):
    """Wait until certification's copy holds this envelope's version for its term."""
    import sqlalchemy as sa
    p = env["payload"]
    engine = sa.create_engine(stack.database_url("certification"))
    try:
        deadline = time.time() + timeout
        while True:
            with engine.connect() as c:
                held = c.execute(sa.text("SELECT version FROM calendars WHERE tenant = :t AND school_year = :y "
                                         "AND semester = :s"), {"t": env["tenant"], "y": p["school_year"],
                                                                "s": p["semester"]}).scalar()
            if held is not None and held >= p["version"]:
                return
            if time.time() > deadline:
                raise AssertionError(f"certification did not apply calendar {env['tenant']} v{p['version']}")
            time.sleep(0.2)
    finally:
        engine.dispose()
