"""Course records (修課紀錄, issue 8 item 3): semester grades per enrolment (the registrar; in
進修部 the academic section, which holds the `registrar` role there, as its student affairs section
holds `activities_section`) and elective enrolments (the elective officer, after course
selection). Built on records/itemkit.py: the same columns, versions, voids and hash-chained
history (entity `course_grade`, `enrolment`).

Readers of grades: the student (their own), the homeroom teacher (their class), the registrar
(the tenant); a subject teacher reads the grades of their own sections (`list_section_grades`).
Anyone else reads them as not found (audited as a refusal).
"""
import uuid

from portfolio_common import clock

from .. import itemkit
from ..errors import NotAllowed, NotFound, StaleRecord
from .domain import FIELDS, read_elective, read_grade
from .orm import course_grades

GRADE_WRITERS = ("registrar", "system")
ELECTIVE_WRITERS = ("elective_officer", "system")

KIND = itemkit.ItemKind(
    name="course_grade", table=course_grades, writers=GRADE_WRITERS, read=read_grade, fields=FIELDS,
    key=("school_year", "semester", "course_code"), extra={"present": lambda uow, tenant, rows: _public(uow, tenant, rows)})


def section_of(uow, tenant, student, values, known=None) -> tuple:
    """(section, [(field, code, params)]): the section of the term with the row's course code that
    the student is enrolled in. No section of that code this term: course_code_unknown (codes
    are data: DOMAIN.md "Course codes"); the student in none of them: student_not_enrolled; a yearly
    grade for a section counted in credits (日間部): yearly_grade_not_ce. `known`: an import's
    prefetched {"sections_by_code": {(year, semester, code): [section]}, "enrolled": {section_id:
    {student_id}}} (GradeImporter.prefetch), used instead of asking the database."""
    if not values.get("course_code") or values.get("school_year") is None or values.get("semester") is None:
        return None, []
    key = (values["school_year"], values["semester"], values["course_code"])
    if known and key in known.get("sections_by_code", {}):
        found = known["sections_by_code"][key]
        mine = [s for s in found if str(student["id"]) in known["enrolled"].get(s["id"], ())]
    else:
        found = uow.sections.by_code(tenant, *key)
        mine = [s for s in found if uow.sections.is_enrolled(s["id"], student["id"])]
    if not found:
        return None, [("course_code", "course_code_unknown", {})]
    if not mine:
        return None, [("course_code", "student_not_enrolled", {})]
    section = mine[0]
    if (values.get("yearly_grade") is not None) and section.get("class_hours") is None:
        return None, [("yearly_grade", "yearly_grade_not_ce", {})]
    return section, []


def _with_section(row, section) -> dict:
    out = dict(row)
    out["section_id"] = str(out["section_id"]) if out.get("section_id") else None
    if section:
        out.update(subject_name=section["subject_name"], grade_level=section["grade_level"],
                   credits=section["credits"], class_hours=section.get("class_hours"),
                   class_code_of_section=section["class_code"])
    return out


def _public(uow, tenant, rows) -> list:
    secs = uow.sections.of_ids(tenant, {r["section_id"] for r in rows})
    return [_with_section(itemkit.public(KIND, r), secs.get(r["section_id"])) for r in rows]


def _values(uow, caller, student, data) -> dict:
    values, problems = read_grade(itemkit._fields(data), today=clock.today_in_school())
    if not problems:
        section, problems = section_of(uow, caller.tenant, student, values)
        values["section_id"] = section and section["id"]
    if problems:
        itemkit._refuse(problems)
    return values


def record_grade(uow, caller, student_id, data) -> dict:
    """The registrar's form: one student's grade for one enrolment. data: {course_code,
    school_year, semester, semester_grade, passed?, makeup_grade?, makeup_passed?,
    credit_counted?, pass_exception?, remark?, yearly_grade?, yearly_passed?} as text (rules:
    courses/domain.py). Field problems: FieldsInvalid; a grade already there for that enrolment:
    the same values answer it (a retried form), others `item_exists` (change that one)."""
    student = itemkit.student_for_write(uow, KIND, caller, student_id)
    values = _values(uow, caller, student, data)
    same = uow.course_grades.find(caller.tenant, student["id"], {"section_id": values["section_id"]})
    if same is not None:
        if all(same.get(k) == v for k, v in itemkit._stored(KIND, values).items()):
            return _public(uow, caller.tenant, [same])[0]
        itemkit._refuse([("course_code", "item_exists", {})])
    item_id = itemkit._add(uow, KIND, caller, student, values, "form")
    uow.commit()
    return _public(uow, caller.tenant, [uow.course_grades.get(caller.tenant, item_id)])[0]


def update_grade(uow, caller, item_id, data, expected_version) -> dict:
    """Change a grade (e.g. the make-up result arrives); `expected_version` as read
    (stale_record otherwise). Before and after go to the history."""
    if not caller.has(*KIND.writers):
        raise NotAllowed("grades are entered by the registrar")
    existing = uow.course_grades.get(caller.tenant, itemkit._uuid(item_id, KIND.name), lock=True)
    if existing is None:
        raise NotFound("course_grade not found")
    if existing["voided_at"] is not None or existing["version"] != expected_version:
        raise StaleRecord("the item changed since you opened it", code="stale_record")
    student = uow.students.get(caller.tenant, existing["student_id"])
    values = _values(uow, caller, student, data)
    if values["section_id"] != existing["section_id"]:
        other = uow.course_grades.find(caller.tenant, student["id"], {"section_id": values["section_id"]})
        if other is not None:
            itemkit._refuse([("course_code", "item_exists", {})])
    if itemkit._change(uow, KIND, caller, existing, values, expected_version):
        uow.commit()
    return _public(uow, caller.tenant, [uow.course_grades.get(caller.tenant, existing["id"])])[0]


def void_grade(uow, caller, item_id, expected_version, reason) -> dict:
    """A mistaken grade is voided with a reason (kept, never deleted)."""
    row = itemkit.void_item(uow, KIND, caller, item_id, expected_version, reason)
    return _with_section(row, uow.sections.get(caller.tenant, uuid.UUID(str(row["section_id"]))))


def list_grades(uow, caller, student_id=None, class_code=None) -> list:
    """class_code: [{student, items}] (registrar; the class's homeroom teacher); student_id:
    [item] (registrar, homeroom teacher, the student); neither: the calling student's own.
    item: the fields plus subject_name, grade_level, credits, class_hours."""
    if class_code:
        out = itemkit.list_for_class(uow, KIND, caller, class_code)
        secs = uow.sections.of_ids(caller.tenant, {uuid.UUID(str(i["section_id"])) for c in out for i in c["items"]})
        for c in out:
            c["items"] = [_with_section(i, secs.get(uuid.UUID(str(i["section_id"])))) for i in c["items"]]
        return out
    if student_id:
        student = itemkit.may_read_student(uow, KIND, caller, student_id)
    else:
        student = uow.students.by_user(caller.tenant, caller.user_id)
        if student is None:
            raise NotAllowed("no student record for this account", code="not_a_student")
    return _public(uow, caller.tenant, uow.course_grades.of_students(caller.tenant, [student["id"]]))


def list_section_grades(uow, caller, section_id) -> dict:
    """{section, students: [{student, grade|None}]} of one section: its subject teacher or the
    registrar. Another teacher's section, another tenant's: not found (refused)."""
    section = uow.sections.get(caller.tenant, itemkit._uuid(section_id, "section"))
    if section is None:
        raise NotFound("section not found")
    if not (caller.has(*KIND.writers) or (caller.has("subject_teacher")
                                          and str(section["teacher_user_id"]) == str(caller.user_id))):
        raise NotFound("section not found", refused=True)
    ids = uow.sections.students_of(section["id"])
    grades = {str(r["student_id"]): r for r in uow.course_grades.of_students(caller.tenant, ids)
              if r["section_id"] == section["id"] and r["voided_at"] is None}
    students = [uow.students.get(caller.tenant, i) for i in ids]
    rows = [{"student": itemkit.student_card(s),
             "grade": _with_section(itemkit.public(KIND, grades[str(s["id"])]), section) if str(s["id"]) in grades else None}
            for s in sorted(filter(None, students), key=lambda s: s["student_no"])]
    sec = {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in section.items() if k != "teacher_user_id"}
    return {"section": sec, "students": rows}


def _elective_section(uow, tenant, values) -> tuple:
    found = uow.sections.by_code(tenant, values["school_year"], values["semester"], values["course_code"])
    if values.get("class_code"):
        found = [s for s in found if s["class_code"] == values["class_code"]]
    if not found:
        return None, [("course_code", "course_code_unknown", {})]
    if len(found) > 1:
        return None, [("class_code", "section_ambiguous", {})]
    return found[0], []


def enrolment_id(section_id, student_id) -> uuid.UUID:
    """The history's id of one enrolment (section, student): stable, one UUID."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"enrolment:{section_id}:{student_id}")


def _enrol(uow, caller, student, section, via) -> bool:
    if not uow.sections.enrol(section["id"], student["id"]):
        return False
    uow.history.record(caller.tenant, "enrolment", enrolment_id(section["id"], student["id"]), "created", caller.user_id,
                       actor_username=caller.username, student_id=student["id"],
                       after={"section_id": str(section["id"]), "course_code": section["course_code"],
                              "school_year": section["school_year"], "semester": section["semester"],
                              "recorded_via": via})
    return True


def enrol_elective(uow, caller, student_id, data) -> dict:
    """The elective officer enrols a student in an elective after course selection. data:
    {course_code, school_year, semester, class_code? (when the code runs in several sections)}.
    Answers {section_id, course_code, enrolled: bool (False: already enrolled, nothing changed)}."""
    if not caller.has(*ELECTIVE_WRITERS):
        raise NotAllowed("electives are enrolled by the elective officer")
    student = uow.students.get(caller.tenant, itemkit._uuid(student_id, "student"))
    if student is None:
        raise NotFound("student not found")
    values, problems = read_elective(itemkit._fields(data))
    section = None
    if not problems:
        section, problems = _elective_section(uow, caller.tenant, values)
    if problems:
        itemkit._refuse(problems)
    new = _enrol(uow, caller, student, section, "form")
    if new:
        uow.commit()
    return {"section_id": str(section["id"]), "course_code": section["course_code"],
            "subject_name": section["subject_name"], "enrolled": new}


# An enrolment's history is read with the student's (get_history("student", id)).
HISTORY_READERS = {"course_grade": itemkit.may_read_item(KIND)}
