"""Sealed RPC bodies: passwords and national IDs never reach the broker in the clear.

The RPCs in SEALED_METHODS carry secrets (passwords, national ID numbers) in their arguments or
their answers. The caller seals the request body to the receiving service's X25519 public key
(libsodium's sealed box, PyNaCl) and puts its own per-process public key inside; the service
opens it with its private key and seals the answer to that key. What RabbitMQ holds (in memory,
paged or written to disk, in a queue a broker user may read) is ciphertext, whatever the
delivery mode and queue type.

Keys (hex of the raw 32 bytes; `python -m portfolio_common.sealed keygen` prints a pair):
- `SEAL_KEY`: the private key of a service that receives sealed RPCs (accounts, records,
  submission);
- `SEAL_PUBLIC_KEYS`: `accounts:<hex>,records:<hex>,submission:<hex>`: what a caller (gateway, demo loader)
  seals to.
A caller without the receiving service's key refuses to send in the clear (SealingUnavailable);
a service refuses an unsealed request for a sealed method (`rpc_not_sealed`).
"""
import base64
import threading

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from .config import env, secret
from .errors import PortfolioError

# service.method -> what it carries
SEALED_METHODS = {
    "accounts.sign_in": "password",
    "accounts.change_password": "old and new password",
    "accounts.reset_password": "the temporary password in its answer",
    "accounts.import_people": "each row's initial password",
    "records.import_school": "each student's national ID",
    "records.reveal_national_id": "the national ID in its answer",
    "records.create_student": "the student's national ID",
    "records.update_student": "the student's national ID",
    "records.import_student_profiles": "each row's national ID",
    "records.national_export_fields": "the national IDs of the rosters in its answer",
    "submission.national_roster_file": "a roster's download id and name (the file itself, with national IDs, goes to files)",
    "records.transfer_export_fields": "the student's national ID in its answer (transfer package)",
    "submission.export_transfer_package": "a transfer package's download id (the package, with the national ID, goes to files)",
    "records.transfer_import_target": "an imported package's national ID in its arguments (compared, never answered)",
    "accounts.user_emails": "people's e-mail addresses in its answer (the reminder job's address book)",
}
FIELD = "sealed"


class SealingUnavailable(RuntimeError):
    """The caller has no public key for a service it must send a sealed request to."""


class NotSealed(PortfolioError):
    code = "rpc_not_sealed"
    http_status = 400

    def __init__(self, method):
        super().__init__(f"{method} carries secrets and is accepted only sealed to this service")


_reply_key = None
_keys_lock = threading.Lock()


def _reply_private_key() -> PrivateKey:
    """This process's own key for answers (made at first use, never leaves the process)."""
    global _reply_key
    with _keys_lock:
        if _reply_key is None:
            _reply_key = PrivateKey.generate()
        return _reply_key


def public_keys() -> dict:
    raw = env("SEAL_PUBLIC_KEYS", "")
    out = {}
    for part in raw.split(","):
        if part.strip():
            name, _, hexkey = part.strip().partition(":")
            out[name.strip()] = PublicKey(bytes.fromhex(hexkey.strip()))
    return out


def keygen():
    """(private hex, public hex) of a new X25519 key pair."""
    k = PrivateKey.generate()
    return bytes(k).hex(), bytes(k.public_key).hex()


def public_of(private_hex: str) -> str:
    return bytes(PrivateKey(bytes.fromhex(private_hex)).public_key).hex()


def _json():
    # kombu's JSON, as nameko's "json" serializer uses it (dates, uuids, decimals round-trip)
    from kombu.utils import json as kjson
    return kjson


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def seal_request(routing_key, payload):
    """Caller side: the body nameko publishes for `routing_key` (`service.method`)."""
    if routing_key not in SEALED_METHODS:
        return payload
    service = routing_key.split(".", 1)[0]
    key = public_keys().get(service)
    if key is None:
        raise SealingUnavailable(f"{routing_key} carries {SEALED_METHODS[routing_key]}: it is sent only "
                                 f"sealed, and SEAL_PUBLIC_KEYS has no key for {service}")
    inner = _json().dumps({"args": payload["args"], "kwargs": payload["kwargs"],
                         "reply_key": bytes(_reply_private_key().public_key).hex()}).encode()
    return {"args": [], "kwargs": {}, FIELD: _b64(SealedBox(key).encrypt(inner))}


def open_request(method, body):
    """Service side: (body with args/kwargs, the caller's reply key or None).

    Raises NotSealed when a sealed method comes in the clear or cannot be opened with SEAL_KEY.
    """
    if FIELD not in body:
        if method in SEALED_METHODS:
            raise NotSealed(method)
        return body, None
    try:
        box = SealedBox(PrivateKey(bytes.fromhex(secret("SEAL_KEY"))))
        inner = _json().loads(box.decrypt(base64.b64decode(body[FIELD])).decode())
    except (CryptoError, ValueError) as exc:
        raise NotSealed(method) from exc
    return {"args": inner["args"], "kwargs": inner["kwargs"]}, PublicKey(bytes.fromhex(inner["reply_key"]))


def seal_reply(reply_key: PublicKey, payload: dict) -> dict:
    return {FIELD: _b64(SealedBox(reply_key).encrypt(_json().dumps(payload).encode()))}


def open_reply(body):
    if isinstance(body, dict) and FIELD in body:
        box = SealedBox(_reply_private_key())
        return _json().loads(box.decrypt(base64.b64decode(body[FIELD])).decode())
    return body


def install_reply_opener(nameko_rpc):
    """Callers open sealed answers before nameko reads `result`/`error` from them."""
    original = nameko_rpc.RpcReply.result

    def result(self):
        if self.resp_body is None:
            self.resp_body = self.reply_event.wait()
        self.resp_body = open_reply(self.resp_body)
        return original(self)

    nameko_rpc.RpcReply.result = result


def main(argv=None):
    import sys
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] != ["keygen"]:
        print("usage: python -m portfolio_common.sealed keygen   (prints SEAL_KEY and its public key)")
        return 2
    private, public = keygen()
    print(f"SEAL_KEY={private}\npublic={public}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
