"""Every type of PRD appendix A comes back exactly as written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from raise_ import FeatureStore

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)

CASES = [
    ("int64", [0, -(2**63), 2**63 - 1, None]),
    ("int32", [7, -(2**31), None, 1]),
    ("float64", [1.5, -0.0, 1e308, None]),
    ("float32", [0.5, 3.25, -1.0, None]),
    ("float16", [0.5, 65504.0, -2.0, None]),
    ("bool", [True, False, None, True]),
    ("string", ["héllo", "", "😀 emoji", None]),
    ("string[4]", ["abcd", "é", None, ""]),
    ("bytes", [b"\x00\xff", b"", None, b"abc"]),
    (
        "timestamp",
        [
            datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC),
            datetime(2024, 6, 1, 12, tzinfo=timezone(timedelta(hours=2))),
            None,
            datetime(1970, 1, 1, tzinfo=UTC),
        ],
    ),
    ("float32[3]", [[1.0, 2.0, 3.0], [0.5, -0.5, 0.25], None, [0.0, 0.0, 0.0]]),
    ("float16[2]", [[0.5, 1.0], None, [2.0, -4.0], [0.0, 0.0]]),
    ("float64[2]", [[1e-300, 2.0], [3.0, 4.0], None, [0.1, 0.2]]),
    ("int64[]", [[1, 2, 3], [], None, [-1]]),
    ("float64[:3]", [[1.0], [1.0, 2.0, 3.0], None, []]),
    (
        "struct<lat:float64,lon:float64>",
        [{"lat": 48.85, "lon": 2.35}, None, {"lat": None, "lon": 0.0}, {"lat": 1.0, "lon": 2.0}],
    ),
    (
        "struct<a:struct<b:int64>,tags:string[]>",
        [{"a": {"b": 1}, "tags": ["x", "y"]}, None, {"a": None, "tags": []}, {"a": {"b": None}, "tags": None}],
    ),
    (
        "blob_ref<image/png|image/jpeg>",
        [
            {
                "uri": "s3://b/a.png",
                "content_type": "image/png",
                "checksum": "abc",
                "hash_algorithm": "sha256",
                "size_bytes": 10,
                "etag": None,
                "version_id": None,
                "created_at": T0,
                "metadata": '{"w": 1}',
            },
            None,
            {
                "uri": "file:///x.jpg",
                "content_type": "image/jpeg",
                "checksum": "d",
                "hash_algorithm": "md5",
                "size_bytes": 0,
                "etag": "e",
                "version_id": "v",
                "created_at": T0,
                "metadata": None,
            },
            None,
        ],
    ),
]


@pytest.mark.parametrize(("dtype", "values"), CASES, ids=[c[0] for c in CASES])
def test_values_round_trip_exactly(fs: FeatureStore, dtype: str, values: list) -> None:
    g = fs.create_feature_group("g", entity_keys=["id"], event_time="event_time")
    g.create_feature("v", dtype=dtype)
    g.write([{"id": i, "event_time": T0, "v": v} for i, v in enumerate(values)])
    got = g.read(["v"]).to_arrow()
    assert got.column("v").to_pylist() == values
    assert got.column("id").to_pylist() == list(range(len(values)))
    # and the same through a training set
    ts = fs.get_training_data([{"id": i, "event_time": T0} for i in range(len(values))], ["g.v"]).to_arrow()
    assert ts.column("v").to_pylist() == values


def test_blob_ref_content_type_is_enforced(fs: FeatureStore) -> None:
    from raise_.errors import InvalidDataError

    g = fs.create_feature_group("g", entity_keys=["id"], event_time="event_time")
    g.create_feature("img", dtype="blob_ref<image/png>")
    with pytest.raises(InvalidDataError, match="'video/mp4' is not accepted") as info:
        g.write([{"id": 1, "event_time": T0, "img": {"uri": "s3://x.mp4", "content_type": "video/mp4"}}])
    assert info.value.details["row"] == 0
