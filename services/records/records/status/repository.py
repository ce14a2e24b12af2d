"""Storage of status changes, with an in-memory fake."""
import copy
import uuid

import sqlalchemy as sa

from .orm import status_changes


class SqlStatusRepository:
    def __init__(self, session):
        self.s = session

    def of_student(self, tenant, student_id) -> list:
        rows = self.s.execute(sa.select(status_changes).where(
            status_changes.c.tenant == tenant, status_changes.c.student_id == student_id)
            .order_by(status_changes.c.effective_on, status_changes.c.recorded_at)).all()
        return [dict(r._mapping) for r in rows]

    def get(self, tenant, change_id, lock=False):
        q = sa.select(status_changes).where(status_changes.c.tenant == tenant, status_changes.c.id == change_id)
        row = self.s.execute(q.with_for_update() if lock else q).first()
        return dict(row._mapping) if row else None

    def find(self, tenant, student_id, change, effective_on):
        row = self.s.execute(sa.select(status_changes).where(
            status_changes.c.tenant == tenant, status_changes.c.student_id == student_id,
            status_changes.c.change == change, status_changes.c.effective_on == effective_on)).first()
        return dict(row._mapping) if row else None

    def add(self, values) -> uuid.UUID:
        cid = uuid.uuid4()
        self.s.execute(status_changes.insert().values(id=cid, version=1, **values))
        return cid

    def void(self, change_id, expected_version, values) -> bool:
        res = self.s.execute(status_changes.update().where(
            status_changes.c.id == change_id, status_changes.c.version == expected_version,
            status_changes.c.voided_at.is_(None)).values(version=status_changes.c.version + 1, **values))
        return res.rowcount == 1


class FakeStatusRepository:
    def __init__(self):
        self.rows = {}

    def of_student(self, tenant, student_id):
        return sorted([copy.deepcopy(r) for r in self.rows.values()
                       if r["tenant"] == tenant and str(r["student_id"]) == str(student_id)],
                      key=lambda r: (r["effective_on"], r["recorded_at"]))

    def get(self, tenant, change_id, lock=False):
        r = self.rows.get(uuid.UUID(str(change_id)))
        return copy.deepcopy(r) if r and r["tenant"] == tenant else None

    def find(self, tenant, student_id, change, effective_on):
        return next((copy.deepcopy(r) for r in self.rows.values() if r["tenant"] == tenant
                     and str(r["student_id"]) == str(student_id) and r["change"] == change
                     and r["effective_on"] == effective_on), None)

    def add(self, values):
        unknown = set(values) - set(status_changes.c.keys())
        assert not unknown, f"no such columns: {unknown}"  # as faithful as the table
        cid = uuid.uuid4()
        self.rows[cid] = dict(values, id=cid, version=1, voided_at=None, voided_by=None, void_reason=None)
        return cid

    def void(self, change_id, expected_version, values):
        r = self.rows.get(uuid.UUID(str(change_id)))
        if r is None or r["version"] != expected_version or r["voided_at"] is not None:
            return False
        r.update(values, version=r["version"] + 1)
        return True


REPOSITORIES = {"status_changes": (SqlStatusRepository, FakeStatusRepository)}
