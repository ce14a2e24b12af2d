"""Storage of outcome states, performance copies, current selections and their change log;
plus an in-memory fake with the same behaviour."""
import copy

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from ..orm import (certified_outcomes, lock_events, locked_selections, outcome_states, performance_copies,
                   release_consents, selection_changes, student_locks, student_selections)


def _outcome_upsert(only_if_newer: bool):
    """INSERT ... ON CONFLICT (outcome_id) DO UPDATE to `uploaded`, built once (each event used to
    build it again, the `excluded` alias included); executed with the row as parameters."""
    stmt = insert(outcome_states)
    return stmt.on_conflict_do_update(
        index_elements=["outcome_id"], set_={"state": "uploaded", "reason": None, "changed_at": stmt.excluded.changed_at},
        where=(outcome_states.c.changed_at < stmt.excluded.changed_at) if only_if_newer else None)


_UPLOADED_IF_NEWER = _outcome_upsert(True)
_REOPEN = _outcome_upsert(False)


class SqlChoiceRepository:
    def __init__(self, session):
        self.s = session

    # --- event-fed copies -------------------------------------------------------------
    def add_outcome_state(self, row: dict) -> bool:
        """An uploaded outcome waits for its teacher; a newer upload of the same outcome (a new
        round after a return) waits again, an older or redelivered one changes nothing."""
        return self.s.execute(_UPLOADED_IF_NEWER, row).rowcount == 1

    def reopen_outcome(self, row: dict):
        """The outcome waits for a decision again (a withdrawn certification, a new round)."""
        self.s.execute(_REOPEN, row)

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
            index_elements=["tenant", "student_user_id", "school_year"],
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


    # --- consent --------------------------------------------------------------------------
    def add_consent(self, row: dict):
        self.s.execute(release_consents.insert().values(**row))

    def consents(self, tenant, student_user_id, year) -> list:
        c = release_consents.c
        rows = self.s.execute(sa.select(release_consents).where(
            c.tenant == tenant, c.student_user_id == student_user_id, c.school_year == year)
            .order_by(c.id.desc())).all()
        return [dict(r._mapping) for r in rows]

    def latest_consent(self, tenant, student_user_id, year):
        rows = self.consents(tenant, student_user_id, year)
        return rows[0] if rows else None

    def consent_by_student(self, tenant, year) -> dict:
        """{student_user_id: given (bool)} from each student's newest row."""
        c = release_consents.c
        rows = self.s.execute(sa.select(c.student_user_id, c.action).distinct(c.student_user_id).where(
            c.tenant == tenant, c.school_year == year).order_by(c.student_user_id, c.id.desc())).all()
        return {str(r.student_user_id): r.action == "given" for r in rows}

    # --- locks ------------------------------------------------------------------------------
    def student_lock(self, tenant, student_user_id, year):
        """The student's lock row when it is `locked` (None when never locked or unlocked)."""
        row = self.lock_row(tenant, student_user_id, year)
        return row if row and row["state"] == "locked" else None

    def lock_row(self, tenant, student_user_id, year):
        c = student_locks.c
        row = self.s.execute(sa.select(student_locks).where(
            c.tenant == tenant, c.student_user_id == student_user_id, c.school_year == year)).first()
        return dict(row._mapping) if row else None

    def lock_rows(self, tenant, year) -> dict:
        c = student_locks.c
        return {str(r.student_user_id): dict(r._mapping) for r in self.s.execute(
            sa.select(student_locks).where(c.tenant == tenant, c.school_year == year)).all()}

    def save_lock(self, row: dict):
        stmt = insert(student_locks).values(**row)
        self.s.execute(stmt.on_conflict_do_update(
            index_elements=["tenant", "student_user_id", "school_year"],
            set_={k: stmt.excluded[k] for k in ("state", "version", "consent", "changed_by", "changed_at")}))

    def add_lock_event(self, row: dict):
        self.s.execute(lock_events.insert().values(**row))

    def lock_events(self, tenant, year) -> list:
        c = lock_events.c
        return [dict(r._mapping) for r in self.s.execute(sa.select(lock_events).where(
            c.tenant == tenant, c.school_year == year).order_by(c.id.desc())).all()]

    def hold(self, row: dict):
        self.s.execute(locked_selections.insert().values(**row))

    def locked_outcome_ids(self, tenant, outcome_ids) -> set:
        """Those of `outcome_ids` held in a student's CURRENT locked copy (the lock row is
        `locked` and names that version); an unlocked student's earlier copies do not count."""
        if not outcome_ids:
            return set()
        rows = self.s.execute(sa.text(
            "select distinct o->>'outcome_id' as oid from locked_selections ls"
            " join student_locks sl on sl.tenant = ls.tenant and sl.school_year = ls.school_year"
            " and sl.student_user_id = ls.student_user_id and sl.version = ls.version and sl.state = 'locked'"
            " cross join lateral jsonb_array_elements(ls.outcomes) o"
            " where ls.tenant = :t and o->>'outcome_id' = any(:ids)"),
            {"t": tenant, "ids": [str(i) for i in outcome_ids]}).all()
        return {r.oid for r in rows}

    def held_versions(self, tenant, year, student_user_id=None) -> list:
        c = locked_selections.c
        q = sa.select(locked_selections).where(c.tenant == tenant, c.school_year == year)
        if student_user_id:
            q = q.where(c.student_user_id == student_user_id)
        return [dict(r._mapping) for r in self.s.execute(q.order_by(c.student_user_id, c.version)).all()]

    # --- the registrar's overview -------------------------------------------------------------
    def counts_by_student(self, tenant, year) -> dict:
        """{student_user_id: {certified, waiting, returned, performances (own), others}}."""
        out = {}

        def bump(uid, key, n):
            out.setdefault(str(uid), {"certified": 0, "waiting": 0, "returned": 0, "performances": 0,
                                      "others": 0})[key] += n
        co, os_, pc = certified_outcomes.c, outcome_states.c, performance_copies.c
        for r in self.s.execute(sa.select(co.student_user_id, sa.func.count()).where(
                co.tenant == tenant, co.school_year == year).group_by(co.student_user_id)).all():
            bump(r[0], "certified", r[1])
        for r in self.s.execute(sa.select(os_.student_user_id, os_.state, sa.func.count()).where(
                os_.tenant == tenant, os_.school_year == year,
                os_.outcome_id.not_in(sa.select(co.outcome_id))).group_by(os_.student_user_id, os_.state)).all():
            bump(r[0], "waiting" if r[1] == "uploaded" else "returned", r[2])
        for r in self.s.execute(sa.select(pc.student_user_id, pc.entered_by == "student", sa.func.count()).where(
                pc.tenant == tenant, pc.school_year == year).group_by(pc.student_user_id, pc.entered_by == "student")).all():
            bump(r[0], "performances" if r[1] else "others", r[2])
        return out


class FakeChoiceRepository:
    def __init__(self, selections=None):
        self.states, self.performances, self.current_rows, self.change_rows = {}, {}, {}, []
        self.consent_rows, self.locks, self.lock_event_rows, self.held_rows = [], {}, [], []
        self._selections = selections   # the fake certified copy, for the overview's counts

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

    def add_consent(self, row):
        self.consent_rows.append(dict(copy.deepcopy(row), id=len(self.consent_rows) + 1,
                                      student_user_id=str(row["student_user_id"])))

    def consents(self, tenant, student_user_id, year):
        return [copy.deepcopy(r) for r in reversed(self.consent_rows) if r["tenant"] == tenant
                and r["student_user_id"] == str(student_user_id) and r["school_year"] == year]

    def latest_consent(self, tenant, student_user_id, year):
        rows = self.consents(tenant, student_user_id, year)
        return rows[0] if rows else None

    def consent_by_student(self, tenant, year):
        out = {}
        for r in self.consent_rows:
            if r["tenant"] == tenant and r["school_year"] == year:
                out[r["student_user_id"]] = r["action"] == "given"
        return out

    def student_lock(self, tenant, student_user_id, year):
        row = self.lock_row(tenant, student_user_id, year)
        return row if row and row["state"] == "locked" else None

    def lock_row(self, tenant, student_user_id, year):
        return copy.deepcopy(self.locks.get((tenant, str(student_user_id), year)))

    def lock_rows(self, tenant, year):
        return {u: copy.deepcopy(r) for (t, u, y), r in self.locks.items() if t == tenant and y == year}

    def save_lock(self, row):
        self.locks[(row["tenant"], str(row["student_user_id"]), row["school_year"])] = copy.deepcopy(row)

    def add_lock_event(self, row):
        self.lock_event_rows.append(dict(copy.deepcopy(row), id=len(self.lock_event_rows) + 1))

    def lock_events(self, tenant, year):
        return [copy.deepcopy(r) for r in reversed(self.lock_event_rows) if r["tenant"] == tenant
                and r["school_year"] == year]

    def hold(self, row):
        key = (row["tenant"], row["school_year"], str(row["student_user_id"]), row["version"])
        assert key not in {(r["tenant"], r["school_year"], str(r["student_user_id"]), r["version"])
                           for r in self.held_rows}, "locked_selections_pkey"
        self.held_rows.append(copy.deepcopy(row))

    def locked_outcome_ids(self, tenant, outcome_ids):
        wanted = {str(i) for i in outcome_ids}
        out = set()
        for r in self.held_rows:
            lock = self.locks.get((r["tenant"], str(r["student_user_id"]), r["school_year"]))
            if r["tenant"] == tenant and lock and lock["state"] == "locked" and lock["version"] == r["version"]:
                out |= {str(o["outcome_id"]) for o in r["outcomes"]} & wanted
        return out

    def held_versions(self, tenant, year, student_user_id=None):
        return sorted([copy.deepcopy(r) for r in self.held_rows if r["tenant"] == tenant and r["school_year"] == year
                       and (student_user_id is None or str(r["student_user_id"]) == str(student_user_id))],
                      key=lambda r: (str(r["student_user_id"]), r["version"]))

    def counts_by_student(self, tenant, year):
        out = {}

        def bump(uid, key):
            out.setdefault(str(uid), {"certified": 0, "waiting": 0, "returned": 0, "performances": 0,
                                      "others": 0})[key] += 1
        certified = self._selections.certified if self._selections else {}
        for r in certified.values():
            if r["tenant"] == tenant and r["school_year"] == year:
                bump(r["student_user_id"], "certified")
        for oid, r in self.states.items():
            if r["tenant"] == tenant and r["school_year"] == year and oid not in certified:
                bump(r["student_user_id"], "waiting" if r["state"] == "uploaded" else "returned")
        for r in self.performances.values():
            if r["tenant"] == tenant and r["school_year"] == year:
                bump(r["student_user_id"], "performances" if r["entered_by"] == "student" else "others")
        return out

