"""``%raise`` / ``%%raise`` commands other than sql, through a real IPython shell."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from raise_ import FeatureStore
from raise_jupyter.kernel.help import COMMANDS
from raise_jupyter.kernel.results import CreatedFeatures, DerivedFeature
from raise_jupyter.widgets import CatalogBrowser, FeatureForm, LineageGraphWidget

FEATURES_YAML = """\
features:
  - name: click_count
    dtype: int64
    description: Total clicks
    tags: [engagement]

  - name: impression_count
    dtype: int64

  - name: ctr
    dtype: float64
    derived_from: click_count / NULLIF(impression_count, 0)
    tags: [derived, ratio]
"""


@pytest.fixture
def signals(fs: FeatureStore) -> Any:
    return fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")


def features_of(fs: FeatureStore, group: str = "user-signals") -> list[str]:
    return [repr(f) for f in fs.feature_group(group).list_features(all_versions=True)]


def usage_error(ip: Any, line: str, cell: str | None = None) -> str:
    with pytest.raises(UsageError) as caught:
        if cell is None:
            ip.run_line_magic("raise", line)
        else:
            ip.run_cell_magic("raise", line, cell)
    return str(caught.value)


# -- loading, help, dispatch ----------------------------------------------------------------------


def test_load_ext_registers_the_line_and_cell_magic(ip: Any) -> None:
    assert "raise" in ip.magics_manager.magics["line"]
    assert "raise" in ip.magics_manager.magics["cell"]


def test_unload_and_reload(ip: Any) -> None:
    ip.run_line_magic("unload_ext", "raise_jupyter")
    try:
        assert "raise" not in ip.magics_manager.magics["line"]
        assert "raise" not in ip.magics_manager.magics["cell"]
    finally:
        ip.run_line_magic("load_ext", "raise_jupyter")
    assert "raise" in ip.magics_manager.magics["cell"]


def test_help_lists_every_command_with_an_example(ip: Any) -> None:
    text = repr(ip.run_line_magic("raise", "help"))

    assert text.startswith("Raise magics (%load_ext raise_jupyter)\ncurrent project: acme/mlplatform/recommendation")
    for command in COMMANDS:
        assert command.usage in text
        assert command.example.splitlines()[0] in text
    assert [c.name for c in COMMANDS] == [
        "use", "sql", "features", "derive", "lineage", "catalog", "form", "analyze", "live", "dashboard", "alert",
        "job", "lookup", "help",
    ]  # fmt: skip


def test_help_on_one_command_and_bare_raise(ip: Any) -> None:
    one = repr(ip.run_line_magic("raise", "help derive"))
    assert "%%raise derive GROUP/FEATURE DTYPE" in one and "%%raise sql" not in one
    assert repr(ip.run_line_magic("raise", "")) == repr(ip.run_line_magic("raise", "help"))
    assert usage_error(ip, "help nope").startswith("[INVALID_ARGUMENT] Unknown command 'nope': one of use, sql")


@pytest.mark.parametrize(
    ("line", "cell", "expected"),
    [
        ("lineagee user-signals/x", None, "[INVALID_ARGUMENT] Unknown command 'lineagee'. Did you mean 'lineage'?"),
        ("frobnicate", None, "[INVALID_ARGUMENT] Unknown command 'frobnicate'. `%raise help` lists the commands."),
        ("sql", None, "[INVALID_ARGUMENT] `sql` needs a cell body: put `%%raise sql` on the first line"),
        ("derive user-signals/x float64", None, "[INVALID_ARGUMENT] `derive` needs a cell body"),
        ("catalog", "something", "[INVALID_ARGUMENT] `catalog` takes no cell body"),
        ('use "unclosed', None, "[INVALID_ARGUMENT] Cannot read the magic line: No closing quotation."),
        ("lineage", None, "[INVALID_ARGUMENT] the following arguments are required: path. Usage: %raise lineage PATH"),
        ("catalog extra", None, "[INVALID_ARGUMENT] unrecognized arguments: extra. Usage: %raise catalog"),
    ],
)
def test_wrong_commands_are_coded_usage_errors(ip: Any, line: str, cell: str | None, expected: str) -> None:
    assert usage_error(ip, line, cell).startswith(expected)


def test_a_wrong_command_in_a_cell_prints_one_line_without_traceback(
    ip: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = ip.run_cell("%raise frobnicate", store_history=True)

    assert isinstance(outcome.error_in_exec, UsageError)
    err = capsys.readouterr().err
    assert (
        err.strip() == "UsageError: [INVALID_ARGUMENT] Unknown command 'frobnicate'. `%raise help` lists the commands."
    )


# -- use --------------------------------------------------------------------------------------------


def test_use_opens_a_project_and_returns_its_store(ip: Any, fs: FeatureStore) -> None:
    store = ip.run_line_magic("raise", "use acme/search/ranking")

    assert isinstance(store, FeatureStore)
    assert store.path == "acme/search/ranking"
    assert ip.run_line_magic("raise", "use") is store
    assert [p.name for p in fs.list_projects()] == ["recommendation"]  # another domain
    assert [p.name for p in fs.domain("search").list_projects()] == ["ranking"]


def test_use_takes_a_feature_store_variable(ip: Any, fs: FeatureStore) -> None:
    ip.user_ns["mine"] = fs.with_context(project="fraud")
    store = ip.run_line_magic("raise", "use mine")
    assert store is ip.user_ns["mine"]
    assert ip.run_line_magic("raise", "use").path == "acme/mlplatform/fraud"


def test_use_with_a_bad_path_is_a_usage_error(ip: Any) -> None:
    assert usage_error(ip, "use acme/only").startswith("[INVALID_ARGUMENT] Invalid store path 'acme/only'")
    # the notebook keeps its store
    assert ip.run_line_magic("raise", "use").path == "acme/mlplatform/recommendation"


# -- features ---------------------------------------------------------------------------------------


def test_features_creates_the_yaml_body_and_lists_it(ip: Any, fs: FeatureStore, signals: Any) -> None:
    created = ip.run_cell_magic("raise", "features user-signals", FEATURES_YAML)

    assert isinstance(created, CreatedFeatures)
    assert [(f.name, f.version, str(f.dtype)) for f in created] == [
        ("click_count", "v1", "int64"),
        ("impression_count", "v1", "int64"),
        ("ctr", "v1", "float64"),
    ]
    ctr = fs.feature("user-signals/ctr")
    assert ctr.derived_from == "click_count / NULLIF(impression_count, 0)"
    assert ctr.tags == ["derived", "ratio"]
    assert fs.feature("user-signals/click_count").description == "Total clicks"
    assert repr(created) == (
        "3 features in acme/mlplatform/recommendation/user-signals:\n"
        "  click_count@v1       int64    Total clicks" + " " * 33 + "[engagement]\n"
        "  impression_count@v1  int64\n"
        "  ctr@v1               float64  = click_count / NULLIF(impression_count, 0)  [derived, ratio]"
    )
    assert "<code>acme/mlplatform/recommendation/user-signals</code>" in created._repr_html_()


def test_features_takes_a_schema_mapping_and_a_list(ip: Any, fs: FeatureStore, signals: Any) -> None:
    ip.run_cell_magic("raise", "features user-signals", "clicks: int64\nembedding: float32[8]\n")
    ip.run_cell_magic("raise", "features user-signals", "- {name: country, dtype: 'string[2]'}\n")

    assert sorted((f.name, str(f.dtype)) for f in fs.feature_group("user-signals").list_features()) == [
        ("clicks", "int64"),
        ("country", "string[2]"),
        ("embedding", "float32[8]"),
    ]


def test_features_if_exists_skip_returns_what_is_there(ip: Any, fs: FeatureStore, signals: Any) -> None:
    first = ip.run_cell_magic("raise", "features user-signals", FEATURES_YAML)
    again = ip.run_cell_magic("raise", "features user-signals --if-exists skip", FEATURES_YAML)

    assert [f.id for f in again] == [f.id for f in first]
    assert usage_error(ip, "features user-signals", FEATURES_YAML).startswith("[FEATURE_EXISTS] ")


def test_derive_if_exists_skip_makes_the_cell_safe_to_run_again(ip: Any, fs: FeatureStore, signals: Any) -> None:
    signals.create_features_from_schema({"clicks": "int64", "views": "int64"})
    line, body = "derive user-signals/ctr float64 --if-exists skip", "clicks / NULLIF(views, 0)"
    first = ip.run_cell_magic("raise", line, body)
    signals.feature("views").deprecate("moving to the new pipeline")  # a later cell of the notebook
    again = ip.run_cell_magic("raise", line, body)

    assert again.feature.id == first.feature.id and repr(again) == repr(first)
    assert [f.name for f in signals.list_features(all_versions=True)].count("ctr") == 1
    assert usage_error(ip, "derive user-signals/ctr float64", body).startswith("[FEATURE_EXISTS] ")


BAD_FEATURE_BODIES = [
    ("features: [\n - name: x\n", "[INVALID_FILE] The cell body is not valid YAML: "),
    ("just text", "[INVALID_FILE] The cell body must be features.yaml"),
    ("features: []", "[INVALID_FILE] The cell body must be features.yaml"),
    (
        "features:\n  - name: ok\n    dtype: int64\n  - name: broken\n    dtype: int65\n",
        "[INVALID_DTYPE] features[1].dtype: Invalid dtype 'int65'",
    ),
    (
        "features:\n  - name: x\n    dtpye: int64\n",
        "[INVALID_ARGUMENT] features[0].dtpye: Unknown field 'dtpye'. Did you mean 'dtype'?",
    ),
    (
        "features:\n  - name: ok\n    dtype: int64\n  - name: bad\n    dtype: float64\n    derived_from: ok +\n",
        "[INVALID_EXPRESSION] ",
    ),
]


@pytest.mark.parametrize(("body", "expected"), BAD_FEATURE_BODIES)
def test_bad_feature_bodies_create_nothing(ip: Any, fs: FeatureStore, signals: Any, body: str, expected: str) -> None:
    message = usage_error(ip, "features user-signals", body)

    assert message.startswith(expected), message
    assert features_of(fs) == []


def test_features_creates_a_missing_group_and_says_so(ip: Any, fs: FeatureStore) -> None:
    created = ip.run_cell_magic("raise", "features new-signals", FEATURES_YAML)

    group = fs.feature_group("new-signals")
    assert [g.name for g in fs.list_feature_groups()] == ["new-signals"]
    assert (group.entity_keys, group.event_time) == (None, None)  # fixed by the first write, as in the SDK
    assert [f.name for f in created] == ["click_count", "impression_count", "ctr"]
    assert sorted(f.name for f in group.list_features()) == ["click_count", "ctr", "impression_count"]
    text = repr(created)
    assert text.startswith(
        "Created feature group acme/mlplatform/recommendation/new-signals "
        "(its entity keys and event time are fixed by its first write).\n"
        "3 features in acme/mlplatform/recommendation/new-signals:\n"
    ), text
    assert "Created feature group <code>acme/mlplatform/recommendation/new-signals</code>" in created._repr_html_()

    group.write(pd.DataFrame({"user_id": [1, 2], "click_count": [3, 4], "impression_count": [10, 10]}))
    assert group.refresh().entity_keys == ["user_id"]
    # once it exists, the next cell adds to it and creates nothing
    again = ip.run_cell_magic("raise", "features new-signals", "dwell_seconds: float64\n")
    assert repr(again).startswith("1 feature in acme/mlplatform/recommendation/new-signals:\n"), repr(again)
    assert [g.name for g in fs.list_feature_groups()] == ["new-signals"]


def test_features_creates_the_missing_levels_of_a_longer_path(ip: Any, fs: FeatureStore) -> None:
    created = ip.run_cell_magic("raise", "features search/ranking/query-signals", "query_length: int64\n")

    assert repr(created).startswith("Created feature group acme/search/ranking/query-signals ")
    other = fs.with_context(domain="search", project="ranking")
    assert [f.name for f in other.feature_group("query-signals").list_features()] == ["query_length"]
    assert [g.name for g in fs.list_feature_groups()] == []  # the notebook's own project is untouched


def test_features_in_a_missing_group_with_a_bad_body(ip: Any, fs: FeatureStore) -> None:
    # a body that cannot be read creates no group
    for body in ("features: [\n - name: x\n", "just text", "features: []"):
        assert usage_error(ip, "features nowhere", body).startswith("[INVALID_FILE] ")
    assert [g.name for g in fs.list_feature_groups()] == []
    # definitions the store refuses: no feature, and the message says the (empty) group now exists
    message = usage_error(ip, "features nowhere", "features:\n  - name: x\n    dtype: int65\n")
    assert message.startswith("[INVALID_DTYPE] features[0].dtype: Invalid dtype 'int65'"), message
    assert message.endswith(
        " The feature group acme/mlplatform/recommendation/nowhere was created (empty): "
        "correct the cell and run it again."
    ), message
    assert fs.feature_group("nowhere").list_features() == []
    assert [f.name for f in ip.run_cell_magic("raise", "features nowhere", "x: int64\n")] == ["x"]


# -- derive -----------------------------------------------------------------------------------------


@pytest.fixture
def with_counts(ip: Any, signals: Any) -> Any:
    ip.run_cell_magic("raise", "features user-signals", "click_count: int64\nimpression_count: int64\n")
    return signals


def test_derive_creates_the_feature_and_shows_type_and_lineage(ip: Any, fs: FeatureStore, with_counts: Any) -> None:
    outcome = ip.run_cell(
        "%%raise derive user-signals/ctr float64 --tags ratio,derived --description 'Click-through rate'\n"
        "click_count / NULLIF(impression_count, 0)\n",
        store_history=True,
    )

    assert outcome.success, outcome.error_in_exec
    result = outcome.result
    assert isinstance(result, DerivedFeature)
    assert ip.user_ns["_"] is result
    feature = fs.feature("user-signals/ctr")
    assert (feature.derived_from, feature.tags, feature.description) == (
        "click_count / NULLIF(impression_count, 0)",
        ["ratio", "derived"],
        "Click-through rate",
    )
    assert str(result.validation.inferred_type) == "float64"
    assert [n.name for n in result.lineage.upstream] == ["click_count", "impression_count"]
    assert result.name == "ctr" and result.version == "v1"  # stands in for the feature
    assert repr(result) == (
        "Created user-signals/ctr@v1 (float64) = click_count / NULLIF(impression_count, 0)\n"
        "inferred type: float64\n"
        "reads: acme/mlplatform/recommendation/user-signals/click_count@v1, "
        "acme/mlplatform/recommendation/user-signals/impression_count@v1\n"
        "lineage:\n"
        "click_count ─────────┐\n"
        "                     ├──▶ ctr\n"
        "impression_count ────┘"
    )


def test_derive_a_new_version_and_strict_validation(ip: Any, fs: FeatureStore, with_counts: Any) -> None:
    ip.run_cell_magic("raise", "derive user-signals/score float64", "click_count * 1.0")
    result = ip.run_cell_magic("raise", "derive user-signals/score@v2 float64 --validation strict", "click_count * 2.0")

    assert (result.feature.version, result.feature.derived_from) == ("v2", "click_count * 2.0")
    assert [f.version for f in fs.feature("user-signals/score").list_versions()] == ["v1", "v2"]


@pytest.mark.parametrize(
    ("line", "body", "expected"),
    [
        (
            "derive user-signals/bad float64",
            "click_count +",
            "[INVALID_EXPRESSION] Invalid derived feature 'bad': SYNTAX_ERROR (line 1, column 13): ",
        ),
        (
            "derive user-signals/bad int64",
            "click_count * 2.5",
            "[INVALID_EXPRESSION] Invalid derived feature 'bad': DTYPE_MISMATCH: bad is declared int64 but the "
            "expression gives float64",
        ),
        (
            "derive user-signals/bad float64 --validation strict",
            "click_count * 1.0 + not_yet_a_feature",
            "[INVALID_EXPRESSION] Invalid derived feature 'bad': UNKNOWN_REFERENCE",
        ),
        ("derive user-signals/bad float64", "   \n  ", "[INVALID_EXPRESSION] The cell body is the expression"),
        ("derive bad float64", "click_count", "[INVALID_ARGUMENT] 'bad' does not name a feature: write GROUP/FEATURE"),
        ("derive user-signals/bad", "click_count", "[INVALID_ARGUMENT] the following arguments are required: dtype"),
        ("derive user-signals/bad nope", "click_count", "[INVALID_DTYPE] Invalid dtype 'nope'"),
        ("derive nowhere/bad float64", "1.0", "[FEATURE_GROUP_NOT_FOUND] "),
        (
            "derive user-signals/bad float64 --validation loose",
            "click_count",
            "[INVALID_ARGUMENT] argument --validation: invalid choice: 'loose'",
        ),
    ],
)
def test_refused_derivations_are_usage_errors_that_create_nothing(
    ip: Any, fs: FeatureStore, with_counts: Any, line: str, body: str, expected: str
) -> None:
    before = features_of(fs)

    message = usage_error(ip, line, body)

    assert message.startswith(expected), message
    assert features_of(fs) == before


# -- widgets ------------------------------------------------------------------------------------------


def test_lineage_shows_the_lineage_widget(ip: Any, with_counts: Any) -> None:
    ip.run_cell_magic("raise", "derive user-signals/ctr float64", "click_count / NULLIF(impression_count, 0)")

    widget = ip.run_line_magic("raise", "lineage user-signals/ctr")

    assert isinstance(widget, LineageGraphWidget)
    assert repr(widget) == (
        "LineageGraphWidget(acme/mlplatform/recommendation/user-signals/ctr@v1: 3 nodes, 2 edges, 2 layers)\n"
        "  0: click_count@v1, impression_count@v1\n"
        "  1: ctr@v1 (focus)"
    )
    assert usage_error(ip, "lineage user-signals/nope").startswith("[FEATURE_NOT_FOUND] ")


def test_catalog_and_form_show_their_widgets(ip: Any, with_counts: Any) -> None:
    browser = ip.run_line_magic("raise", "catalog")
    form = ip.run_line_magic("raise", "form user-signals")

    assert isinstance(browser, CatalogBrowser) and browser.root_path == "acme/mlplatform/recommendation"
    assert "user-signals  [keys: user_id]" in repr(browser)
    assert isinstance(form, FeatureForm) and form.group_path == "acme/mlplatform/recommendation/user-signals"
    assert usage_error(ip, "form nowhere").startswith("[FEATURE_GROUP_NOT_FOUND] ")
