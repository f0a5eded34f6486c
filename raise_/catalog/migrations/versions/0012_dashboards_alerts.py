"""Dashboards, analytics alerts with their evaluations, and notification deliveries (PRD §3,
§13, §14; issue 19).

Revision ID: 0012_dashboards_alerts
Revises: 0011_live_tables
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012_dashboards_alerts"
down_revision = "0011_live_tables"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dashboards",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("charts", JSON, nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("layout", JSON, nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_url", sa.String(512)),
        sa.Column("refresh_seconds", sa.Integer()),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("snapshot", JSON),
        sa.Column("snapshot_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("org_id", "name"),
    )
    op.create_index("ix_dashboards_org_id", "dashboards", ["org_id"])
    op.create_table(
        "analytics_alerts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("group_path", sa.String(512), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("analysis_spec", JSON, nullable=False),
        sa.Column("condition_spec", JSON, nullable=False),
        sa.Column("notify", JSON, nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("check_interval", sa.Integer(), nullable=False),
        sa.Column("check_on_change", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("last_check", TS),
        sa.Column("last_triggered", TS),
        sa.Column("last_value", sa.Float()),
        sa.Column("trigger_count", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text()),
        sa.Column("cursors", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("org_id", "name"),
    )
    op.create_index("ix_analytics_alerts_org_id", "analytics_alerts", ["org_id"])
    op.create_table(
        "analytics_alert_evaluations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("alert_id", sa.Uuid(), sa.ForeignKey("analytics_alerts.id"), nullable=False),
        sa.Column("evaluated_at", TS, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("triggered", sa.Boolean()),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("transition", sa.String(16)),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text()),
        sa.Column("analysis_result_id", sa.String(64)),
        sa.Column("duration_ms", sa.Float()),
    )
    op.create_index("idx_alert_evaluations_alert", "analytics_alert_evaluations", ["alert_id", "evaluated_at"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("source_kind", sa.String(32), nullable=False),
        sa.Column("source_id", sa.Uuid()),
        sa.Column("source_name", sa.String(128)),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("recipients", JSON, nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
    )
    op.create_index("idx_notification_source", "notification_deliveries", ["source_kind", "source_id", "created_at"])


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_table("analytics_alert_evaluations")
    op.drop_table("analytics_alerts")
    op.drop_table("dashboards")
