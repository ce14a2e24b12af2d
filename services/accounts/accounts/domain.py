"""Account rules, free of frameworks and I/O."""
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import Invalid, UnknownRole

# Roles from the regulation's division of labour (DOMAIN.md, "Who does what").
ROLES = (
    "student", "subject_teacher", "homeroom_teacher", "subject_convener",
    "consultation_teacher", "guidance_counsellor", "registrar", "elective_officer",
    "discipline_section", "activities_section", "organising_unit", "system_admin",
    "executive_secretary", "principal", "ops",
)
USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
_hasher = PasswordHasher()
# A fixed hash verified when the user is unknown, so timing does not reveal which usernames exist.
_DUMMY = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    if not password or len(password) < 8:
        raise Invalid("password must have at least 8 characters", code="password_too_short")
    return _hasher.hash(password)


def verify_password(stored_hash, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY, password or "") and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def check_person(row: dict, known_tenants: set) -> list:
    """Problems of one import row (empty list = fine)."""
    problems = []
    if not USERNAME.match(row.get("username") or ""):
        problems.append(("username_invalid", "username: 3-64 letters, digits, . _ -"))
    if not (row.get("display_name") or "").strip():
        problems.append(("name_missing", "display name is required"))
    for g in row.get("grants") or []:
        if g.get("role") not in ROLES:
            problems.append((UnknownRole.code, f"unknown role {g.get('role')!r}"))
        if g.get("tenant") not in known_tenants:
            problems.append(("unknown_tenant", f"unknown tenant {g.get('tenant')!r}"))
    return problems


# Lockout with back-off: after 5 failures in a row the account waits 30 s, doubling with each
# further failure up to an hour. A success resets the count.
LOCKOUT_AFTER = 5
LOCKOUT_BASE_S = 30
LOCKOUT_MAX_S = 3600
SESSION_HOURS = {"portal": 12, "api": 8}


def lockout_seconds(failed_logins: int) -> int:
    if failed_logins < LOCKOUT_AFTER:
        return 0
    return min(LOCKOUT_BASE_S * 2 ** (failed_logins - LOCKOUT_AFTER), LOCKOUT_MAX_S)


def temporary_password() -> str:
    import secrets
    return secrets.token_urlsafe(9)


TEACHING_ROLES = ("subject_teacher", "homeroom_teacher")
PROXY_ADMIN_ROLES = ("executive_secretary", "system_admin", "system")  # the academic section


def check_proxy_period(starts_on, ends_on, teacher_id, proxy_id):
    from .errors import Invalid
    if ends_on < starts_on:
        raise Invalid("the proxy period ends before it starts", code="proxy_period_invalid")
    if str(teacher_id) == str(proxy_id):
        raise Invalid("a teacher cannot be their own proxy", code="proxy_is_self")
