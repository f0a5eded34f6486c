"""How much of its sources a run reads (README *Incremental Processing*, PRD §15.5).

- ``full()``: everything, every run (no checkpoint);
- ``incremental(checkpoint_column, lookback=)``: rows past the checkpoint (a timestamp or a
  number), re-reading ``lookback`` before it for late data;
- ``append(checkpoint_column=)``: rows with a larger (monotonic) value, appended;
- ``upsert(key_columns=, checkpoint_column=)``: rows past the checkpoint, upserted by the keys.

The checkpoint is the largest ``checkpoint_column`` value a run read; the next run reads rows
strictly after it (minus the lookback). It is written in the same offline-store commit as the
run's rows (DESIGN §8, exactly-once), so a run killed before its commit leaves it where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from raise_.durations import parse_duration
from raise_.errors import InvalidArgumentError, InvalidJobError

__all__ = ["INCREMENTAL_MODES", "IncrementalConfig"]

INCREMENTAL_MODES: Final = ("full", "incremental", "append", "upsert")


@dataclass(frozen=True)
class IncrementalConfig:
    mode: str = "full"
    checkpoint_column: str | None = None
    lookback_seconds: int = 0
    key_columns: list[str] | None = None

    def __post_init__(self) -> None:
        if self.mode not in INCREMENTAL_MODES:
            raise InvalidJobError(
                f"Unknown incremental mode {self.mode!r}; use one of {', '.join(INCREMENTAL_MODES)}.",
                {"field": "incremental.mode"},
            )
        if self.mode != "full" and not (isinstance(self.checkpoint_column, str) and self.checkpoint_column):
            raise InvalidJobError(
                f"Incremental mode {self.mode!r} needs checkpoint_column=, the column whose largest value a run "
                "remembers.",
                {"field": "incremental.checkpoint_column"},
            )
        if self.mode == "upsert" and not self.key_columns:
            raise InvalidJobError("IncrementalConfig.upsert needs key_columns=[...].", {"field": "incremental"})

    @classmethod
    def full(cls) -> IncrementalConfig:
        return cls("full")

    @classmethod
    def incremental(cls, checkpoint_column: str, lookback: str | int | None = None) -> IncrementalConfig:
        return cls("incremental", checkpoint_column, _lookback(lookback))

    @classmethod
    def append(cls, checkpoint_column: str) -> IncrementalConfig:
        return cls("append", checkpoint_column)

    @classmethod
    def upsert(cls, key_columns: list[str], checkpoint_column: str) -> IncrementalConfig:
        return cls("upsert", checkpoint_column, 0, list(key_columns))

    @property
    def uses_checkpoint(self) -> bool:
        return self.mode != "full"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode}
        if self.checkpoint_column:
            out["checkpoint_column"] = self.checkpoint_column
        if self.lookback_seconds:
            out["lookback_seconds"] = self.lookback_seconds
        if self.key_columns:
            out["key_columns"] = list(self.key_columns)
        return out

    @classmethod
    def from_value(cls, value: IncrementalConfig | dict[str, Any] | str | None) -> IncrementalConfig:
        if value is None:
            return cls.full()
        if isinstance(value, IncrementalConfig):
            return value
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, dict):
            data = dict(value)
            if "lookback" in data:
                data["lookback_seconds"] = _lookback(data.pop("lookback"))
            try:
                return cls(**data)
            except TypeError as exc:
                raise InvalidJobError(f"Bad incremental config: {exc}.", {"field": "incremental"}) from None
        raise InvalidJobError(f"incremental is an IncrementalConfig, got {value!r}.", {"field": "incremental"})


def _lookback(value: str | int | None) -> int:
    if value in (None, 0, ""):
        return 0
    try:
        return parse_duration(value, "lookback")
    except InvalidArgumentError as exc:
        raise InvalidJobError(exc.message, {"field": "incremental.lookback"}) from None
