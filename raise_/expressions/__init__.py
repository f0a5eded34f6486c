"""User-typed SQL: parsed with sqlglot, checked, and rendered with its literals as parameters.

The derived-feature engine (its own issue) grows here; today it holds the row filter.
"""

from __future__ import annotations

from raise_.expressions.predicate import CompiledPredicate, compile_predicate

__all__ = ["CompiledPredicate", "compile_predicate"]
