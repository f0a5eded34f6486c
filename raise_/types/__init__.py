"""Feature data types (``Int64()``, ``Embedding(512)``, ``Struct({...})``, ...) and their strings.

``parse_dtype("float32[512]") == Embedding(512)``; ``str(Embedding(512)) == "float32[512]"``.
"""

from __future__ import annotations

from raise_.types.dtypes import (
    BLOB_REF_STORAGE,
    MAX_EMBEDDING_DIM,
    Array,
    BlobRef,
    Bool,
    Bytes,
    Embedding,
    FeatureType,
    Float16,
    Float32,
    Float64,
    FloatType,
    Int32,
    Int64,
    IntegerType,
    String,
    Struct,
    Timestamp,
    is_compatible,
)
from raise_.types.parser import parse_dtype

__all__ = [
    "BLOB_REF_STORAGE",
    "MAX_EMBEDDING_DIM",
    "Array",
    "BlobRef",
    "Bool",
    "Bytes",
    "Embedding",
    "FeatureType",
    "Float16",
    "Float32",
    "Float64",
    "FloatType",
    "Int32",
    "Int64",
    "IntegerType",
    "String",
    "Struct",
    "Timestamp",
    "is_compatible",
    "parse_dtype",
]
