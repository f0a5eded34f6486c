"""Transforms: SQL in a DuckDB that reaches nothing but the job's sources, template variables bound
(never pasted), Python functions over every input format, the hybrid, and errors that say what
the transform did wrong and where. User code runs in the run's own process: a crash, exit or
out-of-memory there fails the run, never the store."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from job_data import click_events, write_parquet

from raise_ import FeatureStore, FileSystem, HybridTransform, SQLTransform, Target, python_transform
from raise_.client import FeatureGroup
from raise_.errors import InvalidJobError


@pytest.fixture
def store_env(fresh_store: Path) -> Path:
    return fresh_store


@pytest.fixture
def events(tmp_path: Path) -> pd.DataFrame:
    frame = click_events(300, seed=7)
    write_parquet(frame, tmp_path / "events" / "events.parquet")
    return frame


@pytest.fixture
def totals(open_org: FeatureStore) -> FeatureGroup:
    group = open_org.create_feature_group("totals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"clicks": "int64", "revenue": "float64", "label": "string"})
    return group


def job_with(fs: FeatureStore, transform: object, tmp_path: Path, name: str = "t", **kw: object) -> object:
    return fs.create_job(
        name=name,
        sources=[FileSystem(path=str(tmp_path / "events"), format="parquet", name="clickstream")],
        transform=transform,
        target=Target(feature_group="totals"),
        **kw,
    )


def per_user(events: pd.DataFrame) -> pd.DataFrame:
    return (
        events.groupby("user_id")
        .agg(clicks=("user_id", "size"), revenue=("revenue", "sum"), event_time=("event_time", "max"))
        .reset_index()
    )


SQL_TOTALS = (
    "SELECT user_id, max(event_time) AS event_time, count(*) AS clicks, sum(revenue) AS revenue "
    "FROM clickstream GROUP BY user_id"
)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_parquet('/etc/hosts')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM glob('/*')",
        "SELECT * FROM '/etc/hosts'",
        "SELECT * FROM totals",
        "SELECT * FROM _raise_commits",
        "ATTACH '/tmp/x.db' AS x",
        "COPY (SELECT 1) TO '/tmp/raise-leak.csv'",
        "INSTALL httpfs",
        "CREATE TABLE t AS SELECT 1",
        "SELECT 1; SELECT 2",
        "SET enable_external_access = true",
    ],
)
def test_sql_reaches_nothing_but_the_sources(
    open_org: FeatureStore, totals: FeatureGroup, events: pd.DataFrame, tmp_path: Path, sql: str
) -> None:
    run = job_with(open_org, SQLTransform(name="escape", sql=sql), tmp_path).run()
    assert (run.status, run.error_code) == ("failed", "TRANSFORM_FAILED"), run.error
    assert run.error.startswith("transform escape")
    assert len(totals.read().to_pandas()) == 0
    assert not Path("/tmp/raise-leak.csv").exists()


def test_template_variables_are_bound_values(open_org: FeatureStore, totals: FeatureGroup, tmp_path: Path) -> None:
    events = click_events(50, seed=1)
    write_parquet(events, tmp_path / "events" / "events.parquet")
    sql = """
        SELECT user_id, max(event_time) AS event_time, count(*) AS clicks,
               'run {{run_id}}' AS label, sum(revenue) AS revenue
        FROM clickstream GROUP BY user_id
    """
    job = job_with(open_org, SQLTransform(name="bound", sql=sql), tmp_path)
    run = job.run()  # {{run_id}} inside a longer literal would be pasted text: refused
    assert (run.status, run.error_code) == ("failed", "TRANSFORM_FAILED") and "quoted string" in run.error
    sql = """
        SELECT user_id, max(event_time) AS event_time, count(*) AS clicks,
               '{{run_id}}' || '|' || {{label}} AS label,
               sum(revenue) * {{factor}} AS revenue
        FROM clickstream
        WHERE event_time <= '{{execution_date}}'
        GROUP BY user_id
    """
    job.update(
        transform=SQLTransform(name="bound", sql=sql, parameters={"label": "it's; DROP TABLE x --", "factor": 2})
    )
    run = job.run()
    assert run.status == "succeeded", run.error
    got = totals.read().to_pandas().sort_values("user_id")
    want = per_user(events)
    assert set(got["label"]) == {f"{run.id}|it's; DROP TABLE x --"}
    assert got["revenue"].to_numpy() == pytest.approx(2 * want["revenue"].to_numpy())


@pytest.mark.parametrize("fmt", ["pandas", "records", "arrow", "polars"])
def test_python_transform_takes_and_returns_every_format(
    open_org: FeatureStore, totals: FeatureGroup, events: pd.DataFrame, tmp_path: Path, fmt: str
) -> None:
    @python_transform(name="totals", input_format=fmt)
    def totals_of(context, data):
        import pandas as pd
        import pyarrow as pa

        if isinstance(data, pa.Table):
            frame = data.to_pandas()
        elif isinstance(data, list):
            frame = pd.DataFrame.from_records(data)
        elif type(data).__module__.startswith("polars"):
            frame = data.to_pandas()
        else:
            frame = data
        out = (
            frame.groupby("user_id")
            .agg(clicks=("user_id", "size"), revenue=("revenue", "sum"), event_time=("event_time", "max"))
            .reset_index()
        )
        out["label"] = context.job_name + ":" + type(data).__module__.split(".")[0]
        kind = context.parameters.get("return", "pandas")
        if kind == "pandas":
            return out
        return out.to_dict("records")

    run = job_with(open_org, totals_of, tmp_path).run()
    assert run.status == "succeeded", (run.error, run.log)
    got = totals.read().to_pandas().sort_values("user_id").reset_index(drop=True)
    want = per_user(events)
    assert got["clicks"].tolist() == want["clicks"].tolist()
    assert got["revenue"].to_numpy() == pytest.approx(want["revenue"].to_numpy())
    module = {"pandas": "pandas", "records": "builtins", "arrow": "pyarrow", "polars": "polars"}[fmt]
    assert set(got["label"]) == {f"t:{module}"}


def test_hybrid_sql_then_python(
    open_org: FeatureStore, totals: FeatureGroup, events: pd.DataFrame, tmp_path: Path
) -> None:
    @python_transform(name="label")
    def label(context, data):
        data["label"] = ["big" if r > 100 else "small" for r in data["revenue"]]
        return data

    transform = HybridTransform(sql_transform=SQLTransform(name="sums", sql=SQL_TOTALS), python_transform=label)
    run = job_with(open_org, transform, tmp_path).run()
    assert run.status == "succeeded", run.error
    got = totals.read().to_pandas().sort_values("user_id")
    want = per_user(events)
    assert got["label"].tolist() == ["big" if r > 100 else "small" for r in want["revenue"]]


def test_errors_carry_the_transforms_message_and_line(
    open_org: FeatureStore, totals: FeatureGroup, events: pd.DataFrame, tmp_path: Path
) -> None:
    @python_transform(name="broken")
    def broken(context, data):
        rows = len(data)
        ratio = rows / 0  # line 3 of the function
        return ratio

    run = job_with(open_org, broken, tmp_path, name="py").run()
    assert (run.status, run.error_code) == ("failed", "TRANSFORM_FAILED")
    assert "transform broken failed (line 3): ZeroDivisionError: division by zero" in run.error

    sql = "SELECT user_id,\n  count(*) AS clicks\nFROM clickstream\nGROUP BY usr_id"
    run = job_with(open_org, SQLTransform(name="typo", sql=sql), tmp_path, name="sql").run()
    assert run.error_code == "TRANSFORM_FAILED" and "usr_id" in run.error and "(line 4)" in run.error

    @python_transform(name="nothing")
    def nothing(context, data):
        pass

    run = job_with(open_org, nothing, tmp_path, name="none").run()
    assert run.error_code == "TRANSFORM_FAILED" and "returned nothing" in run.error

    @python_transform(name="needs", dependencies=["surely-not-installed-pkg"])
    def needs(context, data):
        return data

    run = job_with(open_org, needs, tmp_path, name="deps").run()
    assert run.error_code == "TRANSFORM_FAILED" and "surely-not-installed-pkg" in run.error
    assert len(totals.read().to_pandas()) == 0

    def plain(context, data):
        return data

    with pytest.raises(InvalidJobError, match="python_transform"):
        job_with(open_org, plain, tmp_path, name="plain")
    with pytest.raises(InvalidJobError, match="process of its own"):
        job_with(open_org, broken, tmp_path, name="thread", launcher="thread")


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ("import os; os.kill(os.getpid(), 9)", "RUN_CRASHED", "SIGKILL"),
        ("import os; os._exit(3)", "RUN_CRASHED", "exited with status 3"),
        ("import sys; sys.exit(2)", "SystemExit", "2"),
        ("blob = bytearray(8 * 1024 ** 3)", "TRANSFORM_FAILED", "MemoryError"),
    ],
)
def test_a_crash_in_user_code_fails_the_run_never_the_store(
    open_org: FeatureStore,
    totals: FeatureGroup,
    events: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: str,
    code: str,
    says: str,
) -> None:
    monkeypatch.setenv("RAISE_RUN_MEMORY_LIMIT", str(3 * 1024**3))  # the run's address space (RLIMIT_AS)
    source = f"def crash(context, data):\n    {body}\n    return data\n"
    namespace: dict[str, object] = {}
    exec(source, namespace)
    from raise_.jobs.transforms import PythonTransform

    transform = PythonTransform(name="crash", function_name="crash", source=source)
    run = job_with(open_org, transform, tmp_path).run()
    assert (run.status, run.error_code) == ("failed", code), run.error
    assert says in run.error
    # the store is fine: the next job writes
    ok = job_with(open_org, SQLTransform(name="ok", sql=SQL_TOTALS), tmp_path, name="after").run()
    assert ok.status == "succeeded" and ok.rows_written == events.user_id.nunique()


def test_cancel_and_timeout(open_org: FeatureStore, totals: FeatureGroup, events: pd.DataFrame, tmp_path: Path) -> None:
    @python_transform(name="slow")
    def slow(context, data):
        import time

        time.sleep(60)
        return data

    job = job_with(open_org, slow, tmp_path, name="slow")
    run = job.run(wait=False)
    deadline = time.monotonic() + 30
    while run.reload().status == "pending" or run.compute_run_id is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    started = time.monotonic()
    run = run.cancel()
    assert run.status == "cancelled" and run.error_code == "RUN_CANCELLED"
    assert time.monotonic() - started < 15

    timed = job_with(open_org, slow, tmp_path, name="timed", timeout=2).run()
    assert (timed.status, timed.error_code) == ("timed_out", "RUN_TIMED_OUT")
    assert len(totals.read().to_pandas()) == 0


def test_a_sql_job_may_run_in_the_stores_process(
    open_org: FeatureStore, totals: FeatureGroup, events: pd.DataFrame, tmp_path: Path
) -> None:
    """``launcher="thread"``: the compute step in the owner's process (no process start-up), the
    same sandbox: the same answer, and the same refusals."""
    run = job_with(open_org, SQLTransform(name="sums", sql=SQL_TOTALS), tmp_path, launcher="thread").run()
    assert run.status == "succeeded", run.error
    got = totals.read().to_pandas().sort_values("user_id")
    want = per_user(events)
    assert got["clicks"].tolist() == want["clicks"].tolist()
    escape = SQLTransform(name="escape", sql="SELECT * FROM read_parquet('/etc/hosts')")
    refused = job_with(open_org, escape, tmp_path, name="escape", launcher="thread").run()
    assert refused.error_code == "TRANSFORM_FAILED"


def crashes_once(marker: Path) -> object:
    """A Python transform whose process exits (status 3) the first time, until ``marker`` exists."""
    from raise_.jobs.transforms import PythonTransform

    source = (
        "def flaky(context, data):\n"
        "    import os\n"
        f"    if not os.path.exists({str(marker)!r}):\n"
        f"        open({str(marker)!r}, 'w').close()\n"
        "        os._exit(3)\n"
        "    out = data.groupby('user_id').agg(clicks=('user_id', 'size'), event_time=('event_time', 'max'))\n"
        "    return out.reset_index()\n"
    )
    return PythonTransform(name="flaky", function_name="flaky", source=source)


def test_a_crashed_attempt_is_retried(
    open_org: FeatureStore, totals: FeatureGroup, events: pd.DataFrame, tmp_path: Path
) -> None:
    flaky = crashes_once(tmp_path / "crashed-once")
    run = job_with(open_org, flaky, tmp_path, retries=2, retry_delay=0).run()
    assert run.status == "succeeded" and run.attempt == 2, (run.error, run.log)
    assert run.rows_written == events.user_id.nunique()
    once = job_with(open_org, flaky, tmp_path, name="no-retry").run()  # marker there: no crash now
    assert once.status == "succeeded" and once.attempt == 1


def test_a_run_to_be_retried_never_looks_finished_between_attempts(
    open_org: FeatureStore, totals: FeatureGroup, events: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status a waiting caller polls right after a failed attempt is `pending`: were it `failed`
    for a moment, run() could return that failure while the retry is still to come (CI saw it)."""
    from raise_.engine import Engine

    jobs = Engine.shared(open_org._settings).service.jobs
    seen: list[str | None] = []
    finish = jobs._finish

    def finish_and_look(job_run_id: str, status: str, **kw: object) -> bool:
        ended = finish(job_run_id, status, **kw)  # type: ignore[arg-type]
        seen.append(jobs._status(job_run_id))  # what a poller sees at this moment
        return ended

    monkeypatch.setattr(jobs, "_finish", finish_and_look)
    flaky = crashes_once(tmp_path / "crashed-once")
    run = job_with(open_org, flaky, tmp_path, retries=2, retry_delay=0).run()
    assert run.status == "succeeded" and run.attempt == 2, (run.error, run.log)
    assert seen[0] == "pending"


def test_a_run_waiting_for_its_retry_is_pending_and_cancel_ends_it(
    open_org: FeatureStore, totals: FeatureGroup, events: pd.DataFrame, tmp_path: Path
) -> None:
    from raise_.jobs.transforms import PythonTransform

    source = "def crash(context, data):\n    import os\n    os._exit(3)\n"
    crash = PythonTransform(name="crash", function_name="crash", source=source)
    job = job_with(open_org, crash, tmp_path, retries=3, retry_delay=600)
    run = job.run(wait=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.reload()
        if run.status == "pending" and run.error_code:
            break
        time.sleep(0.1)
    # The first attempt failed; the run waits for the next one: not finished, the error shown.
    assert run.status == "pending" and run.attempt == 1 and run.error_code == "RUN_CRASHED", (run.status, run.error)
    started = time.monotonic()
    run.cancel()
    run.reload()
    assert run.status == "cancelled" and run.attempt == 1
    assert time.monotonic() - started < 5
    time.sleep(0.5)  # the driver sees the cancel and starts no attempt
    run.reload()
    assert run.status == "cancelled" and run.attempt == 1
    assert job.reload().status == "draft"  # a cancelled run does not make the job failed
    assert totals.read().to_pandas().empty


def test_a_process_ending_while_a_run_waits_for_its_retry_exits_at_once(
    open_org: FeatureStore, totals: FeatureGroup, events: pd.DataFrame, tmp_path: Path
) -> None:
    """The waiting driver does not hold the interpreter's exit for the rest of ``retry_delay``:
    the run ends failed with its last error, saying it was not retried."""
    import subprocess
    import sys

    script = f"""
import time
from raise_ import FeatureStore, FileSystem, Target
from raise_.jobs.transforms import PythonTransform

fs = FeatureStore("acme/mlplatform/recommendation")
code = "def crash(context, data):\\n    import os\\n    os._exit(3)\\n"
crash = PythonTransform(name="crash", function_name="crash", source=code)
job = fs.create_job(
    name="exits",
    sources=[FileSystem(path={str(tmp_path / "events")!r}, format="parquet")],
    transform=crash,
    target=Target(feature_group="totals"),
    retries=3,
    retry_delay=600,
)
run = job.run(wait=False)
deadline = time.monotonic() + 60
while not (run.reload().status == "pending" and run.error_code) and time.monotonic() < deadline:
    time.sleep(0.1)
print(run.status, run.id, flush=True)
"""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    status, run_id = done.stdout.split()[-2:]
    assert status == "pending"
    assert took < 60, took  # not the 600 s of the delay
    run = open_org.get_job("exits").runs[-1]
    assert run.id == run_id
    assert run.status == "failed" and run.error_code == "RUN_CRASHED" and "not retried" in run.error
    assert run.attempt == 1
