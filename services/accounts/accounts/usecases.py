"""Use cases of the accounts service: plain functions over a unit of work."""
import re

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from . import domain
from .errors import InvalidCredentials
from .orm import access_audit, role_grants, tenants, users

ADMIN_ROLES = ("system_admin", "system")


_NATIONAL_ID_SHAPED = re.compile(r"^[A-Za-z][0-9A-Da-d]\d{8}$")


def _safe_username(typed):
    """People sometimes type their 身分證號 as the username: never store that in the audit."""
    typed = (typed or "")[:64]
    return typed[:3] + "*" * (len(typed) - 5) + typed[-2:] if _NATIONAL_ID_SHAPED.match(typed) else typed


def _audit(uow, action, *, username=None, user_id=None, remote_addr=None, detail=None):
    uow.session.execute(access_audit.insert().values(
        action=action, username=username, user_id=user_id, remote_addr=remote_addr, detail=detail))


def _grants(uow, user_id) -> list:
    rows = uow.session.execute(sa.select(role_grants.c.tenant, role_grants.c.role).where(
        role_grants.c.user_id == user_id).order_by(role_grants.c.tenant, role_grants.c.role)).all()
    return [{"tenant": r.tenant, "role": r.role} for r in rows]


def authenticate(uow, username, password, remote_addr=None) -> dict:
    row = uow.session.execute(sa.select(users).where(users.c.username == (username or ""))).first()
    ok = domain.verify_password(row.password_hash if row else None, password)
    if not ok:
        _audit(uow, "sign_in_failed", username=_safe_username(username), remote_addr=remote_addr)
        uow.commit()
        raise InvalidCredentials("wrong username or password")
    _audit(uow, "sign_in", username=row.username, user_id=row.id, remote_addr=remote_addr)
    uow.commit()
    return {"user_id": str(row.id), "username": row.username, "display_name": row.display_name,
            "must_change_password": row.must_change_password, "grants": _grants(uow, row.id)}


def ensure_tenants(uow, caller, rows) -> list:
    caller.require(*ADMIN_ROLES)
    for t in rows:
        uow.session.execute(insert(tenants).values(**t).on_conflict_do_update(
            index_elements=["code"], set_={"name": t["name"], "school_code": t["school_code"],
                                           "division": t["division"]}))
    uow.commit()
    return [t["code"] for t in rows]


def list_tenants(uow) -> list:
    return [dict(r._mapping) for r in uow.session.execute(sa.select(tenants).order_by(tenants.c.code)).all()]


def import_people(uow, caller, rows, *, dry_run=False) -> dict:
    """Create or update users and their grants. All rows are checked first; if any row is
    refused nothing is written. Re-importing the same rows changes nothing."""
    caller.require(*ADMIN_ROLES)
    known = set(uow.session.execute(sa.select(tenants.c.code)).scalars())
    refused = []
    seen = set()
    for i, row in enumerate(rows, start=1):
        problems = domain.check_person(row, known)
        if row.get("username") in seen:
            problems.append(("duplicate_username", "username appears twice in this file"))
        seen.add(row.get("username"))
        if row.get("password") is not None and len(row["password"]) < 8:
            problems.append(("password_too_short", "password must have at least 8 characters"))
        for code, reason in problems:
            refused.append({"row": i, "username": row.get("username"), "code": code, "reason": reason})
    report = {"created": [], "updated": [], "unchanged": [], "refused": refused, "user_ids": {}}
    if refused or dry_run:
        return report
    for row in rows:
        existing = uow.session.execute(sa.select(users).where(users.c.username == row["username"])).first()
        wanted = sorted((g["tenant"], g["role"]) for g in row.get("grants") or [])
        if existing is None:
            uid = uow.session.execute(users.insert().values(
                username=row["username"], display_name=row["display_name"].strip(),
                password_hash=domain.hash_password(row["password"]),
                must_change_password=bool(row.get("must_change_password", False)))
                .returning(users.c.id)).scalar_one()
            report["created"].append(row["username"])
        else:
            uid = existing.id
            have = sorted((g["tenant"], g["role"]) for g in _grants(uow, uid))
            if existing.display_name == row["display_name"].strip() and have == wanted:
                report["unchanged"].append(row["username"])
                report["user_ids"][row["username"]] = str(uid)
                continue
            uow.session.execute(users.update().where(users.c.id == uid).values(
                display_name=row["display_name"].strip()))
            report["updated"].append(row["username"])
        uow.session.execute(role_grants.delete().where(role_grants.c.user_id == uid))
        for tenant, role in wanted:
            uow.session.execute(role_grants.insert().values(user_id=uid, tenant=tenant, role=role))
        _audit(uow, "roles_set", username=row["username"], user_id=uid,
               detail=f"by {caller.username}: " + ",".join(f"{t}:{r}" for t, r in wanted))
        report["user_ids"][row["username"]] = str(uid)
    uow.commit()
    return report
