"""Integrity of ``blob_ref`` feature columns (issue 22, item 4): the references a write carries are
validated before its commit under an ON_WRITE or STRICT policy, and those a read returns are
validated under ON_READ or STRICT, which adds a ``{feature}_status`` column marking each row.

Which policy a column follows: the policy of the registry its type names
(``BlobRef(registry="video-store")``, a registry of the group's project); ``validate_on_write=True``
without a registry (or with a LAZY one) validates writes with the defaults. A write under such a
policy is refused on the first reference that fails, naming its row; nothing is committed.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Final

import pyarrow as pa

from raise_.errors import BlobIntegrityWarning
from raise_.multimodal.policy import IntegrityMode, IntegrityPolicy
from raise_.multimodal.references import BlobReference, reference_from_value
from raise_.multimodal.validation import BlobStatus, ValidationResult, raise_for_policy
from raise_.storage.ingest import PreparedWrite
from raise_.storage.layout import FeatureColumn, GroupLayout
from raise_.types import BlobRef

__all__ = ["BlobColumnChecks"]

_REFUSE: Final = IntegrityPolicy(fail_on_missing=True, fail_on_mismatch=True)
_CACHE_LIMIT: Final = 100_000


class BlobColumnChecks:
    """The storage service's write and read checks for ``blob_ref`` columns."""

    def __init__(
        self,
        registry_policy: Callable[[str, str], IntegrityPolicy | None],
        validate: Callable[..., list[ValidationResult | None]],
    ) -> None:
        self._registry_policy = registry_policy
        self._validate = validate
        self._cache: dict[tuple[str, str, int, str], tuple[float, ValidationResult]] = {}
        self._lock = threading.Lock()

    def policy_of(self, layout: GroupLayout, column: FeatureColumn) -> IntegrityPolicy | None:
        dtype = column.dtype
        if not isinstance(dtype, BlobRef):
            return None
        policy = None
        if dtype.registry is not None:
            policy = self._registry_policy(layout.path.rsplit("/", 1)[0], dtype.registry)
        if dtype.validate_on_write and (policy is None or not policy.validates_on_write):
            policy = IntegrityPolicy.on_write() if policy is None else _with_mode(policy, IntegrityMode.ON_WRITE)
        return policy

    # -- writes -----------------------------------------------------------------------------------

    def check_write(self, layout: GroupLayout, prepared: PreparedWrite) -> None:
        for column in prepared.features:
            policy = self.policy_of(layout, column)
            if policy is None or not policy.validates_on_write:
                continue
            values = prepared.table.column(column.physical).to_pylist()
            results = self._results(values, policy)
            for row, result in enumerate(results):
                if result is not None and not result.valid:
                    raise_for_policy(result, _REFUSE, f"Column {column.name!r} row {row}")

    # -- reads ------------------------------------------------------------------------------------

    def check_read(self, layout: GroupLayout, chosen: list[tuple[str, FeatureColumn]], table: pa.Table) -> pa.Table:
        for name, column in chosen:
            policy = self.policy_of(layout, column)
            if policy is None or not policy.validates_on_read or name not in table.column_names:
                continue
            results = self._results(table.column(name).to_pylist(), policy)
            for row, result in enumerate(results):
                if result is not None and not result.valid and (policy.fail_on_missing or policy.fail_on_mismatch):
                    raise_for_policy(result, policy, f"Column {name!r} row {row}")
            statuses = [None if r is None else r.status.value for r in results]
            bad = sum(1 for s in statuses if s not in (None, BlobStatus.VALID.value))
            if bad:
                warnings.warn(
                    f"{bad} of {len(statuses)} row(s) of {name!r} reference blobs that failed validation; "
                    f"see the {name}_status column.",
                    BlobIntegrityWarning,
                    stacklevel=4,
                )
            status_name = f"{name}_status" if f"{name}_status" not in table.column_names else f"{name}__status"
            table = table.append_column(status_name, pa.array(statuses, pa.string()))
        return table

    # -- validation with a cache --------------------------------------------------------------------

    def _results(self, values: Sequence[object], policy: IntegrityPolicy) -> list[ValidationResult | None]:
        refs: list[BlobReference | None] = [reference_from_value(v) for v in values]
        now = time.monotonic()
        out: list[ValidationResult | None] = [None] * len(refs)
        todo: dict[tuple[str, str, int, str], list[int]] = {}
        with self._lock:
            for i, ref in enumerate(refs):
                if ref is None:
                    continue
                key = (ref.uri, ref.checksum, ref.size_bytes, ref.hash_algorithm.value)
                hit = self._cache.get(key)
                if hit is not None and now - hit[0] <= policy.cache_validation_seconds:
                    out[i] = hit[1]
                else:
                    todo.setdefault(key, []).append(i)
        if todo:
            firsts = [refs[rows[0]] for rows in todo.values()]
            found = self._validate(firsts, verify_checksum=policy.verify_checksum)
            with self._lock:
                if len(self._cache) > _CACHE_LIMIT:
                    self._cache.clear()
                for (key, rows), result in zip(todo.items(), found, strict=True):
                    assert result is not None
                    self._cache[key] = (now, result)
                    for i in rows:
                        out[i] = result
        return out


def _with_mode(policy: IntegrityPolicy, mode: IntegrityMode) -> IntegrityPolicy:
    data = policy.to_dict()
    data.update(mode=mode.value, check_interval=None)
    return IntegrityPolicy.from_dict(data)
