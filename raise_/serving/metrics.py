"""What online serving measures in this process, for ``/metrics`` (the server extension's and
``raise serve-online``'s):

- ``raise_online_lookup_duration_seconds``: a histogram of lookups (service time, per call);
- ``raise_online_lookup_keys_total``, ``raise_online_lookups_total``;
- ``raise_online_hits_total{group}`` / ``raise_online_misses_total{group}``: entities found or not;
- ``raise_online_near_cache_hits_total``, ``raise_online_coalesced_total``: hot-key answers;
- ``raise_online_materializations_total{group, mode}``, ``raise_online_materialized_entities_total{group}``,
  ``raise_online_materialize_failures_total{group}``;
- ``raise_online_commits_behind{group}``, ``raise_online_lag_seconds{group}``: freshness, as last
  looked at (the scrape refreshes it for the online groups).

Plain counters under a lock; :meth:`ServingMetrics.families` turns them into
``prometheus_client`` metric families when scraped.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Final

__all__ = ["LOOKUP_BUCKETS", "SERVING_METRICS", "ServingMetrics"]

#: From a near-cache answer (microseconds) to a 5,000-key batch.
LOOKUP_BUCKETS: Final = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class ServingMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.buckets = [0] * (len(LOOKUP_BUCKETS) + 1)
            self.lookup_sum = 0.0
            self.lookups = 0
            self.keys = 0
            self.hits_by_group: dict[str, int] = defaultdict(int)
            self.misses_by_group: dict[str, int] = defaultdict(int)
            self.materializations: dict[tuple[str, str], int] = defaultdict(int)
            self.materialized_entities: dict[str, int] = defaultdict(int)
            self.materialize_failures: dict[str, int] = defaultdict(int)
            self.behind: dict[str, int] = {}
            self.lag: dict[str, float] = {}

    def lookup(self, keys: int, seconds: float) -> None:
        with self._lock:
            self.buckets[bisect.bisect_left(LOOKUP_BUCKETS, seconds)] += 1
            self.lookup_sum += seconds
            self.lookups += 1
            self.keys += keys

    def hits(self, group: str, hits: int, misses: int) -> None:
        with self._lock:
            self.hits_by_group[group] += hits
            self.misses_by_group[group] += misses

    def materialized(self, group: str, mode: str, entities: int, seconds: float) -> None:
        with self._lock:
            self.materializations[(group, mode)] += 1
            self.materialized_entities[group] += entities

    def materialize_failed(self, group: str) -> None:
        with self._lock:
            self.materialize_failures[group] += 1

    def freshness(self, group: str, behind: int, lag: float | None) -> None:
        with self._lock:
            self.behind[group] = behind
            if lag is not None:
                self.lag[group] = lag

    def families(self, near_cache_hits: int = 0, coalesced: int = 0) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        with self._lock:
            cumulative, running = [], 0
            for bound, count in zip([*map(str, LOOKUP_BUCKETS), "+Inf"], self.buckets, strict=True):
                running += count
                cumulative.append((bound, running))
            histogram = HistogramMetricFamily(
                "raise_online_lookup_duration_seconds", "Online lookups, service time per call."
            )
            histogram.add_metric([], cumulative, self.lookup_sum)
            yield histogram
            yield CounterMetricFamily("raise_online_lookups", "Online lookup calls.", value=self.lookups)
            yield CounterMetricFamily("raise_online_lookup_keys", "Entity keys looked up.", value=self.keys)
            for name, doc, table in (
                ("raise_online_hits", "Entities found in the online store.", self.hits_by_group),
                ("raise_online_misses", "Entities not in the online store.", self.misses_by_group),
                (
                    "raise_online_materialized_entities",
                    "Entities written by materializations.",
                    self.materialized_entities,
                ),
                (
                    "raise_online_materialize_failures",
                    "Materializations after a commit that failed.",
                    self.materialize_failures,
                ),
            ):
                family = CounterMetricFamily(name, doc, labels=["group"])
                for group, value in sorted(table.items()):
                    family.add_metric([group], value)
                yield family
            runs = CounterMetricFamily("raise_online_materializations", "Materializations.", labels=["group", "mode"])
            for (group, mode), value in sorted(self.materializations.items()):
                runs.add_metric([group, mode], value)
            yield runs
            behind = GaugeMetricFamily("raise_online_commits_behind", "Commits not yet online.", labels=["group"])
            for group, value in sorted(self.behind.items()):
                behind.add_metric([group], value)
            yield behind
            lag = GaugeMetricFamily("raise_online_lag_seconds", "How stale the online copy is.", labels=["group"])
            for group, seconds in sorted(self.lag.items()):
                lag.add_metric([group], seconds)
            yield lag
        yield CounterMetricFamily(
            "raise_online_near_cache_hits", "Lookups answered from the near cache.", value=near_cache_hits
        )
        yield CounterMetricFamily(
            "raise_online_coalesced", "Lookups that shared another's store read.", value=coalesced
        )


SERVING_METRICS: Final = ServingMetrics()
