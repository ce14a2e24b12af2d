"""Storage of sealed students, with an in-memory fake."""
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from .orm import sealed_read_grants, sealed_reads, sealed_students


class SqlSealedRepository:
    def __init__(self, session):
        self.s = session

    def add(self, tenant, student_id, student_user_id, sealed_at) -> bool:
        return self.s.execute(insert(sealed_students).values(
            tenant=tenant, student_id=student_id, student_user_id=student_user_id, sealed_at=sealed_at)
            .on_conflict_do_nothing()).rowcount == 1

    def is_sealed(self, tenant, student_id) -> bool:
        return self.s.execute(sa.select(sa.literal(1)).where(
            sealed_students.c.tenant == tenant, sealed_students.c.student_id == student_id)).first() is not None

    def sealed_among(self, tenant, student_ids) -> set:
        """The ids (str) of the given students that are sealed in the tenant."""
        ids = [str(i) for i in student_ids]
        if not ids:
            return set()
        return {str(i) for i in self.s.execute(sa.select(sealed_students.c.student_id).where(
            sealed_students.c.tenant == tenant, sealed_students.c.student_id.in_(ids))).scalars()}

    def add_grant(self, row: dict) -> bool:
        return self.s.execute(insert(sealed_read_grants).values(**row).on_conflict_do_nothing()).rowcount == 1

    def grant_for(self, tenant, student_id, reader_user_id, now):
        row = self.s.execute(sa.select(sealed_read_grants).where(
            sealed_read_grants.c.tenant == tenant, sealed_read_grants.c.student_id == student_id,
            sealed_read_grants.c.reader_user_id == reader_user_id, sealed_read_grants.c.expires_at > now)
            .order_by(sealed_read_grants.c.expires_at.desc()).limit(1)).first()
        return dict(row._mapping) if row else None

    def log_read(self, tenant, student_id, reader_user_id, request_id, at):
        self.s.execute(sealed_reads.insert().values(id=uuid.uuid4(), tenant=tenant, student_id=student_id,
                                                    reader_user_id=reader_user_id, request_id=request_id,
                                                    read_at=at))


class FakeSealedRepository:
    def __init__(self):
        self.rows = {}

    def add(self, tenant, student_id, student_user_id, sealed_at):
        if (tenant, str(student_id)) in self.rows:
            return False
        self.rows[(tenant, str(student_id))] = dict(student_user_id=str(student_user_id), sealed_at=sealed_at)
        return True

    def is_sealed(self, tenant, student_id):
        return (tenant, str(student_id)) in self.rows

    def sealed_among(self, tenant, student_ids):
        return {str(i) for i in student_ids if (tenant, str(i)) in self.rows}

    grants, reads = None, None

    def add_grant(self, row):
        self.grants = self.grants or {}
        if str(row["request_id"]) in self.grants:
            return False
        self.grants[str(row["request_id"])] = dict(row)
        return True

    def grant_for(self, tenant, student_id, reader_user_id, now):
        hits = [g for g in (self.grants or {}).values() if g["tenant"] == tenant
                and str(g["student_id"]) == str(student_id) and str(g["reader_user_id"]) == str(reader_user_id)
                and g["expires_at"] > now]
        return hits[0] if hits else None

    def log_read(self, tenant, student_id, reader_user_id, request_id, at):
        self.reads = (self.reads or []) + [dict(tenant=tenant, student_id=str(student_id),
                                                reader_user_id=str(reader_user_id), request_id=str(request_id),
                                                read_at=at)]


REPOSITORIES = {"sealed_students": (SqlSealedRepository, FakeSealedRepository)}
