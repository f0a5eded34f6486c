"""Chained inference (README *Chained Inference*, PRD §18.11): job 2 reads what job 1 writes and
runs when it changes (``Schedule.on_change``), driven by the store's scheduler on a manual clock."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from raise_ import FeatureGroupSource, FeatureStore, Schedule, Target
from raise_.engine import Engine
from raise_.jobs.service import JOB_WATCH_KIND, register_job_schedules
from raise_.scheduling import ManualClock, Scheduler
from raise_.transforms import inference_transform

TEXTS = ["a", "bb", "ccc dd", "eeee ffff ggg", "h"]


@pytest.fixture
def store_env(fresh_store: Any) -> Any:  # embedded: the test drives the store's own scheduler
    return fresh_store


@inference_transform(name="count_chars", inputs=["text"], outputs={"n": "chars"}, batch_size=2)
def count_chars(context, batch):  # type: ignore[no-untyped-def]
    import numpy as np

    return {"n": np.array([len(t) for t in batch["text"]], dtype=np.float64)}


@inference_transform(name="score", inputs=["chars"], outputs={"s": "score"}, batch_size=2)
def score(context, batch):  # type: ignore[no-untyped-def]
    import numpy as np

    return {"s": np.sqrt(np.asarray(batch["chars"], dtype=np.float64)) * 10}


def _wait(job: Any, count: int, timeout: float = 60) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        runs = job.runs
        if len(runs) >= count and all(r.finished for r in runs):
            return runs
        assert time.monotonic() < deadline, [r.status for r in runs]
        time.sleep(0.1)


def test_job_two_runs_when_job_one_writes(open_fs: FeatureStore) -> None:
    docs = open_fs.create_feature_group("docs", entity_keys=["doc_id"], event_time="event_time")
    docs.create_features_from_schema({"text": "string"})
    docs.write(
        pd.DataFrame({"doc_id": range(len(TEXTS)), "event_time": pd.Timestamp("2026-12-01", tz="UTC"), "text": TEXTS})
    )
    for name in ("doc-chars", "doc-scores"):
        open_fs.create_feature_group(name, entity_keys=["doc_id"], event_time="event_time")
    job1 = open_fs.create_job(
        name="step1",
        sources=[FeatureGroupSource(group="docs")],
        transform=count_chars,
        target=Target(feature_group="doc-chars", write_mode="upsert", key_columns=["doc_id"]),
    )
    job2 = open_fs.create_job(
        name="step2",
        sources=[FeatureGroupSource(group="doc-chars", name="chars_in")],
        transform=score,
        target=Target(feature_group="doc-scores", write_mode="upsert", key_columns=["doc_id"]),
        schedule=Schedule.on_change(sources=["chars_in"], poll_seconds=30),
    )
    job2.activate()
    service = Engine.shared(open_fs._settings).service
    (item,) = [i for i in service.jobs._scheduler().items() if i.kind == JOB_WATCH_KIND]
    clock = ManualClock(item.next_due_at)
    scheduler = Scheduler(service.db, runs=service.runs, clock=clock)
    register_job_schedules(scheduler, service.jobs)

    def tick() -> list[Any]:
        return [o for o in scheduler.tick() if o.kind == JOB_WATCH_KIND]

    try:
        assert tick()[0].result == {"changed": []}  # the first look only remembers
        assert job1.run().status == "succeeded"
        clock.advance(seconds=30)
        assert tick()[0].result["changed"] == ["chars_in"]
        (run,) = _wait(job2, 1)
        assert run.status == "succeeded" and run.trigger == "on_change", run.error
        scores = open_fs.feature_group("doc-scores").read().to_pandas().sort_values("doc_id")
        expected = np.sqrt([len(t) for t in TEXTS]) * 10
        np.testing.assert_allclose(scores["score"].to_numpy(), expected)
        assert run.inference_result.total_samples == len(TEXTS)
        clock.advance(seconds=30)
        assert tick()[0].result == {"changed": []}  # nothing new: no run
        assert len(job2.runs) == 1
    finally:
        scheduler.stop()
