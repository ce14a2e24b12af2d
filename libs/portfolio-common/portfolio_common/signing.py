"""Small HMAC-signed tokens (caller identity, upload tickets). Standard library only."""
import base64
import hashlib
import hmac
import json
import time

from .errors import NotAuthenticated


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(key) -> bytes:
    if not key:
        raise RuntimeError("signing key is not configured")
    return key.encode() if isinstance(key, str) else key


def sign(claims: dict, key, *, ttl: int, purpose: str) -> str:
    body = dict(claims, _exp=int(time.time()) + ttl, _p=purpose)
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(_key(key), f"{purpose}.{payload}".encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify(token: str, key, *, purpose: str) -> dict:
    try:
        payload, mac = token.split(".")
        expected = hmac.new(_key(key), f"{purpose}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise ValueError("bad signature")
        body = json.loads(_unb64(payload))
    except (ValueError, AttributeError, TypeError) as exc:
        raise NotAuthenticated("token is invalid", code="token_invalid") from exc
    if body.get("_p") != purpose:
        raise NotAuthenticated("token is invalid", code="token_invalid")
    if body.pop("_exp", 0) < time.time():
        raise NotAuthenticated("token has expired", code="token_expired")
    body.pop("_p", None)
    return body
