"""Database helpers shared by the services: engine, messaging tables, migrations at start."""
import hashlib
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker


def make_engine(url: str, **kw):
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("pool_size", 5)
    kw.setdefault("max_overflow", 10)
    return sa.create_engine(url, **kw)


def make_session_factory(engine):
    return sessionmaker(bind=engine, expire_on_commit=False)


def ensure_database(url: str):
    """Create the service's database if it does not exist (idempotent, race-safe)."""
    u = make_url(url)
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            exists = c.execute(sa.text("select 1 from pg_database where datname=:n"),
                               {"n": u.database}).first()
            if not exists:
                try:
                    c.execute(sa.text(f'create database "{u.database}"'))
                except (sa.exc.ProgrammingError, sa.exc.IntegrityError):
                    # created concurrently by a replica or another worker: PostgreSQL reports
                    # that race as a unique violation on pg_database
                    pass
    finally:
        admin.dispose()


def drop_database(url: str):
    u = make_url(url)
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'drop database if exists "{u.database}" with (force)'))
    admin.dispose()


def run_migrations(engine, script_location: str):
    """alembic upgrade head, serialised across replicas by an advisory lock."""
    from alembic import command
    from alembic.config import Config

    lock_id = int(hashlib.sha1(script_location.encode()).hexdigest()[:12], 16)
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    with engine.begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": lock_id})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def check_schema_current(engine, script_location: str, service: str):
    """Refuse to start on a database the migrate step has not brought to the code's head.

    The running service has no right to migrate (its role owns nothing): the migrate step
    (`python -m portfolio_common.migrate`, the launcher, compose's `migrate` one-shot) does it.
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    try:
        with engine.connect() as conn:
            current = set(conn.execute(sa.text("select version_num from alembic_version")).scalars())
    except sa.exc.ProgrammingError:
        current = set()
    if current != heads:
        raise RuntimeError(
            f"{service}: the database schema is at {sorted(current) or 'nothing'}, this code needs "
            f"{sorted(heads)}: run the migrate step first (python -m portfolio_common.migrate {service})")


def messaging_tables(metadata: sa.MetaData):
    """The outbox and the processed-events ledger, present in every producing/consuming DB."""
    outbox = sa.Table(
        "outbox", metadata,
        sa.Column("id", UUID(as_uuid=True), primary_key=True, default=uuid.uuid4),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("exchange", sa.String(100), nullable=False),
        sa.Column("routing_key", sa.String(100), nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        # Set when the broker could not route the row: the relay skips it until then (parked).
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    )
    sa.Index("ix_outbox_unsent", outbox.c.seq, postgresql_where=outbox.c.sent_at.is_(None))
    processed = sa.Table(
        "processed_events", metadata,
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("handler", sa.String(120), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    return outbox, processed


def add_outbox_event(session, outbox_table, envelope: dict):
    """Write an event in the caller's transaction; the relay publishes it after commit."""
    from .events import exchange_for
    stmt = _OUTBOX_INSERTS.get(outbox_table)
    if stmt is None:  # one statement per outbox table, built once (no per-event construction)
        stmt = _OUTBOX_INSERTS.setdefault(outbox_table, outbox_table.insert())
    session.execute(stmt, {"id": uuid.UUID(envelope["event_id"]),
                           "exchange": exchange_for(envelope["event"], envelope["producer"]),
                           "routing_key": envelope["event"], "body": envelope})


_OUTBOX_INSERTS: dict = {}


def claim_event(session, processed_table, event_id: str, handler: str) -> bool:
    """Record event_id in the caller's transaction. False means: already applied, do nothing."""
    stmt = _CLAIMS.get(processed_table)
    if stmt is None:  # one statement per table, built once: every event of every service claims
        stmt = _CLAIMS.setdefault(processed_table, insert(processed_table).on_conflict_do_nothing())
    res = session.execute(stmt, {"event_id": uuid.UUID(event_id), "handler": handler})
    return res.rowcount == 1


_CLAIMS: dict = {}


def claim_events(session, processed_table, event_ids, handler: str) -> set:
    """Record several event ids in the caller's transaction with one statement (a batch of
    events, nameko_kit.BatchEventHandler); returns the ids (as given) claimed now. An id
    already applied, or repeated in `event_ids`, is claimed at most once. The rows are written
    in one order (sorted) so two batches that share an id cannot deadlock."""
    ids = sorted({str(uuid.UUID(str(e))) for e in event_ids})
    if not ids:
        return set()
    res = session.execute(insert(processed_table).values([{"event_id": uuid.UUID(i), "handler": handler} for i in ids])
                          .on_conflict_do_nothing().returning(processed_table.c.event_id))
    claimed = {str(r[0]) for r in res}
    return {e for e in event_ids if str(uuid.UUID(str(e))) in claimed}
