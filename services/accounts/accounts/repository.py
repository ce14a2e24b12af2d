"""Storage of accounts behind a small interface, with an in-memory fake for unit tests.

Users, their role and platform grants, identities, delegations, tenants, the sign-in guard and
the access audit. Rows come back as plain dicts.
"""
import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from .orm import (access_audit, identities, platform_grants, proxy_delegations, role_grants, sessions,
                  sign_in_guard, tenants, users)


def _d(row):
    return dict(row._mapping) if row is not None else None


class SqlAccounts:
    def __init__(self, session):
        self.s = session

    def now(self):
        return self.s.execute(sa.select(sa.func.now())).scalar_one()

    # ------------------------------------------------------------ users and grants
    def user_by_name(self, username, *, for_update=False):
        q = sa.select(users).where(users.c.username == (username or ""))
        return _d(self.s.execute(q.with_for_update() if for_update else q).first())

    def user_by_id(self, user_id):
        return _d(self.s.execute(sa.select(users).where(users.c.id == user_id)).first())

    def add_user(self, username, display_name, password_hash, must_change_password):
        return self.s.execute(users.insert().values(
            username=username, display_name=display_name, password_hash=password_hash,
            must_change_password=must_change_password).returning(users.c.id)).scalar_one()

    def update_user(self, user_id, **values):
        self.s.execute(users.update().where(users.c.id == user_id).values(**values))

    def emails_of(self, tenant, user_ids) -> dict:
        """{user id: e-mail} of the given users that hold a role in `tenant` and have an address."""
        if not user_ids:
            return {}
        rows = self.s.execute(sa.select(users.c.id, users.c.email).distinct()
                              .join(role_grants, role_grants.c.user_id == users.c.id)
                              .where(users.c.id.in_(list(user_ids)), role_grants.c.tenant == tenant,
                                     users.c.email.is_not(None))).all()
        return {str(r.id): r.email for r in rows}

    def grants(self, user_id) -> list:
        rows = self.s.execute(sa.select(role_grants.c.tenant, role_grants.c.role).where(
            role_grants.c.user_id == user_id).order_by(role_grants.c.tenant, role_grants.c.role)).all()
        return [{"tenant": r.tenant, "role": r.role} for r in rows]

    def platform_roles(self, user_id) -> list:
        return sorted(self.s.execute(sa.select(platform_grants.c.role).where(
            platform_grants.c.user_id == user_id)).scalars())

    def set_grants(self, user_id, wanted, scope=None):
        """Replace the user's grants in `scope` (tenant codes; None = everywhere) by `wanted`."""
        drop = role_grants.delete().where(role_grants.c.user_id == user_id)
        if scope is not None:
            drop = drop.where(role_grants.c.tenant.in_(scope))
        self.s.execute(drop)
        for tenant, role in wanted:
            self.s.execute(role_grants.insert().values(user_id=user_id, tenant=tenant, role=role))

    def set_platform_roles(self, user_id, roles):
        self.s.execute(platform_grants.delete().where(platform_grants.c.user_id == user_id))
        for role in roles:
            self.s.execute(platform_grants.insert().values(user_id=user_id, role=role))

    def people(self, tenant=None) -> list:
        """Every user with a grant in `tenant` (None: every user), each with all their grants."""
        q = sa.select(users.c.id, users.c.username, users.c.display_name, users.c.must_change_password)
        if tenant is not None:
            q = q.where(users.c.id.in_(sa.select(role_grants.c.user_id).where(role_grants.c.tenant == tenant)))
        out = {r.id: dict(r._mapping, grants=[], platform_roles=[])
               for r in self.s.execute(q.order_by(users.c.username)).all()}
        if out:
            for r in self.s.execute(sa.select(role_grants).where(role_grants.c.user_id.in_(list(out)))
                                    .order_by(role_grants.c.tenant, role_grants.c.role)).all():
                out[r.user_id]["grants"].append({"tenant": r.tenant, "role": r.role})
            for r in self.s.execute(sa.select(platform_grants).where(
                    platform_grants.c.user_id.in_(list(out)))).all():
                out[r.user_id]["platform_roles"].append(r.role)
        return list(out.values())

    def add_session(self, token_hash, user_id, kind, hours, remote_addr, user_agent):
        self.s.execute(sessions.insert().values(
            token_hash=token_hash, user_id=user_id, kind=kind,
            expires_at=sa.func.now() + sa.text(f"interval '{int(hours)} hours'"),
            remote_addr=(remote_addr or "")[:64], user_agent=(user_agent or "")[:200]))

    def active_proxies(self, user_id, today) -> dict:
        """{tenant: [teacher user ids]} the user stands in for on `today` (school date)."""
        d = proxy_delegations
        rows = self.s.execute(sa.select(d.c.tenant, d.c.teacher_user_id).where(
            d.c.proxy_user_id == user_id, d.c.revoked_at.is_(None), d.c.starts_on <= today,
            d.c.ends_on >= today)).all()
        out = {}
        for r in rows:
            out.setdefault(r.tenant, []).append(str(r.teacher_user_id))
        return out

    def end_sessions(self, user_id, except_session_id=None):
        q = sessions.update().where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        if except_session_id is not None:
            q = q.where(sessions.c.id != except_session_id)
        self.s.execute(q.values(revoked_at=sa.func.now()))

    # ------------------------------------------------------------ identities
    def identity_owner(self, provider, subject):
        return self.s.execute(sa.select(identities.c.user_id).where(
            identities.c.provider == provider, identities.c.subject == subject)).scalar()

    def link_identity(self, provider, subject, user_id):
        self.s.execute(insert(identities).values(provider=provider, subject=subject, user_id=user_id)
                       .on_conflict_do_update(index_elements=["provider", "subject"], set_={"user_id": user_id}))

    # ------------------------------------------------------------ tenants
    def tenant_codes(self) -> set:
        return set(self.s.execute(sa.select(tenants.c.code)).scalars())

    def list_tenants(self) -> list:
        return [dict(r._mapping) for r in self.s.execute(sa.select(tenants).order_by(tenants.c.code)).all()]

    def upsert_tenant(self, t):
        self.s.execute(insert(tenants).values(**t).on_conflict_do_update(
            index_elements=["code"], set_={"name": t["name"], "school_code": t["school_code"],
                                           "division": t["division"]}))

    # ------------------------------------------------------------ proxies
    def teaching_in(self, user_id, tenant, roles) -> bool:
        return self.s.execute(sa.select(role_grants.c.user_id).where(
            role_grants.c.user_id == user_id, role_grants.c.tenant == tenant,
            role_grants.c.role.in_(roles))).first() is not None

    def add_delegation(self, **values):
        return self.s.execute(proxy_delegations.insert().values(**values)
                              .returning(proxy_delegations.c.id)).scalar_one()

    # ------------------------------------------------------------ sign-in guard
    def guard_states(self, keys, *, for_update=False) -> dict:
        q = sa.select(sign_in_guard).where(sign_in_guard.c.key.in_(list(keys))).order_by(sign_in_guard.c.key)
        rows = self.s.execute(q.with_for_update() if for_update else q).all()
        return {r.key: dict(r._mapping) for r in rows}

    def count_failure(self, key, limit, now) -> dict:
        """One more failure of `key` at `now`, counted atomically (concurrent attempts wait on
        the row, so a parallel burst cannot undercount), decayed after the limit's window, and
        the lock it earns (domain.Limit). Returns the key's new state with `lock_seconds`."""
        g = sign_in_guard
        failures = self.s.execute(
            insert(g).values(key=key, failures=1, last_failed_at=now, locked_until=None)
            .on_conflict_do_update(index_elements=["key"], set_={
                "failures": sa.case((g.c.last_failed_at > now - dt.timedelta(seconds=limit.window_s),
                                     g.c.failures + 1), else_=1),
                "last_failed_at": now}).returning(g.c.failures)).scalar_one()
        lock = limit.lock_seconds(failures)
        until = now + dt.timedelta(seconds=lock) if lock else None
        if lock:
            self.s.execute(g.update().where(g.c.key == key).values(locked_until=until))
        return {"failures": failures, "last_failed_at": now, "locked_until": until, "lock_seconds": lock}

    def mark_guard_audited(self, key, at):
        self.s.execute(sign_in_guard.update().where(sign_in_guard.c.key == key).values(last_audited_at=at))

    def clear_guard(self, keys):
        self.s.execute(sign_in_guard.delete().where(sign_in_guard.c.key.in_(list(keys))))

    def clear_guard_prefix(self, prefix):
        self.s.execute(sign_in_guard.delete().where(sign_in_guard.c.key.startswith(prefix, autoescape=True)))

    def locked_keys(self, keys) -> set:
        return set(self.s.execute(sa.select(sign_in_guard.c.key).where(
            sign_in_guard.c.key.in_(list(keys)), sign_in_guard.c.locked_until > sa.func.now())).scalars())

    # ------------------------------------------------------------ audit
    def audit(self, action, *, username=None, user_id=None, remote_addr=None, detail=None, tenant=None,
              tenants=(), event_id=None):
        self.s.execute(access_audit.insert().values(
            action=action, username=username, user_id=user_id, remote_addr=remote_addr, detail=detail,
            tenant=tenant, tenants=sorted(set(tenants) | ({tenant} if tenant else set())), event_id=event_id))

    def audit_rows(self, tenant=None, limit=200) -> list:
        """The newest rows; with `tenant`, only the rows that name it."""
        q = sa.select(access_audit)
        if tenant is not None:
            q = q.where(sa.or_(access_audit.c.tenant == tenant, access_audit.c.tenants.any(tenant)))
        return [dict(r._mapping) for r in self.s.execute(q.order_by(access_audit.c.seq.desc()).limit(limit)).all()]


class FakeAccounts:
    """In memory, same interface; `clock` is settable so lock windows can be walked through."""

    def __init__(self):
        self.clock = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)
        self.users, self.role_grants, self.platform_grants = {}, set(), set()
        self.identities, self.tenants, self.delegations = {}, {}, {}
        self.guard, self.audit_log, self.ended_sessions, self.sessions = {}, [], [], []

    def tick(self, seconds):
        self.clock += dt.timedelta(seconds=seconds)

    def now(self):
        return self.clock

    def user_by_name(self, username, *, for_update=False):
        u = next((u for u in self.users.values() if u["username"] == username), None)
        return dict(u) if u else None

    def user_by_id(self, user_id):
        u = self.users.get(user_id)
        return dict(u) if u else None

    def add_user(self, username, display_name, password_hash, must_change_password):
        uid = uuid.uuid4()
        self.users[uid] = {"id": uid, "username": username, "display_name": display_name,
                           "password_hash": password_hash, "must_change_password": must_change_password,
                           "failed_logins": 0, "locked_until": None, "email": None}
        return uid

    def update_user(self, user_id, **values):
        self.users[user_id].update(values)

    def emails_of(self, tenant, user_ids):
        wanted = {str(u) for u in user_ids}
        return {str(uid): u["email"] for uid, u in self.users.items()
                if str(uid) in wanted and u.get("email")
                and any(g[0] == uid and g[1] == tenant for g in self.role_grants)}

    def grants(self, user_id):
        return [{"tenant": t, "role": r} for u, t, r in sorted(self.role_grants, key=lambda g: (g[1], g[2]))
                if u == user_id]

    def platform_roles(self, user_id):
        return sorted(r for u, r in self.platform_grants if u == user_id)

    def set_grants(self, user_id, wanted, scope=None):
        self.role_grants = {g for g in self.role_grants
                            if g[0] != user_id or (scope is not None and g[1] not in scope)}
        self.role_grants |= {(user_id, t, r) for t, r in wanted}

    def set_platform_roles(self, user_id, roles):
        self.platform_grants = {g for g in self.platform_grants if g[0] != user_id} | {(user_id, r) for r in roles}

    def people(self, tenant=None):
        out = []
        for u in sorted(self.users.values(), key=lambda u: u["username"]):
            grants = self.grants(u["id"])
            if tenant is None or any(g["tenant"] == tenant for g in grants):
                out.append({"id": u["id"], "username": u["username"], "display_name": u["display_name"],
                            "must_change_password": u["must_change_password"], "grants": grants,
                            "platform_roles": self.platform_roles(u["id"])})
        return out

    def add_session(self, token_hash, user_id, kind, hours, remote_addr, user_agent):
        self.sessions.append({"token_hash": token_hash, "user_id": user_id, "kind": kind, "hours": hours,
                              "remote_addr": remote_addr})

    def active_proxies(self, user_id, today):
        out = {}
        for d in self.delegations.values():
            if d["proxy_user_id"] == user_id and d["starts_on"] <= today <= d["ends_on"] and not d.get("revoked_at"):
                out.setdefault(d["tenant"], []).append(str(d["teacher_user_id"]))
        return out

    def end_sessions(self, user_id, except_session_id=None):
        self.ended_sessions.append(user_id)

    def identity_owner(self, provider, subject):
        return self.identities.get((provider, subject))

    def link_identity(self, provider, subject, user_id):
        self.identities[(provider, subject)] = user_id

    def tenant_codes(self):
        return set(self.tenants)

    def list_tenants(self):
        return [self.tenants[c] for c in sorted(self.tenants)]

    def upsert_tenant(self, t):
        self.tenants[t["code"]] = dict(t)

    def teaching_in(self, user_id, tenant, roles):
        return any(u == user_id and t == tenant and r in roles for u, t, r in self.role_grants)

    def add_delegation(self, **values):
        did = uuid.uuid4()
        self.delegations[did] = dict(values, id=did)
        return did

    def guard_states(self, keys, *, for_update=False):
        return {k: dict(self.guard[k]) for k in keys if k in self.guard}

    def count_failure(self, key, limit, now):
        from .domain import after_failure
        state = after_failure(self.guard.get(key), limit, now)
        self.guard[key] = dict(self.guard.get(key, {"last_audited_at": None}), key=key,
                               **{k: state[k] for k in ("failures", "last_failed_at", "locked_until")})
        return state

    def mark_guard_audited(self, key, at):
        self.guard[key]["last_audited_at"] = at

    def clear_guard(self, keys):
        for k in keys:
            self.guard.pop(k, None)

    def clear_guard_prefix(self, prefix):
        for k in [k for k in self.guard if k.startswith(prefix)]:
            del self.guard[k]

    def locked_keys(self, keys):
        return {k for k in keys if k in self.guard and (self.guard[k]["locked_until"] or self.clock) > self.clock}

    def audit(self, action, *, username=None, user_id=None, remote_addr=None, detail=None, tenant=None,
              tenants=(), event_id=None):
        self.audit_log.append({"seq": len(self.audit_log) + 1, "at": self.clock, "action": action,
                               "username": username, "user_id": user_id, "remote_addr": remote_addr,
                               "detail": detail, "tenant": tenant, "event_id": event_id,
                               "tenants": sorted(set(tenants) | ({tenant} if tenant else set()))})

    def audit_rows(self, tenant=None, limit=200):
        rows = [r for r in reversed(self.audit_log) if tenant is None or tenant in r["tenants"]]
        return rows[:limit]
