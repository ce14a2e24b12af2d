"""nameko entrypoints of in-school competitions."""
from portfolio_common.nameko_kit import rpc
from portfolio_common.permissions import allowed

from .. import itemkit
from .usecases import KIND


class Rpc:
    @rpc
    @allowed("organising_unit", "homeroom_teacher", "student", "system")
    def list_competitions(self, caller, student_id=None, class_code=None):
        """class_code: [{student, items}]; student_id: [item]; neither: the calling student's own.
        item: {id, name, content, result, announced_on, school_year, semester, version, ...}."""
        with self.platform.uow() as uow:
            if class_code:
                return itemkit.list_for_class(uow, KIND, caller, class_code)
            if student_id:
                return itemkit.list_for_student(uow, KIND, caller, student_id)
            return itemkit.list_mine(uow, KIND, caller)

    @rpc
    @allowed("organising_unit", "system")
    def record_competition(self, caller, student_id, data):
        with self.platform.uow() as uow:
            return itemkit.record_item(uow, KIND, caller, student_id, data)

    @rpc
    @allowed("organising_unit", "system")
    def update_competition(self, caller, item_id, data, expected_version):
        with self.platform.uow() as uow:
            return itemkit.update_item(uow, KIND, caller, item_id, data, expected_version)

    @rpc
    @allowed("organising_unit", "system")
    def void_competition(self, caller, item_id, expected_version, reason):
        with self.platform.uow() as uow:
            return itemkit.void_item(uow, KIND, caller, item_id, expected_version, reason)
