"""The types an expression's parts can have while it is checked.

Feature types (``Int64()``, ``Embedding(512)``, ...) plus three that only exist inside an
expression: the type of a bare ``NULL`` (fits anywhere), an ``INTERVAL`` (``t + INTERVAL '7
days'``) and *unknown* (a reference that does not resolve yet, so nothing can be said about it
and no further type error is reported on its account).
"""

from __future__ import annotations

from enum import Enum

from raise_.types import (
    Array,
    Bool,
    Embedding,
    FeatureType,
    Float32,
    Float64,
    FloatType,
    Int32,
    Int64,
    IntegerType,
    String,
    Timestamp,
)

__all__ = [
    "Special",
    "SqlType",
    "common_type",
    "describe",
    "is_boolean",
    "is_integer",
    "is_numeric",
    "is_string",
    "is_temporal",
    "is_vector",
    "vector_dim",
]


class Special(Enum):
    NULL = "null"
    INTERVAL = "interval"
    UNKNOWN = "unknown"


SqlType = FeatureType | Special


def describe(t: SqlType) -> str:
    return t.value if isinstance(t, Special) else str(t)


def _loose(t: SqlType) -> bool:
    return t is Special.NULL or t is Special.UNKNOWN


def is_numeric(t: SqlType) -> bool:
    return _loose(t) or isinstance(t, IntegerType | FloatType)


def is_integer(t: SqlType) -> bool:
    return _loose(t) or isinstance(t, IntegerType)


def is_string(t: SqlType) -> bool:
    return _loose(t) or isinstance(t, String)


def is_boolean(t: SqlType) -> bool:
    return _loose(t) or isinstance(t, Bool)


def is_temporal(t: SqlType) -> bool:
    return _loose(t) or isinstance(t, Timestamp)


def is_vector(t: SqlType) -> bool:
    """An embedding, or an array of numbers."""
    if _loose(t) or isinstance(t, Embedding):
        return True
    return isinstance(t, Array) and isinstance(t.element, IntegerType | FloatType)


def vector_dim(t: SqlType) -> int | None:
    return t.dim if isinstance(t, Embedding) else None


def _numeric_result(types: list[FeatureType]) -> FeatureType:
    if all(isinstance(t, Int32) for t in types):
        return Int32()
    if all(isinstance(t, IntegerType) for t in types):
        return Int64()
    if all(isinstance(t, Float32 | IntegerType) for t in types) and any(isinstance(t, Float32) for t in types):
        return Float32() if all(isinstance(t, Float32) for t in types) else Float64()
    return Float64()


def common_type(types: list[SqlType]) -> SqlType | None:
    """The type values of all ``types`` share (CASE branches, COALESCE), or None if none fits."""
    known = [t for t in types if not isinstance(t, Special)]
    if any(t is Special.INTERVAL for t in types):
        return Special.INTERVAL if not known else None
    if not known:
        return Special.UNKNOWN if Special.UNKNOWN in types else Special.NULL
    if all(isinstance(t, IntegerType | FloatType) for t in known):
        return _numeric_result(known)
    if all(isinstance(t, String) for t in known):
        first = known[0]
        return first if all(t == first for t in known) else String()
    if all(isinstance(t, Embedding) for t in known):
        dims = {t.dim for t in known if isinstance(t, Embedding)}
        if len(dims) == 1:
            return Embedding(dims.pop())
        return None
    first = known[0]
    return first if all(t == first for t in known) else None
