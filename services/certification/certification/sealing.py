"""Sealed students in certification (issue 9 item 7): a copy of `sealed`; the database refuses
writes to their tasks (migration 0005), so no further decision can be made for them."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from portfolio_common import sealing

from .orm import metadata

sealed_students = sealing.table(metadata)


class SqlSealedRepository:
    def __init__(self, session):
        self.s = session

    def add(self, tenant, student_id, student_user_id, sealed_at) -> bool:
        return self.s.execute(insert(sealed_students).values(
            tenant=tenant, student_id=student_id, student_user_id=student_user_id, sealed_at=sealed_at)
            .on_conflict_do_nothing()).rowcount == 1

    def sealed_among(self, tenant, student_ids) -> set:
        if not student_ids:
            return set()
        return {str(s) for s in self.s.execute(sa.select(sealed_students.c.student_id).where(
            sealed_students.c.tenant == tenant, sealed_students.c.student_id.in_(list(student_ids)))).scalars()}


class FakeSealedRepository:
    def __init__(self):
        self.rows = {}

    def add(self, tenant, student_id, student_user_id, sealed_at):
        if (tenant, str(student_id)) in self.rows:
            return False
        self.rows[(tenant, str(student_id))] = sealed_at
        return True

    def sealed_among(self, tenant, student_ids):
        return {str(s) for s in student_ids if (tenant, str(s)) in self.rows}


def record_sealed(uow, env) -> bool:
    """Consumer of `sealed`: remember the seal once (tenant, student); redeliveries change nothing."""
    if not uow.claim(env["event_id"], "certification.handle_sealed"):
        return False
    p = env["payload"]
    uow.sealed.add(env["tenant"], str(p["student_id"]), str(p["student_user_id"]), p["sealed_at"])
    uow.commit()
    return True
