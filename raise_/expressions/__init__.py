"""User-typed SQL, parsed with sqlglot, checked, and compiled to DuckDB SQL with its literals as
parameters: row filters (``predicate``) and derived features (``syntax`` → ``analysis`` →
``validation`` → ``compiler``; see docs/expressions.md)."""

from __future__ import annotations

from raise_.expressions.model import FeatureInfo, GroupInfo, Issue, Reference, ValidationResult
from raise_.expressions.predicate import CompiledPredicate, compile_predicate

__all__ = [
    "CompiledPredicate",
    "FeatureInfo",
    "GroupInfo",
    "Issue",
    "Reference",
    "ValidationResult",
    "compile_predicate",
]
