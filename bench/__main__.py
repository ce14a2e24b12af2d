"""Deadline-night benchmark: `make bench`, or `python -m bench [name ...]` for some modules only.
Prints measured rates against their targets as ratios; asserts nothing.

Starts the whole platform once as the launcher does (own vhost, databases, S3), then runs each
module of this package (`bench/<area>.py`, each with `run(stack)` printing one line per
measurement), in alphabetical order: `deadline`, `reads`, `uploads`.
"""
import importlib
import os
import pkgutil
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def modules():
    return sorted(m.name for m in pkgutil.iter_modules([HERE]) if not m.name.startswith("_"))


def main(argv=None):
    sys.path.insert(0, os.path.dirname(HERE))
    os.environ.setdefault("EVENT_RETRY_DELAYS_MS", "500,2000,5000")
    names = list(argv if argv is not None else sys.argv[1:]) or modules()
    unknown = set(names) - set(modules())
    if unknown:
        print(f"unknown bench module(s): {', '.join(sorted(unknown))}; known: {', '.join(modules())}")
        return 2
    loaded = [importlib.import_module(f"bench.{name}") for name in names]

    from portfolio_common import rpc_transport
    from tests.support import servers
    from tests.support.ids import RUN, SEAL_PUBLIC_KEYS, SECRETS
    from tests.support.stack import running_stack

    # Direct RPCs from here (the bench's class import) are sealed and transient, as the
    # gateway's are (the same as the test suite's conftest.py).
    os.environ.setdefault("SEAL_PUBLIC_KEYS", SEAL_PUBLIC_KEYS)
    rpc_transport.install()

    # The stack starts its own SeaweedFS in its folder (TEST_S3_ENDPOINT: a given S3 server).
    with tempfile.TemporaryDirectory() as tmp, running_stack(
            tmp, name="bench", pg_base_url=servers.postgres_url(), amqp_uri=servers.amqp_uri(),
            s3_endpoint=os.environ.get("TEST_S3_ENDPOINT"), secrets=SECRETS, run_id=RUN) as stack:
        print(f"\nbench run {uuid.uuid4().hex[:6]} on {os.cpu_count()} cores (everything on this one machine)")
        for module in loaded:
            module.run(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
