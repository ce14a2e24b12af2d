"""nameko entrypoints of the history and of the import kinds' descriptions."""
from portfolio_common.permissions import allowed

from portfolio_common.nameko_kit import rpc

from .. import areas, importing
from . import usecases


class Rpc:
    @rpc
    @allowed("registrar", "system", "student", "homeroom_teacher", "consultation_teacher", "guidance_counsellor",
             "discipline_section", "activities_section", "organising_unit")
    def get_history(self, caller, entity, entity_id):
        """Who changed what and when, before and after, for a record the caller may read
        (records/history/usecases.py)."""
        with self.platform.uow() as uow:
            return usecases.get_history(uow, caller, entity, entity_id)

    @rpc
    @allowed("registrar", "system", "discipline_section", "activities_section", "elective_officer",
             "organising_unit")
    def list_import_kinds(self, caller):
        """The import kinds the caller's roles may use: [{kind, roles, key_field, columns:
        [{field, label, aliases, required, type, width}]}] (the gateway reads files with it)."""
        return [importing.describe(imp) for imp in areas.importers().values()
                if caller.has(*imp.roles)]
