"""The functions a derived feature may call (PRD §5.2, appendix B), one table.

Each entry says how many arguments the function takes, the type of its result given its
arguments' types (or why those arguments do not fit), and how it is written in DuckDB SQL.
A name not in the table is refused with ``UNSUPPORTED_FUNCTION``, naming it.

Aggregates (``AVG``, ``STDDEV``, ...) used without ``OVER`` are whole-group aggregates: the
compiler turns them into point-in-time windows (see ``compiler.py``). Ranking and offset
functions (``LAG``, ``ROW_NUMBER``, ...) only exist over a window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

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
    is_vector,
    vector_dim,
)
from raise_.types import Bool, Embedding, Float32, Float64, Int64, String, Timestamp

__all__ = ["FUNCTIONS", "UNSUPPORTED", "FunctionSpec", "TypeProblem", "strftime_format"]


class TypeProblem(Exception):
    """Arguments that do not fit a function; ``argument`` is the 0-based culprit, if one."""

    def __init__(self, message: str, argument: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.argument = argument


TypeRule = Callable[[str, list[SqlType]], SqlType]
Render = Callable[[list[str]], str]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    category: str
    min_args: int
    max_args: int | None  # None: any number
    result: TypeRule
    render: Render
    aggregate: bool = False  # becomes a window when used without OVER
    window_only: bool = False  # only meaningful over a window
    literal_args: tuple[int, ...] = ()  # arguments that must be written as literals


# --- type rules ------------------------------------------------------------------------------


def _need(check: Callable[[SqlType], bool], what: str) -> Callable[[str, list[SqlType]], None]:
    def run(name: str, args: list[SqlType]) -> None:
        for i, t in enumerate(args):
            if not check(t):
                raise TypeProblem(f"{name} needs {what} arguments; argument {i + 1} is {describe(t)}.", i)

    return run


_numbers = _need(is_numeric, "numeric")
_strings = _need(is_string, "string")


def _float_of(args: list[SqlType]) -> SqlType:
    return Float32() if args and isinstance(args[0], Float32) else Float64()


def numeric_to_double(name: str, args: list[SqlType]) -> SqlType:
    _numbers(name, args)
    return Float64()


def numeric_same(name: str, args: list[SqlType]) -> SqlType:
    _numbers(name, args)
    return args[0] if not isinstance(args[0], Special) else Float64()


def numeric_to_integer(name: str, args: list[SqlType]) -> SqlType:
    _numbers(name, args)
    return Int64()


def numeric_to_float(name: str, args: list[SqlType]) -> SqlType:
    """CEIL/FLOOR/ROUND/TRUNC: DuckDB gives a double for any input."""
    _numbers(name, args)
    return _float_of(args)


def numeric_common(name: str, args: list[SqlType]) -> SqlType:
    _numbers(name, args)
    result = common_type(args)
    return Float64() if result is None else result


def integer_result(name: str, args: list[SqlType]) -> SqlType:
    return Int64()


def string_result(name: str, args: list[SqlType]) -> SqlType:
    _strings(name, args[:1])
    for i, t in enumerate(args[1:], start=1):
        if not (is_string(t) or is_integer(t)):
            raise TypeProblem(f"{name}: argument {i + 1} must be a string or an integer, not {describe(t)}.", i)
    return String()


def concat_result(name: str, args: list[SqlType]) -> SqlType:
    for i, t in enumerate(args):
        if isinstance(t, Embedding) or t is Special.INTERVAL:
            raise TypeProblem(f"{name} joins text; argument {i + 1} is {describe(t)}.", i)
    return String()


def string_length(name: str, args: list[SqlType]) -> SqlType:
    _strings(name, args)
    return Int64()


def substring_result(name: str, args: list[SqlType]) -> SqlType:
    _strings(name, args[:1])
    for i, t in enumerate(args[1:], start=1):
        if not is_integer(t):
            raise TypeProblem(f"{name}: position and length must be integers; argument {i + 1} is {describe(t)}.", i)
    return String()


def split_part_result(name: str, args: list[SqlType]) -> SqlType:
    _strings(name, args[:2])
    if not is_integer(args[2]):
        raise TypeProblem(f"{name}: the part number must be an integer, not {describe(args[2])}.", 2)
    return String()


def regexp_match_result(name: str, args: list[SqlType]) -> SqlType:
    _strings(name, args)
    return Bool()


def any_to_same(name: str, args: list[SqlType]) -> SqlType:
    return args[0]


def aggregate_same(name: str, args: list[SqlType]) -> SqlType:
    """MIN/MAX: any ordered type."""
    t = args[0]
    if isinstance(t, Embedding) or (isinstance(t, Special) and t is Special.INTERVAL):
        raise TypeProblem(f"{name} needs values that can be ordered, not {describe(t)}.", 0)
    return t


def aggregate_numeric(name: str, args: list[SqlType]) -> SqlType:
    _numbers(name, args[:1])
    return Float64()


def sum_result(name: str, args: list[SqlType]) -> SqlType:
    _numbers(name, args)
    return Int64() if is_integer(args[0]) and not isinstance(args[0], Special) else Float64()


def count_result(name: str, args: list[SqlType]) -> SqlType:
    return Int64()


def percentile_result(name: str, args: list[SqlType]) -> SqlType:
    _numbers(name, args)
    return Float64()


def offset_result(name: str, args: list[SqlType]) -> SqlType:
    """LAG/LEAD(x, n, default) and NTH_VALUE(x, n): the type of x."""
    for i in range(1, min(len(args), 2)):
        if not is_integer(args[i]):
            raise TypeProblem(f"{name}: the offset must be an integer, not {describe(args[i])}.", i)
    if len(args) == 3 and common_type([args[0], args[2]]) is None:
        raise TypeProblem(f"{name}: the default ({describe(args[2])}) does not fit {describe(args[0])}.", 2)
    return args[0]


def conditional_common(name: str, args: list[SqlType]) -> SqlType:
    result = common_type(args)
    if result is None:
        raise TypeProblem(f"{name} mixes {', '.join(describe(t) for t in args)}, which share no type.")
    return result


def nullif_result(name: str, args: list[SqlType]) -> SqlType:
    if common_type(args) is None:
        raise TypeProblem(f"NULLIF compares {describe(args[0])} with {describe(args[1])}.", 1)
    return args[0]


def iif_result(name: str, args: list[SqlType]) -> SqlType:
    if not is_boolean(args[0]):
        raise TypeProblem(f"{name}'s first argument is a condition; it is {describe(args[0])}.", 0)
    return conditional_common(name, args[1:])


def _vectors(name: str, args: list[SqlType], count: int) -> None:
    for i, t in enumerate(args[:count]):
        if not is_vector(t):
            raise TypeProblem(f"{name} needs embeddings (or numeric arrays); argument {i + 1} is {describe(t)}.", i)
    if count == 2:
        a, b = vector_dim(args[0]), vector_dim(args[1])
        if a is not None and b is not None and a != b:
            raise TypeProblem(f"{name} needs vectors of the same dimension; got {a} and {b}.", 1)


def vector_to_float(name: str, args: list[SqlType]) -> SqlType:
    _vectors(name, args, len(args))
    element = [t.dtype for t in args if isinstance(t, Embedding)]
    return Float32() if element and all(isinstance(e, Float32) for e in element) else Float64()


def vector_to_vector(name: str, args: list[SqlType]) -> SqlType:
    vec_count = 1 if name in {"NORMALIZE", "VEC_MUL"} else 2
    _vectors(name, args, vec_count)
    if name == "VEC_MUL" and not is_numeric(args[1]):
        raise TypeProblem(f"VEC_MUL multiplies a vector by a number; argument 2 is {describe(args[1])}.", 1)
    dims = [d for d in (vector_dim(t) for t in args[:vec_count]) if d is not None]
    if dims:
        return Embedding(dims[0])
    return args[0] if not isinstance(args[0], Special) else Special.UNKNOWN


def timestamp_part(name: str, args: list[SqlType]) -> SqlType:
    _strings(name, args[:1])
    if not is_temporal(args[1]):
        raise TypeProblem(f"{name} needs a timestamp as argument 2, not {describe(args[1])}.", 1)
    return Timestamp() if name == "DATE_TRUNC" else Int64()


def date_diff_result(name: str, args: list[SqlType]) -> SqlType:
    _strings(name, args[:1])
    for i in (1, 2):
        if not is_temporal(args[i]):
            raise TypeProblem(f"{name} needs timestamps; argument {i + 1} is {describe(args[i])}.", i)
    return Int64()


def age_result(name: str, args: list[SqlType]) -> SqlType:
    for i, t in enumerate(args):
        if not is_temporal(t):
            raise TypeProblem(f"AGE needs timestamps; argument {i + 1} is {describe(t)}.", i)
    return Special.INTERVAL


def now_result(name: str, args: list[SqlType]) -> SqlType:
    return Timestamp()


def epoch_result(name: str, args: list[SqlType]) -> SqlType:
    if not (is_temporal(args[0]) or args[0] is Special.INTERVAL):
        raise TypeProblem(f"EPOCH needs a timestamp or an interval, not {describe(args[0])}.", 0)
    return Float64()


def to_char_result(name: str, args: list[SqlType]) -> SqlType:
    if not is_temporal(args[0]):
        raise TypeProblem(f"TO_CHAR formats a timestamp, not {describe(args[0])}.", 0)
    _strings(name, args[1:])
    return String()


def to_timestamp_result(name: str, args: list[SqlType]) -> SqlType:
    if len(args) == 1:
        if not is_numeric(args[0]):
            raise TypeProblem("TO_TIMESTAMP(x) turns epoch seconds into a timestamp; x must be a number.", 0)
    else:
        _strings(name, args)
    return Timestamp()


# --- renderers -------------------------------------------------------------------------------


def call(duck: str) -> Render:
    return lambda a: f"{duck}({', '.join(a)})"


def _safe_divisor(x: str) -> str:
    return f"NULLIF({x}, 0)"


def _zip_with_scalar(vec: str, scalar: str, op: str) -> str:
    # The scalar is repeated into a list once per row, not evaluated once per element (a lambda
    # that mentioned it would re-evaluate it for every element: measured 100x slower).
    return f"list_transform(list_zip({vec}, list_resize([]::DOUBLE[], len({vec}), {scalar})), lambda p: p[1] {op} p[2])"


def _normalize(a: list[str]) -> str:
    v = a[0]
    norm = f"sqrt(list_inner_product({v}, {v}))"
    return f"CASE WHEN {norm} = 0 THEN NULL ELSE {_zip_with_scalar(v, norm, '/')} END"


def _l1(a: list[str]) -> str:
    return f"list_sum(list_transform(list_zip({a[0]}, {a[1]}), lambda p: abs(p[1] - p[2])))"


def _vec_pair(op: str) -> Render:
    return lambda a: f"list_transform(list_zip({a[0]}, {a[1]}), lambda p: p[1] {op} p[2])"


def _initcap(a: list[str]) -> str:
    # DuckDB has no INITCAP: capitalise each space-separated word.
    return f"array_to_string(list_transform(string_split({a[0]}, ' '), lambda w: upper(w[1:1]) || lower(w[2:])), ' ')"


def _log(a: list[str]) -> str:
    return f"log10({a[0]})" if len(a) == 1 else f"log({a[0]}, {a[1]})"


def _mod(a: list[str]) -> str:
    return f"({a[0]} % {_safe_divisor(a[1])})"


def _percentile(a: list[str]) -> str:
    return f"quantile_cont({a[0]}, {a[1]})"


def _to_timestamp(a: list[str]) -> str:
    if len(a) == 1:
        return f"to_timestamp({a[0]})"
    return f"CAST(strptime({a[0]}, {a[1]}) AS TIMESTAMPTZ)"


def _spec(
    names: str,
    category: str,
    arity: tuple[int, int | None],
    result: TypeRule,
    render: Render | str | None = None,
    **flags: object,
) -> dict[str, FunctionSpec]:
    out = {}
    for name in names.split():
        r = render if callable(render) else call(render or name.lower())
        out[name] = FunctionSpec(name, category, arity[0], arity[1], result, r, **flags)  # type: ignore[arg-type]
    return out


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    # aggregates (whole-group, or over an explicit window)
    **_spec("AVG", "aggregate", (1, 1), aggregate_numeric, aggregate=True),
    **_spec("SUM", "aggregate", (1, 1), sum_result, aggregate=True),
    **_spec("MIN MAX", "aggregate", (1, 1), aggregate_same, aggregate=True),
    **_spec("COUNT", "aggregate", (0, 1), count_result, aggregate=True),
    **_spec(
        "STDDEV STDDEV_SAMP STDDEV_POP VARIANCE VAR_SAMP VAR_POP MEDIAN",
        "aggregate",
        (1, 1),
        aggregate_numeric,
        aggregate=True,
    ),
    **_spec("PERCENTILE", "aggregate", (2, 2), percentile_result, _percentile, aggregate=True, literal_args=(1,)),
    **_spec("PERCENTILE_CONT PERCENTILE_DISC", "aggregate", (1, 1), percentile_result, aggregate=True),
    # window-only
    **_spec("ROW_NUMBER RANK DENSE_RANK", "window", (0, 0), integer_result, window_only=True),
    **_spec("NTILE", "window", (1, 1), integer_result, window_only=True, literal_args=(0,)),
    **_spec("LAG LEAD", "window", (1, 3), offset_result, window_only=True, literal_args=(1,)),
    **_spec("FIRST_VALUE LAST_VALUE", "window", (1, 1), any_to_same, window_only=True),
    **_spec("NTH_VALUE", "window", (2, 2), offset_result, window_only=True, literal_args=(1,)),
    # math
    **_spec("ABS", "math", (1, 1), numeric_same),
    **_spec("SIGN", "math", (1, 1), numeric_to_integer),
    **_spec("CEIL CEILING FLOOR", "math", (1, 1), numeric_to_float),
    **_spec("ROUND TRUNC", "math", (1, 2), numeric_to_float, literal_args=(1,)),
    **_spec("MOD", "math", (2, 2), numeric_common, _mod),
    **_spec("POWER POW", "math", (2, 2), numeric_to_double, "power"),
    **_spec("SQRT CBRT EXP LN SIN COS TAN ASIN ACOS ATAN", "math", (1, 1), numeric_to_double),
    **_spec("LOG", "math", (1, 2), numeric_to_double, _log),
    **_spec("LOG10 LOG2", "math", (1, 1), numeric_to_double),
    **_spec("ATAN2", "math", (2, 2), numeric_to_double),
    **_spec("GREATEST LEAST", "math", (1, None), conditional_common),
    # vector
    **_spec("DOT", "vector", (2, 2), vector_to_float, "list_inner_product"),
    **_spec("COSINE_SIMILARITY", "vector", (2, 2), vector_to_float, "list_cosine_similarity"),
    **_spec("L2_DISTANCE", "vector", (2, 2), vector_to_float, "list_distance"),
    **_spec("L1_DISTANCE", "vector", (2, 2), vector_to_float, _l1),
    **_spec("NORM", "vector", (1, 1), vector_to_float, lambda a: f"sqrt(list_inner_product({a[0]}, {a[0]}))"),
    **_spec("NORMALIZE", "vector", (1, 1), vector_to_vector, _normalize),
    **_spec("VEC_ADD", "vector", (2, 2), vector_to_vector, _vec_pair("+")),
    **_spec("VEC_SUB", "vector", (2, 2), vector_to_vector, _vec_pair("-")),
    **_spec("VEC_MUL", "vector", (2, 2), vector_to_vector, lambda a: _zip_with_scalar(a[0], a[1], "*")),
    # string
    **_spec("CONCAT", "string", (1, None), concat_result),
    **_spec("CONCAT_WS", "string", (2, None), concat_result),
    **_spec("LENGTH CHAR_LENGTH", "string", (1, 1), string_length, "length"),
    **_spec("LOWER UPPER", "string", (1, 1), string_result),
    **_spec("INITCAP", "string", (1, 1), string_result, _initcap),
    **_spec("TRIM LTRIM RTRIM", "string", (1, 2), string_result),
    **_spec("LEFT RIGHT", "string", (2, 2), substring_result),
    **_spec("SUBSTRING SUBSTR", "string", (2, 3), substring_result, "substring"),
    **_spec("REPLACE", "string", (3, 3), string_result),
    **_spec("SPLIT_PART", "string", (3, 3), split_part_result),
    **_spec("REGEXP_MATCH REGEXP_MATCHES", "string", (2, 2), regexp_match_result, "regexp_matches"),
    **_spec("REGEXP_REPLACE", "string", (3, 3), string_result),
    # date and time
    **_spec("NOW", "datetime", (0, 0), now_result, lambda a: "now()"),
    **_spec("DATE_TRUNC", "datetime", (2, 2), timestamp_part, literal_args=(0,)),
    **_spec("DATE_PART", "datetime", (2, 2), timestamp_part, literal_args=(0,)),
    **_spec("DATE_DIFF DATEDIFF", "datetime", (3, 3), date_diff_result, "date_diff", literal_args=(0,)),
    **_spec("AGE", "datetime", (2, 2), age_result),
    **_spec("EPOCH", "datetime", (1, 1), epoch_result),
    **_spec("TO_CHAR", "datetime", (2, 2), to_char_result, "strftime", literal_args=(1,)),
    **_spec("TO_TIMESTAMP", "datetime", (1, 2), to_timestamp_result, _to_timestamp, literal_args=(1,)),
    # conditional and nulls
    **_spec("COALESCE", "conditional", (1, None), conditional_common),
    **_spec("IFNULL NVL", "null", (2, 2), conditional_common, "coalesce"),
    **_spec("NULLIF", "conditional", (2, 2), nullif_result),
    **_spec("IIF", "conditional", (3, 3), iif_result, lambda a: f"CASE WHEN {a[0]} THEN {a[1]} ELSE {a[2]} END"),
}

# Known names with no row-level meaning, and what to use instead.
UNSUPPORTED: Final[dict[str, str]] = {
    "ARRAY_AGG": "it collects a whole group into one list; derived features are one value per row",
    "STRING_AGG": "it joins a whole group into one string; derived features are one value per row",
    "LISTAGG": "it joins a whole group into one string; derived features are one value per row",
    "RANDOM": "a derived feature must give the same value every time it is read",
    "UUID": "a derived feature must give the same value every time it is read",
}


_PG_FORMAT: Final = [
    ("YYYY", "%Y"),
    ("HH24", "%H"),
    ("HH12", "%I"),
    ("HH", "%I"),
    ("MONTH", "%B"),
    ("Month", "%B"),
    ("MON", "%b"),
    ("Mon", "%b"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("MS", "%g"),
    ("US", "%f"),
    ("DAY", "%A"),
    ("Day", "%A"),
    ("DY", "%a"),
    ("Dy", "%a"),
    ("AM", "%p"),
    ("PM", "%p"),
    ("YY", "%y"),
    ("TZ", "%Z"),
]


def strftime_format(fmt: str) -> str:
    """A PostgreSQL ``TO_CHAR`` pattern (``YYYY-MM-DD HH24:MI``) as a strftime one; a format
    that already uses ``%`` codes is kept."""
    if "%" in fmt:
        return fmt
    out, i = [], 0
    while i < len(fmt):
        for pattern, code in _PG_FORMAT:
            if fmt.startswith(pattern, i):
                out.append(code)
                i += len(pattern)
                break
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)
