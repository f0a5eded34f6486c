"""Stored results are kept per analysis up to a bound (and every one a job points at)."""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa

from raise_ import Aggregation, FeatureStore, Freshness
from raise_.analytics.cache import KEEP_PER_ANALYSIS
from raise_.catalog.models import AnalysisResultModel

TS = pa.timestamp("us", tz="UTC")


def test_re_running_an_analysis_keeps_the_newest_results_and_the_jobs(
    fs: FeatureStore, catalog_engine: sa.Engine
) -> None:
    g = fs.create_feature_group("g", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("clicks", "int64")
    g.write(pa.table({"user_id": [1, 2], "event_time": pa.array([0, 1], type=TS), "clicks": [3, 4]}))
    spec = Aggregation(feature="clicks", metrics=["sum"])
    job_result = fs.analyze_async(Aggregation(feature="g.clicks", metrics=["sum"])).wait(timeout=30)
    ids = [g.analyze(spec, Freshness.REAL_TIME).id for _ in range(KEEP_PER_ANALYSIS + 5)]
    table = AnalysisResultModel.__table__
    with catalog_engine.connect() as conn:
        kept = {str(r) for r in conn.execute(sa.select(table.c.id)).scalars()}
    assert kept == set(ids[-KEEP_PER_ANALYSIS:]) | {job_result.id}  # the job's, older than all, stays
    assert fs.analysis_result(job_result.id).metrics == {"sum": 7}
