"""What the catalog says a group's data looks like: its table, keys, time column and features.

Built from catalog records for each data operation, so the storage layer never reads catalog
tables itself and a feature created a second ago is already writable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from raise_.catalog.lookup import suggest
from raise_.catalog.paths import split_version
from raise_.catalog.records import FeatureGroupRecord, FeatureRecord
from raise_.errors import FeatureNotFoundError, InvalidArgumentError
from raise_.metadata.naming import COMMIT_COLUMN, DEFAULT_EVENT_TIME, SUPERSEDED_COLUMN
from raise_.types import FeatureType, parse_dtype

__all__ = [
    "COMMIT_COLUMN",
    "DEFAULT_EVENT_TIME",
    "SUPERSEDED_COLUMN",
    "FeatureColumn",
    "GroupLayout",
    "storage_arrow_type",
]


def storage_arrow_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type DuckDB stores for ``t``: half floats widen to float32 (exactly)."""
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_fixed_size_list(t):
        return pa.list_(storage_arrow_type(t.value_type), t.list_size)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(storage_arrow_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, storage_arrow_type(f.type)) for f in t])
    return t


@dataclass(frozen=True)
class FeatureColumn:
    """One feature version as stored: ``physical`` is its column in the group table."""

    name: str
    version: str
    physical: str
    dtype: FeatureType
    nullable: bool
    has_default: bool
    default: Any
    derived_from: str | None
    status: str

    @classmethod
    def from_record(cls, r: FeatureRecord) -> FeatureColumn:
        return cls(
            name=r.name,
            version=r.version,
            physical=r.physical_column,
            dtype=parse_dtype(r.dtype),
            nullable=r.nullable,
            has_default=r.has_default,
            default=r.default,
            derived_from=r.derived_from,
            status=r.status,
        )

    @property
    def arrow_type(self) -> pa.DataType:
        return storage_arrow_type(self.dtype.arrow_type())

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class GroupLayout:
    group: FeatureGroupRecord
    versions: tuple[FeatureColumn, ...]  # every version of every feature, archived included

    @property
    def path(self) -> str:
        return self.group.path

    @property
    def table(self) -> str:
        return self.group.physical_table

    @property
    def history_table(self) -> str:
        return f"{self.group.physical_table}__history"

    @property
    def event_time(self) -> str:
        return self.group.event_time or DEFAULT_EVENT_TIME

    @property
    def entity_keys(self) -> list[str] | None:
        return self.group.entity_keys

    def latest(self) -> list[FeatureColumn]:
        """The newest non-archived version of each feature, in name order."""
        out: dict[str, FeatureColumn] = {}
        for v in self.versions:
            if v.status != "archived":
                current = out.get(v.name)
                if current is None or int(v.version[1:]) > int(current.version[1:]):
                    out[v.name] = v
        return [out[name] for name in sorted(out)]

    def resolve(self, reference: str) -> FeatureColumn:
        """``"clicks"`` → its newest live version; ``"clicks@v1"`` → that version."""
        if not isinstance(reference, str):
            raise InvalidArgumentError(f"Feature names are strings, got {reference!r}.", {"feature": repr(reference)})
        name, version = split_version(reference)
        if version is not None:
            for v in self.versions:
                if v.name == name and v.version == version:
                    return v
        else:
            for v in self.latest():
                if v.name == name:
                    return v
        known = sorted({v.name for v in self.versions})
        raise FeatureNotFoundError(
            f"Feature {reference!r} not found in group {self.group.name!r}.{suggest(name, known)} "
            f"Create it first, e.g. group.create_feature({name!r}, dtype=...).",
            {"group": self.group.name, "feature": reference},
        )
