"""Audit log (PRD §10): chain the entries written before the chain existed, start the chain
head, make ``audit_log`` append-only (triggers refusing UPDATE, and DELETE outside the
retention purge), and index actor organizations per organization.

Revision ID: 0004_audit
Revises: 0003_governance
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from raise_.governance import audit_guard
from raise_.governance.audit import CHAIN_HEAD_ID, GENESIS_HASH, chain_hash
from raise_.metadata.models import JsonType, UTCDateTime

revision = "0004_audit"
down_revision = "0003_governance"
branch_labels = None
depends_on = None

_log = sa.table(
    "audit_log",
    sa.column("id", sa.Uuid()),
    sa.column("timestamp", UTCDateTime()),
    sa.column("org_id", sa.Uuid()),
    sa.column("actor", sa.String()),
    sa.column("actor_org", sa.String()),
    sa.column("action", sa.String()),
    sa.column("resource_type", sa.String()),
    sa.column("resource_id", sa.Uuid()),
    sa.column("resource_path", sa.String()),
    sa.column("metadata", JsonType),
    sa.column("ip_address", sa.String()),
    sa.column("user_agent", sa.String()),
    sa.column("seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String()),
    sa.column("entry_hash", sa.String()),
)
_chain = sa.table("audit_chain", sa.column("id", sa.Integer()), sa.column("last_seq"), sa.column("last_hash"))


def upgrade() -> None:
    conn = op.get_bind()
    # Entries written before the chain existed are chained in the order they were written.
    last = conn.execute(sa.select(_log.c.seq, _log.c.entry_hash).order_by(_log.c.seq.desc()).limit(1)).first()
    seq, prev = (int(last[0]), str(last[1])) if last and last[0] is not None else (0, GENESIS_HASH)
    unchained = conn.execute(
        sa.select(_log).where(_log.c.seq.is_(None)).order_by(_log.c.timestamp, _log.c.id)
    ).mappings()
    updates = []
    for row in unchained:
        seq += 1
        digest = chain_hash(prev, dict(row))
        updates.append({"row_id": row["id"], "seq": seq, "prev_hash": prev, "entry_hash": digest})
        prev = digest
    if updates:
        conn.execute(
            _log.update()
            .where(_log.c.id == sa.bindparam("row_id"))
            .values(
                seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev_hash"), entry_hash=sa.bindparam("entry_hash")
            ),
            updates,
        )
    conn.execute(_chain.delete().where(_chain.c.id == CHAIN_HEAD_ID))
    conn.execute(_chain.insert().values(id=CHAIN_HEAD_ID, last_seq=seq, last_hash=prev))
    audit_guard.install(conn)
    # Queries always name the organization; an actor-org filter then reads only its own rows.
    op.drop_index("idx_audit_actor_org", table_name="audit_log")
    op.create_index("idx_audit_org_actor_org", "audit_log", ["org_id", "actor_org", "timestamp"])


def downgrade() -> None:
    op.drop_index("idx_audit_org_actor_org", table_name="audit_log")
    op.create_index("idx_audit_actor_org", "audit_log", ["actor_org"])
    audit_guard.uninstall(op.get_bind())
