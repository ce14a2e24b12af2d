"""Storage of certified copies, selections, locks and held selections; plus an in-memory fake."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from .orm import certified_outcomes, locked_selections, selection_locks


class SqlSelectionRepository:
    def __init__(self, session):
        self.s = session

    def add_certified(self, row: dict) -> bool:
        """Hold the certified copy; a later certification of the same outcome (a new round on
        another file) replaces an earlier one, a redelivered or older one changes nothing."""
        stmt = insert(certified_outcomes).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["outcome_id"], set_={k: stmt.excluded[k] for k in row if k != "outcome_id"},
            where=certified_outcomes.c.certified_at < stmt.excluded.certified_at)
        return self.s.execute(stmt).rowcount == 1

    def remove_certified(self, tenant, outcome_id, sha256) -> bool:
        """A withdrawn certification: the copy of that file leaves what students may select
        (the use case takes it out of current selections, with a change kept). The held locked
        copies are not touched."""
        held = self.s.execute(sa.select(certified_outcomes.c.outcome_id).where(
            certified_outcomes.c.outcome_id == outcome_id, certified_outcomes.c.tenant == tenant,
            certified_outcomes.c.sha256 == sha256).with_for_update()).first()
        if held is None:
            return False
        self.s.execute(certified_outcomes.delete().where(certified_outcomes.c.outcome_id == outcome_id))
        return True

    def certified_for(self, tenant, student_user_id, year) -> list:
        rows = self.s.execute(sa.select(certified_outcomes).where(
            certified_outcomes.c.tenant == tenant, certified_outcomes.c.student_user_id == student_user_id,
            certified_outcomes.c.school_year == year).order_by(certified_outcomes.c.certified_at)).all()
        return [dict(r._mapping) for r in rows]

    def certified_by_ids(self, ids) -> dict:
        if not ids:
            return {}
        rows = self.s.execute(sa.select(certified_outcomes).where(certified_outcomes.c.outcome_id.in_(list(ids)))).all()
        return {str(r.outcome_id): dict(r._mapping) for r in rows}

    def serialise(self, tenant, year):
        """Saves and the registrar's lock of one tenant's year take turns."""
        self.s.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"selection:{tenant}:{year}"})

    def lock_of(self, tenant, year):
        row = self.s.execute(sa.select(selection_locks).where(
            selection_locks.c.tenant == tenant, selection_locks.c.school_year == year)).first()
        return dict(row._mapping) if row else None

    def add_lock(self, tenant, year, locked_by, at) -> bool:
        return self.s.execute(insert(selection_locks).values(
            tenant=tenant, school_year=year, locked_by=locked_by, locked_at=at)
            .on_conflict_do_nothing()).rowcount == 1

    def hold(self, tenant, year, student_user_id, student_id, outcomes, at, performances=()):
        self.s.execute(locked_selections.insert().values(
            tenant=tenant, school_year=year, student_user_id=student_user_id, student_id=student_id,
            locked_at=at, outcomes=outcomes, performances=list(performances)))

    def held(self, tenant, year) -> list:
        return [dict(r._mapping) for r in self.s.execute(sa.select(locked_selections).where(
            locked_selections.c.tenant == tenant, locked_selections.c.school_year == year)).all()]


class FakeSelectionRepository:
    def __init__(self):
        self.certified, self.locks, self.holds = {}, {}, []

    def add_certified(self, row):
        held = self.certified.get(str(row["outcome_id"]))
        if held and held["certified_at"] >= row["certified_at"]:
            return False
        self.certified[str(row["outcome_id"])] = dict(row, outcome_id=str(row["outcome_id"]))
        return True

    def remove_certified(self, tenant, outcome_id, sha256):
        held = self.certified.get(str(outcome_id))
        if not held or held["tenant"] != tenant or held["sha256"] != sha256:
            return False
        del self.certified[str(outcome_id)]
        return True

    def certified_for(self, tenant, student_user_id, year):
        return [r for r in self.certified.values() if r["tenant"] == tenant
                and str(r["student_user_id"]) == str(student_user_id) and r["school_year"] == year]

    def certified_by_ids(self, ids):
        return {str(i): dict(self.certified[str(i)]) for i in ids if str(i) in self.certified}

    def serialise(self, tenant, year):
        pass

    def lock_of(self, tenant, year):
        return self.locks.get((tenant, year))

    def add_lock(self, tenant, year, locked_by, at):
        if (tenant, year) in self.locks:
            return False
        self.locks[(tenant, year)] = {"locked_by": locked_by, "locked_at": at}
        return True

    def hold(self, tenant, year, student_user_id, student_id, outcomes, at, performances=()):
        self.holds.append(dict(tenant=tenant, school_year=year, student_user_id=student_user_id,
                               student_id=student_id, outcomes=outcomes, locked_at=at,
                               performances=list(performances)))

    def held(self, tenant, year):
        return [h for h in self.holds if h["tenant"] == tenant and h["school_year"] == year]
