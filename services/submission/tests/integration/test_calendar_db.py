"""The school calendar on a real PostgreSQL: stored terms, the append-only change log, the
outbox row in the same transaction."""
import uuid

import pytest
import sqlalchemy as sa

from portfolio_common import caller as caller_mod
from submission.schoolcalendar import usecases
from submission.schoolcalendar.domain import TermInvalid

TERM = {"starts_on": "2026-08-01", "ends_on": "2027-01-31",
        "upload_opens_on": "2026-09-01", "upload_closes_on": "2027-02-05",
        "certification_opens_on": "2026-09-01", "certification_closes_on": "2027-02-19",
        "selection_opens_on": "2027-07-01", "selection_closes_on": "2027-08-31",
        "national_deadline": "2027-09-15"}


def registrar(tenant="day"):
    return caller_mod.Caller(user_id=str(uuid.uuid4()), username=f"reg_{tenant}", tenant=tenant, roles=("registrar",))


@pytest.fixture
def db(service_db):
    return service_db("submission")


def test_a_term_is_stored_versioned_and_published_in_one_transaction(db):
    reg = registrar()
    with db.uow() as uow:
        usecases.set_term(uow, reg, "115", "1", TERM)
    with db.uow() as uow:
        res = usecases.set_term(uow, reg, 115, 1, {"national_deadline": "2027-09-30"}, expected_version="1")
    assert res["version"] == 2 and res["school_completion_on"] == "2027-09-16"
    (row,) = db.rows("calendar_terms")
    assert row["version"] == 2 and str(row["national_deadline"]) == "2027-09-30"
    changes = sorted(db.rows("calendar_changes"), key=lambda r: r["version"])
    assert [c["version"] for c in changes] == [1, 2]
    assert changes[1]["before"]["national_deadline"] == "2027-09-15"
    assert changes[1]["after"]["school_completion_on"] == "2027-09-16"
    assert str(changes[1]["changed_by"]) == reg.user_id and changes[1]["changed_by_username"] == "reg_day"
    published = db.outbox_bodies("calendar-changed")
    assert [e["payload"]["version"] for e in published] == [1, 2]
    assert published[1]["payload"]["school_completion_on"] == "2027-09-16"
    assert db.rows("calendar_limits")[0]["outcome_uploads_per_semester"] == 6


def test_the_change_log_is_append_only_in_the_database(db):
    with db.uow() as uow:
        usecases.set_term(uow, registrar(), 115, 1, TERM)
    for sql in ("update calendar_changes set after = '{}'", "delete from calendar_changes"):
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as c:
            c.execute(sa.text(sql))
    assert len(db.rows("calendar_changes")) == 1


def test_a_refused_term_leaves_nothing_behind(db):
    with pytest.raises(TermInvalid), db.uow() as uow:
        usecases.set_term(uow, registrar(), 115, 1, dict(TERM, selection_closes_on="2027-09-14"))
    assert db.rows("calendar_terms") == [] and db.rows("calendar_changes") == [] \
        and db.outbox_bodies("calendar-changed") == []


def test_each_tenant_has_its_own_terms(db):
    with db.uow() as uow:
        usecases.set_term(uow, registrar("day"), 115, 1, TERM)
    with db.uow() as uow:
        usecases.set_term(uow, registrar("ce"), 115, 1, dict(TERM, upload_closes_on="2027-01-20"))
    with db.uow() as uow:
        day = usecases.list_calendar(uow, registrar("day"))["terms"]
        ce = usecases.list_calendar(uow, registrar("ce"))["terms"]
    assert [t["upload"]["closes_on"] for t in day] == ["2027-02-05"]
    assert [t["upload"]["closes_on"] for t in ce] == ["2027-01-20"]
    assert {e["tenant"] for e in db.outbox_bodies("calendar-changed")} == {"day", "ce"}
