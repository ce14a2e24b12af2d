"""Attributable, tamper-evident history of every record (issue 8 item 12).

Every create, change and delete of a record appends one row to `record_changes`: who (user id
and username, acting for whom), when, which record (entity, entity_id, the student it is about),
what (action), and the record's fields before and after. The table is append-only in the
database (a trigger refuses UPDATE, DELETE and TRUNCATE), and the rows of each tenant form a
hash chain: row n's hash covers its content and row n-1's hash, so changing, removing or
reordering any row breaks the chain at that row, and `records.verify_history` names it.

Canonical serialisation of a row (what its hash covers), stated once here:
  the JSON object {tenant, chain_seq, entity, entity_id, student_id, action, actor_user_id,
  actor_username, acting_for, event_id, at, before, after, prev_hash}
  - UUIDs as lower-case hyphenated strings, absent values as null;
  - `at` as UTC "YYYY-MM-DDTHH:MM:SS.ffffffZ" (microseconds, as PostgreSQL keeps them);
  - before/after as stored (JSON objects of strings, integers, booleans, null, lists, objects;
    no floating-point numbers);
  serialised with keys sorted, no insignificant white space (separators "," and ":"), non-ASCII
  characters as themselves, encoded UTF-8 (RFC 8785 JSON canonicalisation for these types).
  hash = lower-case hex SHA-256 of those bytes; the first row of a tenant has prev_hash = 64 zeros.

Appends are serialised per tenant by a transaction-scoped advisory lock taken at commit time
(the chain's head is read under it), so concurrent writers never fork the chain, and the lock is
held only for the last moments of a transaction.

National IDs never enter a history row: a change records {"national_id": "changed"}.
"""
import datetime as dt
import hashlib
import json
import uuid

import sqlalchemy as sa

from portfolio_common import clock

from ..orm import record_changes

GENESIS = "0" * 64
FIELDS = ("tenant", "chain_seq", "entity", "entity_id", "student_id", "action", "actor_user_id",
          "actor_username", "acting_for", "event_id", "at", "before", "after", "prev_hash")


def _plain(value):
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    raise TypeError(f"history values must be JSON-ready without floats, not {type(value).__name__}")


def canonical(row: dict) -> bytes:
    """The bytes a row's hash covers (see the module docstring)."""
    body = {f: _plain(row.get(f)) for f in FIELDS}
    if isinstance(body["entity_id"], str):
        body["entity_id"] = body["entity_id"].lower()
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def row_hash(row: dict) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


NATIONAL_ID_MARK = "changed"


def snapshot(values: dict) -> dict:
    """A record's fields as a history row keeps them: JSON-ready, and never a national ID (its
    encrypted form and keyed hash are dropped; a plain number is replaced by a mark)."""
    out = {}
    for k, v in values.items():
        if k in ("national_id_enc", "national_id_hash"):
            continue
        if k == "national_id":  # only ever a mark: "set" (created) or "changed"
            out[k] = v if v in ("set", NATIONAL_ID_MARK) else NATIONAL_ID_MARK
        else:
            out[k] = _plain(v)
    return out


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that changed, (before, after). A changed national ID (seen as a changed
    keyed hash) is recorded as {"national_id": "changed"} on both sides, never the number."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    b = {k: before.get(k) for k in keys if k != "national_id_hash"}
    a = {k: after.get(k) for k in keys if k != "national_id_hash"}
    if "national_id_hash" in keys:
        b["national_id"] = a["national_id"] = None
    return snapshot(b), snapshot(a)


def _entry(tenant, entity, entity_id, action, actor, *, student_id=None, actor_username=None,
           before=None, after=None, acting_for=None, event_id=None):
    return {"tenant": tenant, "entity": entity, "entity_id": str(entity_id),
            "student_id": str(student_id) if student_id else None, "action": action,
            "actor_user_id": str(actor) if actor else None, "actor_username": actor_username,
            "acting_for": str(acting_for) if acting_for else None,
            "event_id": str(event_id) if event_id else None, "at": clock.now(),
            "before": snapshot(before) if before is not None else None,
            "after": snapshot(after) if after is not None else None}


def first_broken_link(rows) -> dict | None:
    """rows: one tenant's history in chain order (dicts with FIELDS + seq + hash).
    None when the chain holds; else {chain_seq, seq, reason} of the first row that breaks it."""
    prev, expected = GENESIS, 1
    for r in rows:
        where = {"tenant": r["tenant"], "chain_seq": r["chain_seq"], "seq": r.get("seq")}
        if r["chain_seq"] != expected:
            return where | {"reason": f"row {expected} of the chain is missing (found {r['chain_seq']})"}
        if r["prev_hash"] != prev:
            return where | {"reason": "its link to the previous row does not match (a row before it "
                                      "was changed, removed or reordered)"}
        if row_hash(r) != r["hash"]:
            return where | {"reason": "its content does not match its hash (the row was altered)"}
        prev, expected = r["hash"], expected + 1
    return None


def last_username(history, tenant, entity, entity_id, student_id, user_id) -> str | None:
    """The username `user_id` last acted under on this record or its student's, for a row an
    event attributes to a person by user id only (an uploaded proof: the ticket's holder, as a
    rule the unit that entered the item). None when records never saw them act."""
    if not user_id:
        return None
    rows = history.of_record(tenant, entity, str(entity_id)) + history.of_student(tenant, student_id)
    return next((r["actor_username"] for r in reversed(rows)
                 if r.get("actor_user_id") and str(r["actor_user_id"]) == str(user_id) and r.get("actor_username")),
                None)


class SqlHistory:
    """History rows buffered during a unit of work and chained at commit (flush)."""

    def __init__(self, session):
        self.s = session
        self._pending = []

    def record(self, tenant, entity, entity_id, action, actor, **kw):
        self._pending.append(_entry(tenant, entity, entity_id, action, actor, **kw))

    def flush(self):
        by_tenant = {}
        for e in self._pending:
            by_tenant.setdefault(e["tenant"], []).append(e)
        self._pending = []
        for tenant in sorted(by_tenant):  # one order for every writer: no lock cycles
            self.s.execute(sa.text("select pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                           {"k": f"records.history:{tenant}"})
            head = self.s.execute(sa.select(record_changes.c.chain_seq, record_changes.c.hash)
                                  .where(record_changes.c.tenant == tenant)
                                  .order_by(record_changes.c.chain_seq.desc()).limit(1)).first()
            seq, prev = (head.chain_seq, head.hash) if head else (0, GENESIS)
            rows = []
            for e in by_tenant[tenant]:
                seq += 1
                e = dict(e, chain_seq=seq, prev_hash=prev)
                e["hash"] = prev = row_hash(e)
                rows.append(e)
            self.s.execute(record_changes.insert(), rows)

    def of_student(self, tenant, student_id) -> list:
        return self._select(record_changes.c.tenant == tenant, record_changes.c.student_id == student_id)

    def of_record(self, tenant, entity, entity_id) -> list:
        return self._select(record_changes.c.tenant == tenant, record_changes.c.entity == entity,
                            record_changes.c.entity_id == entity_id)

    def _select(self, *where):
        rows = self.s.execute(sa.select(record_changes).where(*where).order_by(record_changes.c.chain_seq)).all()
        return [dict(r._mapping) for r in rows]


class FakeHistory:
    """The same chain in memory, for unit tests of use cases."""

    def __init__(self):
        self.rows = []
        self._pending = []

    def record(self, tenant, entity, entity_id, action, actor, **kw):
        self._pending.append(_entry(tenant, entity, entity_id, action, actor, **kw))

    def flush(self):
        for e in self._pending:
            mine = [r for r in self.rows if r["tenant"] == e["tenant"]]
            e = dict(e, chain_seq=len(mine) + 1, prev_hash=mine[-1]["hash"] if mine else GENESIS,
                     seq=len(self.rows) + 1)
            e["hash"] = row_hash(e)
            self.rows.append(e)
        self._pending = []

    def discard(self):
        self._pending = []

    def of_student(self, tenant, student_id):
        return [r for r in self.rows if r["tenant"] == tenant and r["student_id"] == str(student_id)]

    def of_record(self, tenant, entity, entity_id):
        return [r for r in self.rows if r["tenant"] == tenant and r["entity"] == entity
                and r["entity_id"] == str(entity_id)]
