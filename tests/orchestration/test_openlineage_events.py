"""OpenLineage run events of job runs: START when a run starts, COMPLETE/FAIL/ABORT when it ends for
good, posted to a real HTTP receiver on loopback with the API key as a Bearer token (and nowhere
else), never failing a run when the receiver does; the same events rebuilt from the catalog by
``raise lineage export``; every event round-trips through openlineage-python's serializer."""

from __future__ import annotations

import json
import logging
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

pytest.importorskip("openlineage.client", reason="openlineage-python is not installed (the dev extra has it)")
pytest.importorskip("pytest_httpserver", reason="pytest-httpserver is not installed (the dev extra has it)")

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    processing_engine_run,
    schema_dataset,
    source_code_job,
    sql_job,
)
from openlineage.client.serde import Serde
from pytest_httpserver import HTTPServer

from raise_ import FeatureStore, FileSystem, SQLTransform, Target
from raise_.cli import main
from raise_.client import FeatureGroup
from raise_.config import Settings
from raise_.engine import Engine
from raise_.jobs.records import JobRecord, JobRunRecord
from raise_.jobs.transforms import PythonTransform
from raise_.orchestration.openlineage.emitter import LineageEmitter, LineageSettings
from raise_.orchestration.openlineage.events import event_state, run_event, to_json

PROJECT = "acme/mlplatform/recommendation"
API_KEY = "ol-key-5b9e1c7d3a"  # a value nothing else in a store contains
ENDPOINT = "/api/v1/lineage"
SQL = (
    "SELECT user_id, max(event_time) AS event_time, count(*) AS clicks, sum(revenue) AS revenue "
    "FROM clickstream GROUP BY user_id"
)


@dataclass
class Receiver:
    mode: str  # "receiver" (201), "error" (500) or "unreachable" (nothing listens)
    url: str
    server: HTTPServer


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def receiver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> Receiver:
    """RAISE_OPENLINEAGE_URL pointing at ``httpserver`` (answering 201, or 500 for ``error``) or at
    a port nothing listens on (``unreachable``), with an API key."""
    mode = getattr(request, "param", "receiver")
    if mode == "unreachable":
        url = f"http://127.0.0.1:{_closed_port()}"
    else:
        url = httpserver.url_for("/")
        status = 201 if mode == "receiver" else 500
        httpserver.expect_request(ENDPOINT, method="POST").respond_with_json({}, status=status)
    monkeypatch.setenv("RAISE_OPENLINEAGE_URL", url)
    monkeypatch.setenv("RAISE_OPENLINEAGE_API_KEY", API_KEY)
    monkeypatch.delenv("RAISE_OPENLINEAGE_FILE", raising=False)
    monkeypatch.delenv("RAISE_OPENLINEAGE_NAMESPACE", raising=False)
    return Receiver(mode, url, httpserver)


@pytest.fixture
def store_env(fresh_store: Path, receiver: Receiver) -> Path:
    """The store opens once RAISE_OPENLINEAGE_* are set: its job service reads them as it starts."""
    return fresh_store


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "user_id": pd.Series([1, 1, 2, 3, 3, 3], dtype="int64"),
            "event_time": pd.to_datetime(
                [
                    "2026-01-01T08:00",
                    "2026-01-01T09:00",
                    "2026-01-02T10:00",
                    "2026-01-02T11:00",
                    "2026-01-03T12:00",
                    "2026-01-03T13:00",
                ],
                utc=True,
            ),
            "revenue": [1.5, 2.0, 3.25, 4.0, 5.0, 6.5],
        }
    )
    folder = tmp_path / "events"
    folder.mkdir()
    frame.to_parquet(folder / "events.parquet", index=False)
    return folder


@pytest.fixture
def totals(open_org: FeatureStore) -> FeatureGroup:
    group = open_org.create_feature_group("totals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"clicks": "int64", "revenue": "float64"})
    return group


def make_job(fs: FeatureStore, events_dir: Path, name: str = "user-totals", transform: Any = None, **kw: Any) -> Any:
    return fs.create_job(
        name=name,
        sources=[FileSystem(path=str(events_dir), format="parquet", name="clickstream")],
        transform=transform or SQLTransform(name="totals", sql=SQL),
        target=Target(feature_group="totals", features={"clicks": "clicks", "revenue": "revenue"}),
        description="Clicks and revenue per user",
        **kw,
    )


def posted(receiver: Receiver, count: int, timeout: float = 15.0) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """The first ``count`` bodies the receiver got, with their headers. The end event is sent just
    after the run's row says it ended, so it may arrive a moment after ``run()`` returns."""
    deadline = time.monotonic() + timeout
    while len(receiver.server.log) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    log = list(receiver.server.log)
    assert len(log) >= count, [r.get_json()["eventType"] for r, _ in log]
    return [(request.get_json(), dict(request.headers)) for request, _ in log[:count]]


def emitter() -> LineageEmitter:
    return Engine.shared(Settings.from_env()).service.jobs.lineage


def catalog_text() -> str:
    """Every row of every catalog table, as text: where a secret must not be."""
    engine = sa.create_engine(Settings.from_env().catalog_url)
    try:
        with engine.connect() as conn:
            return "\n".join(
                repr(row)
                for table in sa.inspect(conn).get_table_names()
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"'))
            )
    finally:
        engine.dispose()


# -- live events --------------------------------------------------------------------------------


def test_a_succeeded_run_posts_start_then_complete(
    receiver: Receiver, open_org: FeatureStore, totals: FeatureGroup, events_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the library's and urllib3's debug lines too
    run = make_job(open_org, events_dir).run()
    assert run.status == "succeeded", run.error
    (start, start_headers), (complete, complete_headers) = posted(receiver, 2)

    assert [start["eventType"], complete["eventType"]] == ["START", "COMPLETE"]
    stored = totals.read().to_pandas()
    assert run.rows_written == len(stored) == 3
    for event in (start, complete):
        assert event["run"]["runId"] == run.id
        assert (event["job"]["namespace"], event["job"]["name"]) == (f"raise://{PROJECT}", "user-totals")
        assert event["job"]["facets"]["sql"]["query"] == SQL
        assert event["job"]["facets"]["jobType"]["processingType"] == "BATCH"
        assert event["job"]["facets"]["jobType"]["integration"] == "RAISE"
        assert event["job"]["facets"]["documentation"]["description"] == "Clicks and revenue per user"
        assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [("file", str(events_dir))]
        assert [(d["namespace"], d["name"]) for d in event["outputs"]] == [("raise", f"{PROJECT}/totals")]
        schema = event["outputs"][0]["facets"]["schema"]["fields"]
        assert [f["name"] for f in schema] == ["clicks", "revenue"]
        assert event["producer"].startswith("https://pypi.org/project/raise-featurestore/")
        assert datetime.fromisoformat(event["run"]["facets"]["nominalTime"]["nominalStartTime"]) == run.execution_date
    assert datetime.fromisoformat(start["eventTime"]) == run.started_at
    assert datetime.fromisoformat(complete["eventTime"]) == run.completed_at
    assert start["outputs"][0]["outputFacets"] == {}  # nothing written yet
    assert complete["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == len(stored)
    assert "errorMessage" not in complete["run"]["facets"]

    # The key goes to the receiver as a Bearer token, and nowhere else.
    assert start_headers["Authorization"] == complete_headers["Authorization"] == f"Bearer {API_KEY}"
    assert caplog.records, "debug logging was captured"
    assert API_KEY not in caplog.text
    assert API_KEY not in run.log and API_KEY not in (run.error or "")
    assert API_KEY not in catalog_text()
    assert API_KEY not in repr(emitter()) and API_KEY not in repr(emitter().settings)
    assert (emitter().sent, emitter().failed) == (2, 0)
    receiver.server.check_assertions()


def test_a_failing_run_posts_fail_with_its_error(
    receiver: Receiver, open_org: FeatureStore, totals: FeatureGroup, events_dir: Path
) -> None:
    bad = SQLTransform(name="bad", sql="SELECT no_such_column FROM clickstream")
    run = make_job(open_org, events_dir, transform=bad).run()
    assert (run.status, run.error_code) == ("failed", "TRANSFORM_FAILED")
    (start, _), (fail, _) = posted(receiver, 2)
    assert [start["eventType"], fail["eventType"]] == ["START", "FAIL"]
    assert fail["run"]["runId"] == run.id
    error = fail["run"]["facets"]["errorMessage"]
    assert error["message"] == f"TRANSFORM_FAILED: {run.error}"
    assert error["programmingLanguage"] == "PYTHON"
    assert fail["outputs"][0]["outputFacets"] == {}  # nothing written
    assert datetime.fromisoformat(fail["eventTime"]) == run.completed_at


def test_a_retried_attempt_is_one_run_with_one_start_and_one_end(
    receiver: Receiver, open_org: FeatureStore, totals: FeatureGroup, events_dir: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "crashed-once"
    source = (
        "def flaky(context, data):\n"
        "    import os\n"
        f"    if not os.path.exists({str(marker)!r}):\n"
        f"        open({str(marker)!r}, 'w').close()\n"
        "        os._exit(3)\n"
        "    out = data.groupby('user_id').agg(clicks=('user_id', 'size'), event_time=('event_time', 'max'))\n"
        "    return out.reset_index()\n"
    )
    flaky = PythonTransform(name="flaky", function_name="flaky", source=source)
    run = make_job(open_org, events_dir, transform=flaky, retries=2, retry_delay=0).run()
    assert (run.status, run.attempt) == ("succeeded", 2), (run.error, run.log)
    events = [body for body, _ in posted(receiver, 2)]
    time.sleep(0.5)  # nothing more comes: the failed first attempt was not an end
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"] and len(receiver.server.log) == 2
    assert {e["run"]["runId"] for e in events} == {run.id}
    assert events[0]["job"]["facets"]["sourceCode"]["sourceCode"] == source
    assert events[1]["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 3


def test_a_run_cancelled_while_waiting_for_its_retry_aborts(
    receiver: Receiver, open_org: FeatureStore, totals: FeatureGroup, events_dir: Path
) -> None:
    source = "def crash(context, data):\n    import os\n    os._exit(3)\n"
    crash = PythonTransform(name="crash", function_name="crash", source=source)
    run = make_job(open_org, events_dir, transform=crash, retries=3, retry_delay=600).run(wait=False)
    deadline = time.monotonic() + 60
    while not (run.status == "pending" and run.error_code) and time.monotonic() < deadline:
        time.sleep(0.1)
        run.reload()
    assert run.status == "pending" and run.error_code == "RUN_CRASHED", (run.status, run.error)
    assert [body["eventType"] for body, _ in posted(receiver, 1)] == ["START"]  # the failed attempt ended nothing
    run.cancel()
    run.reload()
    assert run.status == "cancelled"
    start, abort = (body for body, _ in posted(receiver, 2))
    assert [start["eventType"], abort["eventType"]] == ["START", "ABORT"]
    assert abort["run"]["runId"] == start["run"]["runId"] == run.id


@pytest.mark.parametrize("receiver", ["error", "unreachable"], indirect=True)
def test_a_receiver_that_fails_never_fails_the_run(
    receiver: Receiver,
    open_org: FeatureStore,
    totals: FeatureGroup,
    events_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    began = time.monotonic()
    run = make_job(open_org, events_dir).run()
    assert run.status == "succeeded", run.error
    assert len(totals.read().to_pandas()) == run.rows_written == 3
    deadline = time.monotonic() + 15
    while emitter().failed < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (emitter().sent, emitter().failed) == (0, 2)
    if receiver.mode == "error":  # one attempt per event: a 500 is not retried into the run's time
        assert [r.get_json()["eventType"] for r, _ in receiver.server.log] == ["START", "COMPLETE"]
    warnings = [r.getMessage() for r in caplog.records if r.name.endswith("openlineage.emitter")]
    assert any(f"START event of run {run.id} was not sent" in w for w in warnings), warnings
    assert any(f"COMPLETE event of run {run.id} was not sent" in w for w in warnings), warnings
    assert API_KEY not in caplog.text
    assert time.monotonic() - began < 30


# -- raise lineage export -------------------------------------------------------------------------


def test_export_writes_the_events_the_receiver_got(
    receiver: Receiver,
    open_org: FeatureStore,
    totals: FeatureGroup,
    events_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = make_job(open_org, events_dir).run()
    bad_sql = SQLTransform(name="bad", sql="SELECT no_such_column FROM clickstream")
    bad = make_job(open_org, events_dir, name="broken", transform=bad_sql).run()
    again = open_org.get_job("user-totals").run()
    assert (good.status, bad.status, again.status) == ("succeeded", "failed", "succeeded")
    live = [body for body, _ in posted(receiver, 6)]

    out = tmp_path / "export" / "events.jsonl"
    assert main(["lineage", "export", PROJECT, "--output", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 6 events to {out}"
    lines = out.read_text().splitlines()
    exported = [json.loads(line) for line in lines]
    assert [(e["run"]["runId"], e["eventType"]) for e in exported] == [
        (good.id, "START"),
        (good.id, "COMPLETE"),
        (bad.id, "START"),
        (bad.id, "FAIL"),
        (again.id, "START"),
        (again.id, "COMPLETE"),
    ]
    # Rebuilt from the catalog, they are the events sent live, facets and times included.
    key = lambda e: (e["run"]["runId"], e["eventType"])  # noqa: E731
    assert sorted(exported, key=key) == sorted(live, key=key)
    for line in lines:
        assert to_json(parse_event(json.loads(line))) == line

    since = again.started_at.isoformat()
    assert main(["lineage", "export", PROJECT, "-o", str(out), "--since", since]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 2 events to {out}"
    assert {json.loads(line)["run"]["runId"] for line in out.read_text().splitlines()} == {again.id}

    assert main(["lineage", "export", PROJECT, "-o", str(out), "--since", "yesterday"]) == 2
    assert "since must be an ISO time" in capsys.readouterr().err


def test_export_through_a_server_writes_the_same_events(
    request: pytest.FixtureRequest,
    receiver: Receiver,
    open_org: FeatureStore,
    totals: FeatureGroup,
    events_dir: Path,
    fresh_store: Path,
    catalog_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = make_job(open_org, events_dir).run()
    assert run.status == "succeeded", run.error
    here = tmp_path / "here.jsonl"
    assert main(["lineage", "export", PROJECT, "-o", str(here)]) == 0
    server = request.getfixturevalue("raise_server")
    server.extension.use_store(str(fresh_store), catalog_url)
    try:
        monkeypatch.setenv("RAISE_URL", server.url)  # the CLI now asks the server (RAISE_URL + RAISE_TOKEN)
        monkeypatch.setenv("RAISE_TOKEN", server.token)
        there = tmp_path / "there.jsonl"
        assert main(["lineage", "export", PROJECT, "-o", str(there)]) == 0
    finally:
        server.extension.use_store()
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote 2 events to {there}"
    assert there.read_text() == here.read_text()


# -- events without a store ---------------------------------------------------------------------

T = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def job_record(**definition: Any) -> JobRecord:
    return JobRecord(
        id="0c4ad8f8-51c4-4fd0-8d07-7d1b0d7f7d10",
        name="user-totals",
        project=PROJECT,
        description=None,
        owner="alice@acme",
        tags=[],
        definition={
            "sources": [
                {"source_type": "filesystem", "name": "clickstream", "path": "s3://lake/events/"},
                {"source_type": "feature_group", "name": "users", "feature_group": "profiles", "features": ["age"]},
            ],
            "transform": {"transform_type": "sql", "name": "totals", "sql": SQL},
            "target": {"feature_group": "totals", "features": {"clicks": "clicks"}},
            **definition,
        },
        target_group=f"{PROJECT}/totals",
        status="active",
        launcher="subprocess",
        created_at=T,
        updated_at=T,
    )


def run_record(status: str, **fields: Any) -> JobRunRecord:
    started = fields.pop("started_at", T.replace(minute=1))
    return JobRunRecord(
        id="6f1d2c3b-4a5e-4f60-9a7b-8c9d0e1f2a3b",
        job_id="0c4ad8f8-51c4-4fd0-8d07-7d1b0d7f7d10",
        job_name="user-totals",
        status=status,
        trigger="schedule",
        actor="alice@acme",
        execution_date=T,
        created_at=T,
        started_at=started,
        completed_at=None if status in ("pending", "running") else T.replace(minute=2),
        **fields,
    )


@pytest.mark.parametrize(
    ("status", "started", "state"),
    [
        ("pending", False, None),  # never started: nothing to say
        ("pending", True, "START"),  # between attempts: still the run START announced
        ("running", True, "START"),
        ("succeeded", True, "COMPLETE"),
        ("failed", True, "FAIL"),
        ("timed_out", True, "FAIL"),
        ("cancelled", True, "ABORT"),
    ],
)
def test_a_run_status_maps_to_its_event(status: str, started: bool, state: str | None) -> None:
    run = run_record(status, **({} if started else {"started_at": None}))
    assert event_state(run) == state


def test_a_timed_out_run_fails_with_its_reason() -> None:
    run = run_record("timed_out", error_code="RUN_TIMED_OUT", error="The run took longer than 3600 s.")
    event = json.loads(to_json(run_event("FAIL", job_record(), run)))
    assert event["eventType"] == "FAIL"
    assert event["eventTime"] == T.replace(minute=2).isoformat()
    assert event["run"]["facets"]["errorMessage"]["message"] == "RUN_TIMED_OUT: The run took longer than 3600 s."


def test_datasets_are_named_as_job_lineage_names_them_in_the_configured_namespace() -> None:
    run = run_record("succeeded", rows_written=7)
    default = json.loads(to_json(run_event("COMPLETE", job_record(), run)))
    assert default["job"]["namespace"] == f"raise://{PROJECT}"
    assert [(d["namespace"], d["name"]) for d in default["inputs"]] == [
        ("s3://lake", "events/"),
        ("raise", f"{PROJECT}/profiles"),
    ]
    assert [f["name"] for f in default["inputs"][1]["facets"]["schema"]["fields"]] == ["age"]
    assert default["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 7
    moved = json.loads(to_json(run_event("COMPLETE", job_record(), run, namespace="raise-prod")))
    assert moved["job"]["namespace"] == f"raise-prod://{PROJECT}"
    # The store's own datasets move with it; another system's keep their names.
    assert [d["namespace"] for d in moved["inputs"]] == ["s3://lake", "raise-prod"]
    assert moved["outputs"][0]["namespace"] == "raise-prod"


def test_an_event_round_trips_through_the_serializer() -> None:
    job = job_record(transform={"transform_type": "sql", "name": "totals", "sql": SQL})
    for state, run in [
        ("START", run_record("running")),
        ("COMPLETE", run_record("succeeded", rows_written=3)),
        ("FAIL", run_record("failed", error_code="TRANSFORM_FAILED", error="transform totals: no column x")),
        ("ABORT", run_record("cancelled", error_code="RUN_CANCELLED", error="The run was cancelled.")),
    ]:
        event = run_event(state, job, run, producer="https://example.com/raise")
        text = to_json(event)
        assert text == Serde.to_json(event)
        data = json.loads(text)
        assert data["eventType"] == state and data["run"]["runId"] == run.id
        assert data["producer"] == "https://example.com/raise"
        assert data["job"]["facets"]["jobType"]["_producer"] == "https://example.com/raise"
        assert data["schemaURL"].startswith("https://openlineage.io/spec/")
        parsed = parse_event(data)
        assert parsed == event  # the typed event back, equal field by field
        assert to_json(parsed) == text


def test_a_file_destination_gets_one_line_per_event_and_nothing_configured_sends_nothing(tmp_path: Path) -> None:
    path = tmp_path / "lineage" / "events.jsonl"
    sink = LineageEmitter.from_env({"RAISE_OPENLINEAGE_FILE": str(path), "RAISE_OPENLINEAGE_NAMESPACE": "raise-dev"})
    assert sink.enabled and sink.settings.namespace == "raise-dev"
    assert sink.emit_run(job_record(), run_record("running"))
    assert sink.emit_run(job_record(), run_record("succeeded", rows_written=2))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["eventType"], e["job"]["namespace"]) for e in lines] == [
        ("START", f"raise-dev://{PROJECT}"),
        ("COMPLETE", f"raise-dev://{PROJECT}"),
    ]
    assert (sink.sent, sink.failed) == (2, 0)

    off = LineageEmitter.from_env({})
    assert not off.enabled and repr(off) == "LineageEmitter(disabled)"
    assert not off.emit_run(job_record(), run_record("running"))
    assert (off.sent, off.failed) == (0, 0)


@pytest.mark.parametrize(
    ("environ", "url", "timeout"),
    [
        ({"RAISE_OPENLINEAGE_URL": "http://marquez:5000"}, "http://marquez:5000", 2.0),
        ({"RAISE_OPENLINEAGE_URL": "  ", "RAISE_OPENLINEAGE_TIMEOUT": "0.5"}, None, 0.5),
        ({"RAISE_OPENLINEAGE_URL": "marquez:5000"}, None, 2.0),  # no scheme: refused, not guessed
        ({"RAISE_OPENLINEAGE_URL": "http://m/", "RAISE_OPENLINEAGE_TIMEOUT": "-1"}, "http://m/", 2.0),
    ],
)
def test_settings_from_the_environment(environ: dict[str, str], url: str | None, timeout: float) -> None:
    settings = LineageSettings.from_env({**environ, "RAISE_OPENLINEAGE_API_KEY": API_KEY})
    assert (settings.url, settings.timeout, settings.namespace) == (url, timeout, "raise")
    assert settings.api_key == API_KEY and API_KEY not in repr(settings)


def test_a_path_prefix_in_the_url_is_kept(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/lineage-proxy/api/v1/lineage", method="POST").respond_with_json({}, status=201)
    sink = LineageEmitter.from_env({"RAISE_OPENLINEAGE_URL": httpserver.url_for("/lineage-proxy")})
    assert sink.emit_run(job_record(), run_record("running"))
    assert [r.path for r, _ in httpserver.log] == ["/lineage-proxy/api/v1/lineage"]
    assert "Authorization" not in httpserver.log[0][0].headers  # no key configured: none sent
    httpserver.check_assertions()


def test_credentials_in_the_url_are_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    sink = LineageEmitter.from_env({"RAISE_OPENLINEAGE_URL": f"http://user:pw-{API_KEY}@127.0.0.1:{_closed_port()}/ol"})
    assert not sink.emit_run(job_record(), run_record("running"))
    assert sink.failed == 1
    assert "was not sent to http://127.0.0.1:" in caplog.text and "/ol/api/v1/lineage" in caplog.text
    assert API_KEY not in caplog.text and API_KEY not in repr(sink)


# -- parsing an event back: openlineage-python serializes but has no parser -----------------------

_FACETS: dict[str, Any] = {
    "nominalTime": nominal_time_run.NominalTimeRunFacet,
    "processing_engine": processing_engine_run.ProcessingEngineRunFacet,
    "errorMessage": error_message_run.ErrorMessageRunFacet,
    "jobType": job_type_job.JobTypeJobFacet,
    "sql": sql_job.SQLJobFacet,
    "sourceCode": source_code_job.SourceCodeJobFacet,
    "documentation": documentation_job.DocumentationJobFacet,
    "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
}


def _facet(name: str, data: dict[str, Any]) -> Any:
    fields = {k: v for k, v in data.items() if not k.startswith("_")}
    if name == "schema":
        columns = [schema_dataset.SchemaDatasetFacetFields(**f) for f in fields["fields"]]
        return schema_dataset.SchemaDatasetFacet(fields=columns, producer=data["_producer"])
    return _FACETS[name](**fields, producer=data["_producer"])


def _facets(data: dict[str, Any] | None) -> dict[str, Any]:
    return {name: _facet(name, value) for name, value in (data or {}).items()}


def parse_event(data: dict[str, Any]) -> RunEvent:
    """A serialized run event as the library's typed classes again (each facet Raise sends)."""
    return RunEvent(
        eventType=RunState(data["eventType"]),
        eventTime=data["eventTime"],
        producer=data["producer"],
        run=Run(runId=data["run"]["runId"], facets=_facets(data["run"].get("facets"))),
        job=Job(
            namespace=data["job"]["namespace"], name=data["job"]["name"], facets=_facets(data["job"].get("facets"))
        ),
        inputs=[InputDataset(d["namespace"], d["name"], facets=_facets(d.get("facets"))) for d in data["inputs"]],
        outputs=[
            OutputDataset(
                d["namespace"],
                d["name"],
                facets=_facets(d.get("facets")),
                outputFacets=_facets(d.get("outputFacets")),
            )
            for d in data["outputs"]
        ],
    )
