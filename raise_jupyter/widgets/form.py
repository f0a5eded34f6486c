"""The feature creation form: name, dtype, description, tags and an optional expression, checked as you type.

Every change of name, dtype or expression runs ``group.validate_feature`` (nothing is created) and puts
the answer in the ``validation`` trait: the inferred type, or the coded errors with their position in the
expression. The create button sends ``{"type": "create"}``; :meth:`FeatureForm.create` calls
``group.create_feature`` and reports the new feature in ``created`` or the coded error in ``error``.
"""

from __future__ import annotations

from typing import Any

import traitlets

from raise_.client.feature import Feature
from raise_.client.group import FeatureGroup
from raise_.errors import InvalidDtypeError, InvalidNameError, RaiseError
from raise_.expressions.model import ValidationResult
from raise_jupyter.widgets.base import STATIC, RaiseWidget, error_payload

__all__ = ["DTYPE_CHOICES", "FeatureForm"]

#: What the dtype picker offers; any other dtype string may be typed in.
DTYPE_CHOICES = (
    "int64",
    "int32",
    "float64",
    "float32",
    "float16",
    "bool",
    "string",
    "bytes",
    "timestamp",
    "float32[128]",
    "float32[384]",
    "float32[768]",
    "int64[]",
    "float64[]",
    "string[]",
)

#: The name validation uses while the name box is still empty, so an expression can be checked first.
PLACEHOLDER_NAME = "new_feature"


def _field_of(exc: RaiseError) -> str:
    if isinstance(exc, InvalidNameError):
        return "name"
    if isinstance(exc, InvalidDtypeError):
        return "dtype"
    return "expression"


def _validation_payload(result: ValidationResult) -> dict[str, Any]:
    payload = result.to_dict()
    payload["state"] = "valid" if result.valid else "invalid"
    for issue in (*payload["errors"], *payload["warnings"]):
        issue["field"] = "expression"
    return payload


class FeatureForm(RaiseWidget):
    """``FeatureForm(fs.feature_group("user-signals"))``: a form that creates features in that group."""

    _esm = STATIC / "form.js"
    _css = STATIC / "form.css"

    group_path = traitlets.Unicode("").tag(sync=True)
    name = traitlets.Unicode("").tag(sync=True)
    dtype = traitlets.Unicode("float64").tag(sync=True)
    dtype_choices = traitlets.List(traitlets.Unicode(), default_value=list(DTYPE_CHOICES)).tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)
    tags = traitlets.List(traitlets.Unicode()).tag(sync=True)
    expression = traitlets.Unicode("").tag(sync=True)
    validation = traitlets.Dict().tag(sync=True)
    created = traitlets.Dict().tag(sync=True)
    error = traitlets.Dict().tag(sync=True)

    def __init__(self, group: FeatureGroup, **kwargs: Any) -> None:
        self._group = group
        self.last_created: Feature | None = None
        super().__init__(group_path=group.path, **kwargs)
        self.on_msg(self._on_message)
        self.validate()

    @property
    def group(self) -> FeatureGroup:
        return self._group

    # -- validation ----------------------------------------------------------------------------

    @traitlets.observe("name", "dtype", "expression")
    def _on_definition_change(self, change: dict[str, Any]) -> None:
        self.error = {}
        self.validate()

    def validate(self) -> dict[str, Any]:
        """Check the current definition without creating it; the answer also lands in ``validation``."""
        expression = self.expression.strip() or None
        try:
            result = self._group.validate_feature(
                self.name.strip() or PLACEHOLDER_NAME, self.dtype.strip(), derived_from=expression
            )
        except RaiseError as exc:
            payload: dict[str, Any] = {
                "state": "invalid",
                "valid": False,
                "inferred_type": None,
                "references": [],
                "errors": [{**error_payload(exc), "severity": "error", "field": _field_of(exc)}],
                "warnings": [],
            }
        else:
            payload = _validation_payload(result)
        if not self.name.strip() and payload["valid"]:
            payload["state"] = "incomplete"  # valid so far, but nothing to create without a name
        self.validation = payload
        return payload

    # -- creation ------------------------------------------------------------------------------

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "create":
            self.create()

    def create(self) -> Feature | None:
        """Create the feature the form describes; ``None`` (and ``error`` set) when the store refuses."""
        self.error = {}
        try:
            feature = self._group.create_feature(
                self.name.strip(),
                self.dtype.strip(),
                description=self.description.strip() or None,
                tags=[t.strip() for t in self.tags if t.strip()] or None,
                derived_from=self.expression.strip() or None,
            )
        except RaiseError as exc:
            self.error = error_payload(exc)
            return None
        self.last_created = feature
        self.created = {
            "qualified_name": feature.qualified_name,
            "name": feature.name,
            "version": feature.version,
            "dtype": str(feature.dtype),
            "derived_from": feature.derived_from,
            "tags": feature.tags,
        }
        return feature

    def __repr__(self) -> str:
        lines = [f"FeatureForm({self.group_path})"]
        lines.append(f"  name: {self.name or '-'}  dtype: {self.dtype or '-'}")
        if self.expression.strip():
            lines.append(f"  expression: {' '.join(self.expression.split())}")
        tags = [t.strip() for t in self.tags if t.strip()]
        if tags:
            lines.append(f"  tags: {', '.join(tags)}")
        state = self.validation.get("state", "")
        if state in ("valid", "incomplete"):
            inferred = self.validation.get("inferred_type")
            lines.append(f"  validation: {state}" + (f", inferred type {inferred}" if inferred else ""))
        elif state == "invalid":
            for issue in self.validation.get("errors", []):
                where = f" (line {issue['line']}, column {issue['column']})" if "line" in issue else ""
                lines.append(f"  error: {issue['code']}{where}: {issue['message']}")
        for issue in self.validation.get("warnings", []):
            lines.append(f"  warning: {issue['code']}: {issue['message']}")
        if self.created:
            lines.append(f"  created: {self.created['qualified_name']} ({self.created['dtype']})")
        if self.error:
            lines.append(f"  not created: {self.error['text']}")
        return "\n".join(lines)
