"""The verified caller the gateway forwards to every service.

The gateway signs (user_id, username, tenant, roles) with CALLER_KEY; each service
verifies the signature before acting, so a call that bypasses the gateway and forges
an identity is refused. Services then check roles and tenant themselves.
"""
from dataclasses import dataclass, field

from . import signing
from .errors import NotAllowed

PURPOSE = "caller"
TTL_SECONDS = 300

# The "system" caller is used by the platform's own tools (demo loader, imports run
# by ops); it is signed with the same key and carries the role `system`.
SYSTEM = "system"


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

    def to_dict(self):
        return {"user_id": self.user_id, "username": self.username,
                "tenant": self.tenant, "roles": list(self.roles), "proxy_for": list(self.proxy_for),
                "remote_addr": self.remote_addr}


def encode(caller: Caller, key) -> str:
    return signing.sign(caller.to_dict(), key, ttl=TTL_SECONDS, purpose=PURPOSE)


def decode(token: str, key) -> Caller:
    body = signing.verify(token, key, purpose=PURPOSE)
    return Caller(user_id=body["user_id"], username=body["username"],
                  tenant=body["tenant"], roles=tuple(body.get("roles", ())),
                  proxy_for=tuple(body.get("proxy_for", ())), remote_addr=body.get("remote_addr") or "")


def system_caller(tenant: str) -> Caller:
    return Caller(user_id="00000000-0000-0000-0000-000000000000", username="system",
                  tenant=tenant, roles=(SYSTEM,))
