"""The feature type a column of Arrow data gets when Raise creates its feature (a job's new target
feature, a model's output)."""

from __future__ import annotations

import pyarrow as pa

__all__ = ["dtype_of_arrow"]


def dtype_of_arrow(typ: pa.DataType) -> str | None:
    """The feature type a new target feature gets from the output column's Arrow type."""
    if pa.types.is_boolean(typ):
        return "bool"
    for bits in (8, 16, 32, 64):
        if typ == getattr(pa, f"int{bits}")() or typ == getattr(pa, f"uint{bits}")():
            return "int32" if bits <= 16 else f"int{bits}" if bits == 32 or typ == pa.int64() else "int64"
    if pa.types.is_floating(typ):
        return "float32" if typ == pa.float32() else "float64"
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return "string"
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        return "timestamp"
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        return "bytes"
    if pa.types.is_decimal(typ):
        return "float64"
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        inner = dtype_of_arrow(typ.value_type)
        if inner is None:
            return None
        if pa.types.is_fixed_size_list(typ) and inner in ("float32", "float64", "float16"):
            return f"{inner}[{typ.list_size}]"
        return f"{inner}[]"
    return None
