"""The verified caller every service checks before acting, carried as a signed token.

The gateway turns a session into a `Caller` (user, tenant, roles, the teachers the user stands
in for as proxy) and signs it, per call, into a short-lived JWT for the one service it calls:

    {"iss": "gateway", "aud": "records", "sub": <user id>, "iat": ..., "exp": iat + 60,
     "jti": <random>, "username": ..., "tenant": "day", "roles": [...], "proxy_for": [...],
     "remote_addr": ...}

signed with Ed25519 (`EdDSA`) by a private key only the gateway holds. Each service verifies it
with the issuers' public keys and its own audience only (`Verifier`), and refuses anything else:
another algorithm (`none`, HS256 keyed with a public key), another audience, an expired token
(60 s, plus 5 s for clocks that disagree), a lifetime over 60 s, an issuer it does not know,
a role the issuer may not assert (`trust.may_assert`). The platform's tools and a service acting
on its own sign with their own keys, as `system` or `system:<itself>` (see `trust`).

`jti` names a token in logs; it is not a one-time nonce: the gateway reuses one token for every
call it makes to the same service while serving one request.
"""
import json
import time
import uuid
from dataclasses import dataclass, field

import jwt

from . import trust
from .errors import NotAllowed, NotAuthenticated

ALGORITHM = "EdDSA"
TTL_SECONDS = 60          # the longest life a caller token may have
LEEWAY_SECONDS = 5        # clock disagreement tolerated between containers

SYSTEM = trust.SYSTEM
SYSTEM_USER_ID = "00000000-0000-0000-0000-000000000000"
# The tenant of a system identity that acts for no one tenant (the gateway's own identity).
ANY_TENANT = "*"


@dataclass(frozen=True)
class Caller:
    user_id: str
    username: str
    tenant: str
    roles: tuple = field(default_factory=tuple)
    # teachers (user ids) whose sections this caller may certify today as their proxy (代理人)
    proxy_for: tuple = field(default_factory=tuple)
    # where the request came from (for the access audit), as the gateway saw it
    remote_addr: str = ""
    # who signed the token this caller came from (set by Verifier)
    issuer: str = ""

    def has(self, *roles) -> bool:
        return any(r in self.roles for r in roles)

    def require(self, *roles):
        if not self.has(*roles):
            raise NotAllowed("this action needs one of the roles: " + ", ".join(roles))
        return self

    def same_tenant(self, tenant: str):
        # Answer as NotFound elsewhere where existence must not leak; here it is a plain refusal.
        if tenant != self.tenant:
            raise NotAllowed("other tenant", code="other_tenant")
        return self


def system_caller(tenant: str) -> Caller:
    """The platform-level caller of the platform's tools (only the `ops` issuer may sign it)."""
    return Caller(user_id=SYSTEM_USER_ID, username=SYSTEM, tenant=tenant, roles=(SYSTEM,))


def service_caller(issuer: str, tenant: str = ANY_TENANT) -> Caller:
    """A service (or the gateway) acting on its own: role `system:<issuer>` and nothing more."""
    return Caller(user_id=SYSTEM_USER_ID, username=trust.service_role(issuer), tenant=tenant,
                  roles=(trust.service_role(issuer),))


class Signer:
    """Mints caller tokens as one issuer. Refuses to mint a role the issuer may not assert."""

    def __init__(self, issuer: str, private_key_pem: str, *, ttl: int = TTL_SECONDS, clock=time.time):
        if issuer not in trust.ISSUERS:
            raise ValueError(f"unknown issuer {issuer!r}")
        if not 0 < ttl <= TTL_SECONDS:
            raise ValueError(f"a caller token lives at most {TTL_SECONDS} s")
        self.issuer = issuer
        self._key = trust.load_private_key(private_key_pem)
        self._ttl = ttl
        self._clock = clock

    @classmethod
    def from_config(cls, issuer: str) -> "Signer":
        """The issuer's key from `<ISSUER>_SIGNING_KEY` (environment or a mounted file)."""
        from .config import secret
        return cls(issuer, secret(trust.signing_key_name(issuer)))

    def mint(self, caller: Caller, audience: str) -> str:
        """A token for `caller`, valid only at `audience` (a service name), for TTL_SECONDS."""
        if audience not in trust.SERVICES:
            raise ValueError(f"unknown audience {audience!r}")
        for role in caller.roles:
            if not trust.may_assert(self.issuer, role):
                raise ValueError(f"{self.issuer} may not assert the role {role!r}")
        now = int(self._clock())
        claims = {"iss": self.issuer, "sub": caller.user_id, "aud": audience, "iat": now,
                  "exp": now + self._ttl, "jti": uuid.uuid4().hex, "username": caller.username,
                  "tenant": caller.tenant, "roles": list(caller.roles), "proxy_for": list(caller.proxy_for),
                  "remote_addr": caller.remote_addr or ""}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.issuer})


def _refuse(reason: str, code: str = "token_invalid"):
    return NotAuthenticated(f"caller token refused: {reason}", code=code)


class Verifier:
    """Checks caller tokens for one audience (the service that verifies) against the trust map."""

    REQUIRED = ("iss", "sub", "aud", "iat", "exp", "jti")

    def __init__(self, audience: str, public_keys):
        """public_keys: CALLER_PUBLIC_KEYS, a JWKS (JSON text or dict) whose `kid` is the issuer."""
        if audience not in trust.SERVICES:
            raise ValueError(f"unknown audience {audience!r}")
        self.audience = audience
        data = json.loads(public_keys) if isinstance(public_keys, (str, bytes)) else public_keys
        self._keys = {}
        for jwk in data["keys"]:
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
                raise ValueError("caller public keys must be Ed25519 (OKP) keys")
            if jwk.get("kid") not in trust.ISSUERS:
                raise ValueError(f"public key for an unknown issuer {jwk.get('kid')!r}")
            self._keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm=ALGORITHM).key

    @classmethod
    def from_config(cls, audience: str) -> "Verifier":
        from .config import secret
        return cls(audience, secret(trust.PUBLIC_KEYS))

    def verify(self, token) -> Caller:
        """The caller a token asserts, or NotAuthenticated (code token_invalid / token_expired)."""
        if not isinstance(token, str) or not token:
            raise _refuse("no token")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _refuse("malformed") from None
        if header.get("alg") != ALGORITHM:
            raise _refuse(f"algorithm {header.get('alg')!r} is not accepted")
        issuer = unverified.get("iss")
        key = self._keys.get(issuer) if isinstance(issuer, str) else None
        if key is None:
            raise _refuse(f"unknown issuer {issuer!r}")
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=issuer,
                                leeway=LEEWAY_SECONDS, options={"require": list(self.REQUIRED)})
        except jwt.ExpiredSignatureError:
            raise _refuse("expired", code="token_expired") from None
        except jwt.InvalidAudienceError:
            raise _refuse(f"not meant for {self.audience}") from None
        except jwt.PyJWTError as exc:
            raise _refuse(type(exc).__name__) from None
        if claims["aud"] != self.audience:  # a list naming several services is refused too
            raise _refuse(f"not meant for {self.audience} alone")
        if not (isinstance(claims["exp"], int) and isinstance(claims["iat"], int)
                and 0 < claims["exp"] - claims["iat"] <= TTL_SECONDS):
            raise _refuse(f"a caller token lives at most {TTL_SECONDS} s")
        roles, proxy_for = claims.get("roles", []), claims.get("proxy_for", [])
        tenant, username = claims.get("tenant"), claims.get("username")
        if not (isinstance(roles, list) and all(isinstance(r, str) for r in roles)
                and isinstance(proxy_for, list) and all(isinstance(p, str) for p in proxy_for)
                and isinstance(tenant, str) and tenant and isinstance(username, str)):
            raise _refuse("malformed claims")
        for role in roles:
            if not trust.may_assert(issuer, role):
                raise _refuse(f"{issuer} may not assert the role {role!r}")
        return Caller(user_id=str(claims["sub"]), username=username, tenant=tenant, roles=tuple(roles),
                      proxy_for=tuple(proxy_for), remote_addr=str(claims.get("remote_addr") or ""),
                      issuer=issuer)
