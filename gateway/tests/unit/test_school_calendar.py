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
