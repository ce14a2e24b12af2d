"""The gateway's current term: from submission's calendar, cached a few seconds per tenant,
and "not set" is an answer (行事曆未設定), never a 500."""
from unittest import mock

import pytest
from flask import Flask
from nameko.exceptions import RemoteError

from gateway import schoolcalendar
from gateway.errors import ApiError, to_api_error

TERM = {"school_year": 115, "semester": 1}


@pytest.fixture
def ctx():
    app = Flask(__name__)
    app.config["CALENDAR_CACHE_SECONDS"] = 60
    schoolcalendar.forget()
    with app.test_request_context():
        yield
    schoolcalendar.forget()


def as_user(tenant):
    return mock.patch("gateway.schoolcalendar.auth.current_user", lambda: {"tenant": tenant})


def test_the_answer_is_cached_per_tenant_and_forgotten_on_a_change(ctx):
    calls = []
    with mock.patch("gateway.schoolcalendar.rpc", lambda *a: calls.append(a) or TERM), as_user("day"):
        assert schoolcalendar.year_semester() == (115, 1)
        assert schoolcalendar.current() == TERM and len(calls) == 1
        with as_user("ce"):
            schoolcalendar.current()
        assert len(calls) == 2
        schoolcalendar.forget("day")
        schoolcalendar.current()
        assert len(calls) == 3


def test_no_term_today_is_an_answer_not_an_error(ctx):
    def not_set(*a):
        raise RemoteError("CalendarNotSet", "[calendar_not_set] 學校尚未設定本學期的行事曆")
    with mock.patch("gateway.schoolcalendar.rpc", not_set), as_user("day"):
        assert schoolcalendar.term_or_none() == (None, None)
        with pytest.raises(ApiError) as e:
            schoolcalendar.year_semester()
    assert (e.value.code, e.value.status) == ("calendar_not_set", 409) and "行事曆" in e.value.zh


def test_a_service_failure_is_not_taken_for_no_calendar(ctx):
    def down(*a):
        raise RemoteError("Boom", "x")
    with mock.patch("gateway.schoolcalendar.rpc", down), as_user("day"), pytest.raises(RemoteError):
        schoolcalendar.current()


def test_window_closed_shows_the_services_sentence_with_the_dates():
    err = to_api_error(RemoteError("WindowClosed", "[window_closed] 上傳期間為 2026-09-01 至 2027-02-05，今天（2027-02-06）不在期間內"))
    assert err.status == 409 and "2027-02-05" in err.body()["error"]["message_zh"]


# --- PUT /api/v1/calendar/<year>/<semester>: the body schema --------------------------------

def _get_body():
    """What GET /api/v1/calendar/115/1 answers (TermOut's shape)."""
    return {"school_year": 115, "semester": 1, "starts_on": "2026-08-01", "ends_on": "2027-01-31",
            "upload": {"opens_on": "2026-09-01", "closes_on": "2027-01-10"},
            "certification": {"opens_on": "2026-09-01", "closes_on": "2027-01-17"},
            "selection": {"opens_on": "2027-01-18", "closes_on": "2027-01-24"},
            "national_deadline": "2027-02-10", "school_completion_on": "2027-01-27",
            "limits": {"outcome_uploads_per_semester": 6, "outcomes_selected_per_year": 6,
                       "performances_selected_per_year": 10},
            "version": 3, "changed_at": "2026-11-01T00:00:00+08:00", "today": "2026-11-30", "current": True,
            "windows": {"upload": {"opens_on": "2026-09-01", "closes_on": "2027-01-10", "state": "open"}},
            "expected_version": 3}


def test_the_shape_get_answers_is_accepted_back_with_its_changes():
    """A client that sends back what it read, a value changed, gets that change applied (it was
    silently dropped: 200 changed:false for nested upload/limits, even for invalid values)."""
    from gateway.calendar_api import TermIn
    body = _get_body()
    body["upload"]["closes_on"] = "2027-01-05"
    body["limits"]["outcome_uploads_per_semester"] = -1  # passed on: submission refuses it by field
    got = TermIn().load(body)
    assert got["upload_closes_on"] == "2027-01-05" and got["upload_opens_on"] == "2026-09-01"
    assert got["outcome_uploads_per_semester"] == -1 and got["performances_selected_per_year"] == 10
    assert got["expected_version"] == 3
    for read_only in ("version", "today", "windows", "school_completion_on", "school_year", "current"):
        assert read_only not in got


@pytest.mark.parametrize("body", [
    {"upload_close_on": "2027-01-05"},                 # a misspelt field
    {"upload": {"closes": "2027-01-05"}},              # a misspelt edge of a window
    {"upload": "2027-01-05"},                          # a window that is not an object
    {"limits": 6},                                     # limits that are not an object
    {"limits": {"uploads": 6}},                        # an unknown limit
])
def test_a_field_the_calendar_does_not_have_is_refused_by_name_not_dropped(body):
    from marshmallow import ValidationError

    from gateway.calendar_api import TermIn
    with pytest.raises(ValidationError) as err:
        TermIn().load(body)
    assert err.value.messages  # 422 invalid with the field named (errors.to_api_error)


def test_only_a_lowered_limit_warns_and_the_warning_names_old_and_new():
    from gateway.calendar_pages import lowered_limit_warnings
    before = {"outcome_uploads_per_semester": 6, "outcomes_selected_per_year": 6, "performances_selected_per_year": 10}
    assert lowered_limit_warnings(before, {"outcome_uploads_per_semester": "6"}) == []
    assert lowered_limit_warnings(before, {"outcome_uploads_per_semester": "8"}) == []
    assert lowered_limit_warnings({}, {"outcome_uploads_per_semester": "3"}) == []      # a new term
    assert lowered_limit_warnings(before, {"outcome_uploads_per_semester": "三"}) == []  # set_term refuses it
    (w,) = lowered_limit_warnings(before, {"performances_selected_per_year": "8", "outcomes_selected_per_year": "6"})
    assert "每學年可勾選多元表現" in w and "由 10 降為 8" in w and "不能再新增" in w
