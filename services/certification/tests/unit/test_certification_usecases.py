"""Use cases with a fake unit of work: no database, no broker."""
import datetime as dt
import uuid

import pytest

from certification import usecases
from certification.unit_of_work import FakeCertificationUnitOfWork
from portfolio_common import caller as caller_mod
from portfolio_common import clock, events

TEACHER = str(uuid.uuid4())


def teacher(uid=TEACHER, tenant="day", proxy_for=()):
    return caller_mod.Caller(user_id=uid, username="t", tenant=tenant, roles=("subject_teacher",),
                             proxy_for=tuple(proxy_for))


def uploaded(tenant="day", teacher_id=TEACHER, outcome_id=None, sha="0" * 64, student_id=None, subject="程式設計",
             **klass):
    return events.load_event(events.OUTCOME_UPLOADED, events.make_event(events.OUTCOME_UPLOADED, tenant, klass | {
        "outcome_id": outcome_id or str(uuid.uuid4()), "file_id": str(uuid.uuid4()),
        "student_id": student_id or str(uuid.uuid4()),
        "student_user_id": str(uuid.uuid4()), "section_id": str(uuid.uuid4()), "teacher_user_id": teacher_id,
        "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": subject, "description": "d",
        "filename": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": sha,
        "uploaded_at": events.utcnow()}))


def calendar(tenant="day", version=1, opens=-10, closes=10, school_year=115, semester=1):
    """A calendar-changed envelope whose certification window runs from today+opens to today+closes."""
    today = clock.today_in_school()
    d = lambda n: today + dt.timedelta(days=n)  # noqa: E731
    return events.load_event(events.CALENDAR_CHANGED, events.make_event(events.CALENDAR_CHANGED, tenant, {
        "school_year": school_year, "semester": semester, "starts_on": d(-60), "ends_on": d(60),
        "upload": {"opens_on": d(-60), "closes_on": d(5)},
        "certification": {"opens_on": d(opens), "closes_on": d(closes)},
        "selection": {"opens_on": d(100), "closes_on": d(120)},
        "national_deadline": d(200), "school_completion_on": d(186),
        "limits": {"outcome_uploads_per_semester": 6, "outcomes_selected_per_year": 6,
                   "performances_selected_per_year": 10},
        "version": version, "changed_by": str(uuid.uuid4()), "changed_at": events.utcnow()}))


@pytest.fixture
def uow():
    u = FakeCertificationUnitOfWork()
    usecases.apply_calendar(u, calendar())
    usecases.apply_calendar(u, calendar("ce"))
    for env in [uploaded() for _ in range(3)] + [uploaded(teacher_id=str(uuid.uuid4())), uploaded("ce")]:
        usecases.create_task(u, env)
    u.events.clear()
    return u


def pending_ids(uow, who=None):
    return [str(t["id"]) for t in usecases.list_queue(uow, who or teacher())]


def test_an_upload_creates_one_task_even_when_redelivered(uow):
    env = uploaded()
    assert usecases.create_task(uow, env) and not usecases.create_task(uow, env)
    assert len(uow.tasks.tasks) == 6


def test_certify_many_emits_one_certified_each_on_the_files_fingerprint(uow):
    ids = pending_ids(uow)
    res = usecases.certify(uow, teacher(), ids)
    assert sorted(res["certified"]) == sorted(ids) and uow.committed
    assert [e["event"] for e in uow.events] == ["certified"] * 3
    assert {e["payload"]["certified_by"] for e in uow.events} == {TEACHER}
    assert {d["sha256"] for d in uow.tasks.decisions} == {"0" * 64}
    assert usecases.list_queue(uow, teacher()) == []


def test_per_item_refusals_do_not_stop_the_rest(uow):
    mine = pending_ids(uow)[0]
    others = [str(t["id"]) for t in uow.tasks.tasks.values()
              if str(t["teacher_user_id"]) != TEACHER or t["tenant"] != "day"]  # another's, another tenant's
    res = usecases.certify(uow, teacher(), [mine, *others, "not-an-id"])
    assert res["certified"] == [mine]
    assert [r["code"] for r in res["refused"]] == ["not_found"] * 3
    assert [r["task_id"] for r in res["refused"]] == [*others, "not-an-id"]  # named, in order
    # the other teacher's item is audited as a refusal (the other tenant's reads as missing)
    assert sorted(e["event"] for e in uow.events) == ["access-refused", "certified"]


def test_return_with_a_listed_reason_and_free_text(uow):
    tid = pending_ids(uow)[0]
    usecases.return_outcomes(uow, teacher(), [tid], "incomplete", "請補上封面")
    (event,) = uow.events
    p = event["payload"]
    assert event["event"] == "certification-returned" and p["reason_code"] == "incomplete"
    assert p["reason"] == "內容不完整（如缺封面、組員名單或必要段落）：請補上封面" and p["sha256"] == "0" * 64
    (returned,) = usecases.list_queue(uow, teacher(), "returned")
    assert returned["reason"] == p["reason"]   # the 已退回 tab shows it


def test_free_text_alone_is_filed_under_other(uow):
    usecases.return_outcomes(uow, teacher(), pending_ids(uow)[:1], None, "檔案是別科的")
    assert uow.events[0]["payload"]["reason_code"] == "other"
    assert uow.events[0]["payload"]["reason"] == "其他：檔案是別科的"


@pytest.mark.parametrize("code,note,error", [
    (None, None, "reason_required"), ("", "  ", "reason_required"), ("other", None, "reason_note_required"),
    ("no_such_reason", "x", "reason_unknown"), ("incomplete", "字" * 501, "reason_too_long")])
def test_a_return_without_a_usable_reason_decides_nothing(uow, code, note, error):
    ids = pending_ids(uow)
    with pytest.raises(Exception) as e:
        usecases.return_outcomes(uow, teacher(), ids, code, note)
    assert e.value.code == error and uow.events == [] and uow.tasks.decisions == []


def test_the_academic_section_edits_the_list_and_a_retired_reason_is_refused(uow):
    sec = caller_mod.Caller(user_id=str(uuid.uuid4()), username="e", tenant="day", roles=("executive_secretary",))
    saved = usecases.save_return_reason(uow, sec, "late_group", "組員名單與選課不符", False, True, 5)
    assert saved["label"] == "組員名單與選課不符"
    usecases.save_return_reason(uow, sec, "unreadable", "檔案無法開啟", False, False, 10)
    codes = [r["code"] for r in usecases.list_return_reasons(uow, teacher())]
    assert codes[0] == "late_group" and "unreadable" not in codes and "other" in codes
    assert "unreadable" in [r["code"] for r in usecases.list_return_reasons(uow, sec, include_retired=True)]
    with pytest.raises(Exception) as e:
        usecases.return_outcomes(uow, teacher(), pending_ids(uow)[:1], "unreadable")
    assert e.value.code == "reason_unknown"
    for bad in (("X", "a"), ("ok_code", ""), ("ok_code", "字" * 101)):
        with pytest.raises(Exception) as e:
            usecases.save_return_reason(uow, sec, *bad)
        assert e.value.code == "return_reason_invalid"
    with pytest.raises(Exception) as e:
        usecases.save_return_reason(uow, teacher(), "mine", "老師自己的原因")
    assert e.value.code == "not_allowed"
    # the other tenant's list is its own
    ce_sec = caller_mod.Caller(user_id=str(uuid.uuid4()), username="e", tenant="ce", roles=("executive_secretary",))
    assert "late_group" not in [r["code"] for r in usecases.list_return_reasons(uow, ce_sec)]


@pytest.mark.parametrize("bad,code", [([], "nothing_selected"), ([str(uuid.uuid4()) for _ in range(201)], "batch_too_large"), ("x", "nothing_selected")])
def test_bad_batches(uow, bad, code):
    with pytest.raises(Exception) as e:
        usecases.certify(uow, teacher(), bad)
    assert e.value.code == code and uow.events == []


def test_only_oversight_roles_count(uow):
    ops = caller_mod.Caller(user_id=str(uuid.uuid4()), username="o", tenant="day", roles=("ops",))
    assert usecases.count_tasks(uow, ops)["total"] == 4
    with pytest.raises(Exception):
        usecases.count_tasks(uow, teacher())


def test_a_repeated_id_is_decided_once(uow):
    tid = pending_ids(uow)[0]
    res = usecases.certify(uow, teacher(), [tid, tid, tid])
    assert res["certified"] == [tid] and len(uow.events) == 1 and len(uow.tasks.decisions) == 1


def test_a_stale_tab_gets_already_decided_and_no_false_success(uow):
    tid = pending_ids(uow)[0]
    usecases.return_outcomes(uow, teacher(), [tid], "wrong_file")
    res = usecases.certify(uow, teacher(), [tid])
    assert res == {"certified": [], "refused": [{"task_id": tid, "code": "already_decided", "reason": "already returned"}]}


def test_a_proxy_decides_for_the_teacher_and_it_is_recorded():
    uow = FakeCertificationUnitOfWork()
    usecases.apply_calendar(uow, calendar())
    usecases.create_task(uow, uploaded())
    usecases.create_task(uow, uploaded())
    proxy = teacher(str(uuid.uuid4()), proxy_for=(TEACHER,))
    first, second = usecases.list_queue(uow, proxy)
    assert first["acting_for"] == TEACHER
    usecases.certify(uow, proxy, [str(first["id"])])
    usecases.return_outcomes(uow, proxy, [str(second["id"])], "unreadable")
    cert, ret = uow.events
    assert cert["payload"]["certified_by"] == proxy.user_id and cert["payload"]["acting_for"] == TEACHER
    assert ret["payload"]["returned_by"] == proxy.user_id and ret["payload"]["acting_for"] == TEACHER
    assert [d["acting_for"] for d in uow.tasks.decisions] == [TEACHER, TEACHER]
    stranger = teacher(str(uuid.uuid4()))
    assert usecases.list_queue(uow, stranger) == []


# ------------------------------------------------------------------ rounds

def test_a_reupload_after_a_return_opens_the_next_round_on_the_same_outcome():
    uow = FakeCertificationUnitOfWork()
    usecases.apply_calendar(uow, calendar())
    first = uploaded(sha="1" * 64)
    oid = first["payload"]["outcome_id"]
    usecases.create_task(uow, first)
    (r1,) = usecases.list_queue(uow, teacher())
    usecases.return_outcomes(uow, teacher(), [str(r1["id"])], "unreadable")
    usecases.create_task(uow, uploaded(outcome_id=oid, sha="2" * 64))
    (r2,) = usecases.list_queue(uow, teacher())
    assert (r2["round"], r2["outcome_id"], r2["sha256"]) == (2, oid, "2" * 64)
    assert usecases.certify(uow, teacher(), [str(r2["id"])])["certified"] == [str(r2["id"])]
    # the history keeps both rounds, each decision on its own file
    assert [(d["decision"], d["sha256"]) for d in uow.tasks.decisions] == [("returned", "1" * 64), ("certified", "2" * 64)]


def test_an_identical_reupload_of_a_certified_outcome_keeps_its_certification():
    uow = FakeCertificationUnitOfWork()
    usecases.apply_calendar(uow, calendar())
    env = uploaded(sha="3" * 64)
    usecases.create_task(uow, env)
    usecases.certify(uow, teacher(), pending_ids(uow))
    again = uploaded(outcome_id=env["payload"]["outcome_id"], sha="3" * 64)   # e.g. restored after a loss
    usecases.create_task(uow, again)
    assert pending_ids(uow) == [] and len(uow.tasks.tasks) == 1
    assert [t["status"] for t in uow.tasks.tasks.values()] == ["certified"]
    # another file on the certified outcome needs its own attestation
    usecases.create_task(uow, uploaded(outcome_id=env["payload"]["outcome_id"], sha="4" * 64))
    (r2,) = usecases.list_queue(uow, teacher())
    assert r2["round"] == 2 and r2["sha256"] == "4" * 64


def test_a_new_file_before_any_decision_supersedes_the_open_round():
    uow = FakeCertificationUnitOfWork()
    usecases.apply_calendar(uow, calendar())
    env = uploaded(sha="5" * 64)
    usecases.create_task(uow, env)
    (old,) = usecases.list_queue(uow, teacher())
    usecases.create_task(uow, uploaded(outcome_id=env["payload"]["outcome_id"], sha="6" * 64))
    (new,) = usecases.list_queue(uow, teacher())
    assert new["sha256"] == "6" * 64
    res = usecases.certify(uow, teacher(), [str(old["id"])])   # the tab that showed the old file
    assert res["refused"][0]["code"] == "already_decided"


# ------------------------------------------------------------------ withdrawal

def test_a_withdrawal_keeps_the_history_reopens_the_outcome_and_is_published(uow):
    tid = pending_ids(uow)[0]
    usecases.certify(uow, teacher(), [tid])
    uow.events.clear()
    res = usecases.withdraw_certifications(uow, teacher(), [tid], "誤按：這是別班的作品")
    assert res == {"withdrawn": [tid], "refused": []}
    (event,) = uow.events
    p = event["payload"]
    assert event["event"] == "certification-withdrawn" and p["reason"] == "誤按：這是別班的作品"
    assert p["task_id"] == tid and p["withdrawn_by"] == TEACHER
    (w,) = uow.tasks.withdrawals
    assert w["sha256"] == "0" * 64 and uow.tasks.decisions[0]["decision"] == "certified"  # kept
    reopened = [t for t in usecases.list_queue(uow, teacher()) if str(t["id"]) == p["next_task_id"]]
    assert reopened and reopened[0]["round"] == 2
    (gone,) = usecases.list_queue(uow, teacher(), "withdrawn")
    assert gone["withdrawal_reason"] == "誤按：這是別班的作品"
    # a second withdrawal, or of something never certified: refused by name
    again = usecases.withdraw_certifications(uow, teacher(), [tid, p["next_task_id"]], "再撤一次")
    assert [r["code"] for r in again["refused"]] == ["not_certified", "not_certified"]
    with pytest.raises(Exception) as e:
        usecases.withdraw_certifications(uow, teacher(), [tid], " ")
    assert e.value.code == "reason_required"


# ------------------------------------------------------------------ windows

def test_no_calendar_for_the_term_is_not_an_open_window():
    uow = FakeCertificationUnitOfWork()
    usecases.create_task(uow, uploaded())
    res = usecases.certify(uow, teacher(), pending_ids(uow))
    assert [r["code"] for r in res["refused"]] == ["calendar_not_set"] and uow.tasks.decisions == []


@pytest.mark.parametrize("opens,closes", [(-20, -1), (1, 20)])
def test_outside_the_window_decisions_are_refused_with_its_dates(opens, closes):
    uow = FakeCertificationUnitOfWork()
    usecases.apply_calendar(uow, calendar(opens=opens, closes=closes))
    usecases.create_task(uow, uploaded())
    res = usecases.certify(uow, teacher(), pending_ids(uow))
    (refusal,) = res["refused"]
    day = lambda n: (clock.today_in_school() + dt.timedelta(days=n)).isoformat()  # noqa: E731
    assert refusal["code"] == "window_closed" and day(opens) in refusal["reason"] and day(closes) in refusal["reason"]
    assert uow.tasks.decisions == [] and uow.events == []


def test_only_a_higher_calendar_version_applies():
    uow = FakeCertificationUnitOfWork()
    assert usecases.apply_calendar(uow, calendar(version=2, opens=-20, closes=-1))
    assert not usecases.apply_calendar(uow, calendar(version=1))          # late, older: ignored
    usecases.create_task(uow, uploaded())
    assert usecases.certify(uow, teacher(), pending_ids(uow))["refused"][0]["code"] == "window_closed"
    newer = calendar(version=3)
    assert usecases.apply_calendar(uow, newer) and not usecases.apply_calendar(uow, newer)  # redelivery
    assert usecases.certify(uow, teacher(), pending_ids(uow))["certified"]


# ------------------------------------------------------------------ status changes

def status_changed(student_id, change, tenant="day"):
    return events.load_event(events.STUDENT_STATUS_CHANGED, events.make_event(
        events.STUDENT_STATUS_CHANGED, tenant, {
            "student_id": student_id, "student_user_id": str(uuid.uuid4()), "change": change,
            "effective_on": dt.date(2026, 12, 1), "other_school_code": "011301", "school_year": 115,
            "semester": 1}))


def test_a_transfer_out_closes_the_students_open_tasks_with_a_reason(uow):
    student = str(uuid.uuid4())
    for _ in range(2):
        usecases.create_task(uow, uploaded(student_id=student))
    usecases.certify(uow, teacher(), [str(t["id"]) for t in usecases.list_queue(uow, teacher())
                                      if str(t["student_id"]) == student][:1])
    assert usecases.close_for_status_change(uow, status_changed(student, "visiting_study")) == 0
    env = status_changed(student, "transfer_out")
    assert usecases.close_for_status_change(uow, env) == 1 and usecases.close_for_status_change(uow, env) == 0
    mine = [t for t in uow.tasks.tasks.values() if str(t["student_id"]) == student]
    assert sorted(t["status"] for t in mine) == ["certified", "closed"]
    assert [t["closed_reason"] for t in mine if t["status"] == "closed"] == ["學生已轉出（2026-12-01）"]
    assert student not in [str(t["student_id"]) for t in usecases.list_queue(uow, teacher())]


def test_oversight_figures_per_teacher_and_tenant_for_the_academic_section_only(uow):
    sec = caller_mod.Caller(user_id=str(uuid.uuid4()), username="e", tenant="day", roles=("executive_secretary",))
    start = clock.now() - dt.timedelta(hours=10)
    for t in uow.tasks.tasks.values():
        t["created_at"] = start
    ids = pending_ids(uow)
    usecases.certify(uow, teacher(), ids[:2])
    usecases.return_outcomes(uow, teacher(), ids[2:], "incomplete", None)
    whole = usecases.oversight_figures(uow, sec, "tenant")
    assert [{k: f[k] for k in ("key", "open", "certified", "returned", "withdrawn", "decided")} for f in whole] == [
        {"key": None, "open": 1, "certified": 2, "returned": 1, "withdrawn": 0, "decided": 3}]  # ce not counted
    assert 9.9 <= whole[0]["median_hours_to_decide"] <= 10.1
    mine = next(f for f in usecases.oversight_figures(uow, sec, "teacher") if f["key"] == TEACHER)
    assert (mine["open"], mine["certified"], mine["returned"]) == (0, 2, 1)
    with pytest.raises(Exception) as refused:
        usecases.oversight_figures(uow, teacher(), "tenant")
    assert getattr(refused.value, "code", None) == "not_allowed"
    with pytest.raises(Exception) as bad:
        usecases.oversight_figures(uow, sec, "nonsense")
    assert bad.value.code == "invalid"


def test_open_rounds_near_the_window_close_are_listed_for_the_academic_section():
    u = FakeCertificationUnitOfWork()
    usecases.apply_calendar(u, calendar(closes=3))
    usecases.apply_calendar(u, calendar(closes=-1, semester=2))
    for _ in range(2):
        usecases.create_task(u, uploaded())
    usecases.create_task(u, uploaded(tenant="ce"))
    sec = caller_mod.Caller(user_id=str(uuid.uuid4()), username="e", tenant="day", roles=("executive_secretary",))
    rows = usecases.open_at_window_close(u, sec, 7)    # two sections of one teacher; ce not listed
    assert [(r["teacher_user_id"], r["open"], r["window"]) for r in rows] == [(TEACHER, 1, "closing")] * 2
    assert {r["closes_on"] for r in rows} == {clock.today_in_school() + dt.timedelta(days=3)}
    assert usecases.open_at_window_close(u, sec, 2) == []          # closes in 3 days: not yet listed
    with pytest.raises(Exception) as refused:
        usecases.open_at_window_close(u, teacher(), 7)
    assert refused.value.code == "not_allowed"
    with pytest.raises(Exception) as bad:
        usecases.open_at_window_close(u, sec, 999)
    assert bad.value.code == "invalid"


def test_open_at_close_marks_closed_and_unknown_windows():
    from certification.domain import open_at_close
    today = dt.date(2026, 12, 1)
    rounds = [dict(teacher_user_id="a", section_id="s", subject_name="國文", school_year=115, semester=s)
              for s in (1, 2)] + [dict(teacher_user_id="a", section_id="s", subject_name="國文", school_year=114,
                                       semester=2)]
    cals = {(115, 1): {"certification_closes_on": today - dt.timedelta(days=1)},
            (115, 2): {"certification_closes_on": today + dt.timedelta(days=30)}}
    out = open_at_close(rounds, cals, today, 7)
    assert [(r["school_year"], r["semester"], r["window"]) for r in out] == [(114, 2, "calendar_not_set"),
                                                                           (115, 1, "closed")]


HOMEROOM_A, HOMEROOM_B = str(uuid.uuid4()), str(uuid.uuid4())


def _school():
    """Two classes (A: 資訊一甲 with homeroom A; B: 資訊一乙 with homeroom B), two subjects, one
    round without a class (opened before tasks carried one), and a round of ce."""
    u = FakeCertificationUnitOfWork()
    usecases.apply_calendar(u, calendar())
    a = dict(class_code="163", class_name="資訊一甲", homeroom_user_id=HOMEROOM_A)
    b = dict(class_code="164", class_name="資訊一乙", homeroom_user_id=HOMEROOM_B)
    for env in [uploaded(**a), uploaded(**a), uploaded(subject="國語文", teacher_id=HOMEROOM_B, **a),
                uploaded(**b), uploaded(), uploaded("ce", **a)]:
        usecases.create_task(u, env)
    return u


def _who(roles, uid=None, tenant="day"):
    return caller_mod.Caller(user_id=uid or str(uuid.uuid4()), username="x", tenant=tenant, roles=tuple(roles))


def test_figures_per_class_name_the_class_and_count_rounds_without_one_as_unassigned():
    u = _school()
    rows = usecases.oversight_figures(u, _who(["registrar"]), "class")
    assert [(r["key"], r["label"], r["open"]) for r in rows] == [(None, "未分班", 1), ("163", "資訊一甲", 3),
                                                                 ("164", "資訊一乙", 1)]
    section = usecases.oversight_figures(u, _who(["registrar"]), "section")
    assert all(r["label"].startswith(("程式設計（", "國語文（")) for r in section)


def test_a_homeroom_teacher_sees_only_their_class():
    u = _school()
    rows = usecases.oversight_figures(u, _who(["homeroom_teacher", "subject_teacher"], HOMEROOM_A), "class")
    assert [(r["key"], r["open"]) for r in rows] == [("163", 3)]          # not 164, not ce's 163
    assert usecases.oversight_figures(u, _who(["homeroom_teacher"], HOMEROOM_A), "tenant")[0]["open"] == 3
    assert usecases.oversight_figures(u, _who(["homeroom_teacher"]), "class") == []   # a homeroom of no upload


def test_a_student_who_moved_class_counts_under_the_class_of_today():
    """records says where each student is now (current_classes); the homeroom teacher of the
    old class no longer sees the moved student's rounds, the new one does; a student records
    does not name keeps the class at upload time."""
    u = FakeCertificationUnitOfWork()
    usecases.apply_calendar(u, calendar(closes=3))
    moved = uploaded(class_code="163", class_name="資訊一甲", homeroom_user_id=HOMEROOM_A)
    stays = uploaded(class_code="163", class_name="資訊一甲", homeroom_user_id=HOMEROOM_A)
    unknown = uploaded(class_code="163", class_name="資訊一甲", homeroom_user_id=HOMEROOM_A)
    for env in (moved, stays, unknown):
        usecases.create_task(u, env)
    asked = []

    def current_classes(ids):
        asked.append(ids)
        return {str(moved["payload"]["student_id"]): {"class_code": "164", "class_name": "資訊一乙",
                                                 "homeroom_user_id": HOMEROOM_B},
                str(stays["payload"]["student_id"]): {"class_code": "163", "class_name": "資訊一甲",
                                                 "homeroom_user_id": HOMEROOM_A}}
    a = usecases.oversight_figures(u, _who(["homeroom_teacher"], HOMEROOM_A), "class", current_classes)
    b = usecases.oversight_figures(u, _who(["homeroom_teacher"], HOMEROOM_B), "class", current_classes)
    assert [(r["key"], r["open"]) for r in a] == [("163", 2)] and [(r["key"], r["label"], r["open"]) for r in b] \
        == [("164", "資訊一乙", 1)]
    assert len(asked[0]) == 3            # one question for every student, not one per round
    whole = usecases.oversight_figures(u, _who(["registrar"]), "class", current_classes)
    assert [(r["key"], r["open"]) for r in whole] == [("163", 2), ("164", 1)]
    open_b = usecases.open_at_window_close(u, _who(["homeroom_teacher"], HOMEROOM_B), 7, current_classes)
    open_a = usecases.open_at_window_close(u, _who(["homeroom_teacher"], HOMEROOM_A), 7, current_classes)
    assert (sum(r["open"] for r in open_b), sum(r["open"] for r in open_a)) == (1, 2)


def test_a_subject_convener_sees_only_the_subjects_they_teach():
    u = _school()
    rows = usecases.oversight_figures(u, _who(["subject_convener", "subject_teacher"], HOMEROOM_B), "subject")
    assert [(r["key"], r["open"]) for r in rows] == [("國語文", 1)]
    both = usecases.oversight_figures(u, _who(["subject_convener", "homeroom_teacher"], HOMEROOM_B), "class")
    assert [(r["key"], r["open"]) for r in both] == [("163", 1), ("164", 1)]   # their subject + their class


def test_whole_tenant_roles_see_everything_of_their_tenant_only():
    u = _school()
    for role in ("registrar", "executive_secretary", "principal"):
        assert usecases.oversight_figures(u, _who([role]), "tenant")[0]["open"] == 5
    assert usecases.oversight_figures(u, _who(["registrar"], tenant="ce"), "tenant")[0]["open"] == 1
    with pytest.raises(Exception) as refused:
        usecases.oversight_figures(u, _who(["subject_teacher"]), "class")
    assert refused.value.code == "not_allowed"


def test_open_at_close_is_scoped_like_the_figures():
    u = FakeCertificationUnitOfWork()
    usecases.apply_calendar(u, calendar(closes=3))
    usecases.create_task(u, uploaded(class_code="163", class_name="資訊一甲", homeroom_user_id=HOMEROOM_A))
    usecases.create_task(u, uploaded(class_code="164", class_name="資訊一乙", homeroom_user_id=HOMEROOM_B))
    assert sum(r["open"] for r in usecases.open_at_window_close(u, _who(["registrar"]), 7)) == 2
    assert sum(r["open"] for r in usecases.open_at_window_close(u, _who(["homeroom_teacher"], HOMEROOM_A), 7)) == 1


def test_a_certification_a_locked_selection_rests_on_is_not_withdrawn(uow):
    """The registrar locked the student's selection for the national database: withdrawing
    the certification would silently drop the row from the roster (found by trying it), so
    it is refused by name (outcome_locked) while the others of the same request go through."""
    locked_tid, free_tid = pending_ids(uow)[:2]
    usecases.certify(uow, teacher(), [locked_tid, free_tid])
    rows = {str(t["id"]): t for t in usecases.list_queue(uow, teacher(), "certified")}
    locked_outcome = str(rows[locked_tid]["outcome_id"])
    asked = []

    def locked_outcomes(outcome_ids):
        asked.append(list(outcome_ids))
        return [locked_outcome]
    uow.events.clear()
    res = usecases.withdraw_certifications(uow, teacher(), [locked_tid, free_tid], "誤按認證",
                                           locked_outcomes=locked_outcomes)
    assert res["withdrawn"] == [free_tid]
    assert [(r["task_id"], r["code"]) for r in res["refused"]] == [(locked_tid, "outcome_locked")]
    assert asked == [sorted({locked_outcome, str(rows[free_tid]["outcome_id"])})]  # one question
    assert [e["payload"]["task_id"] for e in uow.events] == [free_tid]
    still = {str(t["id"]) for t in usecases.list_queue(uow, teacher(), "certified")}
    assert locked_tid in still and free_tid not in still
    # unlocked for a correction: submission no longer names it, the withdrawal goes through
    res = usecases.withdraw_certifications(uow, teacher(), [locked_tid], "誤按認證", locked_outcomes=lambda ids: [])
    assert res == {"withdrawn": [locked_tid], "refused": []}


def test_nothing_is_asked_of_submission_when_nothing_may_be_withdrawn(uow):
    tid = pending_ids(uow)[0]   # pending: not_certified, refused before any question

    def never(outcome_ids):
        raise AssertionError("asked submission for nothing")
    res = usecases.withdraw_certifications(uow, teacher(), [tid], "誤按", locked_outcomes=never)
    assert [r["code"] for r in res["refused"]] == ["not_certified"]


# ------------------------------------------------------------------ a batch of uploads (issue 10)

def _rounds(uow):
    """What the rounds say, without their ids or times: per outcome, in round order."""
    return sorted((str(t["outcome_id"]), t["round"], t["status"], t["sha256"], t.get("closed_reason"),
                   tuple(sorted((s, f["sha256"]) for s, f in (t.get("files") or {}).items())))
                  for t in uow.tasks.tasks.values())


def _story():
    """Uploads of one night in delivery order: new outcomes, an outcome's media file after its
    document, a file replaced before any decision (twice), the identical file again, and a
    redelivered event."""
    a, b = uploaded(sha="a" * 64), uploaded(sha="b" * 64)
    oa, ob = a["payload"]["outcome_id"], b["payload"]["outcome_id"]
    media = uploaded(outcome_id=oa, sha="c" * 64, slot="media")
    media["payload"]["content_type"] = "video/mp4"
    return [a, b, media, uploaded(outcome_id=ob, sha="d" * 64), uploaded(outcome_id=ob, sha="e" * 64),
            uploaded(outcome_id=oa, sha="a" * 64), a, uploaded(sha="f" * 64)]


def test_a_batch_of_uploads_ends_as_the_same_uploads_one_by_one():
    story = _story()
    one_by_one, batch = FakeCertificationUnitOfWork(), FakeCertificationUnitOfWork()
    applied = [usecases.create_task(one_by_one, env) for env in story]
    assert applied == [True] * 6 + [False, True]
    assert usecases.create_tasks(batch, story) == 7 and batch.committed
    assert _rounds(batch) == _rounds(one_by_one)
    # a: document then media in one open round (the first superseded); b: replaced twice
    by_outcome = {}
    for oid, rnd, status, sha, reason, files in _rounds(batch):
        by_outcome.setdefault(oid, []).append((rnd, status, files))
    a, b = story[0]["payload"]["outcome_id"], story[1]["payload"]["outcome_id"]
    assert by_outcome[str(a)] == [(1, "superseded", (("document", "a" * 64),)),
                                  (2, "pending", (("document", "a" * 64), ("media", "c" * 64)))]
    assert [s for _, s, _ in by_outcome[str(b)]] == ["superseded", "superseded", "pending"]
    # the whole batch again (a redelivery): nothing changes
    assert usecases.create_tasks(batch, story) == 0 and _rounds(batch) == _rounds(one_by_one)


def test_a_batch_continues_rounds_already_held_and_keeps_a_certification():
    uow = FakeCertificationUnitOfWork()
    usecases.apply_calendar(uow, calendar())
    first = uploaded(sha="1" * 64)
    oid = first["payload"]["outcome_id"]
    usecases.create_task(uow, first)
    usecases.certify(uow, teacher(), pending_ids(uow))
    usecases.create_tasks(uow, [uploaded(outcome_id=oid, sha="1" * 64), uploaded()])
    assert sorted(t["status"] for t in uow.tasks.tasks.values()) == ["certified", "pending"]
    usecases.create_tasks(uow, [uploaded(outcome_id=oid, sha="2" * 64)])
    assert [(t["round"], t["status"]) for t in sorted(uow.tasks.tasks.values(), key=lambda t: t["created_at"])
            if str(t["outcome_id"]) == str(oid)] == [(1, "certified"), (2, "pending")]


def test_the_queue_is_dumped_as_marshmallow_would(uow):
    """list_queue's answer goes out through plaindump (issue 10): the same as TaskRead's dump."""
    from certification.schemas import TaskRead
    from portfolio_common import plaindump
    rows = usecases.list_queue(uow, teacher())
    usecases.certify(uow, teacher(), [str(rows[0]["id"])])
    # the fake numbers its rounds where the database keeps a time
    rows = [dict(r, created_at=dt.datetime(2026, 11, 30, 8, r["created_at"], tzinfo=dt.timezone.utc))
            for r in usecases.list_queue(uow, teacher(), "all")]
    assert plaindump._plan(TaskRead) is not None
    assert plaindump.dump_many(TaskRead, rows) == TaskRead(many=True).dump(rows)
