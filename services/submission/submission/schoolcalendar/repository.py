"""Storage of calendar terms, per-year limits and their change log; plus an in-memory fake."""
import copy

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from ..orm import calendar_changes, calendar_limits, calendar_terms
from .domain import LIMIT_FIELDS

_TERM_KEYS = ("tenant", "school_year", "semester")


class SqlCalendarRepository:
    def __init__(self, session):
        self.s = session

    def serialise(self, tenant, school_year):
        """Changes of one tenant's school year take turns (limits span both its terms)."""
        self.s.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"calendar:{tenant}:{school_year}"})

    def terms(self, tenant) -> list:
        rows = self.s.execute(sa.select(calendar_terms).where(calendar_terms.c.tenant == tenant)
                              .order_by(calendar_terms.c.school_year.desc(), calendar_terms.c.semester.desc())).all()
        return [dict(r._mapping) for r in rows]

    def term(self, tenant, school_year, semester):
        row = self.s.execute(sa.select(calendar_terms).where(
            calendar_terms.c.tenant == tenant, calendar_terms.c.school_year == school_year,
            calendar_terms.c.semester == semester)).first()
        return dict(row._mapping) if row else None

    def save_term(self, row: dict):
        stmt = insert(calendar_terms).values(**row)
        self.s.execute(stmt.on_conflict_do_update(
            index_elements=list(_TERM_KEYS), set_={k: stmt.excluded[k] for k in row if k not in _TERM_KEYS}))

    def limits(self, tenant, school_year):
        row = self.s.execute(sa.select(calendar_limits).where(
            calendar_limits.c.tenant == tenant, calendar_limits.c.school_year == school_year)).first()
        return {k: row._mapping[k] for k in LIMIT_FIELDS} if row else None

    def save_limits(self, tenant, school_year, limits: dict, changed_by, changed_at):
        stmt = insert(calendar_limits).values(tenant=tenant, school_year=school_year, changed_by=changed_by,
                                              changed_at=changed_at, **limits)
        self.s.execute(stmt.on_conflict_do_update(
            index_elements=["tenant", "school_year"],
            set_={k: stmt.excluded[k] for k in (*LIMIT_FIELDS, "changed_by", "changed_at")}))

    def add_change(self, row: dict):
        self.s.execute(calendar_changes.insert().values(**row))

    def changes(self, tenant, school_year, semester) -> list:
        c = calendar_changes.c
        rows = self.s.execute(sa.select(calendar_changes).where(
            c.tenant == tenant, c.school_year == school_year, c.semester == semester).order_by(c.version.desc())).all()
        return [dict(r._mapping) for r in rows]


class FakeCalendarRepository:
    def __init__(self):
        self.term_rows, self.limit_rows, self.change_rows = {}, {}, []

    def serialise(self, tenant, school_year):
        pass

    def terms(self, tenant):
        return sorted([copy.deepcopy(r) for (t, _, _), r in self.term_rows.items() if t == tenant],
                      key=lambda r: (r["school_year"], r["semester"]), reverse=True)

    def term(self, tenant, school_year, semester):
        return copy.deepcopy(self.term_rows.get((tenant, school_year, semester)))

    def save_term(self, row):
        unknown = set(row) - set(calendar_terms.c.keys())
        assert not unknown, f"no such columns: {unknown}"  # as faithful as the table
        self.term_rows[tuple(row[k] for k in _TERM_KEYS)] = copy.deepcopy(row)

    def limits(self, tenant, school_year):
        return copy.deepcopy(self.limit_rows.get((tenant, school_year)))

    def save_limits(self, tenant, school_year, limits, changed_by, changed_at):
        self.limit_rows[(tenant, school_year)] = dict(limits)

    def add_change(self, row):
        unknown = set(row) - set(calendar_changes.c.keys())
        assert not unknown, f"no such columns: {unknown}"
        self.change_rows.append(copy.deepcopy(row))

    def changes(self, tenant, school_year, semester):
        return sorted([copy.deepcopy(r) for r in self.change_rows if (r["tenant"], r["school_year"], r["semester"])
                       == (tenant, school_year, semester)], key=lambda r: r["version"], reverse=True)
