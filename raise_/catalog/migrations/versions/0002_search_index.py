"""Trigram indexes for search_features (pg_trgm GIN on PostgreSQL, FTS5 on SQLite).

Revision ID: 0002_search_index
Revises: 0001_catalog
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

from raise_.catalog import search_index

revision = "0002_search_index"
down_revision = "0001_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    search_index.install(op.get_bind())


def downgrade() -> None:
    search_index.uninstall(op.get_bind())
