"""Validating a derived feature (PRD §5.3, README *Validation*): parse, resolve, type-check,
compare with the declared dtype, and look for cycles; then apply the validation level.

Levels: ``strict`` turns every warning into an error; ``standard`` blocks on errors and lets
warnings through; ``permissive`` blocks only on syntax errors (the others are reported as
warnings, and reading the feature will fail until they are fixed).
"""

from __future__ import annotations

from typing import Protocol

from sqlglot import exp

from raise_.errors import InvalidArgumentError
from raise_.expressions.analysis import Analysis, NameResolver, Resolution, analyze
from raise_.expressions.model import LEVELS, NEW_FEATURE_ID, FeatureInfo, GroupInfo, Issue, ValidationResult
from raise_.expressions.sqltypes import Special, describe
from raise_.expressions.syntax import ExpressionSyntaxError, parse_expression
from raise_.types import Embedding, FeatureType, String, is_compatible

__all__ = ["GraphResolver", "check_level", "referenced_names", "validate_expression"]


class GraphResolver(NameResolver, Protocol):
    """A resolver that can also resolve names written in another group's expressions."""

    def for_group(self, group: GroupInfo) -> GraphResolver: ...

    def resolve(self, name: str, *, checks: bool = True) -> Resolution: ...


def check_level(level: object) -> str:
    if level not in LEVELS:
        raise InvalidArgumentError(
            f"Invalid validation level {level!r}: use 'strict', 'standard' or 'permissive'.",
            {"validation": repr(level)},
        )
    return str(level)


def referenced_names(text: str) -> list[str]:
    """The names an expression mentions, in order of first appearance."""
    tree = parse_expression(text).tree
    seen: dict[str, None] = {}
    for col in tree.find_all(exp.Column, bfs=False):  # depth-first: left to right as typed
        if isinstance(col.this, exp.Identifier) and not col.table:
            seen.setdefault(col.this.this, None)
    return list(seen)


def validate_expression(
    text: str,
    declared: FeatureType,
    resolver: GraphResolver,
    *,
    level: str = "standard",
    name: str = "",
) -> tuple[ValidationResult, Analysis | None]:
    level = check_level(level)
    try:
        parsed = parse_expression(text)
    except ExpressionSyntaxError as exc:
        issue = Issue(exc.code, exc.message, "error", exc.position)
        return ValidationResult(False, None, [], [issue], [], level), None
    analysis = analyze(parsed, resolver)
    issues = list(analysis.issues)
    inferred = analysis.result_type
    if not analysis.errors:
        issues += _dtype_issues(declared, inferred, name)
    cycle = _find_cycle(analysis, resolver)
    if cycle:
        issues.append(
            Issue(
                "CIRCULAR_DEPENDENCY",
                f"{' → '.join(cycle)}: the expression depends on the feature it defines.",
                "error",
                None,
            )
        )
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity == "warning"]
    if level == "strict":
        errors, warnings = errors + [_as(w, "error") for w in warnings], []
    elif level == "permissive":
        errors, warnings = [], [_as(e, "warning") for e in errors] + warnings
    result_type = inferred if isinstance(inferred, FeatureType) else None
    result = ValidationResult(not errors, result_type, list(analysis.references), errors, warnings, level)
    return result, analysis


def _as(issue: Issue, severity: str) -> Issue:
    return Issue(issue.code, issue.message, severity, issue.position)


def _dtype_issues(declared: FeatureType, inferred: Special | FeatureType, name: str) -> list[Issue]:
    label = f"{name} is declared" if name else "declared"
    if inferred is Special.INTERVAL:
        return [
            Issue(
                "DTYPE_MISMATCH",
                f"The expression gives an INTERVAL, which a feature cannot store; use EPOCH(...) for seconds or "
                f"DATE_DIFF('day', a, b) ({label} {declared}).",
            )
        ]
    if isinstance(inferred, Special) or is_compatible(declared, inferred):
        return []
    if isinstance(declared, String) and isinstance(inferred, String):
        return [
            Issue(
                "STRING_LENGTH_UNCHECKED",
                f"{label} {declared}; values longer than {declared.max_length} characters are not cut.",
                "warning",
            )
        ]
    if isinstance(declared, Embedding) and isinstance(inferred, Embedding):
        fix = f"declare {inferred}"
    else:
        fix = f"declare dtype={str(inferred)!r} or CAST the expression"
    return [
        Issue(
            "DTYPE_MISMATCH",
            f"{label} {declared} but the expression gives {describe(inferred)}; {fix}.",
        )
    ]


def _find_cycle(analysis: Analysis, resolver: GraphResolver) -> list[str] | None:
    """A path from the new feature back to itself through derived features, if one exists."""
    new = next((r for r in analysis.references if r.feature and r.feature.id == NEW_FEATURE_ID), None)
    if new is not None and new.feature is not None:
        return [new.feature.name, new.name]
    start = [r.feature for r in analysis.references if r.feature and r.feature.derived_from]
    stack: list[tuple[FeatureInfo, list[str]]] = [(f, [f.name]) for f in start]
    seen: set[str] = set()
    while stack:
        feature, path = stack.pop()
        if feature.id in seen or feature.derived_from is None:
            continue
        seen.add(feature.id)
        try:
            names = referenced_names(feature.derived_from)
        except ExpressionSyntaxError:
            continue  # a permissively created, unparsable feature depends on nothing
        inner = resolver.for_group(feature.group)
        for n in names:
            target = inner.resolve(n, checks=False).reference.feature
            if target is None:
                continue
            if target.id == NEW_FEATURE_ID:
                return [target.name, *path, target.name]
            if target.derived_from:
                stack.append((target, [*path, target.name]))
    return None
