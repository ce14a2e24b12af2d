"""nameko entrypoints of course records (修課紀錄): grades and elective enrolments."""
from portfolio_common.nameko_kit import rpc
from portfolio_common.permissions import allowed

from .. import importing
from . import usecases
from .importer import IMPORTERS


class Rpc:
    @rpc
    @allowed("registrar", "homeroom_teacher", "student", "system")
    def list_course_grades(self, caller, student_id=None, class_code=None):
        """class_code: [{student, items}]; student_id: [item]; neither: the calling student's own.
        item: {id, school_year, semester, course_code, subject_name, credits | class_hours,
        semester_grade, passed, makeup_grade, makeup_passed, credit_counted, pass_exception,
        remark, yearly_grade, yearly_passed, version, voided_at, ...} (courses/usecases.py)."""
        with self.platform.uow() as uow:
            return usecases.list_grades(uow, caller, student_id=student_id, class_code=class_code)

    @rpc
    @allowed("registrar", "subject_teacher", "system")
    def list_section_grades(self, caller, section_id):
        """{section, students: [{student, grade | None}]}: the section's subject teacher or the
        registrar; any other section reads as not found."""
        with self.platform.uow() as uow:
            return usecases.list_section_grades(uow, caller, section_id)

    @rpc
    @allowed("registrar", "system")
    def record_course_grade(self, caller, student_id, data):
        """A grade for one enrolment (rules: courses/domain.py); FieldsInvalid by field."""
        with self.platform.uow() as uow:
            return usecases.record_grade(uow, caller, student_id, data)

    @rpc
    @allowed("registrar", "system")
    def update_course_grade(self, caller, item_id, data, expected_version):
        with self.platform.uow() as uow:
            return usecases.update_grade(uow, caller, item_id, data, expected_version)

    @rpc
    @allowed("registrar", "system")
    def void_course_grade(self, caller, item_id, expected_version, reason):
        with self.platform.uow() as uow:
            return usecases.void_grade(uow, caller, item_id, expected_version, reason)

    @rpc
    @allowed("registrar", "system")
    def import_course_grades(self, caller, rows, dry_run=True, basis=None, options=None):
        """Rows of the grade sheet (學生成績名冊; records/importing.py)."""
        with self.platform.uow() as uow:
            return importing.run_import(uow, IMPORTERS["course_grade"], {"caller": caller}, rows,
                                        dry_run=dry_run, basis=basis)

    @rpc
    @allowed("elective_officer", "system")
    def enrol_elective(self, caller, student_id, data):
        """{course_code, school_year, semester, class_code?} -> {section_id, course_code,
        subject_name, enrolled}."""
        with self.platform.uow() as uow:
            return usecases.enrol_elective(uow, caller, student_id, data)

    @rpc
    @allowed("elective_officer", "system")
    def import_electives(self, caller, rows, dry_run=True, basis=None, options=None):
        """Rows of the elective officer's list after course selection."""
        with self.platform.uow() as uow:
            return importing.run_import(uow, IMPORTERS["elective"], {"caller": caller}, rows,
                                        dry_run=dry_run, basis=basis)



