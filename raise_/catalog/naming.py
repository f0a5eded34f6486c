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
"""

from __future__ import annotations

import re
from typing import Final

from raise_.errors import InvalidArgumentError, InvalidNameError

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_TAG_LENGTH",
    "format_version",
    "parse_version",
    "physical_column_name",
    "physical_table_name",
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
