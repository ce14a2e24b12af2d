"""The school calendar: rules (domain) and use cases over a fake unit of work."""
import datetime as dt
import json
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common import events
from portfolio_common.errors import Invalid, NotAllowed
from portfolio_common.windows import CalendarNotSet
from submission.schoolcalendar import domain, usecases
from submission.schoolcalendar.domain import TermInvalid
from submission.unit_of_work import FakeSubmissionUnitOfWork

REGISTRAR = str(uuid.uuid4())


def who(role="registrar", tenant="day", uid=REGISTRAR):
    return caller_mod.Caller(user_id=uid, username=f"{role}_{tenant}", tenant=tenant, roles=(role,))


TERM_115_1 = {
    "starts_on": "2026-08-01", "ends_on": "2027-01-31",
    "upload_opens_on": "2026-09-01", "upload_closes_on": "2027-02-05",
    "certification_opens_on": "2026-09-01", "certification_closes_on": "2027-02-19",
    "selection_opens_on": "2027-07-01", "selection_closes_on": "2027-08-31",
    "national_deadline": "2027-09-15",
}
TERM_115_2 = dict(TERM_115_1, starts_on="2027-02-01", ends_on="2027-07-31", upload_opens_on="2027-02-15",
                  upload_closes_on="2027-07-31", certification_opens_on="2027-02-15",
                  certification_closes_on="2027-08-10")


def problems(exc_info):
    return {(p["field"], p["code"]) for p in exc_info.value.details["problems"]}


@pytest.fixture
def uow():
    return FakeSubmissionUnitOfWork()


@pytest.fixture
def today(monkeypatch):
    """Move the one clock (PORTFOLIO_CLOCK_OFFSET_SECONDS) so that today in Taiwan is `day`."""
    def move(day: dt.date):
        from portfolio_common import clock
        monkeypatch.setenv("PORTFOLIO_CLOCK_OFFSET_SECONDS", "0")
        now = clock.now().astimezone(clock.SCHOOL_TZ)
        target = dt.datetime.combine(day, dt.time(12), tzinfo=clock.SCHOOL_TZ)
        monkeypatch.setenv("PORTFOLIO_CLOCK_OFFSET_SECONDS", str(int((target - now).total_seconds())))
        assert clock.today_in_school() == day
    return move


# ---------------------------------------------------------------- domain

def test_the_completion_date_is_two_weeks_before_the_national_deadline():
    term, limits = domain.build_term(115, 1, TERM_115_1)
    assert term.school_completion_on == dt.date(2027, 9, 1)
    assert limits == domain.Limits(6, 6, 10)  # this school's values


def test_a_window_closing_before_it_opens_is_refused_by_field():
    with pytest.raises(TermInvalid) as e:
        domain.build_term(115, 1, dict(TERM_115_1, upload_closes_on="2026-08-31"))
    assert ("upload_closes_on", "window_inverted") in problems(e)
    assert e.value.code == "fields_invalid"


def test_dates_far_outside_the_school_year_are_refused_with_the_range():
    with pytest.raises(TermInvalid) as e:
        domain.build_term(115, 1, dict(TERM_115_1, upload_opens_on="2025-09-01", starts_on="2036-08-01"))
    found = problems(e)
    assert ("upload_opens_on", "window_out_of_range") in found and ("starts_on", "window_out_of_range") in found
    params = next(p["params"] for p in e.value.details["problems"] if p["field"] == "upload_opens_on")
    assert params == {"first": "2026-07-01", "last": "2027-11-28"}


def test_selection_ending_after_the_school_completion_date_is_refused():
    with pytest.raises(TermInvalid) as e:
        domain.build_term(115, 1, dict(TERM_115_1, selection_closes_on="2027-09-02"))
    assert problems(e) == {("selection_closes_on", "selection_after_completion")}
    assert e.value.details["problems"][0]["params"] == {"completion": "2027-09-01"}
    # ending on the completion date itself is fine
    domain.build_term(115, 1, dict(TERM_115_1, selection_closes_on="2027-09-01"))


def test_certification_must_not_close_before_uploads_close():
    with pytest.raises(TermInvalid) as e:
        domain.build_term(115, 1, dict(TERM_115_1, certification_closes_on="2027-02-04"))
    assert problems(e) == {("certification_closes_on", "certification_before_upload")}


@pytest.mark.parametrize("value", ["2027/02/05", "1160205", "明天", "2027-02-30"])
def test_a_date_that_is_not_an_iso_date_is_refused(value):
    with pytest.raises(TermInvalid) as e:
        domain.build_term(115, 1, dict(TERM_115_1, upload_closes_on=value))
    assert problems(e) == {("upload_closes_on", "calendar_date_invalid")}


def test_a_new_term_needs_every_date_and_unknown_fields_are_refused():
    with pytest.raises(TermInvalid) as e:
        domain.build_term(115, 1, {"starts_on": "2026-08-01", "window": "x"})
    found = problems(e)
    assert ("window", "field_unknown") in found and ("national_deadline", "field_missing") in found


@pytest.mark.parametrize("field,value", [("outcomes_selected_per_year", 7), ("performances_selected_per_year", 11),
                                         ("outcome_uploads_per_semester", 0), ("outcome_uploads_per_semester", "六")])
def test_limits_beyond_the_national_rules_or_not_numbers_are_refused(field, value):
    with pytest.raises(TermInvalid) as e:
        domain.build_term(115, 1, dict(TERM_115_1, **{field: value}))
    assert problems(e) == {(field, "limit_invalid")}


@pytest.mark.parametrize("year", ["一一五", "2026", "", None, "115.5"])
def test_a_school_year_that_is_not_a_roc_year_number_is_refused(year):
    with pytest.raises(Invalid) as e:
        domain.school_year_of(year)
    assert e.value.code == "school_year_invalid"


def test_window_states_count_today_as_a_day_left():
    term, _ = domain.build_term(115, 1, TERM_115_1)
    s = domain.window_states(term, dt.date(2027, 2, 5))
    assert s["upload"] == {"opens_on": "2026-09-01", "closes_on": "2027-02-05", "state": "open",
                           "days_left": 1, "days_to_open": None}
    assert s["selection"]["state"] == "upcoming" and s["selection"]["days_to_open"] == 146
    assert domain.window_states(term, dt.date(2027, 2, 6))["upload"]["state"] == "closed"


# ---------------------------------------------------------------- use cases

def test_setting_a_term_keeps_the_change_and_publishes_the_whole_term(uow):
    res = usecases.set_term(uow, who(), 115, 1, TERM_115_1)
    assert res["changed"] and res["version"] == 1 and res["school_completion_on"] == "2027-09-01"
    (env,) = uow.events
    assert env["event"] == "calendar-changed" and env["tenant"] == "day"
    p = env["payload"]
    assert p["upload"] == {"opens_on": "2026-09-01", "closes_on": "2027-02-05"} and p["version"] == 1
    assert p["changed_by"] == REGISTRAR and p["limits"]["outcome_uploads_per_semester"] == 6
    (change,) = uow.calendar.changes("day", 115, 1)
    assert change["before"] is None and change["after"]["national_deadline"] == "2027-09-15"
    assert change["changed_by"] == REGISTRAR and change["changed_by_username"] == "registrar_day"


def test_a_moved_national_deadline_moves_the_completion_date_and_is_attributed(uow):
    usecases.set_term(uow, who(), 115, 1, TERM_115_1)
    other = str(uuid.uuid4())
    res = usecases.set_term(uow, who(uid=other), 115, 1, {"national_deadline": "2027-09-30"}, expected_version=1)
    assert res["school_completion_on"] == "2027-09-16" and res["version"] == 2
    assert uow.events[-1]["payload"]["school_completion_on"] == "2027-09-16"
    last = usecases.list_calendar_changes(uow, who(), 115, 1)[0]
    assert last["before"]["school_completion_on"] == "2027-09-01" and last["after"]["school_completion_on"] == "2027-09-16"
    assert last["changed_by"] == other and last["version"] == 2


def test_saving_the_same_term_again_changes_nothing(uow):
    usecases.set_term(uow, who(), 115, 1, TERM_115_1)
    res = usecases.set_term(uow, who(), 115, 1, TERM_115_1)
    assert not res["changed"] and res["version"] == 1 and len(uow.events) == 1


def test_a_stale_edit_is_refused_and_nothing_changes(uow):
    usecases.set_term(uow, who(), 115, 1, TERM_115_1)
    usecases.set_term(uow, who(), 115, 1, {"upload_closes_on": "2027-02-06"})
    with pytest.raises(usecases.CalendarStale):
        usecases.set_term(uow, who(), 115, 1, {"upload_closes_on": "2027-02-07"}, expected_version=1)
    assert usecases.get_calendar(uow, who(), 115, 1)["upload"]["closes_on"] == "2027-02-06"


def test_changing_the_years_limits_republishes_both_terms(uow):
    usecases.set_term(uow, who(), 115, 1, TERM_115_1)
    usecases.set_term(uow, who(), 115, 2, TERM_115_2)
    uow.events.clear()
    usecases.set_term(uow, who(), 115, 2, {"outcome_uploads_per_semester": 3})
    assert sorted((e["payload"]["semester"], e["payload"]["version"]) for e in uow.events) == [(1, 2), (2, 2)]
    assert all(e["payload"]["limits"]["outcome_uploads_per_semester"] == 3 for e in uow.events)
    assert usecases.get_calendar(uow, who(), 115, 1)["limits"]["outcome_uploads_per_semester"] == 3


def test_a_refused_term_stores_and_publishes_nothing(uow):
    with pytest.raises(TermInvalid):
        usecases.set_term(uow, who(), 115, 1, dict(TERM_115_1, selection_closes_on="2027-09-10"))
    assert uow.calendar.terms("day") == [] and uow.events == [] and uow.calendar.change_rows == []


@pytest.mark.parametrize("role", ["student", "subject_teacher", "principal", "system_admin"])
def test_only_the_registrar_edits_the_calendar(uow, role):
    with pytest.raises(NotAllowed):
        usecases.set_term(uow, who(role), 115, 1, TERM_115_1)
    with pytest.raises(NotAllowed):
        usecases.list_calendar_changes(uow, who(role), 115, 1)


def test_the_other_tenants_calendar_is_untouched_and_invisible(uow, today):
    today(dt.date(2026, 11, 29))
    usecases.set_term(uow, who(), 115, 1, TERM_115_1)
    with pytest.raises(CalendarNotSet):
        usecases.get_calendar(uow, who("student", tenant="ce"))
    assert usecases.list_calendar(uow, who("registrar", tenant="ce"))["terms"] == []
    usecases.set_term(uow, who(tenant="ce"), 115, 1, dict(TERM_115_1, upload_closes_on="2027-01-20"))
    assert usecases.get_calendar(uow, who("student"))["upload"]["closes_on"] == "2027-02-05"
    assert usecases.get_calendar(uow, who("student", tenant="ce"))["upload"]["closes_on"] == "2027-01-20"


def test_the_clock_offset_moves_today_and_the_current_term(uow, today):
    usecases.set_term(uow, who(), 115, 1, TERM_115_1)
    usecases.set_term(uow, who(), 115, 2, TERM_115_2)
    today(dt.date(2026, 11, 29))
    cur = usecases.get_calendar(uow, who("student"))
    assert (cur["school_year"], cur["semester"], cur["today"]) == (115, 1, "2026-11-29")
    assert cur["windows"]["upload"]["state"] == "open" and cur["windows"]["upload"]["days_left"] == 69
    today(dt.date(2027, 3, 1))
    cur = usecases.get_calendar(uow, who("student"))
    assert (cur["school_year"], cur["semester"]) == (115, 2)
    assert usecases.list_calendar(uow, who("student"))["current"] == [115, 2]
    today(dt.date(2027, 8, 15))
    with pytest.raises(CalendarNotSet):
        usecases.get_calendar(uow, who("student"))


def test_the_payload_is_the_published_contract(uow):
    usecases.set_term(uow, who(), 115, 1, TERM_115_1)
    env = uow.events[0]
    canon = json.load(open(__file__.split("services/")[0] + "tests/contract/payloads/calendar-changed.json"))
    assert set(env["payload"]) == set(canon["payload"])
    events.load_event(events.CALENDAR_CHANGED, env)


def test_every_problem_of_a_form_is_reported_at_once():
    with pytest.raises(TermInvalid) as e:
        domain.build_term(115, 1, dict(TERM_115_1, upload_opens_on="2027-01-10", upload_closes_on="2026-12-01",
                                       certification_closes_on="明天", outcomes_selected_per_year=9))
    assert problems(e) == {("upload_closes_on", "window_inverted"), ("certification_closes_on", "calendar_date_invalid"),
                           ("outcomes_selected_per_year", "limit_invalid")}
