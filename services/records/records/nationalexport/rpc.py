"""nameko entrypoint of the national export fields (sealed: it answers national IDs)."""
from portfolio_common.permissions import allowed

from portfolio_common.nameko_kit import rpc

from . import usecases


class Rpc:
    @rpc
    @allowed(*usecases.EXPORT_ROLES)
    def national_export_fields(self, caller, school_year, student_ids, requested_by=None, semester=None):
        """See nationalexport.usecases.national_export_fields: the rosters' fields of the
        tenant's students (with `semester`, every student of that semester too), national IDs
        included (sealed RPC; system:submission or system)."""
        with self.platform.uow() as uow:
            return usecases.national_export_fields(uow, self.platform.vault, caller, school_year,
                                                   student_ids, requested_by, semester)
