"""``result.plot()``: an Altair chart fit for each analysis (DESIGN §6: results draw themselves).

Altair is imported only here, when a chart is asked for, so ``raise_`` runs without it. Names
that come from the user (metrics such as ``percentile_99.9``, group columns) are never put in
Altair's ``"name:type"`` shorthand: they go in ``field=`` with Vega-Lite's escapes (a bare dot or
bracket in a field reads as a nested access, and the chart comes out empty).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raise_.errors import InvalidAnalysisError

if TYPE_CHECKING:
    from raise_.analytics.result import AnalysisResult

__all__ = ["chart_for"]


def _altair() -> Any:
    try:
        import altair as alt
    except ImportError as exc:  # pragma: no cover - altair ships with the jupyter extra
        raise InvalidAnalysisError(
            "Charts need Altair: pip install 'raise-featurestore[jupyter]' (or 'altair<6').", {}
        ) from exc
    return alt


def _field(name: str) -> str:
    """A column name as a Vega-Lite field: backslashes, dots and brackets escaped."""
    for ch in ("\\", ".", "[", "]"):
        name = name.replace(ch, "\\" + ch)
    return name


def _free(name: str, taken: list[str]) -> str:
    """``name``, or ``name_``, ``name__``... when a column already has it."""
    while name in taken:
        name += "_"
    return name


def chart_for(result: AnalysisResult) -> Any:
    alt = _altair()
    frame = result.to_dataframe()
    title = f"{result.type.replace('_', ' ')}: {result.data.get('feature') or ', '.join(result.features or [])}"
    kind = result.type
    if kind == "aggregation":
        return _aggregation(alt, result, frame, title)
    if kind == "distribution":
        return _distribution(alt, result, frame, title)
    if kind == "correlation":
        return _heatmap(alt, result, title)
    if kind == "version_diff":
        return _drift(alt, result, title)
    if kind == "stat_test":
        return _stat_test(alt, result, title)
    raise InvalidAnalysisError(
        f"A {kind} result has no chart; look at result.to_dataframe() instead.", {"analysis": kind}
    )


def _aggregation(alt: Any, result: AnalysisResult, frame: Any, title: str) -> Any:
    metrics = list(result.record.spec.get("metrics", []))
    groups = result.data.get("group_by") or []
    if "metrics" in result.data:  # one value per metric: bars
        long = frame.melt(var_name="metric", value_name="value")
        return (
            alt.Chart(long, title=title)
            .mark_bar()
            .encode(x=alt.X("metric:N", sort=metrics), y="value:Q", tooltip=["metric", "value"])
        )
    first = metrics[0]
    if "date" in frame:  # rolling: the metric per period and its rolling value, over time
        cols = [c for c in (first, f"rolling_{first}") if c in frame]
        series, value = _free("series", groups), _free("value", groups)
        long = frame.melt(id_vars=["date", *groups], value_vars=cols, var_name=series, value_name=value)
        line = alt.Color(field=series, type="nominal", title="series")
        color = alt.Color(field=_field(groups[0]), type="nominal", title=groups[0]) if groups else line
        chart = alt.Chart(long, title=title).mark_line(point=True).encode(
            x=alt.X("date:T", title="period"), y=alt.Y(field=value, type="quantitative", title=first), color=color,
            tooltip=[
                alt.Tooltip("date:T"),
                *(alt.Tooltip(field=_field(g), type="nominal", title=g) for g in groups),
                alt.Tooltip(field=series, type="nominal", title="series"),
                alt.Tooltip(field=value, type="quantitative", title="value"),
            ],
        )  # fmt: skip
        return (
            chart.encode(strokeDash=alt.StrokeDash(field=series, type="nominal", title="series")) if groups else chart
        )
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X(field=_field(groups[0]), type="nominal", title=groups[0]),
            y=alt.Y(field=_field(first), type="quantitative", title=first),
            tooltip=[
                *(alt.Tooltip(field=_field(g), type="nominal", title=g) for g in groups),
                *(alt.Tooltip(field=_field(m), type="quantitative", title=m) for m in metrics),
            ],
        )
    )


def _distribution(alt: Any, result: AnalysisResult, frame: Any, title: str) -> Any:
    segmented = "segment" in frame
    if result.data.get("kind") == "categorical":
        enc: dict[str, Any] = {"x": alt.X("value:N", sort="-y"), "y": "count:Q", "tooltip": list(frame.columns)}
        if segmented:
            enc.update(color="segment:N", xOffset="segment:N")
        return alt.Chart(frame, title=title).mark_bar().encode(**enc)
    if "bin_start" not in frame:  # percentiles only
        long = frame.melt(id_vars=["segment"] if segmented else [], var_name="percentile", value_name="value")
        enc = {"x": "percentile:N", "y": "value:Q"}
        if segmented:
            enc.update(color="segment:N", xOffset="segment:N")
        return alt.Chart(long, title=title).mark_bar().encode(**enc)
    enc = {
        "x": alt.X("bin_start:Q", bin="binned", title=result.data.get("feature")),
        "x2": "bin_end:Q",
        "y": alt.Y("count:Q", stack=None),
        "tooltip": list(frame.columns),
    }
    if segmented:
        enc["color"] = "segment:N"
        return alt.Chart(frame, title=title).mark_bar(opacity=0.55).encode(**enc)
    return alt.Chart(frame, title=title).mark_bar().encode(**enc)


def _heatmap(alt: Any, result: AnalysisResult, title: str) -> Any:
    import pandas as pd

    features = result.features or []
    matrix = result.correlation_matrix or []
    cells = pd.DataFrame(
        [{"x": a, "y": b, "r": matrix[i][j]} for i, a in enumerate(features) for j, b in enumerate(features)]
    )
    base = alt.Chart(cells, title=f"{result.data.get('method')} correlation").encode(
        x=alt.X("x:N", sort=features, title=None), y=alt.Y("y:N", sort=features, title=None)
    )
    heat = base.mark_rect().encode(
        color=alt.Color("r:Q", scale=alt.Scale(scheme="redblue", domain=[-1, 1])), tooltip=["x", "y", "r"]
    )
    text = base.mark_text().encode(text=alt.Text("r:Q", format=".2f"))
    return heat + text


def _drift(alt: Any, result: AnalysisResult, title: str) -> Any:
    import pandas as pd

    drift = result.distribution_drift or {}
    a, b = result.data["version_a"], result.data["version_b"]
    categories = drift.get("categories")  # text and flags: one bar per value and version
    column = "category" if categories is not None else "bin"
    shares = [
        {column: categories[i] if categories is not None else i, "version": version, "share": share}
        for version, key in ((a, "shares_a"), (b, "shares_b"))
        for i, share in enumerate(drift.get(key) or [])
    ]
    if not shares:
        raise InvalidAnalysisError(
            "This version diff has no distribution to draw (it compared the schema only, or values of "
            "types that do not compare); look at result.to_dataframe() instead.",
            {"analysis": "version_diff"},
        )
    psi = drift.get("psi")
    label = f"{title} (PSI {psi:.3f})" if isinstance(psi, float) else title
    x = (
        alt.X("category:N", sort=None, title=result.data.get("feature"))
        if categories is not None
        else alt.X("bin:O", title=f"bin (quantiles of {a})")
    )
    return (
        alt.Chart(pd.DataFrame(shares), title=label)
        .mark_bar()
        .encode(x=x, y="share:Q", color="version:N", xOffset="version:N", tooltip=[column, "version", "share"])
    )


def _stat_test(alt: Any, result: AnalysisResult, title: str) -> Any:
    import pandas as pd

    table = result.contingency_table
    if table is not None:
        cells = table.reset_index(names="segment").melt(id_vars="segment", var_name="value", value_name="count")
        return (
            alt.Chart(cells, title=title)
            .mark_rect()
            .encode(x="value:N", y="segment:N", color="count:Q", tooltip=["segment", "value", "count"])
        )
    groups = result.data.get("groups") or {}
    rows = [{"group": side, "mean": g.get("mean"), "n": g.get("n")} for side, g in groups.items()]
    p = result.p_value
    label = f"{title} (p = {p:.3g})" if isinstance(p, float) else title
    return (
        alt.Chart(pd.DataFrame(rows), title=label)
        .mark_bar()
        .encode(
            x="group:N", y=alt.Y("mean:Q", title=f"mean {result.data.get('feature')}"), tooltip=["group", "mean", "n"]
        )
    )
