"""Caller tokens: Ed25519 JWTs, one audience each, short-lived, checked against the trust map.

Every refusal an attacker could try on a service is here: alg=none, HS256 keyed with a public
key, a forged signature, another audience, an expired or over-long token, an unknown issuer,
a role the issuer may not assert.
"""
import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest

from portfolio_common import trust
from portfolio_common.caller import (LEEWAY_SECONDS, TTL_SECONDS, Caller, Signer, Verifier, service_caller,
                                     system_caller)
from portfolio_common.errors import NotAuthenticated

KEYS = trust.generate_keys()
PUBLIC = KEYS["CALLER_PUBLIC_KEYS"]
REGISTRAR = Caller(user_id=str(uuid.uuid4()), username="reg", tenant="day", roles=("registrar",))


def signer(issuer, **kw):
    return Signer(issuer, KEYS[trust.signing_key_name(issuer)], **kw)


def verify(token, audience="records"):
    return Verifier(audience, PUBLIC).verify(token)


def refused(token, audience="records"):
    with pytest.raises(NotAuthenticated) as e:
        verify(token, audience)
    return e.value


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict, claims: dict, sign) -> str:
    """A JWT assembled by hand, as an attacker would (PyJWT refuses to make some of these)."""
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(sign(head.encode()))


def claims_for(caller=REGISTRAR, issuer="gateway", audience="records", lifetime=TTL_SECONDS):
    now = int(time.time())
    return {"iss": issuer, "sub": caller.user_id, "aud": audience, "iat": now, "exp": now + lifetime,
            "jti": uuid.uuid4().hex, "username": caller.username, "tenant": caller.tenant,
            "roles": list(caller.roles), "proxy_for": [], "remote_addr": ""}


def test_the_gateway_signs_a_person_for_one_service():
    token = signer("gateway").mint(REGISTRAR, "records")
    got = verify(token)
    assert (got.user_id, got.username, got.tenant, got.roles, got.issuer) == (
        REGISTRAR.user_id, "reg", "day", ("registrar",), "gateway")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == TTL_SECONDS == 60
    assert claims["aud"] == "records" and claims["jti"] and jwt.get_unverified_header(token)["alg"] == "EdDSA"


def test_a_token_for_one_service_is_refused_by_every_other():
    token = signer("gateway").mint(REGISTRAR, "files")
    assert verify(token, "files").roles == ("registrar",)
    for other in ("accounts", "records", "certification", "submission"):
        assert "not meant for" in refused(token, other).text


def test_a_token_naming_several_audiences_is_refused():
    key = trust.load_private_key(KEYS["GATEWAY_SIGNING_KEY"])
    token = jwt.encode(claims_for(audience=["files", "records"]), key, algorithm="EdDSA")
    assert refused(token).code == "token_invalid"


def test_expired_and_over_long_tokens_are_refused():
    old = signer("gateway", clock=lambda: time.time() - TTL_SECONDS - LEEWAY_SECONDS - 2).mint(REGISTRAR, "records")
    assert refused(old).code == "token_expired"
    key = trust.load_private_key(KEYS["GATEWAY_SIGNING_KEY"])
    long_lived = jwt.encode(claims_for(lifetime=3600), key, algorithm="EdDSA")
    assert "at most 60 s" in refused(long_lived).text
    with pytest.raises(ValueError):
        signer("gateway", ttl=3600)


def test_alg_none_is_refused():
    token = hand_made({"alg": "none", "typ": "JWT"}, claims_for(), lambda _: b"")
    assert refused(token).code == "token_invalid"
    assert refused(token[:token.rindex(".") + 1]).code == "token_invalid"


@pytest.mark.parametrize("form", ["pem", "raw", "jwk-x", "jwks"])
def test_hs256_keyed_with_the_gateways_public_key_is_refused(form):
    """The classic confusion: the public key is public, so an HMAC keyed with it is forgeable."""
    jwk = next(k for k in json.loads(PUBLIC)["keys"] if k["kid"] == "gateway")
    raw = base64.urlsafe_b64decode(jwk["x"] + "==")
    from cryptography.hazmat.primitives import serialization
    pem = trust.load_private_key(KEYS["GATEWAY_SIGNING_KEY"]).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    secret = {"pem": pem, "raw": raw, "jwk-x": jwk["x"].encode(), "jwks": PUBLIC.encode()}[form]
    claims = claims_for(caller=system_caller("day"))
    token = hand_made({"alg": "HS256", "typ": "JWT", "kid": "gateway"}, claims,
                      lambda m: hmac.new(secret, m, hashlib.sha256).digest())
    assert refused(token).code == "token_invalid"


def test_a_forged_signature_is_refused():
    other = trust.generate_keys(["gateway"])["GATEWAY_SIGNING_KEY"]
    forged = Signer("gateway", other).mint(REGISTRAR, "records")
    assert refused(forged).code == "token_invalid"
    # a genuine token with its claims changed
    head, body, sig = signer("gateway").mint(REGISTRAR, "records").split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["roles"] = ["system"]
    assert refused(f"{head}.{b64(json.dumps(claims).encode())}.{sig}").code == "token_invalid"
    assert refused("not-a-token").code == "token_invalid"
    assert refused("").code == "token_invalid"
    assert refused(None).code == "token_invalid"


def test_an_unknown_issuer_is_refused():
    key = trust.load_private_key(trust.generate_signing_key())
    token = jwt.encode(claims_for(issuer="mallory"), key, algorithm="EdDSA", headers={"kid": "mallory"})
    assert "unknown issuer" in refused(token).text
    # a known issuer's key, presented under another issuer's name
    token = jwt.encode(claims_for(issuer="gateway"), trust.load_private_key(KEYS["FILES_SIGNING_KEY"]),
                       algorithm="EdDSA", headers={"kid": "files"})
    assert refused(token).code == "token_invalid"


def test_missing_claims_are_refused():
    key = trust.load_private_key(KEYS["GATEWAY_SIGNING_KEY"])
    for missing in ("jti", "exp", "iat", "sub", "aud"):
        claims = claims_for()
        del claims[missing]
        assert refused(jwt.encode(claims, key, algorithm="EdDSA")).code in ("token_invalid", "token_expired")


@pytest.mark.parametrize("issuer,role,ok", [
    ("gateway", "registrar", True), ("gateway", "student", True), ("gateway", "system_admin", True),
    ("gateway", "system:gateway", True), ("gateway", "system", False), ("gateway", "system:records", False),
    ("ops", "system", True), ("ops", "registrar", False), ("ops", "system:gateway", False),
    ("files", "system:files", True), ("files", "system", False), ("files", "registrar", False),
    ("files", "system:records", False), ("records", "system:records", True), ("records", "student", False),
])
def test_the_trust_map(issuer, role, ok):
    assert trust.may_assert(issuer, role) is ok
    caller = Caller(user_id=str(uuid.uuid4()), username="x", tenant="day", roles=(role,))
    key = trust.load_private_key(KEYS[trust.signing_key_name(issuer)])
    token = jwt.encode(claims_for(caller=caller, issuer=issuer), key, algorithm="EdDSA")
    if ok:
        assert verify(token).roles == (role,)
        assert verify(signer(issuer).mint(caller, "records")).issuer == issuer
    else:
        assert "may not assert" in refused(token).text
        with pytest.raises(ValueError):
            signer(issuer).mint(caller, "records")


def test_service_and_system_identities():
    assert verify(signer("ops").mint(system_caller("ce"), "records")).has("system")
    me = verify(signer("records").mint(service_caller("records", "day"), "submission"), "submission")
    assert me.roles == ("system:records",) and me.tenant == "day" and not me.has("system")
