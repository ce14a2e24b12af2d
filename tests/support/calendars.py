"""Calendars for certification's tests: a canonical `calendar-changed` envelope
(tests/contract/payloads/calendar-changed.json) with the term around today for unit and contract
tests, and, for a running stack, the term set through submission's own RPC (which publishes
calendar-changed) and a wait until certification's event-fed copy holds it."""
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


def publish_calendar(stack, tenant="day", *, school_year=115, semester=1, certification=None) -> dict:
    """Set the term's calendar through submission's own RPC (set_term, as the registrar does),
    open around today, with `certification` ({opens_on, closes_on}, ISO dates) when given; the
    upload window then ends no later than it (submission refuses certification closing before
    uploads). Submission publishes calendar-changed; returns {tenant, payload: {school_year,
    semester, version}} for `wait_applied`."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from deploy.demo_school import open_calendar
    from tests.support.callers import as_system
    fields = open_calendar(school_year, semester, clock.today_in_school())
    if certification:
        fields["certification_opens_on"] = certification["opens_on"]
        fields["certification_closes_on"] = certification["closes_on"]
        fields["upload_opens_on"] = min(fields["upload_opens_on"], certification["opens_on"])
        fields["upload_closes_on"] = min(fields["upload_closes_on"], certification["closes_on"])
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        res = rpc.submission.set_term(as_system(tenant, "submission"), school_year, semester, fields)
    return {"tenant": tenant, "payload": {"school_year": school_year, "semester": semester,
                                          "version": res["version"]}}


def demo_calendar(stack, tenant, school_year=115, semester=1) -> dict:
    """What submission holds for the demo term (set by the demo loader), shaped for `wait_applied`."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from tests.support.callers import as_system
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        cal = rpc.submission.get_calendar(as_system(tenant, "submission"), school_year, semester)
    return {"tenant": tenant, "payload": {"school_year": school_year, "semester": semester,
                                          "version": cal["version"]}}


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
