"""A job's definition as one value: what ``fs.create_job(...)`` was given, checked, and the JSON
the catalog keeps (PRD §15.10) and a run's process reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from raise_.errors import InvalidJobError
from raise_.jobs.incremental import IncrementalConfig
from raise_.jobs.quality import QualityCheck, check_from_dict
from raise_.jobs.schedules import Schedule
from raise_.jobs.sources import Source, source_from_dict
from raise_.jobs.targets import Target, target_from_value
from raise_.jobs.transforms import HybridTransform, SQLTransform, Transform, transform_from_dict
from raise_.query.parameters import parameter_names

__all__ = ["LAUNCHERS", "JobDefinition", "decode_checkpoint", "encode_checkpoint"]

#: Where a job's runs execute: a child process (the default: user code never runs in the
#: server), a thread of the store's process for trusted SQL-only jobs, or a Kubernetes Job
#: (a store whose owner configured a cluster: RAISE_K8S_KUBECONFIG).
LAUNCHERS: Final = ("subprocess", "thread", "kubernetes")


@dataclass(frozen=True)
class JobDefinition:
    sources: list[Source]
    transform: Transform
    target: Target
    schedule: Schedule = field(default_factory=Schedule.manual)
    incremental: IncrementalConfig = field(default_factory=IncrementalConfig.full)
    quality_checks: list[QualityCheck] = field(default_factory=list)
    retries: int = 0
    retry_delay_seconds: int = 300
    timeout_seconds: int = 3600
    launcher: str = "subprocess"

    def __post_init__(self) -> None:
        if not self.sources:
            raise InvalidJobError("A job needs at least one source (sources=[...]).", {"field": "sources"})
        names = [s.source_name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InvalidJobError(
                f"Two sources are named {dupes[0]!r}; give each a name= of its own "
                "(a SQL transform reads them by name).",
                {"field": "sources", "name": dupes[0]},
            )
        watched = self.schedule.sources or []
        unknown = [s for s in watched if s not in names]
        if unknown:
            raise InvalidJobError(
                f"Schedule.on_change names source {unknown[0]!r}, which the job does not read (its sources: "
                f"{', '.join(names)}).",
                {"field": "schedule.sources", "source": unknown[0]},
            )
        names_of_checks = [c.name for c in self.quality_checks]
        if len(set(names_of_checks)) != len(names_of_checks):
            raise InvalidJobError("Two quality checks have the same name.", {"field": "quality_checks"})
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or not 0 <= self.retries <= 10:
            raise InvalidJobError("retries is a whole number from 0 to 10.", {"field": "retries"})
        delay = self.retry_delay_seconds
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= 86400:
            raise InvalidJobError("retry_delay is a whole number of seconds from 0 to 86400.", {"field": "retry_delay"})
        timeout = self.timeout_seconds
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidJobError("timeout is a positive number of seconds.", {"field": "timeout"})
        sql = _sql_of(self.transform)
        if sql is not None and not self.incremental.uses_checkpoint and "checkpoint" in parameter_names(sql):
            raise InvalidJobError(
                "The SQL uses {{checkpoint}}, which has no value in a full-refresh job (it would be NULL and keep "
                "no row): make the job incremental (incremental=IncrementalConfig.incremental('event_time')) or "
                "drop the condition.",
                {"field": "transform.sql"},
            )
        if self.launcher not in LAUNCHERS:
            raise InvalidJobError(
                f"Unknown launcher {self.launcher!r}; use one of {', '.join(LAUNCHERS)}.", {"field": "launcher"}
            )
        if self.launcher == "thread" and self.transform.transform_type != "sql":
            raise InvalidJobError(
                "Python code runs in a process of its own (launcher='subprocess'): a crash or sys.exit in it must "
                "never stop the store.",
                {"field": "launcher"},
            )

    @property
    def source_names(self) -> list[str]:
        return [s.source_name for s in self.sources]

    def write_mode(self) -> str:
        """The target's write mode; ``IncrementalConfig.upsert``/``append`` decide it when given."""
        if self.incremental.mode == "upsert":
            return "upsert"
        if self.incremental.mode == "append":
            return "append"
        return self.target.write_mode

    def key_columns(self) -> list[str] | None:
        return self.target.key_columns or self.incremental.key_columns

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [s.to_dict() for s in self.sources],
            "transform": self.transform.to_dict(),
            "target": self.target.to_dict(),
            "schedule": self.schedule.to_dict(),
            "incremental": self.incremental.to_dict(),
            "quality_checks": [c.to_dict() for c in self.quality_checks],
            "retries": self.retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "timeout_seconds": self.timeout_seconds,
            "launcher": self.launcher,
        }

    @classmethod
    def build(
        cls,
        *,
        sources: Any,
        transform: Any,
        target: Any,
        schedule: Any = None,
        incremental: Any = None,
        quality_checks: Any = None,
        retries: int = 0,
        retry_delay: int = 300,
        timeout: int | float = 3600,
        launcher: str = "subprocess",
    ) -> JobDefinition:
        if isinstance(sources, Source | dict) or not isinstance(sources, list | tuple):
            sources = [sources]
        checks = quality_checks or []
        if not isinstance(checks, list | tuple):
            raise InvalidJobError("quality_checks is a list of checks.", {"field": "quality_checks"})
        return cls(
            sources=[source_from_dict(s) for s in sources],
            transform=transform_from_dict(transform),
            target=target_from_value(target),
            schedule=Schedule.from_value(schedule),
            incremental=IncrementalConfig.from_value(incremental),
            quality_checks=[check_from_dict(c) for c in checks],
            retries=retries,
            retry_delay_seconds=retry_delay,
            timeout_seconds=int(timeout)
            if isinstance(timeout, int | float) and not isinstance(timeout, bool)
            else timeout,
            launcher=launcher,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobDefinition:
        return cls.build(
            sources=list(data.get("sources") or []),
            transform=data.get("transform") or {},
            target=data.get("target") or {},
            schedule=data.get("schedule"),
            incremental=data.get("incremental"),
            quality_checks=list(data.get("quality_checks") or []),
            retries=int(data.get("retries", 0)),
            retry_delay=int(data.get("retry_delay_seconds", 300)),
            timeout=data.get("timeout_seconds", 3600),
            launcher=str(data.get("launcher", "subprocess")),
        )


def _sql_of(transform: Transform) -> str | None:
    if isinstance(transform, SQLTransform):
        return transform.sql
    if isinstance(transform, HybridTransform):
        return transform.sql_transform.sql
    return None


def encode_checkpoint(value: Any) -> dict[str, Any] | None:
    """A checkpoint value as JSON: its text and its kind (times in UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return {"type": "timestamp", "value": aware.astimezone(UTC).isoformat()}
    if isinstance(value, date):
        return {"type": "date", "value": value.isoformat()}
    if isinstance(value, bool):
        return {"type": "string", "value": str(value)}
    if isinstance(value, int):
        return {"type": "integer", "value": value}
    if isinstance(value, float):
        return {"type": "float", "value": value}
    return {"type": "string", "value": str(value)}


def decode_checkpoint(data: dict[str, Any] | None) -> Any:
    if not data:
        return None
    kind, value = data.get("type"), data.get("value")
    if value is None:
        return None
    if kind == "timestamp":
        return datetime.fromisoformat(str(value))
    if kind == "date":
        return date.fromisoformat(str(value))
    if kind == "integer":
        return int(value)
    if kind == "float":
        return float(value)
    return str(value)
