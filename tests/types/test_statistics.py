"""Which summary statistics fit a dtype: the table the sidebar shows a feature's detail by."""

from __future__ import annotations

import pytest

from raise_ import FeatureStore
from raise_.types.statistics import summary_statistics

NUMBER = ["count", "null_rate", "min", "max", "avg", "stddev", "distinct_count"]
CATEGORY = ["count", "null_rate", "distinct_count"]
TIME = ["count", "null_rate", "min", "max", "distinct_count"]
OTHER = ["count", "null_rate"]

CASES = [
    ("int32", NUMBER),
    ("int64", NUMBER),
    ("float16", NUMBER),
    ("float32", NUMBER),
    ("float64", NUMBER),
    ("bool", CATEGORY),
    ("string", CATEGORY),
    ("string[2]", CATEGORY),
    ("timestamp", TIME),
    ("bytes", OTHER),
    ("float32[64]", OTHER),
    ("int64[]", OTHER),
    ("string[:10]", OTHER),
    ("struct<lat:float64,lon:float64>", OTHER),
    ("blob_ref<image/png|image/jpeg>", OTHER),
    ("not a dtype", OTHER),
]


@pytest.mark.parametrize(("dtype", "metrics"), CASES, ids=[c[0] for c in CASES])
def test_each_dtype_gets_the_statistics_that_fit_it(dtype: str, metrics: list[str]) -> None:
    assert list(summary_statistics(dtype)) == metrics


def test_a_feature_record_says_which_statistics_fit_its_dtype(fs: FeatureStore) -> None:
    group = fs.create_feature_group("g", entity_keys=["k"], event_time="t")
    group.create_feature("score", "float64")
    group.create_feature("country", "string")
    group.create_feature("vec", "float32[4]")

    by_name = {f.name: f.record.statistics for f in group.list_features()}
    assert by_name == {"score": NUMBER, "country": CATEGORY, "vec": OTHER}
