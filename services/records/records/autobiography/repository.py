"""Storage of autobiography versions, with an in-memory fake."""
import copy
import uuid

import sqlalchemy as sa

from .orm import autobiography_versions as t


class SqlAutobiographyRepository:
    def __init__(self, session):
        self.s = session

    def versions(self, tenant, student_id, lock=False) -> list:
        """Every version of a student, newest first."""
        q = sa.select(t).where(t.c.tenant == tenant, t.c.student_id == student_id).order_by(t.c.version_no.desc())
        return [dict(r._mapping) for r in self.s.execute(q.with_for_update() if lock else q).all()]

    def latest_of(self, tenant, student_ids) -> dict:
        if not student_ids:
            return {}
        rows = self.s.execute(sa.select(t).where(t.c.tenant == tenant, t.c.student_id.in_(list(student_ids)))
                              .order_by(t.c.student_id, t.c.version_no.desc())
                              .distinct(t.c.student_id)).all()
        return {str(r.student_id): dict(r._mapping) for r in rows}

    def get(self, tenant, version_id, lock=False):
        q = sa.select(t).where(t.c.tenant == tenant, t.c.id == version_id)
        row = self.s.execute(q.with_for_update() if lock else q).first()
        return dict(row._mapping) if row else None

    def add(self, values) -> uuid.UUID:
        vid = uuid.uuid4()
        self.s.execute(t.insert().values(id=vid, **values))
        return vid

    def set_review(self, version_id, values) -> bool:
        res = self.s.execute(t.update().where(t.c.id == version_id, t.c.status == "submitted").values(**values))
        return res.rowcount == 1


class FakeAutobiographyRepository:
    def __init__(self):
        self.rows = {}

    def _check(self, values):
        unknown = set(values) - set(t.c.keys())
        assert not unknown, f"no such columns: {unknown}"

    def versions(self, tenant, student_id, lock=False):
        return sorted([copy.deepcopy(r) for r in self.rows.values() if r["tenant"] == tenant
                       and str(r["student_id"]) == str(student_id)], key=lambda r: -r["version_no"])

    def latest_of(self, tenant, student_ids):
        out = {}
        for sid in student_ids:
            v = self.versions(tenant, sid)
            if v:
                out[str(sid)] = v[0]
        return out

    def get(self, tenant, version_id, lock=False):
        r = self.rows.get(uuid.UUID(str(version_id)))
        return copy.deepcopy(r) if r and r["tenant"] == tenant else None

    def add(self, values):
        self._check(values)
        vid = uuid.uuid4()
        self.rows[vid] = dict({c: None for c in t.c.keys()}, **values, id=vid)
        return vid

    def set_review(self, version_id, values):
        self._check(values)
        r = self.rows.get(uuid.UUID(str(version_id)))
        if r is None or r["status"] != "submitted":
            return False
        r.update(values)
        return True


REPOSITORIES = {"autobiography_versions": (SqlAutobiographyRepository, FakeAutobiographyRepository)}
