"""``fs.analyze`` names features by path, or by name alone when one group of the project has them."""

from __future__ import annotations

import pyarrow as pa
import pytest

from raise_ import Aggregation, Correlation, FeatureStore
from raise_.errors import InvalidAnalysisError

TS = pa.timestamp("us", tz="UTC")


@pytest.fixture
def store(fs: FeatureStore) -> FeatureStore:
    for name, clicks in (("user-signals", [1, 2, 3]), ("item-signals", [10, 20, 30])):
        g = fs.create_feature_group(name, entity_keys=["id"], event_time="event_time")
        g.create_features_from_schema({"clicks": "int64", f"{name.split('-')[0]}_score": "float64"})
        g.write(
            pa.table(
                {
                    "id": [1, 2, 3],
                    "event_time": pa.array([0, 1, 2], type=TS),
                    "clicks": clicks,
                    f"{name.split('-')[0]}_score": [0.5, 0.25, 1.0],
                }
            )
        )
    return fs


def test_names_alone_find_the_one_group_holding_them(store: FeatureStore) -> None:
    result = store.analyze(Correlation(features=["clicks", "user_score"]))
    assert result.group == "acme/mlplatform/recommendation/user-signals"
    assert result.correlation_matrix[0][1] == pytest.approx(0.6546536707079772)  # numpy.corrcoef([1,2,3],[.5,.25,1])
    assert store.analyze(Aggregation(feature="item_score", metrics=["sum"])).metrics == {"sum": 1.75}


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        (["clicks"], "groups item-signals, user-signals all have them"),
        (["user_score", "item_score"], "no group of the project has all of them"),
        (["nope"], "no group of the project has all of them"),
    ],
)
def test_names_alone_that_name_no_single_group_say_how_to_fix(
    store: FeatureStore, features: list[str], expected: str
) -> None:
    with pytest.raises(InvalidAnalysisError) as err:
        store.analyze(
            Aggregation(feature=features[0], metrics=["sum"]) if len(features) == 1 else Correlation(features=features)
        )
    assert expected in err.value.message and "name them by path" in err.value.message


def test_paths_name_their_group_even_where_names_are_ambiguous(store: FeatureStore) -> None:
    result = store.analyze(Correlation(features=["item-signals.clicks", "item-signals.item_score"]))
    assert result.group == "acme/mlplatform/recommendation/item-signals"
