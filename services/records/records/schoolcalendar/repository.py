"""Storage of the calendar copy, with an in-memory fake."""
import copy
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from .orm import calendar_terms


class SqlCalendarCopy:
    def __init__(self, session):
        self.s = session

    def apply(self, tenant, term: dict) -> bool:
        """Keep `term` (a calendar-changed payload, ISO dates) unless a version as new or newer
        is held: a redelivered or late event changes nothing. True when it was applied."""
        values = dict(tenant=tenant, school_year=term["school_year"], semester=term["semester"],
                      version=term["version"], starts_on=dt.date.fromisoformat(term["starts_on"]),
                      ends_on=dt.date.fromisoformat(term["ends_on"]), term=term)
        stmt = insert(calendar_terms).values(**values)
        res = self.s.execute(stmt.on_conflict_do_update(
            index_elements=["tenant", "school_year", "semester"],
            set_={k: stmt.excluded[k] for k in ("version", "starts_on", "ends_on", "term")} | {"received_at": sa.func.now()},
            where=calendar_terms.c.version < stmt.excluded.version))
        return res.rowcount == 1

    def term(self, tenant, school_year, semester):
        """The held payload of one term, or None."""
        return self.s.execute(sa.select(calendar_terms.c.term).where(
            calendar_terms.c.tenant == tenant, calendar_terms.c.school_year == school_year,
            calendar_terms.c.semester == semester)).scalar()

    def terms(self, tenant) -> list:
        return list(self.s.execute(sa.select(calendar_terms.c.term).where(calendar_terms.c.tenant == tenant)
                                   .order_by(calendar_terms.c.starts_on)).scalars())


class FakeCalendarCopy:
    def __init__(self):
        self.rows = {}

    def apply(self, tenant, term):
        key = (tenant, term["school_year"], term["semester"])
        held = self.rows.get(key)
        if held is not None and held["version"] >= term["version"]:
            return False
        self.rows[key] = copy.deepcopy(term)
        return True

    def term(self, tenant, school_year, semester):
        return copy.deepcopy(self.rows.get((tenant, school_year, semester)))

    def terms(self, tenant):
        return sorted([copy.deepcopy(t) for (tn, _, _), t in self.rows.items() if tn == tenant],
                      key=lambda t: t["starts_on"])


REPOSITORIES = {"calendar": (SqlCalendarCopy, FakeCalendarCopy)}
