"""Feature data types: what a feature's values are, and how DuckDB and Arrow store them.

Every type is an immutable value object with structural equality, so two features declared with
``Embedding(512)`` and ``"float32[512]"`` compare equal. The canonical string (``to_string``) is the
serialization the catalog stores; :func:`raise_.types.parser.parse_dtype` reads it back.
"""

from __future__ import annotations

import string
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Final, Protocol, TypeAlias

import pyarrow as pa

from raise_.errors import InvalidDtypeError

# DuckDB refuses ARRAY types longer than this ("ARRAY type size must be at most 100000"); failing
# at declaration beats failing at the first write.
MAX_EMBEDDING_DIM = 100_000

_IDENT_START = frozenset(string.ascii_letters + "_")
_IDENT_CHARS = _IDENT_START | frozenset(string.digits)
# RFC 6838 "restricted-name": what a MIME type or subtype may contain.
_MIME_START = frozenset(string.ascii_lowercase + string.digits)
_MIME_CHARS = _MIME_START | frozenset("!#$&-^_.+")
_REGISTRY_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")


class HasValue(Protocol):
    """An enum member whose ``.value`` is the content type (the content-type enum added later)."""

    @property
    def value(self) -> str: ...


ContentTypeLike: TypeAlias = "str | HasValue"


def is_identifier(name: str) -> bool:
    """ASCII identifier: the struct field names every engine (DuckDB, Arrow, Parquet) accepts."""
    return bool(name) and name[0] in _IDENT_START and all(c in _IDENT_CHARS for c in name)


def _is_mime_name(part: str) -> bool:
    return 0 < len(part) <= 127 and part[0] in _MIME_START and all(c in _MIME_CHARS for c in part)


def is_content_type(value: str) -> bool:
    """``type/subtype`` (case-insensitive) where the subtype may be the wildcard ``*``."""
    major, sep, minor = value.lower().partition("/")
    return bool(sep) and _is_mime_name(major) and (minor == "*" or _is_mime_name(minor))


# Spellings seen in the wild for the same content types (README's ``audio/mp3`` is ``audio/mpeg``).
CONTENT_TYPE_ALIASES: Final[dict[str, str]] = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/x-ms-bmp": "image/bmp",
    "audio/mp3": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "video/x-msvideo": "video/avi",
    "video/msvideo": "video/avi",
    "model/gltf-binary": "model/gltf+json",
}


def canonical_content_type(value: str) -> str:
    """``Audio/MP3; q=1`` → ``audio/mpeg``: lower-cased, parameters dropped, aliases resolved."""
    text = value.partition(";")[0].strip().lower()
    return CONTENT_TYPE_ALIASES.get(text, text)


def is_registry_name(value: str) -> bool:
    """A blob registry name; it must not contain the ``; | < >`` that delimit the dtype string."""
    return 0 < len(value) <= 128 and value[0].isascii() and value[0].isalnum() and set(value) <= _REGISTRY_CHARS


def _invalid(owner: str, part: str, problem: str, fix: str) -> InvalidDtypeError:
    # Constructor errors have no string to point into, so no position; the parser checks the same
    # rules first and reports positions itself.
    return InvalidDtypeError(f"Invalid dtype {owner}: {problem}; {fix}", {"dtype": owner, "part": part})


def _positive(value: object, owner: str, part: str, example: str, limit: int | None = None) -> int:
    # bool is an int subclass; Embedding(True) is a mistake, not a 1-dim vector.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _invalid(owner, part, f"{part} must be a positive integer, got {value!r}", f"write {example}")
    if limit is not None and value > limit:
        raise _invalid(owner, part, f"{part} {value} is above the maximum {limit}", f"write {example}")
    return value


def _coerce(value: FeatureType | str, owner: str, part: str) -> FeatureType:
    if isinstance(value, FeatureType):
        return value
    if isinstance(value, str):
        # Imported here: the parser builds these classes, so a top-level import would be circular.
        from raise_.types.parser import parse_dtype

        return parse_dtype(value)
    raise _invalid(owner, part, f"{part} must be a type or a type string, got {value!r}", "write e.g. 'int64'")


class FeatureType(ABC):
    """A feature's data type. Subclasses are frozen dataclasses, so equality is structural."""

    @abstractmethod
    def to_string(self) -> str:
        """The canonical string form: ``parse_dtype(t.to_string()) == t``."""

    @abstractmethod
    def duckdb_type(self) -> str:
        """The DuckDB SQL type text of a column holding this type."""

    @abstractmethod
    def arrow_type(self) -> pa.DataType:
        """The Arrow type of a column holding this type."""

    @property
    @abstractmethod
    def kind(self) -> str:
        """A short tag: the scalar name, or ``embedding``, ``array``, ``struct``, ``blob_ref``."""

    @property
    def is_numeric(self) -> bool:
        return False

    @property
    def is_vector(self) -> bool:
        return False

    def __str__(self) -> str:
        return self.to_string()


# --- scalars ---------------------------------------------------------------------------------


class _Scalar(FeatureType):
    """A type with no parameters: its name is its string and its kind."""

    _name: ClassVar[str] = ""
    _duckdb: ClassVar[str] = ""

    def to_string(self) -> str:
        return self._name

    def duckdb_type(self) -> str:
        return self._duckdb

    @property
    def kind(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class IntegerType(_Scalar):
    """Base of the integer scalars."""

    @property
    def is_numeric(self) -> bool:
        return True


class FloatType(_Scalar):
    """Base of the float scalars: the element types an :class:`Embedding` may have."""

    @property
    def is_numeric(self) -> bool:
        return True


@dataclass(frozen=True, repr=False)
class Int32(IntegerType):
    _name = "int32"
    _duckdb = "INTEGER"

    def arrow_type(self) -> pa.DataType:
        return pa.int32()


@dataclass(frozen=True, repr=False)
class Int64(IntegerType):
    _name = "int64"
    _duckdb = "BIGINT"

    def arrow_type(self) -> pa.DataType:
        return pa.int64()


@dataclass(frozen=True, repr=False)
class Float16(FloatType):
    _name = "float16"
    # DuckDB has no half float; FLOAT holds every float16 value exactly.
    _duckdb = "FLOAT"

    def arrow_type(self) -> pa.DataType:
        return pa.float16()


@dataclass(frozen=True, repr=False)
class Float32(FloatType):
    _name = "float32"
    _duckdb = "FLOAT"

    def arrow_type(self) -> pa.DataType:
        return pa.float32()


@dataclass(frozen=True, repr=False)
class Float64(FloatType):
    _name = "float64"
    _duckdb = "DOUBLE"

    def arrow_type(self) -> pa.DataType:
        return pa.float64()


@dataclass(frozen=True, repr=False)
class Bool(_Scalar):
    _name = "bool"
    _duckdb = "BOOLEAN"

    def arrow_type(self) -> pa.DataType:
        return pa.bool_()


@dataclass(frozen=True, repr=False)
class Bytes(_Scalar):
    _name = "bytes"
    _duckdb = "BLOB"

    def arrow_type(self) -> pa.DataType:
        return pa.binary()


@dataclass(frozen=True, repr=False)
class Timestamp(_Scalar):
    """An instant, stored in UTC with microsecond precision."""

    _name = "timestamp"
    _duckdb = "TIMESTAMPTZ"

    def arrow_type(self) -> pa.DataType:
        return pa.timestamp("us", tz="UTC")


@dataclass(frozen=True, init=False, repr=False)
class String(FeatureType):
    """Text, optionally limited to ``max_length`` characters (``string[128]``)."""

    max_length: int | None

    def __init__(self, max_length: int | None = None) -> None:
        if max_length is not None:
            max_length = _positive(max_length, "String", "max_length", "String(max_length=128)")
        object.__setattr__(self, "max_length", max_length)

    def to_string(self) -> str:
        return "string" if self.max_length is None else f"string[{self.max_length}]"

    def duckdb_type(self) -> str:
        # DuckDB ignores VARCHAR(n); the limit is enforced when values are written.
        return "VARCHAR"

    def arrow_type(self) -> pa.DataType:
        return pa.string()

    @property
    def kind(self) -> str:
        return "string"

    def __repr__(self) -> str:
        return "String()" if self.max_length is None else f"String(max_length={self.max_length})"


# --- containers ------------------------------------------------------------------------------


@dataclass(frozen=True, init=False, repr=False)
class Embedding(FeatureType):
    """A fixed-size float vector: ``float32[512]``."""

    dim: int
    dtype: FloatType

    def __init__(self, dim: int, dtype: FloatType | str = "float32") -> None:
        dim = _positive(dim, "Embedding", "dim", "Embedding(512)", MAX_EMBEDDING_DIM)
        element = _coerce(dtype, "Embedding", "dtype")
        if not isinstance(element, FloatType):
            raise _invalid(
                "Embedding",
                "dtype",
                f"an embedding's dtype must be float16, float32 or float64, got {element}",
                f"use Array({element!r}) for a variable-length array of {element}",
            )
        object.__setattr__(self, "dim", dim)
        object.__setattr__(self, "dtype", element)

    def to_string(self) -> str:
        return f"{self.dtype.to_string()}[{self.dim}]"

    def duckdb_type(self) -> str:
        return f"{self.dtype.duckdb_type()}[{self.dim}]"

    def arrow_type(self) -> pa.DataType:
        return pa.list_(self.dtype.arrow_type(), self.dim)

    @property
    def kind(self) -> str:
        return "embedding"

    @property
    def is_vector(self) -> bool:
        return True

    def __repr__(self) -> str:
        if isinstance(self.dtype, Float32):
            return f"Embedding({self.dim})"
        return f"Embedding({self.dim}, dtype={self.dtype.to_string()!r})"


@dataclass(frozen=True, init=False, repr=False)
class Array(FeatureType):
    """A variable-length list (``int64[]``), optionally bounded (``int64[:100]``)."""

    element: FeatureType
    max_length: int | None

    def __init__(self, element: FeatureType | str, max_length: int | None = None) -> None:
        element = _coerce(element, "Array", "element")
        if max_length is not None:
            max_length = _positive(max_length, "Array", "max_length", "Array(Int64(), max_length=100)")
        object.__setattr__(self, "element", element)
        object.__setattr__(self, "max_length", max_length)

    def to_string(self) -> str:
        bound = "" if self.max_length is None else f":{self.max_length}"
        return f"{self.element.to_string()}[{bound}]"

    def duckdb_type(self) -> str:
        # A DuckDB LIST has no length limit; writes enforce max_length.
        return f"{self.element.duckdb_type()}[]"

    def arrow_type(self) -> pa.DataType:
        return pa.list_(self.element.arrow_type())

    @property
    def kind(self) -> str:
        return "array"

    @property
    def is_vector(self) -> bool:
        return self.element.is_numeric

    def __repr__(self) -> str:
        if self.max_length is None:
            return f"Array({self.element!r})"
        return f"Array({self.element!r}, max_length={self.max_length})"


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True, init=False, repr=False)
class Struct(FeatureType):
    """Named fields in declaration order: ``struct<lat:float64,lon:float64>``."""

    # A tuple, not a dict, so the type is hashable and field order is part of equality.
    field_items: tuple[tuple[str, FeatureType], ...]

    def __init__(self, fields: Mapping[str, FeatureType | str]) -> None:
        if not isinstance(fields, Mapping):
            raise _invalid(
                "Struct",
                "fields",
                f"fields must be a mapping, got {fields!r}",
                "write Struct({'a': Int64()})",
            )
        if not fields:
            raise _invalid("Struct", "fields", "a struct needs at least one field", "write Struct({'a': Int64()})")
        items: list[tuple[str, FeatureType]] = []
        seen: set[str] = set()
        for name, dtype in fields.items():
            if not isinstance(name, str) or not is_identifier(name):
                raise _invalid(
                    "Struct",
                    str(name),
                    f"{name!r} is not a valid field name",
                    "use letters, digits and _, starting with a letter or _",
                )
            # DuckDB compares struct field names case-insensitively ("Duplicate type parameter").
            if name.lower() in seen:
                raise _invalid(
                    "Struct",
                    name,
                    f"field {name!r} repeats another (names are case-insensitive)",
                    "rename it",
                )
            seen.add(name.lower())
            items.append((name, _coerce(dtype, "Struct", name)))
        object.__setattr__(self, "field_items", tuple(items))

    @property
    def fields(self) -> Mapping[str, FeatureType]:
        """The fields, read-only, in declaration order."""
        return MappingProxyType(dict(self.field_items))

    def to_string(self) -> str:
        return "struct<" + ",".join(f"{name}:{dtype.to_string()}" for name, dtype in self.field_items) + ">"

    def duckdb_type(self) -> str:
        inner = ", ".join(f"{_quote_identifier(name)} {dtype.duckdb_type()}" for name, dtype in self.field_items)
        return f"STRUCT({inner})"

    def arrow_type(self) -> pa.DataType:
        return pa.struct([pa.field(name, dtype.arrow_type()) for name, dtype in self.field_items])

    @property
    def kind(self) -> str:
        return "struct"

    def __repr__(self) -> str:
        inner = ", ".join(f"{name!r}: {dtype!r}" for name, dtype in self.field_items)
        return f"Struct({{{inner}}})"


# --- blob references -------------------------------------------------------------------------

# How a BlobRef value is stored: a pointer to an object in a blob registry, never the bytes.
# metadata is JSON text (VARCHAR, not DuckDB's JSON type) so Arrow sees a plain string.
BLOB_REF_STORAGE = Struct(
    {
        "uri": String(),
        "content_type": String(),
        "checksum": String(),
        "hash_algorithm": String(),
        "size_bytes": Int64(),
        "etag": String(),
        "version_id": String(),
        "created_at": Timestamp(),
        "metadata": String(),
    }
)


def _content_type_text(value: object) -> str | None:
    # An enum member carries the text in .value; check it first because a (str, Enum) member's
    # str() is "ContentType.PNG", not the value.
    text = getattr(value, "value", value)
    return text if isinstance(text, str) else None


@dataclass(frozen=True, init=False, repr=False)
class BlobRef(FeatureType):
    """A reference to a binary object (image, video, ...) held in a blob registry.

    ``content_types`` constrains what may be referenced (``image/*`` matches any image);
    ``None`` accepts anything. Every option appears in the string form, so the catalog loses
    nothing by storing only the string.
    """

    content_types: tuple[str, ...] | None
    registry: str | None
    validate_on_write: bool

    def __init__(
        self,
        content_types: Sequence[ContentTypeLike] | ContentTypeLike | None = None,
        registry: str | None = None,
        validate_on_write: bool = False,
    ) -> None:
        object.__setattr__(self, "content_types", self._normalise_types(content_types))
        if registry is not None and (not isinstance(registry, str) or not is_registry_name(registry)):
            raise _invalid(
                "BlobRef",
                "registry",
                f"{registry!r} is not a registry name",
                "use letters, digits, '_', '.' and '-', starting with a letter or digit",
            )
        object.__setattr__(self, "registry", registry)
        if not isinstance(validate_on_write, bool):
            raise _invalid(
                "BlobRef",
                "validate_on_write",
                f"validate_on_write must be True or False, got {validate_on_write!r}",
                "pass a bool",
            )
        object.__setattr__(self, "validate_on_write", validate_on_write)

    @staticmethod
    def _normalise_types(
        content_types: Sequence[ContentTypeLike] | ContentTypeLike | None,
    ) -> tuple[str, ...] | None:
        if content_types is None:
            return None
        # A lone string is a Sequence too; iterating it would yield characters.
        entries: Sequence[object]
        if isinstance(content_types, str) or not isinstance(content_types, Sequence):
            entries = [content_types]
        else:
            entries = content_types
        normalised: list[str] = []
        for item in entries:
            text = _content_type_text(item)
            if text is None or not is_content_type(text):
                raise _invalid(
                    "BlobRef",
                    str(text if text is not None else item),
                    f"{text if text is not None else item!r} is not a content type",
                    "write type/subtype such as 'image/png' or 'image/*'",
                )
            # MIME types are case-insensitive: lower-case them so equal constraints compare equal.
            lowered = text.lower()
            if lowered not in normalised:
                normalised.append(lowered)
        # No entries would mean "accept nothing", which no feature wants; read it as no constraint.
        return tuple(normalised) or None

    def accepts(self, content_type: ContentTypeLike) -> bool:
        """Whether a blob of ``content_type`` may be referenced (parameters like ``; charset`` ignored)."""
        if self.content_types is None:
            return True
        text = _content_type_text(content_type)
        if text is None:
            return False
        wanted = canonical_content_type(text)
        if not is_content_type(wanted) or wanted.endswith("/*"):
            return False
        major = wanted.partition("/")[0]
        return any(canonical_content_type(allowed) in (wanted, f"{major}/*") for allowed in self.content_types)

    def to_string(self) -> str:
        options: list[str] = []
        if self.registry is not None:
            options.append(f"registry={self.registry}")
        if self.validate_on_write:
            options.append("validate_on_write")
        if self.content_types is None and not options:
            return "blob_ref"
        # "*" (any type) keeps the options from following an empty type list: blob_ref<*;registry=x>.
        types = "*" if self.content_types is None else "|".join(self.content_types)
        return "blob_ref<" + ";".join([types, *options]) + ">"

    def duckdb_type(self) -> str:
        return BLOB_REF_STORAGE.duckdb_type()

    def arrow_type(self) -> pa.DataType:
        return BLOB_REF_STORAGE.arrow_type()

    @property
    def kind(self) -> str:
        return "blob_ref"

    def __repr__(self) -> str:
        args: list[str] = []
        if self.content_types is not None:
            args.append(f"content_types={list(self.content_types)!r}")
        if self.registry is not None:
            args.append(f"registry={self.registry!r}")
        if self.validate_on_write:
            args.append("validate_on_write=True")
        return f"BlobRef({', '.join(args)})"


# --- compatibility ---------------------------------------------------------------------------


def is_compatible(declared: FeatureType, inferred: FeatureType) -> bool:
    """Whether values of type ``inferred`` may be stored in a feature declared ``declared``.

    Allowed: equal types; any number into a float (int→float widening, float width changes);
    int32 into int64 (lossless); any string into an unlimited string; embeddings of the same
    dimension whatever their float width.
    """
    if declared == inferred:
        return True
    if isinstance(declared, FloatType) and inferred.is_numeric:
        return True
    if isinstance(declared, Int64) and isinstance(inferred, Int32):
        return True
    if isinstance(declared, String) and declared.max_length is None and isinstance(inferred, String):
        return True
    return isinstance(declared, Embedding) and isinstance(inferred, Embedding) and declared.dim == inferred.dim
