"""Consent to release, lock by scope, unlock with a reason and re-lock, the pre-lock overview:
use cases with a fake unit of work."""
import datetime as dt
import uuid

import pytest

from submission import usecases
from submission.selection import consent, lock
from submission.selection import usecases as choice
from submission.unit_of_work import FakeSubmissionUnitOfWork

from portfolio_common import clock

from .test_submission_usecases import STUDENT, certified, open_calendar, performance, uploaded, who

OTHER = str(uuid.uuid4())       # a student with a selection but no consent
QUIET = str(uuid.uuid4())       # a student of the class who has done nothing
REG = who("registrar", uid=str(uuid.uuid4()))


@pytest.fixture
def uow():
    u = FakeSubmissionUnitOfWork()
    open_calendar(u)
    for student in (STUDENT, OTHER):
        for _ in range(3):
            usecases.record_certified(u, certified(student=student))
    choice.record_outcome_uploaded(u, uploaded())
    choice.record_performance_uploaded(u, performance())
    choice.record_performance_uploaded(u, performance(entered_by="school"))
    for student in (STUDENT, OTHER):
        ids = [c["outcome_id"] for c in usecases.get_my_selection(u, who("student", uid=student), 115)["candidates"]]
        choice.save_selection(u, who("student", uid=student), 115, outcome_ids=ids[:2])
    return u


def give(uow, student=STUDENT, version=consent.WORDING_VERSION):
    return consent.set_consent(uow, who("student", uid=student), 115, True, version)


def test_consent_kept_with_time_and_exact_wording_revocable(uow):
    assert consent.get_consent(uow, who("student"), 115)["given"] is False
    res = give(uow)
    assert res["given"] and res["changed"] and res["wording_version"] == consent.WORDING_VERSION
    assert give(uow)["changed"] is False
    consent.set_consent(uow, who("student"), 115, False)
    log = consent.consent_log(uow, who("student"), 115)
    assert [r["action"] for r in log] == ["revoked", "given"]
    assert log[1]["wording"] == consent.WORDING and log[1]["at"]
    assert consent.consent_log(uow, REG, 115, STUDENT) == log
    assert consent.consent_log(uow, who("student", uid=OTHER), 115, STUDENT) == []


def test_consent_to_an_old_wording_refused(uow):
    with pytest.raises(Exception) as e:
        give(uow, version="2019-1")
    assert e.value.code == "consent_wording_changed"
    assert consent.get_consent(uow, who("student"), 115)["given"] is False


def test_lock_holds_only_with_consent_and_warns(uow):
    give(uow)
    res = lock.lock(uow, REG, 115, "class", "資訊三甲", [STUDENT, OTHER, QUIET])
    assert (res["students"], res["held"], res["without_consent"]) == (3, 1, 2)
    assert set(res["without_consent_ids"]) == {OTHER, QUIET}
    (event,) = uow.events
    assert event["payload"]["student_user_id"] == STUDENT
    held = usecases.list_locked(uow, REG, 115)
    assert [s["student_user_id"] for s in held["students"]] == [STUDENT] and held["locked"]
    # every student of the scope is frozen, consent too
    for student in (STUDENT, OTHER):
        with pytest.raises(Exception) as e:
            choice.save_selection(uow, who("student", uid=student), 115, outcome_ids=[])
        assert e.value.code == "selection_locked"
    with pytest.raises(Exception) as e:
        consent.set_consent(uow, who("student"), 115, False)
    assert e.value.code == "selection_locked"
    with pytest.raises(Exception) as e:
        lock.lock(uow, REG, 115, "class", "資訊三甲", [STUDENT, OTHER])
    assert e.value.code == "already_locked"


def test_lock_by_class_leaves_others_free(uow):
    lock.lock(uow, REG, 115, "class", "資訊三甲", [STUDENT])
    assert choice.save_selection(uow, who("student", uid=OTHER), 115, outcome_ids=[])["changed"]


def test_unlock_needs_a_reason_is_audited_and_relock_keeps_versions(uow):
    give(uow)
    lock.lock(uow, REG, 115, "tenant", "日間部")
    for reason in ("", "   ", None):
        with pytest.raises(Exception) as e:
            lock.unlock(uow, REG, 115, [STUDENT], reason)
        assert e.value.code == "unlock_reason_required"
    with pytest.raises(Exception) as e:
        lock.unlock(uow, REG, 115, [QUIET], "更正")
    assert e.value.code == "unlock_not_locked"
    lock.unlock(uow, REG, 115, [STUDENT], "學生勾錯一件，更正")
    ids = [o["outcome_id"] for o in choice.get_my_selection(uow, who("student"), 115)["outcomes"] if o["state"] == "certified"]
    choice.save_selection(uow, who("student"), 115, outcome_ids=ids[2:3])
    res = lock.lock(uow, REG, 115, "student", "", [STUDENT])
    assert (res["students"], res["held"]) == (1, 1)
    versions = lock.held(uow, REG, 115, STUDENT)["students"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["outcomes"][0]["outcome_id"] == ids[2]
    assert usecases.list_locked(uow, REG, 115)["students"][0]["version"] == 2
    log = lock.overview(uow, REG, 115)["locks"]
    assert [(e["action"], e["reason"]) for e in log] == [("lock", None), ("unlock", "學生勾錯一件，更正"), ("lock", None)]
    assert log[1]["by_username"] == "registrar"
    assert len(uow.events) == 2   # one selection-locked per held copy


def test_overview_counts_what_the_registrar_must_see(uow):
    give(uow)
    view = lock.overview(uow, REG, 115)["students"]
    me = view[STUDENT]
    assert (me["uploaded"], me["certified"], me["waiting"], me["unselected"]) == (4, 3, 1, 1)
    assert (me["performances"], me["others"], me["consent"], me["locked"]) == (1, 1, True, False)
    assert view[OTHER]["consent"] is False and view[OTHER]["has_selection"]


@pytest.mark.parametrize("role", ["student", "subject_teacher", "homeroom_teacher"])
def test_only_the_registrar_locks_unlocks_and_overviews(uow, role):
    for fn in (lambda c: lock.lock(uow, c, 115, "tenant"), lambda c: lock.unlock(uow, c, 115, [STUDENT], "x"),
               lambda c: lock.overview(uow, c, 115)):
        with pytest.raises(Exception) as e:
            fn(who(role))
        assert e.value.code == "not_allowed"


def test_another_tenants_registrar_locks_nothing_here(uow):
    give(uow)
    open_calendar(uow, tenant="ce")
    res = lock.lock(uow, who("registrar", tenant="ce"), 115, "class", "x", [STUDENT])
    assert res["held"] == 0   # the day student's selection is not in ce
    assert choice.save_selection(uow, who("student"), 115, outcome_ids=[])["changed"]
    assert lock.overview(uow, who("registrar", tenant="ce"), 115)["students"][STUDENT]["has_selection"] is False


def _close_selection_window(uow):
    """The selection window of 115 ended five days ago (the term itself still runs)."""
    terms = [t for t in uow.calendar.terms("day") if t["school_year"] == 115]
    open_calendar(uow, opens=-30, closes=-5)
    assert len([t for t in uow.calendar.terms("day") if t["school_year"] == 115]) == len(terms)


def test_a_lock_outside_the_selection_window_is_refused_with_its_dates(uow):
    give(uow)
    _close_selection_window(uow)
    today = clock.today_in_school()
    for scope, ids in (("tenant", None), ("class", [STUDENT, OTHER]), ("student", [STUDENT])):
        with pytest.raises(Exception) as e:
            lock.lock(uow, REG, 115, scope, "資訊三甲", ids)
        assert e.value.code == "window_closed"
        assert (today - dt.timedelta(days=30)).isoformat() in str(e.value)
        assert (today - dt.timedelta(days=5)).isoformat() in str(e.value)
    # nothing written: no lock, no held copy, no event, the student may still not change (window)
    assert uow.events == [] and lock.overview(uow, REG, 115)["locks"] == []
    assert not lock.is_locked(uow, "day", STUDENT, 115)
    assert lock.held(uow, REG, 115)["students"] == []


def test_a_lock_before_the_window_opens_is_refused_too(uow):
    open_calendar(uow, opens=3, closes=20)
    with pytest.raises(Exception) as e:
        lock.lock(uow, REG, 115, "student", "", [STUDENT])
    assert e.value.code == "window_closed"


def test_a_year_without_a_calendar_cannot_be_locked(uow):
    with pytest.raises(Exception) as e:
        lock.lock(uow, REG, 116, "student", "", [STUDENT])
    assert e.value.code == "calendar_not_set"


def test_the_relock_of_a_correction_after_the_window_is_allowed(uow):
    give(uow)
    lock.lock(uow, REG, 115, "student", "", [STUDENT])
    _close_selection_window(uow)
    lock.unlock(uow, REG, 115, [STUDENT], "國家端回饋錯誤，更正")
    res = lock.lock(uow, REG, 115, "student", "", [STUDENT])
    assert (res["students"], res["held"]) == (1, 1)
    # a student never locked cannot be slipped in with the correction
    with pytest.raises(Exception) as e:
        lock.lock(uow, REG, 115, "class", "", [OTHER])
    assert e.value.code == "window_closed"


def test_a_sealed_students_held_copies_are_not_read(uow):
    give(uow)
    lock.lock(uow, REG, 115, "class", "資訊三甲", [STUDENT, OTHER])
    (copy,) = lock.held(uow, REG, 115)["students"]
    uow.sealing.add_seal("day", copy["student_id"], STUDENT, clock.now())
    assert lock.held(uow, REG, 115)["students"] == []
    assert usecases.list_locked(uow, REG, 115)["students"] == []
    with pytest.raises(Exception) as e:
        lock.held(uow, REG, 115, STUDENT)
    assert e.value.code == "sealed_read_required"


def test_certification_learns_which_outcomes_a_current_locked_copy_holds(uow):
    """Before a withdrawal certification asks which outcomes are held in a student's CURRENT
    locked copy: held while locked, free once unlocked for a correction, held again (the new
    copy's) after the re-lock; a student locked without consent holds nothing."""
    cert = who("system:certification")
    give(uow)
    mine = [o["outcome_id"] for o in choice.get_my_selection(uow, who("student"), 115)["outcomes"]
            if o["state"] == "certified"]
    theirs = [o["outcome_id"] for o in choice.get_my_selection(uow, who("student", uid=OTHER), 115)["outcomes"]
              if o["state"] == "certified"]
    assert lock.locked_outcomes(uow, cert, mine + theirs) == []   # nothing locked yet
    lock.lock(uow, REG, 115, "class", "資訊三甲", [STUDENT, OTHER])
    held = [o["outcome_id"] for o in lock.held(uow, REG, 115, STUDENT)["students"][0]["outcomes"]]
    assert len(held) == 2
    assert lock.locked_outcomes(uow, cert, mine + theirs + ["not-a-uuid"]) == sorted(held)  # OTHER: no consent
    lock.unlock(uow, REG, 115, [STUDENT], "老師認證錯了，撤回後更正")
    assert lock.locked_outcomes(uow, cert, mine) == []
    lock.lock(uow, REG, 115, "student", "", [STUDENT])
    assert lock.locked_outcomes(uow, cert, mine) == sorted(held)


@pytest.mark.parametrize("role", ["registrar", "subject_teacher", "student", "system", "system:records"])
def test_only_certifications_own_identity_asks_which_outcomes_are_locked(uow, role):
    with pytest.raises(Exception) as e:
        lock.locked_outcomes(uow, who(role), [])
    assert e.value.code == "not_allowed"


def test_which_outcomes_are_locked_takes_a_bounded_list(uow):
    for bad in ("x", None, [str(uuid.uuid4())] * 1001):
        with pytest.raises(Exception) as e:
            lock.locked_outcomes(uow, who("system:certification"), bad)
        assert e.value.code == "invalid"
