"""Records to look at (README *Record Lookup*).

``sample=n`` picks ``n`` rows by a hash of each row's keys, event time and the ``seed``: the same
seed over the same data gives the same records, whatever the number of threads, and a write
only changes the sample where it adds or replaces rows. ``limit=n`` gives the first rows in key
and time order. ``filter`` was compiled by the service (parsed, columns checked, values bound).
"""

from __future__ import annotations

from typing import Any

from raise_.analytics.frame import Frame, plain_rows
from raise_.analytics.specs import RecordLookup
from raise_.storage.offline_store import quote

__all__ = ["run_record_lookup"]


def run_record_lookup(
    frame: Frame, spec: RecordLookup, columns: list[str], where_sql: str | None, where_params: dict[str, Any]
) -> dict[str, Any]:
    keys = [quote(k) for k in [*frame.keys, frame.event_time]]
    select = ", ".join([*keys, *(quote(c) for c in columns)])
    where = f" WHERE {where_sql}" if where_sql else ""
    params = dict(where_params)
    if spec.sample is not None:
        order = f"hash({', '.join(keys)}, $_l_seed)"
        params.update(_l_seed=spec.seed, _l_n=spec.sample)
    else:
        order = ", ".join(keys)
        params["_l_n"] = spec.limit
    table = frame.query(f"SELECT {select} FROM rows{where} ORDER BY {order} LIMIT $_l_n", params)
    return {
        "columns": [*frame.keys, frame.event_time, *columns],
        "records": plain_rows(table),
        "sample": spec.sample,
        "seed": spec.seed if spec.sample is not None else None,
        "filter": spec.filter,
    }
