"""Turning what a user writes (pandas, polars, Arrow, a list of dicts) into a checked Arrow table.

Everything is checked before the store is touched, so a bad write commits nothing: the entity
keys and event time must be present and non-null, every other column must name a feature of
the group, and every value must fit its feature's type, length limit and nullability. An error
names the column and the first bad row (0-based, in the order given).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from raise_.errors import InvalidArgumentError, InvalidDataError, RaiseError
from raise_.metadata.naming import ROW_COLUMN, check_group_columns, is_reserved_column, validate_column_name
from raise_.storage.layout import FeatureColumn, GroupLayout
from raise_.types import BlobRef, String

__all__ = ["ROW_COLUMN", "PreparedWrite", "prepare_write", "to_arrow", "utc_timestamps"]

TIMESTAMP = pa.timestamp("us", tz="UTC")


TargetType = Callable[[str], pa.DataType | None]


def _no_target(_: str) -> None:
    return None


# What converting Python values or a data frame to Arrow raises for data that does not fit.
_CONVERSION_ERRORS = (pa.ArrowException, OverflowError, TypeError, ValueError)


def _python_column(values: list[Any], name: str, target: pa.DataType | None) -> pa.Array:
    """Convert one column of Python values; a value that does not fit names its row."""
    # Values that know their stored form (a BlobReference: the struct of a blob_ref column).
    values = [v.to_storage() if hasattr(v, "to_storage") else v for v in values]
    try:
        return pa.array(values, from_pandas=True)
    except _CONVERSION_ERRORS as exc:
        for row, value in enumerate(values):
            try:
                single = pa.array([value], from_pandas=True)
                if target is not None:
                    single.cast(target, safe=True)
            except _CONVERSION_ERRORS as cause:
                expected = str(target) if target is not None else _widest(value, cause)
                raise InvalidDataError(
                    f"Column {name!r} row {row}: value {_text(value)} does not fit {expected}.",
                    {"column": name, "row": row, "expected": expected},
                ) from exc
        raise InvalidDataError(
            f"Column {name!r} mixes values of different types ({exc}); give each column values of one type.",
            {"column": name},
        ) from exc


def _widest(value: Any, cause: Exception) -> str:
    """What a value that fits no Arrow type would have needed (the target type is not known here)."""
    if isinstance(value, int) and isinstance(cause, OverflowError):
        return "a 64-bit integer (-2**63 to 2**64 - 1)"
    return f"any column type ({cause})"


def _text(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _from_pandas(data: Any, target: TargetType) -> pa.Table:
    """A pandas frame as Arrow. Duplicate column names are kept (``prepare_write`` refuses them
    with the column's name); a column Arrow cannot read as one type (mixed objects, integers past
    64 bits) is converted value by value, so the first value that does not fit is named."""
    names = [str(c) for c in data.columns]
    unique = len(set(names)) == len(names)
    frame = data if unique else data.set_axis([f"c{i}" for i in range(len(names))], axis=1)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except _CONVERSION_ERRORS:
        columns = [_python_column(frame.iloc[:, i].tolist(), n, target(n)) for i, n in enumerate(names)]
        return pa.Table.from_arrays(columns, names=names)
    return table if unique else table.rename_columns(names)


def _from_polars(data: Any, target: TargetType) -> pa.Table:
    """A polars frame as Arrow; a column Arrow cannot import (``Int128``) is converted value by value."""
    try:
        table: pa.Table = data.to_arrow()
        return table
    except _CONVERSION_ERRORS:
        columns = []
        for name in data.columns:
            series = data.get_column(name)
            try:
                columns.append(series.to_arrow())
            except _CONVERSION_ERRORS:
                columns.append(_python_column(series.to_list(), name, target(name)))
        return pa.Table.from_arrays(columns, names=list(data.columns))


def _from_rows(rows: list[dict[Any, Any]], target: TargetType) -> pa.Table:
    names: dict[str, None] = {}
    for index, row in enumerate(rows):
        for name in row:
            if not isinstance(name, str):
                raise InvalidDataError(
                    f"Row {index}: column name {_text(name)} is not a string; name columns with strings "
                    "such as 'clicks'.",
                    {"row": index, "column": _text(name)},
                )
        names.update(dict.fromkeys(row))
    return pa.table({n: _python_column([r.get(n) for r in rows], n, target(n)) for n in names})


def to_arrow(data: Any, what: str = "data", target: TargetType = _no_target) -> pa.Table:
    """A pyarrow Table from a pandas or polars DataFrame, an Arrow table/batch or a list of dicts.

    ``target`` gives the type a column should have, where known, to locate a value that does not
    fit it when the column cannot even be read as one type.
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    module = type(data).__module__
    if module.startswith("pandas"):
        return _from_pandas(data, target)
    if module.startswith("polars"):
        return _from_polars(data, target)
    if isinstance(data, list) and all(isinstance(r, dict) for r in data):
        return _from_rows(data, target)
    raise InvalidArgumentError(
        f"Cannot write {type(data).__name__} as {what}: pass a pandas or polars DataFrame, a pyarrow Table "
        "or a list of dicts.",
        {"type": type(data).__name__},
    )


@dataclass(frozen=True)
class PreparedWrite:
    table: pa.Table  # entity keys, event time, feature columns (physical names)
    keys: list[str]
    event_time: str
    features: list[FeatureColumn]  # the features this write carries, in table order
    keys_were_inferred: bool


def _first_failing_row(column: pa.ChunkedArray, convert: Any) -> int:
    """The smallest row whose prefix fails ``convert``: a binary search, O(log n) conversions."""
    lo, hi = 0, len(column)  # invariant: prefix [0, hi) fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            convert(column.slice(0, mid))
            lo = mid
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError):
            hi = mid
    return lo


def _value(column: pa.ChunkedArray, row: int) -> str:
    text = repr(column[row].as_py())
    return text if len(text) <= 80 else text[:77] + "..."


def _cast(column: pa.ChunkedArray, target: pa.DataType, name: str, label: str) -> pa.ChunkedArray:
    if column.type == target:
        return column

    def convert(c: pa.ChunkedArray) -> pa.ChunkedArray:
        return c.cast(target, safe=True)

    try:
        return convert(column)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        row = _first_failing_row(column, convert)
        raise InvalidDataError(
            f"Column {name!r} row {row}: value {_value(column, row)} does not fit {label}: {exc}",
            {"column": name, "row": row, "expected": label, "given_type": str(column.type)},
        ) from exc


def _first_true(mask: pa.ChunkedArray | pa.Array) -> int | None:
    idx = pc.index(mask, True).as_py()
    return None if idx is None or idx < 0 else int(idx)


def _check_feature(column: pa.ChunkedArray, name: str, f: FeatureColumn) -> None:
    if not f.nullable:
        row = _first_true(column.is_null())
        if row is not None:
            raise InvalidDataError(
                f"Column {name!r} row {row} is null, but feature {f.label} is not nullable; "
                "fill the value or create the feature with nullable=True.",
                {"column": name, "row": row},
            )
    if isinstance(f.dtype, String) and f.dtype.max_length is not None:
        too_long = pc.greater(pc.utf8_length(column), f.dtype.max_length)
        row = _first_true(pc.fill_null(too_long, False))
        if row is not None:
            raise InvalidDataError(
                f"Column {name!r} row {row}: {_value(column, row)} is longer than {f.dtype.max_length} characters "
                f"({f.dtype}).",
                {"column": name, "row": row, "max_length": f.dtype.max_length},
            )
    if isinstance(f.dtype, BlobRef) and f.dtype.content_types:
        structs = column.combine_chunks()
        # flatten() carries the parent's nulls into the children; .field() would not.
        types = structs.flatten()[structs.type.get_field_index("content_type")].to_pylist()
        for row, content_type in enumerate(types):
            if content_type is not None and not f.dtype.accepts(content_type):
                raise InvalidDataError(
                    f"Column {name!r} row {row}: content type {content_type!r} is not accepted by {f.dtype}.",
                    {"column": name, "row": row, "content_type": content_type},
                )


# Where a float64 starts rounding to infinity in each narrow float type, and that type's largest value.
_FLOAT_LIMITS: dict[pa.DataType, tuple[float, str]] = {
    pa.float16(): (65520.0, "65504"),
    pa.float32(): (2.0**128 * (1 - 2.0**-25), "3.4028235e38"),
}


def _narrow_float(t: pa.DataType) -> tuple[pa.DataType, pa.DataType] | None:
    """For a type whose values are float16/float32 (alone, in lists or embeddings): that float
    type, and the same shape with float64 values; None for any other type."""
    if t in _FLOAT_LIMITS:
        return t, pa.float64()
    if pa.types.is_fixed_size_list(t) or pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = _narrow_float(t.value_type)
        if inner is None:
            return None
        wide = pa.list_(inner[1], t.list_size) if pa.types.is_fixed_size_list(t) else pa.list_(inner[1])
        return inner[0], wide
    return None


def _leaf_type(t: pa.DataType) -> pa.DataType:
    while pa.types.is_fixed_size_list(t) or pa.types.is_list(t) or pa.types.is_large_list(t):
        t = t.value_type
    return t


def _check_float_range(given: pa.ChunkedArray, name: str, f: FeatureColumn) -> None:
    """A finite value too large for a float16/float32 feature would be stored as infinity: refuse it."""
    narrow = _narrow_float(f.dtype.arrow_type())
    if narrow is None or _leaf_type(given.type) in _FLOAT_LIMITS:  # already that narrow: nothing overflows
        return
    float_type, wide_type = narrow
    limit, largest = _FLOAT_LIMITS[float_type]
    try:
        values: pa.Array = given.cast(wide_type, safe=True).combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return  # the cast to the feature's type succeeded; a value it took is in range
    rows: pa.Array | None = None  # the row of each value once lists are flattened
    while not pa.types.is_floating(values.type):
        parents = pc.list_parent_indices(values)
        rows = parents if rows is None else pc.take(rows, parents)
        values = pc.list_flatten(values)
    too_large = pc.and_(pc.is_finite(values), pc.greater_equal(pc.abs(values), limit))
    at = _first_true(pc.fill_null(too_large, False))
    if at is None:
        return
    row = at if rows is None else int(rows[at].as_py())
    raise InvalidDataError(
        f"Column {name!r} row {row}: value {_value(given, row)} is out of the range of {f.dtype} "
        f"(largest magnitude {largest}); scale it, or use a wider type such as float64.",
        {"column": name, "row": row, "expected": str(f.dtype)},
    )


def utc_timestamps(values: pa.ChunkedArray, column: str) -> pa.ChunkedArray:
    """Timestamps, dates or ISO strings as UTC microseconds; naive values are taken as UTC."""
    if pa.types.is_timestamp(values.type):
        values = values.cast(pa.timestamp("us", tz=values.type.tz), safe=False)  # ns → us truncates
        return values if values.type.tz else values.cast(TIMESTAMP)
    if pa.types.is_date(values.type):
        return values.cast(pa.timestamp("us")).cast(TIMESTAMP)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        try:  # "2024-01-01" or "2024-01-01T10:00": no offset, so UTC
            return values.cast(pa.timestamp("us")).cast(TIMESTAMP)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # strings with an offset ("...+02:00") cast directly below
    return _cast(values, TIMESTAMP, column, "a timestamp")


def _event_times(table: pa.Table, column: str, write_time: datetime) -> pa.ChunkedArray:
    if column not in table.column_names:  # no time given: every row happened now
        return pa.chunked_array([pa.array([write_time] * table.num_rows, type=TIMESTAMP)])
    values = utc_timestamps(table.column(column), column)
    row = _first_true(values.is_null())
    if row is not None:
        raise InvalidDataError(
            f"Column {column!r} (the event time) is null at row {row}; every row needs its time.",
            {"column": column, "row": row},
        )
    return values


def prepare_write(
    layout: GroupLayout, data: Any, write_time: datetime, key_types: dict[str, pa.DataType]
) -> PreparedWrite:
    """Check and convert ``data`` for ``layout``; ``key_types`` are the stored key column types."""

    def target(name: str) -> pa.DataType | None:
        if name == layout.event_time:
            return TIMESTAMP
        if name in key_types:
            return key_types[name]
        try:
            return layout.resolve(name).arrow_type
        except RaiseError:
            return None

    table = to_arrow(data, target=target)
    names = table.column_names
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidDataError(
            f"Column {duplicated[0]!r} appears {names.count(duplicated[0])} times; give each column once "
            "(rename or drop the duplicates).",
            {"column": duplicated[0], "columns": duplicated},
        )
    reserved = [n for n in names if is_reserved_column(n)]
    if reserved:
        raise InvalidDataError(
            f"Column name {reserved[0]!r} is reserved by Raise (it adds such columns itself); rename the column.",
            {"column": reserved[0]},
        )
    event_time = layout.event_time
    feature_names = [n for n in names if n != event_time and n not in (layout.entity_keys or [])]
    inferred = layout.entity_keys is None
    if inferred:
        # A group without keys gets them from its first write: the columns that are not features.
        known = {v.name for v in layout.versions} | {v.label for v in layout.versions}
        keys = [n for n in feature_names if n not in known]
        if not keys:
            raise InvalidDataError(
                f"Group {layout.group.name!r} has no entity keys yet and the data has no column besides "
                "features and the event time to take them from; pass entity_keys=[...] when creating the group.",
                {"columns": names},
            )
        feature_names = [n for n in feature_names if n in known]
    else:
        keys = list(layout.entity_keys or [])
        missing = [k for k in keys if k not in names]
        if missing:
            raise InvalidDataError(
                f"Entity key column {missing[0]!r} is missing; the data of group {layout.group.name!r} needs "
                f"{', '.join(repr(k) for k in keys)}.",
                {"column": missing[0], "entity_keys": keys},
            )
    if inferred or layout.group.event_time is None:
        # This write fixes the group's keys and event time: checked here, before anything is stored.
        for key in keys if inferred else []:
            validate_column_name("entity key", key)
        check_group_columns([v.name for v in layout.versions], keys, event_time)
    if table.num_rows == 0:
        raise InvalidDataError("The data has no rows; nothing to write.", {"rows": 0})

    arrays: dict[str, pa.ChunkedArray] = {}
    for key in keys:
        col = table.column(key)
        if key in key_types:
            col = _cast(col, key_types[key], key, f"the entity key type {key_types[key]}")
        elif pa.types.is_large_string(col.type) or pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        row = _first_true(col.is_null())
        if row is not None:
            raise InvalidDataError(
                f"Entity key {key!r} is null at row {row}; every row needs its keys.", {"column": key, "row": row}
            )
        arrays[key] = col
    arrays[event_time] = _event_times(table, event_time, write_time)

    features: list[FeatureColumn] = []
    for name in feature_names:
        f = layout.resolve(name)
        if f.derived_from is not None:
            raise InvalidDataError(
                f"Column {name!r} is the derived feature {f.label}: its values are computed from its inputs "
                "and cannot be written.",
                {"column": name},
            )
        if f.status == "archived":
            raise InvalidDataError(f"Feature {f.label} is archived; it takes no new data.", {"column": name})
        if any(other.physical == f.physical for other in features):
            raise InvalidDataError(
                f"Column {name!r} writes feature {f.label} a second time in the same data.", {"column": name}
            )
        given = table.column(name)
        col = _cast(given, f.arrow_type, name, str(f.dtype))
        _check_float_range(given, name, f)
        _check_feature(col, name, f)
        arrays[f.physical] = col
        features.append(f)
    return PreparedWrite(
        table=pa.table(arrays),
        keys=keys,
        event_time=event_time,
        features=features,
        keys_were_inferred=inferred,
    )
