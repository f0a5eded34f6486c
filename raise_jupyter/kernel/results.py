"""What the magics return: plain SDK values with a display that suits a notebook.

Each is a real value (a DataFrame, a list of features, ...) so ``_`` and ``-o`` give something to work
with, and each renders as readable text (nbval compares text) and as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from raise_.client.feature import Feature
from raise_.client.jobs import Job, JobRun
from raise_.client.lineage import Lineage
from raise_.client.live import LiveTable
from raise_.expressions.model import ValidationResult

__all__ = ["DEFAULT_PREVIEW_ROWS", "CreatedFeatures", "DerivedFeature", "JobShown", "LiveTableShown", "QueryResult"]

DEFAULT_PREVIEW_ROWS = 20


class QueryResult(pd.DataFrame):
    """The whole result of ``%%raise sql`` as a DataFrame; its display shows the first rows and the count.

    Anything computed from it (``.head()``, ``.groupby()``, ...) is a plain ``pandas.DataFrame``.
    """

    _metadata = ["preview_rows"]  # noqa: RUF012 - pandas' own protocol for subclass attributes
    preview_rows: int = DEFAULT_PREVIEW_ROWS

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    @classmethod
    def of(cls, frame: pd.DataFrame, preview_rows: int = DEFAULT_PREVIEW_ROWS) -> QueryResult:
        result = cls(frame)
        result.preview_rows = preview_rows
        return result

    @property
    def truncated(self) -> bool:
        return len(self) > self.preview_rows

    def _footer(self) -> str:
        return f"{len(self):,} rows × {len(self.columns)} columns (showing the first {self.preview_rows:,})"

    def __repr__(self) -> str:
        if not self.truncated:
            return pd.DataFrame.__repr__(self)
        return f"{pd.DataFrame(self.head(self.preview_rows))!r}\n[{self._footer()}]"

    def _repr_html_(self) -> str | None:
        if not self.truncated:
            return pd.DataFrame._repr_html_(self)
        head = pd.DataFrame(self.head(self.preview_rows))._repr_html_() or ""
        return f"{head}<p>{escape(self._footer())}</p>"


def _feature_line(feature: Feature) -> list[str]:
    what = f"= {feature.derived_from}" if feature.derived_from else (feature.description or "")
    tags = f"[{', '.join(feature.tags)}]" if feature.tags else ""
    return [f"{feature.name}@{feature.version}", str(feature.dtype), " ".join(what.split()), tags]


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


_NEW_GROUP = "(its entity keys and event time are fixed by its first write)."


class CreatedFeatures(list[Feature]):
    """The features ``%%raise features`` created (or found, with ``--if-exists skip``), in body order;
    ``created_group`` when the cell also created their group."""

    def __init__(self, group_path: str, features: list[Feature], *, created_group: bool = False) -> None:
        super().__init__(features)
        self.group_path = group_path
        self.created_group = created_group

    def __repr__(self) -> str:
        noun = "feature" if len(self) == 1 else "features"
        lines = [f"Created feature group {self.group_path} {_NEW_GROUP}"] if self.created_group else []
        lines.append(f"{len(self)} {noun} in {self.group_path}:")
        lines += ["  " + line for line in _columns([_feature_line(f) for f in self])]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in _feature_line(f)) + "</tr>" for f in self
        )
        created = (
            f"<p>Created feature group <code>{escape(self.group_path)}</code> {escape(_NEW_GROUP)}</p>"
            if self.created_group
            else ""
        )
        return (
            f"{created}<p><b>{len(self)}</b> feature(s) in <code>{escape(self.group_path)}</code></p>"
            "<table><thead><tr><th>feature</th><th>dtype</th><th>definition</th><th>tags</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


@dataclass
class DerivedFeature:
    """What ``%%raise derive`` made: the feature, what validation inferred, and its lineage."""

    feature: Feature
    validation: ValidationResult
    lineage: Lineage

    def _lines(self) -> list[str]:
        f = self.feature
        lines = [f"Created {f.group}/{f.name}@{f.version} ({f.dtype}) = {' '.join((f.derived_from or '').split())}"]
        if self.validation.inferred_type is not None:
            lines.append(f"inferred type: {self.validation.inferred_type}")
        reads = [r.qualified_name or r.name for r in self.validation.references if r.kind == "feature"]
        if reads:
            lines.append(f"reads: {', '.join(reads)}")
        lines += [f"warning: {w}" for w in self.validation.warnings]
        return lines

    def __repr__(self) -> str:
        return "\n".join([*self._lines(), "lineage:", self.lineage.as_graph().to_ascii()])

    def _repr_html_(self) -> str:
        head = "".join(f"<div>{escape(line)}</div>" for line in self._lines())
        return f"{head}<pre>{escape(self.lineage.as_graph().to_ascii())}</pre>"

    def __getattr__(self, name: str) -> Any:
        # `_.name`, `_.dtype`, `_.get_lineage()`: the result stands in for the feature it created.
        if name.startswith("_"):  # display hooks (_repr_*_) must not be borrowed from the feature
            raise AttributeError(name)
        return getattr(self.feature, name)


@dataclass
class LiveTableShown:
    """What ``%raise live`` shows: the live table and the first rows of ``table.query()``.

    ``how`` is ``"created"`` (the cell created it), ``"existing"`` (the cell found one of that name
    and opened it as it is: its body changed nothing) or ``"opened"`` (the line form). The result
    stands in for the table (``_.refresh()``, ``_.query(...)``, ``_.status``).
    """

    table: LiveTable
    rows: pd.DataFrame
    how: str

    def headline(self) -> str | None:
        t = self.table
        if self.how == "created":
            return f"Created live table {t.name} in {t.group}."
        if self.how == "existing":
            return (
                f"Live table {t.name} already exists in {t.group}: opened it as it is "
                "(this cell's definition was not applied; delete the table to define it again)."
            )
        return None

    def _footer(self) -> str | None:
        total = self.table.row_count
        if total <= len(self.rows):
            return None
        return f"{total:,} rows × {len(self.rows.columns)} columns (showing the first {len(self.rows):,})"

    def __repr__(self) -> str:
        lines = [line for line in (self.headline(), repr(self.table)) if line]
        lines.append(repr(self.rows) if len(self.rows.columns) else "(no columns)")
        footer = self._footer()
        if footer:
            lines.append(f"[{footer}]")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        headline, footer = self.headline(), self._footer()
        parts = [f"<p>{escape(headline)}</p>"] if headline else []
        parts.append(self.table._repr_html_())
        parts.append(self.rows._repr_html_() or "")
        if footer:
            parts.append(f"<p>{escape(footer)}</p>")
        return "".join(parts)

    def __getattr__(self, name: str) -> Any:
        # display hooks (_repr_*_) must not be borrowed from the table, nor its own fields before they are set
        if name.startswith("_") or name in ("table", "rows", "how"):
            raise AttributeError(name)
        return getattr(self.table, name)


@dataclass
class JobShown:
    """What ``%raise job`` shows: the job and, with ``--run``, the run the cell started.

    ``how`` is ``"created"`` (the cell created it, a draft) or ``"opened"`` (no body: the job as it
    is). The result stands in for the job (``_.run()``, ``_.activate()``, ``_.runs``).
    """

    job: Job
    how: str
    job_run: JobRun | None = None

    def headline(self) -> str | None:
        if self.how == "created":
            return f"Created job {self.job.name} in {self.job.project} ({self.job.status})."
        return None

    def __repr__(self) -> str:
        lines = [line for line in (self.headline(), repr(self.job)) if line]
        if self.job_run is not None:
            lines.append(repr(self.job_run))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        headline = self.headline()
        parts = [f"<p>{escape(headline)}</p>"] if headline else []
        parts.append(self.job._repr_html_())
        if self.job_run is not None:
            parts.append(self.job_run._repr_html_())
        return "".join(parts)

    def __getattr__(self, name: str) -> Any:
        # display hooks (_repr_*_) must not be borrowed from the job, nor its own fields before they are set
        if name.startswith("_") or name in ("job", "how", "job_run"):
            raise AttributeError(name)
        return getattr(self.job, name)
