"""SQL over feature groups (``fs.sql``, ``%%raise sql``): one SELECT, run inside the offline store
over the rows each group shows its reader, with projections and filters pushed down."""

from __future__ import annotations

from raise_.query.parameters import bind_parameters, parameter_names, plain_value
from raise_.query.records import BoundQuery, GroupScan
from raise_.query.service import QueryService

__all__ = ["BoundQuery", "GroupScan", "QueryService", "bind_parameters", "parameter_names", "plain_value"]
