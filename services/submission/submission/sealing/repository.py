"""Storage of application dates, seals and manifests; plus an in-memory fake."""
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from ..orm import certified_outcomes, locked_selections
from .orm import (college_applications, sealed_read_approvals, sealed_read_requests, sealed_students,
                  sealing_manifests)


class SqlSealingRepository:
    def __init__(self, session):
        self.s = session

    def application_of(self, tenant, student_id):
        row = self.s.execute(sa.select(college_applications).where(
            college_applications.c.tenant == tenant, college_applications.c.student_id == student_id)
            .order_by(college_applications.c.recorded_at.desc()).limit(1)).first()
        return dict(row._mapping) if row else None

    def add_application(self, row: dict):
        self.s.execute(college_applications.insert().values(id=uuid.uuid4(), **row))

    def current_applications(self, tenant=None) -> list:
        """The date in force of every student who has one (latest recording), all tenants."""
        latest = (sa.select(college_applications)
                  .distinct(college_applications.c.tenant, college_applications.c.student_id)
                  .order_by(college_applications.c.tenant, college_applications.c.student_id,
                            college_applications.c.recorded_at.desc()))
        if tenant:
            latest = latest.where(college_applications.c.tenant == tenant)
        return [dict(r._mapping) for r in self.s.execute(latest).all()]

    def sealed(self, tenant, student_id):
        row = self.s.execute(sa.select(sealed_students).where(
            sealed_students.c.tenant == tenant, sealed_students.c.student_id == student_id)).first()
        return dict(row._mapping) if row else None

    def sealed_ids(self) -> set:
        return {(t, str(s)) for t, s in self.s.execute(
            sa.select(sealed_students.c.tenant, sealed_students.c.student_id)).all()}

    def sealed_user_ids(self) -> set:
        """{(tenant, student_user_id)} of every sealed student."""
        return {(t, str(u)) for t, u in self.s.execute(
            sa.select(sealed_students.c.tenant, sealed_students.c.student_user_id)).all()}

    def add_seal(self, tenant, student_id, student_user_id, at) -> bool:
        return self.s.execute(insert(sealed_students).values(
            tenant=tenant, student_id=student_id, student_user_id=student_user_id, sealed_at=at)
            .on_conflict_do_nothing()).rowcount == 1

    def add_manifest(self, tenant, student_id, manifest, signature, key_id, at):
        self.s.execute(sealing_manifests.insert().values(
            tenant=tenant, student_id=student_id, manifest=manifest, signature=signature, key_id=key_id,
            sealed_at=at))

    def manifest_of(self, tenant, student_id):
        row = self.s.execute(sa.select(sealing_manifests).where(
            sealing_manifests.c.tenant == tenant, sealing_manifests.c.student_id == student_id)).first()
        return dict(row._mapping) if row else None

    def certified_of(self, tenant, student_id) -> list:
        return [dict(r._mapping) for r in self.s.execute(sa.select(certified_outcomes).where(
            certified_outcomes.c.tenant == tenant, certified_outcomes.c.student_id == student_id)).all()]

    def held_of(self, tenant, student_id) -> list:
        return [dict(r._mapping) for r in self.s.execute(sa.select(locked_selections).where(
            locked_selections.c.tenant == tenant, locked_selections.c.student_id == student_id)).all()]


    # ------------------------------------------------------------ read requests

    def add_read_request(self, row: dict):
        self.s.execute(sealed_read_requests.insert().values(**row))

    def read_request(self, tenant, request_id, lock=False):
        q = sa.select(sealed_read_requests).where(sealed_read_requests.c.tenant == tenant,
                                                  sealed_read_requests.c.id == request_id)
        row = self.s.execute(q.with_for_update() if lock else q).first()
        return dict(row._mapping) if row else None

    def read_requests(self, tenant) -> list:
        return [dict(r._mapping) for r in self.s.execute(sa.select(sealed_read_requests).where(
            sealed_read_requests.c.tenant == tenant).order_by(sealed_read_requests.c.requested_at.desc())).all()]

    def approvals(self, request_id) -> list:
        return [dict(r._mapping) for r in self.s.execute(sa.select(sealed_read_approvals).where(
            sealed_read_approvals.c.request_id == request_id).order_by(sealed_read_approvals.c.approved_at)).all()]

    def add_approval(self, request_id, role, approver, at) -> bool:
        return self.s.execute(insert(sealed_read_approvals).values(
            request_id=request_id, role=role, approver_user_id=approver, approved_at=at)
            .on_conflict_do_nothing()).rowcount == 1

    def mark_approved(self, request_id, at, expires_at):
        self.s.execute(sealed_read_requests.update().where(sealed_read_requests.c.id == request_id)
                       .values(approved_at=at, expires_at=expires_at))


class FakeSealingRepository:
    def __init__(self, selections=None):
        self.applications, self.seals, self.manifests = [], {}, {}
        self._selections = selections     # the fake selection repository (certified copies, holds)

    def application_of(self, tenant, student_id):
        rows = [a for a in self.applications if a["tenant"] == tenant and str(a["student_id"]) == str(student_id)]
        return rows[-1] if rows else None

    def add_application(self, row):
        self.applications.append(dict(row))

    def current_applications(self, tenant=None):
        latest = {}
        for a in self.applications:
            if tenant is None or a["tenant"] == tenant:
                latest[(a["tenant"], str(a["student_id"]))] = a
        return list(latest.values())

    def sealed(self, tenant, student_id):
        return self.seals.get((tenant, str(student_id)))

    def sealed_ids(self):
        return set(self.seals)

    def sealed_user_ids(self):
        return {(t, str(r["student_user_id"])) for (t, _), r in self.seals.items()}

    def add_seal(self, tenant, student_id, student_user_id, at):
        if (tenant, str(student_id)) in self.seals:
            return False
        self.seals[(tenant, str(student_id))] = dict(tenant=tenant, student_id=str(student_id),
                                                     student_user_id=str(student_user_id), sealed_at=at)
        return True

    def add_manifest(self, tenant, student_id, manifest, signature, key_id, at):
        self.manifests[(tenant, str(student_id))] = dict(manifest=manifest, signature=signature, key_id=key_id,
                                                         sealed_at=at)

    def manifest_of(self, tenant, student_id):
        return self.manifests.get((tenant, str(student_id)))

    def certified_of(self, tenant, student_id):
        return [c for c in (self._selections.certified.values() if self._selections else [])
                if c["tenant"] == tenant and str(c["student_id"]) == str(student_id)]

    def held_of(self, tenant, student_id):
        return [h for h in (self._selections.holds if self._selections else [])
                if h["tenant"] == tenant and str(h["student_id"]) == str(student_id)]

    # ------------------------------------------------------------ read requests

    def add_read_request(self, row):
        self.requests = getattr(self, "requests", {})
        self.requests[str(row["id"])] = dict(row, approved_at=None, expires_at=None)

    def read_request(self, tenant, request_id, lock=False):
        r = getattr(self, "requests", {}).get(str(request_id))
        return r if r and r["tenant"] == tenant else None

    def read_requests(self, tenant):
        return [r for r in getattr(self, "requests", {}).values() if r["tenant"] == tenant]

    def approvals(self, request_id):
        return [a for a in getattr(self, "approval_rows", []) if str(a["request_id"]) == str(request_id)]

    def add_approval(self, request_id, role, approver, at):
        self.approval_rows = getattr(self, "approval_rows", [])
        if any(str(a["request_id"]) == str(request_id) and a["role"] == role for a in self.approval_rows):
            return False
        self.approval_rows.append(dict(request_id=str(request_id), role=role, approver_user_id=approver,
                                       approved_at=at))
        return True

    def mark_approved(self, request_id, at, expires_at):
        self.requests[str(request_id)].update(approved_at=at, expires_at=expires_at)
