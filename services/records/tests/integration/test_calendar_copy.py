"""records' event-fed calendar copy and the upload ticket's window and limit (real PostgreSQL)."""
import datetime as dt

import pytest

from portfolio_common import clock
from records import usecases
from records.schoolcalendar import usecases as calendar
from tests.support.calendar import calendar_changed, open_records_calendar

from .test_records_rules import VAULT, person, system, term


@pytest.fixture
def db(service_db):
    db = service_db("records")
    with db.uow() as uow:
        assert usecases.import_school(uow, VAULT, system("day"), term())["refused"] == []
    return db


def section_id(db):
    return str(db.rows("sections")[0]["id"])


def ticket(db, description="期末專題", who=None):
    with db.uow() as uow:
        return usecases.issue_outcome_ticket(uow, who or person("s1"), section_id(db), description, "tk")


def refused(db, description="期末專題"):
    with pytest.raises(Exception) as e:
        ticket(db, description)
    return e.value


def test_without_a_calendar_for_the_term_no_ticket_is_issued(db):
    err = refused(db)
    assert err.code == "calendar_not_set" and "115 學年度第 1 學期" in err.text
    assert db.rows("upload_reservations") == []


def test_outside_the_upload_window_the_ticket_is_refused_with_the_dates(db):
    today = clock.today_in_school()
    opens, closes = today - dt.timedelta(days=20), today - dt.timedelta(days=1)
    open_records_calendar(db, upload=(opens, closes))
    err = refused(db)
    assert err.code == "window_closed"
    assert opens.isoformat() in err.text and closes.isoformat() in err.text and today.isoformat() in err.text
    assert db.rows("upload_reservations") == []  # nothing held for a refused ticket
    open_records_calendar(db, version=2)          # the registrar reopens it
    assert ticket(db)["ticket"]


def test_the_window_opening_tomorrow_is_still_closed_today(db):
    today = clock.today_in_school()
    open_records_calendar(db, upload=(today + dt.timedelta(days=1), today + dt.timedelta(days=30)))
    assert refused(db).code == "window_closed"
    open_records_calendar(db, version=2, upload=(today, today))  # a window of today only holds today
    assert ticket(db)["ticket"]


def test_the_per_semester_limit_comes_from_the_calendar(db):
    open_records_calendar(db, uploads=2)
    ticket(db, "一")
    ticket(db, "二")
    err = refused(db, "三")
    assert err.code == "outcome_quota_exceeded" and "2 件" in err.text
    with db.uow() as uow:
        q = usecases.outcome_quota(uow, person("s1"), 115, 1)
    assert (q["limit"], q["held"], q["left"]) == (2, 2, 0)
    open_records_calendar(db, uploads=3, version=2)
    assert ticket(db, "三")["ticket"]


def test_an_older_or_repeated_calendar_changes_nothing(db):
    newer = calendar_changed(uploads=4, version=3)
    older = calendar_changed(uploads=1, version=2)
    with db.uow() as uow:
        assert calendar.record_calendar_changed(uow, newer)
    with db.uow() as uow:
        assert not calendar.record_calendar_changed(uow, newer)   # redelivered
    with db.uow() as uow:
        assert not calendar.record_calendar_changed(uow, older)   # arrived late
    (row,) = db.rows("calendar_terms")
    assert row["version"] == 3 and row["term"]["limits"]["outcome_uploads_per_semester"] == 4


def test_the_other_tenants_calendar_does_not_open_this_one(db):
    open_records_calendar(db, "ce")
    assert refused(db).code == "calendar_not_set"
    with db.uow() as uow:
        assert calendar.calendar_copy(uow, system("day"), 115, 1) is None
        assert calendar.calendar_copy(uow, system("ce"), 115, 1)["version"] == 1
