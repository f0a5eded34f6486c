"""A real Airflow 3 on this machine for the orchestration tests: its own venv (``make airflow``),
one ``AIRFLOW_HOME`` per test session (``airflow db migrate`` once), and on demand its API
server, scheduler and DAG processor on loopback.

Nothing here imports Airflow: it runs in ``.airflow-venv`` (its pins are not the project's), so
every use is a subprocess, as Airflow's own workers would run the DAG files Raise writes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("RAISE_AIRFLOW_VENV", ROOT / ".airflow-venv"))
AIRFLOW = VENV / "bin" / "airflow"
PYTHON = VENV / "bin" / "python"
#: The raise command of the project's venv: what the DAG's tasks run.
RAISE_COMMAND = str(Path(sys.executable).with_name("raise"))

_DAGBAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
out = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        "tasks": [t.task_id for t in dag.tasks],
        "edges": sorted([t.task_id, d] for t in dag.tasks for d in t.downstream_task_ids),
        "timetable": type(dag.timetable).__name__,
        "schedule": str(dag.schedule),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "tags": sorted(dag.tags),
        "pools": {t.task_id: t.pool for t in dag.tasks},
        "queues": {t.task_id: t.queue for t in dag.tasks},
        "retries": {t.task_id: t.retries for t in dag.tasks},
        "owner": dag.owner,
        "is_paused_upon_creation": dag.is_paused_upon_creation,
    }
print(json.dumps(out))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalAirflow:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.dags = home / "dags"
        self.dags.mkdir(parents=True, exist_ok=True)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.api_url: str | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RAISE_"))}
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_FOLDER=str(self.dags),
            AIRFLOW__CORE__PARALLELISM="2",
            AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        )
        env.update(extra)
        return env

    def migrate(self) -> None:
        subprocess.run([str(AIRFLOW), "db", "migrate"], env=self.env(), check=True, capture_output=True, timeout=300)

    def dagbag(self, folder: Path) -> dict[str, Any]:
        done = subprocess.run(
            [str(PYTHON), "-c", _DAGBAG, str(folder)], env=self.env(), capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def dags_test(self, dag_id: str, date: str, folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
        """``airflow dags test DAG_ID DATE``: the DAG run for real in this process tree."""
        return subprocess.run(
            [str(AIRFLOW), "dags", "test", dag_id, date],
            env=self.env(AIRFLOW__CORE__DAGS_FOLDER=str(folder), **env),
            capture_output=True,
            text=True,
            timeout=600,
        )

    # -- the API server, scheduler and DAG processor (the REST tests) ---------------------------------

    def start_services(self, **env: str) -> str:
        if self.api_url is not None:
            return self.api_url
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        service_env = self.env(
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{url}/execution/",
            AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="2",
            AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="2",
            **env,
        )
        logs = self.home / "service-logs"
        logs.mkdir(exist_ok=True)
        for name, args in (
            ("api-server", ["api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"]),
            ("scheduler", ["scheduler", "--skip-serve-logs"]),
            ("dag-processor", ["dag-processor"]),
        ):
            out = (logs / f"{name}.log").open("wb")
            self.processes.append(
                subprocess.Popen([str(AIRFLOW), *args], env=service_env, stdout=out, stderr=subprocess.STDOUT)
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2):
                    self.api_url = url
                    return url
            except (urllib.error.URLError, OSError):
                time.sleep(1)
        raise RuntimeError(f"airflow api-server did not answer on {url}: see {logs}")

    def admin_password(self) -> str:
        generated = self.home / "simple_auth_manager_passwords.json.generated"
        return str(json.loads(generated.read_text())["admin"])

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
        self.api_url = None
