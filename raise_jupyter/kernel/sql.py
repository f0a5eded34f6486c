"""``%%raise sql``: the cell is a query for ``fs.sql`` (:mod:`raise_.query`), run in the store.

The door only does what belongs to a notebook: ``{{name}}`` takes the value of the notebook's
variable ``name``, and a refusal reads as one of ``%%raise sql``. Parsing, access checks, the audit
log and the pushdown of columns and filters are the query service's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from raise_.client.store import FeatureStore
from raise_.errors import InvalidArgumentError, InvalidExpressionError
from raise_.query import parameter_names

__all__ = ["run_sql"]

_READS_ONLY = "SQL over feature groups only reads"


def run_sql(store: FeatureStore, text: str, namespace: Mapping[str, Any] | None = None) -> pa.Table:
    """Run one SELECT over the feature groups of ``store``'s project; ``{{name}}`` binds ``namespace[name]``."""
    namespace = namespace or {}
    params: dict[str, Any] = {}
    for name in parameter_names(text):
        if name not in namespace:
            raise InvalidArgumentError(f"{{{{{name}}}}}: the notebook has no variable {name!r}.", {"parameter": name})
        params[name] = namespace[name]
    try:
        return store.sql(text, params).to_arrow()
    except InvalidExpressionError as exc:
        if exc.message.startswith(_READS_ONLY):
            message = "%%raise sql only reads" + exc.message[len(_READS_ONLY) :]
            raise InvalidExpressionError(message, exc.details) from None
        raise
