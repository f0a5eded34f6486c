"""DuckDB SQL from a checked expression (PRD §5.4), generated node by node.

Nothing of the user's text is copied into the SQL: identifiers become the columns the caller
maps them to, string literals become named parameters, numbers are re-printed from their parsed
values, and units (``DATE_TRUNC('day', ...)``, ``INTERVAL``) come from a fixed list.

Two rules give row expressions a point-in-time meaning (see docs/expressions.md):

- a whole-group aggregate (``AVG(x)`` without ``OVER``) is the aggregate over every row of the
  group whose event time is at or before the row's own: ``AVG(x) OVER (ORDER BY event_time
  RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)``;
- a window function without ``OVER`` (``LAG(clicks)``) runs per entity in event-time order.

Division by zero (``/``, ``//``, ``%``, ``MOD``) gives NULL, not an error or infinity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from sqlglot import exp

from raise_.expressions.analysis import Analysis, literal_value
from raise_.expressions.functions import FUNCTIONS, strftime_format
from raise_.expressions.model import Reference

__all__ = ["CompileContext", "Parameters", "compile_expression"]

_COMPARISONS: Final[dict[type[exp.Expr], str]] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.NullSafeEQ: "IS NOT DISTINCT FROM",
    exp.NullSafeNEQ: "IS DISTINCT FROM",
}
_ARITHMETIC: Final[dict[type[exp.Expr], str]] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.IntDiv: "//",
    exp.Mod: "%",
}
_CAST_TYPES: Final = {
    "BIGINT": "BIGINT",
    "INT": "INTEGER",
    "INTEGER": "INTEGER",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "REAL": "FLOAT",
    "VARCHAR": "VARCHAR",
    "TEXT": "VARCHAR",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMPTZ": "TIMESTAMPTZ",
    "TIMESTAMP": "TIMESTAMPTZ",
}
_FORMAT_ARGUMENTS: Final = {"TO_CHAR": 1, "TO_TIMESTAMP": 1}


@dataclass
class Parameters:
    """Named parameters of one query; every compiled expression of the query shares it."""

    prefix: str = "x"
    values: dict[str, Any] = field(default_factory=dict)

    def add(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f"${name}"


@dataclass(frozen=True)
class CompileContext:
    column: Callable[[Reference], str]  # SQL of a referenced column
    event_time: str  # SQL of the group's event-time column
    entity_keys: tuple[str, ...]  # SQL of its entity-key columns
    params: Parameters


def compile_expression(analysis: Analysis, context: CompileContext) -> str:
    if analysis.errors:
        raise ValueError("an expression with errors cannot be compiled")  # callers validate first
    return _Renderer(analysis, context).render(analysis.parsed.tree)


class _Renderer:
    def __init__(self, analysis: Analysis, context: CompileContext) -> None:
        self.analysis = analysis
        self.ctx = context

    def render(self, node: exp.Expr, *, over: bool = False) -> str:
        r = self.render
        if isinstance(node, exp.Literal):
            value = literal_value(node)
            if isinstance(value, str):
                return self.ctx.params.add(value)
            return str(value) if isinstance(value, int) else f"CAST({value!r} AS DOUBLE)"
        if isinstance(node, exp.Null):
            return "NULL"
        if isinstance(node, exp.Boolean):
            return "TRUE" if node.this else "FALSE"
        if isinstance(node, exp.Column):
            return self.ctx.column(self.analysis.column_refs[id(node)])
        if isinstance(node, exp.Paren):
            return f"({r(node.this)})"
        if isinstance(node, exp.Neg):
            return f"(-{r(node.this)})"
        if type(node) in _ARITHMETIC:
            right = r(node.expression)
            guarded = _is_nullif_zero(node.expression)
            if isinstance(node, exp.Div | exp.IntDiv | exp.Mod) and not guarded:
                right = f"NULLIF({right}, 0)"
            return f"({r(node.this)} {_ARITHMETIC[type(node)]} {right})"
        if type(node) in _COMPARISONS:
            return f"({r(node.this)} {_COMPARISONS[type(node)]} {r(node.expression)})"
        if isinstance(node, exp.And | exp.Or):
            return f"({r(node.this)} {node.key.upper()} {r(node.expression)})"
        if isinstance(node, exp.Not):
            return f"(NOT {r(node.this)})"
        if isinstance(node, exp.Is):
            return f"({r(node.this)} IS {r(node.expression)})"
        if isinstance(node, exp.In):
            return f"({r(node.this)} IN ({', '.join(r(e) for e in node.expressions)}))"
        if isinstance(node, exp.Between):
            return f"({r(node.this)} BETWEEN {r(node.args['low'])} AND {r(node.args['high'])})"
        if isinstance(node, exp.Like | exp.ILike):
            word = "LIKE" if isinstance(node, exp.Like) else "ILIKE"
            negate = "NOT " if node.args.get("negate") else ""
            return f"({r(node.this)} {negate}{word} {r(node.expression)})"
        if isinstance(node, exp.DPipe):
            return f"({r(node.this)} || {r(node.expression)})"
        if isinstance(node, exp.Case):
            subject = f" {r(node.this)}" if node.this is not None else ""
            whens = " ".join(f"WHEN {r(b.this)} THEN {r(b.args['true'])}" for b in node.args.get("ifs") or [])
            default = f" ELSE {r(node.args['default'])}" if node.args.get("default") is not None else ""
            return f"CASE{subject} {whens}{default} END"
        if isinstance(node, exp.If):
            default = f" ELSE {r(node.args['false'])}" if node.args.get("false") is not None else ""
            return f"CASE WHEN {r(node.this)} THEN {r(node.args['true'])}{default} END"
        if isinstance(node, exp.Cast):
            word = "TRY_CAST" if isinstance(node, exp.TryCast) else "CAST"
            return f"{word}({r(node.this)} AS {_CAST_TYPES[node.args['to'].this.name.upper()]})"
        if isinstance(node, exp.Extract):
            return f"date_part('{node.this.name.lower()}', {r(node.expression)})"
        if isinstance(node, exp.Interval):
            return _interval(node)
        if isinstance(node, exp.CurrentTimestamp):
            return "now()"
        if isinstance(node, exp.Anonymous):
            return self.function(node, over=over)
        if isinstance(node, exp.WithinGroup):
            call = self.percentile(node)
            return call if over else f"{call} {self.expanding()}"
        if isinstance(node, exp.Window):
            return self.window(node)
        raise AssertionError(f"unchecked node {node.key}")  # analysis refuses every other node

    def function(self, node: exp.Anonymous, *, over: bool) -> str:
        name = str(node.this).upper()
        spec = FUNCTIONS[name]
        args = []
        for i, arg in enumerate(node.expressions):
            if isinstance(arg, exp.Star):
                args.append("*")
            elif isinstance(arg, exp.Distinct):
                args.append(f"DISTINCT {self.render(arg.expressions[0])}")
            elif _FORMAT_ARGUMENTS.get(name) == i and isinstance(arg, exp.Literal):
                args.append(self.ctx.params.add(strftime_format(str(arg.this))))
            else:
                args.append(self.render(arg))
        sql = spec.render(args)
        if spec.category == "vector":
            # DuckDB's list functions reject a NULL vector instead of returning NULL.
            sql = f"CASE WHEN {' OR '.join(f'{a} IS NULL' for a in args)} THEN NULL ELSE {sql} END"
        if over:
            return sql
        if spec.aggregate:
            return f"{sql} {self.expanding()}"
        if spec.window_only:
            return f"{sql} OVER ({self.default_window()})"
        return sql

    def percentile(self, node: exp.WithinGroup) -> str:
        kind = "quantile_cont" if str(node.this.this).upper() == "PERCENTILE_CONT" else "quantile_disc"
        fraction = self.render(node.this.expressions[0])
        return f"{kind}({self.render(node.expression.expressions[0].this)}, {fraction})"

    def expanding(self) -> str:
        return f"OVER (ORDER BY {self.ctx.event_time} RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"

    def default_window(self) -> str:
        partition = f"PARTITION BY {', '.join(self.ctx.entity_keys)} " if self.ctx.entity_keys else ""
        return f"{partition}ORDER BY {self.ctx.event_time}"

    def window(self, node: exp.Window) -> str:
        inner = node.this
        call = self.percentile(inner) if isinstance(inner, exp.WithinGroup) else self.function(inner, over=True)
        parts = []
        partition = node.args.get("partition_by") or []
        if partition:
            parts.append("PARTITION BY " + ", ".join(self.render(p) for p in partition))
        order = node.args.get("order")
        if order is not None:
            parts.append("ORDER BY " + ", ".join(self.ordered(o) for o in order.expressions))
        spec = node.args.get("spec")
        if spec is not None:
            start = self.bound(spec.args.get("start"), spec.args.get("start_side"))
            end = self.bound(spec.args.get("end"), spec.args.get("end_side")) if spec.args.get("end") else "CURRENT ROW"
            parts.append(f"{str(spec.args['kind']).upper()} BETWEEN {start} AND {end}")
        return f"{call} OVER ({' '.join(parts)})"

    def ordered(self, node: exp.Ordered) -> str:
        sql = self.render(node.this)
        if node.args.get("desc"):
            sql += " DESC"
        nulls_first = node.args.get("nulls_first")
        if nulls_first is not None:
            sql += " NULLS FIRST" if nulls_first else " NULLS LAST"
        return sql

    def bound(self, value: Any, side: Any) -> str:
        if isinstance(value, exp.Literal):
            head = str(int(str(value.this)))
        elif isinstance(value, exp.Interval):
            head = _interval(value)
        else:
            head = str(value).upper()
            if head == "CURRENT ROW":
                return head
        return f"{head} {str(side).upper()}"


def _is_nullif_zero(node: exp.Expr) -> bool:
    """``NULLIF(x, 0)``: already safe to divide by."""
    return (
        isinstance(node, exp.Anonymous)
        and str(node.this).upper() == "NULLIF"
        and len(node.expressions) == 2
        and isinstance(node.expressions[1], exp.Literal)
        and not node.expressions[1].is_string
        and float(str(node.expressions[1].this)) == 0
    )


def _interval(node: exp.Interval) -> str:
    amount = float(str(node.this.this))
    unit = node.args["unit"].name.lower()
    number = int(amount) if amount.is_integer() else amount
    return f"INTERVAL '{number} {unit}'"
