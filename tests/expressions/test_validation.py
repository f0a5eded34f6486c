"""Validating derived-feature expressions without a database: a dictionary stands in for the
catalog (``DictResolver``, the same protocol ``raise_.catalog.expression_resolver`` implements),
so every inferred type, issue code, position and validation level is checked in isolation."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from raise_.errors import InvalidArgumentError
from raise_.expressions.analysis import Resolution, analyze
from raise_.expressions.model import NEW_FEATURE_ID, FeatureInfo, GroupInfo, Issue, Reference, ValidationResult
from raise_.expressions.sqltypes import Special
from raise_.expressions.syntax import parse_expression
from raise_.expressions.validation import validate_expression
from raise_.types import Timestamp, parse_dtype

# -- a catalog in a dictionary ----------------------------------------------------------------


def make_group(name: str, keys: tuple[str, ...] = ("user_id",)) -> GroupInfo:
    return GroupInfo(f"id-{name}", "org-1", "dom-1", "proj-1", "acme", "ml", "rec", name, keys, "event_time")


USERS = make_group("users")
ITEMS = make_group("items", ("item_id",))

BASE_TYPES = {
    "clicks": "int64",
    "views": "int64",
    "small": "int32",
    "score": "float64",
    "f32": "float32",
    "name": "string",
    "code": "string[2]",
    "flag": "bool",
    "ts": "timestamp",
    "ts2": "timestamp",
    "emb": "float32[4]",
    "emb2": "float32[4]",
    "emb8": "float32[8]",
    "emb64": "float64[4]",
    "ids": "int64[]",
}


def info(group: GroupInfo, name: str, dtype: str, derived_from: str | None = None, version: str = "v1") -> FeatureInfo:
    return FeatureInfo(
        f"{group.name}.{name}@{version}", group, name, version, parse_dtype(dtype), derived_from, "active"
    )


def base_catalog() -> list[FeatureInfo]:
    return [info(USERS, n, t) for n, t in BASE_TYPES.items()] + [info(ITEMS, "price", "float64")]


@dataclass(frozen=True)
class DictResolver:
    """Resolves ``feature``, ``feature@vN``, ``group.feature`` and ``group.feature@vN`` against a
    list of feature versions, in the context of one group; ``defining`` is (group, name, version)
    of the feature being created, which resolves to ``NEW_FEATURE_ID`` as the catalog's does."""

    context: GroupInfo = USERS
    features: list[FeatureInfo] = field(default_factory=base_catalog)
    defining: tuple[str, str, str] | None = None
    calls: list[tuple[str, str, bool]] = field(default_factory=list)  # (context group, name, checks)

    def for_group(self, group: GroupInfo) -> DictResolver:
        return replace(self, context=group)

    def resolve(self, name: str, *, checks: bool = True) -> Resolution:
        self.calls.append((self.context.name, name, checks))
        body, _, version = name.partition("@")
        group_name, dot, feature = body.rpartition(".")
        if not dot and not version:
            if name in (self.context.entity_keys or ()):
                return Resolution(Reference(name, "entity_key", "group"), Special.UNKNOWN)
            if name == self.context.event_time:
                return Resolution(Reference(name, "event_time", "group"), Timestamp())
        group_name = group_name or self.context.name
        scope = "group" if group_name == self.context.name else "project"
        groups = {f.group.name: f.group for f in self.features} | {USERS.name: USERS, ITEMS.name: ITEMS}
        if group_name not in groups:
            return self._problem(name, scope, "FEATURE_GROUP_NOT_FOUND", f"there is no group {group_name!r}")
        if (
            self.defining is not None
            and (group_name, feature) == self.defining[:2]
            and version in ("", self.defining[2])
        ):
            new = FeatureInfo(
                NEW_FEATURE_ID, groups[group_name], feature, self.defining[2], Timestamp(), None, "active"
            )
            return Resolution(Reference(name, "feature", scope, new, bool(version)), Special.UNKNOWN)
        versions = [f for f in self.features if (f.group.name, f.name) == (group_name, feature)]
        if version:
            found = next((f for f in versions if f.version == version), None)
        else:
            found = versions[-1] if versions else None
        if found is None:
            if scope == "group" and not version:
                return self._problem(name, scope, "UNKNOWN_REFERENCE", f"{name!r} is not a feature yet", "warning")
            return self._problem(name, scope, "FEATURE_NOT_FOUND", f"{name}: no such feature")
        return Resolution(Reference(name, "feature", scope, found, bool(version)), found.dtype)

    @staticmethod
    def _problem(name: str, scope: str, code: str, message: str, severity: str = "error") -> Resolution:
        return Resolution(
            Reference(name, "feature", scope, None, "@v" in name), Special.UNKNOWN, ((code, message, severity),)
        )


def validate(
    text: str, dtype: str = "float64", level: str = "standard", resolver: DictResolver | None = None, name: str = "new"
) -> ValidationResult:
    result, _ = validate_expression(text, parse_dtype(dtype), resolver or DictResolver(), level=level, name=name)
    return result


def where(issue: Issue) -> tuple[int, int] | None:
    return None if issue.position is None else (issue.position.line, issue.position.column)


# -- inferred types ---------------------------------------------------------------------------

WINDOW = "OVER (PARTITION BY user_id ORDER BY event_time)"

TYPES = [
    # arithmetic
    ("clicks + views", "int64"),
    ("clicks + small", "int64"),
    ("small * small", "int32"),
    ("small - 1", "int64"),
    ("clicks / views", "float64"),
    ("small / small", "float64"),
    ("clicks // views", "int64"),
    ("clicks % 7", "int64"),
    ("score * 2", "float64"),
    ("f32 * f32", "float32"),
    ("f32 + clicks", "float64"),
    ("-clicks", "int64"),
    ("-(score)", "float64"),
    ("1.5", "float64"),
    ("1.e5", "float64"),
    ("42", "int64"),
    ("'text'", "string"),
    ("TRUE", "bool"),
    # comparison and logic
    ("clicks > views", "bool"),
    ("clicks = 1 AND flag", "bool"),
    ("NOT flag OR clicks <> 2", "bool"),
    ("clicks BETWEEN 1 AND 10", "bool"),
    ("clicks IN (1, 2, 3)", "bool"),
    ("name LIKE 'a%'", "bool"),
    ("name ILIKE 'A%'", "bool"),
    ("ts > '2024-01-01'", "bool"),
    ("clicks IS NULL", "bool"),
    ("clicks IS NOT NULL", "bool"),
    ("flag IS TRUE", "bool"),
    ("name || '-' || code", "string"),
    # CASE
    ("CASE WHEN clicks > 1 THEN 'a' ELSE 'b' END", "string"),
    ("CASE WHEN clicks > 1 THEN 1 ELSE 2.5 END", "float64"),
    ("CASE WHEN clicks > 1 THEN 1 END", "int64"),
    ("CASE WHEN flag THEN small ELSE small END", "int32"),
    ("CASE clicks WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END", "string"),
    ("CASE WHEN flag THEN NULL ELSE score END", "float64"),
    ("CASE WHEN flag THEN emb ELSE emb2 END", "float32[4]"),
    # null handling
    ("COALESCE(clicks, 0)", "int64"),
    ("COALESCE(small, 0)", "int64"),
    ("COALESCE(score, clicks)", "float64"),
    ("COALESCE(name, 'x')", "string"),
    ("COALESCE(code, code)", "string[2]"),
    ("COALESCE(NULL, ts)", "timestamp"),
    ("NULLIF(views, 0)", "int64"),
    ("NULLIF(score, 0)", "float64"),
    ("clicks / NULLIF(views, 0)", "float64"),
    ("IF(flag, 1, 2)", "int64"),
    ("IF(flag, 'a', 'b')", "string"),
    ("IIF(flag, 1.5, 2)", "float64"),
    ("IFNULL(clicks, 0)", "int64"),
    ("NVL(name, '')", "string"),
    # math
    ("ABS(clicks)", "int64"),
    ("ABS(small)", "int32"),
    ("ABS(score)", "float64"),
    ("SIGN(score)", "int64"),
    ("CEIL(score)", "float64"),
    ("CEILING(clicks)", "float64"),
    ("FLOOR(f32)", "float32"),
    ("ROUND(score, 2)", "float64"),
    ("TRUNC(score)", "float64"),
    ("MOD(clicks, 3)", "int64"),
    ("MOD(score, 3)", "float64"),
    ("POWER(clicks, 2)", "float64"),
    ("POW(2, 3)", "float64"),
    ("SQRT(clicks)", "float64"),
    ("CBRT(score)", "float64"),
    ("EXP(score)", "float64"),
    ("LN(score)", "float64"),
    ("LOG(score)", "float64"),
    ("LOG(2, score)", "float64"),
    ("LOG10(clicks)", "float64"),
    ("LOG2(score)", "float64"),
    ("SIN(score) + COS(score) + TAN(score)", "float64"),
    ("ATAN2(score, score)", "float64"),
    ("GREATEST(clicks, views)", "int64"),
    ("GREATEST(clicks, score)", "float64"),
    ("LEAST(small, small)", "int32"),
    # string
    ("CONCAT(name, '-', clicks)", "string"),
    ("CONCAT_WS(',', name, code)", "string"),
    ("LENGTH(name)", "int64"),
    ("CHAR_LENGTH(code)", "int64"),
    ("LOWER(name)", "string"),
    ("UPPER(code)", "string"),
    ("INITCAP(name)", "string"),
    ("TRIM(name)", "string"),
    ("LTRIM(name, 'x')", "string"),
    ("RTRIM(name)", "string"),
    ("LEFT(name, 3)", "string"),
    ("RIGHT(name, 3)", "string"),
    ("SUBSTRING(name, 1, 3)", "string"),
    ("SUBSTR(name, 2)", "string"),
    ("REPLACE(name, 'a', 'b')", "string"),
    ("SPLIT_PART(name, ',', 1)", "string"),
    ("REGEXP_MATCHES(name, 'a.*')", "bool"),
    ("REGEXP_REPLACE(name, 'a', 'b')", "string"),
    # date and time
    ("DATE_TRUNC('day', ts)", "timestamp"),
    ("DATE_PART('hour', ts)", "int64"),
    ("DATE_DIFF('day', ts, ts2)", "int64"),
    ("DATEDIFF('day', ts, event_time)", "int64"),
    ("EPOCH(ts)", "float64"),
    ("EPOCH(ts - ts2)", "float64"),
    ("EPOCH(AGE(ts, ts2))", "float64"),
    ("TO_CHAR(ts, 'YYYY-MM-DD')", "string"),
    ("TO_TIMESTAMP(clicks)", "timestamp"),
    ("TO_TIMESTAMP(name, '%Y-%m-%d')", "timestamp"),
    ("EXTRACT(YEAR FROM ts)", "int64"),
    ("ts + INTERVAL '7 days'", "timestamp"),
    ("ts - INTERVAL 3 HOUR", "timestamp"),
    ("INTERVAL 1 DAY + ts", "timestamp"),
    ("ts - INTERVAL 1 DAY * clicks", "timestamp"),
    ("event_time", "timestamp"),
    # casts
    ("CAST(clicks AS DOUBLE)", "float64"),
    ("CAST(score AS BIGINT)", "int64"),
    ("CAST(score AS INTEGER)", "int32"),
    ("CAST(clicks AS FLOAT)", "float32"),
    ("CAST(clicks AS VARCHAR)", "string"),
    ("CAST(clicks AS BOOLEAN)", "bool"),
    ("TRY_CAST(name AS DOUBLE)", "float64"),
    ("clicks::DOUBLE", "float64"),
    # window functions
    (f"LAG(clicks) {WINDOW}", "int64"),
    (f"LAG(clicks, 2, 0) {WINDOW}", "int64"),
    (f"LAG(score, 1, clicks) {WINDOW}", "float64"),
    (f"FIRST_VALUE(name) {WINDOW}", "string"),
    (f"LAST_VALUE(ts) {WINDOW}", "timestamp"),
    (f"NTH_VALUE(score, 2) {WINDOW}", "float64"),
    (f"ROW_NUMBER() {WINDOW}", "int64"),
    ("RANK() OVER (PARTITION BY user_id ORDER BY clicks DESC)", "int64"),
    ("DENSE_RANK() OVER (PARTITION BY user_id ORDER BY score)", "int64"),
    ("NTILE(4) OVER (PARTITION BY user_id ORDER BY score)", "int64"),
    (f"clicks - LAG(clicks) {WINDOW}", "int64"),
    ("AVG(clicks) OVER (PARTITION BY user_id ORDER BY event_time ROWS BETWEEN 6 PRECEDING AND CURRENT ROW)", "float64"),
    ("SUM(clicks) OVER (PARTITION BY user_id ORDER BY event_time ROWS UNBOUNDED PRECEDING)", "int64"),
    (
        "MAX(score) OVER (PARTITION BY user_id ORDER BY event_time "
        "RANGE BETWEEN INTERVAL '7 days' PRECEDING AND CURRENT ROW)",
        "float64",
    ),
    (f"COUNT(*) {WINDOW}", "int64"),
    # whole-group aggregates (point-in-time windows once compiled)
    ("AVG(clicks)", "float64"),
    ("SUM(clicks)", "int64"),
    ("SUM(score)", "float64"),
    ("MIN(name)", "string"),
    ("MAX(ts)", "timestamp"),
    ("COUNT(*)", "int64"),
    ("COUNT(clicks)", "int64"),
    ("COUNT(DISTINCT clicks)", "int64"),
    ("STDDEV(score)", "float64"),
    ("VARIANCE(clicks)", "float64"),
    ("MEDIAN(score)", "float64"),
    ("PERCENTILE(score, 0.9)", "float64"),
    ("PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY score)", "float64"),
    ("(score - AVG(score)) / STDDEV(score)", "float64"),
    ("clicks - AVG(clicks)", "float64"),
    # vectors
    ("DOT(emb, emb2)", "float32"),
    ("DOT(emb64, emb64)", "float64"),
    ("DOT(emb, emb64)", "float64"),
    ("DOT(ids, ids)", "float64"),
    ("COSINE_SIMILARITY(emb, emb2)", "float32"),
    ("L2_DISTANCE(emb, emb2)", "float32"),
    ("L1_DISTANCE(emb, emb2)", "float32"),
    ("NORM(emb)", "float32"),
    ("NORMALIZE(emb)", "float32[4]"),
    ("VEC_ADD(emb, emb2)", "float32[4]"),
    ("VEC_SUB(emb, emb2)", "float32[4]"),
    ("VEC_MUL(emb, 2)", "float32[4]"),
    ("VEC_MUL(emb, score)", "float32[4]"),
    ("NORMALIZE(VEC_SUB(emb, emb2))", "float32[4]"),
    ("COSINE_SIMILARITY(NORMALIZE(emb), VEC_MUL(emb2, 0.5))", "float32"),
    # other groups and versions
    ("items.price * 2", "float64"),
    ("clicks@v1 + 1", "int64"),
    ("users.clicks / 2", "float64"),
]


@pytest.mark.parametrize(("text", "expected"), TYPES)
def test_inferred_type(text: str, expected: str) -> None:
    result = validate(text, dtype=expected)
    assert (result.valid, result.errors, result.warnings) == (True, [], [])
    assert result.inferred_type == parse_dtype(expected)
    assert str(result.inferred_type) == expected


SPECIAL_TYPES = [
    ("ts - ts2", Special.INTERVAL),
    ("AGE(ts, ts2)", Special.INTERVAL),
    ("INTERVAL '3 days' * 2", Special.INTERVAL),
    ("2 * INTERVAL 3 HOUR", Special.INTERVAL),
    ("NULL", Special.NULL),
    ("user_id", Special.UNKNOWN),  # an entity key: its type is the data's
]


@pytest.mark.parametrize(("text", "expected"), SPECIAL_TYPES)
def test_types_only_an_expression_has(text: str, expected: Special) -> None:
    analysis = analyze(parse_expression(text), DictResolver())
    assert (analysis.result_type, analysis.issues) == (expected, [])


# -- errors -----------------------------------------------------------------------------------

# (text, code, (line, column) of the issue, part of its message); a None position is where
# sqlglot locates no token of the construct itself (subqueries).
ERRORS = [
    # TYPE_ERROR
    ("DOT(name, emb)", "TYPE_ERROR", (1, 5), "DOT needs embeddings (or numeric arrays); argument 1 is string."),
    ("DOT(emb, items.price)", "TYPE_ERROR", (1, 10), "argument 2 is float64"),
    ("DOT(emb, emb8)", "TYPE_ERROR", (1, 10), "DOT needs vectors of the same dimension; got 4 and 8."),
    ("COSINE_SIMILARITY(emb, emb8)", "TYPE_ERROR", (1, 24), "same dimension; got 4 and 8"),
    ("L2_DISTANCE(emb8, emb)", "TYPE_ERROR", (1, 19), "same dimension; got 8 and 4"),
    ("VEC_ADD(emb, emb8)", "TYPE_ERROR", (1, 14), "VEC_ADD needs vectors of the same dimension"),
    ("VEC_MUL(emb, name)", "TYPE_ERROR", (1, 14), "VEC_MUL multiplies a vector by a number"),
    ("NORMALIZE(score)", "TYPE_ERROR", (1, 11), "NORMALIZE needs embeddings"),
    ("name + 1", "TYPE_ERROR", (1, 1), "Cannot compute string + int64: + needs numbers. Use || or CONCAT"),
    ("1 + name", "TYPE_ERROR", (1, 1), "Cannot compute int64 + string"),
    ("clicks * 2 +\n  name", "TYPE_ERROR", (1, 1), "Cannot compute int64 + string"),
    ("emb + emb2", "TYPE_ERROR", (1, 1), "Use VEC_ADD, VEC_SUB or VEC_MUL on embeddings."),
    ("flag + 1", "TYPE_ERROR", (1, 1), "Cannot compute bool + int64"),
    ("ts + 1", "TYPE_ERROR", (1, 1), "Cannot compute timestamp + int64"),
    ("clicks // score", "TYPE_ERROR", (1, 1), "// divides integers; got int64 and float64."),
    ("-name", "TYPE_ERROR", (1, 2), "Cannot negate string."),
    ("clicks > 'abc'", "TYPE_ERROR", (1, 1), "Cannot compare int64 with string."),
    ("clicks IN (1, 'a')", "TYPE_ERROR", (1, 15), "Cannot compare int64 with string."),
    ("clicks BETWEEN 'a' AND 2", "TYPE_ERROR", (1, 16), "Cannot compare int64 with string."),
    ("NOT clicks", "TYPE_ERROR", (1, 5), "NOT needs conditions; 'clicks' is int64."),
    ("name LIKE 1", "TYPE_ERROR", (1, 11), "LIKE matches text"),
    ("CASE WHEN clicks THEN 1 ELSE 2 END", "TYPE_ERROR", (1, 11), "WHEN needs a condition; 'clicks' is int64."),
    ("CASE WHEN flag THEN 1 ELSE 'x' END", "TYPE_ERROR", (1, 11), "CASE branches give int64, string"),
    ("COALESCE(clicks, 'x')", "TYPE_ERROR", (1, 1), "COALESCE mixes int64, string, which share no type."),
    ("NULLIF(clicks, 'x')", "TYPE_ERROR", (1, 16), "NULLIF compares int64 with string."),
    ("IF(clicks, 1, 2)", "TYPE_ERROR", (1, 4), "IF's first argument is a condition; it is int64."),
    ("IIF(clicks, 1, 2)", "TYPE_ERROR", (1, 5), "IIF's first argument is a condition; it is int64."),
    ("LENGTH(clicks)", "TYPE_ERROR", (1, 8), "LENGTH needs string arguments; argument 1 is int64."),
    ("SUBSTRING(name, 'a')", "TYPE_ERROR", (1, 17), "position and length must be integers"),
    ("DATE_TRUNC('day', clicks)", "TYPE_ERROR", (1, 19), "DATE_TRUNC needs a timestamp as argument 2"),
    ("DATE_DIFF('day', ts, clicks)", "TYPE_ERROR", (1, 22), "argument 3 is int64"),
    ("TO_CHAR(clicks, 'YYYY')", "TYPE_ERROR", (1, 9), "TO_CHAR formats a timestamp, not int64."),
    ("SUM(name)", "TYPE_ERROR", (1, 5), "SUM needs numeric arguments; argument 1 is string."),
    ("AVG(ts)", "TYPE_ERROR", (1, 5), "AVG needs numeric arguments"),
    ("MIN(emb)", "TYPE_ERROR", (1, 5), "MIN needs values that can be ordered, not float32[4]."),
    ("GREATEST(clicks, name)", "TYPE_ERROR", (1, 1), "GREATEST mixes int64, string"),
    ("CAST(emb AS DOUBLE)", "TYPE_ERROR", (1, 6), "Cannot cast float32[4] to float64."),
    (f"LAG(clicks, 'x') {WINDOW}", "TYPE_ERROR", (1, 13), "LAG: the offset must be an integer, not string."),
    # WRONG_ARITY
    ("ABS()", "WRONG_ARITY", (1, 1), "ABS takes 1 argument(s), got 0."),
    ("ABS(1, 2)", "WRONG_ARITY", (1, 1), "ABS takes 1 argument(s), got 2."),
    ("ROUND(score, 1, 2)", "WRONG_ARITY", (1, 1), "ROUND takes 1 to 2 argument(s), got 3."),
    ("NOW(1)", "WRONG_ARITY", (1, 1), "NOW takes 0 argument(s), got 1."),
    ("DOT(emb)", "WRONG_ARITY", (1, 1), "DOT takes 2 argument(s), got 1."),
    ("COALESCE()", "WRONG_ARITY", (1, 1), "COALESCE takes at least 1 argument(s), got 0."),
    ("clicks + SQRT(1, 2)", "WRONG_ARITY", (1, 10), "SQRT takes 1 argument(s), got 2."),
    (f"ROW_NUMBER(clicks) {WINDOW}", "WRONG_ARITY", (1, 1), "ROW_NUMBER takes 0 argument(s), got 1."),
    (f"LAG() {WINDOW}", "WRONG_ARITY", (1, 1), "LAG takes 1 to 3 argument(s), got 0."),
    # UNSUPPORTED_FUNCTION, naming the function
    ("FOO(clicks)", "UNSUPPORTED_FUNCTION", (1, 1), "Function FOO is not supported. Did you mean 'FLOOR'?"),
    ("my_udf(1)", "UNSUPPORTED_FUNCTION", (1, 1), "Function MY_UDF is not supported."),
    ("1 +\n  SQR(score)", "UNSUPPORTED_FUNCTION", (2, 3), "Function SQR is not supported. Did you mean 'SQRT'?"),
    ("ARRAY_AGG(clicks)", "UNSUPPORTED_FUNCTION", (1, 1), "ARRAY_AGG is not supported in a derived feature"),
    ("STRING_AGG(name, ',')", "UNSUPPORTED_FUNCTION", (1, 1), "STRING_AGG is not supported in a derived feature"),
    ("RANDOM()", "UNSUPPORTED_FUNCTION", (1, 1), "RANDOM is not supported in a derived feature"),
    ("UUID()", "UNSUPPORTED_FUNCTION", (1, 1), "UUID is not supported in a derived feature"),
    # UNSUPPORTED_SYNTAX
    ("clicks + (SELECT MAX(clicks) FROM t)", "UNSUPPORTED_SYNTAX", None, "SUBQUERY cannot be used"),
    ("clicks IN (SELECT 1)", "UNSUPPORTED_SYNTAX", (1, 1), "IN cannot be used"),
    ("EXISTS (SELECT 1)", "UNSUPPORTED_SYNTAX", None, "EXISTS cannot be used"),
    ("a.b.c", "UNSUPPORTED_SYNTAX", (1, 1), "'a.b.c' is not a feature reference"),
    ("clicks AS x", "UNSUPPORTED_SYNTAX", (1, 1), "ALIAS cannot be used"),
    ("CAST(clicks AS DECIMAL(10, 2))", "UNSUPPORTED_SYNTAX", (1, 6), "CAST to DECIMAL(10, 2) is not supported"),
    ("COUNT(DISTINCT clicks, views)", "UNSUPPORTED_SYNTAX", (1, 16), "DISTINCT is only supported as COUNT"),
    ("SUM(*)", "UNSUPPORTED_SYNTAX", (1, 5), "STAR cannot be used"),
    ("ABS(clicks) OVER (ORDER BY event_time)", "UNSUPPORTED_SYNTAX", (1, 1), "ABS is not a window or aggregate"),
    ("clicks IS 1", "UNSUPPORTED_SYNTAX", (1, 11), "LITERAL cannot be used"),
    # NESTED_AGGREGATE
    ("AVG(SUM(clicks))", "NESTED_AGGREGATE", (1, 5), "SUM cannot be used inside another aggregate."),
    ("MAX(AVG(clicks))", "NESTED_AGGREGATE", (1, 5), "AVG cannot be used inside another aggregate."),
    ("score - STDDEV(COUNT(*))", "NESTED_AGGREGATE", (1, 16), "COUNT cannot be used inside another aggregate."),
    # INVALID_ARGUMENT
    ("ROUND(score, clicks)", "INVALID_ARGUMENT", (1, 14), "Argument 2 of ROUND must be written as a literal."),
    ("DATE_TRUNC('fortnight', ts)", "INVALID_ARGUMENT", (1, 12), "DATE_TRUNC cannot take unit 'fortnight'"),
    ("PERCENTILE(score, clicks)", "INVALID_ARGUMENT", (1, 19), "Argument 2 of PERCENTILE must be written as a literal"),
    ("NTILE(clicks) OVER (ORDER BY score)", "INVALID_ARGUMENT", (1, 7), "Argument 1 of NTILE"),
    ("PERCENTILE_CONT(2) WITHIN GROUP (ORDER BY score)", "INVALID_ARGUMENT", (1, 1), "a fraction between 0 and 1"),
    ("ts + INTERVAL 'x' DAY", "INVALID_ARGUMENT", (1, 15), "Invalid interval"),
    # from the resolver, at the name's position
    ("1 + missing", "UNKNOWN_REFERENCE", (1, 5), "'missing' is not a feature yet"),
    ("clicks +\n    nogroup.x", "FEATURE_GROUP_NOT_FOUND", (2, 5), "there is no group 'nogroup'"),
    ("items.nothing", "FEATURE_NOT_FOUND", (1, 1), "items.nothing: no such feature"),
    ("clicks@v9", "FEATURE_NOT_FOUND", (1, 1), "clicks@v9: no such feature"),
]


@pytest.mark.parametrize(("text", "code", "position", "message"), ERRORS)
def test_issue_codes(text: str, code: str, position: tuple[int, int] | None, message: str) -> None:
    analysis = analyze(parse_expression(text), DictResolver())
    assert [i.code for i in analysis.issues] == [code]
    (issue,) = analysis.issues
    assert message in issue.message
    if position is not None:
        assert where(issue) == position


def test_unknown_name_still_gives_a_type_and_no_follow_up_errors() -> None:
    # an unresolved name is "unknown": no TYPE_ERROR is piled on top of its UNKNOWN_REFERENCE
    result = validate("LOWER(missing) || UPPER(missing)", dtype="string")
    assert [w.code for w in result.warnings] == ["UNKNOWN_REFERENCE"]
    assert (result.valid, result.errors, result.inferred_type) == (True, [], parse_dtype("string"))
    assert [r.name for r in result.references] == ["missing"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("missing + ts", "UNKNOWN_REFERENCE"),
        ("ts - missing", "UNKNOWN_REFERENCE"),
        ("missing * INTERVAL 1 DAY", "UNKNOWN_REFERENCE"),
        ("FOO(ts) + ts", "UNSUPPORTED_FUNCTION"),
    ],
)
def test_an_unresolved_part_next_to_a_time_adds_no_type_error(text: str, code: str) -> None:
    analysis = analyze(parse_expression(text), DictResolver())
    assert [i.code for i in analysis.issues] == [code]


def test_a_window_inside_an_aggregate() -> None:
    analysis = analyze(parse_expression("SUM(AVG(clicks) OVER (ORDER BY event_time))"), DictResolver())
    # one problem, reported once
    assert [(i.code, i.message, where(i)) for i in analysis.issues] == [
        ("NESTED_AGGREGATE", "A window cannot be used inside an aggregate.", (1, 5)),
    ]


def test_several_issues_are_all_reported_in_order() -> None:
    analysis = analyze(parse_expression("FOO(1) + LENGTH(clicks) + ABS()"), DictResolver())
    assert [(i.code, where(i)) for i in analysis.issues] == [
        ("UNSUPPORTED_FUNCTION", (1, 1)),
        ("TYPE_ERROR", (1, 17)),
        ("WRONG_ARITY", (1, 27)),
    ]


# -- declared dtype ---------------------------------------------------------------------------

DTYPES = [
    # (text, declared, valid, error codes, warning codes)
    ("clicks / views", "int64", False, ["DTYPE_MISMATCH"], []),
    ("clicks / views", "float32", True, [], []),
    ("clicks + views", "float64", True, [], []),
    ("clicks + views", "int32", False, ["DTYPE_MISMATCH"], []),
    ("small + small", "int64", True, [], []),
    ("name", "int64", False, ["DTYPE_MISMATCH"], []),
    ("name", "string", True, [], []),
    ("code", "string[2]", True, [], []),
    ("name", "string[2]", True, [], ["STRING_LENGTH_UNCHECKED"]),
    ("VEC_ADD(emb, emb2)", "float64[4]", True, [], []),
    ("VEC_ADD(emb, emb2)", "float32[8]", False, ["DTYPE_MISMATCH"], []),
    ("ts - ts2", "float64", False, ["DTYPE_MISMATCH"], []),
    ("clicks > 1", "int64", False, ["DTYPE_MISMATCH"], []),
    ("NULL", "int64", True, [], []),
    ("missing", "bool", True, [], ["UNKNOWN_REFERENCE"]),  # unknown type: nothing to compare
    ("missing * 2", "float64", True, [], ["UNKNOWN_REFERENCE"]),
]


@pytest.mark.parametrize(("text", "declared", "valid", "errors", "warnings"), DTYPES)
def test_declared_dtype(text: str, declared: str, valid: bool, errors: list[str], warnings: list[str]) -> None:
    result = validate(text, dtype=declared, name="f")
    assert result.valid is valid
    assert [e.code for e in result.errors] == errors
    assert [w.code for w in result.warnings] == warnings


@pytest.mark.parametrize(
    ("text", "declared", "message"),
    [
        (
            "clicks / views",
            "int64",
            "f is declared int64 but the expression gives float64; declare dtype='float64' or CAST the expression.",
        ),
        ("VEC_ADD(emb, emb2)", "float32[8]", "f is declared float32[8] but the expression gives float32[4]; declare "),
        ("ts - ts2", "float64", "The expression gives an INTERVAL, which a feature cannot store; use EPOCH(...)"),
    ],
)
def test_dtype_mismatch_message(text: str, declared: str, message: str) -> None:
    (error,) = validate(text, dtype=declared, name="f").errors
    assert error.code == "DTYPE_MISMATCH"
    assert error.message.startswith(message)


def test_no_dtype_check_on_top_of_other_errors() -> None:
    result = validate("name + 1", dtype="int64")
    assert [e.code for e in result.errors] == ["TYPE_ERROR"]


# -- warnings and validation levels -----------------------------------------------------------

WARNINGS = [
    # (text, code, (line, column), part of the message)
    (f"LEAD(score) {WINDOW}", "FUTURE_LEAK", (1, 1), "LEAD reads later rows"),
    (f"score - LEAD(score, 1, 0) {WINDOW}", "FUTURE_LEAK", (1, 9), "LEAD reads later rows"),
    (
        "SUM(clicks) OVER (PARTITION BY user_id ORDER BY event_time ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING)",
        "FUTURE_LEAK",
        (1, 1),
        "the window frame reaches FOLLOWING rows",
    ),
    (
        "AVG(score) OVER (PARTITION BY user_id ORDER BY event_time ROWS BETWEEN 1 PRECEDING AND UNBOUNDED FOLLOWING)",
        "FUTURE_LEAK",
        (1, 1),
        "FOLLOWING rows",
    ),
    ("SUM(clicks) OVER (PARTITION BY user_id)", "FUTURE_LEAK", (1, 1), "a window without ORDER BY"),
    ("NOW()", "NON_DETERMINISTIC", (1, 1), "NOW() changes with every read"),
    ("DATE_DIFF('day', ts,\n NOW())", "NON_DETERMINISTIC", (2, 2), "NOW() changes with every read"),
]


@pytest.mark.parametrize(("text", "code", "position", "message"), WARNINGS)
def test_warnings(text: str, code: str, position: tuple[int, int], message: str) -> None:
    result = validate(text, dtype=str(analyze(parse_expression(text), DictResolver()).result_type))
    assert (result.valid, result.errors) == (True, [])
    (warning,) = result.warnings
    assert (warning.code, warning.severity, where(warning)) == (code, "warning", position)
    assert message in warning.message


def test_current_timestamp_is_non_deterministic_and_located() -> None:
    result = validate("event_time -\n  CURRENT_TIMESTAMP + (CURRENT_TIMESTAMP - event_time)", dtype="timestamp")
    assert [(w.code, where(w)) for w in result.warnings] == [
        ("NON_DETERMINISTIC", (2, 3)),
        ("NON_DETERMINISTIC", (2, 24)),
    ]


LEVELS = [
    # (text, declared, level, valid, error codes, warning codes)
    ("NOW()", "timestamp", "standard", True, [], ["NON_DETERMINISTIC"]),
    ("NOW()", "timestamp", "strict", False, ["NON_DETERMINISTIC"], []),
    ("NOW()", "timestamp", "permissive", True, [], ["NON_DETERMINISTIC"]),
    (f"LEAD(score) {WINDOW}", "float64", "strict", False, ["FUTURE_LEAK"], []),
    ("missing + 1", "int64", "standard", True, [], ["UNKNOWN_REFERENCE"]),
    ("missing + 1", "int64", "strict", False, ["UNKNOWN_REFERENCE"], []),
    ("name", "string[2]", "strict", False, ["STRING_LENGTH_UNCHECKED"], []),
    ("name + 1", "float64", "standard", False, ["TYPE_ERROR"], []),
    ("name + 1", "float64", "strict", False, ["TYPE_ERROR"], []),
    ("name + 1", "float64", "permissive", True, [], ["TYPE_ERROR"]),
    ("FOO(1) + NOW()", "timestamp", "permissive", True, [], ["UNSUPPORTED_FUNCTION", "NON_DETERMINISTIC"]),
    ("FOO(1) + NOW()", "timestamp", "strict", False, ["UNSUPPORTED_FUNCTION", "NON_DETERMINISTIC"], []),
    ("clicks / views", "int64", "permissive", True, [], ["DTYPE_MISMATCH"]),
    ("clicks +", "int64", "permissive", False, ["SYNTAX_ERROR"], []),
    ("SELECT 1", "int64", "permissive", False, ["SYNTAX_ERROR"], []),
    ("DROP TABLE features", "int64", "permissive", False, ["SYNTAX_ERROR"], []),
    ("clicks + 1", "int64", "strict", True, [], []),
]


@pytest.mark.parametrize(("text", "declared", "level", "valid", "errors", "warnings"), LEVELS)
def test_validation_levels(
    text: str, declared: str, level: str, valid: bool, errors: list[str], warnings: list[str]
) -> None:
    result = validate(text, dtype=declared, level=level)
    assert (result.valid, result.level) == (valid, level)
    assert [e.code for e in result.errors] == errors
    assert [w.code for w in result.warnings] == warnings
    assert {e.severity for e in result.errors} <= {"error"}
    assert {w.severity for w in result.warnings} <= {"warning"}


def test_syntax_error_result() -> None:
    result = validate("clicks +\n  * 2")
    assert (result.valid, result.inferred_type, result.references, result.warnings) == (False, None, [], [])
    (error,) = result.errors
    assert (error.code, where(error)) == ("SYNTAX_ERROR", (2, 5))
    assert error.to_dict() == {
        "code": "SYNTAX_ERROR",
        "message": error.message,
        "severity": "error",
        "offset": 13,
        "line": 2,
        "column": 5,
    }


@pytest.mark.parametrize("level", ["lenient", "STRICT", "", None])
def test_unknown_level_is_refused(level: object) -> None:
    with pytest.raises(InvalidArgumentError, match="Invalid validation level"):
        validate("clicks", dtype="int64", level=level)  # type: ignore[arg-type]


# -- references -------------------------------------------------------------------------------


def test_references_in_order_with_kind_scope_and_position() -> None:
    result = validate("clicks@v1 + items.price * clicks@v1 - COUNT(user_id) + EPOCH(event_time)")
    assert [(r.name, r.kind, r.scope, r.pinned, r.qualified_name, where_ref(r)) for r in result.references] == [
        ("clicks@v1", "feature", "group", True, "acme/ml/rec/users/clicks@v1", (1, 1)),
        ("items.price", "feature", "project", False, "acme/ml/rec/items/price@v1", (1, 13)),
        ("user_id", "entity_key", "group", False, None, (1, 45)),
        ("event_time", "event_time", "group", False, None, (1, 62)),
    ]
    assert all(r.resolved for r in result.references)
    assert result.to_dict()["references"][1] == {
        "name": "items.price",
        "kind": "feature",
        "scope": "project",
        "feature": "acme/ml/rec/items/price@v1",
        "dtype": "float64",
        "pinned": False,
    }


def where_ref(ref: Reference) -> tuple[int, int] | None:
    return None if ref.position is None else (ref.position.line, ref.position.column)


# -- cycles -----------------------------------------------------------------------------------


def resolver_with(*derived: FeatureInfo, defining: tuple[str, str, str]) -> DictResolver:
    return DictResolver(features=[*base_catalog(), *derived], defining=defining)


CYCLES = [
    # (derived features already in the catalog, (group, name, version) being defined, its text, the cycle or None)
    ([], ("users", "x", "v1"), "x + 1", "x → x"),
    ([], ("users", "x", "v1"), "clicks + users.x", "x → users.x"),
    ([info(USERS, "a", "int64", "b + 1")], ("users", "b", "v1"), "a * 2", "b → a → b"),
    (
        [info(USERS, "a", "int64", "b + 1"), info(USERS, "b", "int64", "c - 1")],
        ("users", "c", "v1"),
        "a * 2",
        "c → a → b → c",
    ),
    # a new version closing the cycle through an unpinned reference
    ([info(USERS, "b", "int64"), info(USERS, "a", "int64", "b + 1")], ("users", "b", "v2"), "a * 2", "b → a → b"),
    # ... but a pinned older version is another feature version: no cycle
    ([info(USERS, "b", "int64"), info(USERS, "a", "int64", "b@v1 + 1")], ("users", "b", "v2"), "a * 2", None),
    ([info(USERS, "b", "int64")], ("users", "b", "v2"), "b@v1 * 2", None),
    ([info(USERS, "b", "int64")], ("users", "b", "v2"), "b@v2 * 2", "b → b@v2"),
    # across groups: names in another group's expression resolve in that group
    ([info(ITEMS, "p", "float64", "users.y + price")], ("users", "y", "v1"), "items.p * 2", "y → p → y"),
    ([info(ITEMS, "p", "float64", "price * 2")], ("users", "y", "v1"), "items.p * 2", None),
    # a loop that does not reach the new feature is not its cycle, and the search ends
    ([info(USERS, "a", "int64", "b + 1"), info(USERS, "b", "int64", "a + 1")], ("users", "c", "v1"), "a", None),
    # an unparsable stored expression depends on nothing
    ([info(USERS, "a", "int64", "b +")], ("users", "b", "v1"), "a", None),
]


@pytest.mark.parametrize(("derived", "defining", "text", "cycle"), CYCLES)
def test_cycles(derived: list[FeatureInfo], defining: tuple[str, str, str], text: str, cycle: str | None) -> None:
    result = validate(text, dtype="float64", resolver=resolver_with(*derived, defining=defining))
    codes = [e.code for e in result.errors]
    if cycle is None:
        assert "CIRCULAR_DEPENDENCY" not in codes
    else:
        assert codes == ["CIRCULAR_DEPENDENCY"]
        assert result.errors[0].message == f"{cycle}: the expression depends on the feature it defines."


def test_cycle_search_skips_access_checks() -> None:
    resolver = resolver_with(info(USERS, "a", "int64", "b + 1"), defining=("users", "b", "v1"))
    validate("a * 2", resolver=resolver)
    assert resolver.calls == [("users", "a", True), ("users", "b", False)]


def test_cycle_blocks_unless_permissive() -> None:
    # permissive checks syntax only (README *Validation Levels*): the cycle is reported, not blocking
    for level in ("strict", "standard"):
        result = validate("x + 1", resolver=resolver_with(defining=("users", "x", "v1")), level=level)
        assert [e.code for e in result.errors] == ["CIRCULAR_DEPENDENCY"]
    permissive = validate("x + 1", resolver=resolver_with(defining=("users", "x", "v1")), level="permissive")
    assert (permissive.valid, [w.code for w in permissive.warnings]) == (True, ["CIRCULAR_DEPENDENCY"])
