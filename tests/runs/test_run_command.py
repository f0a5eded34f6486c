"""``raise run RUN_ID`` executes a pending run in its own process and records the outcome."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from raise_.runs import RunService

HERE = Path(__file__).parent


def raise_run(runs: RunService, run_id: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        RAISE_HOME=str(tmp_path / "home"),
        RAISE_CATALOG_URL=runs.db.url,
        RAISE_USER="runner@acme",
        RAISE_RUN_KINDS=json.dumps(runs.kinds.importable()),
        PYTHONPATH=os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]),
    )
    env.pop("RAISE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "raise_.cli", "run", run_id], env=env, capture_output=True, text=True, timeout=120
    )


def test_raise_run_executes_a_pending_run(runs: RunService, tmp_path: Path) -> None:
    created = runs.create("echo", {"numbers": [20, 22]}, trigger="airflow")
    done = raise_run(runs, created.id, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"run {created.id} completed"
    run = runs.get(created.id)
    assert run.status == "completed" and run.result is not None
    assert run.result["total"] == 42 and run.result["pid"] != os.getpid()
    assert run.runner is not None and run.runner.endswith(f":{run.result['pid']}")


def test_raise_run_reports_a_failed_run_and_a_run_with_nothing_to_do(runs: RunService, tmp_path: Path) -> None:
    failing = runs.create("bad-input")
    done = raise_run(runs, failing.id, tmp_path)
    assert done.returncode == 1
    assert "failed [ValueError] bad input 42" in done.stdout
    again = raise_run(runs, failing.id, tmp_path)
    assert again.returncode == 2 and "is failed, not pending: nothing to run" in again.stderr
    missing = raise_run(runs, "6f1c1c8e-0000-4000-8000-000000000000", tmp_path)
    assert missing.returncode == 2 and "No run" in missing.stderr
