"""Notebook widgets (anywidget): the feature form, the lineage graph, the catalog browser, dashboards
with live parameter controls and the alert builder.

Each widget's front end is a plain ES module with its stylesheet in ``static/``, shipped in the package;
everything it shows is computed in Python through the SDK, and everything it does calls the SDK.
"""

from __future__ import annotations

from raise_.lineage.layout import LayeredLayout, layered_layout
from raise_jupyter.widgets.alert_builder import AlertBuilder
from raise_jupyter.widgets.catalog import CatalogBrowser
from raise_jupyter.widgets.dashboard import DashboardWidget
from raise_jupyter.widgets.form import FeatureForm
from raise_jupyter.widgets.lineage import LineageGraphWidget

__all__ = [
    "AlertBuilder",
    "CatalogBrowser",
    "DashboardWidget",
    "FeatureForm",
    "LayeredLayout",
    "LineageGraphWidget",
    "layered_layout",
]
