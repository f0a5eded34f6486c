"""Checking a parsed expression: which constructs it uses, what its names refer to, and what
type each part has (PRD §5.3 steps 1–3).

Only a closed set of sqlglot node types is accepted (anything else, e.g. a subquery, is
``UNSUPPORTED_SYNTAX``); names are resolved through a :class:`NameResolver` the caller provides
(the catalog, or a test's dictionary), so this module touches no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

from sqlglot import exp

from raise_.expressions.functions import FUNCTIONS, UNSUPPORTED, FunctionSpec, TypeProblem
from raise_.expressions.model import Issue, Reference
from raise_.expressions.sqltypes import (
    Special,
    SqlType,
    common_type,
    describe,
    is_boolean,
    is_integer,
    is_numeric,
    is_string,
    is_temporal,
)
from raise_.expressions.syntax import ParsedExpression
from raise_.hints import suggest
from raise_.types import Bool, Embedding, FeatureType, Float32, Float64, Int32, Int64, String, Timestamp

__all__ = ["DATE_UNITS", "Analysis", "NameResolver", "Resolution", "analyze", "literal_value"]

DATE_UNITS: Final = frozenset(
    {
        *("microsecond", "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year"),
        *("microseconds", "milliseconds", "seconds", "minutes", "hours", "days", "weeks", "months"),
        *("quarters", "years", "decade", "century", "millennium", "dow", "doy", "epoch", "isodow", "isoyear"),
    }
)

_CASTS: Final[dict[str, FeatureType]] = {
    "BIGINT": Int64(),
    "INT": Int32(),
    "INTEGER": Int32(),
    "DOUBLE": Float64(),
    "FLOAT": Float32(),
    "REAL": Float32(),
    "VARCHAR": String(),
    "TEXT": String(),
    "BOOLEAN": Bool(),
    "TIMESTAMPTZ": Timestamp(),
    "TIMESTAMP": Timestamp(),
}


@dataclass(frozen=True)
class Resolution:
    reference: Reference  # without a position: the analysis adds it
    sql_type: SqlType
    issues: tuple[tuple[str, str, str], ...] = ()  # (code, message, severity)


class NameResolver(Protocol):
    def resolve(self, name: str) -> Resolution: ...


@dataclass
class Analysis:
    parsed: ParsedExpression
    result_type: SqlType
    references: list[Reference] = field(default_factory=list)
    column_refs: dict[int, Reference] = field(default_factory=dict)  # id(Column node) → reference
    issues: list[Issue] = field(default_factory=list)
    has_window: bool = False  # an explicit window, a window function or a whole-group aggregate

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]


def literal_value(node: exp.Literal) -> str | int | float:
    if node.is_string:
        return str(node.this)
    text = str(node.this)
    try:
        return int(text)
    except ValueError:
        return float(text)


class _Checker:
    def __init__(self, parsed: ParsedExpression, resolver: NameResolver) -> None:
        self.parsed = parsed
        self.resolver = resolver
        self.analysis = Analysis(parsed, Special.UNKNOWN)
        self._resolved: dict[str, Resolution] = {}
        self._in_aggregate = False

    # -- reporting -----------------------------------------------------------------------------

    def issue(self, code: str, message: str, node: exp.Expr | None, severity: str = "error") -> None:
        position = self.parsed.position(node) if node is not None else None
        self.analysis.issues.append(Issue(code, message, severity, position))

    def type_error(self, message: str, node: exp.Expr) -> SqlType:
        self.issue("TYPE_ERROR", message, node)
        return Special.UNKNOWN

    # -- the walk ------------------------------------------------------------------------------

    def visit(self, node: exp.Expr) -> SqlType:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            return self.unsupported(node)
        return handler(self, node)

    def unsupported(self, node: exp.Expr) -> SqlType:
        what = node.key.upper()
        self.issue(
            "UNSUPPORTED_SYNTAX",
            f"{what} cannot be used in a derived feature; use arithmetic, comparisons, CASE and the functions "
            "of the README's table.",
            node,
        )
        return Special.UNKNOWN

    def literal(self, node: exp.Literal) -> SqlType:
        if node.is_string:
            return String()
        return Int64() if isinstance(literal_value(node), int) else Float64()

    def column(self, node: exp.Column) -> SqlType:
        if node.table or not isinstance(node.this, exp.Identifier):
            self.issue(
                "UNSUPPORTED_SYNTAX",
                f"{node.sql()!r} is not a feature reference; write 'feature', 'group.feature' or "
                "'project/group.feature'.",
                node,
            )
            return Special.UNKNOWN
        name = node.this.this
        resolution = self._resolved.get(name)
        if resolution is None:
            resolution = self.resolver.resolve(name)
            self._resolved[name] = resolution
            position = self.parsed.position(node)
            ref = Reference(
                resolution.reference.name,
                resolution.reference.kind,
                resolution.reference.scope,
                resolution.reference.feature,
                resolution.reference.pinned,
                position,
            )
            self.analysis.references.append(ref)
            for code, message, severity in resolution.issues:
                self.analysis.issues.append(Issue(code, message, severity, position))
        self.analysis.column_refs[id(node)] = next(r for r in self.analysis.references if r.name == name)
        return resolution.sql_type

    def paren(self, node: exp.Paren) -> SqlType:
        return self.visit(node.this)

    def neg(self, node: exp.Neg) -> SqlType:
        t = self.visit(node.this)
        if not (is_numeric(t) or t is Special.INTERVAL):
            return self.type_error(f"Cannot negate {describe(t)}.", node)
        return t

    def arithmetic(self, node: exp.Binary) -> SqlType:
        left, right = self.visit(node.this), self.visit(node.expression)
        op = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.IntDiv: "//", exp.Mod: "%"}[type(node)]
        if isinstance(node, exp.Add | exp.Sub):
            temporal = self._temporal_arithmetic(op, left, right)
            if temporal is not None:
                return temporal
        other = right if left is Special.INTERVAL else left
        if isinstance(node, exp.Mul) and Special.INTERVAL in (left, right) and is_numeric(other):  # INTERVAL 1 DAY * 3
            return Special.INTERVAL
        for side in (left, right):
            if not is_numeric(side):
                hint = ""
                if isinstance(side, String):
                    hint = " Use || or CONCAT to join text, or CAST(x AS DOUBLE) to read a number."
                elif isinstance(side, Embedding):
                    hint = " Use VEC_ADD, VEC_SUB or VEC_MUL on embeddings."
                return self.type_error(
                    f"Cannot compute {describe(left)} {op} {describe(right)}: {op} needs numbers.{hint}", node
                )
        if isinstance(node, exp.Div):
            return Float64()
        if isinstance(node, exp.IntDiv):
            if not (is_integer(left) and is_integer(right)):
                return self.type_error(f"// divides integers; got {describe(left)} and {describe(right)}.", node)
            return Int64()
        result = common_type([left, right])
        return Float64() if result is None else result

    def _temporal_arithmetic(self, op: str, left: SqlType, right: SqlType) -> SqlType | None:
        def real(t: SqlType, want: Callable[[SqlType], bool]) -> bool:
            return not isinstance(t, Special) and want(t)

        timely = any(t is Special.INTERVAL or real(t, is_temporal) for t in (left, right))
        if Special.UNKNOWN in (left, right) and timely:
            return Special.UNKNOWN  # an unresolved name next to a time: no type error on its account
        if real(left, is_temporal) and right is Special.INTERVAL:
            return Timestamp()
        if op == "+" and left is Special.INTERVAL and real(right, is_temporal):
            return Timestamp()
        if op == "-" and real(left, is_temporal) and real(right, is_temporal):
            return Special.INTERVAL
        if left is Special.INTERVAL and right is Special.INTERVAL:
            return Special.INTERVAL
        return None

    def comparison(self, node: exp.Binary) -> SqlType:
        left, right = self.visit(node.this), self.visit(node.expression)
        self._comparable(left, right, node)
        return Bool()

    def _comparable(self, left: SqlType, right: SqlType, node: exp.Expr) -> None:
        if common_type([left, right]) is not None:
            return
        # '2024-01-01' compared with a timestamp is read as a timestamp.
        if (isinstance(left, Timestamp) and isinstance(right, String)) or (
            isinstance(right, Timestamp) and isinstance(left, String)
        ):
            return
        self.type_error(f"Cannot compare {describe(left)} with {describe(right)}.", node)

    def logical(self, node: exp.Expr) -> SqlType:
        operands = [node.this] + ([node.expression] if isinstance(node, exp.Binary) else [])
        word = node.key.upper()
        for operand in operands:
            t = self.visit(operand)
            if not is_boolean(t):
                self.type_error(f"{word} needs conditions; {operand.sql()!r} is {describe(t)}.", operand)
        return Bool()

    def is_(self, node: exp.Is) -> SqlType:
        self.visit(node.this)
        if not isinstance(node.expression, exp.Null | exp.Boolean):
            return self.unsupported(node.expression)
        return Bool()

    def in_(self, node: exp.In) -> SqlType:
        left = self.visit(node.this)
        if node.args.get("query") or node.args.get("unnest") or not node.expressions:
            return self.unsupported(node)
        for item in node.expressions:
            self._comparable(left, self.visit(item), item)
        return Bool()

    def between(self, node: exp.Between) -> SqlType:
        value = self.visit(node.this)
        for bound in (node.args["low"], node.args["high"]):
            self._comparable(value, self.visit(bound), bound)
        return Bool()

    def like(self, node: exp.Expr) -> SqlType:
        for operand in (node.this, node.expression):
            t = self.visit(operand)
            if not is_string(t):
                self.type_error(f"LIKE matches text; {operand.sql()!r} is {describe(t)}.", operand)
        return Bool()

    def dpipe(self, node: exp.DPipe) -> SqlType:
        for operand in (node.this, node.expression):
            t = self.visit(operand)
            if isinstance(t, Embedding):
                self.type_error(f"|| joins text, not {describe(t)}.", operand)
        return String()

    def case(self, node: exp.Case) -> SqlType:
        subject = self.visit(node.this) if node.this is not None else None
        results: list[SqlType] = []
        for branch in node.args.get("ifs") or []:
            cond = self.visit(branch.this)
            if subject is not None:
                self._comparable(subject, cond, branch.this)
            elif not is_boolean(cond):
                self.type_error(f"WHEN needs a condition; {branch.this.sql()!r} is {describe(cond)}.", branch.this)
            results.append(self.visit(branch.args["true"]))
        if node.args.get("default") is not None:
            results.append(self.visit(node.args["default"]))
        result = common_type(results)
        if result is None:
            return self.type_error(
                f"CASE branches give {', '.join(describe(t) for t in results)}, which share no type.", node
            )
        return result

    def if_(self, node: exp.If) -> SqlType:
        cond = self.visit(node.this)
        if not is_boolean(cond):
            self.type_error(f"IF's first argument is a condition; it is {describe(cond)}.", node.this)
        results = [self.visit(node.args["true"])]
        if node.args.get("false") is not None:
            results.append(self.visit(node.args["false"]))
        result = common_type(results)
        if result is None:
            return self.type_error(f"IF gives {' or '.join(describe(t) for t in results)}, which share no type.", node)
        return result

    def cast(self, node: exp.Cast) -> SqlType:
        source = self.visit(node.this)
        to = node.args["to"]
        name = to.this.name if hasattr(to.this, "name") else str(to.this)
        target = _CASTS.get(name.upper())
        if target is None or to.expressions:
            self.issue(
                "UNSUPPORTED_SYNTAX",
                f"CAST to {to.sql()} is not supported; cast to one of {', '.join(sorted(_CASTS))}.",
                node,
            )
            return Special.UNKNOWN
        if isinstance(source, Embedding):
            return self.type_error(f"Cannot cast {describe(source)} to {target}.", node)
        return target

    def extract(self, node: exp.Extract) -> SqlType:
        unit = node.this.name.lower() if isinstance(node.this, exp.Var | exp.Identifier) else ""
        if unit not in DATE_UNITS:
            self.issue("INVALID_ARGUMENT", f"EXTRACT cannot take {node.this.sql()!r}; use e.g. YEAR, DAY, HOUR.", node)
        t = self.visit(node.expression)
        if not is_temporal(t):
            return self.type_error(f"EXTRACT needs a timestamp, not {describe(t)}.", node)
        return Int64()

    def interval(self, node: exp.Interval) -> SqlType:
        amount = node.this
        unit = node.args.get("unit")
        unit_name = unit.name.lower() if unit is not None else ""
        ok = isinstance(amount, exp.Literal) and _is_number(str(amount.this)) and unit_name in DATE_UNITS
        if not ok:
            self.issue(
                "INVALID_ARGUMENT",
                f"Invalid interval {node.sql()!r}; write e.g. INTERVAL '7 days' or INTERVAL 3 HOUR.",
                node,
            )
        return Special.INTERVAL

    def current_timestamp(self, node: exp.Expr) -> SqlType:
        self.issue(
            "NON_DETERMINISTIC",
            "CURRENT_TIMESTAMP changes with every read, so the feature's values are not reproducible; "
            "prefer the event time.",
            node,
            "warning",
        )
        return Timestamp()

    # -- functions and windows -----------------------------------------------------------------

    def function(self, node: exp.Anonymous, *, over: bool = False) -> SqlType:
        name = str(node.this).upper()
        spec = FUNCTIONS.get(name)
        if spec is None:
            return self._unknown_function(name, node)
        args = list(node.expressions)
        if not spec.min_args <= len(args) <= (spec.max_args if spec.max_args is not None else len(args)):
            expected = (
                f"{spec.min_args}"
                if spec.min_args == spec.max_args
                else f"at least {spec.min_args}"
                if spec.max_args is None
                else f"{spec.min_args} to {spec.max_args}"
            )
            self.issue("WRONG_ARITY", f"{name} takes {expected} argument(s), got {len(args)}.", node)
            return Special.UNKNOWN
        if spec.window_only and not over:
            self.analysis.has_window = True  # gets the default window: per entity, by event time
        if spec.aggregate and not over:
            self.analysis.has_window = True
        if spec.aggregate:
            if self._in_aggregate:
                self.issue("NESTED_AGGREGATE", f"{name} cannot be used inside another aggregate.", node)
                return Special.UNKNOWN
            self._in_aggregate = True
        try:
            types = [self._argument(name, spec, i, a) for i, a in enumerate(args)]
        finally:
            if spec.aggregate:
                self._in_aggregate = False
        if name == "NOW":
            self.issue(
                "NON_DETERMINISTIC",
                "NOW() changes with every read, so the feature's values are not reproducible; prefer the event time.",
                node,
                "warning",
            )
        if name == "LEAD":
            self._future_leak("LEAD reads later rows", node)
        try:
            return spec.result(name, types)
        except TypeProblem as problem:
            culprit = args[problem.argument] if problem.argument is not None and problem.argument < len(args) else node
            return self.type_error(problem.message, culprit)

    def _argument(self, name: str, spec: FunctionSpec, index: int, arg: exp.Expr) -> SqlType:
        if isinstance(arg, exp.Star):
            if name != "COUNT":
                return self.unsupported(arg)
            return Int64()
        if isinstance(arg, exp.Distinct):
            if name != "COUNT" or len(arg.expressions) != 1:
                self.issue("UNSUPPORTED_SYNTAX", "DISTINCT is only supported as COUNT(DISTINCT x).", arg)
                return Special.UNKNOWN
            return self.visit(arg.expressions[0])
        if index in spec.literal_args and not _is_literal(arg):
            self.issue("INVALID_ARGUMENT", f"Argument {index + 1} of {name} must be written as a literal.", arg)
        if name in {"DATE_TRUNC", "DATE_PART", "DATE_DIFF", "DATEDIFF"} and index == 0 and _is_literal(arg):
            unit = str(arg.this).lower() if isinstance(arg, exp.Literal) else ""
            if unit not in DATE_UNITS:
                self.issue("INVALID_ARGUMENT", f"{name} cannot take unit {arg.sql()}; use e.g. 'day' or 'hour'.", arg)
        return self.visit(arg)

    def _unknown_function(self, name: str, node: exp.Expr) -> SqlType:
        if name in UNSUPPORTED:
            self.issue(
                "UNSUPPORTED_FUNCTION", f"{name} is not supported in a derived feature: {UNSUPPORTED[name]}.", node
            )
        else:
            self.issue(
                "UNSUPPORTED_FUNCTION",
                f"Function {name} is not supported.{suggest(name, list(FUNCTIONS))} The README's *Supported "
                "Functions* table lists what derived features can use.",
                node,
            )
        for arg in node.expressions:  # still check the arguments' names
            if isinstance(arg, exp.Expr) and not isinstance(arg, exp.Star | exp.Distinct):
                self.visit(arg)
        return Special.UNKNOWN

    def window(self, node: exp.Window) -> SqlType:
        if self._in_aggregate:
            # Reported once, for the window; its function is checked as if it stood alone.
            self.issue("NESTED_AGGREGATE", "A window cannot be used inside an aggregate.", node)
            self._in_aggregate = False
            try:
                self._window(node)
            finally:
                self._in_aggregate = True
            return Special.UNKNOWN
        return self._window(node)

    def _window(self, node: exp.Window) -> SqlType:
        self.analysis.has_window = True
        inner = node.this
        if isinstance(inner, exp.WithinGroup):
            result = self.within_group(inner, over=True)
        elif isinstance(inner, exp.Anonymous):
            name = str(inner.this).upper()
            spec = FUNCTIONS.get(name)
            if spec is not None and not (spec.aggregate or spec.window_only):
                self.issue(
                    "UNSUPPORTED_SYNTAX", f"{name} is not a window or aggregate function; it cannot take OVER.", node
                )
                return Special.UNKNOWN
            result = self.function(inner, over=True)
        else:
            return self.unsupported(inner)
        for part in node.args.get("partition_by") or []:
            self.visit(part)
        order = node.args.get("order")
        if order is not None:
            for ordered in order.expressions:
                self.visit(ordered.this)
        spec = node.args.get("spec")
        self._frame(spec, order, node)
        return result

    def _frame(self, spec: exp.WindowSpec | None, order: exp.Order | None, node: exp.Window) -> None:
        if order is None:
            self._future_leak("a window without ORDER BY sees every row of its partition, later ones included", node)
        if spec is None:
            return
        for bound, side in (("start", "start_side"), ("end", "end_side")):
            value = spec.args.get(bound)
            if isinstance(value, exp.Literal):
                if value.is_string or not str(value.this).isdigit():
                    self.issue("INVALID_ARGUMENT", f"Window frame offsets are whole numbers, not {value.sql()}.", node)
            elif isinstance(value, exp.Interval):
                self.interval(value)
            elif value is not None and str(value).upper() not in {"UNBOUNDED", "CURRENT ROW"}:
                self.issue("INVALID_ARGUMENT", f"Unsupported window frame bound {value}.", node)
            if str(spec.args.get(side) or "").upper() == "FOLLOWING":
                self._future_leak("the window frame reaches FOLLOWING rows", node)

    def _future_leak(self, why: str, node: exp.Expr) -> None:
        self.issue(
            "FUTURE_LEAK",
            f"{why}: a value computed this way uses data from after its own event time, so training sets built "
            "from it leak the future.",
            node,
            "warning",
        )

    def within_group(self, node: exp.WithinGroup, *, over: bool = False) -> SqlType:
        inner = node.this
        order = node.expression
        if not (
            isinstance(inner, exp.Anonymous)
            and str(inner.this).upper() in {"PERCENTILE_CONT", "PERCENTILE_DISC"}
            and isinstance(order, exp.Order)
            and len(order.expressions) == 1
        ):
            return self.unsupported(node)
        if not over:
            self.analysis.has_window = True
        fraction = inner.expressions[0] if len(inner.expressions) == 1 else None
        if not (isinstance(fraction, exp.Literal) and not fraction.is_string and 0 <= float(fraction.this) <= 1):
            self.issue("INVALID_ARGUMENT", f"{inner.this} takes a fraction between 0 and 1 written as a literal.", node)
        value = self.visit(order.expressions[0].this)
        if not is_numeric(value):
            return self.type_error(f"{inner.this} needs numbers, not {describe(value)}.", node)
        return Float64()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_literal(node: exp.Expr) -> bool:
    if isinstance(node, exp.Neg):
        return _is_literal(node.this)
    return isinstance(node, exp.Literal)


_HANDLERS: Final[dict[type[exp.Expr], Callable[[_Checker, exp.Expr], SqlType]]] = {
    exp.Literal: _Checker.literal,  # type: ignore[dict-item]
    exp.Null: lambda c, n: Special.NULL,
    exp.Boolean: lambda c, n: Bool(),
    exp.Column: _Checker.column,  # type: ignore[dict-item]
    exp.Paren: _Checker.paren,  # type: ignore[dict-item]
    exp.Neg: _Checker.neg,  # type: ignore[dict-item]
    **{t: _Checker.arithmetic for t in (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod)},  # type: ignore[misc]
    **{
        t: _Checker.comparison  # type: ignore[misc]
        for t in (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
    },
    exp.And: _Checker.logical,
    exp.Or: _Checker.logical,
    exp.Not: _Checker.logical,
    exp.Is: _Checker.is_,  # type: ignore[dict-item]
    exp.In: _Checker.in_,  # type: ignore[dict-item]
    exp.Between: _Checker.between,  # type: ignore[dict-item]
    exp.Like: _Checker.like,
    exp.ILike: _Checker.like,
    exp.DPipe: _Checker.dpipe,  # type: ignore[dict-item]
    exp.Case: _Checker.case,  # type: ignore[dict-item]
    exp.If: _Checker.if_,  # type: ignore[dict-item]
    exp.Cast: _Checker.cast,  # type: ignore[dict-item]
    exp.TryCast: _Checker.cast,  # type: ignore[dict-item]
    exp.Extract: _Checker.extract,  # type: ignore[dict-item]
    exp.Interval: _Checker.interval,  # type: ignore[dict-item]
    exp.CurrentTimestamp: _Checker.current_timestamp,
    exp.Anonymous: _Checker.function,  # type: ignore[dict-item]
    exp.Window: _Checker.window,  # type: ignore[dict-item]
    exp.WithinGroup: _Checker.within_group,  # type: ignore[dict-item]
}


def analyze(parsed: ParsedExpression, resolver: NameResolver) -> Analysis:
    checker = _Checker(parsed, resolver)
    checker.analysis.result_type = checker.visit(parsed.tree)
    return checker.analysis
