"""Migration 0010 (issue 17 item 3): the jobs of ``analysis_jobs`` move to ``runs`` as runs of kind
``"analysis"``, and ``analysis_jobs`` stays readable (and insertable) as a view of them; the
downgrade moves them back. On both catalog backends, with a job that points at its result."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from raise_.catalog.database import CatalogDatabase, _alembic_config, head_revision
from raise_.catalog.models import AnalysisJobModel, AnalysisResultModel
from raise_.runs.models import RunModel
from raise_.runs.service import RunService

JOBS, RESULTS, RUNS = AnalysisJobModel.__table__, AnalysisResultModel.__table__, RunModel.__table__

SPEC = {"type": "aggregation", "feature": "clicks", "metrics": ["sum"]}
WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _to(url: str, revision: str, down: bool = False) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)
    engine.dispose()


def test_jobs_move_to_runs_and_back(catalog_url: str) -> None:
    db = CatalogDatabase(catalog_url)
    db.migrate()
    db.dispose()
    _to(catalog_url, "0009_runs_and_schedules", down=True)
    job, result, org = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    engine = sa.create_engine(catalog_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(RESULTS).values(
                id=result,
                org_id=org,
                scope_path="acme/ml/rec/g",
                analysis_spec_hash="h",
                analysis_spec=SPEC,
                data_version="v",
                features=["clicks@1"],
                result_data={},
                duration_ms=1.0,
                created_at=WHEN,
                freshness_at=WHEN,
            )
        )
        conn.execute(
            sa.insert(JOBS).values(
                id=job,
                org_id=org,
                scope_path="acme/ml/rec/g",
                analysis_spec=SPEC,
                freshness="within:1h",
                status="completed",
                result_id=result,
                submitted_by="alice@acme",
                runner="host:1",
                created_at=WHEN,
                started_at=WHEN,
                completed_at=WHEN,
            )
        )
    engine.dispose()

    _to(catalog_url, "head")
    db = CatalogDatabase(catalog_url)
    assert db.current_revision() == head_revision()
    run = RunService(db, lambda: "alice@acme", launchers={}).get(str(job))
    assert (run.kind, run.status, run.actor, run.runner) == ("analysis", "completed", "alice@acme", "host:1")
    assert run.spec == {"scope": "acme/ml/rec/g", "analysis": SPEC, "freshness": "within:1h", "org_id": str(org)}
    assert run.result == {"result_id": str(result)} and run.ended_at == WHEN
    with db.reader() as s:
        row = s.get(AnalysisJobModel, job)
        assert row is not None
        seen = (row.org_id, row.scope_path, row.analysis_spec, row.freshness, row.status, row.result_id)
        assert seen == (org, "acme/ml/rec/g", SPEC, "within:1h", "completed", result)
        assert (row.submitted_by, row.completed_at) == ("alice@acme", WHEN)
    db.dispose()

    _to(catalog_url, "0009_runs_and_schedules", down=True)
    engine = sa.create_engine(catalog_url)
    with engine.connect() as conn:
        back = conn.execute(sa.select(JOBS.c.id, JOBS.c.org_id, JOBS.c.result_id, JOBS.c.analysis_spec)).all()
        assert conn.execute(sa.select(sa.func.count()).select_from(RUNS)).scalar_one() == 0
    engine.dispose()
    assert [tuple(r) for r in back] == [(job, org, result, SPEC)]
    _to(catalog_url, "head")
