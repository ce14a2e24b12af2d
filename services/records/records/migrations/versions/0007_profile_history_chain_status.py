"""student profile fields, hash-chained history, status changes

Revision ID: 0007
Revises: 0006

record_changes becomes a per-tenant hash chain (records/history.py): existing rows are chained
in their order of arrival, with the trigger off for the backfill only.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID  # noqa: F401

from portfolio_common import append_only

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _chain_existing_rows(conn):
    from records.history import GENESIS, row_hash
    rows = conn.execute(sa.text(
        "select c.seq, c.tenant, c.entity, c.entity_id, c.action, c.actor_user_id, c.acting_for, c.event_id, "
        "c.at, c.before, c.after, case when c.entity in ('student', 'selection') then c.entity_id::uuid "
        "else o.student_id end as student_id "
        "from record_changes c left join outcomes o on c.entity = 'outcome' and o.id::text = c.entity_id "
        "order by c.seq")).mappings().all()
    heads = {}
    for r in rows:
        n, prev = heads.get(r["tenant"], (0, GENESIS))
        e = dict(r, chain_seq=n + 1, prev_hash=prev, actor_username=None)
        e["hash"] = row_hash(e)
        heads[r["tenant"]] = (n + 1, e["hash"])
        conn.execute(sa.text("update record_changes set chain_seq=:c, prev_hash=:p, hash=:h, student_id=:s "
                             "where seq=:seq"),
                     {"c": e["chain_seq"], "p": prev, "h": e["hash"], "s": r["student_id"], "seq": r["seq"]})


def upgrade():
    # --- student profile (issue 8 item 1)
    for name, type_ in (("birth_date", sa.Date()), ("gender", sa.String(2)), ("school_code", sa.String(10)),
                        ("group_code", sa.String(10)), ("department_code", sa.String(10)),
                        ("class_type_code", sa.String(4)), ("division_code", sa.String(4)),
                        ("enrolment_route", sa.String(10)), ("status_changed_on", sa.Date()),
                        ("updated_at", sa.DateTime(timezone=True))):
        op.add_column("students", sa.Column(name, type_, nullable=True))
    op.add_column("students", sa.Column("status", sa.String(20), nullable=False, server_default="enrolled"))
    op.add_column("students", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))

    # --- the history becomes a hash chain per tenant (issue 8 item 12)
    append_only.disable(op, "record_changes")
    op.alter_column("record_changes", "entity_id", type_=sa.String(64), postgresql_using="entity_id::text")
    op.alter_column("record_changes", "actor_user_id", nullable=True)
    op.alter_column("record_changes", "at", server_default=None)
    for name, type_ in (("chain_seq", sa.BigInteger()), ("student_id", UUID(as_uuid=True)),
                        ("actor_username", sa.String(64)), ("prev_hash", sa.String(64)), ("hash", sa.String(64))):
        op.add_column("record_changes", sa.Column(name, type_, nullable=True))
    _chain_existing_rows(op.get_bind())
    for name in ("chain_seq", "prev_hash", "hash"):
        op.alter_column("record_changes", name, nullable=False)
    op.create_unique_constraint("record_changes_chain", "record_changes", ["tenant", "chain_seq"])
    op.create_index("ix_record_changes_student", "record_changes", ["tenant", "student_id"])
    op.create_index("ix_record_changes_entity", "record_changes", ["tenant", "entity", "entity_id"])
    append_only.enable(op, "record_changes")

    # --- status history (issue 8 item 2)
    op.create_table(
        "status_changes",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("student_id", UUID(as_uuid=True), sa.ForeignKey("students.id"), nullable=False),
        sa.Column("change", sa.String(30), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("other_school_code", sa.String(10)),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("semester", sa.SmallInteger(), nullable=False),
        sa.Column("note", sa.String(200)),
        sa.Column("recorded_via", sa.String(20), nullable=False),
        sa.Column("recorded_by", UUID(as_uuid=True)),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True)),
        sa.Column("voided_by", UUID(as_uuid=True)),
        sa.Column("void_reason", sa.String(200)),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.UniqueConstraint("tenant", "student_id", "change", "effective_on", name="status_changes_once"),
        sa.CheckConstraint("change in ('repeat','reinstatement','transfer_in','transfer_out',"
                           "'department_transfer','visiting_study')", name="status_changes_change"),
    )
    op.create_index("ix_status_changes_student", "status_changes", ["tenant", "student_id"])


def downgrade():
    op.drop_table("status_changes")
    append_only.disable(op, "record_changes")
    op.drop_constraint("record_changes_chain", "record_changes")
    op.drop_index("ix_record_changes_student", "record_changes")
    op.drop_index("ix_record_changes_entity", "record_changes")
    for name in ("chain_seq", "student_id", "actor_username", "prev_hash", "hash"):
        op.drop_column("record_changes", name)
    append_only.enable(op, "record_changes")
    for name in ("birth_date", "gender", "school_code", "group_code", "department_code", "class_type_code",
                 "division_code", "enrolment_route", "status_changed_on", "updated_at", "status", "version"):
        op.drop_column("students", name)
