"""OpenLineage run events for transformation-job runs: START when a run starts, COMPLETE, FAIL
or ABORT when it ends, sent to an HTTP endpoint (Marquez, DataHub, ...) or a JSON-lines file, and
rebuilt from the catalog by ``raise lineage export``.

:mod:`.events` builds the events with ``openlineage-python``'s typed classes; :mod:`.emitter`
sends them (configured from ``RAISE_OPENLINEAGE_*``); :mod:`.export` writes a project's events
to a file. Only :mod:`.events` and :mod:`.export` need ``openlineage-python`` at import time:
the emitter imports it when it first sends, so a store without it runs jobs as before.
"""

from __future__ import annotations

from raise_.orchestration.openlineage.emitter import LineageEmitter, LineageSettings

__all__ = ["LineageEmitter", "LineageSettings"]
