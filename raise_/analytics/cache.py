"""Stored analysis results: the catalog's ``analysis_results`` table, and optionally Redis.

The catalog keeps every computed result (one row per computation), so ``Freshness`` can reuse
one and an async job can point at its result. Redis, when ``RAISE_REDIS_URL`` names one, holds
the newest result of each analysis for an hour, shared by every process of a team and read
before the catalog. Redis is a cache only: when it is unreachable, analyses carry on without it,
and a result found there is used only while its row is in this catalog (stores with the same
paths may share one Redis).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from raise_.analytics.freshness import Freshness
from raise_.analytics.records import AnalysisRecord
from raise_.codec import from_wire, to_wire
from raise_.metadata.models import AnalysisResultModel
from raise_.runs.models import RunModel

__all__ = ["RedisResults", "ResultStore"]

log = logging.getLogger(__name__)

#: Stored results kept per analysis (spec hash); older ones go when a new one is stored.
KEEP_PER_ANALYSIS = 20


def record_of(row: AnalysisResultModel, *, from_cache: bool, current_version: str | None) -> AnalysisRecord:
    return AnalysisRecord(
        id=str(row.id),
        type=str(row.analysis_spec.get("type")),
        scope=row.scope_path,
        spec=row.analysis_spec,
        spec_hash=row.analysis_spec_hash,
        data=from_wire(row.result_data),
        data_version=row.data_version,
        computed_at=row.freshness_at,
        computed_by=row.computed_by,
        duration_ms=row.duration_ms,
        from_cache=from_cache,
        stale=current_version is not None and row.data_version != current_version,
    )


class RedisResults:
    """The newest result per analysis hash, as JSON, with a time to live."""

    def __init__(self, url: str, ttl_seconds: int = 3600) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def key(spec_hash: str) -> str:
        return f"raise:analysis:{spec_hash}"

    def get(self, spec_hash: str) -> AnalysisRecord | None:
        try:
            raw = self._client.get(self.key(spec_hash))
        except Exception as exc:  # a cache outage must not fail the analysis
            log.warning("Redis analysis cache unavailable: %s", exc)
            return None
        if raw is None:
            return None
        value = from_wire(json.loads(raw), AnalysisRecord)
        return value if isinstance(value, AnalysisRecord) else None

    def put(self, record: AnalysisRecord) -> None:
        try:
            self._client.set(
                self.key(record.spec_hash), json.dumps(to_wire(record, AnalysisRecord)), ex=self.ttl_seconds
            )
        except Exception as exc:
            log.warning("Redis analysis cache unavailable: %s", exc)

    def delete(self, spec_hash: str) -> None:
        try:
            self._client.delete(self.key(spec_hash))
        except Exception as exc:
            log.warning("Redis analysis cache unavailable: %s", exc)


class ResultStore:
    def __init__(self, redis: RedisResults | None = None) -> None:
        self.redis = redis

    def find(
        self, session: Session, spec_hash: str, current_version: str, freshness: Freshness, now: datetime
    ) -> AnalysisRecord | None:
        """A stored result that ``freshness`` accepts: the newest on the current data, else the
        newest of all (which only ``CACHED``, or ``WITHIN`` when young enough, takes)."""
        if freshness.policy == "real_time":
            return None
        if self.redis is not None:
            # Redis answers for a result on the current data; any other is looked for in the
            # catalog, which may hold one on the current data that another process computed.
            hit = self.redis.get(spec_hash)
            if (
                hit is not None
                and hit.data_version == current_version
                and self._accepts(freshness, hit.computed_at, hit.data_version, current_version, now)
                and self._in_catalog(session, hit)
            ):
                return replace(hit, from_cache=True, stale=False)
        same = session.scalars(
            select(AnalysisResultModel)
            .where(
                AnalysisResultModel.analysis_spec_hash == spec_hash,
                AnalysisResultModel.data_version == current_version,
            )
            .order_by(AnalysisResultModel.freshness_at.desc())
            .limit(1)
        ).first()
        if same is None and freshness.policy == "same_data":
            return None  # only a result on the current data would do: no older one is looked for
        newest = (
            same
            or session.scalars(
                select(AnalysisResultModel)
                .where(AnalysisResultModel.analysis_spec_hash == spec_hash)
                .order_by(AnalysisResultModel.freshness_at.desc())
                .limit(1)
            ).first()
        )
        if newest is None:
            return None
        if not self._accepts(freshness, newest.freshness_at, newest.data_version, current_version, now):
            return None
        return record_of(newest, from_cache=True, current_version=current_version)

    @staticmethod
    def _in_catalog(session: Session, hit: AnalysisRecord) -> bool:
        """Whether a result from Redis is one of this catalog's: stores with the same paths and
        commit numbers can share a Redis, and a job's result must be a row here."""
        try:
            key = uuid.UUID(hit.id)
        except ValueError:
            return False
        found = session.scalar(
            select(AnalysisResultModel.id).where(
                AnalysisResultModel.id == key, AnalysisResultModel.analysis_spec_hash == hit.spec_hash
            )
        )
        return found is not None

    @staticmethod
    def _accepts(freshness: Freshness, computed_at: datetime, version: str, current: str, now: datetime) -> bool:
        # A result on a clock-relative window ("end='now'") is never exact for a later call.
        same = version == current and not current.endswith("@now")
        return freshness.accepts((now - computed_at).total_seconds(), same)

    def save(
        self,
        session: Session,
        *,
        org_id: uuid.UUID,
        scope: str,
        spec: dict[str, Any],
        spec_hash: str,
        data_version: str,
        data: dict[str, Any],
        actor: str,
        duration_ms: float,
        features: list[str],
    ) -> AnalysisRecord:
        now = datetime.now(UTC)
        row = AnalysisResultModel(
            id=uuid.uuid4(),
            org_id=org_id,
            scope_path=scope,
            analysis_spec_hash=spec_hash,
            analysis_spec=spec,
            data_version=data_version,
            features=list(features),
            result_data=to_wire(data),
            computed_by=actor,
            duration_ms=duration_ms,
            created_at=now,
            freshness_at=now,
        )
        session.add(row)
        session.flush()
        self._prune(session, spec_hash)
        record = record_of(row, from_cache=False, current_version=data_version)
        record = replace(record, data=data)
        if self.redis is not None:
            self.redis.put(record)
        return record

    @staticmethod
    def _prune(session: Session, spec_hash: str) -> None:
        """Keep the newest ``KEEP_PER_ANALYSIS`` results of an analysis (and every one a job points
        at): a notebook re-running a cell must not grow the catalog without end."""
        newest = (
            select(AnalysisResultModel.id)
            .where(AnalysisResultModel.analysis_spec_hash == spec_hash)
            .order_by(AnalysisResultModel.freshness_at.desc())
            .limit(KEEP_PER_ANALYSIS)
        )
        older = session.scalars(
            select(AnalysisResultModel.id).where(
                AnalysisResultModel.analysis_spec_hash == spec_hash, AnalysisResultModel.id.not_in(newest)
            )
        ).all()
        if not older:
            return
        # A job's result is in its run's JSON (``{"result_id": ...}``), compared as text.
        of_jobs = RunModel.result["result_id"].as_string()
        kept = set(
            session.scalars(
                select(of_jobs).where(RunModel.kind == "analysis", of_jobs.in_([str(i) for i in older]))
            ).all()
        )
        gone = [i for i in older if str(i) not in kept]
        if gone:
            session.execute(delete(AnalysisResultModel).where(AnalysisResultModel.id.in_(gone)))

    @staticmethod
    def get(session: Session, result_id: str) -> AnalysisResultModel | None:
        try:
            key = uuid.UUID(str(result_id))
        except ValueError:
            return None
        return session.get(AnalysisResultModel, key)
