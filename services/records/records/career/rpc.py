"""nameko entrypoints of career-plan assessments."""
from portfolio_common.nameko_kit import rpc
from portfolio_common.permissions import allowed

from .. import itemkit
from .usecases import KIND


class Rpc:
    @rpc
    @allowed("guidance_counsellor", "homeroom_teacher", "student", "system")
    def list_career_assessments(self, caller, student_id=None, class_code=None):
        """class_code: [{student, items}]; student_id: [item]; neither: the calling student's own.
        item: {id, assessed_on, instrument, suggested_groups, career_plan, school_year, semester,
        recorded_by_username, version, voided_at, ...}. Others: not_found."""
        with self.platform.uow() as uow:
            if class_code:
                return itemkit.list_for_class(uow, KIND, caller, class_code)
            if student_id:
                return itemkit.list_for_student(uow, KIND, caller, student_id)
            return itemkit.list_mine(uow, KIND, caller)

    @rpc
    @allowed("guidance_counsellor", "system")
    def record_career_assessment(self, caller, student_id, data):
        """New assessment {assessed_on, instrument?, suggested_groups, career_plan}."""
        with self.platform.uow() as uow:
            return itemkit.record_item(uow, KIND, caller, student_id, data)

    @rpc
    @allowed("guidance_counsellor", "system")
    def update_career_assessment(self, caller, item_id, data, expected_version):
        with self.platform.uow() as uow:
            return itemkit.update_item(uow, KIND, caller, item_id, data, expected_version)

    @rpc
    @allowed("guidance_counsellor", "system")
    def void_career_assessment(self, caller, item_id, expected_version, reason):
        with self.platform.uow() as uow:
            return itemkit.void_item(uow, KIND, caller, item_id, expected_version, reason)
