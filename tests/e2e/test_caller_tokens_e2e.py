"""Caller tokens only the gateway can mint (issue 6, items 2 and 3), tried as an attacker would
against the launched platform: real processes, real broker, real keys as the launcher hands
them out.
"""
import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from portfolio_common import trust
from portfolio_common.caller import Caller, Signer, service_caller, system_caller
from tests.e2e.conftest import eventually
from tests.support.callers import as_gateway, as_system, signer
from tests.support.ids import SECRETS

pytestmark = pytest.mark.slow
REGISTRAR = Caller(user_id=str(uuid.uuid4()), username="mallory", tenant="day", roles=("registrar",))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(caller, issuer, audience, lifetime=60, now=None):
    now = int(now or time.time())
    return {"iss": issuer, "sub": caller.user_id, "aud": audience, "iat": now, "exp": now + lifetime,
            "jti": uuid.uuid4().hex, "username": caller.username, "tenant": caller.tenant,
            "roles": list(caller.roles), "proxy_for": [], "remote_addr": ""}


def hs256(body: dict, secret: bytes) -> str:
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(body).encode())
    return head + "." + b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())


def process_environment(pid: int) -> dict:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def refusal(call):
    with pytest.raises(RemoteError) as e:
        call()
    return e.value.exc_type, e.value.value


def audit_rows(rpc):
    """The newest 1000 rows of the whole access audit (read at platform level, as `system`)."""
    return rpc.accounts.list_access_audit(as_system("day", "accounts"), 1000)


def audit_mark(rpc):
    """The time of the newest audit row: rows after it are this test's."""
    return max((r["at"] for r in audit_rows(rpc)), default="")


def refused_audits(rpc, action_code, after):
    """How many refusals `action_code` ("records.list_students: token_invalid") were audited after
    the mark (another service's refusals arrive as access-refused events, each one a row)."""
    return sum(1 for r in audit_rows(rpc) if r["at"] > after and r["action"] == "refused"
               and r["detail"].startswith(action_code))


def test_the_files_process_cannot_mint_a_caller_records_accepts(stack):
    """Everything the running files service holds (its environment, the files it names) is tried
    as a signing key, as every issuer, for a registrar and for `system`: records refuses it all."""
    env = process_environment(stack._pid("files"))
    assert "GATEWAY_SIGNING_KEY" not in env and "OPS_SIGNING_KEY" not in env
    assert not any(k.endswith("_SIGNING_KEY") and k != "FILES_SIGNING_KEY" for k in env), sorted(env)
    assert "CALLER_KEY" not in env
    secretish = ("KEY", "SECRET", "PASS", "TOKEN", "URI", "URL")
    loot = [v for k, v in env.items() if any(w in k for w in secretish) and len(v) >= 8]
    loot += [Path(v).read_text() for k, v in env.items() if k.endswith("_FILE") and Path(v).is_file()]
    assert env["FILES_SIGNING_KEY"] in loot and env["CALLER_PUBLIC_KEYS"] in loot

    forged = []
    for secret in loot:
        for issuer in trust.ISSUERS:
            for who in (REGISTRAR, system_caller("day")):
                forged.append(hs256(claims(who, issuer, "records"), secret.encode()))
                try:
                    key = trust.load_private_key(secret)
                except (ValueError, TypeError):
                    continue
                forged.append(jwt.encode(claims(who, issuer, "records"), key, algorithm="EdDSA",
                                         headers={"kid": issuer}))
    assert len(forged) > 50
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        mark = audit_mark(rpc)
        for token in forged:
            kind, text = refusal(lambda: rpc.records.list_students(token))
            assert kind == "NotAuthenticated", text
        # what files may sign for itself is its own identity, which no registrar RPC accepts
        own = Signer("files", env["FILES_SIGNING_KEY"]).mint(service_caller("files", "day"), "records")
        kind, text = refusal(lambda: rpc.records.list_students(own))
        assert kind == "NotAllowed" and "is not open to your role" in text
        eventually(lambda: refused_audits(rpc, "records.list_students: token_invalid", mark) >= len(forged),
                   timeout=60, interval=1)


def test_a_token_for_files_replayed_to_records_is_refused(stack):
    token = as_gateway(REGISTRAR, "files")
    # files checks the caller where it authorises a download (the link; the bytes need the link)
    r = requests.post(f"{stack.files_url}/v1/files/{uuid.uuid4()}/link", headers={"X-Portfolio-Caller": token},
                      timeout=30)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")  # genuine at files
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        for service, call in (("records", lambda: rpc.records.list_students(token)),
                              ("accounts", lambda: rpc.accounts.lookup_users(token, ["admin"])),
                              ("submission", lambda: rpc.submission.list_locked(token, 115))):
            kind, text = refusal(call)
            assert kind == "NotAuthenticated" and f"not meant for {service}" in text


def attacks(audience):
    """Tokens an attacker on the network could make, each claiming `system` for `audience`."""
    system = system_caller("day")
    gateway_jwk = next(k for k in json.loads(SECRETS["CALLER_PUBLIC_KEYS"])["keys"] if k["kid"] == "gateway")
    public_raw = base64.urlsafe_b64decode(gateway_jwk["x"] + "==")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    public_pem = Ed25519PublicKey.from_public_bytes(public_raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    none_head = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return {
        "expired": (Signer("ops", SECRETS["OPS_SIGNING_KEY"], clock=lambda: time.time() - 300)
                    .mint(system, audience), "token_expired"),
        "forged signature": (Signer("ops", trust.generate_signing_key()).mint(system, audience), "token_invalid"),
        "alg none": (f"{none_head}.{b64(json.dumps(claims(system, 'ops', audience)).encode())}.", "token_invalid"),
        "HS256 keyed with the public key": (hs256(claims(system, "gateway", audience), public_pem), "token_invalid"),
        "HS256 keyed with the raw public key": (hs256(claims(system, "gateway", audience), public_raw),
                                                "token_invalid"),
        "unknown issuer": (jwt.encode(claims(system, "mallory", audience),
                                      trust.load_private_key(trust.generate_signing_key()), algorithm="EdDSA",
                                      headers={"kid": "mallory"}), "token_invalid"),
    }


@pytest.mark.parametrize("attack", ["expired", "forged signature", "alg none", "HS256 keyed with the public key",
                                    "HS256 keyed with the raw public key", "unknown issuer"])
def test_bad_tokens_are_refused_and_audited(stack, attack):
    token, code = attacks("records")[attack]
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        mark = audit_mark(rpc)
        kind, text = refusal(lambda: rpc.records.list_students(token))
        assert kind == "NotAuthenticated" and f"[{code}]" in text
        eventually(lambda: refused_audits(rpc, f"records.list_students: {code}", mark) == 1, timeout=30, interval=0.5)
        # the same kind of token at the files service (HTTP)
        token, code = attacks("files")[attack]
        mark = audit_mark(rpc)
        r = requests.post(f"{stack.files_url}/v1/files/{uuid.uuid4()}/link", headers={"X-Portfolio-Caller": token},
                          timeout=30)
        assert (r.status_code, r.json()["error"]["code"]) == (401, code)
        eventually(lambda: refused_audits(rpc, f"files.link: {code}", mark) == 1, timeout=30, interval=0.5)


def test_sign_in_with_identity_answers_only_the_gateway(stack):
    """Only the gateway's own identity opens a session for an external identity; a service, the
    ops tools, a person's token or the old call without a token are refused and audited."""
    provider, subject = f"e2e-idp-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        assert rpc.accounts.link_identity(as_system("day", "accounts"), "s_day02", provider, subject) is True
        attempts = {
            "no caller token (the old call)": lambda: rpc.accounts.sign_in_with_identity(provider, subject),
            "the ops tools": lambda: rpc.accounts.sign_in_with_identity(
                as_system("day", "accounts"), provider, subject),
            "the files service": lambda: rpc.accounts.sign_in_with_identity(
                signer("files").mint(service_caller("files"), "accounts"), provider, subject),
            "a registrar through the gateway": lambda: rpc.accounts.sign_in_with_identity(
                as_gateway(REGISTRAR, "accounts"), provider, subject),
            "the gateway's identity for another service": lambda: rpc.accounts.sign_in_with_identity(
                signer("gateway").mint(service_caller("gateway"), "records"), provider, subject),
            "ops claiming to be the gateway": lambda: rpc.accounts.sign_in_with_identity(
                jwt.encode(claims(service_caller("gateway"), "ops", "accounts"),
                           trust.load_private_key(SECRETS["OPS_SIGNING_KEY"]), algorithm="EdDSA"), provider, subject),
        }
        mark = audit_mark(rpc)
        for what, call in attempts.items():
            kind, text = refusal(call)
            assert kind in ("NotAuthenticated", "NotAllowed"), (what, kind, text)
        opened = rpc.accounts.sign_in_with_identity(
            signer("gateway").mint(service_caller("gateway"), "accounts"), provider, subject, "127.0.0.1")
        assert opened["username"] == "s_day02" and opened["session_token"]
        assert rpc.accounts.resolve_session(opened["session_token"])["username"] == "s_day02"

        # audited: each caller whose token verified by name; the anonymous ones (a token that did
        # not verify) at most once a minute per reason, counted (accounts' AuditThrottle)
        def audited():
            rows = [r for r in audit_rows(rpc) if r["action"] == "refused"
                    and r["detail"].startswith("accounts.sign_in_with_identity")]
            named = {(r["username"], r["detail"].split(" (")[0]) for r in rows if r["at"] > mark}
            return {("system", "accounts.sign_in_with_identity: not_allowed"),
                    ("system:files", "accounts.sign_in_with_identity: not_allowed"),
                    ("mallory", "accounts.sign_in_with_identity: not_allowed")} <= named and any(
                r["username"] is None and r["detail"].startswith("accounts.sign_in_with_identity: token_invalid")
                for r in rows)
        eventually(audited, timeout=30, interval=0.5)
