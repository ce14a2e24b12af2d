"""The trust map: who may sign a caller token, with which key, asserting which roles.

Every caller token is a JWT signed with Ed25519 (`EdDSA`). A process holds at most one private
key, its own (`<ISSUER>_SIGNING_KEY`); every verifier holds the public keys of all issuers
(`CALLER_PUBLIC_KEYS`, a JWKS whose `kid` is the issuer). A valid signature alone is not enough:
the issuer must also be allowed to assert every role the token carries:

| issuer | holds its private key | may assert |
|---|---|---|
| `gateway` | the gateway only | the roles people hold (never `system` nor `system:*`), and `system:gateway` |
| `ops` | the platform's tools: demo loader, ops commands | `system` (the platform-level role), `system:ops` |
| a service (`accounts`, `records`, `certification`, `submission`, `files`) | that service | `system:<service>` only |

So a compromised service can sign for itself, never as a registrar, a student or `system`, and
never for another audience than the one its token names. RPCs that a service may call on its
own declare `system:<service>` in their `@allowed(...)`; outbox relays need no caller.
"""
import base64
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

GATEWAY = "gateway"
OPS = "ops"
# The audiences: every service that checks a caller. A token names exactly one of them.
SERVICES = ("accounts", "records", "certification", "submission", "files")
ISSUERS = (GATEWAY, OPS, *SERVICES)

# The platform-level role: the platform's own tools (demo loader, imports run by ops). No person
# holds it and the gateway can never assert it.
SYSTEM = "system"
PUBLIC_KEYS = "CALLER_PUBLIC_KEYS"


def service_role(issuer: str) -> str:
    """The system identity of an issuer acting on its own: `system:records`, `system:gateway`."""
    return f"{SYSTEM}:{issuer}"


def is_reserved(role: str) -> bool:
    """Roles no person holds: `system` and every `system:<issuer>`."""
    return role == SYSTEM or role.startswith(SYSTEM + ":")


def may_assert(issuer: str, role: str) -> bool:
    """Whether a token signed by `issuer` may carry `role` (the table above)."""
    if issuer not in ISSUERS or not isinstance(role, str) or not role:
        return False
    if role == service_role(issuer):
        return True
    if issuer == GATEWAY:
        return not is_reserved(role)
    if issuer == OPS:
        return role == SYSTEM
    return False


def signing_key_name(issuer: str) -> str:
    """The secret that holds an issuer's private key: GATEWAY_SIGNING_KEY, OPS_SIGNING_KEY, ..."""
    if issuer not in ISSUERS:
        raise ValueError(f"unknown issuer {issuer!r}")
    return f"{issuer.upper()}_SIGNING_KEY"


SIGNING_KEY_NAMES = tuple(signing_key_name(i) for i in ISSUERS)


# ---------------------------------------------------------------- keys

def generate_signing_key() -> str:
    """A new Ed25519 private key, PKCS#8 PEM (what `openssl genpkey -algorithm ed25519` writes)."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def load_private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("a caller signing key must be an Ed25519 private key")
    return key


def public_jwk(issuer: str, private_pem: str) -> dict:
    """The public half of an issuer's key as a JWK (RFC 8037), `kid` = issuer."""
    raw = load_private_key(private_pem).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
            "kid": issuer, "alg": "EdDSA", "use": "sig"}


def public_keys_json(private_pems: dict) -> str:
    """CALLER_PUBLIC_KEYS (a JWKS) for {issuer: private PEM}."""
    return json.dumps({"keys": [public_jwk(i, pem) for i, pem in sorted(private_pems.items())]})


def generate_keys(issuers=ISSUERS) -> dict:
    """Fresh keys for a deployment or a test run: {<ISSUER>_SIGNING_KEY: PEM, ...,
    CALLER_PUBLIC_KEYS: JWKS}. Hand each process only its own *_SIGNING_KEY."""
    pems = {i: generate_signing_key() for i in issuers}
    out = {signing_key_name(i): pem for i, pem in pems.items()}
    out[PUBLIC_KEYS] = public_keys_json(pems)
    return out
