"""nameko entrypoints of consultation records: load, call the shared item use case, dump."""
from portfolio_common.nameko_kit import rpc
from portfolio_common.permissions import allowed

from .. import itemkit
from .usecases import KIND


class Rpc:
    @rpc
    @allowed("consultation_teacher", "guidance_counsellor", "homeroom_teacher", "student", "system")
    def list_consultations(self, caller, student_id=None, class_code=None):
        """class_code: [{student, items}] of a class; student_id: [item] of a student; neither:
        the calling student's own. item: {id, held_on (ISO), held_at, place, content, advice,
        school_year, semester, recorded_by_username, version, voided_at, ...}. Others: not_found."""
        with self.platform.uow() as uow:
            if class_code:
                return itemkit.list_for_class(uow, KIND, caller, class_code)
            if student_id:
                return itemkit.list_for_student(uow, KIND, caller, student_id)
            return itemkit.list_mine(uow, KIND, caller)

    @rpc
    @allowed("consultation_teacher", "system")
    def record_consultation(self, caller, student_id, data):
        """New record {held_on, held_at, place, content, advice}; fields_invalid [{field, code}]."""
        with self.platform.uow() as uow:
            return itemkit.record_item(uow, KIND, caller, student_id, data)

    @rpc
    @allowed("consultation_teacher", "system")
    def update_consultation(self, caller, item_id, data, expected_version):
        """Change a record made from `expected_version` (stale_record otherwise)."""
        with self.platform.uow() as uow:
            return itemkit.update_item(uow, KIND, caller, item_id, data, expected_version)

    @rpc
    @allowed("consultation_teacher", "system")
    def void_consultation(self, caller, item_id, expected_version, reason):
        """Mark a mistaken record void (kept, with who and why)."""
        with self.platform.uow() as uow:
            return itemkit.void_item(uow, KIND, caller, item_id, expected_version, reason)
