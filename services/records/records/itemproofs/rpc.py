"""nameko entrypoints of items' proof files (records/itemproofs/usecases.py)."""
from portfolio_common import events
from portfolio_common.nameko_kit import reliable_event_handler, rpc
from portfolio_common.permissions import allowed

from . import usecases


class Rpc:
    @rpc
    @allowed("organising_unit", "system")
    def issue_item_proof_ticket(self, caller, kind, item_id):
        """{item_kind, item_id, attempt, ticket}: the upload ticket of an item's proof file for the
        files service (15 min). kind: an item kind with a proof (today `competition`). Errors:
        not_allowed (not the kind's writer), not_found, item_voided."""
        with self.platform.uow() as uow:
            return usecases.issue_item_proof_ticket(uow, caller, kind, item_id, self.platform.ticket_key)

    @rpc
    @allowed("organising_unit", "homeroom_teacher", "student", "system")
    def grant_item_proof_read(self, caller, kind, item_id):
        """{file_id, filename, grant}: for a reader of the item, a 60 s grant the files service
        needs to answer a download link of its proof. Errors: not_found (no such item, not
        yours to read, or no proof yet)."""
        with self.platform.uow() as uow:
            return usecases.grant_item_proof_read(uow, caller, kind, item_id, self.platform.ticket_key)

    @reliable_event_handler("files", events.PROOF_UPLOADED)
    def handle_proof_uploaded(self, body):
        env = events.load_event(events.PROOF_UPLOADED, body)
        with self.platform.uow() as uow:
            usecases.attach_item_proof(uow, env)
