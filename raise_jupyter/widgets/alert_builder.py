"""The alert builder: a form whose Create button calls ``fs.create_alert`` (README *Analytics Alerts*).

The form's fields are traits; :meth:`AlertBuilder.create` reads them, builds the analysis
(an ``aggregation`` of one feature and metric, or the YAML/JSON spec typed in) and the condition,
and calls the SDK. The new alert lands in ``created``, a coded error in ``error``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets
import yaml

from raise_.alerts.conditions import CONDITION_TYPES, Condition
from raise_.errors import InvalidFileError, RaiseError
from raise_jupyter.widgets.base import STATIC, RaiseWidget, error_payload

if TYPE_CHECKING:
    from raise_.client.alerts import AnalyticsAlert
    from raise_.client.store import FeatureStore

__all__ = ["CHANNEL_CHOICES", "METRIC_CHOICES", "AlertBuilder"]

CHANNEL_CHOICES = ("email", "slack", "webhook", "pagerduty", "sms")
#: What the metric picker offers for the simple aggregation; any other may be typed in.
METRIC_CHOICES = ("avg", "sum", "count", "min", "max", "stddev", "null_rate", "distinct_count")
RANGED = ("between", "outside")


def _number(text: str) -> float | str | None:
    """A number typed in a box: ``None`` when blank, the text itself when it is not a number (the
    condition then refuses it with its coded error)."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


class AlertBuilder(RaiseWidget):
    """``AlertBuilder(fs)``: a form that creates an analytics alert in ``fs``'s project."""

    _esm = STATIC / "alert_builder.js"
    _css = STATIC / "alert_builder.css"

    project = traitlets.Unicode("").tag(sync=True)
    name = traitlets.Unicode("").tag(sync=True)
    group = traitlets.Unicode("").tag(sync=True)
    #: ``simple``: an aggregation of ``feature`` computing ``metric``; ``spec``: ``analysis_text``.
    analysis_mode = traitlets.Unicode("simple").tag(sync=True)
    feature = traitlets.Unicode("").tag(sync=True)
    metric = traitlets.Unicode("avg").tag(sync=True)
    metric_choices = traitlets.List(traitlets.Unicode(), default_value=list(METRIC_CHOICES)).tag(sync=True)
    analysis_text = traitlets.Unicode("").tag(sync=True)
    condition_type = traitlets.Unicode("greater_than").tag(sync=True)
    condition_types = traitlets.List(traitlets.Unicode(), default_value=list(CONDITION_TYPES)).tag(sync=True)
    value = traitlets.Unicode("").tag(sync=True)
    low = traitlets.Unicode("").tag(sync=True)
    high = traitlets.Unicode("").tag(sync=True)
    #: The result value the condition judges; blank: the analysis' only value.
    condition_metric = traitlets.Unicode("").tag(sync=True)
    notify = traitlets.Unicode("").tag(sync=True)
    channels = traitlets.List(traitlets.Unicode(), default_value=["email"]).tag(sync=True)
    channel_choices = traitlets.List(traitlets.Unicode(), default_value=list(CHANNEL_CHOICES)).tag(sync=True)
    check_interval = traitlets.Unicode("1h").tag(sync=True)
    check_on_change = traitlets.Bool(False).tag(sync=True)
    created = traitlets.Dict().tag(sync=True)
    error = traitlets.Dict().tag(sync=True)

    def __init__(self, fs: FeatureStore, **kwargs: Any) -> None:
        self._fs = fs
        self.last_created: AnalyticsAlert | None = None
        super().__init__(project=fs.path, **kwargs)
        self.on_msg(self._on_message)

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "create":
            self.create()

    # -- what the form says ----------------------------------------------------------------------

    def analysis(self) -> dict[str, Any]:
        if self.analysis_mode == "spec":
            try:
                spec = yaml.safe_load(self.analysis_text or "")
            except yaml.YAMLError as exc:
                raise InvalidFileError(f"The analysis spec is not valid YAML or JSON: {exc}", {}) from None
            if not isinstance(spec, dict) or "type" not in spec:
                raise InvalidFileError(
                    "The analysis spec is a mapping with its type, e.g.\n"
                    "type: aggregation\nfeature: click_count\nmetrics: [avg]",
                    {},
                )
            return spec
        return {"type": "aggregation", "feature": self.feature.strip(), "metrics": [self.metric.strip()]}

    def condition(self) -> Condition:
        metric = self.condition_metric.strip()
        data: dict[str, Any] = {"type": self.condition_type.strip().lower()}
        if data["type"] in RANGED:
            data["low"], data["high"] = _number(self.low), _number(self.high)
        else:
            data["value"] = _number(self.value)
        if metric:
            data["metric"] = metric
        return Condition.from_dict(data)

    # -- creation --------------------------------------------------------------------------------

    def create(self) -> AnalyticsAlert | None:
        """Create the alert the form describes; ``None`` (and ``error`` set) when the store refuses."""
        self.error = {}
        try:
            alert = self._fs.create_alert(
                name=self.name.strip(),
                analysis=self.analysis(),
                condition=self.condition(),
                notify=[n.strip() for n in self.notify.split(",") if n.strip()],
                channels=list(self.channels),
                check_interval=self.check_interval.strip() or "1h",
                check_on_change=self.check_on_change,
                group=self.group.strip() or None,
            )
        except RaiseError as exc:
            self.error = error_payload(exc)
            return None
        self.last_created = alert
        self.created = {
            "name": alert.name,
            "group": alert.group,
            "condition": alert.condition.describe(),
            "notify": alert.notify,
            "channels": alert.channels,
            "check_interval": alert.check_interval,
            "check_on_change": alert.record.check_on_change,
            "status": alert.status,
            "state": alert.state,
        }
        return alert

    def __repr__(self) -> str:
        lines = [f"AlertBuilder({self.project})", f"  name: {self.name or '-'}"]
        if self.created:
            c = self.created
            lines.append(
                f"  created: {c['name']} on {c['group']}: {c['condition']} → {', '.join(c['channels'])} "
                f"({', '.join(c['notify'])}), every {c['check_interval']}"
            )
        if self.error:
            lines.append(f"  not created: {self.error['text']}")
        return "\n".join(lines)
