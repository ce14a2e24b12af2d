"""nameko entrypoint of a student's transfer export (sealed: it answers the national ID)."""
from portfolio_common.permissions import allowed

from portfolio_common.nameko_kit import rpc

from . import usecases


class Rpc:
    @rpc
    @allowed(*usecases.EXPORT_ROLES)
    def transfer_export_fields(self, caller, student_id=None, student_user_id=None, requested_by=None):
        """See transfer.usecases.transfer_export_fields: one student's whole record, national ID
        included (sealed RPC; system:submission or system); not_found, invalid."""
        with self.platform.uow() as uow:
            return usecases.transfer_export_fields(uow, self.platform.vault, caller, student_id,
                                                   student_user_id, requested_by)
