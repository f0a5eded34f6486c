"""Asynchronous analyses are runs (issue 17 item 3): ``analysis_jobs`` becomes a view of ``runs``.

Every job row moves to ``runs`` as a run of kind ``"analysis"`` (spec ``{scope, analysis,
freshness, org_id}``, actor the submitter, result ``{"result_id": ...}``), so one table holds all
user work and one state machine moves it. ``analysis_jobs`` stays, with its columns, as a view
of those runs: whoever reads the PRD's table (SQL users, tools, tests) reads the same rows, and an
INSERT into it (INSTEAD OF trigger) creates the run. The downgrade moves the runs back.

Revision ID: 0010_analysis_jobs_as_runs
Revises: 0009_runs_and_schedules
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010_analysis_jobs_as_runs"
down_revision = "0009_runs_and_schedules"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)

_RUN_COLUMNS = (
    "id, kind, status, trigger, actor, spec, launcher, timings, metrics, result, error_code, error_message, "
    "log, runner, created_at, started_at, ended_at"
)
_JOB_COLUMNS = (
    "id, org_id, scope_path, analysis_spec, freshness, status, result_id, error_code, error_message, "
    "submitted_by, runner, created_at, started_at, completed_at"
)


def _sqlite_uuid_text(hex32: str) -> str:
    """SQLite stores a UUID as 32 hex digits; runs' JSON holds its usual text."""
    parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
    return "lower(" + " || '-' || ".join(f"substr({hex32}, {a}, {n})" for a, n in parts) + ")"


def _run_values(dialect: str, src: str) -> str:
    """The VALUES / SELECT list of a run made from a job (``src``: ``NEW.`` in a trigger, or ``''``)."""
    if dialect == "postgresql":
        spec = (
            f"jsonb_build_object('scope', {src}scope_path, 'analysis', {src}analysis_spec, "
            f"'freshness', COALESCE({src}freshness, 'real_time'), 'org_id', {src}org_id::text)"
        )
        result = f"jsonb_build_object('result_id', {src}result_id::text)"
        empty, now = "'{}'::jsonb", "now()"
    else:
        spec = (
            f"json_object('scope', {src}scope_path, 'analysis', json({src}analysis_spec), "
            f"'freshness', COALESCE({src}freshness, 'real_time'), 'org_id', {_sqlite_uuid_text(f'{src}org_id')})"
        )
        result = f"json_object('result_id', {_sqlite_uuid_text(f'{src}result_id')})"
        empty, now = "'{}'", "CURRENT_TIMESTAMP"
    return (
        f"{src}id, 'analysis', {src}status, 'manual', {src}submitted_by, {spec}, 'analysis', {empty}, {empty}, "
        f"CASE WHEN {src}result_id IS NULL THEN NULL ELSE {result} END, {src}error_code, {src}error_message, '', "
        f"{src}runner, COALESCE({src}created_at, {now}), {src}started_at, {src}completed_at"
    )


def _view(dialect: str) -> str:
    if dialect == "postgresql":
        cols = (
            "(spec->>'org_id')::uuid AS org_id, spec->>'scope' AS scope_path, spec->'analysis' AS analysis_spec, "
            "spec->>'freshness' AS freshness, status, (result->>'result_id')::uuid AS result_id"
        )
    else:
        cols = (
            "json_extract(spec, '$.org_id') AS org_id, json_extract(spec, '$.scope') AS scope_path, "
            "json_extract(spec, '$.analysis') AS analysis_spec, json_extract(spec, '$.freshness') AS freshness, "
            "status, json_extract(result, '$.result_id') AS result_id"
        )
    return (
        f"CREATE VIEW analysis_jobs AS SELECT id, {cols}, error_code, error_message, actor AS submitted_by, "
        "runner, created_at, started_at, ended_at AS completed_at FROM runs WHERE kind = 'analysis'"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(f"INSERT INTO runs ({_RUN_COLUMNS}) SELECT {_run_values(dialect, '')} FROM analysis_jobs")
    op.drop_index("idx_jobs_submitter", table_name="analysis_jobs")
    op.drop_index("idx_jobs_status", table_name="analysis_jobs")
    op.drop_table("analysis_jobs")
    op.execute(_view(dialect))
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION analysis_jobs_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES ({_run_values(dialect, 'NEW.')}); RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER analysis_jobs_insert INSTEAD OF INSERT ON analysis_jobs "
            "FOR EACH ROW EXECUTE FUNCTION analysis_jobs_insert()"
        )
    else:
        op.execute(
            "CREATE TRIGGER analysis_jobs_insert INSTEAD OF INSERT ON analysis_jobs BEGIN "
            f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES ({_run_values(dialect, 'NEW.')}); END"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP TRIGGER IF EXISTS analysis_jobs_insert" + (" ON analysis_jobs" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS analysis_jobs_insert()")
    op.execute("CREATE TABLE analysis_jobs_moved AS SELECT * FROM analysis_jobs")
    op.execute("DROP VIEW analysis_jobs")
    op.create_table(
        "analysis_jobs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("scope_path", sa.String(512), nullable=False),
        sa.Column("analysis_spec", JSON, nullable=False),
        sa.Column("freshness", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("result_id", sa.Uuid(), sa.ForeignKey("analysis_results.id")),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text()),
        sa.Column("submitted_by", sa.String(256), nullable=False),
        sa.Column("runner", sa.String(256)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("completed_at", TS),
    )
    op.create_index("idx_jobs_status", "analysis_jobs", ["status"])
    op.create_index("idx_jobs_submitter", "analysis_jobs", ["submitted_by", "created_at"])
    if dialect == "postgresql":
        select = _JOB_COLUMNS
    else:  # back to 32 hex digits; a result pruned meanwhile is dropped (the table's foreign key)
        select = _JOB_COLUMNS.replace("org_id,", "replace(org_id, '-', ''),").replace(
            "result_id,", "replace(result_id, '-', ''),"
        )
    op.execute(
        f"INSERT INTO analysis_jobs ({_JOB_COLUMNS}) SELECT {select} FROM analysis_jobs_moved "
        "WHERE status <> 'timed_out'"
    )
    op.execute("DROP TABLE analysis_jobs_moved")
    op.execute("DELETE FROM runs WHERE kind = 'analysis'")
