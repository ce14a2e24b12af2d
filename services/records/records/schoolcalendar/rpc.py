"""nameko entrypoints of the calendar copy (mixed into RecordsService)."""
from portfolio_common.nameko_kit import rpc
from portfolio_common.permissions import allowed

from . import usecases


class Rpc:
    @rpc
    @allowed("registrar", "system")
    def get_calendar_copy(self, caller, school_year, semester):
        """The calendar-changed payload records holds for one term of the caller's tenant, or
        None; its `version` tells whether the copy caught up with submission's calendar."""
        with self.platform.uow() as uow:
            return usecases.calendar_copy(uow, caller, school_year, semester)
