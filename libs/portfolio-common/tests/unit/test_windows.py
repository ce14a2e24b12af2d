import datetime as dt

import pytest

from portfolio_common import windows
from portfolio_common.errors import WindowClosed

D = dt.date


def test_a_window_holds_both_its_first_and_last_day():
    w = windows.Window.of("upload", {"opens_on": "2026-09-01", "closes_on": "2027-02-05"})
    assert w.holds(D(2026, 9, 1)) and w.holds(D(2027, 2, 5))
    assert not w.holds(D(2026, 8, 31)) and not w.holds(D(2027, 2, 6))


def test_a_closed_window_names_its_dates_in_the_refusal():
    w = windows.Window.of("certification", {"opens_on": D(2026, 9, 1), "closes_on": D(2027, 2, 19)})
    with pytest.raises(WindowClosed) as exc:
        w.check(D(2027, 2, 20))
    assert exc.value.code == "window_closed"
    assert "2026-09-01" in exc.value.text and "2027-02-19" in exc.value.text and "認證" in exc.value.text
    assert exc.value.details["window"] == "certification"


def test_today_comes_from_the_platform_clock(monkeypatch):
    w = windows.Window.of("upload", {"opens_on": "2000-01-01", "closes_on": "2000-12-31"})
    with pytest.raises(WindowClosed):
        w.check()
    now = dt.datetime.now(dt.timezone.utc)
    back = int((now - dt.datetime(2000, 6, 1, tzinfo=dt.timezone.utc)).total_seconds())
    monkeypatch.setenv("PORTFOLIO_CLOCK_OFFSET_SECONDS", str(-back))
    w.check()


def test_the_school_completes_two_weeks_before_the_national_deadline():
    assert windows.school_completion_on(D(2027, 9, 15)) == D(2027, 9, 1)


def test_the_current_term_is_the_one_whose_days_hold_today():
    terms = [{"starts_on": "2026-08-01", "ends_on": "2027-01-31", "semester": 1},
             {"starts_on": "2027-02-01", "ends_on": "2027-07-31", "semester": 2}]
    assert windows.current_term(terms, D(2027, 2, 1))["semester"] == 2
    with pytest.raises(windows.CalendarNotSet) as exc:
        windows.current_term(terms, D(2027, 8, 1))
    assert exc.value.code == "calendar_not_set"
