"""Nesting limits of filters and derived features: measured on tokens before sqlglot's recursive
parser sees the text, refused with a coded, positioned error; and the limit is low enough that
whatever it accepts parses with room to spare on Python's stack."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from sqlglot.dialects.duckdb import DuckDB

from raise_.errors import InvalidExpressionError
from raise_.expressions.nesting import MAX_NESTING, MAX_TREE_DEPTH, nesting
from raise_.expressions.predicate import compile_predicate
from raise_.expressions.syntax import ExpressionSyntaxError, parse_expression

COLUMNS = {name: name for name in ("x", "a", "b", "t", "l", "clicks")}

DEPTHS = [
    ("x", 0),
    ("(x)", 1),
    ("((x))", 2),
    ("NOT NOT x", 2),
    ("- - - x", 3),
    ("a * -b + b * -a + x * -a", 1),  # a sign ends at the next binary operator
    ("NOT a AND NOT b AND NOT x", 1),  # NOT ends at AND
    ("x IS NOT NULL AND a NOT IN (1, 2)", 2),
    ("x BETWEEN -1 AND -2", 1),
    ("NOT a BETWEEN b AND (x)", 2),  # BETWEEN's AND does not end the NOT
    ("NOT NOT (x) + ((((a))))", 6),  # the NOTs still wait for their operand
    ("CASE WHEN NOT a THEN -b ELSE -(x) END", 3),
    ("SUM(x) OVER (PARTITION BY a ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)", 3),
    ("CAST(x AS DECIMAL(10, 2))", 3),
    ("(" * 5000 + "x" + ")" * 5000, 5000),
]


@pytest.mark.parametrize(("text", "depth"), DEPTHS, ids=[t[:40] for t, _ in DEPTHS])
def test_nesting_depth(text: str, depth: int) -> None:
    assert nesting(DuckDB().tokenize(text)).depth == depth


# (case, text, depth, column of the first level too many)
DEEP = [
    ("5000 brackets", "(" * 5000 + "clicks > 1" + ")" * 5000, 5000, MAX_NESTING + 1),
    ("3000 NOT", "NOT " * 3000 + "clicks > 1", 3000, 4 * MAX_NESTING + 1),
    ("3000 unary minus", "- " * 3000 + "clicks > 1", 3000, 2 * MAX_NESTING + 1),
    ("1000 calls", "ABS(" * 1000 + "clicks" + ")" * 1000 + " > 1", 1000, 4 * MAX_NESTING + 4),
    ("one level too many", "(" * 25 + "clicks > 1" + ")" * 25, 25, 25),
]


@pytest.mark.parametrize(("case", "text", "depth", "column"), DEEP, ids=[c[0] for c in DEEP])
def test_a_filter_nested_too_deep_is_a_coded_error(case: str, text: str, depth: int, column: int) -> None:
    with pytest.raises(InvalidExpressionError) as caught:
        compile_predicate(text, COLUMNS)
    error = caught.value
    assert error.code == "INVALID_EXPRESSION"
    assert error.details == {
        "reason": "NESTING_TOO_DEEP",
        "depth": depth,
        "limit": MAX_NESTING,
        "line": 1,
        "column": column,
    }
    assert f"nests {depth} levels deep" in error.message and f"at most {MAX_NESTING}" in error.message


@pytest.mark.parametrize(("case", "text", "depth", "column"), DEEP, ids=[c[0] for c in DEEP])
def test_an_expression_nested_too_deep_is_a_coded_syntax_error(case: str, text: str, depth: int, column: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_expression(text)
    assert caught.value.code == "NESTING_TOO_DEEP"
    assert f"nests {depth} levels deep" in caught.value.message
    assert caught.value.position is not None
    assert (caught.value.position.line, caught.value.position.column) == (1, column)


def test_a_chain_deeper_than_the_tree_limit_is_refused_in_an_expression_not_in_a_filter() -> None:
    chain = "clicks" + " + clicks" * 3000
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_expression(chain)
    assert caught.value.code == "NESTING_TOO_DEEP"
    assert f"at most {MAX_TREE_DEPTH}" in caught.value.message
    # sqlglot writes a filter's chains back without recursion: long OR lists keep working
    assert len(compile_predicate(" OR ".join(f"clicks = {i}" for i in range(3000)), COLUMNS).params) == 3000
    assert parse_expression("clicks" + " + clicks" * (MAX_TREE_DEPTH - 10)).tree is not None


# The constructs that cost sqlglot the most frames per level (25 for ``ABS(``, ``x BETWEEN (``).
WORST: list[tuple[str, str]] = [
    ("(", ")"),
    ("ABS(", ")"),
    ("x BETWEEN (", ") AND 2"),
    ("COALESCE(1, ", ")"),
    ("CASE WHEN ", " THEN 1 END"),
    ("NOT (", ")"),
    ("INTERVAL (", ") DAY"),
    ("COUNT(DISTINCT (", "))"),
    ("@ (", ")"),
    ("NOT NOT x + (", ")"),
    ("- - x * (", ")"),
    ("NOT a BETWEEN b AND (", ")"),
    ("x NOT IN (", ")"),
    ("list_transform(l, y -> ", ")"),
    ("[", "]"),
    ("NOT ", ""),
    ("- ", ""),
    ("@ ", ""),
]

CALLER_FRAMES = 300  # a notebook kernel's stack plus the SDK's, with room to spare


def _from_deep_stack(frames: int, call: Callable[[], Any]) -> Any:
    return call() if frames == 0 else _from_deep_stack(frames - 1, call)


def _attempt(call: Callable[[], Any]) -> str:
    parse_expression.cache_clear()
    try:
        _from_deep_stack(CALLER_FRAMES, call)
    except RecursionError:
        return "RecursionError"
    except (ExpressionSyntaxError, InvalidExpressionError) as exc:
        return "too deep" if "levels deep" in str(exc) else "other error"
    return "ok"


@pytest.mark.parametrize(("opening", "closing"), WORST, ids=[o for o, _ in WORST])
def test_the_deepest_accepted_text_parses_from_a_deep_stack(opening: str, closing: str) -> None:
    fits = next(
        n for n in range(MAX_NESTING, 0, -1) if nesting(DuckDB().tokenize(opening * n + "x")).depth <= MAX_NESTING
    )
    text = opening * fits + "x" + closing * fits
    assert _attempt(lambda: parse_expression(text)) != "RecursionError"
    assert _attempt(lambda: compile_predicate(text, COLUMNS)) != "RecursionError"
    over = opening * (fits + 1) + "x" + closing * (fits + 1)
    assert _attempt(lambda: parse_expression(over)) == "too deep"


def test_random_mixtures_never_reach_a_recursion_error() -> None:
    rng = random.Random(16)
    outcomes = set()
    for _ in range(300):
        parts = [rng.choice(WORST) for _ in range(rng.randint(1, 40))]
        text = "".join(o for o, _ in parts) + "x" + "".join(c for _, c in reversed(parts))
        outcomes.add(_attempt(lambda t=text: parse_expression(t)))  # type: ignore[misc]
        outcomes.add(_attempt(lambda t=text: compile_predicate(t, COLUMNS)))  # type: ignore[misc]
    assert "RecursionError" not in outcomes
    assert {"ok", "too deep"} <= outcomes
