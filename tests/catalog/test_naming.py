"""Name rules and the PRD §4.2 physical mapping, as tables of cases."""

from __future__ import annotations

import pytest

from raise_.catalog.naming import (
    check_not_reserved,
    is_reserved_column,
    physical_column_name,
    physical_table_name,
    validate_feature_name,
    validate_namespace_name,
    validate_tags,
)
from raise_.errors import InvalidArgumentError, InvalidNameError


@pytest.mark.parametrize("name", ["acme", "user-signals", "fraud_detection", "A1", "9lives", "x" * 128])
def test_valid_namespace_names(name: str) -> None:
    assert validate_namespace_name("project", name) == name


@pytest.mark.parametrize(
    ("name", "position", "fragment"),
    [
        ("user signals", 4, "' ' at position 4"),
        ("-lead", 0, "'-' at position 0"),
        ("a/b", 1, "'/' at position 1"),
        ("café", 3, "'é' at position 3"),
        ("x.y", 1, "'.' at position 1"),
    ],
)
def test_invalid_namespace_names_show_the_offending_character(name: str, position: int, fragment: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        validate_namespace_name("feature group", name)
    assert info.value.code == "INVALID_NAME"
    assert fragment in info.value.message
    assert repr(name) in info.value.message
    assert info.value.details["position"] == position


@pytest.mark.parametrize("name", ["click_count", "_private", "CTR", "x1"])
def test_valid_feature_names(name: str) -> None:
    assert validate_feature_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("click-count", "Try 'click_count'"),
        ("1st", "'1' at position 0"),
        ("a b", "' ' at position 1"),
        ("user.embedding", "'.' at position 4"),
        ("", "empty"),
        ("f" * 129, "129 characters long; the limit is 128"),
    ],
)
def test_invalid_feature_names(name: str, fragment: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        validate_feature_name(name)
    assert fragment in info.value.message


def test_non_string_name_is_a_coded_error() -> None:
    with pytest.raises(InvalidNameError, match="must be a string"):
        validate_feature_name(42)


@pytest.mark.parametrize(
    ("parts", "table"),
    [
        (("acme", "mlplatform", "recommendation", "user-signals"), "acme__mlplatform__recommendation__user_signals"),
        (("acme", "ml", "fraud-detection", "user_signals"), "acme__ml__fraud_detection__user_u_signals"),
        (("Acme", "ML", "Rec", "Items"), "acme__ml__rec__items"),
    ],
)
def test_physical_table_names_follow_prd_4_2(parts: tuple[str, str, str, str], table: str) -> None:
    assert physical_table_name(*parts) == table


def test_hyphen_and_underscore_groups_get_different_tables() -> None:
    assert physical_table_name("a", "b", "c", "user-signals") != physical_table_name("a", "b", "c", "user_signals")


@pytest.mark.parametrize(
    ("feature", "version", "column"),
    [("user_embedding", "v1", "user_embedding_v1"), ("CTR", "v12", "ctr_v12"), ("x_v1", "v2", "x_v1_v2")],
)
def test_physical_column_names(feature: str, version: str, column: str) -> None:
    assert physical_column_name(feature, version) == column


def test_tags_are_deduplicated_in_order() -> None:
    assert validate_tags(["prod", "embedding", "prod"]) == ["prod", "embedding"]
    assert validate_tags(None) == []


@pytest.mark.parametrize("tags", ["prod", ["has space"], [""], [1], ["x" * 65]])
def test_invalid_tags(tags: object) -> None:
    with pytest.raises(InvalidArgumentError):
        validate_tags(tags)


def _internal_column_names() -> list[str]:
    """Every column name the storage layer adds to its outputs or its working queries, as the
    modules that use them name them (and the first of the plan's ``_n<i>``/``_t<i>`` aliases)."""
    from raise_.storage import ingest, layout, training

    return [layout.COMMIT_COLUMN, layout.SUPERSEDED_COLUMN, ingest.ROW_COLUMN, training._ENTITY_TIME, "_n0", "_t0"]


@pytest.mark.parametrize(
    ("name", "reserved"),
    [
        *((name, True) for name in _internal_column_names()),
        ("_COMMIT", True),  # DuckDB compares names ignoring case
        ("_n12", True),
        ("_T3", True),
        ("__anything", True),
        ("commit", False),
        ("_commits", False),
        ("_next", False),
        ("n0", False),
        ("_private", False),
    ],
)
def test_the_columns_raise_adds_are_reserved(name: str, reserved: bool) -> None:
    assert is_reserved_column(name) is reserved
    if reserved:
        with pytest.raises(InvalidNameError, match="reserved") as info:
            check_not_reserved("feature", name)
        assert (info.value.code, info.value.details["name"]) == ("INVALID_NAME", name)
    else:
        assert check_not_reserved("feature", name) == name
