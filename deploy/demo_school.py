"""Load the demo school: both tenants, staff, teachers, students, classes, sections.

Accounts come through the same import path a registrar uses (accounts.import_people from a
CSV), the students' profiles (學籍資料: name, national ID, birth date, gender, class, seat) through
the registrar's roster import (records.import_student_profiles), the classes' homeroom teachers,
sections and enrolments through records.import_school. Idempotent: running it twice changes
nothing.

  python -m deploy.demo_school            (uses AMQP_URI and OPS_SIGNING_KEY from the environment)

It is one of the platform's tools: it signs its calls with the ops key as the platform-level
`system` caller (portfolio_common.trust), one token per service called.
"""
import argparse
import csv
import datetime as dt
import json
import os
import sys
import time

from deploy import demo_generate, demo_records

from portfolio_common import caller as caller_mod
from portfolio_common import clock
from portfolio_common.rpc_transport import rpc_proxy

HERE = os.path.join(os.path.dirname(__file__), "demo")
DEMO_PASSWORD_NOTE = "demo-pass-2026"
DEMO_MAIL_DOMAIN = "demo-school.example"  # reserved for examples (RFC 2606): nothing is delivered


def read_people(path):
    """CSV columns: username, display_name, password, roles ('tenant:role;tenant:role'), and an
    optional email; a 'platform:role' is a platform grant (tied to no tenant), set here at
    platform level. Every demo login gets an address (<username>@demo-school.example unless the
    file gives one), so `make up` shows the reminder e-mails (var/run/mail/*.eml)."""
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            grants = [dict(zip(("tenant", "role"), g.strip().split(":", 1)))
                      for g in (r.get("roles") or "").split(";") if g.strip()]
            rows.append({"username": r["username"].strip(), "display_name": r["display_name"].strip(),
                         "password": r["password"], "grants": [g for g in grants if g["tenant"] != "platform"],
                         "platform_roles": [g["role"] for g in grants if g["tenant"] == "platform"],
                         "email": (r.get("email") or "").strip() or f"{r['username'].strip()}@{DEMO_MAIL_DOMAIN}"})
    return rows


def profile_rows(term, user_ids):
    """The term's students as rows of the registrar's roster file (records.import_student_profiles,
    profile/importer.py): [{row, cells}], the spreadsheet's row 2 onwards."""
    class_names = {c["code"]: c["name"] for c in term["classes"]}
    return [{"row": i + 2, "cells": {
        "student_no": s["student_no"], "name": s["display_name"], "national_id": s["national_id"],
        "birth_date": s["birth_date"], "gender": s["gender"], "class_code": s["class_code"],
        "class_name": class_names[s["class_code"]], "seat_no": str(s["seat_no"]), "user_id": user_ids[s["username"]]}}
        for i, s in enumerate(term["students"])]


def term_import(term, user_ids):
    """The rest of the term for records.import_school: classes with their homeroom teachers,
    sections and enrolments (the students are already there: profile_rows)."""
    return {
        "school_year": term["school_year"], "semester": term["semester"],
        "classes": [{"code": c["code"], "name": c["name"],
                     "homeroom_user_id": user_ids.get(c["homeroom"]) if c.get("homeroom") else None}
                    for c in term["classes"]],
        "students": [],
        "sections": [{k: v for k, v in sec.items() if k != "teacher"} | {"teacher_user_id": user_ids[sec["teacher"]]}
                     for sec in term["sections"]],
    }


def wait_for(rpc, services, timeout=60):
    deadline = time.time() + timeout
    for name in services:
        while True:
            try:
                if getattr(rpc, name).ping() == "pong":
                    break
            except Exception:  # noqa: BLE001 - not up yet
                if time.time() > deadline:
                    raise
                time.sleep(1)


def open_calendar(school_year, semester, today):
    """The demo term's calendar, open today (uploads, certification and selection), as a
    registrar would set it with submission.set_term: the term's real days (semester 1: 1 August
    to 31 January; 2: 1 February to 31 July), stretched to hold today when the demo is loaded
    outside them, so the demo school (and every test stack built on it) can be used at once."""
    y = school_year + 1911
    real = (dt.date(y, 8, 1), dt.date(y + 1, 1, 31)) if semester == 1 else (dt.date(y + 1, 2, 1), dt.date(y + 1, 7, 31))
    starts, ends = min(real[0], today - dt.timedelta(days=7)), max(real[1], today + dt.timedelta(days=30))
    opens = min(starts + dt.timedelta(days=31), today)
    day = dt.timedelta(days=1)
    return {k: v.isoformat() for k, v in {
        "starts_on": starts, "ends_on": ends,
        "upload_opens_on": opens, "upload_closes_on": ends + 14 * day,            # two weeks after the term
        "certification_opens_on": opens, "certification_closes_on": ends + 21 * day,
        "selection_opens_on": opens, "selection_closes_on": ends + 31 * day,      # = the completion date
        "national_deadline": ends + 45 * day,
    }.items()}


def set_calendars(rpc, system, school, timeout=60):
    """Each tenant's demo term gets an open calendar (submission.set_term, the registrar's RPC);
    then wait until records' event-fed copy holds it, so an upload works at once."""
    today = clock.today_in_school()
    wanted = {}
    for tenant, term in school["terms"].items():
        res = rpc.submission.set_term(system(tenant, "submission"), term["school_year"], term["semester"],
                                      open_calendar(term["school_year"], term["semester"], today))
        wanted[tenant] = (term["school_year"], term["semester"], res["version"])
    deadline = time.time() + timeout
    for tenant, (year, semester, version) in wanted.items():
        while True:
            held = rpc.records.get_calendar_copy(system(tenant, "records"), year, semester)
            if held and held["version"] >= version:
                break
            if time.time() > deadline:
                raise SystemExit(f"{tenant}: records did not receive the calendar within {timeout} s")
            time.sleep(0.2)
    return wanted


def load(rpc, signer, school, size="full"):
    """Load the school (grown to `size`, deploy.demo_generate) through the registrar's import
    paths. Returns (accounts report, {tenant: records report}, hand-written people)."""
    hand_written = read_people(os.path.join(HERE, "people.csv"))
    hand_numbers = {s["student_no"] for term in school["terms"].values() for s in term["students"]}
    school, people = demo_generate.grow(school, hand_written, size)
    names = {p["username"]: p["display_name"] for p in people}

    def system(tenant, service):  # a fresh token per call: each lives 60 s
        return signer.mint(caller_mod.system_caller(tenant), service)

    rpc.accounts.ensure_tenants(system("day", "accounts"), school["tenants"])
    report = rpc.accounts.import_people(system("day", "accounts"), people)
    if report["refused"]:
        raise SystemExit(f"people.csv refused: {report['refused']}")
    user_ids = report["user_ids"]
    results = {}
    school_codes = {t["code"]: t["school_code"] for t in school["tenants"]}
    for tenant, term in school["terms"].items():
        for s in term["students"]:
            s["display_name"] = names[s["username"]]
        # the registrar's roster import, every row at once (all or nothing; unchanged rows write nothing)
        profiles = rpc.records.import_student_profiles(
            system(tenant, "records"), profile_rows(term, user_ids), False, None,
            {"school_year": term["school_year"], "school_code": school_codes.get(tenant)})
        if profiles["problems"]:
            raise SystemExit(f"{tenant}: roster refused: {profiles['problems'][:5]}")
        results[tenant] = rpc.records.import_school(system(tenant, "records"), term_import(term, user_ids))
        if results[tenant]["refused"]:
            raise SystemExit(f"{tenant}: refused {results[tenant]['refused']}")
        results[tenant]["imported"]["students"] = profiles["summary"]
    set_calendars(rpc, system, school)
    load_items(rpc, system)
    if size != "small":   # the generated students' records of every kind (deploy/demo_records.py)
        results["records"] = demo_records.load(rpc, system, demo_records.plan(school, hand_numbers))
    return report, results, hand_written


LISTS = {"record_consultation": "list_consultations", "record_career_assessment": "list_career_assessments",
         "record_attendance": "list_attendance", "record_activity": "list_activities",
         "record_competition": "list_competitions"}


def load_items(rpc, system):
    """A few items of each staff-entered kind for the demo students (deploy/demo/items.json),
    entered through the same RPCs the units use; an item already there is left alone."""
    with open(os.path.join(HERE, "items.json"), encoding="utf-8") as fh:
        items = json.load(fh)
    for tenant, by_rpc in items.items():
        ids = {s["student_no"]: s["id"] for s in rpc.records.list_students(system(tenant, "records"))}
        for method, entries in by_rpc.items():
            for e in entries:
                sid = ids[e["student_no"]]
                have = getattr(rpc.records, LISTS[method])(system(tenant, "records"), sid)
                if not any(it["voided_at"] is None and all(_same(it.get(k), v) for k, v in e["data"].items()
                                                           if k not in ("school_year", "semester"))
                           for it in have):
                    getattr(rpc.records, method)(system(tenant, "records"), sid, e["data"])


def _same(stored, typed) -> bool:
    """A stored value equals the demo's typed one (dates typed ROC, codes as text)."""
    if stored is None:
        return typed in (None, "")
    if isinstance(stored, str) and len(stored) == 10 and stored[4] == "-":  # ISO date vs 115/10/14
        y, m, d = str(typed).split("/")
        return stored == f"{int(y) + 1911:04d}-{int(m):02d}-{int(d):02d}"
    return str(stored) == str(typed)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080"))
    p.add_argument("--school", default=os.path.join(HERE, "school.json"))
    p.add_argument("--size", choices=demo_generate.SIZES, default=os.environ.get("DEMO_SIZE", "full"),
                   help="full: about 1,200 日間部 and 300 進修部 students (make up); small: the "
                        "hand-written school only (tests). Default: $DEMO_SIZE or full")
    a = p.parse_args(argv)
    with open(a.school, encoding="utf-8") as fh:
        school = json.load(fh)
    # As the operator (AMQP_URI of the vhost's administrator); passwords and national IDs
    # travel sealed to accounts and records (SEAL_PUBLIC_KEYS).
    # One import of 1,500 people is one RPC: about 10 s on a quiet machine, minutes on a busy
    # one (seen: 155 s at load 16), so the loader waits long and says so instead of failing at 60 s.
    rpc_timeout = float(os.environ.get("DEMO_RPC_TIMEOUT", "900"))
    print(f"loading the demo school ({a.size} size; each step may take minutes on a busy machine, "
          f"up to {rpc_timeout:.0f} s)", flush=True)
    for attempt in range(1, 4):
        try:
            cluster = rpc_proxy(client="demo-loader", timeout=rpc_timeout)
            rpc = cluster.start()
            break
        except (OSError, TimeoutError) as exc:  # the broker busy: connect again a little later
            if attempt == 3:
                raise SystemExit(f"demo loader: cannot reach RabbitMQ ({type(exc).__name__}): is it running?")
            time.sleep(5 * attempt)
    try:
        wait_for(rpc, ["accounts", "records", "submission"], timeout=300)
        started = time.monotonic()
        report, results, people = load(rpc, caller_mod.Signer.from_config("ops"), school, a.size)
    finally:
        cluster.stop()
    print(f"demo school loaded: {len(report['created'])} accounts created, "
          f"{len(report['updated'])} updated, {len(report['unchanged'])} unchanged "
          f"({a.size} size, {time.monotonic() - started:.0f} s)")
    records = results.pop("records", None)
    for tenant, r in results.items():
        print(f"  {tenant}: {r['imported']}")
    if records:
        seconds, by_kind = records.pop("seconds"), records.pop("seconds_by_kind", {})
        print(f"  generated records ({seconds:.0f} s): " + "; ".join(
            f"{tenant} " + ", ".join(f"{k.split('_', 1)[1]} {n}" for k, n in counts.items())
            for tenant, counts in records.items()))
        print("  time per kind: " + ", ".join(f"{k.split('_', 1)[1]} {v:.1f} s" for k, v in by_kind.items()))
    print(f"\nportal: {a.gateway}/")
    print(f"demo logins (password for all: {DEMO_PASSWORD_NOTE}; the generated people sign in "
          f"through the school's SSO only):")
    for person in people:
        roles = ", ".join([f"{g['tenant']}:{g['role']}" for g in person["grants"]]
                          + [f"platform:{r}" for r in person["platform_roles"]])
        print(f"  {person['username']:<10} {person['display_name']:<12} {roles}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
