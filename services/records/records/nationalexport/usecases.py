"""The export fields of the national rosters: the one place national IDs leave records in bulk.

Only the submission service acting on its own (`system:submission`, for the registrar it names)
and the platform's tools (`system`) may ask; the RPC is sealed (portfolio_common.sealed), and
each student whose ID is handed out gets a `national_id_exported` entry in their history (who
asked, for whom, when).
"""
import uuid

import sqlalchemy as sa

from ..errors import Invalid
from ..orm import classes, outcomes, sections, students
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


def national_export_fields(uow, vault, caller, school_year, student_ids, requested_by=None) -> dict:
    """{student_id: {national_id, birth_date (ISO or None), name, class_name, seat_no, status,
    outcomes: {outcome_id: {status, size (bytes), content_type, sha256, file_id, semester,
    grade_level, credits (節數 for ce)}}}} for the caller's tenant; ids of another tenant or of
    no student are absent. requested_by: the user id of the registrar the caller acts for (kept
    in each student's history). Errors: invalid."""
    caller.require(*EXPORT_ROLES)
    ids = _ids(student_ids)
    year = int(school_year)
    if not ids:
        return {}
    s = uow.session
    rows = s.execute(sa.select(students, classes.c.name.label("class_name"))
                     .outerjoin(classes, classes.c.id == students.c.class_id)
                     .where(students.c.tenant == caller.tenant, students.c.id.in_(ids))).all()
    out = {}
    for r in rows:
        out[str(r.id)] = {"national_id": vault.decrypt(r.national_id_enc),
                          "birth_date": r.birth_date.isoformat() if r.birth_date else None,
                          "name": r.name, "class_name": r.class_name or "", "seat_no": r.seat_no,
                          "status": r.status, "outcomes": {}}
        _audit(uow, caller.tenant, "student", r.id, "national_id_exported", caller.user_id,
               after={"school_year": year, "requested_by": str(requested_by) if requested_by else None},
               actor_username=caller.username)
    for o in s.execute(sa.select(outcomes.c.id, outcomes.c.student_id, outcomes.c.status, outcomes.c.size,
                                 outcomes.c.content_type, outcomes.c.sha256, outcomes.c.file_id,
                                 outcomes.c.semester, sections.c.grade_level, sections.c.credits)
                       .join(sections, sections.c.id == outcomes.c.section_id)
                       .where(outcomes.c.tenant == caller.tenant, outcomes.c.school_year == year,
                              outcomes.c.student_id.in_(ids))).all():
        student = out.get(str(o.student_id))
        if student is not None:
            student["outcomes"][str(o.id)] = {
                "status": o.status, "size": o.size, "content_type": o.content_type, "sha256": o.sha256,
                "file_id": str(o.file_id), "semester": o.semester, "grade_level": o.grade_level,
                "credits": o.credits}
    uow.commit()
    return out


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
