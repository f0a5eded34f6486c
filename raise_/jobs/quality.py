"""Quality checks on what a run is about to write (README *Quality Checks*, PRD §15.8).

Each check looks at the transform's output before anything is written, in DuckDB over the
staged output (so a large output is checked without loading it). A failed check of ``ERROR``
severity fails the run and nothing is written; ``WARNING`` and ``INFO`` are recorded in the
report and the rows are written. Defaults follow PRD §15.8 (row counts warn, the rest fail).

A :class:`CustomCheck` runs a function ``(frame) -> bool | (bool, message)`` over the output as
pandas; like a Python transform it travels as its source code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Final

import duckdb

from raise_.durations import parse_duration
from raise_.errors import InvalidArgumentError, InvalidJobError

__all__ = [
    "CheckOutcome",
    "CheckResult",
    "CheckSeverity",
    "CustomCheck",
    "FreshnessCheck",
    "NullCheck",
    "QualityCheck",
    "RangeCheck",
    "RowCountCheck",
    "UniqueCheck",
    "check_from_dict",
]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class CheckSeverity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class CheckOutcome(StrEnum):
    """How a check ended: ``CheckResult.PASSED``, ``CheckResult.FAILED`` (error severity: the
    run writes nothing) or ``CheckResult.WARNING`` (a failed warning or info check)."""

    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"

    def __str__(self) -> str:
        return f"CheckResult.{self.name}"

    __repr__ = __str__


@dataclass(frozen=True)
class CheckResult:
    name: str
    check_type: str
    severity: str
    passed: bool
    message: str
    observed: Any = None
    details: dict[str, Any] | None = None  # what the check counted (a blob check's rates, ...)

    PASSED: ClassVar[CheckOutcome] = CheckOutcome.PASSED
    FAILED: ClassVar[CheckOutcome] = CheckOutcome.FAILED
    WARNING: ClassVar[CheckOutcome] = CheckOutcome.WARNING

    @property
    def result(self) -> CheckOutcome:
        if self.passed:
            return CheckOutcome.PASSED
        return CheckOutcome.FAILED if self.severity == CheckSeverity.ERROR.value else CheckOutcome.WARNING

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "check_type": self.check_type,
            "severity": self.severity,
            "passed": self.passed,
            "message": self.message,
            "observed": self.observed,
        }
        if self.details is not None:
            out["details"] = self.details
        return out


def _severity(value: object) -> CheckSeverity:
    try:
        return CheckSeverity(value.value if isinstance(value, CheckSeverity) else str(value).lower())
    except ValueError:
        raise InvalidJobError(
            f"Unknown severity {value!r}; use CheckSeverity.ERROR, WARNING or INFO.", {"field": "quality_checks"}
        ) from None


def _column(con: duckdb.DuckDBPyConnection, table: str, column: str, name: str) -> str:
    columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
    if column not in columns:
        raise InvalidJobError(
            f"Quality check {name!r} names column {column!r}, which the output does not have "
            f"(it has {', '.join(columns)}).",
            {"check": name, "column": column},
        )
    return quote(column)


class QualityCheck:
    check_type: ClassVar[str] = ""
    default_severity: ClassVar[CheckSeverity] = CheckSeverity.ERROR
    name: str
    severity: CheckSeverity | str | None

    def _init_severity(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidJobError("A quality check needs a name.", {"field": "quality_checks"})
        object.__setattr__(self, "severity", _severity(self.severity or self.default_severity))

    def evaluate(self, con: duckdb.DuckDBPyConnection, table: str) -> CheckResult:
        raise NotImplementedError

    def _result(
        self, passed: bool, message: str, observed: Any = None, details: dict[str, Any] | None = None
    ) -> CheckResult:
        return CheckResult(self.name, self.check_type, str(self.severity), bool(passed), message, observed, details)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check_type": self.check_type}
        for key, value in self.__dict__.items():
            if key == "function":
                continue
            out[key] = value.value if isinstance(value, CheckSeverity) else value
        return out


@dataclass(frozen=True)
class NullCheck(QualityCheck):
    name: str
    column: str
    max_null_rate: float = 0.0
    severity: CheckSeverity | str | None = None

    check_type: ClassVar[str] = "null"

    def __post_init__(self) -> None:
        self._init_severity()
        rate = self.max_null_rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise InvalidJobError(f"max_null_rate is a fraction from 0 to 1, got {rate!r}.", {"check": self.name})

    def evaluate(self, con: duckdb.DuckDBPyConnection, table: str) -> CheckResult:
        col = _column(con, table, self.column, self.name)
        rows, nulls = con.execute(f"SELECT count(*), count(*) - count({col}) FROM {table}").fetchall()[0]
        rate = nulls / rows if rows else 0.0
        return self._result(
            rate <= self.max_null_rate,
            f"{self.column}: {nulls} of {rows} rows null ({rate:.2%}; at most {self.max_null_rate:.2%} allowed)",
            {"null_rate": rate, "nulls": int(nulls), "rows": int(rows)},
        )


@dataclass(frozen=True)
class RangeCheck(QualityCheck):
    name: str
    column: str
    min_value: float | None = None
    max_value: float | None = None
    severity: CheckSeverity | str | None = None

    check_type: ClassVar[str] = "range"

    def __post_init__(self) -> None:
        self._init_severity()
        if self.min_value is None and self.max_value is None:
            raise InvalidJobError("RangeCheck needs min_value=, max_value= or both.", {"check": self.name})
        for bound in (self.min_value, self.max_value):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
                raise InvalidJobError(f"RangeCheck bounds are numbers, got {bound!r}.", {"check": self.name})

    def evaluate(self, con: duckdb.DuckDBPyConnection, table: str) -> CheckResult:
        col = _column(con, table, self.column, self.name)
        low = -math.inf if self.min_value is None else self.min_value
        high = math.inf if self.max_value is None else self.max_value
        outside, smallest, largest = con.execute(
            f"SELECT count(*) FILTER (WHERE {col} < $low OR {col} > $high OR isnan({col}::DOUBLE)), "
            f"min({col}), max({col}) FROM {table}",
            {"low": low, "high": high},
        ).fetchall()[0]
        return self._result(
            outside == 0,
            f"{self.column}: {outside} values outside [{self.min_value}, {self.max_value}] "
            f"(min {smallest}, max {largest})",
            {"outside": int(outside), "min": smallest, "max": largest},
        )


@dataclass(frozen=True)
class RowCountCheck(QualityCheck):
    name: str
    min_rows: int | None = None
    max_rows: int | None = None
    severity: CheckSeverity | str | None = None

    check_type: ClassVar[str] = "row_count"
    default_severity: ClassVar[CheckSeverity] = CheckSeverity.WARNING

    def __post_init__(self) -> None:
        self._init_severity()
        if self.min_rows is None and self.max_rows is None:
            raise InvalidJobError("RowCountCheck needs min_rows=, max_rows= or both.", {"check": self.name})
        for bound in (self.min_rows, self.max_rows):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int) or bound < 0):
                raise InvalidJobError(f"Row counts are whole numbers ≥ 0, got {bound!r}.", {"check": self.name})

    def evaluate(self, con: duckdb.DuckDBPyConnection, table: str) -> CheckResult:
        rows = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        ok = (self.min_rows is None or rows >= self.min_rows) and (self.max_rows is None or rows <= self.max_rows)
        return self._result(ok, f"{rows} rows (expected {self.min_rows}..{self.max_rows})", {"rows": rows})


@dataclass(frozen=True)
class UniqueCheck(QualityCheck):
    name: str
    columns: list[str] = field(default_factory=list)
    severity: CheckSeverity | str | None = None

    check_type: ClassVar[str] = "unique"

    def __post_init__(self) -> None:
        self._init_severity()
        cols = self.columns
        if isinstance(cols, str):
            object.__setattr__(self, "columns", [cols])
        elif not cols or not all(isinstance(c, str) and c for c in cols):
            raise InvalidJobError("UniqueCheck needs columns=[...].", {"check": self.name})
        else:
            object.__setattr__(self, "columns", list(cols))

    def evaluate(self, con: duckdb.DuckDBPyConnection, table: str) -> CheckResult:
        cols = ", ".join(_column(con, table, c, self.name) for c in self.columns)
        dupes = int(
            con.execute(
                f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {table} GROUP BY {cols} HAVING n > 1)"
            ).fetchall()[0][0]
        )
        return self._result(
            dupes == 0, f"{dupes} duplicate rows over ({', '.join(self.columns)})", {"duplicates": dupes}
        )


@dataclass(frozen=True)
class FreshnessCheck(QualityCheck):
    name: str
    column: str
    max_age: str | int = "1d"
    severity: CheckSeverity | str | None = None

    check_type: ClassVar[str] = "freshness"

    def __post_init__(self) -> None:
        self._init_severity()
        try:
            parse_duration(self.max_age, "max_age")
        except InvalidArgumentError as exc:
            raise InvalidJobError(exc.message, {"check": self.name}) from None

    def evaluate(self, con: duckdb.DuckDBPyConnection, table: str) -> CheckResult:
        col = _column(con, table, self.column, self.name)
        newest = con.execute(f"SELECT max({col}::TIMESTAMPTZ) FROM {table}").fetchall()[0][0]
        limit = parse_duration(self.max_age, "max_age")
        if newest is None:
            return self._result(False, f"{self.column}: no values", {"newest": None})
        if newest.tzinfo is None:
            newest = newest.replace(tzinfo=UTC)
        age = (datetime.now(UTC) - newest).total_seconds()
        return self._result(
            age <= limit,
            f"{self.column}: newest value {newest.isoformat()} is {age:.0f}s old (at most {limit}s allowed)",
            {"newest": newest.isoformat(), "age_seconds": age},
        )


@dataclass(frozen=True)
class CustomCheck(QualityCheck):
    """``function(frame) -> bool`` or ``(bool, message)`` over the output as pandas."""

    name: str
    function: Callable[..., Any] | None = None
    severity: CheckSeverity | str | None = None
    source: str | None = None
    function_name: str | None = None

    check_type: ClassVar[str] = "custom"

    def __post_init__(self) -> None:
        self._init_severity()
        if self.source is None:
            if not callable(self.function):
                raise InvalidJobError(
                    "CustomCheck needs function=, a function of the output frame.", {"check": self.name}
                )
            from raise_.jobs.transforms import _function_source

            object.__setattr__(self, "source", _function_source(self.function))
            object.__setattr__(self, "function_name", self.function.__name__)

    def evaluate(self, con: duckdb.DuckDBPyConnection, table: str) -> CheckResult:
        from raise_.jobs.python_code import load_function

        fn = self.function or load_function(str(self.source), str(self.function_name), f"check {self.name}")
        frame = con.execute(f"SELECT * FROM {table}").df()
        outcome = fn(frame)
        passed, message = (outcome[0], str(outcome[1])) if isinstance(outcome, tuple) else (outcome, "")
        return self._result(bool(passed), message or ("passed" if passed else "failed"))


_KINDS: Final[dict[str, type[QualityCheck]]] = {
    c.check_type: c for c in (NullCheck, RangeCheck, RowCountCheck, UniqueCheck, FreshnessCheck, CustomCheck)
}


def check_from_dict(value: QualityCheck | dict[str, Any]) -> QualityCheck:
    if isinstance(value, QualityCheck):
        return value
    if not isinstance(value, dict):
        raise InvalidJobError(f"A quality check is a check object, got {value!r}.", {"field": "quality_checks"})
    data = dict(value)
    kind = str(data.pop("check_type", ""))
    cls = _KINDS.get(kind)
    if kind == "blob_integrity":  # defined with the multimodal subsystem; loaded when a job has one
        from raise_.multimodal.checks import BlobIntegrityCheck

        cls = BlobIntegrityCheck
    if cls is None:
        raise InvalidJobError(
            f"Unknown quality check type {value.get('check_type')!r}; use one of {', '.join(sorted(_KINDS))}.",
            {"field": "quality_checks"},
        )
    try:
        return cls(**data)
    except TypeError as exc:
        raise InvalidJobError(f"Bad {cls.__name__}: {exc}.", {"field": "quality_checks"}) from None
