"""Reading dtype strings: ``parse_dtype("struct<lat:float64,lon:float64>")``.

A small recursive-descent parser over this grammar (names are case-insensitive, spaces between
tokens are ignored)::

    type     := base suffix*
    base     := scalar | "string" "[" N "]" | "struct" "<" field ("," field)* ">" | blob_ref
    field    := identifier ":" type
    blob_ref := "blob_ref" [ "<" ("*" | ctype ("|" ctype)*) (";" option)* ">" ]
    option   := "registry=" name | "validate_on_write"
    suffix   := "[" N "]"  (float embedding) | "[" "]"  (array) | "[" ":" N "]"  (bounded array)

Suffixes apply left to right: ``float32[3][:10]`` is an array of at most 10 three-dim embeddings.
Every error points at the offending part by its character position in the input as given.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable

from raise_.errors import InvalidDtypeError
from raise_.types.dtypes import (
    MAX_EMBEDDING_DIM,
    Array,
    BlobRef,
    Bool,
    Bytes,
    Embedding,
    FeatureType,
    Float16,
    Float32,
    Float64,
    FloatType,
    Int32,
    Int64,
    String,
    Struct,
    Timestamp,
    is_content_type,
    is_identifier,
    is_registry_name,
)

__all__ = ["parse_dtype"]

_SCALARS: dict[str, Callable[[], FeatureType]] = {
    "int32": Int32,
    "int64": Int64,
    "float16": Float16,
    "float32": Float32,
    "float64": Float64,
    "bool": Bool,
    "string": String,
    "bytes": Bytes,
    "timestamp": Timestamp,
}
_NAMES = (*_SCALARS, "struct", "blob_ref")
_KNOWN = "int32, int64, float16, float32, float64, bool, string, bytes, timestamp, struct<...>, blob_ref"
# Spellings from other systems. Only used to suggest: accepting them would give one type many
# spellings, and the canonical string would no longer be the only form stored.
_HINTS = {
    "int": "int64",
    "integer": "int64",
    "bigint": "int64",
    "long": "int64",
    "float": "float32",
    "real": "float32",
    "double": "float64",
    "half": "float16",
    "boolean": "bool",
    "str": "string",
    "text": "string",
    "varchar": "string",
    "binary": "bytes",
    "blob": "bytes",
    "datetime": "timestamp",
    "timestamptz": "timestamp",
    "embedding": "float32[512]",
    "vector": "float32[512]",
    "list": "int64[]",
    "array": "int64[]",
}
_BLOB_OPTIONS = ("registry", "validate_on_write")
# Deep enough for any real schema, shallow enough that to_string/== never hit Python's recursion
# limit on a hostile string like "int64" + "[]" * 10000.
_MAX_DEPTH = 32
_SPACE = " \t\r\n"
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def parse_dtype(value: str | FeatureType) -> FeatureType:
    """The type a string names; a :class:`FeatureType` is returned as is.

    Raises :class:`~raise_.errors.InvalidDtypeError` (``INVALID_DTYPE``) for anything else,
    with details ``{"dtype", "position", "part"}``.
    """
    if isinstance(value, FeatureType):
        return value
    if not isinstance(value, str):
        raise InvalidDtypeError(
            f"Invalid dtype {value!r}: expected a type string such as 'int64' or a FeatureType, "
            f"got {type(value).__name__}",
            {"dtype": repr(value), "position": 0, "part": type(value).__name__},
        )
    return _parse_cached(value)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> FeatureType:
    # Types are immutable, and a catalog uses few distinct strings over and over (every
    # feature read and bulk entry parses one), so parsing each string once is safe and cheap.
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        # Where the last number read by _number began, for errors found after reading it.
        self.number_pos = 0

    # --- entry -------------------------------------------------------------------------------

    def parse(self) -> FeatureType:
        self._skip_space()
        if self._at_end():
            raise InvalidDtypeError(
                f"Invalid dtype {self.text!r}: the type is empty at position {self.pos}; "
                "write a type such as int64, float32[512] or struct<name:string>",
                {"dtype": self.text, "position": self.pos, "part": ""},
            )
        result = self._type()
        self._skip_space()
        if not self._at_end():
            rest = self.text[self.pos :].rstrip(_SPACE)
            raise self._error(self.pos, rest, f"is unexpected after the type {result.to_string()!r}", "remove it")
        return result

    # --- helpers -----------------------------------------------------------------------------

    def _error(self, pos: int, part: str, problem: str, fix: str) -> InvalidDtypeError:
        return InvalidDtypeError(
            f"Invalid dtype {self.text!r}: {part!r} at position {pos} {problem}; {fix}",
            {"dtype": self.text, "position": pos, "part": part},
        )

    def _missing(self, what: str, fix: str) -> InvalidDtypeError:
        return InvalidDtypeError(
            f"Invalid dtype {self.text!r}: {what} is missing at position {self.pos}; {fix}",
            {"dtype": self.text, "position": self.pos, "part": ""},
        )

    def _unclosed(self, open_pos: int, closer: str) -> InvalidDtypeError:
        opener = self.text[open_pos]
        return self._error(open_pos, opener, "is never closed", f"add {closer!r} to close it")

    def _at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _peek(self) -> str:
        return "" if self._at_end() else self.text[self.pos]

    def _skip_space(self) -> None:
        while not self._at_end() and self.text[self.pos] in _SPACE:
            self.pos += 1

    def _word(self) -> str:
        start = self.pos
        while not self._at_end() and self.text[self.pos] in _WORD_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def _token(self, stops: str) -> str:
        """Characters up to a stop character or a space: the extent of a number, content type, ..."""
        start = self.pos
        while not self._at_end() and self.text[self.pos] not in stops and self.text[self.pos] not in _SPACE:
            self.pos += 1
        return self.text[start : self.pos]

    def _found(self) -> str:
        """What stands at the current position, for an 'expected X' error: a word or one character."""
        start = self.pos
        word = self._word()
        self.pos = start
        return word or self._peek()

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self._error(
                self.pos,
                self.text[self.pos : self.pos + 10],
                f"nests types more than {_MAX_DEPTH} levels deep",
                "flatten the type",
            )

    # --- grammar -----------------------------------------------------------------------------

    def _type(self) -> FeatureType:
        depth = self.depth
        self._enter()
        result = self._suffixes(self._base())
        self.depth = depth
        return result

    def _base(self) -> FeatureType:
        self._skip_space()
        start = self.pos
        word = self._word()
        if not word:
            if self._at_end():
                raise self._missing("a type name", f"write one of {_KNOWN}")
            raise self._error(start, self._peek(), "is not the start of a type", f"write one of {_KNOWN}")
        name = word.lower()
        if name in _SCALARS:
            return _SCALARS[name]()
        if name == "struct":
            return self._struct(start)
        if name == "blob_ref":
            return self._blob_ref()
        suggestion = _HINTS.get(name) or next(iter(difflib.get_close_matches(name, _NAMES, n=1)), None)
        fix = f"did you mean {suggestion!r}?" if suggestion else f"write one of {_KNOWN}"
        raise self._error(start, word, "is not a known type", fix)

    def _suffixes(self, current: FeatureType) -> FeatureType:
        base = current
        while True:
            before = self.pos
            self._skip_space()
            if self._peek() != "[":
                self.pos = before
                return current
            self._enter()
            open_pos = self.pos
            self.pos += 1
            self._skip_space()
            # "string[128]" right after the name is a length limit, not an array.
            string_limit = current is base and current == String()
            if self._peek() == "]":
                self.pos += 1
                current = Array(current)
            elif self._peek() == ":":
                self.pos += 1
                bound = self._number(open_pos, "maximum length", current, string_limit)
                current = Array(current, max_length=bound)
            else:
                size = self._number(open_pos, self._size_role(current, string_limit), current, string_limit)
                if isinstance(current, FloatType):
                    if size > MAX_EMBEDDING_DIM:
                        raise self._error(
                            self.number_pos,
                            str(size),
                            f"is above the largest embedding dimension, {MAX_EMBEDDING_DIM} (DuckDB's limit)",
                            f"write {current.to_string()}[] for a variable-length array",
                        )
                    current = Embedding(size, current)
                elif string_limit:
                    current = String(max_length=size)
                else:
                    element = current.to_string()
                    raise self._error(
                        open_pos,
                        self.text[open_pos : self.pos],
                        "gives a fixed size, which only float embeddings (float16/32/64) have",
                        f"write {element}[] for a variable-length array "
                        f"or {element}[:{size}] for one of at most {size} elements",
                    )

    @staticmethod
    def _size_role(current: FeatureType, string_limit: bool) -> str:
        if string_limit:
            return "length"
        return "dimension" if isinstance(current, FloatType) else "size"

    @staticmethod
    def _bracket_fix(current: FeatureType, string_limit: bool) -> str:
        name = current.to_string()
        if string_limit:
            return "write string[128] for strings of at most 128 characters, string[] for an array of strings"
        if isinstance(current, FloatType):
            return (
                f"write {name}[512] for an embedding, {name}[] for a variable-length array "
                f"or {name}[:100] for a bounded one"
            )
        return f"write {name}[] for a variable-length array or {name}[:100] for a bounded one"

    def _number(self, open_pos: int, role: str, current: FeatureType, string_limit: bool) -> int:
        """A positive integer inside ``[...]``, then the closing ``]``."""
        fix = self._bracket_fix(current, string_limit)
        self._skip_space()
        start = self.pos
        token = self._token("[]<>,")
        self.number_pos = start
        if not token:
            if self._at_end():
                raise self._unclosed(open_pos, "]")
            raise self._error(start, self._peek(), f"stands where a {role} should be", fix)
        digits = token.removeprefix("-")
        if not digits or not all("0" <= c <= "9" for c in digits):
            raise self._error(start, token, f"is not a {role}", fix)
        value = int(token)
        if value <= 0:
            raise self._error(start, token, f"is not a positive {role}", fix)
        self._skip_space()
        if self._peek() != "]":
            if self._at_end():
                raise self._unclosed(open_pos, "]")
            raise self._error(self.pos, self._found(), f"stands where ']' should close the '[' at {open_pos}", fix)
        self.pos += 1
        return value

    def _struct(self, start: int) -> Struct:
        example = "write struct<name:type,...> such as struct<lat:float64,lon:float64>"
        self._skip_space()
        if self._peek() != "<":
            raise self._error(start, self.text[start : self.pos].strip(_SPACE), "needs its fields in <...>", example)
        open_pos = self.pos
        self.pos += 1
        fields: dict[str, FeatureType] = {}
        while True:
            self._skip_space()
            if self._peek() == ">" and not fields:
                raise self._error(open_pos, self.text[open_pos : self.pos + 1], "declares no field", example)
            if self._at_end():
                raise self._unclosed(open_pos, ">")
            name_pos = self.pos
            name = self._word()
            if not is_identifier(name):
                raise self._error(
                    name_pos,
                    name or self._peek(),
                    "is not a field name",
                    "field names are letters, digits and _, starting with a letter or _",
                )
            # Case-insensitive because DuckDB rejects STRUCT("A" ..., "a" ...).
            if name.lower() in (known.lower() for known in fields):
                raise self._error(
                    name_pos,
                    name,
                    "repeats a field name (names are case-insensitive)",
                    "give each struct field a distinct name",
                )
            self._skip_space()
            if self._peek() != ":":
                if self._at_end():
                    raise self._unclosed(open_pos, ">")
                found = self._found()
                example_type = found if found[0] in _WORD_CHARS else "<type>"
                raise self._error(
                    self.pos,
                    found,
                    f"stands where ':' should follow field {name!r}",
                    f"write {name}:{example_type}",
                )
            self.pos += 1
            fields[name] = self._type()
            self._skip_space()
            separator = self._peek()
            if separator == ",":
                self.pos += 1
            elif separator == ">":
                self.pos += 1
                return Struct(fields)
            elif not separator:
                raise self._unclosed(open_pos, ">")
            else:
                raise self._error(
                    self.pos, self._found(), f"stands where ',' or '>' should follow field {name!r}", example
                )

    def _blob_ref(self) -> BlobRef:
        before = self.pos
        self._skip_space()
        if self._peek() != "<":
            self.pos = before
            return BlobRef()
        open_pos = self.pos
        self.pos += 1
        types = self._content_types(open_pos)
        registry: str | None = None
        validate = False
        seen: set[str] = set()
        while self._peek() == ";":
            self.pos += 1
            self._skip_space()
            option_pos = self.pos
            option = self._word()
            key = option.lower()
            if key not in _BLOB_OPTIONS:
                if self._at_end():
                    raise self._unclosed(open_pos, ">")
                close = difflib.get_close_matches(key, _BLOB_OPTIONS, n=1)
                hint = (
                    f"did you mean {close[0]!r}?" if close else "the options are registry=<name> and validate_on_write"
                )
                raise self._error(option_pos, option or self._peek(), "is not a blob_ref option", hint)
            if key in seen:
                raise self._error(option_pos, option, "repeats an option", "give each option once")
            seen.add(key)
            self._skip_space()
            if key == "registry":
                registry = self._registry(option_pos)
            else:
                validate = True
            self._skip_space()
        if self._peek() != ">":
            if self._at_end():
                raise self._unclosed(open_pos, ">")
            raise self._error(
                self.pos,
                self._found(),
                "stands where '|', ';' or '>' should be",
                "write blob_ref<image/png|image/jpeg>",
            )
        self.pos += 1
        return BlobRef(types, registry=registry, validate_on_write=validate)

    def _content_types(self, open_pos: int) -> list[str] | None:
        """``*`` (any, returned as None) or ``type/subtype`` entries separated by ``|``."""
        fix = "write type/subtype such as image/png or image/*, separated by |"
        types: list[str] = []
        any_type = False
        while True:
            self._skip_space()
            start = self.pos
            token = self._token("|;<>")
            if not token:
                if self._at_end():
                    raise self._unclosed(open_pos, ">")
                raise self._error(
                    start,
                    self._peek(),
                    "stands where a content type should be",
                    f"{fix}; write * for any type",
                )
            if token == "*" or any_type:
                if types or any_type:
                    raise self._error(
                        start,
                        token,
                        "mixes '*' (any content type) with others",
                        "write either * or a list of types",
                    )
                any_type = True
            elif not is_content_type(token):
                raise self._error(start, token, "is not a content type", fix)
            else:
                types.append(token)
            self._skip_space()
            if self._peek() != "|":
                return None if any_type else types
            self.pos += 1

    def _registry(self, option_pos: int) -> str:
        if self._peek() != "=":
            raise self._error(option_pos, "registry", "needs a value", "write registry=<name>")
        self.pos += 1
        self._skip_space()
        start = self.pos
        value = self._token("|;<>")
        if not is_registry_name(value):
            raise self._error(
                start,
                value or self._peek(),
                "is not a registry name",
                "use letters, digits, '_', '.' and '-', starting with a letter or digit",
            )
        return value
