"""Notebook widgets (anywidget): the feature form, the lineage graph and the catalog browser.

Each widget's front end is a plain ES module with its stylesheet in ``static/``, shipped in the package;
everything it shows is computed in Python through the SDK, and everything it does calls the SDK.
"""

from __future__ import annotations

from raise_.lineage.layout import LayeredLayout, layered_layout
from raise_jupyter.widgets.catalog import CatalogBrowser
from raise_jupyter.widgets.form import FeatureForm
from raise_jupyter.widgets.lineage import LineageGraphWidget

__all__ = ["CatalogBrowser", "FeatureForm", "LayeredLayout", "LineageGraphWidget", "layered_layout"]
