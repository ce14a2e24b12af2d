"""Use cases of the accounts service: plain functions over a unit of work."""
import hashlib
import re
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from . import domain
from .errors import AccountLocked, Invalid, InvalidCredentials, SessionInvalid, WrongPassword
from .orm import access_audit, identities, proxy_delegations, role_grants, sessions, tenants, users
from portfolio_common.errors import NotFound

ADMIN_ROLES = ("system_admin", "system")


_NATIONAL_ID_SHAPED = re.compile(r"^[A-Za-z][0-9A-Da-d]\d{8}$")


def _safe_username(typed):
    """People sometimes type their 身分證號 as the username: never store that in the audit."""
    typed = (typed or "")[:64]
    return typed[:3] + "*" * (len(typed) - 5) + typed[-2:] if _NATIONAL_ID_SHAPED.match(typed) else typed


def _audit(uow, action, *, username=None, user_id=None, remote_addr=None, detail=None, tenant=None,
           event_id=None):
    uow.session.execute(access_audit.insert().values(
        action=action, username=username, user_id=user_id, remote_addr=remote_addr, detail=detail,
        tenant=tenant, event_id=event_id))


AUDIT_READERS = ("ops", "executive_secretary", "principal", "system")


def record_refusal(uow, caller, action, code):
    """A call to accounts itself was refused."""
    _audit(uow, "refused", username=caller.username if caller else None,
           user_id=caller.user_id if caller else None, tenant=caller.tenant if caller else None,
           remote_addr=(caller.remote_addr or None) if caller else None,
           detail=f"{action}: {code}")
    uow.commit()


def record_access_refused(uow, env) -> bool:
    """Another service refused a call: the audit keeps it (append-only, who/when/what)."""
    if not uow.claim(env["event_id"], "accounts.handle_access_refused"):
        return False
    p = env["payload"]
    _audit(uow, "refused", username=p["username"], user_id=p["user_id"], tenant=env["tenant"],
           remote_addr=p.get("remote_addr"),
           detail=f"{p['action']}: {p['code']} (roles: {','.join(p['roles']) or '-'})", event_id=env["event_id"])
    uow.commit()
    return True


def list_access_audit(uow, caller, limit=200) -> list:
    """Ops and the executive secretary read the audit: their tenant's refusals and all sign-ins."""
    caller.require(*AUDIT_READERS)
    rows = uow.session.execute(sa.select(access_audit).where(
        sa.or_(access_audit.c.tenant == caller.tenant, access_audit.c.tenant.is_(None)))
        .order_by(access_audit.c.seq.desc()).limit(min(int(limit), 1000))).all()
    return [{"at": r.at.isoformat(), "action": r.action, "username": r.username,
             "user_id": str(r.user_id) if r.user_id else None, "tenant": r.tenant,
             "remote_addr": r.remote_addr, "detail": r.detail} for r in rows]


def _grants(uow, user_id) -> list:
    rows = uow.session.execute(sa.select(role_grants.c.tenant, role_grants.c.role).where(
        role_grants.c.user_id == user_id).order_by(role_grants.c.tenant, role_grants.c.role)).all()
    return [{"tenant": r.tenant, "role": r.role} for r in rows]


def _hash_token(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def _profile(uow, row) -> dict:
    return {"user_id": str(row.id), "username": row.username, "display_name": row.display_name,
            "must_change_password": row.must_change_password, "grants": _grants(uow, row.id),
            "proxy_for": _active_proxies(uow, row.id)}


def _today_in_school():
    """Delegations are by school date (Asia/Taipei), not UTC."""
    import datetime as dt
    from zoneinfo import ZoneInfo
    return dt.datetime.now(ZoneInfo("Asia/Taipei")).date()


def _active_proxies(uow, user_id) -> dict:
    today = _today_in_school()
    rows = uow.session.execute(sa.select(proxy_delegations.c.tenant, proxy_delegations.c.teacher_user_id).where(
        proxy_delegations.c.proxy_user_id == user_id, proxy_delegations.c.revoked_at.is_(None),
        proxy_delegations.c.starts_on <= today, proxy_delegations.c.ends_on >= today)).all()
    out = {}
    for r in rows:
        out.setdefault(r.tenant, []).append(str(r.teacher_user_id))
    return out


def _user_by_name(uow, username):
    row = uow.session.execute(sa.select(users).where(users.c.username == (username or ""))).first()
    if row is None:
        raise NotFound(f"no user {username!r}", code="user_not_found")
    return row


def grant_proxy(uow, caller, teacher_username, proxy_username, starts_on, ends_on) -> dict:
    """A teacher names a proxy for themself; the academic section may name one for any teacher."""
    teacher = _user_by_name(uow, teacher_username)
    proxy = _user_by_name(uow, proxy_username)
    if str(teacher.id) != caller.user_id:
        caller.require(*domain.PROXY_ADMIN_ROLES)
    elif not caller.has(*domain.TEACHING_ROLES, *domain.PROXY_ADMIN_ROLES):
        caller.require(*domain.TEACHING_ROLES)
    domain.check_proxy_period(starts_on, ends_on, teacher.id, proxy.id)
    for who, what in ((teacher, "teacher"), (proxy, "proxy")):
        has_role = uow.session.execute(sa.select(role_grants).where(
            role_grants.c.user_id == who.id, role_grants.c.tenant == caller.tenant,
            role_grants.c.role.in_(domain.TEACHING_ROLES))).first()
        if not has_role:
            raise Invalid(f"the {what} must be a teacher of this division", code="proxy_not_teacher")
    pid = uow.session.execute(proxy_delegations.insert().values(
        tenant=caller.tenant, teacher_user_id=teacher.id, proxy_user_id=proxy.id, starts_on=starts_on,
        ends_on=ends_on, created_by=caller.user_id).returning(proxy_delegations.c.id)).scalar_one()
    _audit(uow, "proxy_granted", user_id=proxy.id, username=proxy.username,
           detail=f"for {teacher.username} {starts_on}..{ends_on} by {caller.username}")
    uow.commit()
    return {"id": str(pid)}


def list_proxies(uow, caller) -> list:
    """Delegations of the caller's tenant that involve the caller (everyone's for the section)."""
    t, u1, u2 = proxy_delegations, users.alias("teacher"), users.alias("proxy")
    q = (sa.select(t, u1.c.display_name.label("teacher_name"), u1.c.username.label("teacher_username"),
                   u2.c.display_name.label("proxy_name"), u2.c.username.label("proxy_username"))
         .join(u1, u1.c.id == t.c.teacher_user_id).join(u2, u2.c.id == t.c.proxy_user_id)
         .where(t.c.tenant == caller.tenant, t.c.revoked_at.is_(None)))
    if not caller.has(*domain.PROXY_ADMIN_ROLES):
        q = q.where(sa.or_(t.c.teacher_user_id == caller.user_id, t.c.proxy_user_id == caller.user_id))
    today = _today_in_school()
    return [{"id": str(r.id), "teacher": r.teacher_name, "teacher_username": r.teacher_username,
             "proxy": r.proxy_name, "proxy_username": r.proxy_username, "starts_on": r.starts_on.isoformat(),
             "ends_on": r.ends_on.isoformat(), "active": r.starts_on <= today <= r.ends_on}
            for r in uow.session.execute(q.order_by(t.c.starts_on)).all()]


def revoke_proxy(uow, caller, delegation_id) -> bool:
    try:
        did = uuid.UUID(str(delegation_id))
    except ValueError:
        raise NotFound("delegation not found") from None
    row = uow.session.execute(sa.select(proxy_delegations).where(
        proxy_delegations.c.id == did, proxy_delegations.c.tenant == caller.tenant,
        proxy_delegations.c.revoked_at.is_(None))).first()
    if row is None or not (str(row.teacher_user_id) == caller.user_id or caller.has(*domain.PROXY_ADMIN_ROLES)):
        raise NotFound("delegation not found")
    uow.session.execute(proxy_delegations.update().where(proxy_delegations.c.id == did)
                        .values(revoked_at=sa.func.now()))
    _audit(uow, "proxy_revoked", user_id=row.proxy_user_id, detail=f"delegation {did} by {caller.username}")
    uow.commit()
    return True


def _open_session(uow, row, *, kind, remote_addr, user_agent, how) -> dict:
    token = secrets.token_urlsafe(32)
    uow.session.execute(sessions.insert().values(
        token_hash=_hash_token(token), user_id=row.id, kind=kind if kind in domain.SESSION_HOURS else "portal",
        expires_at=sa.func.now() + sa.text(f"interval '{domain.SESSION_HOURS.get(kind, 12)} hours'"),
        remote_addr=(remote_addr or "")[:64], user_agent=(user_agent or "")[:200]))
    _audit(uow, "sign_in", username=row.username, user_id=row.id, remote_addr=remote_addr, detail=f"{kind} {how}")
    uow.commit()
    return dict(_profile(uow, row), session_token=token)


def link_identity(uow, caller, username, provider, subject) -> bool:
    """System admin: this external identity signs in as this user from now on."""
    caller.require(*ADMIN_ROLES)
    user = _user_by_name(uow, username)
    if not _in_callers_tenant(uow, caller, user.id):
        raise NotFound("no such user", code="user_not_found")
    if not (provider or "").strip() or not (subject or "").strip():
        raise Invalid("provider and subject are required", code="invalid")
    uow.session.execute(insert(identities).values(provider=provider, subject=subject, user_id=user.id)
                        .on_conflict_do_update(index_elements=["provider", "subject"], set_={"user_id": user.id}))
    _audit(uow, "identity_linked", username=user.username, user_id=user.id, detail=f"{provider} by {caller.username}")
    uow.commit()
    return True


def sign_in_with_identity(uow, provider, subject, *, remote_addr=None, user_agent=None, kind="portal") -> dict:
    """Another way in: the gateway has verified an OpenID Connect ID token (signature, issuer,
    audience, expiry, nonce) and passes its (provider, subject). Same session as a password."""
    row = uow.session.execute(sa.select(users).join(identities, identities.c.user_id == users.c.id).where(
        identities.c.provider == provider, identities.c.subject == subject)).first()
    if row is None:
        _audit(uow, "sign_in_failed", remote_addr=remote_addr, detail=f"{provider}: identity not linked")
        uow.commit()
        raise InvalidCredentials("this sign-in is not linked to an account", code="identity_not_linked")
    return _open_session(uow, row, kind=kind, remote_addr=remote_addr, user_agent=user_agent, how=provider)


def sign_in(uow, username, password, *, remote_addr=None, user_agent=None, kind="portal") -> dict:
    """Check the password (with lockout and back-off) and open a server-side session."""
    s = uow.session
    row = s.execute(sa.select(users).where(users.c.username == (username or "")).with_for_update()).first()
    now = s.execute(sa.select(sa.func.now())).scalar_one()
    if row is not None and row.locked_until and row.locked_until > now:
        _audit(uow, "sign_in_locked", username=row.username, user_id=row.id, remote_addr=remote_addr)
        uow.commit()
        wait = int((row.locked_until - now).total_seconds()) + 1
        raise AccountLocked(f"too many failed sign-ins; try again in {wait} s", retry_after=wait)
    if not domain.verify_password(row.password_hash if row else None, password):
        if row is not None:
            failed = row.failed_logins + 1
            lock = domain.lockout_seconds(failed)
            s.execute(users.update().where(users.c.id == row.id).values(
                failed_logins=failed,
                locked_until=(sa.func.now() + sa.text(f"interval '{lock} seconds'")) if lock else None))
            if lock:
                _audit(uow, "locked_out", username=row.username, user_id=row.id, remote_addr=remote_addr,
                       detail=f"{failed} failures; locked {lock} s")
        _audit(uow, "sign_in_failed", username=_safe_username(username), remote_addr=remote_addr)
        uow.commit()
        raise InvalidCredentials("wrong username or password")
    s.execute(users.update().where(users.c.id == row.id).values(failed_logins=0, locked_until=None))
    return _open_session(uow, row, kind=kind, remote_addr=remote_addr, user_agent=user_agent, how="password")


def _live_session(uow, token, *, for_update=False):
    q = sa.select(sessions).where(sessions.c.token_hash == _hash_token(token),
                                  sessions.c.revoked_at.is_(None), sessions.c.expires_at > sa.func.now())
    row = uow.session.execute(q.with_for_update() if for_update else q).first()
    if row is None:
        raise SessionInvalid("the session has ended; sign in again")
    return row


def resolve_session(uow, token) -> dict:
    """Who holds this session token (called by the gateway on every request)."""
    sess = _live_session(uow, token)
    user = uow.session.execute(sa.select(users).where(users.c.id == sess.user_id)).first()
    uow.session.execute(sessions.update().where(
        sessions.c.id == sess.id, sessions.c.last_seen_at < sa.func.now() - sa.text("interval '1 minute'"))
        .values(last_seen_at=sa.func.now()))
    uow.commit()
    return dict(_profile(uow, user), session_id=str(sess.id))


def sign_out(uow, token) -> bool:
    res = uow.session.execute(sessions.update().where(
        sessions.c.token_hash == _hash_token(token), sessions.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now()).returning(sessions.c.user_id))
    uid = res.scalar()
    if uid:
        _audit(uow, "sign_out", user_id=uid)
    uow.commit()
    return uid is not None


def list_my_sessions(uow, token) -> list:
    me = _live_session(uow, token)
    rows = uow.session.execute(sa.select(sessions).where(
        sessions.c.user_id == me.user_id, sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > sa.func.now()).order_by(sessions.c.created_at.desc())).all()
    return [{"id": str(r.id), "kind": r.kind, "created_at": r.created_at.isoformat(),
             "last_seen_at": r.last_seen_at.isoformat(), "remote_addr": r.remote_addr,
             "user_agent": r.user_agent, "current": r.id == me.id} for r in rows]


def end_session(uow, token, session_id) -> bool:
    """End one of the caller's own sessions (another user's reads as not found)."""
    me = _live_session(uow, token)
    try:
        sid = uuid.UUID(str(session_id))
    except ValueError:
        raise NotFound("session not found") from None
    res = uow.session.execute(sessions.update().where(
        sessions.c.id == sid, sessions.c.user_id == me.user_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now()))
    if not res.rowcount:
        raise NotFound("session not found")
    _audit(uow, "session_ended", user_id=me.user_id, detail=f"session {sid}")
    uow.commit()
    return True


def change_password(uow, token, old_password, new_password) -> bool:
    me = _live_session(uow, token)
    user = uow.session.execute(sa.select(users).where(users.c.id == me.user_id)).first()
    if not domain.verify_password(user.password_hash, old_password):
        raise WrongPassword("the current password is wrong")
    if old_password == new_password:
        raise Invalid("choose a new password different from the old one", code="password_unchanged")
    uow.session.execute(users.update().where(users.c.id == user.id).values(
        password_hash=domain.hash_password(new_password), must_change_password=False))
    # every other session of this user ends: whoever had the old password is out
    uow.session.execute(sessions.update().where(
        sessions.c.user_id == user.id, sessions.c.id != me.id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now()))
    _audit(uow, "password_changed", user_id=user.id, username=user.username)
    uow.commit()
    return True


def reset_password(uow, caller, username) -> dict:
    """System admin: a one-time password, changed at next sign-in; every session ends."""
    caller.require(*ADMIN_ROLES)
    user = uow.session.execute(sa.select(users).where(users.c.username == username)).first()
    if user is None or not _in_callers_tenant(uow, caller, user.id):
        raise NotFound("user not found")
    temp = domain.temporary_password()
    uow.session.execute(users.update().where(users.c.id == user.id).values(
        password_hash=domain.hash_password(temp), must_change_password=True, failed_logins=0,
        locked_until=None))
    uow.session.execute(sessions.update().where(sessions.c.user_id == user.id, sessions.c.revoked_at.is_(None))
                        .values(revoked_at=sa.func.now()))
    _audit(uow, "password_reset", user_id=user.id, username=user.username, detail=f"by {caller.username}")
    uow.commit()
    return {"username": user.username, "temporary_password": temp}


def _in_callers_tenant(uow, caller, user_id) -> bool:
    if caller.has("system"):
        return True
    return uow.session.execute(sa.select(role_grants.c.user_id).where(
        role_grants.c.user_id == user_id, role_grants.c.tenant == caller.tenant)).first() is not None


def ensure_tenants(uow, caller, rows) -> list:
    caller.require(*ADMIN_ROLES)
    for t in rows:
        uow.session.execute(insert(tenants).values(**t).on_conflict_do_update(
            index_elements=["code"], set_={"name": t["name"], "school_code": t["school_code"],
                                           "division": t["division"]}))
    uow.commit()
    return [t["code"] for t in rows]


def list_users(uow, caller) -> list:
    """The people of the caller's division with their roles there (system admin)."""
    caller.require(*ADMIN_ROLES)
    rows = uow.session.execute(
        sa.select(users.c.username, users.c.display_name, users.c.locked_until, users.c.must_change_password,
                  role_grants.c.role)
        .join(role_grants, role_grants.c.user_id == users.c.id)
        .where(role_grants.c.tenant == caller.tenant).order_by(users.c.username, role_grants.c.role)).all()
    out = {}
    for r in rows:
        e = out.setdefault(r.username, {"username": r.username, "display_name": r.display_name, "roles": [],
                                        "locked": bool(r.locked_until), "must_change_password": r.must_change_password})
        e["roles"].append(r.role)
    return list(out.values())


def lookup_users(uow, caller, usernames) -> dict:
    """username -> {user_id, display_name, roles} for people of the caller's tenant (others: absent)."""
    names = [u for u in (usernames or []) if isinstance(u, str)][:5000]
    rows = uow.session.execute(
        sa.select(users.c.id, users.c.username, users.c.display_name, role_grants.c.role)
        .join(role_grants, role_grants.c.user_id == users.c.id)
        .where(users.c.username.in_(names), role_grants.c.tenant == caller.tenant)).all()
    out = {}
    for r in rows:
        entry = out.setdefault(r.username, {"user_id": str(r.id), "display_name": r.display_name, "roles": []})
        entry["roles"].append(r.role)
    return out


def list_tenants(uow) -> list:
    return [dict(r._mapping) for r in uow.session.execute(sa.select(tenants).order_by(tenants.c.code)).all()]


def import_people(uow, caller, rows, *, dry_run=False) -> dict:
    """Create or update users and their role grants from import rows.

    Every row is checked and classified (created / updated / unchanged) before anything is
    written; a dry run stops there (the preview). If any row is refused nothing is written.
    Re-importing the same rows changes nothing. A division's system admin imports into their
    own division only and replaces roles there only; the platform's own `system` caller
    (demo loader, ops tools) replaces a person's roles in every division.
    """
    caller.require(*ADMIN_ROLES)
    known = set(uow.session.execute(sa.select(tenants.c.code)).scalars())
    everywhere = caller.has("system")
    refused, plan, seen = [], [], set()
    for i, row in enumerate(rows, start=1):
        problems = domain.check_person(row, known)
        if row.get("username") in seen:
            problems.append(("duplicate_username", "username appears twice in this file"))
        seen.add(row.get("username"))
        if row.get("password") is not None and len(row["password"]) < 8:
            problems.append(("password_too_short", "password must have at least 8 characters"))
        if not everywhere and any(g.get("tenant") != caller.tenant for g in row.get("grants") or []):
            problems.append(("other_tenant", "roles in another division cannot be set from this one"))
        existing = uow.session.execute(sa.select(users).where(users.c.username == row.get("username"))).first()
        if existing is None and not row.get("password") and not dry_run:  # the preview may omit it
            problems.append(("password_missing", "a new account needs an initial password"))
        for code, reason in problems:
            refused.append({"row": i, "username": row.get("username"), "code": code, "reason": reason})
        if problems:
            continue
        scope = None if everywhere else {caller.tenant}
        wanted = sorted((g["tenant"], g["role"]) for g in row.get("grants") or [])
        if existing is None:
            plan.append(("created", row, None, wanted, scope))
            continue
        have = sorted((g["tenant"], g["role"]) for g in _grants(uow, existing.id)
                      if scope is None or g["tenant"] in scope)
        same = existing.display_name == row["display_name"].strip() and have == wanted
        plan.append(("unchanged" if same else "updated", row, existing, wanted, scope))
    report = {"created": [], "updated": [], "unchanged": [], "refused": refused, "user_ids": {}}
    for kind, row, existing, _, _ in plan:
        report[kind].append(row["username"])
        if existing is not None:
            report["user_ids"][row["username"]] = str(existing.id)
    if refused or dry_run:
        return report
    for kind, row, existing, wanted, scope in plan:
        if kind == "unchanged":
            continue
        if existing is None:
            uid = uow.session.execute(users.insert().values(
                username=row["username"], display_name=row["display_name"].strip(),
                password_hash=domain.hash_password(row["password"]),
                must_change_password=bool(row.get("must_change_password", False)))
                .returning(users.c.id)).scalar_one()
        else:
            uid = existing.id
            uow.session.execute(users.update().where(users.c.id == uid).values(
                display_name=row["display_name"].strip()))
        drop = role_grants.delete().where(role_grants.c.user_id == uid)
        if scope is not None:
            drop = drop.where(role_grants.c.tenant.in_(scope))
        uow.session.execute(drop)
        for tenant, role in wanted:
            uow.session.execute(role_grants.insert().values(user_id=uid, tenant=tenant, role=role))
        _audit(uow, "roles_set", username=row["username"], user_id=uid, tenant=None if scope is None else caller.tenant,
               detail=f"by {caller.username}: " + (",".join(f"{t}:{r}" for t, r in wanted) or "no roles"))
        report["user_ids"][row["username"]] = str(uid)
    uow.commit()
    return report
