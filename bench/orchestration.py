"""Orchestration (issue 21, *Speed*): the overhead of one run of a job through each path against
calling the job's code directly in the same run: the internal path (``job.run()``, aim: overhead
< 200 ms), Airflow's ``airflow dags test`` (reported), and the Kubernetes manifests of 1,000 runs
(generation and validation, aim < 2 s; measured by ``bench/k8s_manifests.py``, run from here).

A script, not a test: it prints one table per part and optionally writes the numbers as JSON.

    .venv/bin/python bench/orchestration.py                     # 200,000 events
    .venv/bin/python bench/orchestration.py --events 20000 --runs 3 --airflow-runs 1

Data and store as in ``bench/jobs.py`` (whose helpers this imports): a fresh temporary store
(``RAISE_HOME``, a SQLite catalog in it through ``RAISE_CATALOG_URL``, ``RAISE_USER``), its
organization opened to its members with an ACL; one Parquet file of ``--events`` events
(``user_id``, ``event_time``, ``revenue``; numpy, fixed seed) and one of ``--tiny-events``. The
job is ``bench/jobs.py``'s daily aggregation (``SELECT user_id, DATE(event_time) AS date,
COUNT(*) AS clicks, SUM(revenue) AS revenue FROM source GROUP BY 1, 2``, full, upserting into a
group keyed by ``user_id``).

1. **Anchor, the job's code directly**: the same SQL run by hand in DuckDB over
   ``read_parquet`` (``.arrow()``), its columns renamed and ``date`` cast as the job does, then
   ``group.write(table, mode="upsert")``.
2. **Internal path**: ``job.run()`` of one job with ``launcher="thread"`` and one with the
   default ``launcher="subprocess"``, each run a fresh run of the same job (the same rows
   upserted again, as the anchor does). ``--runs`` rounds after one warm-up round, the three
   cases interleaved and the order rotating; median and p95, overhead = median(job) −
   median(anchor), with the run's phases (``bench/jobs.py``'s ``run_job``) saying where the
   overhead goes. The same on ``--tiny-events`` events: the fixed cost of a run.
3. **Airflow path**: the job in a second project deployed with
   ``fs.transforms.use_airflow(AirflowConfig(dag_folder=..., raise_command=<.venv/bin/raise>))``
   and ``fs.deploy_job``, its token from ``fs.transforms.issue_token``; the store closed in this
   process (DuckDB admits one process), then ``airflow dags test raise_<job> DATE`` in
   ``.airflow-venv`` (a fresh ``AIRFLOW_HOME``, ``airflow db migrate`` once): the wall time of the
   whole process, ``--airflow-runs`` times, minus part 1's anchor. To split Airflow's own cost
   from Raise's, in the same rounds: ``airflow dags test`` of a trivial DAG with the same four
   tasks doing nothing (two EmptyOperators, two PythonOperators that return), and the two
   commands the DAG's tasks run, called from here: ``raise jobs run`` and ``raise jobs
   run-status``. Skipped, with the reason printed, when ``.airflow-venv/bin/airflow`` is missing.
4. **Manifests**: ``bench/k8s_manifests.py --runs 1000 --rounds --manifest-rounds`` as a
   subprocess; its table is printed as it printed it.

Every group the job writes is checked against the hand-written DuckDB result (a wrong result
stops the script), and every run must succeed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _machine import bytecode_line, machine_info, machine_line
from _timing import percentile, table_lines
from jobs import DAY_US, PHASES, T0_US, as_group_rows, check_group, daily_group, daily_job, events, reference, run_job
from tqdm.auto import tqdm

import raise_
from raise_ import ACL, AirflowConfig, FeatureStore, IncrementalConfig
from raise_.engine import Engine
from raise_.service import DataService

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_VENV = Path(os.environ.get("RAISE_AIRFLOW_VENV", ROOT / ".airflow-venv"))
AIRFLOW = AIRFLOW_VENV / "bin" / "airflow"
RAISE_COMMAND = str(Path(sys.executable).with_name("raise"))

ORG = "bench"
INTERNAL_PROJECT = "bench/orchestration/internal"
AIRFLOW_PROJECT = "bench/orchestration/airflow"
AIRFLOW_JOB = "daily_airflow"
WORKER_USER = "airflow-worker@ops"

AIM_INTERNAL_MS = 200.0  # job.run() − the job's code directly
AIM_MANIFESTS_S = 2.0  # generation + validation of 1,000 manifests
CASES = ("direct", "thread", "subprocess")

TRIVIAL_DAG = '''"""Airflow's own cost: the generated DAG's four tasks, doing nothing."""

from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def transform(**_context):
    return "run-id"


def quality_checks(**_context):
    return None


with DAG(dag_id="trivial", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    start = EmptyOperator(task_id="start")
    transform_task = PythonOperator(task_id="transform", python_callable=transform)
    quality_checks_task = PythonOperator(task_id="quality_checks", python_callable=quality_checks)
    end = EmptyOperator(task_id="end")
    start >> transform_task >> quality_checks_task >> end
'''


# -- data and the anchor --------------------------------------------------------------------------


def write_events(path: Path, rows: int, users: int, days: int, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = events(np.random.default_rng(seed), rows, users, T0_US, T0_US + days * DAY_US)
    pq.write_table(table, path)


def direct(group: Any, folder: Path) -> dict[str, Any]:
    """The job's code by hand: the SQL in DuckDB, the rename and cast, ``group.write(upsert)``."""
    t0 = time.perf_counter()
    rows = as_group_rows(reference(folder))
    result = group.write(rows, mode="upsert")
    return {"wall_s": time.perf_counter() - t0, "rows_written": result.rows_written}


# -- part 2: the internal path --------------------------------------------------------------------


def stats_ms(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1e3 for v in values_s]
    return {"median": statistics.median(ms), "p95": percentile(ms, 95), "min": min(ms), "max": max(ms)}


def bench_internal(
    svc: DataService, fs: FeatureStore, folder: Path, want: pa.Table, label: str, runs: int
) -> dict[str, Any]:
    groups = {case: daily_group(fs, f"{label}_{case}") for case in CASES}
    jobs = {
        launcher: daily_job(
            fs, f"{label}_{launcher}", folder, f"{label}_{launcher}", launcher, IncrementalConfig.full()
        )
        for launcher in CASES[1:]
    }
    entries: dict[str, list[dict[str, Any]]] = {case: [] for case in CASES}
    with tqdm(total=(runs + 1) * len(CASES), desc=f"internal ({label})", unit="run", file=sys.stderr) as bar:
        for r in range(runs + 1):  # round 0 is the warm-up: the first write into each empty group
            for case in CASES[r % 3 :] + CASES[: r % 3]:
                entry = direct(groups[case], folder) if case == "direct" else run_job(svc, jobs[case])
                if r > 0:
                    entries[case].append(entry)
                bar.update()
    checks = {case: check_group(f"{label}_{case}", groups[case], want) for case in CASES}
    out: dict[str, Any] = {"runs": runs, "rows": entries["direct"][-1]["rows_written"], "checks": checks}
    for case in CASES:
        out[case] = stats_ms([e["wall_s"] for e in entries[case]])
        if case != "direct":
            out[case]["phases_ms"] = {
                k: statistics.median(e["phases_s"][k] * 1e3 for e in entries[case]) for k in PHASES
            }
    out["entries"] = entries
    return out


def internal_rows(r: dict[str, Any], events_label: str) -> list[list[str]]:
    base = r["direct"]["median"]
    rows = [
        [
            f"job code directly, {events_label} events",
            f"{base:.0f}",
            f"{r['direct']['p95']:.0f}",
            "—",
            "1.00×",
            "—",
        ]
    ]
    for launcher in CASES[1:]:
        s = r[launcher]
        overhead = s["median"] - base
        rows.append(
            [
                f"job.run(), launcher={launcher}, {events_label} events",
                f"{s['median']:.0f}",
                f"{s['p95']:.0f}",
                f"{overhead:+.0f}",
                f"{s['median'] / base:.2f}×",
                "yes" if overhead < AIM_INTERNAL_MS else "no",
            ]
        )
    return rows


def phase_rows(r: dict[str, Any], events_label: str) -> list[list[str]]:
    return [
        [f"{launcher}, {events_label} events", *(f"{r[launcher]['phases_ms'][k]:.0f}" for k in PHASES)]
        for launcher in CASES[1:]
    ]


# -- part 3: Airflow ------------------------------------------------------------------------------


def airflow_env(airflow_home: Path, dags: Path, **extra: str) -> dict[str, str]:
    """As ``tests/orchestration/airflow_local.py``: nothing of this process's Airflow or Raise
    settings, a fresh home, no examples, quiet logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RAISE_"))}
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__PARALLELISM="2",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def timed(command: list[str], env: dict[str, str], what: str) -> tuple[float, str]:
    """Wall time of ``command`` (it must exit 0) and its stdout."""
    t0 = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{what} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall, done.stdout


def bench_airflow(home: Path, folder: Path, want: pa.Table, reps: int) -> dict[str, Any]:
    fs = FeatureStore(AIRFLOW_PROJECT)
    daily_group(fs, AIRFLOW_JOB)
    job = daily_job(fs, AIRFLOW_JOB, folder, AIRFLOW_JOB, "subprocess", IncrementalConfig.full())
    dags, trivial = home / "dags", home / "dags-trivial"
    trivial.mkdir()
    (trivial / "trivial.py").write_text(TRIVIAL_DAG)
    fs.transforms.use_airflow(config=AirflowConfig(dag_folder=str(dags), raise_command=RAISE_COMMAND), airflow_url=None)
    deployed = fs.deploy_job(job)
    dag_id = deployed.orchestrator_id or f"raise_{AIRFLOW_JOB}"
    token = fs.transforms.issue_token(job).token
    Engine.close_all()  # the DAG's task opens the store itself: DuckDB admits one process

    store = {
        "RAISE_HOME": os.environ["RAISE_HOME"],
        "RAISE_CATALOG_URL": os.environ["RAISE_CATALOG_URL"],
        "RAISE_USER": WORKER_USER,
        "RAISE_JOB_TOKEN": token,
    }
    airflow_home = home / "airflow"
    airflow_home.mkdir()
    migrate_s, _ = timed([str(AIRFLOW), "db", "migrate"], airflow_env(airflow_home, dags), "airflow db migrate")
    raise_env = airflow_env(airflow_home, dags, **store)
    trivial_env = airflow_env(airflow_home, trivial)
    cli_env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RAISE_"))} | store
    target = f"{AIRFLOW_PROJECT}/{AIRFLOW_JOB}"

    series: dict[str, list[float]] = {"dag": [], "trivial": [], "jobs_run": [], "run_status": []}
    with tqdm(total=reps * 3, desc="airflow", unit="process", file=sys.stderr) as bar:
        for i in range(reps):
            date = f"2026-04-{i + 1:02d}"
            for case in ("dag", "trivial", "cli")[i % 3 :] + ("dag", "trivial", "cli")[: i % 3]:
                if case == "dag":
                    wall, _ = timed([str(AIRFLOW), "dags", "test", dag_id, date], raise_env, "airflow dags test")
                    series["dag"].append(wall)
                elif case == "trivial":
                    wall, _ = timed([str(AIRFLOW), "dags", "test", "trivial", date], trivial_env, "dags test trivial")
                    series["trivial"].append(wall)
                else:
                    args = ["--execution-date", f"{date}T00:00:00+00:00", "--external-run-id", f"bench__{i}", "--json"]
                    wall, out = timed([RAISE_COMMAND, "jobs", "run", target, *args], cli_env, "raise jobs run")
                    series["jobs_run"].append(wall)
                    run_id = json.loads(out.strip().splitlines()[-1])["id"]
                    status = [RAISE_COMMAND, "jobs", "run-status", target, run_id, "--json"]
                    wall, _ = timed(status, cli_env, "raise jobs run-status")
                    series["run_status"].append(wall)
                bar.update()

    fs = FeatureStore(AIRFLOW_PROJECT)
    runs = fs.get_job(AIRFLOW_JOB).runs
    bad = [r for r in runs if r.status != "succeeded" or r.trigger != "airflow"]
    if len(runs) != 2 * reps or bad:
        raise SystemExit(f"expected {2 * reps} succeeded airflow runs, got {len(runs)}: {bad[:1]}")
    store_side = [(r.completed_at - r.created_at).total_seconds() for r in runs]
    check = check_group(AIRFLOW_JOB, fs.feature_group(AIRFLOW_JOB), want)
    Engine.close_all()
    out: dict[str, Any] = {
        "reps": reps,
        "dag_id": dag_id,
        "migrate_s": migrate_s,
        "series_s": series,
        "store_side_s": store_side,
        "actors": sorted({r.actor for r in runs}),
        "check": check,
    }
    for key, values in [*series.items(), ("store_side", store_side)]:
        out[key] = stats_ms(values)
    return out


def airflow_lines(r: dict[str, Any], direct_ms: float, n_events: int) -> list[str]:
    dag, trivial = r["dag"]["median"], r["trivial"]["median"]

    def row(label: str, s: dict[str, float], note: str) -> list[str]:
        return [label, f"{s['median']:.0f}", f"{s['min']:.0f}", f"{s['max']:.0f}", note]

    rows = [
        row(f"airflow dags test {r['dag_id']} (the job, {n_events:,} events)", r["dag"], "Raise via Airflow"),
        row("airflow dags test trivial (4 tasks doing nothing)", r["trivial"], "Airflow's own cost"),
        row("raise jobs run (the transform task's command, from a shell)", r["jobs_run"], "in the DAG"),
        row("raise jobs run-status (the quality task's command)", r["run_status"], "in the DAG"),
        row("  of which the store's part (run created → completed)", r["store_side"], "all runs"),
        ["job code directly (part 1's anchor)", f"{direct_ms:.0f}", "", "", "anchor"],
    ]
    lines = table_lines(["Airflow path (ms)", "median", "min", "max", ""], rows)
    overhead = dag - direct_ms
    raise_part = r["jobs_run"]["median"] + r["run_status"]["median"]
    lines += [
        "",
        f"overhead of `airflow dags test` over the job's code: {overhead:,.0f} ms ({dag / direct_ms:.1f}× the "
        f"anchor; aim: report); of it Airflow's own (trivial DAG) {trivial:,.0f} ms, the rest "
        f"{dag - trivial:,.0f} ms against {raise_part:,.0f} ms for the two raise commands from a shell",
        f"{r['reps']} rounds, interleaved; `airflow db migrate` once beforehand {r['migrate_s']:.1f} s (not counted); "
        f"every run succeeded as {', '.join(r['actors'])} (trigger airflow); the group equals the hand-written "
        f"result: {r['check']['ok']}",
    ]
    return lines


# -- part 4: manifests ----------------------------------------------------------------------------


def bench_manifests(home: Path, rounds: int) -> tuple[dict[str, Any], list[str]]:
    out_json = home / "k8s_manifests.json"
    command = [sys.executable, str(Path(__file__).with_name("k8s_manifests.py")), "--runs", "1000"]
    command += ["--rounds", str(rounds), "--json", str(out_json)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"bench/k8s_manifests.py exited {done.returncode}:\n{done.stderr[-3000:]}")
    lines = done.stdout.rstrip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("command:")) + 1
    report = json.loads(out_json.read_text())
    return report, lines[start:]


# -- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="events in the job's Parquet file")
    parser.add_argument("--tiny-events", type=int, default=1_000, help="events for the fixed cost of a run")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case of the internal path")
    parser.add_argument("--airflow-runs", type=int, default=3, help="rounds of `airflow dags test`")
    parser.add_argument("--manifest-rounds", type=int, default=3, help="rounds of bench/k8s_manifests.py")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    machine = machine_info(raise_=raise_.__version__, duckdb=duckdb.__version__, pyarrow=pa.__version__)
    print(machine_line(machine))
    print(f"python {machine['python']}, duckdb {duckdb.__version__}, pyarrow {pa.__version__}")
    print(bytecode_line("every child process and raise command"))
    print(f"command: python bench/orchestration.py {' '.join(sys.argv[1:])}".rstrip(), flush=True)
    report: dict[str, Any] = {"machine": machine, "args": {k: str(v) for k, v in vars(args).items()}}
    started = time.perf_counter()
    sections: list[list[str]] = []
    summary: list[list[str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["RAISE_HOME"] = str(home)
        os.environ["RAISE_CATALOG_URL"] = f"sqlite:///{home / 'catalog.db'}"
        os.environ["RAISE_USER"] = "bench@bench"
        os.environ.pop("RAISE_URL", None)
        os.environ.pop("RAISE_PROJECT", None)
        sizes = {"full": (args.events, home / "events"), "tiny": (args.tiny_events, home / "tiny")}
        for n, folder in sizes.values():
            write_events(folder / "part-0000.parquet", n, args.users, args.days, args.seed)
        fs = FeatureStore(INTERNAL_PROJECT)
        fs.organization().set_acl(ACL(readers=[f"*@{ORG}"], writers=[f"*@{ORG}"]))
        svc = fs._backend
        assert isinstance(svc, DataService)
        wants = {label: reference(folder) for label, (_, folder) in sizes.items()}

        print(f"\n1–2. the job's code directly and the internal path ({args.runs} runs each, medians)", flush=True)
        internal = {
            label: bench_internal(svc, fs, folder, wants[label], label, args.runs)
            for label, (_, folder) in sizes.items()
        }
        report["internal"] = internal
        rows, phases = [], []
        for label, (n, _) in sizes.items():
            rows += internal_rows(internal[label], f"{n:,}")
            phases += phase_rows(internal[label], f"{n:,}")
        lines = table_lines(
            ["internal path (ms)", "median", "p95", "overhead", "÷ direct", f"aim < {AIM_INTERNAL_MS:.0f} ms"], rows
        )
        lines += [
            "",
            "where a run's time goes (median ms per phase; `bench/jobs.py`'s run_job):",
            "",
            *table_lines(["job.run()", *PHASES], phases),
            "",
            f"{args.events:,} events → {internal['full']['rows']:,} (user, day) rows, {args.tiny_events:,} → "
            f"{internal['tiny']['rows']:,}; each case {args.runs} runs after a warm-up, interleaved; every group "
            "equals the hand-written DuckDB result: "
            f"{all(c['ok'] for r in internal.values() for c in r['checks'].values())}",
        ]
        print("\n".join(lines), flush=True)
        sections.append(lines)
        direct_ms = internal["full"]["direct"]["median"]
        for label, (n, _) in sizes.items():
            base = internal[label]["direct"]["median"]
            for launcher in CASES[1:]:
                s = internal[label][launcher]
                summary.append(
                    [
                        f"internal, {launcher}, {n:,} events (ms)",
                        f"{s['median']:.0f}",
                        f"{base:.0f}",
                        f"{s['median'] - base:+.0f}",
                        f"{s['median'] / base:.2f}×",
                        f"overhead < {AIM_INTERNAL_MS:.0f} ms",
                        "yes" if s["median"] - base < AIM_INTERNAL_MS else "no",
                    ]
                )
        Engine.close_all()

        print(f"\n3. Airflow: `airflow dags test` ({args.airflow_runs} rounds)", flush=True)
        if not AIRFLOW.exists():
            reason = f"skipped: {AIRFLOW} is missing (`make airflow` installs Airflow 3 in its own venv)"
            print(reason, flush=True)
            report["airflow"] = {"skipped": reason}
            sections.append([reason])
        else:
            report["airflow"] = a = bench_airflow(home, sizes["full"][1], wants["full"], args.airflow_runs)
            lines = airflow_lines(a, direct_ms, args.events)
            print("\n".join(lines), flush=True)
            sections.append(lines)
            summary.append(
                [
                    f"Airflow dags test, {args.events:,} events (ms)",
                    f"{a['dag']['median']:,.0f}",
                    f"{direct_ms:.0f}",
                    f"{a['dag']['median'] - direct_ms:+,.0f}",
                    f"{a['dag']['median'] / direct_ms:.1f}×",
                    "report",
                    "—",
                ]
            )

        print(f"\n4. Kubernetes manifests for 1,000 jobs (bench/k8s_manifests.py, {args.manifest_rounds} rounds)")
        k8s, lines = bench_manifests(home, args.manifest_rounds)
        report["manifests"] = k8s
        print("\n".join(lines), flush=True)
        sections.append(lines)
        m = k8s["medians_s"]
        summary.append(
            [
                "manifests, 1,000 jobs: generate + validate (s)",
                f"{m['raise']:.2f}",
                f"{m['anchor']:.2f}",
                f"{m['raise'] - m['anchor']:+.2f}",
                f"{m['raise'] / m['anchor']:.2f}×",
                f"< {AIM_MANIFESTS_S:.0f} s",
                "yes" if m["raise"] < AIM_MANIFESTS_S else "no",
            ]
        )

    elapsed = time.perf_counter() - started
    header = ["path", "Raise", "anchor", "overhead", "÷ anchor", "aim", "met"]
    lines = [
        *table_lines(header, summary),
        "",
        "anchor: the job's code directly (DuckDB + group.write) for the runs; the same manifests as dict "
        "literals, validated the same way, for the manifests",
        f"load average at the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}; the whole bench {elapsed:.0f} s",
    ]
    print("\nsummary\n")
    print("\n".join(lines))
    if args.json:
        report["elapsed_s"] = elapsed
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
