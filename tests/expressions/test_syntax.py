"""Parsing ``derived_from`` text: feature paths become one quoted identifier each, everything else
is left as typed, and every syntax error points at the line and column of the text the user typed."""

from __future__ import annotations

import pytest
from sqlglot import exp

from raise_.expressions.syntax import (
    ExpressionSyntaxError,
    Position,
    parse_expression,
    position_of,
    rewrite_references,
)
from raise_.expressions.validation import referenced_names

# -- rewriting feature paths ------------------------------------------------------------------

REWRITES = [
    # (typed, rewritten)
    ("user-signals.click_count / 2", '"user-signals.click_count" / 2'),
    ("rec/user-signals.x + 1", '"rec/user-signals.x" + 1'),
    ("ml/rec/user-signals.x", '"ml/rec/user-signals.x"'),
    ("@partner/ml/rec/items.embedding", '"@partner/ml/rec/items.embedding"'),
    ("clicks@v2 * 2", '"clicks@v2" * 2'),
    ("user-signals.click_count@v12", '"user-signals.click_count@v12"'),
    ("DOT(user_embedding, item-signals.item_embedding)", 'DOT(user_embedding, "item-signals.item_embedding")'),
    ("a.b+c.d", '"a.b"+"c.d"'),
    ("(g.x)", '("g.x")'),
    # a '-' right after a feature name ends the path: the minus is arithmetic
    ("item-signals.price-1", '"item-signals.price"-1'),
    # plain names, operators and keywords are untouched
    ("clicks / NULLIF(views, 0)", "clicks / NULLIF(views, 0)"),
    ("a-b", "a-b"),
    ("a - b.c", 'a - "b.c"'),
    ("a-b.c", '"a-b.c"'),  # a '-' inside a path belongs to the group name ("user-signals")
    ("x>=1 AND y<>2", "x>=1 AND y<>2"),
    # string literals, quoted identifiers and comments are left alone
    ("'user-signals.click_count'", "'user-signals.click_count'"),
    ("'it''s a.b' || c.d", "'it''s a.b' || \"c.d\""),
    ('"user-signals.click_count" + 1', '"user-signals.click_count" + 1'),
    ('"a ""q"" b.c" + d.e', '"a ""q"" b.c" + "d.e"'),
    ("x -- user-signals.click_count\n+ 1", "x -- user-signals.click_count\n+ 1"),
    ("/* rec/user-signals.x */ y", "/* rec/user-signals.x */ y"),
    ("'clicks@v2'", "'clicks@v2'"),
    # numbers are not paths
    ("1.5 * x", "1.5 * x"),
    ("1.e5 + x", "1.e5 + x"),
    ("x + 2.5e-3", "x + 2.5e-3"),
    ("10.0", "10.0"),
    # more than one dot is not a feature reference (the analysis reports it)
    ("a.b.c", "a.b.c"),
]


@pytest.mark.parametrize(("typed", "rewritten"), REWRITES)
def test_rewrite_references(typed: str, rewritten: str) -> None:
    assert rewrite_references(typed)[0] == rewritten


NAMES = [
    # (typed, the names the expression references, in order of first appearance)
    ("user-signals.click_count / 2", ["user-signals.click_count"]),
    ("rec/user-signals.x + ml/rec/user-signals.x", ["rec/user-signals.x", "ml/rec/user-signals.x"]),
    ("DOT(emb, @partner/ml/rec/items.embedding)", ["emb", "@partner/ml/rec/items.embedding"]),
    ("clicks@v2 - clicks@v1 + clicks", ["clicks@v2", "clicks@v1", "clicks"]),
    ("a + a * b", ["a", "b"]),
    ("CASE WHEN g.x > 1 THEN 'g.y' ELSE \"g.z\" END", ["g.x", "g.z"]),
    ("x -- y.z\n+ 1.e5", ["x"]),
    ("'only.a.string'", []),
    ("1.5 + 1.e5", []),
]


@pytest.mark.parametrize(("typed", "names"), NAMES)
def test_referenced_names(typed: str, names: list[str]) -> None:
    assert referenced_names(typed) == names


def test_literals_keep_their_values() -> None:
    tree = parse_expression("x * 1.e5 + 1.5 - 'a.b'").tree
    literals = sorted(str(lit.this) for lit in tree.find_all(exp.Literal))
    assert literals == ["1.5", "1.e5", "a.b"]


def test_every_call_is_raise_s_own_function() -> None:
    # sqlglot's own table would turn NORMALIZE into Unicode normalization and LOG's arguments around
    tree = parse_expression("NORMALIZE(emb) + LOG(2, x)").tree
    calls = [(str(c.this), len(c.expressions)) for c in tree.find_all(exp.Anonymous)]
    assert sorted(calls) == [("LOG", 2), ("NORMALIZE", 1)]


POSITIONS = [
    # (typed, a referenced name, its (line, column) in the typed text)
    ("user-signals.a + b@v2 * rec/g.c", "user-signals.a", (1, 1)),
    ("user-signals.a + b@v2 * rec/g.c", "b@v2", (1, 18)),
    ("user-signals.a + b@v2 * rec/g.c", "rec/g.c", (1, 25)),
    ("a.x +\n  b.y", "b.y", (2, 3)),
    ("'s.t' || @o/d/p/g.f || u", "u", (1, 24)),
    ("CASE\n  WHEN ml/rec/g.x > 0\n  THEN clicks@v1\nEND", "clicks@v1", (3, 8)),
]


@pytest.mark.parametrize(("typed", "name", "where"), POSITIONS)
def test_positions_are_in_the_typed_text(typed: str, name: str, where: tuple[int, int]) -> None:
    parsed = parse_expression(typed)
    (column,) = [c for c in parsed.tree.find_all(exp.Column) if c.this.this == name]
    position = parsed.position(column)
    assert position is not None
    assert (position.line, position.column) == where
    assert typed[position.offset :].startswith(name)


def test_position_of() -> None:
    assert position_of("ab\ncd\nef", 0) == Position(0, 1, 1)
    assert position_of("ab\ncd\nef", 4) == Position(4, 2, 2)
    assert position_of("ab\ncd\nef", 6) == Position(6, 3, 1)
    assert Position(6, 3, 1).describe() == "line 3, column 1"


# -- syntax errors ----------------------------------------------------------------------------

SYNTAX_ERRORS = [
    # (typed, (line, column) of the error, the text found there, part of the message)
    ("a +", (1, 3), "+", "ADD is missing its 'expression' operand"),
    ("a + )", (1, 5), ")", "ADD is missing"),
    ("a +\n  )", (2, 3), ")", "ADD is missing"),
    ("aa bb cccc", (1, 7), "cccc", "Unexpected token"),
    ("a + * 12345", (1, 7), "12345", "Unexpected token"),
    ("(a + b", (1, 6), "b", "Expecting )"),
    ("CAST(a AS)", (1, 10), ")", "Expected TYPE after CAST"),
    ("CASE WHEN a THEN 1", (1, 18), "1", "Expected END after CASE"),
    ("abc = = xyz", (1, 7), "=", "EQ is missing"),
    # after a rewritten path: the two added quotes do not shift the position
    ("user-signals.click_count >", (1, 26), ">", "GT is missing"),
    ("user-signals.click_count + * 12345", (1, 30), "12345", "Unexpected token"),
    ("rec/user-signals.x + ((1)", (1, 25), ")", "Expecting )"),
    ("@partner/ml/rec/items.embedding +", (1, 33), "+", "ADD is missing"),
    ("clicks@v2 x rec/user-signals.x + 1", (1, 13), "rec/user-signals.x", "Unexpected token"),
    ("a b user-signals.click_count", (1, 5), "user-signals.click_count", "Unexpected token"),
    ("x\n+ user-signals.y * (2 +\n )", (3, 2), ")", "ADD is missing"),
    ("'it''s' || user-signals.x ) ", (1, 27), ")", "Unexpected token"),
    # an empty argument (sqlglot alone would drop it)
    ("COALESCE(a,, b)", (1, 12), ",", "an argument is missing"),
    ("ABS(,x)", (1, 5), ",", "an argument is missing"),
    ("GREATEST(user-signals.a,, 2)", (1, 25), ",", "an argument is missing"),
]


@pytest.mark.parametrize(("typed", "where", "found", "message"), SYNTAX_ERRORS)
def test_syntax_error_position(typed: str, where: tuple[int, int], found: str, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(typed)
    position = info.value.position
    assert position is not None
    assert (position.line, position.column) == where
    assert typed[position.offset :].startswith(found)
    assert message in info.value.message
    assert info.value.message.startswith("Syntax error: ")


STATEMENTS = [
    # (typed, the statement named in the message, (line, column))
    ("SELECT 1", "SELECT", (1, 1)),
    ("  select clicks FROM t", "SELECT", (1, 3)),
    ("\nSELECT 1", "SELECT", (2, 1)),
    ("(SELECT 1)", "SUBQUERY", (1, 1)),
    ("WITH a AS (SELECT 1) SELECT * FROM a", "SELECT", (1, 1)),
    ("INSERT INTO t VALUES (1)", "INSERT", (1, 1)),
    ("UPDATE t SET a = 1", "UPDATE", (1, 1)),
    ("DELETE FROM t", "DELETE", (1, 1)),
    ("CREATE TABLE t (a INT)", "CREATE", (1, 1)),
    ("DROP TABLE x", "DROP", (1, 1)),
    ("ALTER TABLE t ADD COLUMN b INT", "ALTER", (1, 1)),
    ("SET threads = 1", "SET", (1, 1)),
    ("PRAGMA version", "PRAGMA", (1, 1)),
    ("ATTACH 'other.db'", "ATTACH", (1, 1)),
]


@pytest.mark.parametrize(("typed", "word", "where"), STATEMENTS)
def test_statements_are_refused(typed: str, word: str, where: tuple[int, int]) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(typed)
    assert info.value.message == (
        f"derived_from must be an expression such as 'clicks / NULLIF(views, 0)', not a {word} statement."
    )
    assert info.value.position is not None
    assert (info.value.position.line, info.value.position.column) == where


@pytest.mark.parametrize("name", ["refresh", "declare"])
def test_a_feature_may_share_its_name_with_a_statement_keyword(name: str) -> None:
    assert referenced_names(f"{name} + 1") == [name]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "The expression is empty; write SQL such as 'clicks / NULLIF(views, 0)'."),
        ("  \n ", "The expression is empty; write SQL such as 'clicks / NULLIF(views, 0)'."),
        ("a; b", "derived_from must be one expression, not several statements separated by ';'."),
        ("a + 1;\nDROP TABLE t", "derived_from must be one expression, not several statements separated by ';'."),
    ],
)
def test_errors_without_a_position(typed: str, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(typed)
    assert (info.value.message, info.value.position) == (message, None)


@pytest.mark.parametrize(
    ("typed", "message", "offset"),
    [
        ("a + 'x", "the string that starts here is never closed.", 4),
        ("a + 'it''s' + 'x", "the string that starts here is never closed.", 14),
        ("'it''", "the string that starts here is never closed.", 0),
        ('a + "b', "the quoted name that starts here is never closed.", 4),
        ("a /* note", "the comment that starts here is never closed.", 2),
    ],
)
def test_an_unterminated_literal_points_at_its_start(typed: str, message: str, offset: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(typed)
    assert info.value.message == f"Syntax error: {message}"
    assert info.value.position is not None and info.value.position.offset == offset


def test_a_trailing_semicolon_is_one_expression() -> None:
    assert referenced_names("a + 1;") == ["a"]
