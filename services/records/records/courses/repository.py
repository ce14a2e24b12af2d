"""Storage of course grades (records/itemkit.py) and the sections and enrolments they hang on,
with in-memory fakes."""
import copy
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from ..itemkit import repositories
from ..orm import enrolments, sections
from .orm import course_grades


class SqlSectionRepository:
    def __init__(self, session):
        self.s = session

    def get(self, tenant, section_id):
        row = self.s.execute(sa.select(sections).where(sections.c.tenant == tenant,
                                                       sections.c.id == section_id)).first()
        return dict(row._mapping) if row else None

    def by_code(self, tenant, school_year, semester, course_code) -> list:
        """The term's sections with this course code (one per class it runs in)."""
        rows = self.s.execute(sa.select(sections).where(
            sections.c.tenant == tenant, sections.c.school_year == school_year,
            sections.c.semester == semester, sections.c.course_code == course_code)
            .order_by(sections.c.class_code)).all()
        return [dict(r._mapping) for r in rows]

    def of_ids(self, tenant, ids) -> dict:
        if not ids:
            return {}
        rows = self.s.execute(sa.select(sections).where(sections.c.tenant == tenant,
                                                        sections.c.id.in_(list(ids)))).all()
        return {r.id: dict(r._mapping) for r in rows}

    def is_enrolled(self, section_id, student_id) -> bool:
        return self.s.execute(sa.select(enrolments.c.student_id).where(
            enrolments.c.section_id == section_id, enrolments.c.student_id == student_id)).first() is not None

    def students_of(self, section_id) -> list:
        return [r.student_id for r in self.s.execute(
            sa.select(enrolments.c.student_id).where(enrolments.c.section_id == section_id)).all()]

    def enrol(self, section_id, student_id) -> bool:
        """True when the enrolment is new."""
        res = self.s.execute(insert(enrolments).values(section_id=section_id, student_id=student_id)
                             .on_conflict_do_nothing())
        return res.rowcount == 1


class FakeSectionRepository:
    def __init__(self):
        self.rows, self.enrolled = {}, set()

    def add(self, values) -> uuid.UUID:
        unknown = set(values) - set(sections.c.keys())
        assert not unknown, f"no such columns: {unknown}"
        sid = uuid.uuid4()
        self.rows[sid] = dict({c: None for c in sections.c.keys()}, **values, id=sid)
        return sid

    def get(self, tenant, section_id):
        r = self.rows.get(uuid.UUID(str(section_id)))
        return copy.deepcopy(r) if r and r["tenant"] == tenant else None

    def by_code(self, tenant, school_year, semester, course_code):
        return sorted([copy.deepcopy(r) for r in self.rows.values() if r["tenant"] == tenant and (
            r["school_year"], r["semester"], r["course_code"]) == (school_year, semester, course_code)],
            key=lambda r: r["class_code"])

    def of_ids(self, tenant, ids):
        return {i: copy.deepcopy(r) for i, r in self.rows.items() if i in set(ids) and r["tenant"] == tenant}

    def is_enrolled(self, section_id, student_id):
        return (str(section_id), str(student_id)) in self.enrolled

    def students_of(self, section_id):
        return [uuid.UUID(st) for sec, st in self.enrolled if sec == str(section_id)]

    def enrol(self, section_id, student_id):
        key = (str(section_id), str(student_id))
        new = key not in self.enrolled
        self.enrolled.add(key)
        return new


REPOSITORIES = repositories("course_grades", course_grades) | {
    "sections": (SqlSectionRepository, FakeSectionRepository)}
