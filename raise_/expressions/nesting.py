"""How deeply a filter or a derived feature nests, measured before anything recursive reads it.

sqlglot parses by recursive descent: every bracket level of ``((((x))))``, ``ABS(ABS(...))`` or
``CASE WHEN ... END`` costs about 25 Python frames (measured with sqlglot 30: 23 for ``(``, 25 for
``ABS(`` or ``x BETWEEN (``, 19 for ``CASE``), every ``NOT`` about 10, every unary minus 2 to 3.
Python stops at 1,000 frames, so a filter of 42 nested brackets already raised a bare
``RecursionError``. Raising that interpreter-wide limit would make every other recursion in the
process (the user's own code in a notebook kernel, C-level ``repr``/``json``) risk a crash instead
of an error, so the text is measured on its tokens (a flat loop) and refused above
:data:`MAX_NESTING` levels: 24 × 25 frames stays well under 1,000 with room for the caller (a
notebook kernel's stack, the server's thread). Hand-written expressions rarely pass 6 levels.

A level is an open bracket (``(``, ``[``, ``{``, ``CASE``), or a prefix operator that is still
waiting for the end of its operand (``NOT``, a unary ``-``, ``INTERVAL``, ...). A unary sign
ends at the next binary operator (``a * -1 + b * -1`` stays at one level); ``NOT`` and other
prefix words end at ``AND``/``OR``, a comma or ``WHEN``/``THEN``/``ELSE``, where sqlglot has
returned from them too. Counting one too many is harmless; counting one too few is not, so
whatever is not known to close a level keeps it open.

Long flat chains (``a + b + c + ...``, ``x = 1 OR x = 2 OR ...``) are parsed by a loop, not by
recursion, but the parsed tree is as deep as the chain is long, and the checker and compiler of
derived features walk it recursively (2 to 4 frames a level): :func:`tree_depth` bounds that
tree at :data:`MAX_TREE_DEPTH` (chains of a few hundred terms worked before and still do).
Filters are generated back to SQL by sqlglot, which walks chains without recursion, so they are
bounded by :data:`MAX_NESTING` only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from sqlglot import Token, TokenType, exp
from sqlglot.dialects.duckdb import DuckDB

__all__ = ["MAX_NESTING", "MAX_TREE_DEPTH", "Nesting", "nesting", "tree_depth"]

MAX_NESTING: Final = 24
MAX_TREE_DEPTH: Final = 256

_P = DuckDB.Parser
_OPEN: Final = frozenset({TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE})
_CLOSE: Final = frozenset({TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END})
# Tokens that are an operand by themselves.
_VALUE: Final = frozenset(
    {
        TokenType.VAR,
        TokenType.IDENTIFIER,
        TokenType.NUMBER,
        TokenType.STAR,
        TokenType.NULL,
        TokenType.TRUE,
        TokenType.FALSE,
        TokenType.PLACEHOLDER,
        TokenType.STRING,
        TokenType.BIT_STRING,
        TokenType.BYTE_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.HEX_STRING,
        TokenType.NATIONAL_RAW_STRING,
        TokenType.NATIONAL_STRING,
        TokenType.RAW_STRING,
        TokenType.UNICODE_STRING,
        *_P.NO_PAREN_FUNCTIONS,  # CURRENT_DATE, CURRENT_TIMESTAMP, ...
    }
)
# Unary operators whose operand is one unary expression (sqlglot's ``_parse_unary``): a sign,
# ``~``, ``|/``. NOT takes a whole comparison and is counted with the prefix words.
_SIGNS: Final = frozenset(_P.UNARY_PARSERS) - {TokenType.NOT}
# Binary operators looser than a unary sign: after an operand, each ends the signs before it.
_BINARY: Final = frozenset(
    {
        *_P.TERM,
        *_P.FACTOR,
        *_P.EXPONENT,
        *_P.COMPARISON,
        *_P.EQUALITY,
        *_P.BITWISE,
        *_P.RANGE_PARSERS,
        *_P.CONJUNCTION,
        *_P.DISJUNCTION,
        TokenType.DPIPE,
        TokenType.NOT,  # x NOT IN (...), x NOT LIKE ...
    }
)
# Where NOT's operand (a comparison) and every prefix word's before it have ended.
_SEPARATORS: Final = frozenset(
    {*_P.CONJUNCTION, *_P.DISJUNCTION, TokenType.COMMA, TokenType.WHEN, TokenType.THEN, TokenType.ELSE}
)


@dataclass
class _Level:
    signs: int = 0  # unary signs waiting for their operand to end
    words: int = 0  # NOT and other prefix words waiting for theirs
    between: bool = False  # the next AND is BETWEEN's, not a conjunction


@dataclass(frozen=True)
class Nesting:
    depth: int  # the deepest level reached
    first_too_deep: Token | None  # the first token past the limit, if one is


def nesting(tokens: Iterable[Token], limit: int = MAX_NESTING) -> Nesting:
    """How deeply ``tokens`` nest (see the module's docstring), in one flat pass."""
    levels = [_Level()]
    depth = deepest = 0
    first: Token | None = None
    operand_done = False  # the last token ended an operand, so the next operator is binary
    for token in tokens:
        kind = token.token_type
        level = levels[-1]
        if kind in _OPEN:
            levels.append(_Level())
            depth += 1
            operand_done = False
        elif kind in _CLOSE:
            if len(levels) > 1:
                closed = levels.pop()
                depth -= 1 + closed.signs + closed.words
            operand_done = True
        elif kind in _SEPARATORS and not (kind == TokenType.AND and level.between):
            depth -= level.signs + level.words
            level.signs = level.words = 0
            level.between = False
            operand_done = False
        elif kind in _VALUE and not (kind == TokenType.STAR and operand_done):  # COUNT(*), not a * b
            operand_done = True
        elif operand_done:  # a binary or postfix operator: AND of BETWEEN, +, ::, AS, OVER, ...
            if kind == TokenType.AND:
                level.between = False
            elif kind == TokenType.BETWEEN:
                level.between = True
            if kind in _BINARY:
                depth -= level.signs
                level.signs = 0
            operand_done = False
        elif kind in _SIGNS:  # in front of an operand
            level.signs += 1
            depth += 1
        else:  # NOT, INTERVAL, @, ANY, DISTINCT, ... in front of an operand
            level.words += 1
            depth += 1
        if depth > deepest:
            deepest = depth
        if first is None and depth > limit:
            first = token
    return Nesting(deepest, first)


def tree_depth(tree: exp.Expr) -> int:
    """The number of nodes on the longest path from ``tree`` down to a leaf, without recursion."""
    deepest = 0
    stack: list[tuple[exp.Expr, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    return deepest
