"""Storage of outcome states, performance copies, current selections and their change log;
plus an in-memory fake with the same behaviour."""
import copy

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from ..orm import outcome_states, performance_copies, selection_changes, student_selections


class SqlChoiceRepository:
    def __init__(self, session):
        self.s = session

    # --- event-fed copies -------------------------------------------------------------
    def add_outcome_state(self, row: dict) -> bool:
        """An uploaded outcome waits for its teacher; a newer upload of the same outcome (a new
        round after a return) waits again, an older or redelivered one changes nothing."""
        stmt = insert(outcome_states).values(**row)
        return self.s.execute(stmt.on_conflict_do_update(
            index_elements=["outcome_id"], set_={"state": "uploaded", "reason": None, "changed_at": stmt.excluded.changed_at},
            where=outcome_states.c.changed_at < stmt.excluded.changed_at)).rowcount == 1

    def reopen_outcome(self, row: dict):
        """The outcome waits for a decision again (a withdrawn certification, a new round)."""
        stmt = insert(outcome_states).values(**row)
        self.s.execute(stmt.on_conflict_do_update(
            index_elements=["outcome_id"], set_={"state": "uploaded", "reason": None, "changed_at": stmt.excluded.changed_at}))

    def mark_returned(self, outcome_id, reason, at) -> bool:
        return self.s.execute(outcome_states.update().where(outcome_states.c.outcome_id == outcome_id)
                              .values(state="returned", reason=reason, changed_at=at)).rowcount == 1

    def outcome_states_for(self, tenant, student_user_id, year) -> list:
        c = outcome_states.c
        rows = self.s.execute(sa.select(outcome_states).where(
            c.tenant == tenant, c.student_user_id == student_user_id, c.school_year == year)
            .order_by(c.changed_at)).all()
        return [dict(r._mapping) for r in rows]

    def add_performance(self, row: dict) -> bool:
        return self.s.execute(insert(performance_copies).values(**row).on_conflict_do_nothing()).rowcount == 1

    def performances_for(self, tenant, student_user_id, year) -> list:
        c = performance_copies.c
        rows = self.s.execute(sa.select(performance_copies).where(
            c.tenant == tenant, c.student_user_id == student_user_id, c.school_year == year)
            .order_by(c.uploaded_at)).all()
        return [dict(r._mapping) for r in rows]

    def performances_by_id(self, ids) -> dict:
        if not ids:
            return {}
        rows = self.s.execute(sa.select(performance_copies).where(
            performance_copies.c.performance_id.in_(list(ids)))).all()
        return {str(r.performance_id): dict(r._mapping) for r in rows}

    # --- selections -----------------------------------------------------------------------
    def serialise_student(self, tenant, student_user_id, year):
        """One student's saves take turns, and together wait for (and block) the registrar's
        lock of the year: a shared lock on the year, an exclusive one on the student."""
        self.s.execute(sa.text("select pg_advisory_xact_lock_shared(hashtext(:k))"),
                       {"k": f"selection:{tenant}:{year}"})
        self.s.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"),
                       {"k": f"selection:{tenant}:{year}:{student_user_id}"})

    def current(self, tenant, student_user_id, year):
        c = student_selections.c
        row = self.s.execute(sa.select(student_selections).where(
            c.tenant == tenant, c.student_user_id == student_user_id, c.school_year == year)).first()
        return dict(row._mapping) if row else None

    def all_current(self, tenant, year) -> list:
        c = student_selections.c
        rows = self.s.execute(sa.select(student_selections).where(c.tenant == tenant, c.school_year == year)
                              .order_by(c.student_user_id)).all()
        return [dict(r._mapping) for r in rows]

    def save(self, row: dict):
        stmt = insert(student_selections).values(**row)
        self.s.execute(stmt.on_conflict_do_update(
            index_elements=["student_user_id", "school_year"],
            set_={k: stmt.excluded[k] for k in ("outcome_ids", "performance_ids", "version", "changed_by",
                                                 "changed_at")}))

    def add_change(self, row: dict):
        self.s.execute(selection_changes.insert().values(**row))

    def changes(self, tenant, student_user_id, year) -> list:
        c = selection_changes.c
        rows = self.s.execute(sa.select(selection_changes).where(
            c.tenant == tenant, c.student_user_id == student_user_id, c.school_year == year)
            .order_by(c.version.desc())).all()
        return [dict(r._mapping) for r in rows]


class FakeChoiceRepository:
    def __init__(self):
        self.states, self.performances, self.current_rows, self.change_rows = {}, {}, {}, []

    def add_outcome_state(self, row):
        held = self.states.get(str(row["outcome_id"]))
        if held and held["changed_at"] >= row["changed_at"]:
            return False
        if held:
            held.update(state="uploaded", reason=None, changed_at=row["changed_at"])
            return True
        self.states[str(row["outcome_id"])] = dict(row, outcome_id=str(row["outcome_id"]))
        return True

    def reopen_outcome(self, row):
        key = str(row["outcome_id"])
        if key in self.states:
            self.states[key].update(state="uploaded", reason=None, changed_at=row["changed_at"])
        else:
            self.states[key] = dict(row, outcome_id=key)

    def mark_returned(self, outcome_id, reason, at):
        row = self.states.get(str(outcome_id))
        if row is None:
            return False
        row.update(state="returned", reason=reason, changed_at=at)
        return True

    def outcome_states_for(self, tenant, student_user_id, year):
        return [copy.deepcopy(r) for r in self.states.values() if r["tenant"] == tenant
                and str(r["student_user_id"]) == str(student_user_id) and r["school_year"] == year]

    def add_performance(self, row):
        if str(row["performance_id"]) in self.performances:
            return False
        self.performances[str(row["performance_id"])] = dict(row, performance_id=str(row["performance_id"]))
        return True

    def performances_for(self, tenant, student_user_id, year):
        return [copy.deepcopy(r) for r in self.performances.values() if r["tenant"] == tenant
                and str(r["student_user_id"]) == str(student_user_id) and r["school_year"] == year]

    def performances_by_id(self, ids):
        return {str(i): copy.deepcopy(self.performances[str(i)]) for i in ids if str(i) in self.performances}

    def serialise_student(self, tenant, student_user_id, year):
        pass

    def current(self, tenant, student_user_id, year):
        return copy.deepcopy(self.current_rows.get((tenant, str(student_user_id), year)))

    def all_current(self, tenant, year):
        return [copy.deepcopy(r) for (t, _, y), r in sorted(self.current_rows.items()) if t == tenant and y == year]

    def save(self, row):
        self.current_rows[(row["tenant"], str(row["student_user_id"]), row["school_year"])] = copy.deepcopy(row)

    def add_change(self, row):
        key = (row["tenant"], str(row["student_user_id"]), row["school_year"], row["version"])
        assert key not in {(r["tenant"], str(r["student_user_id"]), r["school_year"], r["version"])
                           for r in self.change_rows}, "selection_changes_version"
        self.change_rows.append(copy.deepcopy(row))

    def changes(self, tenant, student_user_id, year):
        return sorted([copy.deepcopy(r) for r in self.change_rows if (r["tenant"], str(r["student_user_id"]),
                       r["school_year"]) == (tenant, str(student_user_id), year)],
                      key=lambda r: r["version"], reverse=True)
