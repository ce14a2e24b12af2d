"""Storage of tasks and decisions behind a small interface, with an in-memory fake."""
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from .orm import decisions, tasks


class SqlTaskRepository:
    def __init__(self, session):
        self.s = session

    def add(self, task: dict) -> bool:
        res = self.s.execute(insert(tasks).values(id=uuid.uuid4(), status="pending", **task)
                             .on_conflict_do_nothing(index_elements=["outcome_id"]))
        return res.rowcount == 1

    def lock_many(self, ids, tenant) -> dict:
        rows = self.s.execute(sa.select(tasks).where(tasks.c.id.in_(ids), tasks.c.tenant == tenant)
                              .with_for_update()).all()
        return {r.id: dict(r._mapping) for r in rows}

    def queue(self, tenant, teacher_user_id, status) -> list:
        q = sa.select(tasks).where(tasks.c.tenant == tenant, tasks.c.teacher_user_id == teacher_user_id)
        if status != "all":
            q = q.where(tasks.c.status == status)
        return [dict(r._mapping) for r in self.s.execute(q.order_by(tasks.c.created_at)).all()]

    def counts(self, tenant) -> dict:
        rows = self.s.execute(
            sa.select(tasks.c.status, sa.func.count(), sa.func.count(sa.distinct(tasks.c.outcome_id)))
            .where(tasks.c.tenant == tenant).group_by(tasks.c.status)).all()
        return {r[0]: (r[1], r[2]) for r in rows}

    def decide(self, task_id, tenant, decision, actor, acting_for, reason, at):
        self.s.execute(tasks.update().where(tasks.c.id == task_id).values(status=decision))
        self.s.execute(decisions.insert().values(
            task_id=task_id, tenant=tenant, decision=decision, actor_user_id=actor,
            acting_for=acting_for, reason=reason, decided_at=at))


class FakeTaskRepository:
    def __init__(self):
        self.tasks = {}
        self.decisions = []

    def add(self, task):
        if any(str(t["outcome_id"]) == str(task["outcome_id"]) for t in self.tasks.values()):
            return False
        tid = uuid.uuid4()
        self.tasks[tid] = dict(task, id=tid, status="pending", created_at=len(self.tasks))
        return True

    def lock_many(self, ids, tenant):
        return {i: dict(self.tasks[i]) for i in ids if i in self.tasks and self.tasks[i]["tenant"] == tenant}

    def queue(self, tenant, teacher_user_id, status):
        return [t for t in self.tasks.values() if t["tenant"] == tenant
                and str(t["teacher_user_id"]) == str(teacher_user_id) and status in ("all", t["status"])]

    def counts(self, tenant):
        out = {}
        for t in self.tasks.values():
            if t["tenant"] == tenant:
                n, d = out.get(t["status"], (0, 0))
                out[t["status"]] = (n + 1, d + 1)
        return out

    def decide(self, task_id, tenant, decision, actor, acting_for, reason, at):
        self.tasks[task_id]["status"] = decision
        self.decisions.append(dict(task_id=task_id, decision=decision, actor_user_id=actor,
                                   acting_for=acting_for, reason=reason, decided_at=at))
