"""Feature paths as users write them, resolved against the project a store is opened on."""

from __future__ import annotations

import pytest

from raise_.catalog.paths import FeaturePath, parse_feature_path, parse_project_path
from raise_.errors import RaiseError

CONTEXT = parse_project_path("acme/ml/rec")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("g/x", ("acme", "ml", "rec", "g", "x", None)),
        ("g.x", ("acme", "ml", "rec", "g", "x", None)),
        ("g.x@v2", ("acme", "ml", "rec", "g", "x", "v2")),
        ("rec2/g.x", ("acme", "ml", "rec2", "g", "x", None)),
        ("ml2/rec2/g/x@v1", ("acme", "ml2", "rec2", "g", "x", "v1")),
        ("acme/ml/rec/g/x", ("acme", "ml", "rec", "g", "x", None)),
        # the cross-organization spelling of expressions, with the group.feature dot
        (
            "@partner/catalog/products/item-quality.quality_score",
            ("partner", "catalog", "products", "item-quality", "quality_score", None),
        ),
        (
            "@partner/catalog/products/item-quality/quality_score@v3",
            ("partner", "catalog", "products", "item-quality", "quality_score", "v3"),
        ),
    ],
)
def test_paths_resolve_against_the_context(text: str, expected: tuple[str | None, ...]) -> None:
    assert parse_feature_path(text, CONTEXT) == FeaturePath(*expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["x", "", "a/b/c/d/e/f", "g/bad name", "acme/ml/rec/g.x/y"])
def test_malformed_paths_are_coded_errors(text: str) -> None:
    with pytest.raises(RaiseError) as caught:
        parse_feature_path(text, CONTEXT)
    assert caught.value.code in ("INVALID_ARGUMENT", "INVALID_NAME")
