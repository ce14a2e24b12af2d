"""Storage of performances, with an in-memory fake as faithful as the table."""
import copy
import uuid

import sqlalchemy as sa

from ..orm import classes, students
from .orm import performances

_COLUMNS = set(performances.c.keys())


class SqlPerformanceRepository:
    def __init__(self, session):
        self.s = session

    def add(self, values) -> uuid.UUID:
        pid = values.get("id") or uuid.uuid4()
        self.s.execute(performances.insert().values(**(values | {"id": pid, "version": 1})))
        return pid

    def get(self, tenant, performance_id, lock=False):
        q = sa.select(performances).where(performances.c.tenant == tenant, performances.c.id == performance_id)
        row = self.s.execute(q.with_for_update() if lock else q).first()
        return dict(row._mapping) if row else None

    def of_student(self, tenant, student_id, school_year=None) -> list:
        q = sa.select(performances).where(performances.c.tenant == tenant, performances.c.student_id == student_id)
        if school_year is not None:
            q = q.where(performances.c.school_year == school_year)
        return [dict(r._mapping) for r in self.s.execute(
            q.order_by(performances.c.school_year.desc(), performances.c.created_at)).all()]

    def update(self, performance_id, expected_version, values) -> bool:
        """Compare-and-set on `version`: False when someone changed it first."""
        res = self.s.execute(performances.update().where(
            performances.c.id == performance_id, performances.c.version == expected_version)
            .values(version=performances.c.version + 1, **values))
        return res.rowcount == 1

    def homeroom_of(self, tenant, student_id):
        """The homeroom teacher's user id of the student's class, or None."""
        return self.s.execute(sa.select(classes.c.homeroom_user_id).select_from(
            students.join(classes, classes.c.id == students.c.class_id)).where(
            students.c.tenant == tenant, students.c.id == student_id)).scalar()


class FakePerformanceRepository:
    def __init__(self):
        self.rows = {}
        self.homerooms = {}   # student_id -> homeroom user id (what the tests set up)

    def add(self, values):
        unknown = set(values) - _COLUMNS
        assert not unknown, f"no such columns: {unknown}"
        pid = values.get("id") or uuid.uuid4()
        self.rows[pid] = {c: None for c in _COLUMNS} | values | {"id": pid, "version": 1}
        return pid

    def get(self, tenant, performance_id, lock=False):
        r = self.rows.get(uuid.UUID(str(performance_id)))
        return copy.deepcopy(r) if r and r["tenant"] == tenant else None

    def of_student(self, tenant, student_id, school_year=None):
        return [copy.deepcopy(r) for r in sorted(self.rows.values(), key=lambda r: (-r["school_year"], r["created_at"]))
                if r["tenant"] == tenant and str(r["student_id"]) == str(student_id)
                and (school_year is None or r["school_year"] == school_year)]

    def update(self, performance_id, expected_version, values):
        unknown = set(values) - _COLUMNS
        assert not unknown, f"no such columns: {unknown}"
        r = self.rows.get(uuid.UUID(str(performance_id)))
        if r is None or r["version"] != expected_version:
            return False
        r.update(values, version=r["version"] + 1)
        return True

    def homeroom_of(self, tenant, student_id):
        return self.homerooms.get(str(student_id))


REPOSITORIES = {"performances": (SqlPerformanceRepository, FakePerformanceRepository)}
