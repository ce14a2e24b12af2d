"""Windows of the school calendar, free of frameworks and I/O (ARCHITECTURE.md "calendar").

The submission service owns each tenant's calendar per term and publishes `calendar-changed`
(portfolio_common.events.CalendarChanged) with the whole term; other services keep a copy and
ask this module whether an action is inside its window. Dates are Taiwan dates (clock.SCHOOL_TZ)
and a window is open from `opens_on` through `closes_on`, both inclusive.

Errors: WindowClosed (code `window_closed`, HTTP 409) with the window's dates in the message,
CalendarNotSet (code `calendar_not_set`, HTTP 409) when no term of the tenant holds today.
"""
import datetime as dt
from dataclasses import dataclass

from . import clock
from .errors import PortfolioError, WindowClosed

COMPLETION_LEAD = dt.timedelta(days=14)   # DOMAIN.md: the school completes two weeks before
WINDOW_NAMES = {"upload": "上傳", "certification": "認證", "selection": "勾選"}


class CalendarNotSet(PortfolioError):
    code = "calendar_not_set"
    http_status = 409


def school_completion_on(national_deadline: dt.date) -> dt.date:
    """The school's completion date: two weeks before the national deadline (DOMAIN.md)."""
    return national_deadline - COMPLETION_LEAD


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


@dataclass(frozen=True)
class Window:
    name: str            # upload | certification | selection
    opens_on: dt.date
    closes_on: dt.date   # inclusive

    @classmethod
    def of(cls, name, data: dict) -> "Window":
        return cls(name, _date(data["opens_on"]), _date(data["closes_on"]))

    def holds(self, day: dt.date) -> bool:
        return self.opens_on <= day <= self.closes_on

    def check(self, day: dt.date = None) -> None:
        """Raise WindowClosed unless `day` (default: today in Taiwan) is inside the window."""
        day = day or clock.today_in_school()
        if not self.holds(day):
            label = WINDOW_NAMES.get(self.name, self.name)
            raise WindowClosed(
                f"{label}期間為 {self.opens_on.isoformat()} 至 {self.closes_on.isoformat()}，今天（{day.isoformat()}）不在期間內",
                window=self.name, opens_on=self.opens_on.isoformat(), closes_on=self.closes_on.isoformat())


def current_term(terms, day: dt.date = None):
    """The term (a calendar-changed payload or a row with starts_on/ends_on) whose days hold
    `day` (default today in Taiwan); CalendarNotSet when none does."""
    day = day or clock.today_in_school()
    for term in terms:
        if _date(term["starts_on"]) <= day <= _date(term["ends_on"]):
            return term
    raise CalendarNotSet("學校尚未設定本學期的行事曆，請洽教務處（進修部：教學組）")
