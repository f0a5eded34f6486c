"""``%%raise job NAME`` / ``%raise job NAME``: a transformation job from a YAML body (the stored form
of its definition), opened as it is without one, run with ``--run``; on both backends, with the
rows it writes checked against pandas over the files the test writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from IPython.core.error import UsageError

from raise_ import (
    FeatureStore,
    FileSystem,
    IncrementalConfig,
    NullCheck,
    RowCountCheck,
    Schedule,
    SQLTransform,
    Target,
)
from raise_.client.jobs import Job, JobRun
from raise_.jobs.definition import JobDefinition
from raise_jupyter.kernel.help import HelpText
from raise_jupyter.kernel.results import JobShown

PROJECT = "acme/mlplatform/recommendation"
GROUP = f"{PROJECT}/user-signals"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
SQL = """\
SELECT user_id, DATE(event_time) AS date, COUNT(*) AS clicks, SUM(revenue) AS revenue
FROM clicks
WHERE event_time >= '{{checkpoint}}'
GROUP BY user_id, DATE(event_time)
"""


def body(folder: Path) -> str:
    """The job's definition as a cell body; ``check_type: null`` unquoted, as a reader writes it."""
    return f"""\
description: Clicks and revenue per user and day
tags: [engagement, daily]
sources:
  - source_type: filesystem
    name: clicks
    path: {folder}
    format: parquet
transform:
  transform_type: sql
  name: daily_clicks
  sql: |
{"".join("    " + line + chr(10) for line in SQL.splitlines())}target:
  feature_group: user-signals
  features: {{clicks: daily_clicks, revenue: daily_revenue}}
  write_mode: upsert
  key_columns: [user_id, date]
schedule: cron:0 2 * * *
incremental: {{mode: incremental, checkpoint_column: event_time}}
quality_checks:
  - {{check_type: null, name: user_id_present, column: user_id, max_null_rate: 0.0}}
  - {{check_type: row_count, name: some_rows, min_rows: 1}}
retries: 1
timeout: 600
"""


def sdk_definition(folder: Path) -> JobDefinition:
    """The same job, built from the SDK's objects."""
    return JobDefinition.build(
        sources=[FileSystem(path=str(folder), format="parquet", name="clicks")],
        transform=SQLTransform(name="daily_clicks", sql=SQL),
        target=Target(
            feature_group="user-signals",
            features={"clicks": "daily_clicks", "revenue": "daily_revenue"},
            write_mode="upsert",
            key_columns=["user_id", "date"],
        ),
        schedule=Schedule.cron("0 2 * * *"),
        incremental=IncrementalConfig.incremental("event_time"),
        quality_checks=[
            NullCheck(name="user_id_present", column="user_id", max_null_rate=0.0),
            RowCountCheck(name="some_rows", min_rows=1),
        ],
        retries=1,
        timeout=600,
    )


def click_events(n: int, seed: int, start: datetime, days: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, days * 86_400, n)
    return pd.DataFrame(
        {
            "user_id": rng.integers(1, 6, n).astype("int64"),
            "event_time": pd.to_datetime([start + timedelta(seconds=int(s)) for s in seconds], utc=True),
            "revenue": rng.gamma(2.0, 10.0, n).round(2),
        }
    )


def write_file(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def daily(events: pd.DataFrame) -> pd.DataFrame:
    """What the job must write, by pandas: clicks and revenue per user and UTC day."""
    out = (
        events.assign(date=events.event_time.dt.normalize())
        .groupby(["user_id", "date"])
        .agg(clicks=("user_id", "size"), revenue=("revenue", "sum"))
        .reset_index()
    )
    return out.sort_values(["user_id", "date"]).reset_index(drop=True)


def stored(fs: FeatureStore) -> pd.DataFrame:
    frame = fs.feature_group("user-signals").read(history=True).to_pandas().rename(columns={"event_time": "date"})
    return frame.sort_values(["user_id", "date"]).reset_index(drop=True)


def assert_written(fs: FeatureStore, events: pd.DataFrame) -> None:
    expected, got = daily(events), stored(fs)
    assert got["user_id"].tolist() == expected["user_id"].tolist()
    assert got["date"].dt.date.tolist() == expected["date"].dt.date.tolist()
    assert got["daily_clicks"].tolist() == expected["clicks"].tolist()
    assert got["daily_revenue"].to_numpy() == pytest.approx(expected["revenue"].to_numpy(), rel=1e-12)


@pytest.fixture
def events(fs: FeatureStore, tmp_path: Path) -> pd.DataFrame:
    """Three days of click events in two parquet files under ``tmp_path/clicks``, and the empty
    group the job writes."""
    frame = click_events(400, seed=11, start=T0, days=3)
    write_file(frame.iloc[:250], tmp_path / "clicks" / "part-0.parquet")
    write_file(frame.iloc[250:], tmp_path / "clicks" / "part-1.parquet")
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"daily_clicks": "int64", "daily_revenue": "float64"})
    return frame


def usage_error(ip: Any, line: str, cell: str | None = None) -> str:
    with pytest.raises(UsageError) as caught:
        if cell is None:
            ip.run_line_magic("raise", line)
        else:
            ip.run_cell_magic("raise", line, cell)
    return str(caught.value)


def test_job_creates_the_job_runs_it_and_shows_both(
    ip: Any, fs: FeatureStore, events: pd.DataFrame, tmp_path: Path
) -> None:
    shown = ip.run_cell_magic("raise", "job daily_clicks --run -o job", body(tmp_path / "clicks"))

    assert isinstance(shown, JobShown) and shown.how == "created"
    job = ip.user_ns["job"]
    assert isinstance(job, Job) and shown.job is job
    run = shown.job_run
    assert isinstance(run, JobRun) and run.status == "succeeded", (run.error, run.log)
    # the rows written are what pandas computes from the files
    assert run.rows_read == len(events) and run.rows_written == len(daily(events))
    assert_written(fs, events)
    assert run.checkpoint == events.event_time.max().to_pydatetime()
    assert {c["name"]: c["passed"] for c in run.quality_report["checks"]} == {
        "user_id_present": True,
        "some_rows": True,
    }
    # what the store holds is what the same definition built from the SDK's objects is
    stored_job = fs.get_job("daily_clicks")
    assert stored_job.definition.to_dict() == sdk_definition(tmp_path / "clicks").to_dict()
    assert (stored_job.description, stored_job.record.tags) == (
        "Clicks and revenue per user and day",
        ["engagement", "daily"],
    )
    assert stored_job.status == "draft" and stored_job.target_group == GROUP
    # the display: a headline, the job, the run
    assert repr(shown).splitlines() == [
        f"Created job daily_clicks in {PROJECT} (draft).",
        f"Job('daily_clicks', status='draft', target='{GROUP}', schedule=Schedule.cron('0 2 * * *'))",
        f"JobRun('daily_clicks', status='succeeded', trigger='manual', rows_read={len(events)}, "
        f"rows_written={len(daily(events))})",
    ]
    html = shown._repr_html_()
    assert html.count("<table") == 2 and "<b>Job daily_clicks</b>" in html and "<b>Run of daily_clicks</b>" in html
    assert html == f"<p>Created job daily_clicks in {PROJECT} (draft).</p>{job._repr_html_()}{run._repr_html_()}"
    assert f"<td>{len(events)} / {len(daily(events))}</td>" in html
    # the result stands in for the job
    assert shown.name == "daily_clicks" and [r.status for r in shown.runs] == ["succeeded"]


def test_the_stored_form_of_a_definition_is_a_body(
    ip: Any, fs: FeatureStore, events: pd.DataFrame, tmp_path: Path
) -> None:
    definition = sdk_definition(tmp_path / "clicks").to_dict()  # with timeout_seconds and launcher
    shown = ip.run_cell_magic("raise", "job from_stored", yaml.safe_dump(definition))

    assert shown.how == "created" and shown.job_run is None
    assert fs.get_job("from_stored").definition.to_dict() == definition
    assert stored(fs).empty  # not run


def test_no_body_opens_the_job_as_it_is_and_runs_it_incrementally(
    ip: Any, fs: FeatureStore, events: pd.DataFrame, tmp_path: Path
) -> None:
    ip.run_cell_magic("raise", "job daily_clicks", body(tmp_path / "clicks"))

    opened = ip.run_line_magic("raise", "job daily_clicks -o same")
    assert opened.how == "opened" and opened.job_run is None
    assert repr(opened).startswith("Job('daily_clicks', status='draft'")  # no headline
    assert ip.user_ns["same"].definition == sdk_definition(tmp_path / "clicks")

    first = ip.run_line_magic("raise", "job daily_clicks --run").job_run
    assert (first.status, first.rows_read) == ("succeeded", len(events)), first.error
    # a fourth day arrives in a new file: the next run reads only its rows
    later = click_events(90, seed=12, start=T0 + timedelta(days=3), days=1)
    write_file(later, tmp_path / "clicks" / "part-2.parquet")
    second = ip.run_cell_magic("raise", "job daily_clicks --run", "\n").job_run
    assert second.status == "succeeded", second.error
    assert (second.rows_read, second.rows_written) == (len(later), len(daily(later)))
    assert second.checkpoint == later.event_time.max().to_pydatetime()
    assert_written(fs, pd.concat([events, later], ignore_index=True))
    assert [r.rows_read for r in fs.get_job("daily_clicks").runs] == [len(events), len(later)]


def test_a_run_that_fails_is_shown_with_its_error(
    ip: Any, fs: FeatureStore, events: pd.DataFrame, tmp_path: Path
) -> None:
    strict = body(tmp_path / "clicks").replace("min_rows: 1}", "min_rows: 1, severity: error}")
    strict = strict.replace("'{{checkpoint}}'\n", "'{{checkpoint}}' AND revenue > 1000\n")  # no row passes

    shown = ip.run_cell_magic("raise", "job too_strict --run", strict)

    run = shown.job_run
    assert (run.status, run.error_code, run.rows_written) == ("failed", "QUALITY_CHECK_FAILED", 0)
    assert events.revenue.max() < 1000 and stored(fs).empty
    assert repr(shown).splitlines()[-1].endswith("rows_read=400, rows_written=0, error='QUALITY_CHECK_FAILED')")
    assert "QUALITY_CHECK_FAILED" in shown._repr_html_()


def without(text: str, key: str) -> str:
    data = yaml.safe_load(text)
    del data[key]
    return yaml.safe_dump(data)


@pytest.mark.parametrize(
    ("line", "edit", "expected"),
    [
        ("job j", lambda b: "sources: [unclosed\n", "[INVALID_FILE] The cell body is not valid YAML"),
        ("job j", lambda b: "- a list\n", "[INVALID_FILE] The cell body is a job's definition in YAML"),
        ("job j", lambda b: b + "owner: bob\n", "[INVALID_FILE] The cell body has no key 'owner'"),
        ("job j", lambda b: without(b, "transform"), "[INVALID_FILE] The cell body has no transform"),
        ("job j", lambda b: b + "timeout_seconds: 5\n", "[INVALID_FILE] The cell body gives timeout twice"),
        ("job j", lambda b: b.replace("filesystem", "ftp"), "[INVALID_JOB] Unknown source type 'ftp'"),
        ("job j", lambda b: b.replace("transform_type: sql", "transform_type: r"), "[INVALID_JOB] Unknown transform"),
        ("job j", lambda b: b.replace("  key_columns: [user_id, date]\n", ""),
         "[INVALID_JOB] write_mode='upsert' needs key_columns"),
        ("job j", lambda b: b.replace("check_type: row_count", "check_type: vibes"),
         "[INVALID_JOB] Unknown quality check type 'vibes'"),
        ("job j", lambda b: b.replace("retries: 1", "retries: 99"), "[INVALID_JOB] retries is a whole number"),
        ("job j", lambda b: b.replace("mode: incremental,", "mode: sometimes,"), "[INVALID_JOB]"),
        ("job j", lambda b: b.replace("user-signals", "nope"), "[FEATURE_GROUP_NOT_FOUND]"),
        ("job j -o 1x", lambda b: b, "[INVALID_ARGUMENT] -o '1x': give a Python variable name"),
        ("job j --every 5", lambda b: b, "[INVALID_ARGUMENT] unrecognized arguments: --every 5"),
        ("job j", lambda b: None, "[JOB_NOT_FOUND]"),
    ],
)  # fmt: skip
def test_job_reports_bad_input_as_one_coded_line(
    ip: Any, fs: FeatureStore, events: pd.DataFrame, tmp_path: Path, line: str, edit: Any, expected: str
) -> None:
    message = usage_error(ip, line, edit(body(tmp_path / "clicks")))
    assert message.startswith(expected) or expected in message, message
    assert fs.list_jobs() == []  # nothing was created


def test_the_line_form_on_a_missing_job_says_how_to_create_one(ip: Any, events: pd.DataFrame) -> None:
    message = usage_error(ip, "job nightly")
    assert message.startswith("[JOB_NOT_FOUND]")
    assert message.endswith("To create it, put `%%raise job nightly` on the first line of a cell and its YAML below.")


def test_a_body_on_an_existing_name_is_refused_and_changes_nothing(
    ip: Any, fs: FeatureStore, events: pd.DataFrame, tmp_path: Path
) -> None:
    ip.run_cell_magic("raise", "job daily_clicks", body(tmp_path / "clicks"))
    other = body(tmp_path / "clicks").replace("cron:0 2 * * *", "manual")

    message = usage_error(ip, "job daily_clicks", other)

    assert message.startswith("[JOB_EXISTS] Job 'daily_clicks' already exists in acme")
    assert message.endswith("`%raise job daily_clicks` (no body) opens it as it is.")
    assert fs.get_job("daily_clicks").schedule == Schedule.cron("0 2 * * *")
    assert [j.name for j in fs.list_jobs()] == ["daily_clicks"]


def test_a_bad_definition_in_a_cell_prints_one_line_without_traceback(
    ip: Any, events: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cell = "%%raise job j\n" + body(tmp_path / "clicks").replace("format: parquet", "format: xlsx")
    outcome = ip.run_cell(cell, store_history=True)

    assert isinstance(outcome.error_in_exec, UsageError)
    err = capsys.readouterr().err.strip()
    assert err.startswith("UsageError: [INVALID_JOB] Unknown file format 'xlsx'")
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_help_lists_job(ip: Any) -> None:
    shown = ip.run_line_magic("raise", "help job")
    assert isinstance(shown, HelpText) and "%%raise job NAME [--run] [-o VAR]" in repr(shown)
    assert "%%raise sql" not in repr(shown)
