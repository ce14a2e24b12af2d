"""Use cases of the accounts service: plain functions over a unit of work.

The use cases that hold the rules (sign-in and its guard, passwords, who manages which
account, imports, the audit) go through `uow.accounts` (repository.py) and `uow.passwords`, and
are unit-tested with the in-memory fakes; the session bookkeeping below them is plain SQL.
"""
import hashlib
import secrets
import uuid

import sqlalchemy as sa

from . import domain
from .errors import (AccountLocked, Invalid, InvalidCredentials, SessionInvalid, SignInThrottled,
                     WrongPassword)
from .orm import access_audit, identities, proxy_delegations, role_grants, sessions, users  # noqa: F401
from portfolio_common.errors import NotAllowed, NotFound

ADMIN_ROLES = ("system_admin", *domain.PLATFORM_LEVEL)
AUDIT_READERS = ("ops", "executive_secretary", "principal", *domain.PLATFORM_LEVEL)


def _safe_username(typed):
    return domain.safe_username(typed)


def _platform(caller) -> bool:
    return caller.has(*domain.PLATFORM_LEVEL)


def _audit(uow, action, *, username=None, user_id=None, remote_addr=None, detail=None, tenant=None,
           tenants=(), event_id=None):
    uow.accounts.audit(action, username=username, user_id=user_id, remote_addr=remote_addr, detail=detail,
                       tenant=tenant, tenants=tenants, event_id=event_id)


def _tenants_of(uow, user_id) -> list:
    return sorted({g["tenant"] for g in uow.accounts.grants(user_id)}) if user_id else []


def record_refusal(uow, caller, action, code, throttle=None):
    """A call to accounts itself was refused: audited with the caller's tenant. A refusal
    without a caller (a bogus session or caller token) is anonymous and can come on every
    request: `throttle` (domain.AuditThrottle) keeps it to one row per kind and interval, which
    counts the ones left out."""
    detail = f"{action}: {code}"
    if caller is None and throttle is not None:
        write, skipped = throttle.admit((action, code))
        if not write:
            return False
        if skipped:
            detail += f" (+{skipped} more like it since the previous row)"
    _audit(uow, "refused", username=caller.username if caller else None,
           user_id=caller.user_id if caller else None, tenant=caller.tenant if caller else None,
           remote_addr=(caller.remote_addr or None) if caller else None, detail=detail)
    uow.commit()
    return True


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
    """The access audit, newest first, at most `limit` (<= 1000) rows.

    A tenant's readers (ops, executive secretary, principal) see the rows that name their
    tenant: sign-ins, failures, lockouts, resets, role and proxy changes of accounts of that
    tenant, and the refusals made inside it. Rows that name no tenant (unknown usernames,
    sources throttled) and every other row are read at platform level only."""
    caller.require(*AUDIT_READERS)
    try:
        limit = max(1, min(int(limit), 1000))
    except (TypeError, ValueError):
        raise Invalid("limit must be a number", code="invalid") from None
    rows = uow.accounts.audit_rows(None if _platform(caller) else caller.tenant, limit)
    return [{"at": r["at"].isoformat(), "action": r["action"], "username": r["username"],
             "user_id": str(r["user_id"]) if r["user_id"] else None, "tenant": r["tenant"],
             "tenants": list(r["tenants"] or []), "remote_addr": r["remote_addr"], "detail": r["detail"]}
            for r in rows]


def _grants(uow, user_id) -> list:
    return uow.accounts.grants(user_id)


def _hash_token(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def _row(row) -> dict:
    return dict(row._mapping) if hasattr(row, "_mapping") else dict(row)


def _profile(uow, row) -> dict:
    row = _row(row)
    return {"user_id": str(row["id"]), "username": row["username"], "display_name": row["display_name"],
            "must_change_password": row["must_change_password"], "grants": _grants(uow, row["id"]),
            "platform_roles": uow.accounts.platform_roles(row["id"]),
            "proxy_for": _active_proxies(uow, row["id"])}


def _today_in_school():
    """Delegations are by school date (Asia/Taipei), not UTC."""
    import datetime as dt
    from zoneinfo import ZoneInfo
    return dt.datetime.now(ZoneInfo("Asia/Taipei")).date()


def _active_proxies(uow, user_id) -> dict:
    return uow.accounts.active_proxies(user_id, _today_in_school())


def _user_by_name(uow, username):
    row = uow.accounts.user_by_name(username)
    if row is None:
        raise NotFound(f"no user {username!r}", code="user_not_found")
    return row


def grant_proxy(uow, caller, teacher_username, proxy_username, starts_on, ends_on) -> dict:
    """A teacher names a proxy (代理人) for themself; the academic section (executive secretary,
    system admin) may name one for any teacher of the division.

    Both must be teachers of the caller's division. "No such user", "not a teacher" and "a
    teacher of the other division" answer alike (`proxy_not_teacher`, after the same lookups),
    so the form tells nobody which usernames exist elsewhere. Raises NotAllowed when a teacher
    names a proxy for someone else, Invalid for a bad period or self-delegation."""
    repo = uow.accounts
    teacher, proxy = repo.user_by_name(teacher_username), repo.user_by_name(proxy_username)
    if teacher is None or str(teacher["id"]) != caller.user_id:
        caller.require(*domain.PROXY_ADMIN_ROLES)
    elif not caller.has(*domain.TEACHING_ROLES, *domain.PROXY_ADMIN_ROLES):
        caller.require(*domain.TEACHING_ROLES)
    teaching = [who is not None and repo.teaching_in(who["id"], caller.tenant, domain.TEACHING_ROLES)
                for who in (teacher, proxy)]
    if not all(teaching):
        raise Invalid("both must be teachers of this division", code="proxy_not_teacher")
    domain.check_proxy_period(starts_on, ends_on, teacher["id"], proxy["id"])
    pid = repo.add_delegation(tenant=caller.tenant, teacher_user_id=teacher["id"], proxy_user_id=proxy["id"],
                              starts_on=starts_on, ends_on=ends_on, created_by=caller.user_id)
    _audit(uow, "proxy_granted", user_id=proxy["id"], username=proxy["username"], tenant=caller.tenant,
           detail=f"for {teacher['username']} {starts_on}..{ends_on} by {caller.username}")
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
    _audit(uow, "proxy_revoked", user_id=row.proxy_user_id, tenant=caller.tenant,
           detail=f"delegation {did} by {caller.username}")
    uow.commit()
    return True


def _open_session(uow, row, *, kind, remote_addr, user_agent, how) -> dict:
    row = _row(row)
    token = secrets.token_urlsafe(32)
    kind = kind if kind in domain.SESSION_HOURS else "portal"
    uow.accounts.add_session(_hash_token(token), row["id"], kind, domain.SESSION_HOURS[kind], remote_addr, user_agent)
    _audit(uow, "sign_in", username=row["username"], user_id=row["id"], remote_addr=remote_addr,
           detail=f"{kind} {how}", tenants=_tenants_of(uow, row["id"]))
    uow.commit()
    return dict(_profile(uow, row), session_token=token)


# ---------------------------------------------------------------- who manages an account

def _managed_target(uow, caller, username):
    """The account `username` if the caller may manage it (domain.may_manage).

    An account with no grant in the caller's tenant is not found for a division admin (as
    before: another division's people are not listed); one that is visible here but also spans
    another tenant, or holds a platform grant, is refused with `account_managed_elsewhere`.
    Both refusals are audited."""
    user = uow.accounts.user_by_name(username) if username else None
    if user is None:
        raise NotFound("no such user", code="user_not_found")
    tenants, platform = _tenants_of(uow, user["id"]), uow.accounts.platform_roles(user["id"])
    if domain.may_manage(caller.roles, caller.tenant, tenants, platform):
        return user, tenants
    if caller.tenant not in tenants:
        raise NotFound("no such user", code="user_not_found", refused=True)
    raise NotAllowed("this account spans divisions or the platform: only a platform admin manages it",
                     code="account_managed_elsewhere")


def link_identity(uow, caller, username, provider, subject) -> bool:
    """Link an external identity (an OpenID Connect (provider, subject) verified by the gateway)
    to an account: it signs in as that account from now on.

    Only for accounts the caller manages (domain.may_manage); re-pointing an identity that is
    already linked to another account also needs the right to manage that account. Raises
    NotFound / NotAllowed (`account_managed_elsewhere`), Invalid for an empty provider or subject."""
    caller.require(*ADMIN_ROLES)
    user, tenants = _managed_target(uow, caller, username)
    if not (provider or "").strip() or not (subject or "").strip():
        raise Invalid("provider and subject are required", code="invalid")
    owner = uow.accounts.identity_owner(provider, subject)
    if owner is not None and owner != user["id"]:
        current = uow.accounts.user_by_id(owner)
        if not domain.may_manage(caller.roles, caller.tenant, _tenants_of(uow, owner),
                                 uow.accounts.platform_roles(owner)):
            raise NotAllowed("this identity is linked to an account you do not manage",
                             code="account_managed_elsewhere")
        _audit(uow, "identity_unlinked", username=current["username"], user_id=owner,
               tenants=_tenants_of(uow, owner), detail=f"{provider} moved by {caller.username}")
    uow.accounts.link_identity(provider, subject, user["id"])
    _audit(uow, "identity_linked", username=user["username"], user_id=user["id"], tenants=tenants,
           detail=f"{provider} by {caller.username}")
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


# ---------------------------------------------------------------- sign-in and its guard

_WHAT = {"pair": "this username from this address", "source": "this address", "account": "this username"}


def sign_in(uow, username, password, *, remote_addr=None, user_agent=None, kind="portal") -> dict:
    """Check the password and open a server-side session: {profile..., session_token}.

    The guard (domain.PAIR / SOURCE / ACCOUNT, README "Sign-in policy") is asked first: a
    throttled source gets SignInThrottled, a locked username (from this source, or everywhere)
    AccountLocked, both with `retry_after` seconds and before any password check. An unknown
    username is answered, counted and locked exactly like a known one and costs the same argon2
    verification. Raises InvalidCredentials for a wrong username or password."""
    repo = uow.accounts
    now = repo.now()
    keys = domain.guard_keys(username, remote_addr)
    states = repo.guard_states([k for _, k in keys.values()])
    user = repo.user_by_name(username) if isinstance(username, str) else None
    tenants = _tenants_of(uow, user["id"]) if user else []
    name = _safe_username(username if isinstance(username, str) else "")
    for what in [w for w in ("source", "pair", "account") if w in keys]:
        limit, key = keys[what]
        wait = domain.locked_for(states.get(key), now)
        if wait:
            st = states[key]
            if not st.get("last_audited_at") or (now - st["last_audited_at"]).total_seconds() >= 60:
                repo.mark_guard_audited(key, now)  # one row a minute per lock, not one per attempt
                _audit(uow, "sign_in_locked", username=name, user_id=user["id"] if user else None,
                       remote_addr=remote_addr, tenants=tenants if what != "source" else (),
                       detail=f"refused while {_WHAT[what]} is locked ({wait} s left)")
            uow.commit()
            if what == "source":
                raise SignInThrottled(f"too many failed sign-ins from here; try again in {wait} s",
                                      retry_after=wait)
            raise AccountLocked(f"too many failed sign-ins; try again in {wait} s", retry_after=wait)
    ok = uow.passwords.verify(user["password_hash"] if user else None, password if isinstance(password, str) else "")
    if not ok:
        for what, (limit, key) in keys.items():
            after = repo.count_failure(key, limit, now)
            if after["lock_seconds"]:
                _audit(uow, "locked_out", username=name if what != "source" else None,
                       user_id=user["id"] if user and what != "source" else None, remote_addr=remote_addr,
                       tenants=tenants if what != "source" else (),
                       detail=f"{after['failures']} failures of {_WHAT[what]}; locked {after['lock_seconds']} s")
        _audit(uow, "sign_in_failed", username=name, user_id=user["id"] if user else None,
               remote_addr=remote_addr, tenants=tenants)
        uow.commit()
        raise InvalidCredentials("wrong username or password")
    repo.clear_guard([keys["pair"][1], keys["account"][1]])
    return _open_session(uow, user, kind=kind, remote_addr=remote_addr, user_agent=user_agent, how="password")


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
        _audit(uow, "sign_out", user_id=uid, tenants=_tenants_of(uow, uid))
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
    _audit(uow, "session_ended", user_id=me.user_id, detail=f"session {sid}", tenants=_tenants_of(uow, me.user_id))
    uow.commit()
    return True


def change_password(uow, token, old_password, new_password) -> bool:
    """The session's user chooses a new password (also the forced choice after an import or an
    admin reset). Refused: a wrong current password (WrongPassword), the same password
    (`password_unchanged`), a weak one (domain.password_problem: `password_too_short`,
    `password_too_common`, `password_is_username`, `password_like_national_id`). Every other
    session of the user ends."""
    me = _live_session(uow, token)
    return change_password_of(uow, me.user_id, me.id, old_password, new_password)


def change_password_of(uow, user_id, session_id, old_password, new_password) -> bool:
    repo = uow.accounts
    user = repo.user_by_id(user_id)
    if not uow.passwords.verify(user["password_hash"], old_password):
        raise WrongPassword("the current password is wrong")
    if old_password == new_password:
        raise Invalid("choose a new password different from the old one", code="password_unchanged")
    domain.check_password(new_password, user["username"])
    repo.update_user(user["id"], password_hash=uow.passwords.hash(new_password), must_change_password=False)
    # every other session of this user ends: whoever had the old password is out
    repo.end_sessions(user["id"], except_session_id=session_id)
    _audit(uow, "password_changed", user_id=user["id"], username=user["username"],
           tenants=_tenants_of(uow, user["id"]))
    uow.commit()
    return True


def reset_password(uow, caller, username) -> dict:
    """A one-time password for an account the caller manages (domain.may_manage), changed at
    next sign-in; every session of the account ends and its sign-in locks are lifted.

    Returns {username, temporary_password}. Raises NotFound (`user_not_found`) for an account
    outside the caller's division, NotAllowed (`account_managed_elsewhere`) for one that spans
    divisions or holds a platform grant (platform level only)."""
    caller.require(*ADMIN_ROLES)
    user, tenants = _managed_target(uow, caller, username)
    temp = domain.temporary_password()
    uow.accounts.update_user(user["id"], password_hash=uow.passwords.hash(temp), must_change_password=True)
    uow.accounts.end_sessions(user["id"])
    name = user["username"].lower()
    uow.accounts.clear_guard_prefix(f"pair:{name}|")
    uow.accounts.clear_guard([f"acct:{name}"])
    _audit(uow, "password_reset", user_id=user["id"], username=user["username"], tenants=tenants,
           detail=f"by {caller.username}")
    uow.commit()
    return {"username": user["username"], "temporary_password": temp}


def ensure_tenants(uow, caller, rows) -> list:
    """Add or rename tenants (platform level: a division's admin cannot touch the tenant table).
    rows: [{code, school_code, division, name}] (schemas.TenantIn). Returns the codes."""
    caller.require(*domain.PLATFORM_LEVEL)
    for t in rows:
        uow.accounts.upsert_tenant(t)
    uow.commit()
    return [t["code"] for t in rows]


def list_users(uow, caller) -> list:
    """The people of the caller's division (every person, at platform level without a tenant),
    each as {username, display_name, roles (in this division), locked, must_change_password,
    managed_by ('tenant' | 'platform'), editable (may the caller change them),
    other_tenants (codes of the other tenants the account spans)}; at platform level also
    `grants` (all of them), so a role change here keeps the other tenants' roles."""
    caller.require(*ADMIN_ROLES)
    repo = uow.accounts
    people = repo.people(caller.tenant if caller.tenant or not _platform(caller) else None)
    locked = repo.locked_keys([f"acct:{p['username'].lower()}" for p in people])
    out = []
    for p in people:
        tenants = sorted({g["tenant"] for g in p["grants"]})
        entry = {"username": p["username"], "display_name": p["display_name"],
                 "roles": [g["role"] for g in p["grants"] if g["tenant"] == caller.tenant],
                 "locked": f"acct:{p['username'].lower()}" in locked,
                 "must_change_password": p["must_change_password"],
                 "managed_by": domain.managed_by(tenants, p["platform_roles"]),
                 "editable": domain.may_manage(caller.roles, caller.tenant, tenants, p["platform_roles"]),
                 "other_tenants": [t for t in tenants if t != caller.tenant]}
        if _platform(caller):
            entry["grants"] = p["grants"]
            entry["platform_roles"] = p["platform_roles"]
        out.append(entry)
    return out


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


NAME_READERS = ("ops", "executive_secretary", "principal", "registrar", "homeroom_teacher", "subject_convener",
                "system_admin", "system")


def names_of(uow, caller, user_ids) -> dict:
    """user id -> {username, display_name} for people holding a role in the caller's tenant
    (others, and ids that are not ids: absent), at most 2,000 ids. For pages that show people
    another service names by id, e.g. the teachers of the certification oversight figures."""
    caller.require(*NAME_READERS)
    ids = []
    for u in (user_ids or [])[:2000]:
        try:
            ids.append(uuid.UUID(str(u)))
        except ValueError:
            continue
    if not ids:
        return {}
    rows = uow.session.execute(
        sa.select(users.c.id, users.c.username, users.c.display_name).distinct()
        .join(role_grants, role_grants.c.user_id == users.c.id)
        .where(users.c.id.in_(ids), role_grants.c.tenant == caller.tenant)).all()
    return {str(r.id): {"username": r.username, "display_name": r.display_name} for r in rows}


def list_tenants(uow) -> list:
    """Every tenant: [{code, school_code, division, name}] by code (open: names are not secret)."""
    return uow.accounts.list_tenants()


def import_people(uow, caller, rows, *, dry_run=False) -> dict:
    """Create or update users and their role grants from import rows.

    Every row is checked and classified (created / updated / unchanged) before anything is
    written; a dry run stops there (the preview). If any row is refused nothing is written.
    Re-importing the same rows changes nothing.

    A division's system admin imports into their own division only, and changes only accounts
    they manage (domain.may_manage): an existing account of another division, one that spans
    divisions or holds a platform grant is refused (`account_managed_elsewhere`). At platform
    level (a platform admin, or the platform's own `system` tools: demo loader, ops) a row
    replaces the person's roles in every division, and `platform_roles` (when given) their
    platform grants. Usernames shaped like a national ID and weak passwords are refused.
    `email` (optional): the address reminders are sent to; empty or absent leaves the stored
    one as it is (a re-import never wipes what a person set themself), a malformed one refuses
    the row (`email_invalid`).
    A row with `sso_only: true` and no password creates an account that signs in only through
    the school's SSO (an identity link); with a password it is refused (`password_with_sso_only`).
    Returns {created, updated, unchanged: [username], refused: [{row, username, code, reason}],
    user_ids: {username: id}}.
    """
    caller.require(*ADMIN_ROLES)
    repo = uow.accounts
    known = repo.tenant_codes()
    everywhere = _platform(caller)
    refused, plan, seen = [], [], set()
    for i, row in enumerate(rows, start=1):
        problems = domain.check_person(row, known)
        if row.get("username") in seen:
            problems.append(("duplicate_username", "username appears twice in this file"))
        seen.add(row.get("username"))
        if not everywhere and any(g.get("tenant") != caller.tenant for g in row.get("grants") or []):
            problems.append(("other_tenant", "roles in another division cannot be set from this one"))
        if not everywhere and row.get("platform_roles"):
            problems.append(("platform_role_not_allowed", "platform roles are set at platform level only"))
        existing = repo.user_by_name(row.get("username")) if isinstance(row.get("username"), str) else None
        if existing is not None and existing["username"] != row.get("username"):
            existing = None
        sso_only = row.get("sso_only") is True
        if sso_only and row.get("password"):
            problems.append(("password_with_sso_only",
                             "an account that signs in only through the school's SSO has no password"))
        if existing is None and not row.get("password") and not sso_only and not dry_run:  # the preview may omit it
            problems.append(("password_missing", "a new account needs an initial password"))
        have_all = repo.grants(existing["id"]) if existing else []
        have_platform = repo.platform_roles(existing["id"]) if existing else []
        if existing is not None and not domain.may_manage(
                caller.roles, caller.tenant, {g["tenant"] for g in have_all}, have_platform):
            problems.append(("account_managed_elsewhere",
                             "this account belongs to another division or spans divisions: "
                             "only a platform admin changes it"))
        for code, reason in problems:
            refused.append({"row": i, "username": _safe_username(row.get("username")), "code": code,
                            "reason": reason})
        if problems:
            continue
        scope = None if everywhere else {caller.tenant}
        wanted = sorted({(g["tenant"], g["role"]) for g in row.get("grants") or []})
        platform = sorted(set(row["platform_roles"])) if everywhere and row.get("platform_roles") is not None else None
        if existing is None:
            plan.append(("created", row, None, wanted, scope, platform))
            continue
        have = sorted((g["tenant"], g["role"]) for g in have_all if scope is None or g["tenant"] in scope)
        email = domain.clean_email(row.get("email"))
        same = (existing["display_name"] == row["display_name"].strip() and have == wanted
                and (platform is None or platform == have_platform)
                and (email is None or existing.get("email") == email))
        plan.append(("unchanged" if same else "updated", row, existing, wanted, scope, platform))
    report = {"created": [], "updated": [], "unchanged": [], "refused": refused, "user_ids": {}}
    for kind, row, existing, *_ in plan:
        report[kind].append(row["username"])
        if existing is not None:
            report["user_ids"][row["username"]] = str(existing["id"])
    if refused or dry_run:
        return report
    for kind, row, existing, wanted, scope, platform in plan:
        if kind == "unchanged":
            continue
        if existing is None:
            # An SSO-only account (`sso_only: true`) has no password hash: a password sign-in
            # fails for it exactly like a wrong password; an admin's reset gives it one.
            password_hash = None if row.get("sso_only") is True else uow.passwords.hash(row["password"])
            uid = repo.add_user(row["username"], row["display_name"].strip(), password_hash,
                                bool(row.get("must_change_password", False)))
        else:
            uid = existing["id"]
            repo.update_user(uid, display_name=row["display_name"].strip())
        email = domain.clean_email(row.get("email"))
        if email is not None and (existing is None or existing.get("email") != email):
            repo.update_user(uid, email=email)
            _audit(uow, "email_set", username=row["username"], user_id=uid,
                   tenant=None if scope is None else caller.tenant, tenants={t for t, _ in wanted},
                   detail=f"by {caller.username} (import)")
        repo.set_grants(uid, wanted, scope)
        if platform is not None:
            repo.set_platform_roles(uid, platform)
        _audit(uow, "roles_set", username=row["username"], user_id=uid, tenant=None if scope is None else caller.tenant,
               tenants={t for t, _ in wanted},
               detail=f"by {caller.username}: " + (",".join(f"{t}:{r}" for t, r in wanted) or "no roles")
               + (f"; platform: {','.join(platform) or 'none'}" if platform is not None else ""))
        report["user_ids"][row["username"]] = str(uid)
    uow.commit()
    return report


# ---------------------------------------------------------------- e-mail addresses (reminders)

def get_my_email(uow, token) -> dict:
    """{"email": address or None} of the session's user (their settings page)."""
    me = _live_session(uow, token)
    return {"email": uow.accounts.user_by_id(me.user_id).get("email")}


def set_my_email(uow, token, email) -> dict:
    """The session's user sets (or, with "" / None, removes) the address their reminders go to
    (issue 10 item 5). Refused: not one plain address (`email_invalid`, domain.clean_email).
    Audited (`email_set` / `email_removed`, the address itself not in the audit).
    Returns {"email": the address as stored, or None}."""
    me = _live_session(uow, token)
    address = domain.clean_email(email)
    user = uow.accounts.user_by_id(me.user_id)
    if user.get("email") != address:
        uow.accounts.update_user(me.user_id, email=address)
        _audit(uow, "email_set" if address else "email_removed", user_id=me.user_id, username=user["username"],
               tenants=_tenants_of(uow, me.user_id), detail="by the user")
    uow.commit()
    return {"email": address}


EMAIL_READERS = ("system:certification",)  # the reminder job (certification/reminders.py)


def user_emails(uow, caller, user_ids) -> dict:
    """{user_id: e-mail} for the given user ids that hold a role in the caller's tenant and have
    an address (others: absent). Only the certification service acting on its own
    (`system:certification`, signed with its own key, for one tenant) may ask: it sends the
    reminder e-mails. At most 5,000 ids; ids that are not uuids are ignored."""
    caller.require(*EMAIL_READERS)
    ids = []
    for u in list(user_ids or [])[:5000]:
        try:
            ids.append(uuid.UUID(str(u)))
        except ValueError:
            continue
    return uow.accounts.emails_of(caller.tenant, ids)
