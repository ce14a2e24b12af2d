"""Storage of tasks (rounds), decisions, withdrawals, the school's return reasons and the
calendar copy behind a small interface, with an in-memory fake of the same shape."""
import copy
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from .orm import calendars, decisions, reminders_sent, return_reasons, tasks, withdrawals


class SqlTaskRepository:
    def __init__(self, session):
        self.s = session

    # ---- rounds
    def latest_round(self, tenant, outcome_id):
        """The outcome's newest round, locked for this transaction (None for a new outcome)."""
        row = self.s.execute(sa.select(tasks).where(tasks.c.tenant == tenant, tasks.c.outcome_id == outcome_id)
                             .order_by(tasks.c.round.desc()).limit(1).with_for_update()).first()
        return dict(row._mapping) if row else None

    def latest_rounds(self, keys) -> dict:
        """{(tenant, outcome_id as str): newest round} of many outcomes, locked for this
        transaction in outcome order (two batches never wait on each other in a cycle), with
        one statement; an outcome without a round is absent."""
        keys = sorted(keys, key=lambda k: k[1])
        if not keys:
            return {}
        pairs = [(t, uuid.UUID(str(o))) for t, o in keys]
        key = sa.tuple_(tasks.c.tenant, tasks.c.outcome_id)
        newest = (sa.select(tasks.c.outcome_id, sa.func.max(tasks.c.round).label("round"))
                  .where(key.in_(pairs)).group_by(tasks.c.outcome_id).subquery())
        rows = self.s.execute(
            sa.select(tasks).join(newest, sa.and_(newest.c.outcome_id == tasks.c.outcome_id,
                                                  newest.c.round == tasks.c.round))
            .where(key.in_(pairs)).order_by(tasks.c.outcome_id).with_for_update(of=tasks)).all()
        return {(r.tenant, str(r.outcome_id)): dict(r._mapping) for r in rows}

    def add_round(self, task: dict):
        tid = uuid.uuid4()
        self.s.execute(tasks.insert().values(id=tid, status="pending", **task))
        return tid

    def add_rounds(self, rows: list):
        """Insert whole rounds (each with its id, status, closed_reason and closed_at) with one
        statement, in outcome order (see latest_rounds)."""
        if rows:
            self.s.execute(tasks.insert(), sorted(rows, key=lambda r: (str(r["outcome_id"]), r["round"])))

    def close(self, task_id, status, reason, at):
        self.s.execute(tasks.update().where(tasks.c.id == task_id)
                       .values(status=status, closed_reason=reason, closed_at=at))

    def open_rounds_of_student(self, tenant, student_id) -> list:
        rows = self.s.execute(sa.select(tasks).where(tasks.c.tenant == tenant, tasks.c.student_id == student_id,
                                                     tasks.c.status == "pending").with_for_update()).all()
        return [dict(r._mapping) for r in rows]

    def lock_many(self, ids, tenant) -> dict:
        rows = self.s.execute(sa.select(tasks).where(tasks.c.id.in_(ids), tasks.c.tenant == tenant)
                              .with_for_update()).all()
        return {r.id: dict(r._mapping) for r in rows}

    def queue(self, tenant, teacher_user_id, status) -> list:
        """The teacher's rounds with their decision (and withdrawal) when there is one."""
        d, w = decisions.alias("d"), withdrawals.alias("w")
        q = (sa.select(tasks, d.c.decision, d.c.actor_user_id.label("decided_by"),
                       d.c.acting_for.label("decided_for"), d.c.reason_code, d.c.reason, d.c.decided_at,
                       d.c.fingerprints,
                       w.c.reason.label("withdrawal_reason"), w.c.withdrawn_at)
             .select_from(tasks.outerjoin(d, d.c.task_id == tasks.c.id).outerjoin(w, w.c.task_id == tasks.c.id))
             .where(tasks.c.tenant == tenant, tasks.c.teacher_user_id == teacher_user_id))
        if status != "all":
            q = q.where(tasks.c.status == status)
        return [dict(r._mapping) for r in self.s.execute(q.order_by(tasks.c.created_at, tasks.c.round)).all()]

    def counts(self, tenant) -> dict:
        rows = self.s.execute(
            sa.select(tasks.c.status, sa.func.count(), sa.func.count(sa.distinct(tasks.c.outcome_id)))
            .where(tasks.c.tenant == tenant).group_by(tasks.c.status)).all()
        return {r[0]: (r[1], r[2]) for r in rows}

    def oversight_rounds(self, tenant) -> list:
        """Every round of the tenant with the time of its decision (None without one)."""
        q = (sa.select(tasks.c.teacher_user_id, tasks.c.section_id, tasks.c.subject_name, tasks.c.status,
                       tasks.c.student_id, tasks.c.class_code, tasks.c.class_name, tasks.c.homeroom_user_id,
                       tasks.c.created_at, decisions.c.decided_at)
             .select_from(tasks.outerjoin(decisions, decisions.c.task_id == tasks.c.id))
             .where(tasks.c.tenant == tenant))
        return [dict(r._mapping) for r in self.s.execute(q).all()]

    def open_rounds(self, tenant) -> list:
        q = (sa.select(tasks.c.teacher_user_id, tasks.c.section_id, tasks.c.subject_name, tasks.c.school_year,
                       tasks.c.semester, tasks.c.student_id, tasks.c.homeroom_user_id)
             .where(tasks.c.tenant == tenant, tasks.c.status == "pending"))
        return [dict(r._mapping) for r in self.s.execute(q).all()]

    def returned_latest_rounds(self, tenant) -> list:
        """Returned rounds that are still the newest of their outcome (not uploaded again),
        with the return's reason."""
        newer = tasks.alias("newer")
        q = (sa.select(tasks.c.id.label("task_id"), tasks.c.student_user_id, tasks.c.subject_name,
                       tasks.c.description, decisions.c.reason)
             .select_from(tasks.outerjoin(decisions, sa.and_(decisions.c.task_id == tasks.c.id,
                                                             decisions.c.decision == "returned")))
             .where(tasks.c.tenant == tenant, tasks.c.status == "returned",
                    ~sa.exists().where(newer.c.outcome_id == tasks.c.outcome_id, newer.c.round > tasks.c.round)))
        return [dict(r._mapping) for r in self.s.execute(q).all()]

    def reminder_sent(self, key) -> bool:
        return self.s.execute(sa.select(reminders_sent.c.key).where(reminders_sent.c.key == key)).first() is not None

    def record_reminder(self, key, tenant, kind, user_id) -> bool:
        """Claim a reminder (True when this call recorded it first)."""
        res = self.s.execute(insert(reminders_sent).values(key=key, tenant=tenant, kind=kind, user_id=user_id)
                             .on_conflict_do_nothing())
        return res.rowcount == 1

    def tenants(self) -> list:
        """Every tenant this service holds a task or a calendar of (the reminder job's round)."""
        q = sa.union(sa.select(tasks.c.tenant), sa.select(calendars.c.tenant))
        return sorted(r[0] for r in self.s.execute(q).all())

    def calendars_of(self, tenant) -> dict:
        rows = self.s.execute(sa.select(calendars).where(calendars.c.tenant == tenant)).all()
        return {(r.school_year, r.semester): dict(r._mapping) for r in rows}

    # ---- attestations
    def decide(self, task_id, tenant, decision, actor, acting_for, reason_code, reason, sha256, at,
               fingerprints=None):
        self.s.execute(tasks.update().where(tasks.c.id == task_id).values(status=decision))
        self.s.execute(decisions.insert().values(
            id=uuid.uuid4(), task_id=task_id, tenant=tenant, decision=decision, actor_user_id=actor,
            acting_for=acting_for, reason_code=reason_code, reason=reason, sha256=sha256, decided_at=at,
            fingerprints=fingerprints))

    def withdraw(self, task_id, tenant, actor, acting_for, reason, sha256, at):
        self.s.execute(tasks.update().where(tasks.c.id == task_id).values(status="withdrawn"))
        self.s.execute(withdrawals.insert().values(
            id=uuid.uuid4(), task_id=task_id, tenant=tenant, actor_user_id=actor, acting_for=acting_for,
            reason=reason, sha256=sha256, withdrawn_at=at))

    # ---- the school's return reasons
    def reasons(self, tenant) -> dict:
        rows = self.s.execute(sa.select(return_reasons).where(return_reasons.c.tenant == tenant)
                              .order_by(return_reasons.c.position, return_reasons.c.code)).all()
        return {r.code: dict(r._mapping) for r in rows}

    def save_reason(self, tenant, entry, by, at):
        values = dict(entry, tenant=tenant, updated_by=by, updated_at=at)
        self.s.execute(insert(return_reasons).values(**values).on_conflict_do_update(
            index_elements=["tenant", "code"], set_={k: v for k, v in values.items() if k not in ("tenant", "code")}))

    def seed_reasons(self, tenant, entries, at):
        for e in entries:
            self.s.execute(insert(return_reasons).values(dict(e, tenant=tenant, updated_at=at))
                           .on_conflict_do_nothing(index_elements=["tenant", "code"]))

    # ---- the calendar copy
    def calendar(self, tenant, school_year, semester):
        row = self.s.execute(sa.select(calendars).where(
            calendars.c.tenant == tenant, calendars.c.school_year == school_year,
            calendars.c.semester == semester)).first()
        return dict(row._mapping) if row else None

    def save_calendar(self, tenant, school_year, semester, version, opens_on, closes_on, payload) -> bool:
        """Store the term's calendar unless a copy of the same or a higher version is held."""
        values = dict(tenant=tenant, school_year=school_year, semester=semester, version=version,
                      certification_opens_on=opens_on, certification_closes_on=closes_on, payload=payload)
        stmt = insert(calendars).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant", "school_year", "semester"],
            set_={k: stmt.excluded[k] for k in ("version", "certification_opens_on", "certification_closes_on",
                                                  "payload")} | {"applied_at": sa.func.now()},
            where=calendars.c.version < stmt.excluded.version)
        return self.s.execute(stmt).rowcount == 1


class FakeTaskRepository:
    def __init__(self):
        self.tasks = {}
        self.decisions = []
        self.withdrawals = []
        self.reason_rows = {}
        self.calendars = {}

    def latest_round(self, tenant, outcome_id):
        rounds = [t for t in self.tasks.values()
                  if t["tenant"] == tenant and str(t["outcome_id"]) == str(outcome_id)]
        return dict(max(rounds, key=lambda t: t["round"])) if rounds else None

    def latest_rounds(self, keys):
        out = {}
        for tenant, outcome_id in keys:
            row = self.latest_round(tenant, outcome_id)
            if row:
                out[(tenant, str(outcome_id))] = row
        return out

    def add_rounds(self, rows):
        for r in rows:
            if r["status"] == "pending" and any(
                    str(t["outcome_id"]) == str(r["outcome_id"]) and t["status"] == "pending"
                    for t in self.tasks.values()):
                raise AssertionError("a second open round (the database's unique index refuses it)")
            self.tasks[r["id"]] = dict(r, created_at=len(self.tasks))

    def add_round(self, task):
        if any(str(t["outcome_id"]) == str(task["outcome_id"]) and t["status"] == "pending"
               for t in self.tasks.values()):
            raise AssertionError("a second open round (the database's unique index refuses it)")
        tid = uuid.uuid4()
        self.tasks[tid] = dict({"files": None}, **task, id=tid, status="pending", created_at=len(self.tasks),
                               closed_reason=None, closed_at=None)
        return tid

    def close(self, task_id, status, reason, at):
        self.tasks[task_id].update(status=status, closed_reason=reason, closed_at=at)

    def open_rounds_of_student(self, tenant, student_id):
        return [dict(t) for t in self.tasks.values() if t["tenant"] == tenant
                and str(t["student_id"]) == str(student_id) and t["status"] == "pending"]

    def lock_many(self, ids, tenant):
        return {i: dict(self.tasks[i]) for i in ids if i in self.tasks and self.tasks[i]["tenant"] == tenant}

    def queue(self, tenant, teacher_user_id, status):
        out = []
        for t in self.tasks.values():
            if t["tenant"] != tenant or str(t["teacher_user_id"]) != str(teacher_user_id) \
                    or status not in ("all", t["status"]):
                continue
            d = next((d for d in self.decisions if d["task_id"] == t["id"]), {})
            w = next((w for w in self.withdrawals if w["task_id"] == t["id"]), {})
            out.append(dict(t, decision=d.get("decision"), decided_by=d.get("actor_user_id"),
                            decided_for=d.get("acting_for"), reason_code=d.get("reason_code"),
                            reason=d.get("reason"), decided_at=d.get("decided_at"),
                            fingerprints=d.get("fingerprints"),
                            withdrawal_reason=w.get("reason"), withdrawn_at=w.get("withdrawn_at")))
        return out

    def counts(self, tenant):
        out = {}
        for t in self.tasks.values():
            if t["tenant"] == tenant:
                n, d = out.get(t["status"], (0, 0))
                out[t["status"]] = (n + 1, d + 1)
        return out

    def open_rounds(self, tenant):
        return [{k: t.get(k) for k in ("teacher_user_id", "section_id", "subject_name", "school_year", "semester",
                                       "student_id", "homeroom_user_id")}
                for t in self.tasks.values() if t["tenant"] == tenant and t["status"] == "pending"]

    def tenants(self):
        return sorted({t["tenant"] for t in self.tasks.values()} | {t for (t, _, _) in self.calendars})

    def calendars_of(self, tenant):
        return {(y, s): copy.deepcopy(c) for (t, y, s), c in self.calendars.items() if t == tenant}

    def oversight_rounds(self, tenant):
        out = []
        for t in self.tasks.values():
            if t["tenant"] == tenant:
                d = next((d for d in self.decisions if d["task_id"] == t["id"]), {})
                out.append({k: t.get(k) for k in ("teacher_user_id", "section_id", "subject_name", "status",
                                                  "student_id", "class_code", "class_name", "homeroom_user_id",
                                                  "created_at")}
                           | {"decided_at": d.get("decided_at")})
        return out

    def decide(self, task_id, tenant, decision, actor, acting_for, reason_code, reason, sha256, at,
               fingerprints=None):
        if any(d["task_id"] == task_id for d in self.decisions):
            raise AssertionError("a second decision on one round (the database refuses it)")
        self.tasks[task_id]["status"] = decision
        self.decisions.append(dict(task_id=task_id, decision=decision, actor_user_id=actor, acting_for=acting_for,
                                   reason_code=reason_code, reason=reason, sha256=sha256, decided_at=at,
                                   fingerprints=fingerprints))

    def withdraw(self, task_id, tenant, actor, acting_for, reason, sha256, at):
        self.tasks[task_id]["status"] = "withdrawn"
        self.withdrawals.append(dict(task_id=task_id, actor_user_id=actor, acting_for=acting_for, reason=reason,
                                     sha256=sha256, withdrawn_at=at))

    def reasons(self, tenant):
        rows = [r for (t, _), r in self.reason_rows.items() if t == tenant]
        return {r["code"]: dict(r) for r in sorted(rows, key=lambda r: (r["position"], r["code"]))}

    def save_reason(self, tenant, entry, by, at):
        self.reason_rows[(tenant, entry["code"])] = dict(entry, tenant=tenant, updated_by=by, updated_at=at)

    def seed_reasons(self, tenant, entries, at):
        for e in entries:
            self.reason_rows.setdefault((tenant, e["code"]), dict(e, tenant=tenant, updated_by=None, updated_at=at))

    def calendar(self, tenant, school_year, semester):
        c = self.calendars.get((tenant, school_year, semester))
        return copy.deepcopy(c)

    def save_calendar(self, tenant, school_year, semester, version, opens_on, closes_on, payload):
        held = self.calendars.get((tenant, school_year, semester))
        if held and held["version"] >= version:
            return False
        self.calendars[(tenant, school_year, semester)] = dict(
            tenant=tenant, school_year=school_year, semester=semester, version=version,
            certification_opens_on=opens_on, certification_closes_on=closes_on, payload=payload)
        return True
