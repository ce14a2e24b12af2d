"""Legal hold on the evidence of locked selections (issue 9 item 4: "Files apply a legal hold or
retention to locked objects").

submission publishes `selection-locked` for each student held at a lock, with the lock version
and every locked file (kind, outcome / performance id, SHA-256 of the locked version: the
held copy's fingerprint). files consumes it on its own queue (a pika thread, like `sealed`:
files/sealing.py) and, for the student's school year:

1. finds each locked file's stored version (same tenant, same student, subject id and
   SHA-256; an event without `files`, published before the field existed, names outcome ids:
   their newest stored attempt);
2. puts an S3 legal hold on each (the version cannot be deleted or overwritten, by anyone,
   until the hold is lifted);
3. lifts the hold of every version the student's previously applied lock held and this one
   does not (an unlock for a correction, then a re-lock with another selection), unless
   another locked selection still holds it;
4. records the version and its files (locked_selections, locked_files).

All of it runs in one transaction holding an advisory lock on the student's year, so two
replicas never interleave two versions. Idempotent: a redelivery redoes the same S3 calls
(harmless) and writes nothing new; a version lower than the one applied is ignored (a late
redelivery of an old lock cannot release the newer set). A locked file whose outcome or
performance files holds for another student or tenant is a permanent error: the event is
dead-lettered (ops can inspect and replay it), nothing is held or released. A locked file
files holds nothing of yet (its upload not applied here yet, e.g. restored from a backup
behind the lock) has not arrived: RetryLater, so the consumer republishes it to the retry
queue and applies it once the file is there (issue 8 item 15: "an item that has not arrived
yet is retried, never dropped"); only after EVENT_RETRY_LATER_MAX_S is it dead-lettered. S3 or
database trouble: the event goes back to the queue and is retried, up to the delivery limit,
then dead-lettered. Never dropped.
"""
import logging

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from portfolio_common import events
from portfolio_common.errors import PermanentEventError, RetryLater

from .orm import locked_files, locked_selections, stored_files

log = logging.getLogger(__name__)

QUEUE = events.queue_name(events.SELECTION_LOCKED, "files", "handle_selection_locked")
HANDLERS = [(events.SELECTION_LOCKED, "submission", "files", "handle_selection_locked")]


def _missing(conn, tenant, student_id, subject_id, what):
    """The error for a locked file files does not find for the student: the subject stored for
    another student or tenant is a forged or misrouted event (PermanentEventError: dead-letter);
    a subject files holds nothing of yet has not arrived (RetryLater: retried, never dropped)."""
    c = stored_files.c
    foreign = conn.execute(sa.select(sa.literal(1)).where(
        c.subject_id == subject_id,
        sa.or_(c.tenant != tenant, c.student_id != student_id))).first()
    if foreign is not None:
        return PermanentEventError(f"selection-locked names a {what} of another student or tenant")
    return RetryLater(f"selection-locked names a {what} files does not hold yet")


def _locked_rows(conn, tenant, student_id, payload) -> list:
    """The stored_files rows the event locks (see the module doc, step 1)."""
    c = stored_files.c
    mine = sa.select(stored_files).where(c.tenant == tenant, c.student_id == student_id)
    wanted = payload.get("files")
    if wanted is None:      # an event from before `files`: the outcomes' newest attempts
        out = []
        for oid in payload["outcome_ids"]:
            row = conn.execute(mine.where(c.subject_id == oid).order_by(c.attempt.desc())).first()
            if row is None:
                raise _missing(conn, tenant, student_id, oid, "outcome")
            out.append(dict(row._mapping))
        return out
    out = []
    for f in wanted:
        row = conn.execute(mine.where(c.subject_id == f["subject_id"], c.sha256 == f["sha256"])
                           .order_by(c.attempt.desc())).first()
        if row is None:
            raise _missing(conn, tenant, student_id, f["subject_id"], f"{f['kind']} file")
        out.append(dict(row._mapping))
    return out


def _held_elsewhere(conn, tenant, file_id, student_user_id, year) -> bool:
    """Whether another student-year's current lock holds this file too."""
    s, f = locked_selections.c, locked_files.c
    q = sa.select(sa.literal(1)).select_from(locked_files.join(locked_selections, sa.and_(
        s.tenant == f.tenant, s.student_user_id == f.student_user_id, s.school_year == f.school_year,
        s.lock_version == f.lock_version))).where(
        f.file_id == file_id, f.tenant == tenant,
        sa.not_(sa.and_(f.student_user_id == student_user_id, f.school_year == year)))
    return conn.execute(q).first() is not None


def apply_selection_locked(engine, store, env) -> dict:
    """Consumer of `selection-locked` (see the module doc). Returns {held, released, skipped}:
    how many object versions were put on hold and released; skipped is True for a version
    lower than the one applied. Raises PermanentEventError (another student's or tenant's file:
    dead-letter), RetryLater (a file not stored here yet: retried at length) or the store's /
    database's errors (retried)."""
    p, tenant = env["payload"], env["tenant"]
    uid, year, sid = str(p["student_user_id"]), int(p["school_year"]), str(p["student_id"])
    version = p.get("lock_version") or 1
    with engine.begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"),
                     {"k": f"files-locked:{tenant}:{uid}:{year}"})
        s = locked_selections.c
        current = conn.execute(sa.select(locked_selections).where(
            s.tenant == tenant, s.student_user_id == uid, s.school_year == year)).first()
        if current is not None and current.lock_version > version:
            log.info("selection-locked version %s older than the applied %s: ignored", version, current.lock_version)
            return {"held": 0, "released": 0, "skipped": True}
        rows = _locked_rows(conn, tenant, sid, p)
        for r in rows:
            store.legal_hold(r["bucket"], r["key"], r["version_id"])
        keep = {str(r["id"]) for r in rows}
        released = 0
        if current is not None:
            f = locked_files.c
            before = conn.execute(sa.select(stored_files).select_from(locked_files.join(
                stored_files, stored_files.c.id == f.file_id)).where(
                f.tenant == tenant, f.student_user_id == uid, f.school_year == year,
                f.lock_version == current.lock_version)).all()
            for r in before:
                r = dict(r._mapping)
                if str(r["id"]) in keep or _held_elsewhere(conn, tenant, r["id"], uid, year):
                    continue
                store.release_hold(r["bucket"], r["key"], r["version_id"])
                released += 1
        for r in rows:
            conn.execute(insert(locked_files).values(
                tenant=tenant, student_user_id=uid, school_year=year, lock_version=version, file_id=r["id"],
                student_id=sid, sha256=r["sha256"]).on_conflict_do_nothing())
        stmt = insert(locked_selections).values(tenant=tenant, student_user_id=uid, school_year=year,
                                                student_id=sid, lock_version=version, event_id=env["event_id"])
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["tenant", "student_user_id", "school_year"],
            set_={"lock_version": version, "event_id": env["event_id"], "applied_at": sa.func.now()}))
    return {"held": len(rows), "released": released, "skipped": False}


def held_files(engine, tenant, student_user_id, school_year) -> list:
    """The stored_files rows files holds for the student's current lock of the year."""
    s, f = locked_selections.c, locked_files.c
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(stored_files).select_from(locked_files.join(stored_files, stored_files.c.id == f.file_id)
                                                .join(locked_selections, sa.and_(
                                                    s.tenant == f.tenant, s.student_user_id == f.student_user_id,
                                                    s.school_year == f.school_year,
                                                    s.lock_version == f.lock_version)))
            .where(f.tenant == tenant, f.student_user_id == student_user_id, f.school_year == school_year)).all()]
