"""A live table's refresh as a run (DESIGN §8 "Runs"): the handler of kind ``live-refresh``.

The run's spec is ``{"live_table_id", "trigger"}`` and its actor the table's owner (the service
submits it inside :func:`raise_.governance.identity.acting_as`); the handler refreshes through
the store's live-table service and returns the refresh's event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from raise_.errors import error_class_for_code
from raise_.runs.context import RunContext
from raise_.runs.records import RunRecord

__all__ = ["run_live_refresh"]


def run_live_refresh(run: RunRecord, ctx: RunContext) -> Mapping[str, Any]:
    live = ctx.service.live
    with ctx.stage("refresh"):
        event = live.execute_refresh(str(run.spec["live_table_id"]), str(run.spec.get("trigger", "manual")), run.id)
    ctx.metric("rows_processed", event.rows_processed)
    ctx.metric("mode", event.mode)
    if event.status == "failed":  # the run fails with the refresh's coded error (the event records it too)
        raise error_class_for_code(event.error_code or "LIVE_REFRESH_FAILED")(event.error_message or "", {})
    return {"event_id": event.id, "status": event.status, "error_code": event.error_code}
