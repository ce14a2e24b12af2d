"""Selection and lock use cases against a real PostgreSQL database: limits under concurrent
requests, the change log, the window, the migration of the old delete-and-replace rows."""
import datetime as dt
import os
import threading
import uuid

import pytest
import sqlalchemy as sa

from portfolio_common import caller as caller_mod
from portfolio_common import clock, events
from submission import usecases
from submission.selection import consent, lock
from submission.selection import usecases as choice
from submission.schoolcalendar import usecases as calendar

STUDENT = str(uuid.uuid4())


def who(role, uid=STUDENT, tenant="day"):
    return caller_mod.Caller(user_id=uid, username=role, tenant=tenant, roles=(role,))


def certify_event(year=115, student=STUDENT, tenant="day"):
    return events.load_event(events.CERTIFIED, events.make_event(events.CERTIFIED, tenant, {
        "task_id": str(uuid.uuid4()), "outcome_id": str(uuid.uuid4()), "student_id": str(uuid.uuid4()),
        "student_user_id": student, "section_id": str(uuid.uuid4()), "school_year": year, "semester": 1,
        "course_code": "C1", "subject_name": "程式設計", "description": "d", "sha256": "0" * 64,
        "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": events.utcnow()}))


def performance_event(entered_by="student", student=STUDENT):
    return events.load_event(events.PERFORMANCE_UPLOADED, events.make_event(events.PERFORMANCE_UPLOADED, "day", {
        "performance_id": str(uuid.uuid4()), "performance_kind": "licence", "entered_by": entered_by,
        "file_id": str(uuid.uuid4()), "student_id": str(uuid.uuid4()), "student_user_id": student,
        "school_year": 115, "description": "丙級證照", "filename": "p.pdf", "content_type": "application/pdf",
        "size": 10, "sha256": "3" * 64, "uploaded_at": events.utcnow()}))


def set_calendar(db, tenant="day", opens=-10, closes=10, **limits):
    today = clock.today_in_school()
    d = lambda n: (today + dt.timedelta(days=n)).isoformat()  # noqa: E731
    fields = {"starts_on": d(-60), "ends_on": d(60), "upload_opens_on": d(-30), "upload_closes_on": d(30),
              "certification_opens_on": d(-30), "certification_closes_on": d(40), "selection_opens_on": d(opens),
              "selection_closes_on": d(closes), "national_deadline": d(80), **limits}
    with db.uow() as uow:
        calendar.set_term(uow, who("system", uid=str(uuid.uuid4()), tenant=tenant), 115, 1, fields)


@pytest.fixture
def db(service_db):
    db = service_db("submission")
    for env in [certify_event() for _ in range(10)] + [certify_event(year=114), certify_event(tenant="ce")]:
        with db.uow() as uow:
            usecases.record_certified(uow, env)
    return db


def ids(db, **filters):
    return [str(r["outcome_id"]) for r in db.rows("certified_outcomes")
            if all(r[k] == v for k, v in filters.items())]


@pytest.fixture
def calendar_open(db, monkeypatch):
    """The term's dates must lie in school year 115 (Aug 2026 - Jul 2027): pin today there."""
    monkeypatch.setattr(clock, "today_in_school", lambda: dt.date(2026, 11, 30))
    set_calendar(db)
    set_calendar(db, tenant="ce")
    return db


def test_at_most_six_own_certified_outcomes_of_the_year(calendar_open):
    db = calendar_open
    mine = ids(db, school_year=115, tenant="day")
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.select_outcomes(uow, who("student"), 115, mine[:7])
    assert e.value.code == "selection_quota_exceeded"
    for foreign in (ids(db, school_year=114), ids(db, tenant="ce")):
        with pytest.raises(Exception) as e, db.uow() as uow:
            usecases.select_outcomes(uow, who("student"), 115, mine[:1] + foreign)
        assert e.value.code == "not_selectable"
    with db.uow() as uow:
        assert len(usecases.select_outcomes(uow, who("student"), 115, mine[:6])["selected"]) == 6
    with db.uow() as uow:
        view = usecases.get_my_selection(uow, who("student"), 115)
    assert sum(c["selected"] for c in view["candidates"]) == 6 and len(view["candidates"]) == 10
    assert view["counts"]["outcome"] == 6
    assert {c["reason"] for c in view["outcomes"] if not c["selected"]} == {"over_limit"}


def test_the_limit_holds_under_concurrent_requests(calendar_open):
    """Ten requests at once, each adding another outcome: exactly six get in, four are refused,
    every stored change is one of the six, and the change log has no gap."""
    db = calendar_open
    mine = ids(db, school_year=115, tenant="day")
    gate = threading.Barrier(len(mine))
    results = []

    def add(oid):
        gate.wait()
        try:
            with db.uow() as uow:
                choice.set_item(uow, who("student"), 115, "outcome", oid, True)
            results.append("ok")
        except Exception as e:  # noqa: BLE001 - the code is what the test checks
            results.append(getattr(e, "code", repr(e)))

    threads = [threading.Thread(target=add, args=(oid,)) for oid in mine]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok"] * 6 + ["selection_quota_exceeded"] * 4
    (row,) = db.rows("student_selections")
    assert len(row["outcome_ids"]) == 6 and row["version"] == 6
    assert sorted(c["version"] for c in db.rows("selection_changes")) == [1, 2, 3, 4, 5, 6]


def test_performances_concurrently_and_only_own_entries(calendar_open):
    db = calendar_open
    own = [performance_event() for _ in range(12)]
    school = performance_event(entered_by="school")
    for env in own + [school]:
        with db.uow() as uow:
            choice.record_performance_uploaded(uow, env)
    pids = [str(e["payload"]["performance_id"]) for e in own]
    gate = threading.Barrier(len(pids))
    results = []

    def add(pid):
        gate.wait()
        try:
            with db.uow() as uow:
                choice.set_item(uow, who("student"), 115, "performance", pid, True)
            results.append("ok")
        except Exception as e:  # noqa: BLE001
            results.append(getattr(e, "code", repr(e)))

    threads = [threading.Thread(target=add, args=(p,)) for p in pids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok"] * 10 + ["selection_quota_exceeded"] * 2
    with pytest.raises(Exception) as e, db.uow() as uow:
        choice.set_item(uow, who("student"), 115, "performance", str(school["payload"]["performance_id"]), True)
    assert e.value.code == "not_selectable"


def test_every_change_kept_and_the_log_is_append_only(calendar_open):
    db = calendar_open
    mine = ids(db, school_year=115, tenant="day")
    with db.uow() as uow:
        choice.save_selection(uow, who("student"), 115, outcome_ids=mine[:2])
    with db.uow() as uow:
        choice.save_selection(uow, who("student"), 115, outcome_ids=mine[1:3])
    with db.uow() as uow:
        log = choice.list_selection_changes(uow, who("registrar", uid=str(uuid.uuid4())), 115, STUDENT)
    assert [c["version"] for c in log] == [2, 1]
    assert log[0]["before"]["outcome_ids"] == mine[:2] and log[0]["after"]["outcome_ids"] == mine[1:3]
    for stmt in ("delete from selection_changes", "update selection_changes set version = 9"):
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as c:
            c.execute(sa.text(stmt))


def test_outside_the_window_refused(db, monkeypatch):
    monkeypatch.setattr(clock, "today_in_school", lambda: dt.date(2026, 11, 30))
    set_calendar(db, opens=5, closes=20)
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.select_outcomes(uow, who("student"), 115, ids(db, school_year=115, tenant="day")[:1])
    assert e.value.code == "window_closed" and "2026-12-05" in e.value.text and "2026-12-20" in e.value.text
    assert db.rows("student_selections") == []


def test_lock_freezes_holds_and_announces(calendar_open):
    db = calendar_open
    mine = ids(db, school_year=115, tenant="day")
    with db.uow() as uow:
        usecases.select_outcomes(uow, who("student"), 115, mine[:3])
    with db.uow() as uow:
        consent.set_consent(uow, who("student"), 115, True, consent.WORDING_VERSION)
    with pytest.raises(Exception) as e, db.uow() as uow:
        usecases.lock_selections(uow, who("student"), 115)
    assert e.value.code == "not_allowed"
    registrar = who("registrar", uid=str(uuid.uuid4()))
    with db.uow() as uow:
        res = usecases.lock_selections(uow, registrar, 115)
    assert (res["students"], res["outcomes"]) == (1, 3)
    (event,) = db.outbox_bodies("selection-locked")
    assert sorted(event["payload"]["outcome_ids"]) == sorted(mine[:3])
    for fn, code in ((lambda uow: usecases.select_outcomes(uow, who("student"), 115, mine[:1]), "selection_locked"),
                     (lambda uow: usecases.lock_selections(uow, registrar, 115), "already_locked")):
        with pytest.raises(Exception) as e, db.uow() as uow:
            fn(uow)
        assert e.value.code == code
    with db.uow() as uow:
        held = usecases.list_locked(uow, registrar, 115)
    assert held["locked"] and len(held["students"][0]["outcomes"]) == 3
    with db.uow() as uow:  # the other tenant's year is not locked by this
        assert usecases.list_locked(uow, who("registrar", tenant="ce"), 115)["locked"] is False


def test_old_selections_become_version_one_by_the_migration(fresh_db):
    """A database with rows in the old delete-and-replace table (0003) keeps them."""
    from alembic import command
    from alembic.config import Config

    import submission
    from portfolio_common.db import make_engine
    engine = make_engine(fresh_db("submission_old"))
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(os.path.dirname(submission.__file__), "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    student, oids = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(2)]
    with engine.begin() as c:
        for oid in oids:
            c.execute(sa.text(
                "insert into certified_outcomes values (:o, 'day', :s, :u, 115, 1, 'C', '科', 'd', :h, now())"),
                {"o": oid, "s": str(uuid.uuid4()), "u": student, "h": "0" * 64})
            c.execute(sa.text("insert into selections (tenant, student_user_id, school_year, outcome_id) "
                              "values ('day', :u, 115, :o)"), {"u": student, "o": oid})
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as c:
        (row,) = c.execute(sa.text("select * from student_selections")).mappings().all()
        (change,) = c.execute(sa.text("select * from selection_changes")).mappings().all()
    assert sorted(row["outcome_ids"]) == sorted(oids) and row["version"] == 1
    assert change["before"] is None and sorted(change["after"]["outcome_ids"]) == sorted(oids)
    engine.dispose()


def test_unlock_with_reason_relock_new_version_and_logs_append_only(calendar_open):
    db = calendar_open
    mine = ids(db, school_year=115, tenant="day")
    registrar = who("registrar", uid=str(uuid.uuid4()))
    with db.uow() as uow:
        choice.save_selection(uow, who("student"), 115, outcome_ids=mine[:2])
    with db.uow() as uow:
        consent.set_consent(uow, who("student"), 115, True, consent.WORDING_VERSION)
    with db.uow() as uow:
        res = lock.lock(uow, registrar, 115, "class", "資訊三甲", [STUDENT, str(uuid.uuid4())])
    assert (res["students"], res["held"], res["without_consent"]) == (2, 1, 1)
    with pytest.raises(Exception) as e, db.uow() as uow:
        lock.unlock(uow, registrar, 115, [STUDENT], " ")
    assert e.value.code == "unlock_reason_required"
    with db.uow() as uow:
        lock.unlock(uow, registrar, 115, [STUDENT], "更正勾選")
    with db.uow() as uow:
        choice.save_selection(uow, who("student"), 115, outcome_ids=mine[2:4])
    with db.uow() as uow:
        lock.lock(uow, registrar, 115, "student", "", [STUDENT])
    held = sorted(db.rows("locked_selections"), key=lambda r: r["version"])
    assert [h["version"] for h in held] == [1, 2]
    assert [o["outcome_id"] for o in held[1]["outcomes"]] == mine[2:4]
    assert len(db.outbox_bodies("selection-locked")) == 2
    events_ = db.rows("lock_events")
    assert sorted(e["action"] for e in events_) == ["lock", "lock", "unlock"]
    assert [e["reason"] for e in events_ if e["action"] == "unlock"] == ["更正勾選"]
    for table in ("lock_events", "release_consents"):
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as c:
            c.execute(sa.text(f"delete from {table}"))


def test_a_save_and_the_lock_take_turns(calendar_open):
    """A save racing the registrar's lock either lands before it (and is held) or is refused."""
    db = calendar_open
    mine = ids(db, school_year=115, tenant="day")
    with db.uow() as uow:
        consent.set_consent(uow, who("student"), 115, True, consent.WORDING_VERSION)
    gate = threading.Barrier(2)
    out = {}

    def save():
        gate.wait()
        try:
            with db.uow() as uow:
                out["save"] = choice.save_selection(uow, who("student"), 115, outcome_ids=mine[:2])["version"]
        except Exception as e:  # noqa: BLE001
            out["save"] = e.code

    def lock_all():
        gate.wait()
        with db.uow() as uow:
            out["lock"] = lock.lock(uow, who("registrar", uid=str(uuid.uuid4())), 115, "class", "x", [STUDENT])

    threads = [threading.Thread(target=save), threading.Thread(target=lock_all)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = db.rows("locked_selections")
    if out["save"] == "selection_locked":
        assert held == []
    else:
        assert [o["outcome_id"] for o in held[0]["outcomes"]] == mine[:2]


def withdrawn_event(outcome_id, student=STUDENT):
    return events.load_event(events.CERTIFICATION_WITHDRAWN, events.make_event(
        events.CERTIFICATION_WITHDRAWN, "day", {
            "task_id": str(uuid.uuid4()), "outcome_id": outcome_id, "student_id": str(uuid.uuid4()),
            "student_user_id": student, "next_task_id": str(uuid.uuid4()), "section_id": str(uuid.uuid4()),
            "school_year": 115, "semester": 1, "sha256": "0" * 64, "withdrawn_by": str(uuid.uuid4()),
            "acting_for": None, "reason": "誤按認證", "withdrawn_at": events.utcnow()}, producer="certification"))


def test_a_withdrawal_and_the_students_own_save_take_turns(calendar_open):
    """A teacher's withdrawal takes the outcome out of the selection while the student saves a
    correction at the same moment: the save waits for the withdrawal's turn and then applies on
    top of it (versions 2 then 3), instead of colliding on the change's version (a 500, found
    by the selection e2e)."""
    db = calendar_open
    mine = ids(db, school_year=115, tenant="day")
    with db.uow() as uow:
        choice.save_selection(uow, who("student"), 115, outcome_ids=mine[:2])
    # the withdrawal's work inside its own transaction, not yet committed: its turn is held
    withdrawal = db.uow()
    uow_w = withdrawal.__enter__()
    choice.drop_withdrawn(uow_w, "day", withdrawn_event(mine[1])["payload"], None)
    outcome = []

    def student_saves():
        try:
            with db.uow() as uow:
                outcome.append(choice.save_selection(uow, who("student"), 115, outcome_ids=mine[:1] + mine[2:3]))
        except Exception as e:  # noqa: BLE001 - the code is what the test checks
            outcome.append(getattr(e, "code", repr(e)))

    t = threading.Thread(target=student_saves)
    t.start()
    t.join(timeout=2)
    assert t.is_alive(), "the student's save did not wait for the withdrawal's turn"
    uow_w.commit()
    withdrawal.__exit__(None, None, None)
    t.join(timeout=30)
    (res,) = outcome
    assert isinstance(res, dict) and res["version"] == 3, res
    (row,) = [r for r in db.rows("student_selections") if str(r["student_user_id"]) == STUDENT]
    assert row["outcome_ids"] == mine[:1] + mine[2:3] and row["version"] == 3
    assert sorted(c["version"] for c in db.rows("selection_changes")) == [1, 2, 3]
