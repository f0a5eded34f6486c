"""Online serving: groups kept online after every commit, and the online server's API keys (issue 24).

Revision ID: 0017_online_serving
Revises: 0016_inference
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017_online_serving"
down_revision = "0016_inference"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "online_groups",
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("feature_groups.id"), primary_key=True),
        sa.Column("group_path", sa.String(512), nullable=False),
        sa.Column("features", JSON),
        sa.Column("enabled_by", sa.String(256), nullable=False),
        sa.Column("enabled_at", TS, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("projects", JSON, nullable=False),
        sa.Column("principal", sa.String(256), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS),
        sa.Column("revoked_at", TS),
        sa.Column("last_used_at", TS),
        sa.UniqueConstraint("org", "name"),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("online_groups")
