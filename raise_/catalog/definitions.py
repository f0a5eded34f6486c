"""Feature definitions: the one shape every creation path is normalised into.

``create_feature`` keywords, ``create_features`` dicts, ``create_features_from_schema`` entries and
the rows of a ``features.yaml``/``.json`` file all become :class:`FeatureDefinition` here, so they
are checked by the same rules and fail with the same messages. In a bulk call, the message names
the entry's position and field (``features[2].dtype: ...``) and keeps the original error code.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import pyarrow as pa
import yaml

from raise_.errors import InvalidArgumentError, InvalidDtypeError, InvalidFileError, RaiseError
from raise_.metadata.naming import parse_version, validate_feature_name, validate_tags
from raise_.types import FeatureType, parse_dtype

__all__ = [
    "DEFINITION_FIELDS",
    "IF_EXISTS_MODES",
    "VALIDATION_LEVELS",
    "FeatureDefinition",
    "definitions_from_schema",
    "load_definitions_file",
    "normalize_definition",
    "normalize_definitions",
]

DEFINITION_FIELDS: Final = (
    "name",
    "dtype",
    "description",
    "tags",
    "owner",
    "nullable",
    "default",
    "version",
    "derived_from",
    "validation",
    "if_exists",
)
IF_EXISTS_MODES: Final = ("error", "skip", "update")
VALIDATION_LEVELS: Final = ("strict", "standard", "permissive")


@dataclass(frozen=True)
class FeatureDefinition:
    name: str
    dtype: str
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    owner: str | None = None
    nullable: bool = True
    has_default: bool = False
    default: Any = None
    version: str | None = None
    derived_from: str | None = None
    validation: str = "standard"
    if_exists: str | None = None
    # Which optional fields the caller actually gave (a new version inherits the others).
    given: frozenset[str] = frozenset()

    @property
    def feature_type(self) -> FeatureType:
        return parse_dtype(self.dtype)


def _choice(value: object, allowed: tuple[str, ...], what: str) -> str:
    if isinstance(value, str) and value in allowed:
        return value
    raise InvalidArgumentError(
        f"Invalid {what} {value!r}: use one of {', '.join(repr(a) for a in allowed)}.", {what: repr(value)}
    )


def _check_default(dtype: FeatureType, value: object) -> None:
    """A default must be a value of the feature's type: proven by converting it to Arrow."""
    if value is None:
        return
    target = dtype.arrow_type()
    try:
        pa.array([value], type=target)
        # Typed construction truncates 1.5 into an int64 silently; a safe cast from the
        # inferred array does not, so both must succeed.
        pa.array([value]).cast(target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgumentError(
            f"Default {value!r} is not a value of type {dtype}: {exc}",
            {"default": repr(value), "dtype": str(dtype)},
        ) from exc


def _optional_text(value: object, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidArgumentError(f"{what} must be a string, got {type(value).__name__}.", {what: repr(value)})


def normalize_definition(entry: Mapping[str, Any]) -> FeatureDefinition:
    """Check one definition (keys of :data:`DEFINITION_FIELDS`) and return it normalised."""
    unknown = [k for k in entry if k not in DEFINITION_FIELDS]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(str(key), DEFINITION_FIELDS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else f" Known fields: {', '.join(DEFINITION_FIELDS)}."
        raise InvalidArgumentError(f"Unknown field {key!r}.{hint}", {"field": str(key)})
    if "name" not in entry:
        raise InvalidArgumentError("Missing field 'name'.", {"field": "name"})
    name = _with_field("name", lambda: validate_feature_name(entry["name"]))
    if entry.get("dtype") is None:
        raise InvalidDtypeError(
            f"Feature {name!r} has no dtype; give one such as 'int64' or 'float32[512]'.", {"field": "dtype"}
        )
    dtype = _with_field("dtype", lambda: parse_dtype(entry["dtype"]))
    nullable = entry.get("nullable", True)
    if not isinstance(nullable, bool):
        raise InvalidArgumentError(f"nullable must be True or False, got {nullable!r}.", {"field": "nullable"})
    has_default = "default" in entry and entry["default"] is not None
    if has_default:
        _with_field("default", lambda: _check_default(dtype, entry["default"]))
    version = entry.get("version")
    if version is not None:
        _with_field("version", lambda: parse_version(version))
    derived_from = _with_field("derived_from", lambda: _optional_text(entry.get("derived_from"), "derived_from"))
    if derived_from is not None and not derived_from.strip():
        raise InvalidArgumentError("derived_from is empty; give an SQL expression.", {"field": "derived_from"})
    return FeatureDefinition(
        name=name,
        dtype=str(dtype),
        description=_with_field("description", lambda: _optional_text(entry.get("description"), "description")),
        tags=_with_field("tags", lambda: validate_tags(entry.get("tags"))),
        owner=_with_field("owner", lambda: _optional_text(entry.get("owner"), "owner")),
        nullable=nullable,
        has_default=has_default,
        default=entry.get("default"),
        version=version,
        derived_from=derived_from.strip() if derived_from else None,
        validation=_with_field(
            "validation",
            lambda: _choice(entry.get("validation", "standard"), VALIDATION_LEVELS, "validation"),
        ),
        if_exists=None
        if entry.get("if_exists") is None
        else _with_field("if_exists", lambda: _choice(entry["if_exists"], IF_EXISTS_MODES, "if_exists")),
        given=frozenset(k for k in ("description", "tags", "owner") if entry.get(k) is not None),
    )


_T = TypeVar("_T")


def _with_field(field_name: str, check: Callable[[], _T]) -> _T:
    """Run ``check`` and tag any coded error it raises with the field it concerns."""
    try:
        result = check()
    except RaiseError as exc:
        exc.details.setdefault("field", field_name)
        raise
    return result


def normalize_definitions(entries: object, source: str = "features") -> list[FeatureDefinition]:
    """Normalise a list of definitions; an error names the entry's position and field."""
    if not isinstance(entries, list | tuple):
        raise InvalidArgumentError(
            f"{source} must be a list of feature definitions (dicts), got {type(entries).__name__}.",
            {"source": source},
        )
    out: list[FeatureDefinition] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise InvalidArgumentError(
                f"{source}[{index}] must be a mapping with at least 'name' and 'dtype', got {entry!r}.",
                {"index": index},
            )
        try:
            out.append(normalize_definition(entry))
        except RaiseError as exc:
            _locate(exc, source, index)
            raise
    return out


def _locate(exc: RaiseError, source: str, index: int) -> None:
    where = f"{source}[{index}]"
    fld = exc.details.get("field")
    if fld:
        where += f".{fld}"
    exc.details["index"] = index
    exc.message = f"{where}: {exc.message}"
    exc.args = (exc.message,)


def definitions_from_schema(schema: object) -> list[dict[str, Any]]:
    """``{"clicks": "int64", "emb": Embedding(512), "x": {"dtype": ..., "description": ...}}`` → dicts."""
    if not isinstance(schema, Mapping):
        raise InvalidArgumentError(
            f"The schema must be a dict of name → dtype, got {type(schema).__name__}.",
            {"schema": repr(schema)},
        )
    out: list[dict[str, Any]] = []
    for name, spec in schema.items():
        if isinstance(spec, Mapping):
            out.append({"name": name, **spec})
        else:
            out.append({"name": name, "dtype": spec})
    return out


def load_definitions_file(path: str | Path) -> list[dict[str, Any]]:
    """Read a features.yaml / .yml / .json file (README *From YAML File*): a ``features:`` list."""
    p = Path(path)
    if not p.is_file():
        raise InvalidFileError(f"No such file: {str(p)!r}.", {"path": str(p)})
    suffix = p.suffix.lower()
    text = p.read_text(encoding="utf-8")
    if suffix not in (".yaml", ".yml", ".json"):
        raise InvalidFileError(
            f"Cannot read {p.name!r}: use a .yaml, .yml or .json file.", {"path": str(p), "suffix": suffix}
        )
    try:
        data: Any = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InvalidFileError(f"Cannot parse {p.name!r}: {exc}", {"path": str(p)}) from exc
    entries = data.get("features") if isinstance(data, Mapping) else data
    if not isinstance(entries, list):
        raise InvalidFileError(f"{p.name!r} must hold a top-level 'features:' list of definitions.", {"path": str(p)})
    return [dict(e) if isinstance(e, Mapping) else e for e in entries]
