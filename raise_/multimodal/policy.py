"""Integrity policies (README *Integrity Validation*, PRD §17.7): when a registry validates its
references, and what a failed validation does.

=========  ===================================================================================
STRICT     every access: registering, writing a ``blob_ref`` column, reading it; failures raise
ON_WRITE   registering and writing (the default)
ON_READ    reading ``blob_ref`` columns and resolving references (``get``)
LAZY       only ``validate``/``validate_batch``/``find_orphans`` and quality checks
PERIODIC   a scheduled validation of the whole registry (every ``check_interval``)
=========  ===================================================================================

Without ``fail_on_missing``/``fail_on_mismatch`` a failed validation is recorded (the reference
keeps its status; a write marks it) and a :class:`~raise_.errors.BlobIntegrityWarning` says so;
with them it raises the coded error and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from raise_.durations import parse_duration
from raise_.errors import InvalidArgumentError

__all__ = ["IntegrityMode", "IntegrityPolicy"]


class IntegrityMode(StrEnum):
    STRICT = "strict"
    ON_WRITE = "on_write"
    ON_READ = "on_read"
    LAZY = "lazy"
    PERIODIC = "periodic"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class IntegrityPolicy:
    mode: IntegrityMode = IntegrityMode.ON_WRITE
    fail_on_missing: bool = False
    fail_on_mismatch: bool = False
    #: How long a validation result stands for the same reference before the blob is read again.
    cache_validation_seconds: float = 300.0
    verify_checksum: bool = True
    verify_size: bool = True
    #: PERIODIC: how often the whole registry is validated (``"1h"``, ``"1d"``, seconds).
    check_interval: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "mode", IntegrityMode(getattr(self.mode, "value", self.mode)))
        except ValueError:
            raise InvalidArgumentError(
                f"Unknown integrity mode {self.mode!r}; use one of {', '.join(m.name for m in IntegrityMode)}.",
                {"mode": str(self.mode)},
            ) from None
        for flag in ("fail_on_missing", "fail_on_mismatch", "verify_checksum", "verify_size"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidArgumentError(f"{flag} must be True or False.", {flag: getattr(self, flag)})
        seconds = self.cache_validation_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise InvalidArgumentError(
                f"cache_validation_seconds must be a number ≥ 0, got {seconds!r}.",
                {"cache_validation_seconds": seconds},
            )
        object.__setattr__(self, "cache_validation_seconds", float(seconds))
        if self.mode is IntegrityMode.PERIODIC:
            interval = self.check_interval or "1d"
            if parse_duration(interval, "check_interval") < 60:
                raise InvalidArgumentError(
                    "A periodic validation runs at most every minute (check_interval >= '1m').",
                    {"check_interval": interval},
                )
            object.__setattr__(self, "check_interval", str(interval))
        elif self.check_interval is not None:
            raise InvalidArgumentError(
                "check_interval applies to IntegrityMode.PERIODIC only.", {"check_interval": self.check_interval}
            )

    # -- the README's presets ---------------------------------------------------------------------

    @classmethod
    def strict(cls, **overrides: Any) -> IntegrityPolicy:
        """Validate on every access, never from the cache, and fail on anything wrong."""
        return cls(
            **{
                "mode": IntegrityMode.STRICT,
                "fail_on_missing": True,
                "fail_on_mismatch": True,
                "cache_validation_seconds": 0.0,
                **overrides,
            }
        )

    @classmethod
    def on_write(cls, **overrides: Any) -> IntegrityPolicy:
        """Validate when references are registered or written (the default)."""
        return cls(**{"mode": IntegrityMode.ON_WRITE, **overrides})

    @classmethod
    def on_read(cls, **overrides: Any) -> IntegrityPolicy:
        return cls(**{"mode": IntegrityMode.ON_READ, **overrides})

    @classmethod
    def lazy(cls, **overrides: Any) -> IntegrityPolicy:
        """Validate only when asked to."""
        return cls(**{"mode": IntegrityMode.LAZY, **overrides})

    @classmethod
    def periodic(cls, check_interval: str = "1d", **overrides: Any) -> IntegrityPolicy:
        """Validate the whole registry on the store's scheduler every ``check_interval``."""
        return cls(**{"mode": IntegrityMode.PERIODIC, "check_interval": check_interval, **overrides})

    # -- what the policy asks for -----------------------------------------------------------------

    @property
    def validates_on_write(self) -> bool:
        return self.mode in (IntegrityMode.STRICT, IntegrityMode.ON_WRITE)

    @property
    def validates_on_read(self) -> bool:
        return self.mode in (IntegrityMode.STRICT, IntegrityMode.ON_READ)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "fail_on_missing": self.fail_on_missing,
            "fail_on_mismatch": self.fail_on_mismatch,
            "cache_validation_seconds": self.cache_validation_seconds,
            "verify_checksum": self.verify_checksum,
            "verify_size": self.verify_size,
            "check_interval": self.check_interval,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | IntegrityPolicy | None) -> IntegrityPolicy:
        if data is None:
            return cls()
        if isinstance(data, IntegrityPolicy):
            return data
        if not isinstance(data, Mapping):
            raise InvalidArgumentError("An integrity policy is an IntegrityPolicy or its dict.", {"policy": repr(data)})
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise InvalidArgumentError(
                f"Unknown integrity policy field {unknown[0]!r}; the fields are {', '.join(cls.__dataclass_fields__)}.",
                {"field": unknown[0]},
            )
        return cls(**dict(data))
