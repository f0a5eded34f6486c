"""Feature values as an online store keeps them, and back, exactly.

An online store holds primitives only (SQLite's INTEGER, REAL, TEXT, BLOB; Redis' byte strings),
so each feature type has one stored form, chosen from its type (never from the value, and never
``pickle``: a shared Redis must not be able to run code in a serving process):

- integers, floats, strings, bytes: themselves (a float's ``repr`` in Redis: it round-trips);
- booleans: 1 / 0; timestamps: microseconds since the epoch (UTC);
- embeddings: the vector's little-endian bytes (float32 or float64, as the offline store keeps
  it), one buffer per value: a 384-dim vector decodes with one ``numpy.frombuffer``;
- arrays, structs and blob references: JSON with the wire codec's tags (dates, bytes).

Encoding is columnar (one Arrow column at a time, in C where Arrow or numpy can), because
materialization encodes millions of values; decoding is per value (a lookup decodes a handful).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from raise_.codec import from_wire, to_wire
from raise_.errors import InvalidArgumentError
from raise_.storage.layout import storage_arrow_type
from raise_.types import FeatureType

__all__ = ["EPOCH", "decoder_for", "encode_column", "encode_keys", "key_text", "micros", "redis_decoder_for"]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: Between the parts of a composite entity key (a control character no key text holds in practice).
KEY_SEPARATOR: Final = "\x1f"


def micros(column: pa.ChunkedArray | pa.Array) -> list[int | None]:
    """A timestamp column as microseconds since the epoch (UTC)."""
    as_us = pc.cast(column, pa.timestamp("us", tz="UTC"))
    return pc.cast(as_us, pa.int64()).to_pylist()  # type: ignore[no-any-return]


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(value))


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(to_wire(value), separators=(",", ":"))


def encode_column(dtype: FeatureType, column: pa.ChunkedArray) -> list[Any]:
    """One feature column (as the offline store reads it) in its stored form, row by row."""
    kind = dtype.kind
    if kind == "timestamp":
        return micros(column)
    if kind == "bool":
        return [None if v is None else int(v) for v in column.to_pylist()]
    if kind == "embedding":
        return _vector_bytes(column, storage_arrow_type(dtype.arrow_type()))
    if kind in ("array", "struct", "blob_ref"):
        return [_json_text(v) for v in column.to_pylist()]
    return column.to_pylist()  # type: ignore[no-any-return]


def _vector_bytes(column: pa.ChunkedArray, arrow_type: pa.DataType) -> list[bytes | None]:
    """Each fixed-size vector as one bytes value (None where the vector is null)."""
    combined = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(combined)
    if n == 0:
        return []
    element = np.dtype(arrow_type.value_type.to_pandas_dtype()).newbyteorder("<")
    dim = arrow_type.list_size
    valid = None if combined.null_count == 0 else combined.is_valid().to_numpy(zero_copy_only=False)
    # Nulls in the list's own slots still take their room in the flat values: fill to keep offsets.
    flat = pc.fill_null(combined.values, 0).to_numpy(zero_copy_only=False).astype(element, copy=False)
    flat = flat[combined.offset * dim : (combined.offset + n) * dim]
    packed = np.ascontiguousarray(flat).reshape(n, dim).view(np.dtype((np.void, element.itemsize * dim)))
    rows: list[Any] = packed.reshape(n).tolist()  # void items come back as bytes
    if valid is not None:
        rows = [r if ok else None for r, ok in zip(rows, valid, strict=True)]
    return rows


def decoder_for(dtype: FeatureType) -> Callable[[Any], Any]:
    """Stored form (as SQLite gives it back) → the value ``group.read()`` would give."""
    kind = dtype.kind
    if kind == "timestamp":
        return lambda v: None if v is None else from_micros(v)
    if kind == "bool":
        return lambda v: None if v is None else bool(v)
    if kind == "embedding":
        element = np.dtype(storage_arrow_type(dtype.arrow_type()).value_type.to_pandas_dtype()).newbyteorder("<")
        return lambda v: None if v is None else np.frombuffer(v, dtype=element).tolist()
    if kind in ("array", "struct", "blob_ref"):
        return lambda v: None if v is None else from_wire(json.loads(v))
    if kind in ("float16", "float32", "float64"):
        return lambda v: None if v is None else float(v)
    return lambda v: v


def redis_decoder_for(dtype: FeatureType) -> Callable[[bytes | None], Any]:
    """Stored form as Redis gives it back (bytes) → the value ``group.read()`` would give."""
    kind = dtype.kind
    if kind in ("int32", "int64", "timestamp", "bool"):
        inner = decoder_for(dtype)
        return lambda v: None if v is None else inner(int(v))
    if kind in ("float16", "float32", "float64"):
        return lambda v: None if v is None else float(v)
    if kind == "string":
        return lambda v: None if v is None else v.decode("utf-8")
    if kind in ("array", "struct", "blob_ref"):
        return lambda v: None if v is None else from_wire(json.loads(v))
    return decoder_for(dtype)  # bytes and embeddings: the bytes themselves


def redis_encode(value: Any) -> bytes | str | int | float:
    """A stored-form value as Redis takes it (floats by ``repr``: exact)."""
    if isinstance(value, float):
        return repr(value)
    return value  # type: ignore[no-any-return]


def encode_keys(columns: list[pa.ChunkedArray]) -> list[str]:
    """Entity key columns → the text each entity is stored under (see :func:`key_text`)."""
    texts = [pc.cast(c, pa.string()) if c.type != pa.string() else c for c in columns]
    if len(texts) == 1:
        return texts[0].to_pylist()  # type: ignore[no-any-return]
    return pc.binary_join_element_wise(*texts, KEY_SEPARATOR).to_pylist()  # type: ignore[no-any-return]


def key_text(values: tuple[Any, ...], types: tuple[pa.DataType, ...]) -> str:
    """The text an entity is stored under, from the values a caller looks it up by: the same
    text Arrow's cast gives the stored key columns (``1`` → ``"1"``), so ``1`` and ``"1"`` find the
    same entity of an integer key."""
    parts = []
    for value, arrow_type in zip(values, types, strict=True):
        if isinstance(value, str) and pa.types.is_string(arrow_type):
            parts.append(value)
        elif isinstance(value, int) and not isinstance(value, bool) and pa.types.is_integer(arrow_type):
            parts.append(str(value))
        else:  # anything else is cast as the stored column is
            parts.append(_cast_key(value, arrow_type))
    return parts[0] if len(parts) == 1 else KEY_SEPARATOR.join(parts)


def _cast_key(value: Any, arrow_type: pa.DataType) -> str:
    try:
        typed = pa.array([value], type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        try:  # "42" for an integer key
            typed = pc.cast(pa.array([str(value)]), arrow_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidArgumentError(
                f"Entity key value {value!r} is not a {arrow_type} (the key's type).", {"key": repr(value)}
            ) from exc
    text: str = pc.cast(typed, pa.string())[0].as_py()
    return text
