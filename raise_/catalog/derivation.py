"""Derived-feature validation inside a catalog transaction: what ``create_feature(...,
derived_from=...)`` and ``validate_feature`` run, and the lineage edges a valid expression yields.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from sqlalchemy.orm import Session
from sqlglot import exp

from raise_.catalog.expression_resolver import CatalogResolver
from raise_.errors import (
    CircularDependencyError,
    ExpressionWarning,
    InvalidExpressionError,
    RaiseError,
    error_class_for_code,
)
from raise_.expressions.analysis import Analysis
from raise_.expressions.model import NEW_FEATURE_ID, FeatureInfo, ValidationResult
from raise_.expressions.validation import validate_expression
from raise_.types import FeatureType

__all__ = ["Validation", "lineage_edges", "raise_if_invalid", "validate_definition", "warn"]

# Codes whose own exception class says more than INVALID_EXPRESSION.
_OWN_CLASS = {
    "CIRCULAR_DEPENDENCY",
    "FEATURE_NOT_FOUND",
    "FEATURE_GROUP_NOT_FOUND",
    "VERSION_NOT_FOUND",
    "PERMISSION_DENIED",
    "CROSS_ORG_ACCESS_DENIED",
}


@dataclass(frozen=True)
class Validation:
    result: ValidationResult
    analysis: Analysis | None


def validate_definition(
    session: Session,
    path: tuple[str, str, str, str],
    user: str,
    *,
    name: str,
    version: str,
    dtype: FeatureType,
    derived_from: str,
    level: str,
    pending: dict[str, list[FeatureInfo]] | None = None,
) -> Validation:
    resolver = CatalogResolver.for_path(session, path, user, defining=(name, version), pending=pending)
    result, analysis = validate_expression(derived_from, dtype, resolver, level=level, name=name)
    return Validation(result, analysis)


def raise_if_invalid(result: ValidationResult, name: str, derived_from: str) -> None:
    if result.valid:
        return
    first = result.errors[0]
    more = f" (and {len(result.errors) - 1} more error(s))" if len(result.errors) > 1 else ""
    message = f"Invalid derived feature {name!r}: {first}{more}"
    details = {
        "feature": name,
        "derived_from": derived_from,
        "reason": first.code,
        "errors": [e.to_dict() for e in result.errors],
        "warnings": [w.to_dict() for w in result.warnings],
    }
    cls: type[RaiseError] = InvalidExpressionError
    if first.code in _OWN_CLASS:
        cls = CircularDependencyError if first.code == "CIRCULAR_DEPENDENCY" else error_class_for_code(first.code)
    raise cls(message, details)


def warn(result: ValidationResult, name: str, stacklevel: int = 4) -> None:
    for issue in result.warnings:
        warnings.warn(f"{name}: {issue}", ExpressionWarning, stacklevel=stacklevel)


def lineage_edges(analysis: Analysis | None) -> list[tuple[str, str]]:
    """(upstream feature id, the part of the expression that uses it), one per upstream."""
    if analysis is None:
        return []
    out: dict[str, str] = {}
    for node in analysis.parsed.tree.find_all(exp.Column):
        ref = analysis.column_refs.get(id(node))
        if ref is None or ref.feature is None or ref.feature.id == NEW_FEATURE_ID or ref.feature.id in out:
            continue
        out[ref.feature.id] = _context(node, analysis)
    return list(out.items())


def _context(node: exp.Expr, analysis: Analysis) -> str:
    """The smallest call or operation around a reference, written as the user would."""
    parent = node.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    if parent is None:
        return analysis.parsed.text.strip()
    sql = parent.sql(dialect="duckdb")
    return re.sub(r'"([^"]*[./@][^"]*)"', r"\1", sql)
