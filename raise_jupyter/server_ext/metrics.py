"""Prometheus metrics of a Raise server: ``GET {base_url}raise/v1/metrics`` (authenticated).

Requests (counted in the handlers' ``prepare``/``on_finish``, the one place every request passes):

- ``raise_http_requests_total{route, method, status}``: ``route`` is the service method of the
  route table (``get_feature``, ``read``, ...), or ``health``, ``ready``, ``metrics``, or
  ``unmatched`` for a path no route has;
- ``raise_http_request_duration_seconds{route}``: a histogram, from the start of ``prepare`` to
  the response's last byte handed to the socket;
- ``raise_http_requests_in_flight``.

The store, read when scraped (one catalog query, off the event loop):

- ``raise_store_up``: 1 when the catalog answered, else 0 (and no sizes);
- ``raise_catalog_organizations``, ``_domains``, ``_projects``, ``_feature_groups``,
  ``raise_catalog_features{status}`` (feature versions), ``raise_audit_entries``;
- ``raise_offline_store_bytes``: the DuckDB file and its write-ahead log.

Multimodal data (PRD §17.13): ``raise_blob_references_total``, ``raise_blob_validations_total``,
``raise_blob_validations_failed_total``, ``raise_blob_bytes_referenced_total`` (from the catalog),
``raise_blob_missing_rate``, ``raise_blob_invalid_rate`` (over references validated at least once),
``raise_blob_scan_duration_seconds`` and ``raise_blob_validation_duration_seconds`` (histograms of
the scans and validations this server ran).

Bulk inference (PRD §18.13, from the catalog's inference runs): ``raise_inference_samples_total``,
``raise_inference_samples_failed_total``, ``raise_inference_batch_duration_seconds`` (histogram),
``raise_inference_throughput_samples_per_sec``, ``raise_inference_gpu_utilization_percent``,
``raise_inference_gpu_memory_used_gb``, ``raise_inference_queue_depth`` (the newest run's),
``raise_inference_model_load_seconds`` and ``raise_inference_warmup_seconds`` (histograms).

Online serving (issue 24): ``raise_online_lookup_duration_seconds`` (histogram), lookups, keys,
hits and misses per group, near-cache and coalesced answers, materializations, and each online
group's ``raise_online_commits_behind`` and ``raise_online_lag_seconds``
(:mod:`raise_.serving.metrics`; freshness refreshed for the online groups at each scrape).

The scheduler: ``raise_scheduler_task_runs_total{task}``, ``raise_scheduler_task_failures_total{task}``,
``raise_scheduler_task_last_duration_seconds{task}``.

Exposition through ``prometheus_client`` (a dependency of ``jupyter_server`` itself) with a
registry per extension, so Jupyter's own ``/metrics`` and other servers in the same process stay
apart.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from raise_.serving.metrics import SERVING_METRICS

if TYPE_CHECKING:
    from raise_.service import DataService
    from raise_jupyter.server_ext.scheduler import Scheduler

__all__ = ["CONTENT_TYPE", "RequestMetrics", "StoreSizes", "store_sizes"]

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
UNMATCHED: Final = "unmatched"

# From a sub-millisecond metadata read to a long training-set query.
_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

_COUNTS = sa.text(
    "SELECT (SELECT count(*) FROM organizations), (SELECT count(*) FROM domains), "
    "(SELECT count(*) FROM projects), (SELECT count(*) FROM feature_groups), "
    "(SELECT max(last_seq) FROM audit_chain)"
)
_FEATURES = sa.text("SELECT status, count(*) FROM features GROUP BY status ORDER BY status")


@dataclass(frozen=True)
class StoreSizes:
    organizations: int
    domains: int
    projects: int
    feature_groups: int
    features: dict[str, int]  # by status
    audit_entries: int
    offline_store_bytes: int
    blobs: dict[str, Any] | None = None  # PRD §17.13: MultimodalService.blob_metrics()
    inference: dict[str, Any] | None = None  # PRD §18.13: InferenceService.inference_metrics()
    online: tuple[int, int] | None = None  # issue 24: near-cache hits and coalesced lookups


def store_sizes(service: DataService, offline_store: Path) -> StoreSizes:
    """The catalog's counts and the offline store's size on disk (call it off the event loop)."""
    with service.db.reader() as session:
        orgs, domains, projects, groups, audit = session.execute(_COUNTS).one()
        features = {str(status): int(n) for status, n in session.execute(_FEATURES).all()}
    on_disk = 0
    for path in (offline_store, offline_store.with_name(offline_store.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            on_disk += path.stat().st_size
    blobs = service.multimodal.blob_metrics()
    inference = service.inference.inference_metrics()
    online = service.online.refresh_freshness_metrics()
    counts = (int(orgs), int(domains), int(projects), int(groups))
    return StoreSizes(*counts, features, int(audit or 0), on_disk, blobs, inference, online)


@dataclass
class _Snapshot:
    """What the store collector reports in the scrape under way."""

    sizes: StoreSizes | None = None
    scheduler: Scheduler | None = None


@dataclass
class RequestMetrics:
    """The metrics of one server (its own registry)."""

    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "raise_http_requests",
            "Requests answered, by route, method and status",
            ("route", "method", "status"),
            registry=r,
        )
        self.latency = Histogram(
            "raise_http_request_duration_seconds",
            "Time to answer a request, by route",
            ("route",),
            buckets=_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("raise_http_requests_in_flight", "Requests being answered now", registry=r)
        self._snapshot = _Snapshot()
        self._scrape_lock = threading.Lock()
        r.register(_SnapshotCollector(lambda: self._snapshot))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def exposition(self, sizes: StoreSizes | None, scheduler: Scheduler | None) -> bytes:
        """The text a scrape answers, with these store sizes (None: the store did not answer)."""
        with self._scrape_lock:
            self._snapshot = _Snapshot(sizes, scheduler)
            try:
                return generate_latest(self.registry)
            finally:
                self._snapshot = _Snapshot()


class _SnapshotCollector:
    def __init__(self, snapshot: Callable[[], _Snapshot]) -> None:
        self._snapshot = snapshot

    def describe(self) -> Iterable[Metric]:
        return []  # unchecked: families vary with the store

    def collect(self) -> Iterator[Metric]:
        snap = self._snapshot()
        yield GaugeMetricFamily(
            "raise_store_up", "1 when the store's catalog answered the scrape", snap.sizes is not None
        )
        sizes = snap.sizes
        if sizes is not None:
            for name, value, text in (
                ("organizations", sizes.organizations, "Organizations in the catalog"),
                ("domains", sizes.domains, "Domains in the catalog"),
                ("projects", sizes.projects, "Projects in the catalog"),
                ("feature_groups", sizes.feature_groups, "Feature groups in the catalog"),
            ):
                yield GaugeMetricFamily(f"raise_catalog_{name}", text, value)
            features = GaugeMetricFamily(
                "raise_catalog_features", "Feature versions in the catalog, by status", labels=["status"]
            )
            for status, n in sizes.features.items():
                features.add_metric([status], n)
            yield features
            yield GaugeMetricFamily("raise_audit_entries", "Entries written to the audit log", sizes.audit_entries)
            yield GaugeMetricFamily(
                "raise_offline_store_bytes",
                "Size of the offline store on disk (DuckDB file and WAL)",
                sizes.offline_store_bytes,
            )
        if sizes is not None and sizes.blobs is not None:
            yield from _blob_metrics(sizes.blobs)
        if sizes is not None and sizes.inference is not None:
            yield from _inference_metrics(sizes.inference)
        if sizes is not None and sizes.online is not None:
            yield from SERVING_METRICS.families(*sizes.online)
        if snap.scheduler is not None:
            runs = CounterMetricFamily(
                "raise_scheduler_task_runs", "Completed runs of a scheduled task", labels=["task"]
            )
            failures = CounterMetricFamily(
                "raise_scheduler_task_failures", "Failed runs of a scheduled task", labels=["task"]
            )
            last = GaugeMetricFamily(
                "raise_scheduler_task_last_duration_seconds", "Duration of a task's last run", labels=["task"]
            )
            for task in snap.scheduler.tasks():
                runs.add_metric([task.name], task.runs)
                failures.add_metric([task.name], task.failures)
                if task.last_duration is not None:
                    last.add_metric([task.name], task.last_duration)
            yield runs
            yield failures
            yield last


def _histogram(name: str, text: str, snapshot: dict[str, Any]) -> HistogramMetricFamily:
    buckets = [(str(bound), count) for bound, count in snapshot["buckets"]]
    buckets.append(("+Inf", snapshot["count"]))
    return HistogramMetricFamily(name, text, buckets=buckets, sum_value=snapshot["sum"])


def _blob_metrics(blobs: dict[str, Any]) -> Iterator[Metric]:
    """PRD §17.13: counts from the catalog (every process sees the same), durations of this one."""
    yield CounterMetricFamily("raise_blob_references", "Blob references registered", blobs["references"])
    yield CounterMetricFamily("raise_blob_validations", "Blob validations performed", blobs["validations"])
    yield CounterMetricFamily(
        "raise_blob_validations_failed", "Blob validations that found a blob not valid", blobs["validations_failed"]
    )
    yield GaugeMetricFamily(
        "raise_blob_missing_rate", "Share of validated references whose blob is missing", blobs["missing_rate"]
    )
    yield GaugeMetricFamily(
        "raise_blob_invalid_rate", "Share of validated references whose checksum or size differs", blobs["invalid_rate"]
    )
    yield CounterMetricFamily(
        "raise_blob_bytes_referenced", "Bytes of the blobs registered references point to", blobs["bytes_referenced"]
    )
    yield _histogram("raise_blob_scan_duration_seconds", "Multimodal source scan duration", blobs["scan_durations"])
    yield _histogram(
        "raise_blob_validation_duration_seconds", "Duration of one blob validation", blobs["validation_durations"]
    )


def _inference_metrics(m: dict[str, Any]) -> Iterator[Metric]:
    """PRD §18.13, under the ``raise_`` prefix: from the catalog's inference runs."""
    yield CounterMetricFamily("raise_inference_samples", "Samples inference runs processed", m["samples"])
    yield CounterMetricFamily("raise_inference_samples_failed", "Samples inference runs failed on", m["samples_failed"])
    yield _histogram("raise_inference_batch_duration_seconds", "Per-batch model latency", m["batch_durations"])
    yield GaugeMetricFamily(
        "raise_inference_throughput_samples_per_sec", "Throughput of the newest inference run", m["throughput"]
    )
    yield GaugeMetricFamily(
        "raise_inference_gpu_utilization_percent", "GPU utilization of the newest inference run", m["gpu_utilization"]
    )
    yield GaugeMetricFamily(
        "raise_inference_gpu_memory_used_gb", "Peak GPU memory of the newest inference run", m["gpu_memory_gb"]
    )
    yield GaugeMetricFamily(
        "raise_inference_queue_depth", "Most prepared batches waiting in the newest inference run", m["queue_depth"]
    )
    yield _histogram("raise_inference_model_load_seconds", "Model loading time", m["model_load"])
    yield _histogram("raise_inference_warmup_seconds", "Warmup duration", m["warmup"])
