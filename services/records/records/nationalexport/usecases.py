"""The export fields of the national rosters: the one place national IDs leave records in bulk.

Only the submission service acting on its own (`system:submission`, for the registrar it names)
and the platform's tools (`system`) may ask; the RPC is sealed (portfolio_common.sealed), and
each student whose ID is handed out gets a `national_id_exported` entry in their history (who
asked, for whom, when).
"""
import uuid

import sqlalchemy as sa

from ..activities.orm import activities
from ..attendance.orm import attendance_counts
from ..competition.orm import competitions
from ..courses.orm import course_grades
from ..errors import Invalid
from ..orm import classes, enrolments, outcomes, sections, students
from ..performances.orm import performances
from ..status.orm import status_changes
from ..usecases import _audit

EXPORT_ROLES = ("system", "system:submission")
MAX_STUDENTS = 5000


def _ids(student_ids):
    if not isinstance(student_ids, list) or len(student_ids) > MAX_STUDENTS:
        raise Invalid(f"student_ids is a list of at most {MAX_STUDENTS} ids", code="invalid")
    out = []
    for s in student_ids:
        try:
            out.append(uuid.UUID(str(s)))
        except ValueError:
            raise Invalid("student_ids holds an id that is not a uuid", code="invalid") from None
    return out


def enrolled_ids(s, tenant, year, semester) -> list:
    """The students of the tenant's semester (the 學生資料名冊 lists every one of them, whether or
    not they selected anything, issue 9 / brief national item 2): placed in a class of the school
    year, or enrolled in a section of the year and semester. Any 學籍 status: the roster carries
    it (學籍狀態)."""
    in_class = sa.select(students.c.id).join(classes, classes.c.id == students.c.class_id).where(
        students.c.tenant == tenant, classes.c.tenant == tenant, classes.c.school_year == year)
    in_section = sa.select(enrolments.c.student_id).join(sections, sections.c.id == enrolments.c.section_id).where(
        sections.c.tenant == tenant, sections.c.school_year == year, sections.c.semester == semester)
    return [r[0] for r in s.execute(sa.union(in_class, in_section)).all()]


def national_export_fields(uow, vault, caller, school_year, student_ids, requested_by=None, semester=None) -> dict:
    """{student_id: {user_id, national_id, birth_date (ISO or None), name, class_name, seat_no, status,
    outcomes: {outcome_id: {status, size (bytes), content_type, sha256, file_id, semester,
    grade_level, credits (修課學分; 進修部: 修課節數, the section's class hours),
    files: {document|media: {file_id, sha256, size, content_type}} (every file of the outcome,
    issue 7's two slots; the single-file fields above name the principal one)}},
    and the other rosters' fields of the school year (DOMAIN.md "National rosters"):
    profile {gender, group_code, department_code, division_code, class_type_code,
      enrolment_route, status_changed_on (ISO), grade_level (the year's highest section grade)},
    grades [{id, semester, course_code, subject_name, grade_level, credits, semester_grade, passed,
      makeup_grade, makeup_passed, credit_counted, remark, yearly_grade, yearly_passed}],
    attendance [{semester, absence_code, periods}],
    activities [{id, semester, category, name, position, hours, started_on, ended_on, description}],
    competitions [{id, semester, name, event, result, announced_on, description}] (in-school),
    performances [{id, kind, fields (dates ISO), description, entered_by, state, file_id, sha256,
      size, content_type}] (not voided),
    status_changes [{change, effective_on, other_school_code, own_school_code, school_year,
      semester}] (not voided)}}
    for the caller's tenant; voided items are left out. Ids of another tenant or of no student
    are absent. requested_by: the user id of the registrar the caller acts for (kept in each
    student's history). semester (1 or 2): the answer also holds every student of the tenant's
    semester (enrolled_ids), named or not, sealed students excepted. Errors: invalid."""
    caller.require(*EXPORT_ROLES)
    ids = _ids(student_ids)
    year = int(school_year)
    s = uow.session
    if semester is not None:
        if str(semester) not in ("1", "2"):
            raise Invalid("semester is 1 or 2", code="invalid")
        named = set(ids)
        more = [i for i in enrolled_ids(s, caller.tenant, year, int(semester)) if i not in named]
        # a sealed student's data leaves only through the audited two-role request
        sealed = uow.sealed_students.sealed_among(caller.tenant, more)
        ids += [i for i in more if str(i) not in sealed]
    if not ids:
        return {}
    rows = s.execute(sa.select(students, classes.c.name.label("class_name"))
                     .outerjoin(classes, classes.c.id == students.c.class_id)
                     .where(students.c.tenant == caller.tenant, students.c.id.in_(ids))).all()
    out = {}
    for r in rows:
        out[str(r.id)] = {"user_id": str(r.user_id), "national_id": vault.decrypt(r.national_id_enc),
                          "birth_date": r.birth_date.isoformat() if r.birth_date else None,
                          "name": r.name, "class_name": r.class_name or "", "seat_no": r.seat_no,
                          "status": r.status, "outcomes": {},
                          "profile": {"gender": r.gender, "group_code": r.group_code,
                                      "department_code": r.department_code, "division_code": r.division_code,
                                      "class_type_code": r.class_type_code, "enrolment_route": r.enrolment_route,
                                      "status_changed_on": _iso(r.status_changed_on), "grade_level": None},
                          "grades": [], "attendance": [], "activities": [], "competitions": [],
                          "performances": [], "status_changes": [], "_school_code": r.school_code}
        _audit(uow, caller.tenant, "student", r.id, "national_id_exported", caller.user_id,
               after={"school_year": year, "requested_by": str(requested_by) if requested_by else None},
               actor_username=caller.username)
    for o in s.execute(sa.select(outcomes.c.id, outcomes.c.student_id, outcomes.c.status, outcomes.c.size,
                                 outcomes.c.content_type, outcomes.c.sha256, outcomes.c.file_id,
                                 outcomes.c.files, outcomes.c.semester, sections.c.grade_level, sections.c.credits,
                                 sections.c.class_hours)
                       .join(sections, sections.c.id == outcomes.c.section_id)
                       .where(outcomes.c.tenant == caller.tenant, outcomes.c.school_year == year,
                              outcomes.c.student_id.in_(ids))).all():
        student = out.get(str(o.student_id))
        if student is not None:
            student["outcomes"][str(o.id)] = {
                "status": o.status, "size": o.size, "content_type": o.content_type, "sha256": o.sha256,
                "file_id": str(o.file_id), "semester": o.semester, "grade_level": o.grade_level,
                "credits": _credits(caller.tenant, o.credits, o.class_hours), "files": _files(o)}
    _roster_fields(s, caller.tenant, year, ids, out)
    for student in out.values():
        own = student.pop("_school_code")
        for c in student["status_changes"]:
            c["own_school_code"] = own
    uow.commit()
    return out


def _files(o) -> dict:
    """{slot: {file_id, sha256, size, content_type}} of an outcome row; an outcome stored before
    slots has its one file in the slot of its content type."""
    if o.files:
        return {slot: {k: (str(f.get(k)) if k == "file_id" else f.get(k))
                       for k in ("file_id", "sha256", "size", "content_type")}
                for slot, f in o.files.items() if f}
    slot = "media" if str(o.content_type).startswith(("audio/", "video/")) else "document"
    return {slot: {"file_id": str(o.file_id), "sha256": o.sha256, "size": o.size, "content_type": o.content_type}}


def _iso(v):
    return v.isoformat() if v is not None and hasattr(v, "isoformat") else v


def _credits(tenant, credits, class_hours):
    """修課學分 (day) or 修課節數 (ce, the section's class hours; its credits when none)."""
    return (class_hours if class_hours is not None else credits) if tenant == "ce" else credits


def _live(table, tenant, year, ids):
    return sa.and_(table.c.tenant == tenant, table.c.school_year == year, table.c.student_id.in_(ids),
                   table.c.voided_at.is_(None))


def _roster_fields(s, tenant, year, ids, out):
    """The other rosters' fields (see national_export_fields), appended to `out` per student."""
    for r in s.execute(sa.select(enrolments.c.student_id, sa.func.max(sections.c.grade_level).label("g"))
                       .join(sections, sections.c.id == enrolments.c.section_id)
                       .where(sections.c.tenant == tenant, sections.c.school_year == year,
                              enrolments.c.student_id.in_(ids)).group_by(enrolments.c.student_id)).all():
        if str(r.student_id) in out:
            out[str(r.student_id)]["profile"]["grade_level"] = r.g
    g = course_grades
    for r in s.execute(sa.select(g, sections.c.subject_name, sections.c.grade_level, sections.c.credits,
                                 sections.c.class_hours)
                       .join(sections, sections.c.id == g.c.section_id).where(_live(g, tenant, year, ids))).all():
        out[str(r.student_id)]["grades"].append({
            "id": str(r.id), "semester": r.semester, "course_code": r.course_code, "subject_name": r.subject_name,
            "grade_level": r.grade_level, "credits": _credits(tenant, r.credits, r.class_hours),
            "semester_grade": r.semester_grade, "passed": r.passed, "makeup_grade": r.makeup_grade,
            "makeup_passed": r.makeup_passed, "credit_counted": r.credit_counted, "remark": r.remark,
            "yearly_grade": r.yearly_grade, "yearly_passed": r.yearly_passed})
    a = attendance_counts
    for r in s.execute(sa.select(a).where(_live(a, tenant, year, ids))).all():
        out[str(r.student_id)]["attendance"].append(
            {"semester": r.semester, "absence_code": r.absence_code, "periods": r.periods})
    a = activities
    for r in s.execute(sa.select(a).where(_live(a, tenant, year, ids))).all():
        out[str(r.student_id)]["activities"].append({
            "id": str(r.id), "semester": r.semester, "category": r.category, "name": r.name,
            "position": r.position, "hours": r.hours, "started_on": _iso(r.started_on),
            "ended_on": _iso(r.ended_on), "description": r.description})
    c = competitions
    for r in s.execute(sa.select(c).where(_live(c, tenant, year, ids))).all():
        out[str(r.student_id)]["competitions"].append({
            "id": str(r.id), "semester": r.semester, "name": r.name, "event": None, "result": r.result,
            "announced_on": _iso(r.announced_on), "description": r.content})
    p = performances
    for r in s.execute(sa.select(p).where(p.c.tenant == tenant, p.c.school_year == year, p.c.student_id.in_(ids),
                                          p.c.state != "voided")).all():
        out[str(r.student_id)]["performances"].append({
            "id": str(r.id), "kind": r.kind, "fields": dict(r.fields or {}), "description": r.description,
            "entered_by": r.entered_by, "state": r.state, "file_id": str(r.file_id) if r.file_id else None,
            "sha256": r.sha256, "size": r.size, "content_type": r.content_type})
    c = status_changes
    for r in s.execute(sa.select(c).where(_live(c, tenant, year, ids))).all():
        out[str(r.student_id)]["status_changes"].append({
            "change": r.change, "effective_on": _iso(r.effective_on), "other_school_code": r.other_school_code,
            "school_year": r.school_year, "semester": r.semester})


def record_national_submitted(uow, env) -> bool:
    """`national-submitted`: the tenant's submission (batch, term, receipt id) goes into the
    hash-chained history, so the school's record shows when what was sent. Idempotent."""
    if not uow.claim(env["event_id"], "records.handle_national_submitted"):
        return False
    p = env["payload"]
    _audit(uow, env["tenant"], "national_batch", p["batch_id"], "national_submitted", None,
           after={"school_year": p["school_year"], "semester": p["semester"], "receipt_id": p["receipt_id"],
                  "submitted_at": p["submitted_at"].isoformat() if hasattr(p["submitted_at"], "isoformat")
                  else p["submitted_at"]},
           event_id=env["event_id"], actor_username="submission")
    uow.commit()
    return True
