"""Verify the hash chain of the records history; name the first broken link.

    portfolio-records-verify-history [--tenant day] [--database-url URL]
    python -m records.verify_history ...

Reads `record_changes` of each tenant in chain order and recomputes every row's hash
(records/history.py states the canonical serialisation). Prints one line per tenant:
  OK day: 1234 rows, head 1234 <hash>
or for the first broken link
  BROKEN day: chain_seq 17 (seq 17): its content does not match its hash (the row was altered)
Exit status 0 when every chain holds, 1 when one is broken, 2 when the database cannot be read.
Keep the printed head somewhere else: a chain cut off at its end is caught by comparing heads
(--expect-head day:1234:<hash>).
"""
import argparse
import sys

import sqlalchemy as sa

from portfolio_common.config import database_url

from .history import first_broken_link
from .orm import record_changes


def verify(engine, tenant=None, batch=5000):
    """[(tenant, rows, head_seq, head_hash, broken or None)] for each tenant (or the one given)."""
    out = []
    with engine.connect() as c:
        tenants = [tenant] if tenant else list(c.execute(
            sa.select(record_changes.c.tenant).distinct().order_by(record_changes.c.tenant)).scalars())
        for t in tenants:
            rows = (dict(r._mapping) for r in c.execution_options(yield_per=batch).execute(
                sa.select(record_changes).where(record_changes.c.tenant == t).order_by(record_changes.c.chain_seq)))
            seen = {"n": 0, "last": None}

            def counted(it):
                for r in it:
                    seen["n"] += 1
                    seen["last"] = r
                    yield r
            broken = first_broken_link(counted(rows))
            last = seen["last"]
            out.append((t, seen["n"], last["chain_seq"] if last else 0, last["hash"] if last else None, broken))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="portfolio-records-verify-history", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tenant")
    p.add_argument("--database-url", default=None)
    p.add_argument("--expect-head", action="append", default=[], metavar="TENANT:SEQ:HASH")
    a = p.parse_args(argv)
    try:
        engine = sa.create_engine(a.database_url or database_url("records"))
        results = verify(engine, a.tenant)
    except sa.exc.SQLAlchemyError as exc:
        print(f"ERROR cannot read the history: {type(exc).__name__}", file=sys.stderr)
        return 2
    expected = {}
    for e in a.expect_head:
        t, _, rest = e.partition(":")
        seq, _, h = rest.partition(":")
        expected[t] = (int(seq), h)
    ok = True
    for tenant, n, head_seq, head_hash, broken in results:
        if broken:
            ok = False
            print(f"BROKEN {tenant}: chain_seq {broken['chain_seq']} (seq {broken['seq']}): {broken['reason']}")
            continue
        if tenant in expected and expected[tenant] != (head_seq, head_hash):
            want_seq = expected[tenant][0]
            ok = False
            print(f"BROKEN {tenant}: chain_seq {min(want_seq, head_seq) + 1}: the chain does not reach the "
                  f"expected head {want_seq} (rows were cut off or replaced at its end)")
            continue
        print(f"OK {tenant}: {n} rows, head {head_seq} {head_hash or '-'}")
    for t in sorted(set(expected) - {r[0] for r in results}):
        ok = False
        print(f"BROKEN {t}: chain_seq 1: no history at all, expected a head at {expected[t][0]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
