"""Regenerate the parts of the READMEs that the code defines; `--check` fails if stale.

  python scripts/gen_docs.py          # rewrite the generated blocks
  python scripts/gen_docs.py --check  # exit 1 when a README does not match the code

Generated: the root event catalogue (producers, consumers, whether the event is emitted
yet) and, per service README, its RPCs, the events it emits and the events it consumes.
"""
import importlib
import inspect
import os
import re
import sys
import warnings

warnings.filterwarnings("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMEKO = ("accounts", "records", "certification", "submission")
ALL = NAMEKO + ("files",)

WHEN = {
    "outcome-uploaded": "a course-outcome file is durable in object storage, fingerprint recorded",
    "performance-uploaded": "a performance's proof file is durable",
    "proof-uploaded": "the proof file of a staff-entered item (an in-school competition) is durable",
    "certified": "a teacher (or proxy) certifies an outcome",
    "certification-returned": "a teacher returns an outcome with a reason",
    "certification-withdrawn": "a teacher (or proxy) withdraws a mistaken certification within the window, with a reason",
    "selection-locked": "the registrar locks a tenant's school year: one event per student with a selection",
    "national-submitted": "a batch was accepted and its receipt imported",
    "sealed": "a student is sealed five years after the college application (no more writes anywhere)",
    "sealed-read-approved": "the principal and the executive secretary approved a request to read a sealed student",
    "student-status-changed": "transfer, repeat, reinstatement, visiting study",
    "access-refused": "a call was refused for lack of rights, or another's item was hidden as not found",
    "upload-refused": "an upload with a valid ticket ended without a file (refused, failed, expired, cancelled): its quota slot is free",
    "calendar-changed": "the registrar (day) or academic section (ce) saves a term of the calendar: the whole term, versioned",
}


def emitted_by(service):
    pkg = importlib.import_module(service)
    src = ""
    for dirpath, _, names in os.walk(os.path.dirname(pkg.__file__)):
        if "migrations" in dirpath:
            continue
        for n in names:
            if n.endswith(".py"):
                src += open(os.path.join(dirpath, n), encoding="utf-8").read()
    from portfolio_common import events
    consts = set(re.findall(r"make_event\(\s*events\.([A-Z_]+)", src))
    found = {getattr(events, c) for c in consts}
    if service in events.SHARED_EVENTS[events.ACCESS_REFUSED] and service in NAMEKO:
        found.add(events.ACCESS_REFUSED)  # emitted for every refused call by nameko_kit.Platform
    return sorted(found)


def members(cls):
    """(name, attribute) of a service class, then of the item-kind mixins it is made of
    (records/areas.py), each name once."""
    out = dict(vars(cls))
    for base in cls.__mro__[1:-1]:
        for k, v in vars(base).items():
            out.setdefault(k, v)
    return list(out.items())


def entrypoints(service):
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
    from nameko.rpc import Rpc
    from portfolio_common.nameko_kit import ReliableEventHandler
    mod = importlib.import_module(f"{service}.service")
    cls = next(v for v in vars(mod).values() if isinstance(v, type) and getattr(v, "name", None) == service)
    rpcs, handlers = [], []
    for attr, fn in members(cls):
        for ep in getattr(fn, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(ep, Rpc):
                params = [p for p in inspect.signature(fn).parameters if p != "self"]
                rpcs.append(f"`{attr}({', '.join(params)})`")
            elif isinstance(ep, ReliableEventHandler):
                handlers.append(f"`{ep.event_type}` from `{ep.source_service}` → `{attr}`")
    return rpcs, sorted(handlers)


def catalogue():
    from portfolio_common import events
    lines = ["| event | producer (exchange) | consumers | emitted yet | when |", "|---|---|---|---|---|"]
    emitting = {e for s in ALL for e in emitted_by(s)}
    for event in events.PAYLOADS:
        consumers = ", ".join(sorted({f"{s}.{m}" for e, _, s, m in events.subscriptions() if e == event})) or "—"
        producer = ", ".join(f"{p} (`{p}.events`)" for p in events.producers_of(event))
        lines.append(f"| `{event}` | {producer} | {consumers} | "
                     f"{'yes' if event in emitting else 'not yet'} | {WHEN[event]} |")
    return "\n".join(lines)


def service_block(service):
    out = []
    if service in NAMEKO:
        rpcs, handlers = entrypoints(service)
        out.append("**RPC** (nameko, `" + service + "` service; `caller` is a caller token signed for this service, see `portfolio_common/trust.py`):\n")
        out += [f"- {r}" for r in rpcs]
        out.append("\n**Consumes** (durable quorum queues, retried with back-off, then dead-lettered):\n")
        out += [f"- {h}" for h in handlers] or ["- nothing"]
    out.append("\n**Emits** (through the outbox, on `" + service + ".events`):\n")
    out += [f"- `{e}`" for e in emitted_by(service)] or ["- nothing yet"]
    return "\n".join(out)


def permissions_md():
    """docs/permissions.md: every RPC of every service against every role, from @allowed."""
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
    from nameko.rpc import Rpc
    from accounts.domain import PLATFORM_ROLES, ROLES
    rpcs = []
    for service in NAMEKO:
        mod = importlib.import_module(f"{service}.service")
        cls = next(v for v in vars(mod).values() if isinstance(v, type) and getattr(v, "name", None) == service)
        for attr, fn in members(cls):
            if not any(isinstance(ep, Rpc) for ep in getattr(fn, ENTRYPOINT_EXTENSIONS_ATTR, ())):
                continue
            roles = getattr(fn, "allowed_roles", None)
            if roles is None:
                raise SystemExit(f"{service}.{attr} declares no permission (@allowed or @open_to)")
            rpcs.append((f"{service}.{attr}", roles))
    # system identities (`system:<issuer>`) get a column once some RPC accepts one
    own = sorted({r for _, roles in rpcs for r in roles if r.startswith("system:")})
    cols = list(ROLES) + list(PLATFORM_ROLES) + ["system"] + own
    out = ["# Who may do what", "",
           "Generated by `python scripts/gen_docs.py` from the `@allowed(...)` declarations on each RPC",
           "(`libs/portfolio-common/portfolio_common/permissions.py`); a test fails when it is stale.",
           "The declaration is the coarse gate, enforced by the service itself on the caller token it",
           "verified; use cases narrow it further (a student's own outcomes, a teacher's own sections or",
           "those they stand in for as proxy, the caller's tenant only). Every role above is held in one",
           "tenant; `platform_admin` is a platform grant held by no school division (it manages tenants",
           "and the accounts that span divisions), and `system` is the platform's own tools (demo loader,",
           "ops tools). A division's `system_admin` manages only accounts whose every grant lies in their",
           "division. Every refusal is audited (`access-refused`).", "",
           "Who may sign which roles (`libs/portfolio-common/portfolio_common/trust.py`): people's roles",
           "only the gateway (Ed25519 key GATEWAY_SIGNING_KEY, which no other process holds); `system`",
           "only the platform's tools (demo loader, ops commands: OPS_SIGNING_KEY); `system:<issuer>`",
           "only that issuer acting on its own (`system:gateway`: the gateway's own identity). A token",
           "names one service (`aud`) and lives 60 s.", "",
           "| RPC | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, roles in rpcs:
        if roles[0].startswith("("):
            out.append(f"| `{name}` | " + f"{roles[0]} |" + " |" * (len(cols) - 1))
        else:
            out.append(f"| `{name}` | " + " | ".join("✓" if c in roles else "" for c in cols) + " |")
    out += ["", "The files service (HTTP, called by the gateway) checks the same signed caller: an upload",
            "needs a ticket records issued to that student in that tenant; a download is for the owner,",
            "the reviewing teacher (or their proxy) and the tenant's registrar.", "",
            "Students' items entered by the school's units (services/records/README.md, \"Items the school's",
            "units enter\"): only the unit responsible writes its kind (consultation_teacher, guidance_counsellor,",
            "discipline_section, activities_section, organising_unit); a `homeroom_teacher` reads the items",
            "of their own class's students only, a `student` their own, `guidance_counsellor` also every",
            "consultation record of the tenant; the autobiography is written by the student alone and reviewed",
            "by the counsellors or the homeroom teacher of the class. Anyone else reads another's item as not",
            "found.", ""]
    out += broker_md() + database_md()
    return "\n".join(out)


def broker_md():
    """The broker users' permissions, from portfolio_common.broker_access."""
    from portfolio_common import broker_access as b
    out = ["## Broker users", "",
           "Each service and the gateway connect to RabbitMQ as their own user (`<prefix>-<name>`:",
           "`portfolio-records` in compose, `t_<run>_<stack>-records` in a test run), with these",
           "permissions on the platform's vhost (regular expressions on exchange and queue names), and",
           "topic permissions on the routing keys of each topic exchange it reaches. Exchanges and",
           "queues are declared by the vhost's administrator in the migrate step, never by a service.",
           "(`libs/portfolio-common/portfolio_common/broker_access.py`)", "",
           "| user | configure | write | read |", "|---|---|---|---|"]
    def cell(regex):  # a pipe inside a table cell must be escaped, even in code
        return "`" + regex.replace("|", "\\|") + "`"
    for p in b.PRINCIPALS:
        perm = b.permissions(p)
        out.append(f"| {p} | {cell(perm['configure'])} | {cell(perm['write'])} | {cell(perm['read'])} |")
    out += ["", "| user | topic exchange | may publish with | may bind with |", "|---|---|---|---|"]
    for p in b.PRINCIPALS:
        for tp in b.topic_permissions(p):
            out.append(f"| {p} | `{tp['exchange']}` | {cell(tp['write'])} | {cell(tp['read'])} |")
    return out + [""]


def database_md():
    """The database roles' rights, from portfolio_common.migrate and each service's orm."""
    from portfolio_common.migrate import SERVICES, deletes_from
    out = ["## Database roles", "",
           "Each service's database `<prefix>_<service>` is owned by `<prefix>_<service>_owner`, which",
           "runs the migrations (the migrate step); the service connects as `<prefix>_<service>`, which",
           "owns nothing and may connect only to its own database (CONNECT is revoked from PUBLIC). It",
           "may SELECT, INSERT and UPDATE every table, DELETE only where its code deletes, and only",
           "SELECT and INSERT an append-only table; it cannot run DDL, nor drop or disable a trigger.",
           "(`libs/portfolio-common/portfolio_common/migrate.py`)", "",
           "| service | tables it may DELETE from |", "|---|---|"]
    for s in SERVICES:
        out.append(f"| {s} | {', '.join(f'`{t}`' for t in deletes_from(s)) or '—'} |")
    return out + [""]


def replace_block(text, name, body):
    pattern = re.compile(rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- /generated:{name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"marker generated:{name} missing")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def main():
    check = "--check" in sys.argv
    targets = {os.path.join(ROOT, "README.md"): [("events", catalogue())]}
    for s in ALL:
        targets[os.path.join(ROOT, "services", s, "README.md")] = [("interface", service_block(s))]
    stale = []
    from portfolio_common.broker_access import definitions_template
    tpl_path = os.path.join(ROOT, "deploy", "rabbitmq", "definitions.json.template")
    tpl = definitions_template()
    if not os.path.exists(tpl_path) or open(tpl_path, encoding="utf-8").read() != tpl:
        stale.append("deploy/rabbitmq/definitions.json.template")
        if not check:
            os.makedirs(os.path.dirname(tpl_path), exist_ok=True)
            open(tpl_path, "w", encoding="utf-8").write(tpl)
    perm_path = os.path.join(ROOT, "docs", "permissions.md")
    perm = permissions_md()
    if not os.path.exists(perm_path) or open(perm_path, encoding="utf-8").read() != perm:
        stale.append("docs/permissions.md")
        if not check:
            open(perm_path, "w", encoding="utf-8").write(perm)
    for path, blocks in targets.items():
        old = open(path, encoding="utf-8").read()
        new = old
        for name, body in blocks:
            new = replace_block(new, name, body)
        if new != old:
            stale.append(os.path.relpath(path, ROOT))
            if not check:
                open(path, "w", encoding="utf-8").write(new)
    if check and stale:
        print("stale generated docs (run python scripts/gen_docs.py):", ", ".join(stale))
        return 1
    print("docs " + ("current" if check else "written") + (": " + ", ".join(stale) if stale and not check else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
