"""parse_dtype: canonical round trips both ways, lenient input, and positioned errors."""

from __future__ import annotations

import random
from typing import Any

import duckdb
import pytest

from raise_.errors import InvalidDtypeError
from raise_.types import (
    Array,
    BlobRef,
    Bool,
    Bytes,
    Embedding,
    FeatureType,
    Float16,
    Float32,
    Float64,
    Int32,
    Int64,
    String,
    Struct,
    Timestamp,
    parse_dtype,
)

# Canonical string → the type it names. Both directions must hold exactly.
CANONICAL: list[tuple[str, FeatureType]] = [
    ("int32", Int32()),
    ("int64", Int64()),
    ("float16", Float16()),
    ("float32", Float32()),
    ("float64", Float64()),
    ("bool", Bool()),
    ("string", String()),
    ("string[128]", String(max_length=128)),
    ("bytes", Bytes()),
    ("timestamp", Timestamp()),
    ("float32[512]", Embedding(512)),
    ("float16[768]", Embedding(768, dtype="float16")),
    ("float64[3]", Embedding(3, dtype=Float64())),
    ("float32[100000]", Embedding(100_000)),
    ("int64[]", Array(Int64())),
    ("float64[:100]", Array(Float64(), max_length=100)),
    ("bool[]", Array(Bool())),
    ("string[]", Array(String())),
    ("string[:5]", Array(String(), max_length=5)),
    ("string[128][]", Array(String(max_length=128))),
    ("string[128][:5]", Array(String(max_length=128), max_length=5)),
    ("timestamp[]", Array(Timestamp())),
    ("int64[][]", Array(Array(Int64()))),
    ("int64[:3][:4]", Array(Array(Int64(), max_length=3), max_length=4)),
    ("float32[3][]", Array(Embedding(3))),
    ("float32[3][:10]", Array(Embedding(3), max_length=10)),
    ("float16[2][][]", Array(Array(Embedding(2, "float16")))),
    ("struct<a:int64>", Struct({"a": Int64()})),
    ("struct<lat:float64,lon:float64>", Struct({"lat": Float64(), "lon": Float64()})),
    ("struct<lon:float64,lat:float64>", Struct({"lon": Float64(), "lat": Float64()})),
    ("struct<a:struct<b:float32>,c:int64[]>", Struct({"a": Struct({"b": Float32()}), "c": Array(Int64())})),
    ("struct<a:int64>[]", Array(Struct({"a": Int64()}))),
    ("struct<Name_1:string[10],_x:float32[4]>", Struct({"Name_1": String(10), "_x": Embedding(4)})),
    ("blob_ref", BlobRef()),
    ("blob_ref<image/png|image/jpeg>", BlobRef(["image/png", "image/jpeg"])),
    ("blob_ref<image/*>", BlobRef(["image/*"])),
    (
        "blob_ref<video/mp4|video/webm;registry=video-store;validate_on_write>",
        BlobRef(["video/mp4", "video/webm"], registry="video-store", validate_on_write=True),
    ),
    ("blob_ref<*;registry=x>", BlobRef(registry="x")),
    ("blob_ref<*;validate_on_write>", BlobRef(validate_on_write=True)),
    (
        "blob_ref<application/vnd.api+json;registry=docs.v2>",
        BlobRef(["application/vnd.api+json"], registry="docs.v2"),
    ),
    ("blob_ref[]", Array(BlobRef())),
    (
        "struct<img:blob_ref<image/png>,tags:string[]>[:8]",
        Array(Struct({"img": BlobRef(["image/png"]), "tags": Array(String())}), 8),
    ),
]


@pytest.mark.parametrize(("text", "dtype"), CANONICAL, ids=[text for text, _ in CANONICAL])
def test_canonical_round_trip(text: str, dtype: FeatureType) -> None:
    assert parse_dtype(text) == dtype
    assert str(parse_dtype(text)) == text
    assert dtype.to_string() == text
    assert parse_dtype(str(dtype)) == dtype


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("  int64\n", "int64"),
        ("INT64", "int64"),
        ("Float32 [ 512 ]", "float32[512]"),
        ("float32[007]", "float32[7]"),
        ("int64 [ : 10 ]", "int64[:10]"),
        ("STRUCT< lat : FLOAT64 , lon:float64 >", "struct<lat:float64,lon:float64>"),
        ("struct<Lat:float64>", "struct<Lat:float64>"),  # field names keep their case
        ("Blob_Ref < IMAGE/PNG | image/png >", "blob_ref<image/png>"),
        ("blob_ref<*>", "blob_ref"),
        (
            "blob_ref<image/png ; VALIDATE_ON_WRITE ; registry = r1>",
            "blob_ref<image/png;registry=r1;validate_on_write>",
        ),
    ],
)
def test_lenient_input_gives_canonical_output(text: str, canonical: str) -> None:
    assert str(parse_dtype(text)) == canonical


def test_feature_type_passes_through() -> None:
    dtype = Embedding(3)
    assert parse_dtype(dtype) is dtype


# --- randomized round trips ------------------------------------------------------------------

_SCALARS: list[FeatureType] = [
    Int32(),
    Int64(),
    Float16(),
    Float32(),
    Float64(),
    Bool(),
    Bytes(),
    Timestamp(),
    String(),
]
_FIELD_NAMES = ["a", "b", "lat", "lon", "x_1", "Name", "_id"]
_CONTENT_TYPES = ["image/png", "image/jpeg", "image/*", "video/mp4", "application/json"]


def _random_type(rng: random.Random, depth: int) -> FeatureType:
    choice = rng.randrange(8 if depth > 0 else 4)
    if choice == 0:
        return rng.choice(_SCALARS)
    if choice == 1:
        return String(max_length=rng.randint(1, 500))
    if choice == 2:
        return Embedding(rng.randint(1, 16), rng.choice(["float16", "float32", "float64"]))
    if choice == 3:
        types = rng.sample(_CONTENT_TYPES, rng.randint(0, 2)) or None
        return BlobRef(types, registry=rng.choice([None, "store", "video-store"]), validate_on_write=rng.random() < 0.5)
    if choice in (4, 5):
        return Array(_random_type(rng, depth - 1), max_length=rng.choice([None, rng.randint(1, 50)]))
    names = rng.sample(_FIELD_NAMES, rng.randint(1, 3))
    return Struct({name: _random_type(rng, depth - 1) for name in names})


@pytest.mark.parametrize("seed", range(4))
def test_random_nested_types_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    con = duckdb.connect()
    for _ in range(60):
        dtype = _random_type(rng, depth=3)
        text = str(dtype)
        assert parse_dtype(text) == dtype, text
        assert str(parse_dtype(text)) == text
        # Every generated type is also a valid DuckDB and Arrow type.
        (declared,) = con.execute(f"SELECT typeof(CAST(NULL AS {dtype.duckdb_type()}))").fetchall()[0]
        assert declared
        assert dtype.arrow_type() is not None
    con.close()


# --- errors ----------------------------------------------------------------------------------

# (input, position, part, a fragment of the message)
ERRORS: list[tuple[str, int, str, str]] = [
    ("", 0, "", "the type is empty"),
    ("   ", 3, "", "the type is empty"),
    ("flaot32", 0, "flaot32", "did you mean 'float32'?"),
    ("  flaot32", 2, "flaot32", "is not a known type"),
    ("double", 0, "double", "did you mean 'float64'?"),
    ("tensor", 0, "tensor", "write one of int32, int64"),
    (
        "float32[0]",
        8,
        "0",
        "'0' at position 8 is not a positive dimension; write float32[512] for an embedding",
    ),
    ("float32[-3]", 8, "-3", "is not a positive dimension"),
    (
        "float32[abc]",
        8,
        "abc",
        "Invalid dtype 'float32[abc]': 'abc' at position 8 is not a dimension; write float32[512] for an "
        "embedding, float32[] for a variable-length array or float32[:100] for a bounded one",
    ),
    ("float32[512", 7, "[", "'[' at position 7 is never closed; add ']'"),
    ("float32[512 x]", 12, "x", "stands where ']' should close"),
    ("float32[100001]", 8, "100001", "above the largest embedding dimension"),
    ("int64 x", 6, "x", "'x' at position 6 is unexpected after the type 'int64'"),
    ("int64[] junk here ", 8, "junk here", "unexpected"),
    ("struct<>", 6, "<>", "declares no field"),
    ("struct", 0, "struct", "needs its fields in <...>"),
    ("struct<a int64>", 9, "int64", "should follow field 'a'; write a:int64"),
    ("struct<a:int64,a:float32>", 15, "a", "repeats a field name"),
    ("struct<a:int64,A:float32>", 15, "A", "case-insensitive"),
    ("struct<1a:int64>", 7, "1a", "is not a field name"),
    ("struct<a:int64,>", 15, ">", "is not a field name"),
    ("struct<a:int64", 6, "<", "'<' at position 6 is never closed"),
    ("struct<a:int64;b:bool>", 14, ";", "should follow field 'a'"),
    ("struct<a:>", 9, ">", "is not the start of a type"),
    ("struct<a:", 9, "", "a type name is missing at position 9"),
    ("string[0]", 7, "0", "is not a positive length; write string[128]"),
    ("string[128][5]", 11, "[5]", "only float embeddings"),
    (
        "int64[5]",
        5,
        "[5]",
        "write int64[] for a variable-length array or int64[:5] for one of at most 5 elements",
    ),
    ("float32[3][4]", 10, "[4]", "write float32[3][] for a variable-length array"),
    ("int64[:0]", 7, "0", "is not a positive maximum length"),
    ("int64[:]", 7, "]", "stands where a maximum length should be"),
    ("[:0]", 0, "[", "is not the start of a type"),
    ("blob_ref<png>", 9, "png", "'png' at position 9 is not a content type; write type/subtype"),
    ("blob_ref<image/png,image/jpeg>", 9, "image/png,image/jpeg", "separated by |"),
    ("blob_ref<>", 9, ">", "stands where a content type should be"),
    ("blob_ref<;registry=x>", 9, ";", "write * for any type"),
    ("blob_ref<*|image/png>", 11, "image/png", "mixes '*'"),
    ("blob_ref<image/png;registy=x>", 19, "registy", "did you mean 'registry'?"),
    ("blob_ref<image/png;registry>", 19, "registry", "needs a value"),
    ("blob_ref<image/png;registry=a/b>", 28, "a/b", "is not a registry name"),
    ("blob_ref<image/png;validate_on_write;validate_on_write>", 37, "validate_on_write", "repeats an option"),
    ("blob_ref<image/png", 8, "<", "is never closed"),
    ("int64" + "[]" * 40, 67, "[][][][][]", "more than 32 levels deep"),
]


@pytest.mark.parametrize(("text", "position", "part", "fragment"), ERRORS, ids=[e[0] or "<empty>" for e in ERRORS])
def test_malformed_types_are_pointed_at(text: str, position: int, part: str, fragment: str) -> None:
    with pytest.raises(InvalidDtypeError) as info:
        parse_dtype(text)
    error = info.value
    assert error.code == "INVALID_DTYPE"
    assert error.details == {"dtype": text, "position": position, "part": part}
    assert error.message.startswith(f"Invalid dtype {text!r}: ")
    assert fragment in error.message


@pytest.mark.parametrize("value", [5, None, b"int64", ["int64"], Int64])
def test_non_string_input_is_invalid(value: Any) -> None:
    with pytest.raises(InvalidDtypeError) as info:
        parse_dtype(value)
    assert info.value.code == "INVALID_DTYPE"
    assert "expected a type string" in info.value.message
    assert info.value.details["dtype"] == repr(value)
