"""The feature creation form, driven as the front end drives it: set traits, send the create message."""

from __future__ import annotations

import re

import pytest

from raise_ import FeatureStore
from raise_jupyter.widgets import FeatureForm
from raise_jupyter.widgets.form import DTYPE_CHOICES

GROUP = "acme/mlplatform/recommendation/user-signals"


@pytest.fixture
def form(fs: FeatureStore) -> FeatureForm:
    signals = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    signals.create_feature("clicks", "int64")
    signals.create_feature("impressions", "int64")
    return FeatureForm(signals)


def names(fs: FeatureStore) -> list[str]:
    return sorted(f"{f.name}@{f.version}" for f in fs.feature_group("user-signals").list_features(all_versions=True))


def test_a_fresh_form_waits_for_a_name(form: FeatureForm) -> None:
    assert form.group_path == GROUP
    assert form.dtype == "float64" and form.dtype_choices == list(DTYPE_CHOICES)
    assert form.validation["state"] == "incomplete"
    assert (
        repr(form)
        == f"FeatureForm({GROUP})\n  name: -  dtype: float64\n  validation: incomplete, inferred type float64"
    )


def test_typing_a_valid_expression_shows_the_inferred_type(form: FeatureForm) -> None:
    form.name = "ctr"
    form.expression = "clicks / NULLIF(impressions, 0)"

    assert form.validation["state"] == "valid"
    assert form.validation["inferred_type"] == "float64"
    assert [r["feature"] for r in form.validation["references"]] == [f"{GROUP}/clicks@v1", f"{GROUP}/impressions@v1"]
    assert form.validation["errors"] == []


def test_typing_a_broken_expression_shows_coded_errors_with_their_position(form: FeatureForm) -> None:
    form.name = "ctr"
    form.expression = "clicks / "

    (error,) = form.validation["errors"]
    assert form.validation["state"] == "invalid"
    assert (error["code"], error["line"], error["column"], error["field"]) == ("SYNTAX_ERROR", 1, 8, "expression")
    assert "  error: SYNTAX_ERROR (line 1, column 8): " in repr(form)

    form.expression = "clicks\n  + nope_feature * 2"
    (warning,) = form.validation["warnings"]
    assert (warning["code"], warning["line"], warning["column"]) == ("UNKNOWN_REFERENCE", 2, 5)
    assert form.validation["state"] == "valid"


def test_a_type_mismatch_is_an_error_on_the_expression(form: FeatureForm) -> None:
    form.name = "clicks_per_view"
    form.dtype = "int64"
    form.expression = "clicks / impressions * 1.5"

    (error,) = form.validation["errors"]
    assert error["code"] == "DTYPE_MISMATCH"
    assert form.validation["inferred_type"] == "float64"


@pytest.mark.parametrize(
    ("trait", "value", "code", "field"),
    [("name", "bad name", "INVALID_NAME", "name"), ("dtype", "float33", "INVALID_DTYPE", "dtype")],
)
def test_a_bad_name_or_dtype_is_shown_on_its_field(
    form: FeatureForm, trait: str, value: str, code: str, field: str
) -> None:
    setattr(form, trait, value)

    (error,) = form.validation["errors"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["text"].startswith(f"[{code}] ")


def test_the_create_message_creates_the_feature(form: FeatureForm, fs: FeatureStore) -> None:
    form.name = "ctr"
    form.description = "Click-through rate"
    form.tags = ["ratio", " derived "]
    form.expression = "clicks / NULLIF(impressions, 0)"

    form._handle_custom_msg({"type": "create"}, [])  # what the button sends

    feature = fs.feature("user-signals/ctr")
    assert (feature.dtype.__str__(), feature.description, feature.tags, feature.derived_from) == (
        "float64",
        "Click-through rate",
        ["ratio", "derived"],
        "clicks / NULLIF(impressions, 0)",
    )
    assert form.last_created == feature
    assert form.created == {
        "qualified_name": f"{GROUP}/ctr@v1",
        "name": "ctr",
        "version": "v1",
        "dtype": "float64",
        "derived_from": "clicks / NULLIF(impressions, 0)",
        "tags": ["ratio", "derived"],
    }
    assert form.error == {}
    assert repr(form).splitlines() == [
        f"FeatureForm({GROUP})",
        "  name: ctr  dtype: float64",
        "  expression: clicks / NULLIF(impressions, 0)",
        "  tags: ratio, derived",
        "  validation: valid, inferred type float64",
        f"  created: {GROUP}/ctr@v1 (float64)",
    ]


def test_a_plain_feature_needs_no_expression(form: FeatureForm, fs: FeatureStore) -> None:
    form.name = "country"
    form.dtype = "string[2]"

    assert form.create() is not None
    assert str(fs.feature("user-signals/country").dtype) == "string[2]"
    assert fs.feature("user-signals/country").derived_from is None


def test_a_refused_creation_reports_the_coded_error_and_changes_nothing(form: FeatureForm, fs: FeatureStore) -> None:
    before = names(fs)
    form.name = "clicks"
    form.dtype = "int64"

    assert form.create() is None

    assert form.error["code"] == "FEATURE_EXISTS"
    assert form.error["text"].startswith("[FEATURE_EXISTS] ")
    assert form.created == {}
    assert names(fs) == before
    assert repr(form).splitlines()[-1].startswith("  not created: [FEATURE_EXISTS] ")

    form.name = "broken"  # editing again clears the error
    assert form.error == {}
    form.expression = "clicks +"
    assert form.create() is None
    assert form.error["code"] == "INVALID_EXPRESSION"
    assert names(fs) == before


def test_unknown_messages_are_ignored(form: FeatureForm, fs: FeatureStore) -> None:
    form.name = "ignored"
    form._handle_custom_msg({"type": "something-else"}, [])
    form._handle_custom_msg("not even a dict", [])
    assert "ignored@v1" not in names(fs)


def test_text_forms(form: FeatureForm) -> None:
    data, _ = form._repr_mimebundle_()
    assert data["text/plain"] == repr(form)
    assert not re.search(r"0x[0-9a-f]{6,}", repr(form))
