"""Sealing use cases with a fake unit of work: dates, the five-year rule, the signed manifest."""
import datetime as dt
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portfolio_common import caller as caller_mod
from portfolio_common import events
from submission.sealing import domain, usecases
from submission.unit_of_work import FakeSubmissionUnitOfWork

KEY = Ed25519PrivateKey.generate()
SIGNER = usecases.ManifestSigner(KEY)


def who(role="registrar", tenant="day"):
    return caller_mod.Caller(user_id=str(uuid.uuid4()), username=role, tenant=tenant, roles=(role,))


@pytest.fixture
def clock_at(monkeypatch):
    def move(day: dt.date):
        now = dt.datetime.now(dt.timezone.utc)
        target = dt.datetime.combine(day, dt.time(12), dt.timezone.utc)
        monkeypatch.setenv("PORTFOLIO_CLOCK_OFFSET_SECONDS", str(int((target - now).total_seconds())))
    return move


def student():
    return str(uuid.uuid4()), str(uuid.uuid4())


def test_five_years_on_and_29_february():
    assert domain.seal_due_on(dt.date(2026, 7, 1)) == dt.date(2031, 7, 1)
    assert domain.seal_due_on(dt.date(2028, 2, 29)) == dt.date(2033, 2, 28)


def test_a_date_in_the_future_or_not_a_date_is_refused(clock_at):
    clock_at(dt.date(2026, 11, 30))
    uow = FakeSubmissionUnitOfWork()
    sid, uid = student()
    for bad in ("2026-12-01", "30/11/2026", "", None, "1999-01-01"):
        with pytest.raises(Exception) as e:
            usecases.record_application_date(uow, who(), sid, uid, bad)
        assert e.value.code == "application_date_invalid"
    assert uow.sealing.applications == []


def test_only_the_registrar_records_and_every_change_is_kept(clock_at):
    clock_at(dt.date(2026, 11, 30))
    uow = FakeSubmissionUnitOfWork()
    sid, uid = student()
    for role in ("student", "subject_teacher", "principal"):
        with pytest.raises(Exception) as e:
            usecases.record_application_date(uow, who(role), sid, uid, "2026-03-01")
        assert e.value.code == "not_allowed"
    reg = who()
    first = usecases.record_application_date(uow, reg, sid, uid, "2026-03-01")
    assert first == {"student_id": sid, "applied_on": "2026-03-01", "seal_due_on": "2031-03-01", "previous": None}
    second = usecases.record_application_date(uow, reg, sid, uid, "2026-03-02")
    assert second["previous"] == "2026-03-01"
    assert [(a["applied_on"], a["recorded_by"]) for a in uow.sealing.applications] == [
        (dt.date(2026, 3, 1), reg.user_id), (dt.date(2026, 3, 2), reg.user_id)]


def test_the_job_seals_five_years_on_once_signs_and_announces(clock_at):
    clock_at(dt.date(2026, 11, 30))
    uow = FakeSubmissionUnitOfWork()
    old, recent = student(), student()
    usecases.record_application_date(uow, who(), *old, "2021-11-30")
    usecases.record_application_date(uow, who(), *recent, "2021-12-01")
    usecases.record_application_date(uow, who(tenant="ce"), *student(), "2022-01-01")
    assert usecases.seal_due_students(uow, SIGNER) == [("day", old[0])]
    assert usecases.seal_due_students(uow, SIGNER) == []          # idempotent
    (env,) = [e for e in uow.events if e["event"] == events.SEALED]
    assert env["tenant"] == "day" and env["payload"]["student_id"] == old[0]
    assert env["payload"]["student_user_id"] == old[1]
    m = usecases.get_sealing_manifest(uow, who(), old[0])
    assert domain.verify(m["manifest"], m["signature"], KEY.public_key())
    assert m["manifest"]["digest"] == env["payload"]["manifest_digest"]
    tampered = dict(m["manifest"], applied_on="2021-11-29")
    assert not domain.verify(tampered, m["signature"], KEY.public_key())
    assert not domain.verify(m["manifest"], m["signature"], Ed25519PrivateKey.generate().public_key())
    # another tenant's registrar sees nothing of it
    with pytest.raises(Exception) as e:
        usecases.get_sealing_manifest(uow, who(tenant="ce"), old[0])
    assert e.value.code == "not_found"
    assert usecases.get_sealing_status(uow, who(tenant="ce"), old[0])["sealed"] is False
    # a sealed student's date is final
    with pytest.raises(Exception) as e:
        usecases.record_application_date(uow, who(), *old, "2021-11-01")
    assert e.value.code == "student_sealed"
    clock_at(dt.date(2026, 12, 1))
    assert usecases.seal_due_students(uow, SIGNER) == [("day", recent[0])]


def test_the_manifest_lists_what_submission_holds(clock_at):
    from submission import usecases as selection
    clock_at(dt.date(2026, 11, 30))
    uow = FakeSubmissionUnitOfWork()
    sid, uid = student()
    selection.record_certified(uow, events.load_event(events.CERTIFIED, events.make_event(events.CERTIFIED, "day", {
        "task_id": str(uuid.uuid4()), "outcome_id": str(uuid.uuid4()), "student_id": sid,
        "student_user_id": uid, "section_id": str(uuid.uuid4()), "school_year": 110, "semester": 1,
        "course_code": "C1", "subject_name": "程式設計", "description": "d", "sha256": "a" * 64,
        "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": events.utcnow()})))
    usecases.record_application_date(uow, who(), sid, uid, "2021-06-01")
    usecases.seal_due_students(uow, SIGNER)
    m = usecases.get_sealing_manifest(uow, who(), sid)["manifest"]
    assert [o["sha256"] for o in m["certified_outcomes"]] == ["a" * 64]
    assert m["student_id"] == sid and m["tenant"] == "day" and m["not_included"]


# ---------------------------------------------------------------- audited reads

def sealed_student(clock_at):
    clock_at(dt.date(2026, 11, 30))
    uow = FakeSubmissionUnitOfWork()
    sid, uid = student()
    usecases.record_application_date(uow, who(), sid, uid, "2021-01-01")
    usecases.seal_due_students(uow, SIGNER)
    return uow, sid


def test_a_read_needs_the_principal_and_the_executive_secretary(clock_at):
    uow, sid = sealed_student(clock_at)
    reg = who()
    with pytest.raises(Exception) as e:
        usecases.request_sealed_read(uow, reg, sid, "  ")
    assert e.value.code == "read_reason_required"
    req = usecases.request_sealed_read(uow, reg, sid, "學生申請補發在校成績證明")
    assert req["requested_by"] == reg.user_id and req["approvals"] == [] and req["expires_at"] is None
    # the registrar cannot approve; a teacher cannot; another tenant's principal does not find it
    for caller, code in ((reg, "not_allowed"), (who("subject_teacher"), "not_allowed"),
                         (who("principal", tenant="ce"), "not_found")):
        with pytest.raises(Exception) as e:
            usecases.approve_sealed_read(uow, caller, req["id"])
        assert e.value.code == code
    principal = who("principal")
    one = usecases.approve_sealed_read(uow, principal, req["id"])
    assert [a["role"] for a in one["approvals"]] == ["principal"] and one["expires_at"] is None
    assert not [e for e in uow.events if e["event"] == events.SEALED_READ_APPROVED]
    with pytest.raises(Exception) as e:     # the same role twice
        usecases.approve_sealed_read(uow, who("principal"), req["id"])
    assert e.value.code == "already_decided"
    done = usecases.approve_sealed_read(uow, who("executive_secretary"), req["id"])
    assert done["expires_at"] and {a["role"] for a in done["approvals"]} == {"principal", "executive_secretary"}
    (env,) = [e for e in uow.events if e["event"] == events.SEALED_READ_APPROVED]
    assert env["payload"]["reader_user_id"] == reg.user_id and env["payload"]["student_id"] == sid
    from portfolio_common import clock
    left = dt.datetime.fromisoformat(env["payload"]["expires_at"]) - clock.now()
    assert dt.timedelta(days=6) < left <= dt.timedelta(days=7)
    assert [r["id"] for r in usecases.list_sealed_read_requests(uow, principal)] == [req["id"]]
    assert usecases.list_sealed_read_requests(uow, who("principal", tenant="ce")) == []


def test_one_person_cannot_approve_for_both_roles_nor_their_own_request(clock_at):
    uow, sid = sealed_student(clock_at)
    both = caller_mod.Caller(user_id=str(uuid.uuid4()), username="p", tenant="day",
                             roles=("principal", "executive_secretary", "registrar"))
    req = usecases.request_sealed_read(uow, who(), sid, "查核")
    usecases.approve_sealed_read(uow, both, req["id"])
    with pytest.raises(Exception) as e:
        usecases.approve_sealed_read(uow, both, req["id"])
    assert e.value.code == "not_allowed"
    own = usecases.request_sealed_read(uow, both, sid, "查核")
    with pytest.raises(Exception) as e:
        usecases.approve_sealed_read(uow, both, own["id"])
    assert e.value.code == "not_allowed"


def test_only_a_sealed_student_of_the_tenant_can_be_requested(clock_at):
    uow, sid = sealed_student(clock_at)
    for caller, student_id in ((who(tenant="ce"), sid), (who(), str(uuid.uuid4()))):
        with pytest.raises(Exception) as e:
            usecases.request_sealed_read(uow, caller, student_id, "查核")
        assert e.value.code == "student_not_sealed"
