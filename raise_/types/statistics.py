"""Which summary statistics fit a dtype: what a feature's detail shows (the sidebar reads them from
the feature record's ``statistics``, so no client re-parses dtype strings).

Numbers get the moments and extremes; flags and text their counts; times their extremes; anything
else (bytes, arrays, embeddings, structs, blob references) only how many values it has.
"""

from __future__ import annotations

import functools
from typing import Final

from raise_.types.dtypes import Bool, FloatType, IntegerType, String, Timestamp
from raise_.types.parser import parse_dtype

__all__ = ["summary_statistics"]

_NUMBER: Final = ("count", "null_rate", "min", "max", "avg", "stddev", "distinct_count")
_CATEGORY: Final = ("count", "null_rate", "distinct_count")
_TIME: Final = ("count", "null_rate", "min", "max", "distinct_count")
_OTHER: Final = ("count", "null_rate")


@functools.lru_cache(maxsize=512)
def summary_statistics(dtype: str) -> tuple[str, ...]:
    """The aggregation metrics of a feature's summary, in the order it shows them."""
    try:
        parsed = parse_dtype(dtype)
    except Exception:  # a dtype this version cannot read: show what fits any value
        return _OTHER
    if isinstance(parsed, IntegerType | FloatType):
        return _NUMBER
    if isinstance(parsed, Bool | String):
        return _CATEGORY
    if isinstance(parsed, Timestamp):
        return _TIME
    return _OTHER
