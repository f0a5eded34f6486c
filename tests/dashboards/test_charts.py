"""Dashboard charts drawn from real analyses: each of the 12 chart types' mark, encodings and inline
data (compared with the analysis' own frame), the README's five charts, and the data each type
refuses, with the message that says why and which types would fit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from chart_data import USER, Drawn, analysed, field_of, marks, nice_ceiling, records, vega_lite_errors, view

from raise_.dashboards.chart_types import ChartType
from raise_.dashboards.charts import MAX_ROWS, TABLE_ROWS, chart_spec, check_chart
from raise_.engine import Engine
from raise_.errors import InvalidChartError


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Drawn]]:
    home = tmp_path_factory.mktemp("charts") / "home"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAISE_USER", USER)
        env.delenv("RAISE_PROJECT", raising=False)
        env.delenv("RAISE_URL", raising=False)
        yield analysed(home)
    for key, engine in list(Engine._instances.items()):
        if key[0] == str(home):
            engine.close()


def draw(
    drawn: Drawn, chart_type: ChartType | str, x: str | None = None, y: str | None = None, color: str | None = None
) -> dict[str, Any]:
    """The chart's spec, checked first (what passes the check draws), valid Vega-Lite 5, plain JSON."""
    check_chart(chart_type, drawn.kind, drawn.spec, drawn.frame, x, y, color)  # type: ignore[arg-type]
    spec = chart_spec(
        chart_type,  # type: ignore[arg-type]
        drawn.kind,
        drawn.spec,
        drawn.frame,
        title="A chart",
        x=x,
        y=y,
        color=color,
    )
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v5")
    assert vega_lite_errors(spec) == []
    assert json.loads(json.dumps(spec, allow_nan=False)) == spec
    assert "datasets" not in spec and set(spec["data"]) == {"values"}
    return spec


def values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec["data"]["values"])


def encoding(spec: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return dict(view(spec, index).get("encoding") or spec.get("encoding") or {})


# -- the README's five charts ---------------------------------------------------------------------


def test_readme_line_of_a_rolling_aggregation_draws_the_sum_per_day(data: dict[str, Drawn]) -> None:
    drawn = data["rolling"]
    spec = draw(drawn, ChartType.LINE, x="date", y="sum")
    assert marks(spec) == ["line"]
    enc = encoding(spec)
    assert (enc["x"]["field"], enc["x"]["type"], enc["x"]["scale"]) == ("date", "temporal", {"type": "utc"})
    assert (enc["y"]["field"], enc["y"]["type"]) == ("sum", "quantitative")
    assert values(spec) == records(drawn.frame, ["date", "sum"])
    assert values(spec)[-1]["date"] == drawn.frame["date"].iloc[-1].isoformat()  # ISO text, in UTC
    assert any(v["sum"] is None for v in values(spec))  # periods before the data: NaN → null


def test_readme_bar_of_revenue_by_tier(data: dict[str, Drawn]) -> None:
    drawn = data["by_tier"]
    spec = draw(drawn, "bar", x="user_tier", y="sum")
    assert marks(spec) == ["bar"]
    enc = encoding(spec)
    assert (enc["x"]["field"], enc["x"]["type"]) == ("user_tier", "nominal")
    assert (enc["y"]["field"], enc["y"]["type"]) == ("sum", "quantitative")
    assert values(spec) == records(drawn.frame, ["user_tier", "sum"])


def test_readme_histogram_of_a_distribution_draws_its_bins(data: dict[str, Drawn]) -> None:
    drawn = data["histogram"]
    spec = draw(drawn, ChartType.HISTOGRAM)
    assert marks(spec) == ["bar"]
    enc = encoding(spec)
    assert (enc["x"]["field"], enc["x"]["bin"], enc["x2"]["field"]) == ("bin_start", "binned", "bin_end")
    assert enc["y"]["field"] == "count"
    assert values(spec) == records(drawn.frame)
    assert sum(v["count"] for v in values(spec)) == 600


def test_readme_heatmap_of_a_correlation_draws_its_matrix_with_values(data: dict[str, Drawn]) -> None:
    drawn = data["correlation"]
    spec = draw(drawn, ChartType.HEATMAP)
    assert marks(spec) == ["rect", "text"]
    assert (field_of(spec, "x"), field_of(spec, "y"), field_of(spec, "color")) == ("feature_x", "feature_y", "r")
    assert field_of(spec, "text", 1) == "r"
    features = ["click_count", "impression_count", "revenue"]
    assert encoding(spec)["x"]["sort"] == features
    matrix = drawn.frame
    assert values(spec) == [{"feature_x": a, "feature_y": b, "r": matrix.loc[a, b]} for a in features for b in features]


def test_readme_table_of_a_live_table_shows_its_rows(data: dict[str, Drawn]) -> None:
    drawn = data["live"]
    spec = draw(drawn, ChartType.TABLE)
    columns = list(drawn.frame.columns)
    assert marks(spec) == ["text"] * len(columns)
    assert [encoding(spec, i)["x"]["datum"] for i in range(len(columns))] == columns
    assert [encoding(spec, i)["text"]["field"] for i in range(len(columns))] == columns
    assert values(spec) == records(drawn.frame)
    assert "subtitle" not in spec["title"]


# -- each chart type ------------------------------------------------------------------------------


def test_table_shows_the_first_rows_and_says_so(data: dict[str, Drawn]) -> None:
    drawn = data["lookup"]
    spec = draw(drawn, "TABLE")
    assert values(spec) == records(drawn.frame.head(TABLE_ROWS))
    assert spec["title"]["subtitle"] == [f"first {TABLE_ROWS} of 200 rows"]
    assert spec["layer"][0]["transform"][0]["window"][0]["op"] == "row_number"


def test_bar_of_one_row_of_metrics_draws_a_bar_per_metric(data: dict[str, Drawn]) -> None:
    drawn = data["metrics"]
    spec = draw(drawn, ChartType.BAR)
    assert (field_of(spec, "x"), field_of(spec, "y")) == ("metric", "value")
    assert encoding(spec)["x"]["sort"] is None  # the spec's order, not alphabetical
    row = drawn.frame.iloc[0]
    metrics = ["sum", "avg", "null_rate", "percentile_99.9"]
    assert values(spec) == [{"metric": m, "value": row[m]} for m in metrics]


def test_bar_of_percentiles_and_of_a_stat_test(data: dict[str, Drawn]) -> None:
    drawn = data["quartiles_by_tier"]
    spec = draw(drawn, ChartType.BAR)
    assert (field_of(spec, "x"), field_of(spec, "y"), field_of(spec, "color")) == ("percentile", "value", "segment")
    assert encoding(spec)["xOffset"]["field"] == "segment"
    long = drawn.frame.melt(id_vars="segment", var_name="percentile", value_name="value")
    assert sorted(values(spec), key=repr) == sorted(records(long), key=repr)

    test = data["ttest"]
    spec = draw(test, ChartType.BAR)
    row = test.frame.iloc[0]
    assert values(spec) == [
        {"group": side, "mean": row[f"mean_{side}"], "n": row[f"n_{side}"]} for side in ("control", "treatment")
    ]


def test_bar_of_a_version_diff_draws_its_deltas(data: dict[str, Drawn]) -> None:
    drawn = data["version_diff"]
    spec = draw(drawn, ChartType.BAR)
    assert (field_of(spec, "x"), field_of(spec, "y")) == ("metric", "delta")
    assert values(spec) == records(drawn.frame, ["metric", "delta"])


def test_line_of_a_grouped_rolling_aggregation_draws_a_line_per_group(data: dict[str, Drawn]) -> None:
    drawn = data["rolling_by_tier"]
    spec = draw(drawn, ChartType.LINE)
    assert (field_of(spec, "x"), field_of(spec, "y"), field_of(spec, "color")) == ("date", "sum", "user_tier")
    assert values(spec) == records(drawn.frame, ["date", "sum", "user_tier"])


def test_area_stacks_the_groups_over_time(data: dict[str, Drawn]) -> None:
    drawn = data["rolling_by_tier"]
    spec = draw(drawn, ChartType.AREA, y="rolling_avg")
    assert marks(spec) == ["area"]
    enc = encoding(spec)
    assert (enc["y"]["field"], enc["y"]["stack"], enc["color"]["field"]) == ("rolling_avg", "zero", "user_tier")
    assert values(spec) == records(drawn.frame, ["date", "rolling_avg", "user_tier"])


def test_scatter_of_records_draws_a_point_per_record(data: dict[str, Drawn]) -> None:
    drawn = data["lookup"]
    spec = draw(drawn, ChartType.SCATTER, x="click_count", y="revenue", color="user_tier")
    assert marks(spec) == ["circle"]
    enc = encoding(spec)
    assert (enc["x"]["field"], enc["y"]["field"], enc["color"]["field"]) == ("click_count", "revenue", "user_tier")
    assert values(spec) == records(drawn.frame, ["click_count", "revenue", "user_tier"])
    assert sum(v["revenue"] is None for v in values(spec)) == int(drawn.frame["revenue"].isna().sum()) > 0
    # Left out, x and y are the lookup's first two numeric features.
    assert (field_of(draw(drawn, "scatter"), "x"), field_of(draw(drawn, "scatter"), "y")) == ("click_count", "revenue")


def test_pie_of_value_counts_and_of_a_grouped_aggregation(data: dict[str, Drawn]) -> None:
    drawn = data["tiers"]
    spec = draw(drawn, ChartType.PIE)
    assert marks(spec) == ["arc"]
    enc = encoding(spec)
    assert (enc["theta"]["field"], enc["color"]["field"]) == ("count", "value")
    assert values(spec) == records(drawn.frame, ["value", "count"])

    grouped = data["by_tier"]
    spec = draw(grouped, ChartType.PIE)
    assert (encoding(spec)["theta"]["field"], encoding(spec)["color"]["field"]) == ("sum", "user_tier")
    assert values(spec) == records(grouped.frame, ["user_tier", "sum"])


def test_metric_shows_one_number_with_an_escaped_field(data: dict[str, Drawn]) -> None:
    drawn = data["metrics"]
    spec = draw(drawn, ChartType.METRIC, y="percentile_99.9")
    assert marks(spec) == ["text"]
    assert encoding(spec)["text"]["field"] == "percentile_99\\.9"  # a bare dot would read a nested field
    assert values(spec) == [{"percentile_99.9": drawn.frame["percentile_99.9"].iloc[0]}]
    assert spec["title"]["subtitle"] == ["percentile_99.9"]
    # Left out, y is the aggregation's first metric.
    assert values(draw(drawn, ChartType.METRIC)) == [{"sum": drawn.frame["sum"].iloc[0]}]


def test_metric_of_a_series_shows_its_latest_value(data: dict[str, Drawn]) -> None:
    drawn = data["rolling"]
    spec = draw(drawn, ChartType.METRIC, y="rolling_sum")
    frame = drawn.frame.dropna(subset=["rolling_sum"])
    latest = frame.loc[frame["date"].idxmax()]
    assert values(spec) == [{"rolling_sum": latest["rolling_sum"]}]
    assert spec["title"]["subtitle"] == [f"rolling_sum, latest date: {latest['date']:%Y-%m-%d}"]


def test_gauge_fills_an_arc_up_to_a_maximum(data: dict[str, Drawn]) -> None:
    test = data["ttest"]
    spec = draw(test, ChartType.GAUGE)  # a test's p-value, out of 1
    assert marks(spec) == ["arc", "arc", "text"]
    fill = encoding(spec, 1)
    assert fill["theta"]["field"] == "p_value" and fill["theta"]["scale"]["domain"] == [0, 1.0]
    assert values(spec) == [{"p_value": test.frame["p_value"].iloc[0]}]

    total = data["metrics"]
    spec = draw(total, ChartType.GAUGE, y="sum")  # no natural maximum: the value rounded up
    top = nice_ceiling(float(total.frame["sum"].iloc[0]))
    assert encoding(spec, 1)["theta"]["scale"]["domain"] == [0, top]
    assert spec["title"]["subtitle"] == [f"sum (of {top:g})"]
    spec = draw(Drawn("aggregation", {**(total.spec or {}), "max": 50_000}, total.frame), ChartType.GAUGE, y="sum")
    assert encoding(spec, 1)["theta"]["scale"]["domain"] == [0, 50_000]


def test_box_of_quartiles_draws_whiskers_box_and_median(data: dict[str, Drawn]) -> None:
    drawn = data["quartiles_by_tier"]
    spec = draw(drawn, ChartType.BOX)
    assert marks(spec) == ["rule", "bar", "tick"]
    assert (field_of(spec, "y", 0), encoding(spec, 0)["y2"]["field"]) == ("low", "high")
    assert (field_of(spec, "y", 1), encoding(spec, 1)["y2"]["field"]) == ("q1", "q3")
    assert field_of(spec, "y", 2) == "median"
    expected = [
        {"group": r["segment"], "low": r["p10"], "q1": r["p25"], "median": r["p50"], "q3": r["p75"], "high": r["p90"]}
        for _, r in drawn.frame.iterrows()
    ]
    assert values(spec) == expected


def test_box_of_a_histogram_estimates_the_quartiles_within_bins(data: dict[str, Drawn]) -> None:
    drawn = data["histogram_by_tier"]
    spec = draw(drawn, ChartType.BOX)
    got = {v["group"]: v for v in values(spec)}
    for tier, bins in drawn.frame.groupby("segment"):
        edges = [bins["bin_start"].iloc[0], *bins["bin_end"]]
        cumulative = np.concatenate([[0], np.cumsum(bins["count"])])
        filled = bins[bins["count"] > 0]
        q1, median, q3 = np.interp(np.array([0.25, 0.5, 0.75]) * cumulative[-1], cumulative, edges)
        assert got[tier] == pytest.approx(
            {"group": tier, "low": filled["bin_start"].min(), "q1": q1, "median": median, "q3": q3,
             "high": filled["bin_end"].max()}
        )  # fmt: skip
    assert "estimated" in spec["title"]["subtitle"][0]


def test_box_and_violin_of_raw_values_per_category(data: dict[str, Drawn]) -> None:
    drawn = data["lookup"]
    box = draw(drawn, ChartType.BOX, x="user_tier", y="revenue")
    assert marks(box) == ["boxplot"]
    assert (field_of(box, "x"), field_of(box, "y")) == ("user_tier", "revenue")
    assert values(box) == records(drawn.frame, ["user_tier", "revenue"])

    violin = draw(drawn, ChartType.VIOLIN, x="user_tier", y="revenue")
    assert marks(violin) == ["area"]
    density = violin["transform"][0]
    assert (density["density"], density["groupby"]) == ("revenue", ["user_tier"])
    assert violin["encoding"]["column"]["field"] == "user_tier"
    assert violin["encoding"]["x"]["stack"] == "center"
    assert values(violin) == records(drawn.frame, ["user_tier", "revenue"])


def test_heatmap_of_a_grouped_series_and_of_segments(data: dict[str, Drawn]) -> None:
    drawn = data["rolling_by_tier"]
    spec = draw(drawn, ChartType.HEATMAP)
    assert (field_of(spec, "x"), field_of(spec, "y"), field_of(spec, "color")) == ("date", "user_tier", "sum")
    assert encoding(spec)["x"]["timeUnit"] == "utcyearmonthdate"
    assert values(spec) == records(drawn.frame, ["date", "user_tier", "sum"])

    spec = draw(data["histogram_by_tier"], ChartType.HEATMAP)
    assert (field_of(spec, "x"), field_of(spec, "y"), field_of(spec, "color")) == ("bin_start", "segment", "count")

    live = data["live"]  # x, y and a value named
    spec = draw(live, ChartType.HEATMAP, x="user_tier", y="count", color="avg")
    assert values(spec) == records(live.frame, ["user_tier", "count", "avg"])


def test_histogram_of_raw_values_is_binned_by_the_chart(data: dict[str, Drawn]) -> None:
    drawn = data["lookup"]
    spec = draw(drawn, ChartType.HISTOGRAM, x="revenue")
    enc = encoding(spec)
    assert (enc["x"]["field"], enc["x"]["bin"], enc["y"]["aggregate"]) == ("revenue", {"maxbins": 30}, "count")
    assert values(spec) == records(drawn.frame, ["revenue"])


def test_field_names_with_dots_and_brackets_are_escaped_and_kept_as_data_keys() -> None:
    frame = pd.DataFrame({"tier.name": ["a", "b"], "clicks[0]": [3, 4], "back\\slash": [1.5, 2.5]})
    spec = chart_spec("bar", "live_table", None, frame, title="t", x="tier.name", y="clicks[0]", color=None)
    assert (field_of(spec, "x"), field_of(spec, "y")) == ("tier\\.name", "clicks\\[0\\]")
    assert encoding(spec)["x"]["title"] == "tier.name"
    assert values(spec) == [{"tier.name": "a", "clicks[0]": 3}, {"tier.name": "b", "clicks[0]": 4}]
    table = chart_spec("table", "live_table", None, frame, title="t", x=None, y=None, color=None)
    assert [encoding(table, i)["text"]["field"] for i in range(3)] == ["tier\\.name", "clicks\\[0\\]", "back\\\\slash"]


def test_values_are_json_safe() -> None:
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime(["2026-12-07 03:40", None]),
            "x": np.array([1, 2], dtype="int64"),
            "y": [np.inf, np.nan],
            "z": pd.array([pd.NA, 3], dtype="Int64"),
            "flag": [True, False],
        }
    )
    spec = chart_spec("table", "record_lookup", None, frame, title="t", x=None, y=None, color=None)
    assert values(spec) == [
        {"when": "2026-12-07T03:40:00", "x": 1, "y": None, "z": None, "flag": True},
        {"when": None, "x": 2, "y": None, "z": 3, "flag": False},
    ]


def test_width_and_height_are_passed_on(data: dict[str, Drawn]) -> None:
    drawn = data["by_tier"]
    spec = chart_spec(ChartType.BAR, drawn.kind, drawn.spec, drawn.frame, title="t", x=None, y=None, color=None,
                      width=420, height=210)  # fmt: skip
    assert (spec["width"], spec["height"]) == (420, 210)
    assert spec["title"] == {"text": "t"}


@pytest.mark.parametrize(
    ("name", "chart_type", "x", "y"),
    [("rolling", "line", "date", "sum"), ("by_tier", "pie", None, None), ("metrics", "metric", None, None),
     ("metrics", "gauge", None, "sum"), ("histogram", "box", None, None), ("lookup", "violin", "user_tier", "revenue"),
     ("correlation", "heatmap", None, None)],
)  # fmt: skip
def test_data_without_rows_draws_an_empty_chart_that_says_so(
    data: dict[str, Drawn], name: str, chart_type: str, x: str | None, y: str | None
) -> None:
    """A filter that keeps no row, or a live table before its first refresh: the chart is empty, not an error."""
    drawn = data[name]
    empty = Drawn(drawn.kind, drawn.spec, drawn.frame.iloc[0:0])
    spec = draw(empty, chart_type, x=x, y=y)
    assert values(spec) == []
    assert spec["title"]["subtitle"][-1] == "no data"


def test_a_live_table_of_a_correlation_and_filtered_rows_draw_like_their_analysis(data: dict[str, Drawn]) -> None:
    correlation = data["correlation"]
    rows = correlation.frame.reset_index(names="feature")  # how a live table stores the matrix
    spec = draw(Drawn("live_table", correlation.spec, rows), ChartType.HEATMAP)
    assert values(spec) == values(draw(correlation, ChartType.HEATMAP))
    assert values(draw(Drawn("live_table", None, rows), ChartType.HEATMAP)) == values(spec)  # no spec: by shape

    live = data["live"]
    gold = live.frame[live.frame["user_tier"] == "gold"]  # one row, index 1
    spec = draw(Drawn(live.kind, live.spec, gold), ChartType.METRIC, y="avg")
    assert values(spec) == [{"avg": gold["avg"].iloc[0]}]


# -- what does not fit ----------------------------------------------------------------------------


MISFITS = [
    # (data, chart type, x, y, color, words of the message, a type that would fit)
    ("histogram", "heatmap", None, None, None, "A heatmap needs a matrix: a Correlation of two or more", "histogram"),
    ("one_feature", "heatmap", None, None, None, "this correlation has one feature (click_count)", "table"),
    ("correlation", "scatter", None, None, None, "a Correlation holds only their coefficients", "heatmap"),
    ("lookup", "scatter", "click_count", "user_tier", None, "'user_tier' holds categories (text)", "table"),
    ("rolling", "metric", None, None, None, "A metric shows one number, and this data has 30 rows", "line"),
    ("by_tier", "gauge", None, "sum", None, "no time column to pick the latest from", "bar"),
    ("rolling_by_tier", "metric", None, "sum", None, "the latest date has 3 rows of 'sum'", "line"),
    ("by_tier_balance", "pie", None, None, None, "'sum' has negative values", "bar"),
    ("balance", "gauge", None, None, None, "'sum' is negative", "metric"),
    ("by_tier", "bar", "tier", "sum", None, "x='tier' names no column of the data; its columns are: user_tier, sum,",
     None),
    ("by_tier", "line", None, "sum", "colour", "color='colour' names no column", None),
    ("by_tier", "line", "user_tier", "sum", None, "A line needs an x in order, times or numbers; 'user_tier' holds",
     "bar"),
    ("histogram", "area", None, None, None, "An area draws values over time", "histogram"),
    ("percentiles", "histogram", None, None, None, "this Distribution has percentiles only", "bar"),
    ("percentiles", "box", None, None, None, "A box needs the quartiles p25, p50 and p75; this Distribution has p50",
     "bar"),
    ("tiers", "box", None, None, None, "this Distribution counts categories", "pie"),
    ("histogram", "violin", None, None, None, "A violin needs raw values", "box"),
    ("one_record", "violin", None, "revenue", None, "it has 1 value(s): it needs two or more", "table"),
    ("lookup", "histogram", "revenue", "click_count", None, "leave y out", None),
    ("histogram", "histogram", "bin_end", None, None, "leave x and y out", None),
    ("chi_squared", "bar", None, None, None, "this test has none (a chi-squared test compares counts)", "metric"),
    ("tiers_by_clicks", "pie", None, None, None, "A pie shows parts of a whole", "bar"),
    ("live", "pie", "user_tier", "sum", "avg", "A pie has one category", None),
    ("lookup", "heatmap", "user_tier", "user_tier", None, "two different columns for x and y", "table"),
    ("rolling_by_tier", "bar", "user_tier", "sum", None, "several rows share one: name color=", "box"),
    ("lookup", "violin", "click_count", "revenue", None, "groups values by x, a category; 'click_count' holds numbers",
     "scatter"),
    ("version_diff", "line", None, None, None, "no time column", "bar"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "chart_type", "x", "y", "color", "words", "fits"), MISFITS)
def test_a_chart_that_does_not_fit_its_data_says_why_and_what_would(
    data: dict[str, Drawn],
    name: str,
    chart_type: str,
    x: str | None,
    y: str | None,
    color: str | None,
    words: str,
    fits: str | None,
) -> None:
    drawn = _misfit_data(data, name)
    with pytest.raises(InvalidChartError) as raised:
        check_chart(ChartType.parse(chart_type), drawn.kind, drawn.spec, drawn.frame, x, y, color)
    error = raised.value
    assert error.code == "INVALID_CHART"
    assert words in error.message
    assert error.details["chart_type"] == chart_type
    if fits is None:
        assert "This data fits" not in error.message
    else:
        assert fits in error.details["fits"]
        assert "This data fits: " in error.message and fits in error.message.split("This data fits: ")[1]
        assert chart_type not in error.details["fits"]
        # What it names fits indeed (with the same x, y and color).
        check_chart(ChartType.parse(fits), drawn.kind, drawn.spec, drawn.frame, x, y, color)
    # chart_spec refuses the same way.
    with pytest.raises(InvalidChartError, match="INVALID_CHART"):
        chart_spec(chart_type, drawn.kind, drawn.spec, drawn.frame, title="t", x=x, y=y, color=color)  # type: ignore[arg-type]


def _misfit_data(data: dict[str, Drawn], name: str) -> Drawn:
    if name == "one_feature":  # a correlation matrix cut to one feature
        c = data["correlation"]
        return Drawn(c.kind, c.spec, c.frame.loc[["click_count"], ["click_count"]])
    if name == "one_record":
        lookup = data["lookup"]
        return Drawn(lookup.kind, lookup.spec, lookup.frame.dropna(subset=["revenue"]).head(1))
    return data[name]


def test_more_rows_than_a_chart_carries_are_refused_but_a_table_shows_its_first() -> None:
    frame = pd.DataFrame({"a": np.arange(MAX_ROWS + 1, dtype=float), "b": np.arange(MAX_ROWS + 1, dtype=float)})
    with pytest.raises(InvalidChartError, match="at most 10,000 rows; this data has 10,001"):
        check_chart(ChartType.SCATTER, "record_lookup", None, frame, "a", "b", None)
    check_chart(ChartType.TABLE, "record_lookup", None, frame, None, None, None)


def test_every_chart_type_draws_some_real_analysis(data: dict[str, Drawn]) -> None:
    """No chart type is a dead end: each draws at least one of the analyses above (x/y left out),
    and each check agrees with drawing."""
    drawable: dict[str, list[str]] = {t.value: [] for t in ChartType}
    for name, drawn in data.items():
        for chart_type in ChartType:
            try:
                check_chart(chart_type, drawn.kind, drawn.spec, drawn.frame, None, None, None)
            except InvalidChartError:
                continue
            draw(drawn, chart_type)
            drawable[chart_type.value].append(name)
    assert all(drawable.values()), drawable
    assert drawable["table"] == list(data)


PARSED = [
    ("line", ChartType.LINE),
    ("Heatmap", ChartType.HEATMAP),
    (" VIOLIN ", ChartType.VIOLIN),
    (ChartType.PIE, ChartType.PIE),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_chart_type_parses_its_text_in_any_case(text: Any, expected: ChartType) -> None:
    assert ChartType.parse(text) is expected
    assert str(expected) == expected.value


@pytest.mark.parametrize("text", ["donut", "", None, 3])
def test_an_unknown_chart_type_names_the_twelve(text: Any) -> None:
    with pytest.raises(InvalidChartError) as raised:
        ChartType.parse(text)
    assert raised.value.details["allowed"] == [t.value for t in ChartType] and len(ChartType) == 12
    assert (
        "line, bar, histogram, scatter, heatmap, pie, area, table, metric, gauge, box, violin" in raised.value.message
    )


def test_altair_and_the_charts_load_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, raise_.dashboards.charts, raise_.dashboards.html, raise_.dashboards.chart_types; "
        "print('altair' in sys.modules, 'vl_convert' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
    )
    assert out.stdout.split() == ["False", "False"]
