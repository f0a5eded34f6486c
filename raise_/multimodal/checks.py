"""``BlobIntegrityCheck`` (README *Blob Integrity Checks*, PRD §17.9): a quality check over a
column of blob references. It samples the references, validates them against their storage
(concurrently), and passes when the missing and invalid rates stay within their bounds.

It runs standalone (``check.check(data)`` over a frame, an Arrow table, rows or references) and as
a job's quality check, where it looks at the job's output before anything is written. Blobs are
read by the process running it (the notebook's kernel, or the run's own process) through the
:class:`~raise_.multimodal.blobstore.BlobStore` configured by its environment.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import duckdb
import pyarrow as pa

from raise_.errors import InvalidJobError
from raise_.jobs.quality import CheckResult, CheckSeverity, QualityCheck, quote
from raise_.multimodal.blobstore import BlobStore
from raise_.multimodal.references import BlobReference, reference_from_value
from raise_.multimodal.validation import DEFAULT_CONCURRENCY, BlobStatus, validate_references

__all__ = ["BlobIntegrityCheck"]


def _rate(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise InvalidJobError(f"{name} is a rate from 0.0 to 1.0, got {value!r}.", {"field": name})
    return float(value)


@dataclass(frozen=True)
class BlobIntegrityCheck(QualityCheck):
    name: str
    column: str
    verify_checksum: bool = True
    verify_existence: bool = True
    max_missing_rate: float = 0.0
    max_invalid_rate: float = 0.0
    sample_rate: float = 1.0
    severity: CheckSeverity | str | None = None
    seed: int = 0  # which references a sample takes: the same data samples the same way
    max_concurrency: int = DEFAULT_CONCURRENCY

    check_type: ClassVar[str] = "blob_integrity"

    def __post_init__(self) -> None:
        self._init_severity()
        if not isinstance(self.column, str) or not self.column:
            raise InvalidJobError("BlobIntegrityCheck needs column=, the column of blob references.", {})
        for name in ("max_missing_rate", "max_invalid_rate"):
            object.__setattr__(self, name, _rate(name, getattr(self, name)))
        rate = _rate("sample_rate", self.sample_rate)
        if rate == 0.0:
            raise InvalidJobError("sample_rate must be above 0 (1.0 checks every reference).", {"field": "sample_rate"})
        object.__setattr__(self, "sample_rate", rate)

    # -- standalone -------------------------------------------------------------------------------

    def check(self, data: Any, store: BlobStore | None = None) -> CheckResult:
        """Run the check over ``data``: a pandas or polars frame, an Arrow table, a list of rows
        (dicts) holding the column, or a list of references."""
        return self._run(self._values(data), store or BlobStore.default())

    def _values(self, data: Any) -> list[object]:
        if (
            isinstance(data, Sequence)
            and not isinstance(data, str | bytes)
            and (not data or isinstance(data[0], BlobReference | str))
        ):
            return list(data)
        if isinstance(data, Sequence) and not isinstance(data, str | bytes):
            rows = list(data)
            if rows and isinstance(rows[0], dict) and self.column not in rows[0]:
                raise self._no_column(list(rows[0]))
            return [row.get(self.column) for row in rows]
        from raise_.storage.ingest import to_arrow

        table = data if isinstance(data, pa.Table) else None
        if table is None and type(data).__module__.startswith("pandas") and self.column in data.columns:
            return list(data[self.column])  # BlobReference objects stay objects
        table = table if table is not None else to_arrow(data, "check data")
        if self.column not in table.column_names:
            raise self._no_column(table.column_names)
        values: list[object] = table.column(self.column).to_pylist()
        return values

    def _no_column(self, columns: Sequence[str]) -> InvalidJobError:
        return InvalidJobError(
            f"Quality check {self.name!r} names column {self.column!r}, which the data does not have "
            f"(it has {', '.join(columns)}).",
            {"check": self.name, "column": self.column},
        )

    # -- as a job's quality check -----------------------------------------------------------------

    def evaluate(self, con: duckdb.DuckDBPyConnection, table: str) -> CheckResult:
        columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
        if self.column not in columns:
            raise self._no_column(columns)
        rows = con.execute(f"SELECT {quote(self.column)} FROM {table}").fetchall()
        values: list[object] = [row[0] for row in rows]
        return self._run(values, BlobStore.default())

    # -- the check --------------------------------------------------------------------------------

    def _run(self, values: list[object], store: BlobStore) -> CheckResult:
        refs = [reference_from_value(v) for v in values]
        present = [r for r in refs if r is not None]
        total = len(present)
        sampled = present
        if self.sample_rate < 1.0 and present:
            k = max(1, round(total * self.sample_rate))
            sampled = random.Random(self.seed).sample(present, k)
        if self.verify_existence or self.verify_checksum:
            results = validate_references(
                sampled, store, verify_checksum=self.verify_checksum, concurrency=self.max_concurrency
            )
        else:
            results = []
        checked = len(results)
        missing = sum(r.status is BlobStatus.MISSING for r in results)
        unreachable = sum(r.status is BlobStatus.UNREACHABLE for r in results)
        invalid = sum(r.status in (BlobStatus.INVALID, BlobStatus.EXPIRED) for r in results)
        # Unreachable counts as missing: a blob nobody can read is not there for training either.
        missing_rate = (missing + unreachable) / checked if checked else 0.0
        invalid_rate = invalid / checked if checked else 0.0
        passed = missing_rate <= self.max_missing_rate and invalid_rate <= self.max_invalid_rate
        details = {
            "total_references": total,
            "null_references": len(refs) - total,
            "checked_references": checked,
            "valid_count": sum(r.valid for r in results),
            "missing_count": missing,
            "unreachable_count": unreachable,
            "invalid_count": invalid,
            "missing_rate": missing_rate,
            "invalid_rate": invalid_rate,
            "max_missing_rate": self.max_missing_rate,
            "max_invalid_rate": self.max_invalid_rate,
            "sample_rate": self.sample_rate,
            "failures": [
                {"uri": r.uri, "status": r.status.value, "message": r.message} for r in results if not r.valid
            ][:20],
        }
        if passed:
            message = f"{checked} of {total} reference(s) checked: {missing + unreachable} missing, {invalid} invalid"
        else:
            worst = next((r for r in results if not r.valid), None)
            message = (
                f"missing rate {missing_rate:.2%} (max {self.max_missing_rate:.2%}), invalid rate "
                f"{invalid_rate:.2%} (max {self.max_invalid_rate:.2%}) over {checked} reference(s)"
                + (f"; first: {worst.uri}: {worst.message.rstrip('.')}" if worst else "")
            )
        return self._result(passed, message, {"missing_rate": missing_rate, "invalid_rate": invalid_rate}, details)
