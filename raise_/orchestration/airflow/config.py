"""``AirflowConfig`` (PRD §16.2): how a project's jobs become Airflow DAGs.

It holds no secret. Airflow's API credentials come from the environment of the process that
owns the store (``RAISE_AIRFLOW_TOKEN``, or ``RAISE_AIRFLOW_USERNAME`` + ``RAISE_AIRFLOW_PASSWORD``),
and the token a DAG presents to Raise is handed to Airflow as a Variable, never written into
the DAG file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from raise_.errors import InvalidArgumentError

__all__ = ["AirflowConfig"]

_POOL: Final = re.compile(r"^[A-Za-z0-9_.\-]{1,256}$")
#: default_args Raise writes into the DAG file: plain values and durations, nothing executable.
_DEFAULT_ARG_TYPES: Final = (str, int, float, bool, type(None), timedelta)


def _seconds(value: Any, what: str) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=float(value))
    raise InvalidArgumentError(f"{what} must be a timedelta or a number of seconds, got {value!r}.", {"field": what})


@dataclass(frozen=True)
class AirflowConfig:
    """PRD §16.2's settings, plus what Raise needs to reach the store from a DAG.

    ``raise_command`` is the ``raise`` executable on the Airflow workers (the task runs
    ``raise jobs run``); ``raise_url`` the store's server as the workers reach it (``None``: the
    workers' own ``RAISE_URL``, or an embedded store through their ``RAISE_HOME``);
    ``token_ttl`` how long a deployed DAG's job token lives (redeploying renews it).
    """

    dag_folder: str = "/opt/airflow/dags"
    default_args: dict[str, Any] = field(default_factory=lambda: {"owner": "raise"})
    catchup: bool = False
    max_active_runs: int = 1
    tags: list[str] = field(default_factory=lambda: ["raise", "feature-store"])
    pool: str | None = None
    queue: str | None = None
    dag_id_prefix: str = "raise_"
    raise_command: str = "raise"
    raise_url: str | None = None
    token_ttl: timedelta = timedelta(days=30)
    start_date: str = "2026-01-01"

    def __post_init__(self) -> None:
        if not isinstance(self.dag_folder, str) or not self.dag_folder.strip():
            raise InvalidArgumentError("dag_folder must be the path of Airflow's DAG folder.", {"field": "dag_folder"})
        if not isinstance(self.catchup, bool):
            raise InvalidArgumentError(f"catchup must be True or False, got {self.catchup!r}.", {"field": "catchup"})
        if (
            isinstance(self.max_active_runs, bool)
            or not isinstance(self.max_active_runs, int)
            or self.max_active_runs < 1
        ):
            raise InvalidArgumentError(
                f"max_active_runs must be a whole number ≥ 1, got {self.max_active_runs!r}.",
                {"field": "max_active_runs"},
            )
        if not isinstance(self.tags, list | tuple) or not all(isinstance(t, str) and t for t in self.tags):
            raise InvalidArgumentError("tags must be a list of non-empty strings.", {"field": "tags"})
        for name in ("pool", "queue"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and _POOL.fullmatch(value)):
                raise InvalidArgumentError(
                    f"{name} must be an Airflow {name} name (letters, digits, '_', '-', '.'), got {value!r}.",
                    {"field": name},
                )
        if not isinstance(self.default_args, dict) or not all(isinstance(k, str) for k in self.default_args):
            raise InvalidArgumentError("default_args must be a dict with string keys.", {"field": "default_args"})
        for key, value in self.default_args.items():
            if not isinstance(value, _DEFAULT_ARG_TYPES):
                raise InvalidArgumentError(
                    f"default_args[{key!r}] is a {type(value).__name__}; Raise writes only strings, numbers, "
                    "booleans, None and timedeltas into a DAG file (set callbacks in Airflow itself).",
                    {"field": f"default_args.{key}"},
                )
        if not re.fullmatch(r"[A-Za-z0-9_]*", self.dag_id_prefix or ""):
            raise InvalidArgumentError(
                "dag_id_prefix may hold letters, digits and '_' only.", {"field": "dag_id_prefix"}
            )
        if not isinstance(self.raise_command, str) or not self.raise_command.strip():
            raise InvalidArgumentError("raise_command must name the raise executable.", {"field": "raise_command"})
        object.__setattr__(self, "tags", list(self.tags))
        object.__setattr__(self, "token_ttl", _seconds(self.token_ttl, "token_ttl"))
        if self.token_ttl <= timedelta(0):
            raise InvalidArgumentError("token_ttl must be positive.", {"field": "token_ttl"})

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (durations as seconds), as the catalog stores it."""
        return {
            "dag_folder": self.dag_folder,
            "default_args": {
                k: {"seconds": v.total_seconds()} if isinstance(v, timedelta) else v
                for k, v in self.default_args.items()
            },
            "catchup": self.catchup,
            "max_active_runs": self.max_active_runs,
            "tags": list(self.tags),
            "pool": self.pool,
            "queue": self.queue,
            "dag_id_prefix": self.dag_id_prefix,
            "raise_command": self.raise_command,
            "raise_url": self.raise_url,
            "token_ttl_seconds": self.token_ttl.total_seconds(),
            "start_date": self.start_date,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AirflowConfig:
        data = dict(data)
        if "token_ttl_seconds" in data:
            data["token_ttl"] = timedelta(seconds=float(data.pop("token_ttl_seconds")))
        data["default_args"] = {
            k: timedelta(seconds=v["seconds"]) if isinstance(v, dict) and set(v) == {"seconds"} else v
            for k, v in (data.get("default_args") or {}).items()
        }
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidArgumentError(
                f"Unknown AirflowConfig field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}.",
                {"fields": unknown},
            )
        return cls(**data)
