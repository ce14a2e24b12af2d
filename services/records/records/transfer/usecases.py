"""A student's whole record for a transfer package (issue 9 item 8), handed to submission.

Only the submission service acting on its own (`system:submission`, for the registrar or the
student it names) and the platform's tools (`system`) may ask; the RPC is sealed
(portfolio_common.sealed: the answer carries the national ID), and the student's history gets a
`national_id_exported` entry (purpose `transfer`, who asked, for whom, when).
"""
import uuid

import sqlalchemy as sa
from portfolio_common.sealing import StudentSealed

from ..autobiography.orm import autobiography_versions
from ..courses.orm import course_grades
from ..errors import Invalid, NotFound
from ..nationalexport.usecases import _iso, _roster_fields
from ..orm import classes, enrolments, outcomes, sections, students
from ..performances.orm import performances
from ..usecases import _audit

EXPORT_ROLES = ("system", "system:submission")


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid("not a uuid", code="invalid") from None


def _outcome_files(o) -> list:
    """[{slot, file_id, filename, content_type, size, sha256}] of an outcome (both slots when it
    has them; an outcome stored before slots: its one file)."""
    if o.files:
        return [{"slot": slot, "file_id": str(f["file_id"]), "filename": f.get("filename"),
                 "content_type": f.get("content_type"), "size": f.get("size"), "sha256": f.get("sha256")}
                for slot, f in sorted(o.files.items())]
    slot = "media" if (o.content_type or "").startswith(("audio/", "video/")) else "document"
    return [{"slot": slot, "file_id": str(o.file_id), "filename": o.filename, "content_type": o.content_type,
             "size": o.size, "sha256": o.sha256}]


def transfer_export_fields(uow, vault, caller, student_id=None, student_user_id=None, requested_by=None) -> dict:
    """One student of the caller's tenant, named by `student_id` or by `student_user_id` (the
    student's own account), every school year:
    {student_id, student_user_id, profile: {student_no, name, birth_date (ISO or None), gender,
     national_id, class_name, seat_no, status, school_code},
     school_years: [int],
     grades: [{school_year, ...national_export_fields' grade}],
     attendance / activities / competitions / status_changes: [{school_year, ...}],
     outcomes: [{outcome_id, school_year, semester, course_code, subject_name, description,
       status, files: [{slot, file_id, filename, content_type, size, sha256}],
       certification: {certified_by, acting_for, certified_at, sha256} or None}],
     performances: [{school_year, id, kind, fields, description, entered_by, state, file_id,
       sha256, size, content_type}],
     autobiography: [{version_no, autobiography, career_plan, expectations, strengths,
       interests, written_at, status, reviewed_by_username, reviewed_at}]}.
    Voided items are left out. Errors: not_found (no such student in the tenant), invalid,
    student_sealed (sealed data is read only through the two-role request)."""
    caller.require(*EXPORT_ROLES)
    s = uow.session
    where = [students.c.tenant == caller.tenant]
    if student_id is not None:
        where.append(students.c.id == _uuid(student_id))
    elif student_user_id is not None:
        where.append(students.c.user_id == _uuid(student_user_id))
    else:
        raise Invalid("name the student", code="invalid")
    r = s.execute(sa.select(students, classes.c.name.label("class_name"))
                  .outerjoin(classes, classes.c.id == students.c.class_id).where(*where)).first()
    if r is None:
        raise NotFound("student not found")
    sid = r.id
    if uow.sealed_students.is_sealed(caller.tenant, sid):
        # sealed data is read only through the audited two-role request (issue 9 item 7)
        raise StudentSealed("this student is sealed: the portfolio is not exported")
    out = {"student_id": str(sid), "student_user_id": str(r.user_id),
           "profile": {"student_no": r.student_no, "name": r.name, "birth_date": _iso(r.birth_date),
                       "gender": r.gender, "national_id": vault.decrypt(r.national_id_enc),
                       "class_name": r.class_name or "", "seat_no": r.seat_no, "status": r.status,
                       "school_code": r.school_code},
           "grades": [], "attendance": [], "activities": [], "competitions": [], "status_changes": [],
           "outcomes": [], "performances": [], "autobiography": []}
    tenant = caller.tenant
    years = set()
    for q in (sa.select(sections.c.school_year).join(enrolments, enrolments.c.section_id == sections.c.id)
              .where(sections.c.tenant == tenant, enrolments.c.student_id == sid),
              sa.select(outcomes.c.school_year).where(outcomes.c.tenant == tenant, outcomes.c.student_id == sid),
              sa.select(course_grades.c.school_year).where(course_grades.c.tenant == tenant,
                                                           course_grades.c.student_id == sid),
              sa.select(performances.c.school_year).where(performances.c.tenant == tenant,
                                                          performances.c.student_id == sid)):
        years.update(y for (y,) in s.execute(q.distinct()).all())
    for year in sorted(years):
        one = {str(sid): {"profile": {}, "grades": [], "attendance": [], "activities": [], "competitions": [],
                          "performances": [], "status_changes": []}}
        _roster_fields(s, tenant, year, [sid], one)
        for kind in ("grades", "attendance", "activities", "competitions", "performances", "status_changes"):
            out[kind] += [{"school_year": year, **x} for x in one[str(sid)][kind]]
    out["school_years"] = sorted(years)
    for o in s.execute(sa.select(outcomes, sections.c.course_code, sections.c.subject_name)
                       .join(sections, sections.c.id == outcomes.c.section_id)
                       .where(outcomes.c.tenant == tenant, outcomes.c.student_id == sid)
                       .order_by(outcomes.c.school_year, outcomes.c.semester, outcomes.c.uploaded_at)).all():
        out["outcomes"].append({
            "outcome_id": str(o.id), "school_year": o.school_year, "semester": o.semester,
            "course_code": o.course_code, "subject_name": o.subject_name, "description": o.description,
            "status": o.status, "files": _outcome_files(o),
            "certification": ({"certified_by": str(o.certified_by) if o.certified_by else None,
                               "acting_for": str(o.acting_for) if o.acting_for else None,
                               "certified_at": _iso(o.certified_at), "sha256": o.sha256}
                              if o.status == "certified" else None)})
    a = autobiography_versions
    for v in s.execute(sa.select(a).where(a.c.tenant == tenant, a.c.student_id == sid)
                       .order_by(a.c.version_no)).all():
        out["autobiography"].append({
            "version_no": v.version_no, "autobiography": v.autobiography, "career_plan": v.career_plan,
            "expectations": v.expectations, "strengths": v.strengths, "interests": v.interests,
            "written_at": _iso(v.written_at), "status": v.status,
            "reviewed_by_username": v.reviewed_by_username, "reviewed_at": _iso(v.reviewed_at)})
    _audit(uow, tenant, "student", sid, "national_id_exported", caller.user_id,
           after={"purpose": "transfer", "requested_by": str(requested_by) if requested_by else None},
           actor_username=caller.username)
    uow.commit()
    return out
