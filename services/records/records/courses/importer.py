"""The grade sheet a school system exports (學生成績名冊, DOMAIN.md; 進修部 with the yearly grade)
and the elective officer's enrolment list, through the one import capability
(records/importing.py): every row's problems by row and column before anything is written, all or
nothing, the same file twice changes nothing."""
import uuid

from ..errors import StaleRecord
from ..itemkit import STUDENT_NO, ItemImporter, _add, _change, _stored, columns
from ..profile.domain import _code_text
from .domain import read_elective
from .usecases import ELECTIVE_WRITERS, KIND, _elective_section, _enrol, section_of

TERM = [("school_year", "學年度", ("school_year", "學年"), True, "code", None),
        ("semester", "學期", ("semester",), True, "code", None)]
GRADE_COLUMNS = [
    STUDENT_NO, *TERM,
    ("course_code", "課程代碼", ("course_code", "科目代碼"), True, "code", None),
    ("semester_grade", "學期學業成績", ("學期成績", "成績", "semester_grade", "grade"), True, "int", None),
    ("passed", "成績及格", ("及格", "passed"), False, "code", None),
    ("makeup_grade", "補考成績", ("makeup_grade",), False, "int", None),
    ("makeup_passed", "補考及格", ("makeup_passed",), False, "code", None),
    ("credit_counted", "是否採計學分", ("是否採計學時", "採計學分", "採計學時", "credit_counted"), False, "code", None),
    ("pass_exception", "及格例外", ("例外", "pass_exception"), False, "code", None),
    ("remark", "質性文字描述", ("文字描述", "remark"), False, "text", None),
    ("yearly_grade", "學年學業成績", ("學年成績", "yearly_grade"), False, "int", None),
    ("yearly_passed", "學年及格", ("yearly_passed",), False, "code", None),
]
ELECTIVE_COLUMNS = [
    STUDENT_NO, *TERM,
    ("course_code", "課程代碼", ("course_code", "科目代碼"), True, "code", None),
    ("class_code", "開課班級", ("開課班級代碼", "class_code"), False, "code", None),
]


class GradeImporter(ItemImporter):
    """One row per student, term and course code; the student must be enrolled in a section of
    that code and term (student_not_enrolled), the code must exist that term (course_code_unknown)."""

    def prefetch(self, uow, ctx, values_list):
        """The base's students and stored grades (matched by section), and the file's sections
        with their enrolled students: planning a row then asks the database nothing."""
        super().prefetch(uow, ctx, values_list)
        tenant, sections, enrolled = ctx["caller"].tenant, {}, {}
        for v in values_list:
            key = (v.get("school_year"), v.get("semester"), v.get("course_code"))
            if None not in key and key not in sections:
                sections[key] = uow.sections.by_code(tenant, *key)
                for sec in sections[key]:
                    enrolled[sec["id"]] = {str(s) for s in uow.sections.students_of(sec["id"])}
        ctx["sections_by_code"], ctx["enrolled"] = sections, enrolled

    def live_key(self, student_id, row) -> tuple:
        return (student_id, str(row.get("section_id")))

    def plan(self, uow, ctx, values):
        tenant = ctx["caller"].tenant
        student = self.student(uow, ctx, values["student_no"])
        if student is None:
            return None, None, [("student_no", "student_unknown", {})]
        section, problems = section_of(uow, tenant, student, values, known=ctx)
        if problems:
            return None, None, problems
        values["section_id"] = section["id"]
        if "live_items" in ctx:
            same = ctx["live_items"].get(self.live_key(str(student["id"]), values))
        else:
            same = uow.course_grades.find(tenant, student["id"], {"section_id": section["id"]})
        if same is None:
            return "created", [str(student["id"])], []
        if all(same.get(k) == v for k, v in _stored(KIND, values).items()):
            return "unchanged", [str(same["id"]), same["version"]], []
        return "updated", [str(same["id"]), same["version"]], []

    def apply(self, uow, ctx, values, plan):
        action, marker = plan
        caller = ctx["caller"]
        if action == "created":
            student = ctx.get("students_by_id", {}).get(marker[0]) or uow.students.get(caller.tenant,
                                                                                      uuid.UUID(marker[0]))
            _add(uow, KIND, caller, student, values, "import")
            return
        existing = uow.course_grades.get(caller.tenant, uuid.UUID(marker[0]))
        if existing is None or existing["version"] != marker[1]:
            raise StaleRecord("the item changed since the preview", code="stale_record")
        _change(uow, KIND, caller, existing, values, marker[1])


class ElectiveImporter:
    """The elective officer's list after course selection: 學號, term, 課程代碼 (and 開課班級 when
    the code runs in several sections). An enrolment already there is `unchanged`."""
    kind = "elective"
    roles = ELECTIVE_WRITERS
    key_field = "student_no"
    unique_in_file = ()

    def __init__(self):
        self.columns = columns(ELECTIVE_COLUMNS)

    def read(self, cells, ctx):
        values, problems = read_elective(cells)
        values["student_no"] = _code_text(cells.get("student_no"))
        if not values["student_no"]:
            problems.append(("student_no", "field_missing", {}))
        return values, problems

    def file_problems(self, rows):
        seen, out = {}, []
        for row, v in rows:
            key = (v.get("student_no"), v.get("school_year"), v.get("semester"), v.get("course_code"))
            if None not in key:
                if key in seen:
                    out.append((row, "course_code", "duplicate_in_file", {"first_row": seen[key]}))
                seen.setdefault(key, row)
        return out

    def plan(self, uow, ctx, values):
        tenant = ctx["caller"].tenant
        student = uow.students.by_student_no(tenant, values["student_no"])
        if student is None:
            return None, None, [("student_no", "student_unknown", {})]
        section, problems = _elective_section(uow, tenant, values)
        if problems:
            return None, None, problems
        if uow.sections.is_enrolled(section["id"], student["id"]):
            return "unchanged", [str(section["id"]), str(student["id"])], []
        return "created", [str(section["id"]), str(student["id"])], []

    def apply(self, uow, ctx, values, plan):
        caller = ctx["caller"]
        section = uow.sections.get(caller.tenant, uuid.UUID(plan[1][0]))
        student = uow.students.get(caller.tenant, uuid.UUID(plan[1][1]))
        _enrol(uow, caller, student, section, "import")


IMPORTERS = {"course_grade": GradeImporter(KIND, GRADE_COLUMNS), "elective": ElectiveImporter()}
