"""Run one job of the embedded store at ``RAISE_HOME`` in this process (the process that owns the
store), as a scheduler or a user would; print how the run ended. The exactly-once test starts it
with ``RAISE_JOB_FAULT`` set so that a process dies at a chosen point."""

from __future__ import annotations

import json
import sys

from raise_ import FeatureStore

if __name__ == "__main__":
    fs = FeatureStore("acme/mlplatform/recommendation")
    run = fs.get_job(sys.argv[1]).run(timeout=120)
    print(json.dumps({"status": run.status, "error_code": run.error_code, "rows_written": run.rows_written}))
