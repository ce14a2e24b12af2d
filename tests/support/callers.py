"""Caller tokens for tests that call services directly, signed as the gateway or the ops tool
would sign them (with this run's keys, `tests.support.ids.SECRETS`)."""
from portfolio_common import trust
from portfolio_common.caller import Signer, system_caller

from .ids import SECRETS


def signer(issuer: str, secrets=SECRETS) -> Signer:
    return Signer(issuer, secrets[trust.signing_key_name(issuer)])


def as_gateway(caller, audience: str, secrets=SECRETS) -> str:
    """What the gateway sends `audience` for a signed-in person."""
    return signer("gateway", secrets).mint(caller, audience)


def as_system(tenant: str, audience: str, secrets=SECRETS) -> str:
    """The platform's tools (demo loader, ops) acting on a tenant: role `system`."""
    return signer("ops", secrets).mint(system_caller(tenant), audience)
