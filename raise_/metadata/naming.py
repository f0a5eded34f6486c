"""Names of things, their validation, and their physical storage names (PRD §4.2).

Two alphabets, because the two kinds of name live in different places:

- Namespace names (organization, domain, project, feature group) appear in paths and URLs:
  letters, digits, ``-`` and ``_``, starting with a letter or digit (``user-signals``).
- Feature names appear bare inside SQL expressions (``click_count / impressions``), so they
  must be SQL identifiers: letters, digits and ``_``, not starting with a digit. A hyphen
  would read as a minus sign.

Physical mapping: table ``{org}__{domain}__{project}__{group}``, column ``{feature}_{version}``,
lower-cased (DuckDB identifiers are case-insensitive). In namespace names ``-`` becomes ``_``
and, per PRD §4.2 rule 3, an underscore becomes ``_u_``, so ``user-signals`` and
``user_signals`` get different tables. Feature names carry no hyphen and the version suffix is
always ``v<digits>``, so columns need no escaping (``user_embedding_v1``, the PRD's example).
The catalog keeps the physical names with unique constraints, so the rare names that still
collide after lower-casing are refused at creation, not silently merged.

Reserved column names: what a read, ``changes()`` or a training set returns holds the entity keys,
the event time and the features by name, plus columns Raise adds itself. A feature, entity key
or event-time column with one of those names would make the output rename one of the two
(``_commit_1``), so they are refused at creation; likewise a feature named like its group's
entity keys or event time. DuckDB compares names ignoring case, and so does this check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from raise_.errors import InvalidArgumentError, InvalidNameError

__all__ = [
    "COMMIT_COLUMN",
    "DEFAULT_EVENT_TIME",
    "ENTITY_TIME_COLUMN",
    "MAX_NAME_LENGTH",
    "MAX_TAG_LENGTH",
    "ROW_COLUMN",
    "SUPERSEDED_COLUMN",
    "check_group_columns",
    "check_new_feature_name",
    "check_not_reserved",
    "format_version",
    "is_reserved_column",
    "parse_version",
    "physical_column_name",
    "physical_table_name",
    "validate_column_name",
    "validate_feature_name",
    "validate_namespace_name",
    "validate_tags",
]

MAX_NAME_LENGTH: Final = 128
MAX_TAG_LENGTH: Final = 64

_NAMESPACE_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_FEATURE_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TAG_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/+-]*")
_VERSION_RE: Final = re.compile(r"v([1-9][0-9]{0,8})")

# The event-time column of a group that names none (at creation or by its first write).
DEFAULT_EVENT_TIME: Final = "event_time"

# Every column name Raise adds to its outputs or uses while computing them:
COMMIT_COLUMN: Final = "_commit"  # the commit of each row: returned by changes(), kept on every stored row
SUPERSEDED_COLUMN: Final = "_superseded_by"  # the history table's superseding commit
ROW_COLUMN: Final = "__raise_row"  # a row's position in the data written or the entity frame
ENTITY_TIME_COLUMN: Final = "__raise_entity_time"  # a training set's entity time, as UTC
_RESERVED_NAMES: Final = frozenset({COMMIT_COLUMN, SUPERSEDED_COLUMN})
# Names starting with "__" (ROW_COLUMN, ENTITY_TIME_COLUMN and any later working column), and the
# aliases a query plan gives features and joined groups' times (_n0, _n1, ...; _t0, _t1, ...).
_RESERVED_RE: Final = re.compile(r"__.*|_[nt][0-9]+", re.IGNORECASE)
_RESERVED_TEXT: Final = (
    "'_commit', '_superseded_by', names starting with '__', and '_n' or '_t' followed by digits are "
    "reserved for the columns Raise adds"
)


def _check_length(kind: str, name: str) -> None:
    if not name:
        raise InvalidNameError(f"The {kind} name is empty; give a name such as 'user-signals'.", {"kind": kind})
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(
            f"The {kind} name {name[:40]!r}... is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}.",
            {"kind": kind, "name": name, "length": len(name)},
        )


def _first_bad_char(name: str, allowed: re.Pattern[str], first: re.Pattern[str]) -> tuple[int, str]:
    if not first.fullmatch(name[0]):
        return 0, name[0]
    for i, ch in enumerate(name):
        if not allowed.fullmatch(ch):
            return i, ch
    return -1, ""


def validate_namespace_name(kind: str, name: object) -> str:
    """Check an organization/domain/project/group name and return it."""
    if not isinstance(name, str):
        raise InvalidNameError(f"The {kind} name must be a string, got {type(name).__name__}.", {"kind": kind})
    _check_length(kind, name)
    if not _NAMESPACE_RE.fullmatch(name):
        pos, ch = _first_bad_char(name, re.compile(r"[A-Za-z0-9_-]"), re.compile(r"[A-Za-z0-9]"))
        raise InvalidNameError(
            f"Invalid {kind} name {name!r}: character {ch!r} at position {pos} is not allowed; "
            f"use letters, digits, '-' and '_', starting with a letter or digit (e.g. 'user-signals').",
            {"kind": kind, "name": name, "position": pos},
        )
    return name


def validate_feature_name(name: object) -> str:
    """Check a feature name (an SQL identifier) and return it."""
    if not isinstance(name, str):
        raise InvalidNameError(f"The feature name must be a string, got {type(name).__name__}.", {"kind": "feature"})
    _check_length("feature", name)
    if not _FEATURE_RE.fullmatch(name):
        pos, ch = _first_bad_char(name, re.compile(r"[A-Za-z0-9_]"), re.compile(r"[A-Za-z_]"))
        hint = f" Try {name.replace('-', '_')!r}." if "-" in name else ""
        raise InvalidNameError(
            f"Invalid feature name {name!r}: character {ch!r} at position {pos} is not allowed; feature names are "
            f"used in SQL expressions, so use letters, digits and '_', not starting with a digit.{hint}",
            {"kind": "feature", "name": name, "position": pos},
        )
    return name


def validate_column_name(what: str, name: str) -> str:
    """Check an entity-key (``what="entity key"``) or event-time (``"event_time"``) column name:
    an SQL identifier like a feature name, and not reserved."""
    try:
        validate_feature_name(name)
    except InvalidNameError as exc:
        raise InvalidArgumentError(
            f"Invalid {what} column {name!r}: {exc.message.split(': ', 1)[-1]}", {what: name}
        ) from exc
    return check_not_reserved("event-time column" if what == "event_time" else what, name)


def is_reserved_column(name: str) -> bool:
    """Whether ``name`` is one of the column names Raise adds to what it returns or computes."""
    return name.lower() in _RESERVED_NAMES or _RESERVED_RE.fullmatch(name) is not None


def check_not_reserved(kind: str, name: str) -> str:
    """INVALID_NAME for a feature, entity-key or event-time name Raise reserves; else ``name``."""
    if is_reserved_column(name):
        better = name.strip("_") or "value"
        raise InvalidNameError(
            f"The {kind} name {name!r} is reserved: {_RESERVED_TEXT}. Choose another name, e.g. {better!r}.",
            {"kind": kind, "name": name, "reason": "reserved"},
        )
    return name


def check_group_columns(features: Iterable[str], entity_keys: Iterable[str] | None, event_time: str) -> None:
    """INVALID_NAME when a feature has the name of an entity key or of the event-time column
    (ignoring case): both would be columns of the group's outputs."""
    columns = {k.lower(): f"entity key {k!r}" for k in entity_keys or []}
    columns[event_time.lower()] = f"event-time column {event_time!r}"
    for feature in features:
        clash = columns.get(feature.lower())
        if clash is not None:
            raise InvalidNameError(
                f"Feature {feature!r} has the name of the group's {clash}: reads return both as columns, so "
                "a feature cannot share it (names compare ignoring case). Choose another feature name, "
                f"e.g. {feature + '_value'!r}.",
                {"kind": "feature", "name": feature, "column": clash.split(" ")[-1].strip("'"), "reason": "clash"},
            )


def check_new_feature_name(name: str, entity_keys: Iterable[str] | None, event_time: str | None) -> None:
    """What a new feature's name must avoid: the reserved names, and its group's entity keys and
    event-time column (the default one while the group has none)."""
    check_not_reserved("feature", name)
    check_group_columns([name], entity_keys, event_time or DEFAULT_EVENT_TIME)


def validate_tags(tags: object) -> list[str]:
    """Normalise a tag list: strings, deduplicated, order kept."""
    if tags is None:
        return []
    if isinstance(tags, str) or not isinstance(tags, list | tuple | set | frozenset):
        raise InvalidArgumentError(
            f"tags must be a list of strings, got {tags!r}; write tags=['embedding', 'prod'].",
            {"tags": repr(tags)},
        )
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not _TAG_RE.fullmatch(tag) or len(tag) > MAX_TAG_LENGTH:
            raise InvalidArgumentError(
                f"Invalid tag {tag!r}: tags are up to {MAX_TAG_LENGTH} characters of letters, digits and _.:/+-, "
                "starting with a letter or digit.",
                {"tag": repr(tag)},
            )
        if tag not in out:
            out.append(tag)
    return out


def parse_version(version: object) -> int:
    """``'v3'`` → 3; anything else is an error that shows the expected form."""
    if isinstance(version, str):
        m = _VERSION_RE.fullmatch(version)
        if m:
            return int(m.group(1))
    raise InvalidArgumentError(
        f"Invalid version {version!r}: versions are written v1, v2, v3, ...", {"version": repr(version)}
    )


def format_version(number: int) -> str:
    return f"v{number}"


def _physical_component(name: str) -> str:
    return name.lower().replace("_", "_u_").replace("-", "_")


def physical_table_name(org: str, domain: str, project: str, group: str) -> str:
    """``acme/mlplatform/recommendation/user-signals`` → ``acme__mlplatform__recommendation__user_signals``."""
    return "__".join(_physical_component(part) for part in (org, domain, project, group))


def physical_column_name(feature: str, version: str) -> str:
    """``user_embedding`` @ ``v1`` → ``user_embedding_v1``."""
    return f"{feature.lower()}_{version}"
