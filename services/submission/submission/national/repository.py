"""Storage of batches, rows and reports (SQL), and an in-memory fake with the same methods."""
import uuid

import sqlalchemy as sa

from ..orm import certified_outcomes, locked_selections, selection_locks
from .orm import national_batches, national_reports, national_rows

ROW_FIELDS = ("roster", "row_no", "student_id", "student_user_id", "student_name", "class_name", "seat_no",
              "outcome_id", "course_code", "subject_name", "description", "sha256", "result", "field", "code")


def _d(row):
    return {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in row._mapping.items()}


class SqlNationalRepository:
    def __init__(self, session):
        self.s = session

    def serialise(self, tenant, year, semester):
        """Two submissions of one tenant's semester take turns."""
        self.s.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"),
                       {"k": f"national:{tenant}:{year}:{semester}"})

    def is_locked(self, tenant, year) -> bool:
        return self.s.execute(sa.select(selection_locks.c.tenant).where(
            selection_locks.c.tenant == tenant, selection_locks.c.school_year == year)).first() is not None

    def held(self, tenant, year) -> list:
        return [_d(r) for r in self.s.execute(sa.select(locked_selections).where(
            locked_selections.c.tenant == tenant, locked_selections.c.school_year == year)).all()]

    def certified_copy(self, tenant, year) -> dict:
        rows = self.s.execute(sa.select(certified_outcomes.c.outcome_id, certified_outcomes.c.semester,
                                        certified_outcomes.c.school_year, certified_outcomes.c.sha256).where(
            certified_outcomes.c.tenant == tenant, certified_outcomes.c.school_year == year)).all()
        return {str(r.outcome_id): {"semester": r.semester, "school_year": r.school_year, "sha256": r.sha256}
                for r in rows}

    def next_attempt(self, tenant, year, semester) -> int:
        return (self.s.execute(sa.select(sa.func.max(national_batches.c.attempt)).where(
            national_batches.c.tenant == tenant, national_batches.c.school_year == year,
            national_batches.c.semester == semester)).scalar() or 0) + 1

    def add_batch(self, batch: dict, rows: list):
        self.s.execute(national_batches.insert().values(**batch))
        if rows:
            self.s.execute(national_rows.insert(), [
                {**{k: r.get(k) for k in ROW_FIELDS}, "batch_id": batch["id"], "tenant": batch["tenant"]}
                for r in rows])

    def batch(self, tenant, batch_id):
        row = self.s.execute(sa.select(national_batches).where(
            national_batches.c.id == batch_id, national_batches.c.tenant == tenant)).first()
        return _d(row) if row else None

    def batches(self, tenant, year) -> list:
        return [_d(r) for r in self.s.execute(sa.select(national_batches).where(
            national_batches.c.tenant == tenant, national_batches.c.school_year == year)
            .order_by(national_batches.c.semester, national_batches.c.attempt)).all()]

    def rows(self, batch_id, student_user_id=None) -> list:
        q = sa.select(national_rows).where(national_rows.c.batch_id == batch_id)
        if student_user_id is not None:
            q = q.where(national_rows.c.student_user_id == student_user_id)
        return [_d(r) for r in self.s.execute(q.order_by(national_rows.c.roster, national_rows.c.row_no)).all()]

    def set_receipt(self, batch_id, values: dict, results: list):
        self.s.execute(national_batches.update().where(national_batches.c.id == batch_id).values(**values))
        for r in results:
            self.s.execute(national_rows.update().where(
                national_rows.c.batch_id == batch_id, national_rows.c.roster == r["roster"],
                national_rows.c.row_no == r["row"]).values(result=r["result"], field=r.get("field"),
                                                            code=r.get("code")))

    def add_report(self, report: dict):
        self.s.execute(national_reports.insert().values(**report))

    def reports(self, tenant, batch_ids=None, student_user_id=None) -> list:
        q = sa.select(national_reports).where(national_reports.c.tenant == tenant)
        if batch_ids is not None:
            q = q.where(national_reports.c.batch_id.in_(list(batch_ids)))
        if student_user_id is not None:
            q = q.where(national_reports.c.student_user_id == student_user_id)
        return [_d(r) for r in self.s.execute(q.order_by(national_reports.c.reported_at)).all()]

    def report(self, tenant, report_id):
        row = self.s.execute(sa.select(national_reports).where(
            national_reports.c.id == report_id, national_reports.c.tenant == tenant).with_for_update()).first()
        return _d(row) if row else None

    def resolve_report(self, report_id, values: dict):
        self.s.execute(national_reports.update().where(national_reports.c.id == report_id).values(**values))


class FakeNationalRepository:
    """In memory; `selections` is the fake selection repository (held copies, certified copy)."""

    def __init__(self, selections):
        self.sel = selections
        self.batches_, self.rows_, self.reports_ = {}, {}, {}

    def serialise(self, tenant, year, semester):
        pass

    def is_locked(self, tenant, year):
        return self.sel.lock_of(tenant, year) is not None

    def held(self, tenant, year):
        return [dict(h, student_id=str(h["student_id"]), student_user_id=str(h["student_user_id"]))
                for h in self.sel.held(tenant, year)]

    def certified_copy(self, tenant, year):
        return {k: {"semester": r["semester"], "school_year": r["school_year"], "sha256": r["sha256"]}
                for k, r in self.sel.certified.items() if r["tenant"] == tenant and r["school_year"] == year}

    def next_attempt(self, tenant, year, semester):
        return 1 + max([b["attempt"] for b in self.batches_.values() if (b["tenant"], b["school_year"], b["semester"])
                        == (tenant, year, semester)], default=0)

    def add_batch(self, batch, rows):
        self.batches_[str(batch["id"])] = {**batch, "id": str(batch["id"])}
        self.rows_[str(batch["id"])] = [{**{k: r.get(k) for k in ROW_FIELDS}, "batch_id": str(batch["id"]),
                                         "tenant": batch["tenant"]} for r in rows]

    def batch(self, tenant, batch_id):
        b = self.batches_.get(str(batch_id))
        return dict(b) if b and b["tenant"] == tenant else None

    def batches(self, tenant, year):
        return sorted((dict(b) for b in self.batches_.values() if b["tenant"] == tenant and b["school_year"] == year),
                      key=lambda b: (b["semester"], b["attempt"]))

    def rows(self, batch_id, student_user_id=None):
        return [dict(r) for r in self.rows_.get(str(batch_id), [])
                if student_user_id is None or str(r["student_user_id"]) == str(student_user_id)]

    def set_receipt(self, batch_id, values, results):
        self.batches_[str(batch_id)].update(values)
        index = {(r["roster"], r["row_no"]): r for r in self.rows_[str(batch_id)]}
        for r in results:
            index[(r["roster"], r["row"])].update(result=r["result"], field=r.get("field"), code=r.get("code"))

    def add_report(self, report):
        self.reports_[str(report["id"])] = {**report, "id": str(report["id"]), "batch_id": str(report["batch_id"]),
                                            "status": "open", "resolution": None, "resolved_by": None,
                                            "resolved_at": None}

    def reports(self, tenant, batch_ids=None, student_user_id=None):
        return [dict(r) for r in self.reports_.values() if r["tenant"] == tenant
                and (batch_ids is None or r["batch_id"] in {str(b) for b in batch_ids})
                and (student_user_id is None or str(r["student_user_id"]) == str(student_user_id))]

    def report(self, tenant, report_id):
        r = self.reports_.get(str(report_id))
        return dict(r) if r and r["tenant"] == tenant else None

    def resolve_report(self, report_id, values):
        self.reports_[str(report_id)].update(values)
