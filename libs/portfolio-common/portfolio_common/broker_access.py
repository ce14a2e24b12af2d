"""Who may do what on the broker: one RabbitMQ user per service and one for the gateway.

The broker is a trust boundary. Each principal below gets its own user on the platform's vhost
with the least rights its code needs (RabbitMQ checks `configure` to declare or delete, `write`
to publish to an exchange or bind a queue, `read` to consume a queue or bind from an exchange;
topic permissions restrict the routing keys a user may publish with, or bind with, on a topic
exchange):

| principal | may publish | may consume |
|---|---|---|
| a nameko service S | its own events on `S.events` (only the event names it produces), its retries and dead letters through `S.dlx`, RPC replies on `nameko-rpc` (a reply queue's uuid) and calls of its own methods (its health check) | `rpc-S`, its reply queues, its own handler queues (bound only to the events it subscribes to) |
| files | its own events on `files.events`, its retries and dead letters through `files.dlx` | its own handler queues (`sealed`, `selection-locked`: get, ack, nack; no declare, no bind) |
| gateway | RPC requests on `nameko-rpc` (`<service>.<method>` of the four nameko services) | its own reply queues `rpc.reply-gateway-*` |

So the files service's user cannot publish `certified` (no write on `certification.events`, and
`certified` is not a key it may use on its own exchange), records cannot consume
certification's queues, and the gateway cannot publish any event or answer anyone's RPC.
Exchanges and queues are declared by the vhost's administrator (`portfolio-topology`, the
migrate step); no service may configure what another uses.

`definitions()` renders users, permissions and topic permissions as a RabbitMQ definitions
document: the launcher and the tests import it with `rabbitmqctl import_definitions` (or the
management API), compose loads it at the broker's boot (deploy/gen-secrets.sh writes it).
"""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import urllib.parse
import urllib.request

from . import events
from .amqp import RPC_EXCHANGE, service_exchange

NAMEKO_SERVICES = ("accounts", "records", "certification", "submission")
PRINCIPALS = NAMEKO_SERVICES + ("files", "gateway")
# A reply queue's routing key is a uuid4; no `{`, which topic permissions expand as variables.
REPLY_KEY = r"[0-9a-f]+(-[0-9a-f]+)+"
RPC_METHOD = r"[a-z_]+"
NOTHING = "^$"
# RPCs a service calls on another on its own (as `system:<service>`, trust.py): service -> methods
SERVICE_CALLS = {
    "submission": ("records.national_export_fields",     # the national rosters' fields
                   "records.transfer_export_fields",     # a student's transfer package
                   "records.transfer_import_target",     # an imported package's student (ID compared)
                   "records.store_transfer_import"),     # an imported package's items
    "certification": ("accounts.user_emails",             # the reminder e-mails' addresses
                      "submission.locked_outcomes",       # no withdrawal under a locked copy
                      "records.current_classes"),         # oversight by the class a student is in now
}


def _any_of(patterns) -> str:
    patterns = sorted(set(patterns))
    return "^(" + "|".join(patterns) + ")$" if patterns else NOTHING


def _subscriptions_of(service):
    for event, source, svc, method in events.subscriptions():
        if svc == service:
            yield event, source, events.queue_name(event, svc, method, source)


def _produces(service):
    return sorted(e for e in set(events.PRODUCERS) | set(events.SHARED_EVENTS)
                  if service in events.producers_of(e))


def permissions(principal: str) -> dict:
    """{"configure", "write", "read"}: regular expressions on exchange and queue names."""
    if principal == "gateway":
        reply = r"rpc\.reply-gateway-.+"
        return {"configure": _any_of([reply]), "write": _any_of([re.escape(RPC_EXCHANGE), reply]),
                "read": _any_of([re.escape(RPC_EXCHANGE), reply])}
    s = re.escape(principal)
    own_queues = [re.escape(q) for _, _, q in _subscriptions_of(principal)]
    if principal not in NAMEKO_SERVICES:
        # files: publishes its events; its consumers (files/sealing.py, files/locked.py) only get,
        # ack and nack on its own queues, which the migrate step declared and bound, and
        # republish an event that waits for another (RetryLater) to the retry queues through
        # its own direct exchange `files.dlx`
        write = [re.escape(f"{principal}.events")] if _produces(principal) else []
        if own_queues:
            write.append(re.escape(service_exchange(principal)))
        return {"configure": NOTHING, "write": _any_of(write), "read": _any_of(own_queues)}
    configure, write, read = list(own_queues), list(own_queues), list(own_queues)
    if _produces(principal):
        write.append(re.escape(f"{principal}.events"))
    if own_queues:
        write.append(re.escape(service_exchange(principal)))
        read += [re.escape(f"{src}.events") for _, src, _ in _subscriptions_of(principal)]
    if principal in NAMEKO_SERVICES:
        rpc_queues = [f"rpc-{s}", rf"rpc\.reply-{s}-.+"]
        configure += rpc_queues
        write += rpc_queues + [re.escape(RPC_EXCHANGE)]
        read += rpc_queues + [re.escape(RPC_EXCHANGE)]
    return {"configure": _any_of(configure), "write": _any_of(write), "read": _any_of(read)}


def topic_permissions(principal: str) -> list:
    """[{"exchange", "write", "read"}]: routing keys allowed on each topic exchange it reaches."""
    if principal == "gateway":
        calls = rf"({'|'.join(NAMEKO_SERVICES)})\.{RPC_METHOD}"
        return [{"exchange": RPC_EXCHANGE, "write": _any_of([calls]), "read": _any_of([REPLY_KEY])}]
    out = []
    s = re.escape(principal)
    if principal in NAMEKO_SERVICES:
        calls = [re.escape(m) for m in SERVICE_CALLS.get(principal, ())]
        out.append({"exchange": RPC_EXCHANGE, "write": _any_of([REPLY_KEY, rf"{s}\.{RPC_METHOD}", *calls]),
                    "read": _any_of([REPLY_KEY, rf"{s}\.\*"])})
    produced = _produces(principal)
    if produced:
        out.append({"exchange": f"{principal}.events", "write": _any_of(map(re.escape, produced)),
                    "read": NOTHING})
    by_source = {}
    for event, source, _ in _subscriptions_of(principal):
        by_source.setdefault(source, set()).add(re.escape(event))
    for source, evs in sorted(by_source.items()):
        out.append({"exchange": f"{source}.events", "write": NOTHING, "read": _any_of(evs)})
    return out


def password_hash(password: str, salt: bytes = None) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(vhost: str, users: dict, *, admin: tuple = None, hash_fn=password_hash) -> dict:
    """A definitions document: `users` maps principal -> (username, password); `admin` is an
    optional (username, password) given every right on the vhost (tags: administrator)."""
    doc = {"users": [], "vhosts": [{"name": vhost}], "permissions": [], "topic_permissions": []}
    for principal, (name, password) in sorted(users.items()):
        doc["users"].append({"name": name, "password_hash": hash_fn(password),
                             "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []})
        doc["permissions"].append({"user": name, "vhost": vhost, **permissions(principal)})
        for tp in topic_permissions(principal):
            doc["topic_permissions"].append({"user": name, "vhost": vhost, **tp})
    if admin:
        name, password = admin
        doc["users"].append({"name": name, "password_hash": hash_fn(password),
                             "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]})
        doc["permissions"].append({"user": name, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"})
    return doc


COMPOSE_USER_PREFIX = "portfolio-"
COMPOSE_ADMIN = "portfolio-admin"


def definitions_template() -> str:
    """deploy/rabbitmq/definitions.json.template: compose's broker users and permissions, with
    `@<NAME>_HASH@` where deploy/gen-secrets.sh puts the hash of the password `<NAME>` of .env
    (scripts/gen_docs.py writes it; a test fails when it is stale)."""
    users = {p: (COMPOSE_USER_PREFIX + p, f"{p.upper()}_AMQP_PASSWORD") for p in PRINCIPALS}
    doc = definitions("/", users, admin=(COMPOSE_ADMIN, "RABBITMQ_ADMIN_PASSWORD"),
                      hash_fn=lambda var: f"@{var}_HASH@")
    return json.dumps(doc, indent=2) + "\n"


def uri_for(admin_uri: str, username: str, password: str) -> str:
    """The administrator's AMQP URI (host, port, vhost, TLS) with another user's credentials."""
    p = urllib.parse.urlsplit(admin_uri)
    host = p.hostname + (f":{p.port}" if p.port else "")
    if ":" in (p.hostname or ""):
        host = f"[{p.hostname}]" + (f":{p.port}" if p.port else "")
    cred = f"{urllib.parse.quote(username, safe='')}:{urllib.parse.quote(password, safe='')}"
    return urllib.parse.urlunsplit((p.scheme, f"{cred}@{host}", p.path, p.query, p.fragment))


def vhost_of(amqp_uri: str) -> str:
    path = urllib.parse.urlsplit(amqp_uri).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


def _rabbitmqctl():
    return shutil.which("rabbitmqctl") or ("/usr/sbin/rabbitmqctl" if os.path.exists("/usr/sbin/rabbitmqctl") else None)


def _is_local(amqp_uri):
    return urllib.parse.urlsplit(amqp_uri).hostname in ("127.0.0.1", "localhost", "::1")


def apply(admin_uri: str, doc: dict, *, management_port=15672):
    """Import a definitions document into the broker of `admin_uri`: with the local rabbitmqctl
    when the broker is on loopback and rabbitmqctl works here (root), else through the
    management API with the administrator's credentials. Raises RuntimeError when neither works."""
    errors = []
    ctl = _rabbitmqctl()
    if ctl and _is_local(admin_uri):
        # From standard input: a file would have to be readable by the broker's own user.
        r = subprocess.run([ctl, "-q", "import_definitions", "--format", "json"],
                           input=json.dumps(doc), capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            return
        errors.append(f"rabbitmqctl import_definitions: {r.stdout}{r.stderr}".strip())
    p = urllib.parse.urlsplit(admin_uri)
    api = f"http://{p.hostname}:{management_port}/api/definitions"
    auth = urllib.request.HTTPBasicAuthHandler()
    auth.add_password("RabbitMQ Management", api, urllib.parse.unquote(p.username or "guest"),
                      urllib.parse.unquote(p.password or "guest"))
    req = urllib.request.Request(api, data=json.dumps(doc).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    try:
        urllib.request.build_opener(auth).open(req, timeout=30)
        return
    except Exception as exc:  # noqa: BLE001
        errors.append(f"management API {api}: {exc!r}")
    raise RuntimeError("cannot create the broker users: " + "; ".join(errors) +
                       " (run as root next to RabbitMQ, or enable rabbitmq_management)")


def delete_users(admin_uri: str, names, *, management_port=15672):
    """Best effort: remove users (test runs clean up the ones they made)."""
    ctl = _rabbitmqctl()
    if ctl and _is_local(admin_uri):
        procs = [subprocess.Popen([ctl, "-q", "delete_user", n], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for n in names]
        for proc in procs:
            proc.wait(120)
        return
    p = urllib.parse.urlsplit(admin_uri)
    auth = urllib.request.HTTPBasicAuthHandler()
    base = f"http://{p.hostname}:{management_port}/api/users/"
    auth.add_password("RabbitMQ Management", base, urllib.parse.unquote(p.username or "guest"),
                      urllib.parse.unquote(p.password or "guest"))
    opener = urllib.request.build_opener(auth)
    for n in names:
        try:
            opener.open(urllib.request.Request(base + urllib.parse.quote(n, safe=""), method="DELETE"), timeout=30)
        except Exception:  # noqa: BLE001 - best effort
            pass


def main(argv=None):
    """`python -m portfolio_common.broker_access permissions`: print every principal's rights."""
    for principal in PRINCIPALS:
        print(json.dumps({"principal": principal, **permissions(principal),
                          "topic": topic_permissions(principal)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
