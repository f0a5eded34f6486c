"""``Dataset``: feature data handed back to the user, Arrow end to end."""

from __future__ import annotations

from html import escape
from typing import Any

import pyarrow as pa

__all__ = ["Dataset"]

_PREVIEW_ROWS = 10


class Dataset:
    """Rows of feature data. Convert with ``to_pandas()``, ``to_arrow()`` or ``to_polars()``."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def to_arrow(self) -> pa.Table:
        return self._table

    def to_pandas(self) -> Any:
        return self._table.to_pandas()

    def to_polars(self) -> Any:
        import polars as pl

        return pl.from_arrow(self._table)

    @property
    def columns(self) -> list[str]:
        return list(self._table.column_names)

    @property
    def schema(self) -> pa.Schema:
        return self._table.schema

    def __len__(self) -> int:
        return int(self._table.num_rows)

    def __repr__(self) -> str:
        return f"Dataset({len(self)} rows × {len(self.columns)} columns: {', '.join(self.columns)})"

    def _repr_html_(self) -> str:
        head = self._table.slice(0, _PREVIEW_ROWS).to_pylist()
        cols = self.columns
        header = "".join(f"<th>{escape(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{escape(_short(row[c]))}</td>" for c in cols) + "</tr>" for row in head)
        more = f"<p>{len(self) - _PREVIEW_ROWS:,} more rows</p>" if len(self) > _PREVIEW_ROWS else ""
        return (
            f"<p><b>Dataset</b>: {len(self):,} rows × {len(cols)} columns</p>"
            f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>{more}"
        )


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
