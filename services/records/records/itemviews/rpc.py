"""nameko entrypoints of the views across item kinds."""
from portfolio_common.nameko_kit import rpc
from portfolio_common.permissions import allowed

from . import usecases

UNITS = ("consultation_teacher", "guidance_counsellor", "discipline_section", "activities_section",
         "organising_unit", "registrar")  # the registrar: course grades (courses/)


class Rpc:
    @rpc
    @allowed("student")
    def get_my_records(self, caller):
        """我的紀錄: {student: {id, student_no, name, seat_no, class_code}, kinds: {consultation:
        [item], career_assessment: [...], attendance, activity, competition}}."""
        with self.platform.uow() as uow:
            return usecases.my_records(uow, caller)

    @rpc
    @allowed(*UNITS, "homeroom_teacher", "system")
    def list_item_classes(self, caller):
        """[{code, name, school_year, kinds}]: the classes whose items the caller may list."""
        with self.platform.uow() as uow:
            return usecases.item_classes(uow, caller)

    @rpc
    @allowed(*UNITS, "homeroom_teacher", "system")
    def get_class_records(self, caller, class_code):
        """{class_code, students: [card], kinds: {kind: {student_id: [item]}}, performances:
        {student_id: [performance]}}: every item of a class the caller may read (the homeroom
        teacher of the class: all kinds, and the students' 多元表現). A sealed student's card says
        sealed: true and their items are left out."""
        with self.platform.uow() as uow:
            return usecases.class_records(uow, caller, class_code)
