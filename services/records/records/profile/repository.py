"""Storage of student profiles and classes behind a small interface, with an in-memory fake."""
import copy
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from portfolio_common import clock

from ..orm import classes, students

_COLS = [students, classes.c.code.label("class_code"), classes.c.name.label("class_name"),
         classes.c.school_year.label("class_school_year"),
         classes.c.homeroom_user_id.label("class_homeroom_user_id")]


class SqlStudentRepository:
    def __init__(self, session):
        self.s = session

    def _one(self, *where, lock=False):
        q = sa.select(*_COLS).outerjoin(classes, classes.c.id == students.c.class_id).where(*where)
        if lock:
            q = q.with_for_update(of=students)
        row = self.s.execute(q).first()
        return dict(row._mapping) if row else None

    def get(self, tenant, student_id, lock=False):
        return self._one(students.c.tenant == tenant, students.c.id == student_id, lock=lock)

    def by_student_no(self, tenant, student_no, lock=False):
        return self._one(students.c.tenant == tenant, students.c.student_no == student_no, lock=lock)

    def by_national_hash(self, tenant, national_id_hash):
        return self._one(students.c.tenant == tenant, students.c.national_id_hash == national_id_hash)

    def by_student_nos(self, tenant, student_nos) -> dict:
        """{student_no: student} of those named that exist (one query; an import's rows)."""
        out = {}
        nos = sorted(set(student_nos))
        for i in range(0, len(nos), 5000):
            q = (sa.select(*_COLS).outerjoin(classes, classes.c.id == students.c.class_id)
                 .where(students.c.tenant == tenant, students.c.student_no.in_(nos[i:i + 5000])))
            out.update({r.student_no: dict(r._mapping) for r in self.s.execute(q).all()})
        return out

    def by_user(self, tenant, user_id):
        return self._one(students.c.tenant == tenant, students.c.user_id == user_id)

    def list(self, tenant, class_code=None):
        q = sa.select(*_COLS).outerjoin(classes, classes.c.id == students.c.class_id).where(students.c.tenant == tenant)
        if class_code:
            q = q.where(classes.c.code == class_code)
        return [dict(r._mapping) for r in self.s.execute(q.order_by(students.c.student_no)).all()]

    def ensure_class(self, tenant, school_year, code, name=None):
        """The class's id, created (named `name`, else its code) when missing. An existing class
        keeps its name: one student's profile never renames the class for everyone in it."""
        stmt = insert(classes).values(tenant=tenant, school_year=school_year, code=code, name=name or code)
        stmt = stmt.on_conflict_do_update(   # a no-op update, so that RETURNING gives the id
            index_elements=["tenant", "school_year", "code"], set_={"name": classes.c.name})
        return self.s.execute(stmt.returning(classes.c.id)).scalar_one()

    def list_classes(self, tenant, homeroom_user_id=None) -> list:
        """The tenant's classes [{code, name, school_year, homeroom_user_id}] by code (only those
        of one homeroom teacher when named)."""
        q = sa.select(classes).where(classes.c.tenant == tenant)
        if homeroom_user_id is not None:
            q = q.where(classes.c.homeroom_user_id == homeroom_user_id)
        return [dict(r._mapping) for r in self.s.execute(q.order_by(classes.c.code, classes.c.school_year)).all()]

    def find_class(self, tenant, school_year, code):
        row = self.s.execute(sa.select(classes).where(classes.c.tenant == tenant, classes.c.school_year == school_year,
                                                      classes.c.code == code)).first()
        return dict(row._mapping) if row else None

    def add(self, values) -> uuid.UUID:
        sid = uuid.uuid4()
        self.s.execute(students.insert().values(id=sid, version=1, **values))
        return sid

    def update(self, student_id, expected_version, values) -> bool:
        """Apply when the stored version is still the one the change was made from."""
        res = self.s.execute(students.update().where(students.c.id == student_id,
                                                     students.c.version == expected_version)
                             .values(version=students.c.version + 1, updated_at=clock.now(), **values))
        return res.rowcount == 1


def _columns_exist(values):
    unknown = set(values) - set(students.c.keys())
    assert not unknown, f"no such columns: {unknown}"  # the fake is as strict as the table


class FakeStudentRepository:
    def __init__(self):
        self.rows = {}
        self.classes = {}

    def _with_class(self, row):
        if row is None:
            return None
        out = copy.deepcopy(row)
        c = next((c for c in self.classes.values() if c["id"] == row.get("class_id")), None)
        out.update(class_code=c["code"] if c else None, class_name=c["name"] if c else None,
                   class_school_year=c["school_year"] if c else None,
                   class_homeroom_user_id=c.get("homeroom_user_id") if c else None)
        return out

    def _find(self, tenant, **match):
        for r in self.rows.values():
            if r["tenant"] == tenant and all(str(r.get(k)) == str(v) for k, v in match.items()):
                return self._with_class(r)
        return None

    def get(self, tenant, student_id, lock=False):
        return self._find(tenant, id=student_id)

    def by_student_no(self, tenant, student_no, lock=False):
        return self._find(tenant, student_no=student_no)

    def by_national_hash(self, tenant, national_id_hash):
        return self._find(tenant, national_id_hash=national_id_hash)

    def by_student_nos(self, tenant, student_nos):
        wanted = set(student_nos)
        return {r["student_no"]: self._with_class(r) for r in self.rows.values()
                if r["tenant"] == tenant and r["student_no"] in wanted}

    def by_user(self, tenant, user_id):
        return self._find(tenant, user_id=user_id)

    def list(self, tenant, class_code=None):
        out = [self._with_class(r) for r in self.rows.values() if r["tenant"] == tenant]
        return sorted([r for r in out if not class_code or r["class_code"] == class_code],
                      key=lambda r: r["student_no"])

    def ensure_class(self, tenant, school_year, code, name=None):
        key = (tenant, school_year, code)
        if key not in self.classes:
            self.classes[key] = {"id": uuid.uuid4(), "tenant": tenant, "school_year": school_year,
                                 "code": code, "name": name or code, "homeroom_user_id": None}
        return self.classes[key]["id"]

    def list_classes(self, tenant, homeroom_user_id=None):
        return sorted([copy.deepcopy(c) for c in self.classes.values() if c["tenant"] == tenant and (
            homeroom_user_id is None or str(c.get("homeroom_user_id")) == str(homeroom_user_id))],
            key=lambda c: (c["code"], c["school_year"]))

    def find_class(self, tenant, school_year, code):
        return copy.deepcopy(self.classes.get((tenant, school_year, code)))

    def add(self, values):
        _columns_exist(values)
        sid = uuid.uuid4()
        self.rows[sid] = dict(values, id=sid, version=1)
        return sid

    def update(self, student_id, expected_version, values):
        _columns_exist(values)
        row = self.rows.get(student_id) or self.rows.get(uuid.UUID(str(student_id)))
        if row is None or row["version"] != expected_version:
            return False
        row.update(values, version=row["version"] + 1)
        return True


REPOSITORIES = {"students": (SqlStudentRepository, FakeStudentRepository)}
