"""Account rules, free of frameworks and I/O."""
import re
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import Invalid, UnknownRole

# Roles from the regulation's division of labour (DOMAIN.md, "Who does what"): each is held in
# one tenant (a role grant is (user, tenant, role)).
ROLES = (
    "student", "subject_teacher", "homeroom_teacher", "subject_convener",
    "consultation_teacher", "guidance_counsellor", "registrar", "elective_officer",
    "discipline_section", "activities_section", "organising_unit", "system_admin",
    "executive_secretary", "principal", "ops",
)
# Roles of the platform itself, held by no school division: a platform grant is (user, role),
# not tied to a tenant. `platform_admin` manages tenants and the accounts that span tenants.
PLATFORM_ROLES = ("platform_admin",)
# The callers that act at platform level: a person's platform grant, or the platform's own tools
# (demo loader, ops tools) signed as `system`.
PLATFORM_LEVEL = ("platform_admin", "system")
TENANT_ADMIN = "system_admin"

USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
# A 身分證號 or resident certificate number in shape only (DOMAIN.md: one letter, then 1/2/8/9 or,
# for old resident numbers, a second letter A-D, then 8 digits). The checksum is not asked: a
# username shaped like one is personal data in every log line and audit row it would reach.
NATIONAL_ID_SHAPED = re.compile(r"^[A-Za-z][0-9A-Da-d]\d{8}$")


def check_username(username) -> list:
    """Problems of a username for a new or renamed account: [(code, English reason)]."""
    username = username or ""
    if NATIONAL_ID_SHAPED.match(username):
        return [("username_national_id", "a username may not look like a national ID number")]
    if not USERNAME.match(username):
        return [("username_invalid", "username: 3-64 letters, digits, . _ -")]
    return []


# ---------------------------------------------------------------- passwords

PASSWORD_MIN = 8
PASSWORD_MAX = 256


def _common_passwords() -> frozenset:
    # zxcvbn's list of the 30,000 most common passwords (from leaked password sets), kept by a
    # maintained library rather than copied into the repository.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS
    return frozenset(FREQUENCY_LISTS["passwords"])


_COMMON = None
_TRAILING = re.compile(r"[\d\W_]+$")


def password_problem(password, username=None):
    """(code, English reason) when a new password is too weak, else None.

    Refused: shorter than 8 characters (NIST SP 800-63B's minimum), one of the common passwords,
    a common password with digits or symbols appended (`dragon2026!`), the username itself, or
    the shape of a national ID (schools used to hand out 身分證號 as the first password).
    """
    global _COMMON
    password = password or ""
    if len(password) < PASSWORD_MIN:
        return "password_too_short", f"a password needs at least {PASSWORD_MIN} characters"
    if len(password) > PASSWORD_MAX:
        return "password_too_long", f"a password may have at most {PASSWORD_MAX} characters"
    low = password.lower()
    base = _TRAILING.sub("", low)
    name = (username or "").lower()
    if name and (low == name or (low.startswith(name) and _TRAILING.fullmatch(low[len(name):]))):
        return "password_is_username", "the password may not be the username"
    if NATIONAL_ID_SHAPED.match(password):
        return "password_like_national_id", "the password may not look like a national ID number"
    if _COMMON is None:
        _COMMON = _common_passwords()
    if low in _COMMON or (len(base) >= 4 and base in _COMMON) or len(set(low)) <= 2:
        return "password_too_common", "this password is among the most common ones"
    return None


def check_password(password, username=None):
    problem = password_problem(password, username)
    if problem:
        raise Invalid(problem[1], code=problem[0])


def direct(fn, *args):
    return fn(*args)


class Passwords:
    """argon2id hashing and verification.

    `run(fn, *args)` runs the CPU-bound work: called directly by default (unit tests, tools);
    the nameko adapter passes one that runs it in an OS thread off the event loop, so a burst
    of sign-ins does not stall the other calls of the service. Unknown users still cost one
    verification (`verify(None, ...)` checks a fixed dummy hash), so timing does not tell
    which usernames exist.
    """

    def __init__(self, run=direct, hasher=None):
        self._run = run
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash = None

    @property
    def _dummy(self):
        if self._dummy_hash is None:  # made once, with this hasher's parameters
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(12))
        return self._dummy_hash

    def hash(self, password: str) -> str:
        return self._run(self._hasher.hash, password)

    def verify(self, stored_hash, password) -> bool:
        ok = self._run(self._verify, stored_hash or self._dummy, password or "")
        return ok and stored_hash is not None

    def _verify(self, stored, password):
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False


_default = None


def default_passwords():
    """One shared Passwords computing in the calling thread (tools, tests)."""
    global _default
    if _default is None:
        _default = Passwords()
    return _default


def hash_password(password: str) -> str:
    check_password(password)
    return default_passwords().hash(password)


def verify_password(stored_hash, password: str) -> bool:
    return default_passwords().verify(stored_hash, password)


def temporary_password() -> str:
    return secrets.token_urlsafe(9)


# ---------------------------------------------------------------- who may manage an account

def may_manage(caller_roles, caller_tenant, target_grant_tenants, target_platform_roles) -> bool:
    """May this caller change the roles, password or identities of this account?

    A division's system admin manages only accounts whose every grant lies in the division they
    administer (the caller's tenant, where the caller holds system_admin). An account with
    grants in more than one tenant, a platform grant, or no grant at all (it belongs to no
    division) is managed at platform level only (PLATFORM_LEVEL), which no division holds.
    Otherwise one division's admin could take over the other's accounts by giving them a role
    at home, then resetting their password or linking an SSO identity to them.
    """
    roles = set(caller_roles)
    if roles & set(PLATFORM_LEVEL):
        return True
    tenants = set(target_grant_tenants)
    return (TENANT_ADMIN in roles and not target_platform_roles and tenants == {caller_tenant})


def managed_by(target_grant_tenants, target_platform_roles) -> str:
    """Who manages this account: 'tenant' (its one division's admin) or 'platform'."""
    return "tenant" if len(set(target_grant_tenants)) == 1 and not target_platform_roles else "platform"


EMAIL_MAX = 254  # users.email (RFC 5321's path limit)
# One address, no display name: local@domain.tld, no spaces, no second @, a dot in the domain.
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def clean_email(value):
    """An e-mail address as stored: trimmed, the domain lower-cased; "" or None -> None (no
    address: no reminder e-mail). Raises Invalid(`email_invalid`) for anything that is not one
    plain address (a display name, two addresses, spaces, no domain, over 254 characters)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("an e-mail address is text", code="email_invalid")
    text = value.strip()
    if not text:
        return None
    if len(text) > EMAIL_MAX or not EMAIL.match(text):
        raise Invalid("not one plain e-mail address (name@school.example)", code="email_invalid")
    local, _, host = text.rpartition("@")
    return f"{local}@{host.lower()}"


def check_person(row: dict, known_tenants: set) -> list:
    """Problems of one import row (empty list = fine)."""
    problems = list(check_username(row.get("username")))
    if not (row.get("display_name") or "").strip():
        problems.append(("name_missing", "display name is required"))
    for g in row.get("grants") or []:
        if g.get("role") not in ROLES:
            problems.append((UnknownRole.code, f"unknown role {g.get('role')!r}"))
        if g.get("tenant") not in known_tenants:
            problems.append(("unknown_tenant", f"unknown tenant {g.get('tenant')!r}"))
    for r in row.get("platform_roles") or []:
        if r not in PLATFORM_ROLES:
            problems.append((UnknownRole.code, f"unknown platform role {r!r}"))
    try:
        clean_email(row.get("email"))
    except Invalid as exc:
        problems.append((exc.code, "e-mail is not one plain address (name@school.example)"))
    if row.get("password") is not None:
        problem = password_problem(row["password"], row.get("username"))
        if problem:
            problems.append(problem)
    return problems


# ---------------------------------------------------------------- sign-in guard

@dataclass(frozen=True)
class Limit:
    """Failures counted per key within `window_s` (older ones are forgotten: they decay); at
    `after` failures the key is locked for `base_s`, doubling with each further failure up to
    `max_s`. Attempts while locked are refused before any password check and do not count."""
    after: int
    base_s: int
    max_s: int
    window_s: int

    def lock_seconds(self, failures: int) -> int:
        if failures < self.after:
            return 0
        return min(self.base_s * 2 ** min(failures - self.after, 20), self.max_s)


# The policy (services/accounts/README.md, "Sign-in policy"). A failure counts against three keys:
#  - the username from this source: 5 failures lock that pair: the typist is slowed, the owner
#    signing in from elsewhere is not;
#  - the source across usernames: 30 failures throttle the source (password spraying, or one
#    student trying many accounts);
#  - the username from any source: 20 failures lock it, for guessing spread over many sources.
# Locks start at 30 s, double, and end at 15 min at the longest; a failure is forgotten 15 min
# after the last one. A student guessing a teacher's password from one machine locks only that
# machine out of that account and cannot reach the account-wide limit alone.
PAIR = Limit(after=5, base_s=30, max_s=900, window_s=900)
SOURCE = Limit(after=30, base_s=60, max_s=900, window_s=900)
ACCOUNT = Limit(after=20, base_s=30, max_s=900, window_s=900)
SESSION_HOURS = {"portal": 12, "api": 8}

# kept for readers of the old names
LOCKOUT_AFTER = PAIR.after
LOCKOUT_BASE_S = PAIR.base_s
LOCKOUT_MAX_S = PAIR.max_s


def lockout_seconds(failed_logins: int) -> int:
    return PAIR.lock_seconds(failed_logins)


# The platform's own host: local tools, the test suite, a proxy on the same machine that did not
# pass the client's address on. Throttling it would throttle everyone behind it, so it gets the
# username limits only. Behind a proxy the gateway must take the client's address from the
# trusted hops, or every source looks alike.
UNTHROTTLED_SOURCES = frozenset({"127.0.0.1", "::1", "unknown"})


def guard_keys(username, source) -> dict:
    """The keys a sign-in attempt counts against. The username is the one typed, known or not,
    so an unknown username locks exactly like a known one (nothing to learn from the answer);
    a typed national ID is masked first (never stored in clear)."""
    name = safe_username(username).lower()
    src = (source or "unknown")[:64]
    keys = {"pair": (PAIR, f"pair:{name}|{src}"), "account": (ACCOUNT, f"acct:{name}")}
    if src not in UNTHROTTLED_SOURCES:
        keys["source"] = (SOURCE, f"src:{src}")
    return keys


def safe_username(typed) -> str:
    """People sometimes type their 身分證號 as the username: never store that."""
    typed = (typed or "")[:64]
    return typed[:3] + "*" * (len(typed) - 5) + typed[-2:] if NATIONAL_ID_SHAPED.match(typed) else typed


def after_failure(state, limit: Limit, now) -> dict:
    """The guard state of one key after one more failure at `now` (state: {failures,
    last_failed_at, locked_until} or None). Failures decay: after `window_s` without a failure
    the count starts again."""
    import datetime as dt
    failures = 0
    if state and state.get("last_failed_at") and (now - state["last_failed_at"]).total_seconds() < limit.window_s:
        failures = state["failures"]
    failures += 1
    lock = limit.lock_seconds(failures)
    return {"failures": failures, "last_failed_at": now,
            "locked_until": now + dt.timedelta(seconds=lock) if lock else None, "lock_seconds": lock}


def locked_for(state, now) -> int:
    """Seconds this key stays locked (0 = not locked)."""
    if not state or not state.get("locked_until") or state["locked_until"] <= now:
        return 0
    return int((state["locked_until"] - now).total_seconds()) + 1


class AuditThrottle:
    """At most one audit row per key per `interval_s`; the next row carries how many were left
    out. Keeps a stream of anonymous refusals (a bogus bearer token on every request, a forged
    caller) from writing one row per request while still recording that it happened."""

    def __init__(self, interval_s=60.0, clock=time.monotonic, max_keys=10000):
        self.interval_s = interval_s
        self.clock = clock
        self.max_keys = max_keys
        self._seen = {}
        self._lock = threading.Lock()

    def admit(self, key):
        """(write now?, how many of this key were left out since the last row written)."""
        now = self.clock()
        with self._lock:
            last, skipped = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.interval_s:
                self._seen[key] = (last, skipped + 1)
                return False, 0
            if len(self._seen) >= self.max_keys:
                self._seen.clear()
            self._seen[key] = (now, 0)
            return True, skipped


TEACHING_ROLES = ("subject_teacher", "homeroom_teacher")
PROXY_ADMIN_ROLES = ("executive_secretary", "system_admin", "system")  # the academic section


def check_proxy_period(starts_on, ends_on, teacher_id, proxy_id):
    if ends_on < starts_on:
        raise Invalid("the proxy period ends before it starts", code="proxy_period_invalid")
    if str(teacher_id) == str(proxy_id):
        raise Invalid("a teacher cannot be their own proxy", code="proxy_is_self")
