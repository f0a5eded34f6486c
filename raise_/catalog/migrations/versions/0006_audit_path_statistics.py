"""PostgreSQL: statistics on the expression audit path globs filter on.

``fs.audit.query(resource="user-signals*")`` matches ``'/' || resource_path LIKE '%/...'``
(a glob may start after any ``/``). Without statistics on that expression PostgreSQL guesses
a handful of matching rows, scans and sorts the whole log (176 ms on 1M entries, measured)
instead of walking the timestamp index newest first (7.5 ms). Expression statistics (PostgreSQL
14+) give it the real selectivity once the table is analyzed (autovacuum does; so does the
bench). SQLite plans these queries by the order of their conditions and needs nothing.

Revision ID: 0006_audit_path_statistics
Revises: 0005_access_generation
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0006_audit_path_statistics"
down_revision = "0005_access_generation"
branch_labels = None
depends_on = None

_NAME = "audit_log_slashed_path_stats"


def upgrade() -> None:
    bind = op.get_bind()
    version = bind.dialect.server_version_info or (0,)
    if bind.dialect.name != "postgresql" or int(version[0]) < 14:
        return
    op.execute(f"CREATE STATISTICS IF NOT EXISTS {_NAME} ON (('/' || resource_path)) FROM audit_log")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {_NAME}")
