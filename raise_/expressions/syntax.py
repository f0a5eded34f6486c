"""From ``derived_from`` text to a sqlglot tree whose feature references are plain columns.

Feature paths are not SQL identifiers (``user-signals.click_count``, ``rec/items.price``,
``@partner/ml/rec/items.embedding``, ``clicks@v2``), so before parsing every such path outside
string literals, quoted identifiers and comments is rewritten into one quoted identifier
(``"user-signals.click_count"``). Positions in errors are mapped back to the text the user typed.

The parser is sqlglot's DuckDB dialect with its function table emptied: every call parses as
``exp.Anonymous`` carrying the name as written and its position, so Raise's own function table
(``functions.py``) decides what exists, what it means and how it is written in DuckDB SQL,
instead of sqlglot's cross-dialect rewrites (which would e.g. turn ``NORMALIZE`` into Unicode
normalization).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Final

from sqlglot import Token, TokenType, exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ParseError, TokenError

from raise_.expressions.nesting import MAX_NESTING, MAX_TREE_DEPTH, nesting, tree_depth

__all__ = ["ExpressionSyntaxError", "ParsedExpression", "Position", "parse_expression", "position_of"]

_NS = r"[A-Za-z0-9][A-Za-z0-9_-]*"
_FEATURE = r"[A-Za-z_][A-Za-z0-9_]*"
# A path: optional "@", up to four namespace parts joined by "/", then ".feature"; or a bare
# feature; either may end in "@vN".
_REFERENCE = re.compile(rf"@?{_NS}(?:/{_NS}){{0,3}}\.{_FEATURE}(?:@v[0-9]+)?|{_FEATURE}@v[0-9]+")
_BOUNDARY = re.compile(r"[A-Za-z0-9_.@/-]")


class _RaiseDialect(DuckDB):
    class Parser(DuckDB.Parser):  # type: ignore[valid-type,misc]
        FUNCTIONS: ClassVar[dict[str, Any]] = {}
        # Only syntax that is not a plain call keeps a special parser.
        FUNCTION_PARSERS: ClassVar[dict[str, Any]] = {
            k: v for k, v in DuckDB.Parser.FUNCTION_PARSERS.items() if k in {"CAST", "TRY_CAST", "EXTRACT"}
        }


@dataclass(frozen=True)
class Position:
    """Where something is in the text the user typed: 0-based ``offset``, 1-based line/column."""

    offset: int
    line: int
    column: int

    def describe(self) -> str:
        return f"line {self.line}, column {self.column}"


class ExpressionSyntaxError(Exception):
    """Text that is not one expression; ``code`` is the validation issue it becomes."""

    def __init__(self, message: str, position: Position | None, code: str = "SYNTAX_ERROR") -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.code = code


@dataclass(frozen=True)
class ParsedExpression:
    text: str  # as the user typed it
    tree: exp.Expr  # shared (cached): copy before changing it
    rewritten: str
    # (offset in the rewritten text from which characters moved, how many) per added quote
    shifts: tuple[tuple[int, int], ...]

    def original_offset(self, rewritten_offset: int) -> int:
        added = 0
        for at, count in self.shifts:
            if at <= rewritten_offset:
                added += count
        return max(0, rewritten_offset - added)

    def position(self, node: exp.Expr) -> Position | None:
        """The position of ``node`` (or of the first token under it that sqlglot located)."""
        offset = node_offset(node)
        return None if offset is None else position_of(self.text, self.original_offset(offset))


def node_offset(node: exp.Expr) -> int | None:
    """The leftmost located token under ``node`` (a breadth-first "first" would pick ``1`` in
    ``name + 1``: a literal sits higher in the tree than the identifier under its column)."""
    starts = [
        int(candidate.meta["start"])
        for candidate in node.walk()
        if isinstance(candidate, exp.Expr) and candidate.meta and "start" in candidate.meta
    ]
    return min(starts) if starts else None


def position_of(text: str, offset: int) -> Position:
    before = text[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return Position(offset, line, column)


def _quoted_end(text: str, i: int, quote: str) -> int | None:
    """Index after the literal or quoted identifier starting at ``i`` (doubled quotes escape);
    None when it is never closed."""
    j = i + 1
    while j < len(text):
        if text[j] == quote:
            if j + 1 < len(text) and text[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return None


def _skip_quoted(text: str, i: int, quote: str) -> int:
    end = _quoted_end(text, i, quote)
    return len(text) if end is None else end


def _unterminated(text: str) -> int | None:
    """Where a string, quoted name or block comment that never closes starts, if one does."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            end = _quoted_end(text, i, ch)
            if end is None:
                return i
            i = end
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                return i
            i = j + 2
        else:
            i += 1
    return None


def rewrite_references(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Quote every feature path that is not a plain identifier; return the text and its shifts."""
    out: list[str] = []
    shifts: list[tuple[int, int]] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            j = _skip_quoted(text, i, ch)
            out.append(text[i:j])
            i = j
            continue
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(text[i:j])
            i = j
            continue
        if (ch.isalnum() or ch in "_@") and (i == 0 or not _BOUNDARY.match(text[i - 1])):
            m = _REFERENCE.match(text, i)
            # "1.e5" is a number, not group "1" and feature "e5".
            if m and not re.fullmatch(r"[0-9]+\.[A-Za-z_].*", m.group()) and not _continues(text, m.end()):
                rewritten_at = sum(len(p) for p in out)
                out.append(f'"{m.group()}"')
                # Text after the opening quote moves by one, after the closing quote by two.
                shifts.append((rewritten_at + 1, 1))
                shifts.append((rewritten_at + len(m.group()) + 2, 1))
                i = m.end()
                continue
            m2 = re.compile(r"[A-Za-z0-9_]+").match(text, i)
            j = m2.end() if m2 else i + 1
            out.append(text[i:j])
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out), tuple(shifts)


def _continues(text: str, end: int) -> bool:
    """A match followed by more path characters (``a.b.c``) is not a feature reference."""
    return end < len(text) and bool(re.match(r"[A-Za-z0-9_.@/]", text[end]))


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> ParsedExpression:
    """Parse one SQL expression; raise :class:`ExpressionSyntaxError` with the position."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionSyntaxError("The expression is empty; write SQL such as 'clicks / NULLIF(views, 0)'.", None)
    rewritten, shifts = rewrite_references(text)
    parsed = ParsedExpression(text, exp.Null(), rewritten, shifts)
    dialect = _RaiseDialect()
    try:
        tokens = dialect.tokenize(rewritten)
        _check_nesting(parsed, tokens)  # before the parser's recursion meets it
        statements = dialect.parser().parse(tokens, rewritten)
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        position = None
        if err.get("line") is not None and err.get("col") is not None:
            # sqlglot's column is that of the offending token's last character; point at its first.
            width = len(str(err.get("highlight") or "")) or 1
            position = _position_from_line_col(parsed, int(err["line"]), int(err["col"]), width)
        description = str(err.get("description") or exc).split(". Line")[0]
        raise ExpressionSyntaxError(f"Syntax error: {_plain(description)}", position) from exc
    except TokenError as exc:
        opened = _unterminated(text)
        if opened is not None:
            what = {"'": "string", '"': "quoted name", "/": "comment"}[text[opened]]
            raise ExpressionSyntaxError(
                f"Syntax error: the {what} that starts here is never closed.", position_of(text, opened)
            ) from exc
        raise ExpressionSyntaxError(f"Syntax error: {exc}", None) from exc
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise ExpressionSyntaxError(
            "derived_from must be one expression, not several statements separated by ';'.", None
        )
    tree = statements[0]
    assert isinstance(tree, exp.Expr)
    first = tokens[0]
    statement = isinstance(tree, exp.Query | exp.DML | exp.DDL | exp.Command)
    # DROP, ALTER, SET, PRAGMA, ... are statements sqlglot files under none of those classes.
    if statement or (
        first.token_type in _RaiseDialect.Parser.STATEMENT_PARSERS and not isinstance(tree, exp.Condition)
    ):
        word = tree.key.upper() if statement else first.text.upper()
        raise ExpressionSyntaxError(
            f"derived_from must be an expression such as 'clicks / NULLIF(views, 0)', not a {word} statement.",
            position_of(text, parsed.original_offset(first.start)),
        )
    for before, token in itertools.pairwise(tokens):
        # sqlglot reads "f(a,, b)" as "f(a, b)"; SQL (and DuckDB) refuse it.
        if token.token_type == TokenType.COMMA and before.token_type in (TokenType.COMMA, TokenType.L_PAREN):
            raise ExpressionSyntaxError(
                "Syntax error: an argument is missing before this ','.",
                position_of(text, parsed.original_offset(token.start)),
            )
    depth = tree_depth(tree)
    if depth > MAX_TREE_DEPTH:
        raise ExpressionSyntaxError(
            f"The expression is {depth} operations deep; at most {MAX_TREE_DEPTH} are allowed. Split it: "
            "define parts of it (a partial sum, an inner CASE) as derived features of their own and refer to them.",
            None,
            _TOO_DEEP,
        )
    _locate_keywords(tree, tokens)
    return ParsedExpression(text, tree, rewritten, shifts)


_TOO_DEEP: Final = "NESTING_TOO_DEEP"


def _check_nesting(parsed: ParsedExpression, tokens: list[Token]) -> None:
    found = nesting(tokens)
    if found.first_too_deep is not None:
        raise ExpressionSyntaxError(
            f"The expression nests {found.depth} levels deep (each bracket, CASE, NOT or unary minus opens one); "
            f"at most {MAX_NESTING} are allowed. Remove redundant brackets, or define an inner part as a derived "
            "feature of its own and refer to it.",
            position_of(parsed.text, parsed.original_offset(found.first_too_deep.start)),
            _TOO_DEEP,
        )


# Nodes sqlglot builds from a bare keyword carry no position; take it from their tokens.
_KEYWORD_NODES: Final = {
    TokenType.CURRENT_TIMESTAMP: exp.CurrentTimestamp,
    TokenType.CURRENT_DATE: exp.CurrentDate,
    TokenType.CURRENT_TIME: exp.CurrentTime,
}


def _locate_keywords(tree: exp.Expr, tokens: list[Token]) -> None:
    for token_type, node_type in _KEYWORD_NODES.items():
        starts = [t.start for t in tokens if t.token_type == token_type]
        nodes = list(tree.find_all(node_type, bfs=False))  # depth first: the order they were written in
        if len(nodes) == len(starts):
            for node, start in zip(nodes, starts, strict=True):
                node.meta["start"] = start


def _position_from_line_col(parsed: ParsedExpression, line: int, col: int, width: int = 1) -> Position:
    lines = parsed.rewritten.split("\n")
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + max(col - 1, 0)
    offset = max(offset - (width - 1), 0)
    return position_of(parsed.text, min(parsed.original_offset(offset), len(parsed.text)))


def _plain(description: str) -> str:
    """sqlglot speaks of its own classes; say it in SQL terms."""
    m = re.match(r"Required keyword: '(\w+)' missing for <class 'sqlglot\.expressions\.[\w.]*\.(\w+)'>", description)
    if m:
        return f"{m.group(2).upper()} is missing its {m.group(1)!r} operand"
    return description
