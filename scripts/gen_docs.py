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
    "certified": "a teacher (or proxy) certifies an outcome",
    "certification-returned": "a teacher returns an outcome with a reason",
    "selection-locked": "the registrar locks a tenant's school year: one event per student with a selection",
    "national-submitted": "a batch was accepted and its receipt imported",
    "sealed": "a student's portfolio is sealed",
    "student-status-changed": "transfer, repeat, reinstatement, visiting study",
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
    return sorted(getattr(events, c) for c in consts)


def entrypoints(service):
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
    from nameko.rpc import Rpc
    from portfolio_common.nameko_kit import ReliableEventHandler
    mod = importlib.import_module(f"{service}.service")
    cls = next(v for v in vars(mod).values() if isinstance(v, type) and getattr(v, "name", None) == service)
    rpcs, handlers = [], []
    for attr, fn in vars(cls).items():
        for ep in getattr(fn, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(ep, Rpc):
                params = [p for p in inspect.signature(fn).parameters if p != "self"]
                rpcs.append(f"`{attr}({', '.join(params)})`")
            elif isinstance(ep, ReliableEventHandler):
                handlers.append(f"`{ep.event_type}` from `{ep.source_service}` → `{attr}`")
    return rpcs, handlers


def catalogue():
    from portfolio_common import events
    lines = ["| event | producer (exchange) | consumers | emitted yet | when |", "|---|---|---|---|---|"]
    emitting = {e for s in ALL for e in emitted_by(s)}
    for event, producer in events.PRODUCERS.items():
        consumers = ", ".join(f"{s}.{m}" for e, s, m in events.SUBSCRIPTIONS if e == event) or "—"
        lines.append(f"| `{event}` | {producer} (`{producer}.events`) | {consumers} | "
                     f"{'yes' if event in emitting else 'not yet'} | {WHEN[event]} |")
    return "\n".join(lines)


def service_block(service):
    out = []
    if service in NAMEKO:
        rpcs, handlers = entrypoints(service)
        out.append("**RPC** (nameko, `" + service + "` service; `caller_token` is the gateway's signed caller):\n")
        out += [f"- {r}" for r in rpcs]
        out.append("\n**Consumes** (durable quorum queues, retried with back-off, then dead-lettered):\n")
        out += [f"- {h}" for h in handlers] or ["- nothing"]
    out.append("\n**Emits** (through the outbox, on `" + service + ".events`):\n")
    out += [f"- `{e}`" for e in emitted_by(service)] or ["- nothing yet"]
    return "\n".join(out)


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
