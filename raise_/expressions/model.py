"""What validation says about an expression: its references, issues and inferred type
(README *Validation*: ``ValidationResult(valid, inferred_type, references, errors, warnings)``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from raise_.expressions.syntax import Position
from raise_.types import FeatureType

__all__ = [
    "LEVELS",
    "NEW_FEATURE_ID",
    "FeatureInfo",
    "GroupInfo",
    "Issue",
    "Reference",
    "ValidationResult",
]

LEVELS: Final = ("strict", "standard", "permissive")
NEW_FEATURE_ID: Final = "<new>"  # the id of the feature being defined, when a name resolves to it


@dataclass(frozen=True)
class GroupInfo:
    id: str
    org_id: str
    domain_id: str
    project_id: str
    org: str
    domain: str
    project: str
    name: str
    entity_keys: tuple[str, ...] | None
    event_time: str | None

    @property
    def path(self) -> str:
        return f"{self.org}/{self.domain}/{self.project}/{self.name}"


@dataclass(frozen=True)
class FeatureInfo:
    """One feature version, as much of it as expressions need."""

    id: str
    group: GroupInfo
    name: str
    version: str
    dtype: FeatureType
    derived_from: str | None
    status: str

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def qualified_name(self) -> str:
        return f"{self.group.path}/{self.label}"


@dataclass(frozen=True)
class Issue:
    """An error or a warning, with a stable ``code`` and where it is in the text."""

    code: str
    message: str
    severity: str = "error"  # or "warning"
    position: Position | None = None

    @property
    def line(self) -> int | None:
        return self.position.line if self.position else None

    @property
    def column(self) -> int | None:
        return self.position.column if self.position else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "severity": self.severity}
        if self.position is not None:
            out.update(offset=self.position.offset, line=self.position.line, column=self.position.column)
        return out

    def __str__(self) -> str:
        where = f" ({self.position.describe()})" if self.position else ""
        return f"{self.code}{where}: {self.message}"


@dataclass(frozen=True)
class Reference:
    """A name the expression uses: a feature (maybe of another group or org), an entity key
    or the event-time column."""

    name: str  # as written, e.g. "user-signals.click_count@v2"
    kind: str  # "feature", "entity_key" or "event_time"
    scope: str  # "group", "project", "domain", "org" or "external"
    feature: FeatureInfo | None = None  # None for keys, the event time, and unresolved names
    pinned: bool = False  # written with @vN
    position: Position | None = None

    @property
    def resolved(self) -> bool:
        return self.feature is not None or self.kind != "feature"

    @property
    def qualified_name(self) -> str | None:
        return self.feature.qualified_name if self.feature else None

    @property
    def dtype(self) -> FeatureType | None:
        return self.feature.dtype if self.feature else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "scope": self.scope,
            "feature": self.qualified_name,
            "dtype": str(self.dtype) if self.dtype else None,
            "pinned": self.pinned,
        }

    def __repr__(self) -> str:
        target = f" → {self.qualified_name}" if self.feature else ""
        return f"Reference({self.name!r}{target})"


@dataclass(frozen=True)
class ValidationResult:
    valid: bool
    inferred_type: FeatureType | None
    references: list[Reference] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    level: str = "standard"

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "inferred_type": str(self.inferred_type) if self.inferred_type else None,
            "references": [r.to_dict() for r in self.references],
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
            "level": self.level,
        }

    def __repr__(self) -> str:
        head = "valid" if self.valid else f"invalid, {len(self.errors)} error(s)"
        inferred = f", inferred_type={self.inferred_type}" if self.inferred_type else ""
        lines = [f"ValidationResult({head}{inferred}, references={[r.name for r in self.references]})"]
        lines += [f"  error   {e}" for e in self.errors]
        lines += [f"  warning {w}" for w in self.warnings]
        return "\n".join(lines)
