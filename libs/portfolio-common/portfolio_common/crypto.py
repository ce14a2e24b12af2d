"""National ID protection: Fernet encryption at rest and a keyed hash for look-ups.

Both keys derive from one secret (NATIONAL_ID_KEY) with distinct labels, so a leaked
hash column cannot be brute-forced without the secret.
"""
import base64
import hashlib
import hmac

from cryptography.fernet import Fernet


class NationalIdVault:
    def __init__(self, secret: str):
        raw = secret.encode()
        self._fernet = Fernet(base64.urlsafe_b64encode(hmac.new(raw, b"enc", hashlib.sha256).digest()))
        self._hkey = hmac.new(raw, b"lookup", hashlib.sha256).digest()

    def encrypt(self, national_id: str) -> bytes:
        return self._fernet.encrypt(national_id.encode())

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(bytes(token)).decode()

    def lookup_hash(self, national_id: str) -> str:
        return hmac.new(self._hkey, national_id.upper().encode(), hashlib.sha256).hexdigest()


def mask(national_id: str) -> str:
    """A123456789 -> A12*****89 (what most screens show)."""
    if not national_id or len(national_id) < 5:
        return "*" * len(national_id or "")
    return national_id[:3] + "*" * (len(national_id) - 5) + national_id[-2:]
