"""The access generation: one counter row that triggers bump whenever a table deciding access
changes, so the permission check may keep what it loaded until then
(:mod:`raise_.governance.access_cache`).

Revision ID: 0005_access_generation
Revises: 0004_audit
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from raise_.governance import access_cache

revision = "0005_access_generation"
down_revision = "0004_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not a model of ``Base``: nothing but the triggers writes it, and emptying the catalog's
    # tables (tests TRUNCATE them) must not remove the counter.
    table = op.create_table(
        access_cache.GENERATION_TABLE,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "n": 0}])
    access_cache.install(op.get_bind())


def downgrade() -> None:
    access_cache.uninstall(op.get_bind())
    op.drop_table(access_cache.GENERATION_TABLE)
