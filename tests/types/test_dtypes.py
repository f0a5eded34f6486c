"""The type classes: storage mappings proven against a real DuckDB, value semantics, validation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import raise_.types as types_pkg
from raise_.errors import InvalidDtypeError
from raise_.types import (
    BLOB_REF_STORAGE,
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
    is_compatible,
)

UTC = dt.UTC
BLOB = {
    "uri": "s3://bucket/cat.png",
    "content_type": "image/png",
    "checksum": "ab12",
    "hash_algorithm": "sha256",
    "size_bytes": 1234,
    "etag": "e1",
    "version_id": None,
    "created_at": dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
    "metadata": '{"w": 64}',
}

# (type, one sample value): each is written to and read back from a DuckDB column of duckdb_type().
STORAGE_CASES: list[tuple[FeatureType, Any]] = [
    (Int32(), -7),
    (Int64(), 2**40 + 1),
    (Float32(), 1.5),
    (Float64(), 0.1),
    (Bool(), True),
    (String(), "héllo"),
    (String(max_length=8), "abc"),
    (Bytes(), b"\x00\xff"),
    (Timestamp(), dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)),
    (Embedding(3), [1.0, 2.0, 3.0]),
    (Embedding(2, dtype="float64"), [0.1, 0.2]),
    (Array(Int64()), [1, 2, 3]),
    (Array(Float64(), max_length=100), [0.5, -0.25]),
    (Array(String()), ["a", "b"]),
    (Array(Array(Int64())), [[1], [2, 3]]),
    (Array(Embedding(3)), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
    (Struct({"lat": Float64(), "lon": Float64()}), {"lat": 1.5, "lon": 2.5}),
    (Struct({"a": Struct({"b": Float32()}), "c": Array(Int64())}), {"a": {"b": 1.5}, "c": [1, 2]}),
    (Array(Struct({"a": Int64()})), [{"a": 1}, {"a": 2}]),
    (BlobRef(), BLOB),
    (BlobRef(["image/png"], registry="images", validate_on_write=True), BLOB),
    (Struct({"img": BlobRef(), "label": Int64()}), {"img": BLOB, "label": 3}),
]


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    # Read TIMESTAMPTZ back as tz=UTC, the zone arrow_type() declares.
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


def _round_trip(con: duckdb.DuckDBPyConnection, name: str, column_type: str, data: pa.Array) -> pa.Table:
    con.execute(f"CREATE OR REPLACE TABLE {name} (c {column_type})")
    con.register("source", pa.table({"c": data}))
    con.execute(f"INSERT INTO {name} SELECT c FROM source")
    con.unregister("source")
    return con.sql(f"SELECT c FROM {name}").to_arrow_table()


@pytest.mark.parametrize(("dtype", "sample"), STORAGE_CASES, ids=[str(t) for t, _ in STORAGE_CASES])
def test_duckdb_and_arrow_types_hold_values(con: duckdb.DuckDBPyConnection, dtype: FeatureType, sample: Any) -> None:
    data = pa.array([sample, None], type=dtype.arrow_type())
    result = _round_trip(con, "t", dtype.duckdb_type(), data)
    # The type DuckDB hands back is the declared Arrow type: an int column read as DOUBLE would
    # still compare equal as Python values, so the values alone would prove nothing.
    assert result.schema.field("c").type == dtype.arrow_type()
    assert result.column("c").to_pylist() == [sample, None]
    # DuckDB spells the column type as we do, up to which field names it bothers to quote.
    (declared,) = con.execute("SELECT typeof(c) FROM t LIMIT 1").fetchall()[0]
    declared = declared.replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
    assert declared.replace('"', "") == dtype.duckdb_type().replace('"', "")


@pytest.mark.parametrize("dtype", [Float16(), Embedding(3, dtype="float16")], ids=str)
def test_float16_round_trips_exactly_through_float(con: duckdb.DuckDBPyConnection, dtype: FeatureType) -> None:
    # 0.1 is inexact in float16, 6.1e-05 is subnormal and 65504 the largest value: all must come
    # back bit-identical. DuckDB cannot scan Arrow halffloat, so writers widen to float32 (exact).
    values: list[Any] = [0.1, 6.1e-05, 65504.0, -2.5]
    samples = [[v, v, v] for v in values] if isinstance(dtype, Embedding) else values
    original = pa.array(samples, type=dtype.arrow_type())
    widened_type = pa.list_(pa.float32(), 3) if isinstance(dtype, Embedding) else pa.float32()
    result = _round_trip(con, "h", dtype.duckdb_type(), original.cast(widened_type))
    back = result.column("c").cast(dtype.arrow_type())
    assert back.to_pylist() == original.to_pylist()
    assert dtype.duckdb_type() in ("FLOAT", "FLOAT[3]")


def test_blob_ref_storage_is_the_documented_struct() -> None:
    assert BlobRef().duckdb_type() == (
        'STRUCT("uri" VARCHAR, "content_type" VARCHAR, "checksum" VARCHAR, "hash_algorithm" VARCHAR, '
        '"size_bytes" BIGINT, "etag" VARCHAR, "version_id" VARCHAR, "created_at" TIMESTAMPTZ, '
        '"metadata" VARCHAR)'
    )
    assert BlobRef(["video/mp4"]).arrow_type() == BLOB_REF_STORAGE.arrow_type()
    assert BlobRef().arrow_type().field("created_at").type == pa.timestamp("us", tz="UTC")


def test_struct_field_names_are_quoted_for_duckdb() -> None:
    assert Struct({"lat": Float64(), "lon": Float64()}).duckdb_type() == 'STRUCT("lat" DOUBLE, "lon" DOUBLE)'
    assert Struct({"select": Int64()}).duckdb_type() == 'STRUCT("select" BIGINT)'


# --- value semantics -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (Int64(), "Int64()"),
        (Float16(), "Float16()"),
        (Embedding(512), "Embedding(512)"),
        (Embedding(768, dtype="float16"), "Embedding(768, dtype='float16')"),
        (Array(Int64(), max_length=100), "Array(Int64(), max_length=100)"),
        (Array(Embedding(3)), "Array(Embedding(3))"),
        (Struct({"lat": Float64(), "lon": Float64()}), "Struct({'lat': Float64(), 'lon': Float64()})"),
        (String(max_length=128), "String(max_length=128)"),
        (String(), "String()"),
        (BlobRef(), "BlobRef()"),
        (
            BlobRef(["image/png"], registry="r", validate_on_write=True),
            "BlobRef(content_types=['image/png'], registry='r', validate_on_write=True)",
        ),
    ],
)
def test_repr_is_the_constructor(dtype: FeatureType, expected: str) -> None:
    assert repr(dtype) == expected
    assert eval(expected, vars(types_pkg)) == dtype


def test_equality_and_hash_are_structural() -> None:
    assert Embedding(512) == Embedding(512, "float32") == Embedding(512, Float32())
    assert hash(Embedding(512)) == hash(Embedding(512, Float32()))
    assert Embedding(512) != Embedding(512, "float16")
    int64: object = Int64()  # typed loosely: comparing across types is the point
    assert int64 != Int32()
    assert int64 != "int64"  # the string is a serialization, not the type
    assert len({Int64(), Int64(), Array(Int64()), Array("int64"), Int32()}) == 3
    # Field order is part of the type: Arrow and DuckDB structs are ordered.
    assert Struct({"a": Int64(), "b": Bool()}) != Struct({"b": Bool(), "a": Int64()})
    assert Struct({"a": "float32[3]"}) == Struct({"a": Embedding(3)})
    assert BlobRef(["IMAGE/PNG", "image/png"]) == BlobRef(("image/png",))


def test_types_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Embedding(3).dim = 4  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Int64().x = 1  # type: ignore[attr-defined]
    fields = Struct({"a": Int64()}).fields
    with pytest.raises(TypeError):
        fields["b"] = Int64()  # type: ignore[index]
    assert list(fields) == ["a"]


@pytest.mark.parametrize(
    ("dtype", "kind", "numeric", "vector"),
    [
        (Int32(), "int32", True, False),
        (Int64(), "int64", True, False),
        (Float16(), "float16", True, False),
        (Float32(), "float32", True, False),
        (Float64(), "float64", True, False),
        (Bool(), "bool", False, False),
        (String(5), "string", False, False),
        (Bytes(), "bytes", False, False),
        (Timestamp(), "timestamp", False, False),
        (Embedding(4), "embedding", False, True),
        (Array(Float32()), "array", False, True),
        (Array(Int64()), "array", False, True),
        (Array(String()), "array", False, False),
        (Array(Embedding(2)), "array", False, False),
        (Struct({"a": Int64()}), "struct", False, False),
        (BlobRef(), "blob_ref", False, False),
    ],
)
def test_kind_and_flags(dtype: FeatureType, kind: str, numeric: bool, vector: bool) -> None:
    assert (dtype.kind, dtype.is_numeric, dtype.is_vector) == (kind, numeric, vector)
    assert str(dtype) == dtype.to_string()


# --- constructor validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: Embedding(0), "dim must be a positive integer, got 0"),
        (lambda: Embedding(True), "got True"),
        (lambda: Embedding(3.0), "got 3.0"),  # type: ignore[arg-type]
        (lambda: Embedding(100_001), "above the maximum 100000"),
        (lambda: Embedding(3, "int64"), "must be float16, float32 or float64"),
        (lambda: Embedding(3, "flaot32"), "did you mean 'float32'"),
        (lambda: String(0), "max_length must be a positive integer"),
        (lambda: Array(Int64(), max_length=-1), "max_length must be a positive integer"),
        (lambda: Array(5), "must be a type or a type string"),  # type: ignore[arg-type]
        (lambda: Struct({}), "at least one field"),
        (lambda: Struct({"1a": Int64()}), "'1a' is not a valid field name"),
        (lambda: Struct({"a b": Int64()}), "not a valid field name"),
        (lambda: Struct({"a": Int64(), "A": Bool()}), "case-insensitive"),
        (lambda: Struct([("a", Int64())]), "must be a mapping"),  # type: ignore[arg-type]
        (lambda: BlobRef(["png"]), "'png' is not a content type"),
        (lambda: BlobRef(["*/*"]), "not a content type"),
        (lambda: BlobRef(["text/plain; charset=utf-8"]), "not a content type"),
        (lambda: BlobRef(registry="a;b"), "not a registry name"),
        (lambda: BlobRef(registry=""), "not a registry name"),
        (lambda: BlobRef(validate_on_write="yes"), "must be True or False"),  # type: ignore[arg-type]
    ],
)
def test_constructors_reject_bad_arguments(build: Any, fragment: str) -> None:
    with pytest.raises(InvalidDtypeError) as info:
        build()
    assert info.value.code == "INVALID_DTYPE"
    assert fragment in info.value.message


# --- blob references -------------------------------------------------------------------------


# (str, Enum) on purpose, not StrEnum: its str() is "_StrContentType.PNG", so .value must win.
class _StrContentType(str, enum.Enum):  # noqa: UP042
    PNG = "image/png"
    MP4 = "video/mp4"


class _ContentType(enum.Enum):
    JPEG = "image/jpeg"


def test_blob_ref_normalises_content_types() -> None:
    ref = BlobRef([_StrContentType.PNG, _ContentType.JPEG, "Video/*"])
    assert ref.content_types == ("image/png", "image/jpeg", "video/*")
    assert all(type(t) is str for t in ref.content_types)
    assert BlobRef("image/png").content_types == ("image/png",)  # a lone string is one type
    assert BlobRef(_StrContentType.MP4).content_types == ("video/mp4",)
    assert BlobRef([]).content_types is None


@pytest.mark.parametrize(
    ("allowed", "candidate", "accepted"),
    [
        (None, "image/png", True),
        (None, "anything", True),
        (["image/png"], "image/png", True),
        (["image/png"], "IMAGE/PNG", True),
        (["image/png"], "image/png; charset=binary", True),
        (["image/png"], "image/jpeg", False),
        (["image/*"], "image/webp", True),
        (["image/*"], "video/mp4", False),
        (["image/*"], "image/*", False),
        (["video/mp4", "video/webm"], "video/webm", True),
        (["image/png"], "png", False),
        (["image/png"], _StrContentType.PNG, True),
        (["image/jpeg"], _ContentType.JPEG, True),
    ],
)
def test_blob_ref_accepts(allowed: list[str] | None, candidate: Any, accepted: bool) -> None:
    assert BlobRef(allowed).accepts(candidate) is accepted


def test_blob_ref_string_keeps_every_option() -> None:
    assert str(BlobRef()) == "blob_ref"
    assert str(BlobRef(["image/png", "image/jpeg"])) == "blob_ref<image/png|image/jpeg>"
    assert (
        str(BlobRef(["video/mp4", "video/webm"], registry="video-store", validate_on_write=True))
        == "blob_ref<video/mp4|video/webm;registry=video-store;validate_on_write>"
    )
    assert str(BlobRef(registry="x")) == "blob_ref<*;registry=x>"
    assert str(BlobRef(validate_on_write=True)) == "blob_ref<*;validate_on_write>"


# --- compatibility ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "inferred", "ok"),
    [
        (Int64(), Int64(), True),
        (Float64(), Int64(), True),
        (Float32(), Int32(), True),
        (Float32(), Float64(), True),
        (Float64(), Float16(), True),
        (Int64(), Int32(), True),
        (Int64(), Float64(), False),
        (Int32(), Int64(), False),
        (Float64(), Bool(), False),
        (String(), String(max_length=10), True),
        (String(max_length=10), String(), False),
        (String(max_length=10), String(max_length=10), True),
        (Embedding(3), Embedding(3, "float64"), True),
        (Embedding(3), Embedding(4), False),
        (Embedding(3), Array(Float32()), False),
        (Array(Int64()), Array(Int64()), True),
        (Struct({"a": Int64()}), Struct({"b": Int64()}), False),
        (BlobRef(), BlobRef(), True),
        (Timestamp(), Int64(), False),
    ],
)
def test_is_compatible(declared: FeatureType, inferred: FeatureType, ok: bool) -> None:
    assert is_compatible(declared, inferred) is ok


def test_public_names() -> None:
    import raise_.types.parser as parser_module

    required = {"Int64", "Float32", "Embedding", "Array", "Struct", "BlobRef", "parse_dtype", "FeatureType"}
    assert required <= set(types_pkg.__all__)
    assert all(hasattr(types_pkg, name) for name in types_pkg.__all__)
    assert parser_module.__all__ == ["parse_dtype"]
