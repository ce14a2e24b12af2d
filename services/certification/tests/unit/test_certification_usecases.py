"""Use cases with a fake unit of work: no database, no broker."""
import uuid

import pytest

from certification import usecases
from certification.unit_of_work import FakeCertificationUnitOfWork
from portfolio_common import caller as caller_mod
from portfolio_common import events

TEACHER = str(uuid.uuid4())


def teacher(uid=TEACHER, tenant="day"):
    return caller_mod.Caller(user_id=uid, username="t", tenant=tenant, roles=("subject_teacher",))


def uploaded(tenant="day", teacher_id=TEACHER):
    return events.load_event(events.OUTCOME_UPLOADED, events.make_event(events.OUTCOME_UPLOADED, tenant, {
        "outcome_id": str(uuid.uuid4()), "file_id": str(uuid.uuid4()), "student_id": str(uuid.uuid4()),
        "student_user_id": str(uuid.uuid4()), "section_id": str(uuid.uuid4()), "teacher_user_id": teacher_id,
        "school_year": 115, "semester": 1, "course_code": "C1", "subject_name": "程式設計", "description": "d",
        "filename": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": "0" * 64,
        "uploaded_at": events.utcnow()}))


@pytest.fixture
def uow():
    u = FakeCertificationUnitOfWork()
    for env in [uploaded() for _ in range(3)] + [uploaded(teacher_id=str(uuid.uuid4())), uploaded("ce")]:
        usecases.create_task(u, env)
    return u


def test_an_upload_creates_one_task_even_when_redelivered(uow):
    env = uploaded()
    assert usecases.create_task(uow, env) and not usecases.create_task(uow, env)
    assert len(uow.tasks.tasks) == 6


def test_certify_many_emits_one_certified_each(uow):
    ids = [str(t["id"]) for t in usecases.list_queue(uow, teacher())]
    res = usecases.certify(uow, teacher(), ids)
    assert sorted(res["certified"]) == sorted(ids) and uow.committed
    assert [e["event"] for e in uow.events] == ["certified"] * 3
    assert {e["payload"]["certified_by"] for e in uow.events} == {TEACHER}
    assert usecases.list_queue(uow, teacher()) == []


def test_per_item_refusals_do_not_stop_the_rest(uow):
    mine = str(usecases.list_queue(uow, teacher())[0]["id"])
    others = [str(t["id"]) for t in uow.tasks.tasks.values()
              if str(t["teacher_user_id"]) != TEACHER or t["tenant"] != "day"]  # another's, another tenant's
    res = usecases.certify(uow, teacher(), [mine, *others, "not-an-id"])
    assert res["certified"] == [mine]
    assert [r["code"] for r in res["refused"]] == ["not_found"] * 3
    # the other teacher's item is audited as a refusal (the other tenant's reads as missing)
    assert sorted(e["event"] for e in uow.events) == ["access-refused", "certified"]


def test_return_emits_the_reason(uow):
    tid = str(usecases.list_queue(uow, teacher())[0]["id"])
    usecases.return_outcomes(uow, teacher(), [tid], "請補上封面")
    (event,) = uow.events
    assert event["event"] == "certification-returned" and event["payload"]["reason"] == "請補上封面"


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
    tid = str(usecases.list_queue(uow, teacher())[0]["id"])
    res = usecases.certify(uow, teacher(), [tid, tid, tid])
    assert res["certified"] == [tid] and len(uow.events) == 1 and len(uow.tasks.decisions) == 1


def test_a_proxy_certifies_for_the_teacher_and_it_is_recorded():
    uow = FakeCertificationUnitOfWork()
    usecases.create_task(uow, uploaded())
    proxy = caller_mod.Caller(user_id=str(uuid.uuid4()), username="p", tenant="day", roles=("subject_teacher",),
                              proxy_for=(TEACHER,))
    (task,) = usecases.list_queue(uow, proxy)
    assert task["acting_for"] == TEACHER
    usecases.certify(uow, proxy, [str(task["id"])])
    (event,) = uow.events
    assert event["payload"]["certified_by"] == proxy.user_id and event["payload"]["acting_for"] == TEACHER
    assert uow.tasks.decisions[0]["acting_for"] == TEACHER
    stranger = caller_mod.Caller(user_id=str(uuid.uuid4()), username="x", tenant="day", roles=("subject_teacher",))
    assert usecases.list_queue(uow, stranger) == []
