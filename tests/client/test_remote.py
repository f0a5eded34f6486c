"""The remote backend as a client: chosen by ``RAISE_URL``; errors and warnings identical to the
embedded engine's (class, message, details; category, message and the user's line); one
keep-alive connection per thread, reopened when the server dropped it; clear errors when the
server is unreachable or refuses the token. (SQLite only: this is about the transport.)"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from raise_ import FeatureStore
from raise_.api.errors import AuthenticationError, ServerUnavailableError
from raise_.client.remote import RemoteBackend
from raise_.errors import RaiseError
from raise_.service import DataService
from raise_jupyter.server_ext.background import BackgroundServer, _free_port


@pytest.fixture
def remote_env(raise_server: BackgroundServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "remote"
    raise_server.extension.use_store(str(home), f"sqlite:///{home / 'catalog.db'}")
    for name in ("RAISE_HOME", "RAISE_CATALOG_URL", "RAISE_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    monkeypatch.setenv("RAISE_URL", raise_server.url)
    monkeypatch.setenv("RAISE_TOKEN", raise_server.token)
    yield home
    raise_server.extension.use_store()


@pytest.fixture
def both(remote_env: Path, tmp_path: Path) -> dict[str, FeatureStore]:
    """The same project embedded (an explicit home wins over RAISE_URL) and through the server."""
    return {
        "embedded": FeatureStore("acme/ml/rec", home=tmp_path / "embedded"),
        "remote": FeatureStore("acme/ml/rec"),
    }


def test_raise_url_selects_the_remote_backend(both: dict[str, FeatureStore], remote_env: Path) -> None:
    assert isinstance(both["remote"]._backend, RemoteBackend)
    assert isinstance(both["embedded"]._backend, DataService)
    assert (remote_env / "catalog.db").exists()  # the server opened its store there


def outcome(action: Any) -> tuple[Any, ...]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            action()
            error: tuple[Any, ...] = ()
        except RaiseError as exc:
            error = (type(exc), exc.message, exc.details)
    return error, [(w.category, str(w.message), w.filename, w.lineno) for w in caught]


def test_errors_and_warnings_are_the_embedded_ones(both: dict[str, FeatureStore]) -> None:
    results: dict[str, list[tuple[Any, ...]]] = {}
    for kind, fs in both.items():
        group = fs.create_feature_group("user-signals", entity_keys=["user_id"])
        group.create_feature("clicks", dtype="int64")
        results[kind] = [
            outcome(lambda g=group: g.create_feature("ctr", dtype="float64", derived_from="click_cnt / 2")),
            outcome(lambda g=group: g.feature("clickz")),
            outcome(lambda g=group: g.write([{"user_id": 1, "clicks": "many"}])),
            outcome(lambda g=group: g.write(pd.DataFrame({"user_id": [1, 2], "clicks": [1, "x"]}))),
            outcome(lambda g=group: g.write({"user_id": 1})),
            outcome(lambda g=group: g.read(limit=-1)),
            outcome(lambda f=fs: f.get_training_data(pd.DataFrame({"user_id": [1]}), ["user-signals.nope"])),
            outcome(lambda g=group: g.feature("clicks").update(dtype="float64")),
        ]
    assert results["remote"] == results["embedded"]
    (warning,) = results["remote"][0][1]
    assert warning[0].__name__ == "ExpressionWarning" and warning[2].endswith("raise_/client/group.py")
    assert [r[0][0].__name__ for r in results["remote"][1:]] == [
        "FeatureNotFoundError",
        "InvalidDataError",
        "InvalidDataError",
        "InvalidArgumentError",
        "InvalidArgumentError",
        "FeatureNotFoundError",
        "SchemaChangeError",
    ]


def test_one_keep_alive_connection_per_thread(raise_server: BackgroundServer, remote_env: Path) -> None:
    backend = RemoteBackend(raise_server.url, raise_server.token)
    backend.list_organizations()
    first = backend._local.conn
    backend.list_organizations()
    assert backend._local.conn is first and first.sock is not None
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: (backend.list_organizations(), seen.append(backend._local.conn)))
    thread.start()
    thread.join()
    assert seen and seen[0] is not first
    backend.close()


def test_a_connection_the_server_dropped_is_reopened(raise_server: BackgroundServer, remote_env: Path) -> None:
    backend = RemoteBackend(raise_server.url, raise_server.token)
    backend.ensure_project("acme/ml/rec")
    assert raise_server.app is not None and raise_server._loop is not None
    close = raise_server.app.http_server.close_all_connections()
    asyncio.run_coroutine_threadsafe(close, raise_server._loop).result(10)
    assert [o.name for o in backend.list_organizations()] == ["acme"]


def test_an_unreachable_server_says_so() -> None:
    url = f"http://127.0.0.1:{_free_port()}/"
    with pytest.raises(ServerUnavailableError, match=r"Cannot reach the Raise server at http://127\.0\.0\.1") as info:
        RemoteBackend(url).list_organizations()
    assert info.value.details == {"url": url}


def test_a_wrong_token_is_an_authentication_error(raise_server: BackgroundServer, remote_env: Path) -> None:
    with pytest.raises(AuthenticationError, match="check RAISE_TOKEN") as info:
        RemoteBackend(raise_server.url, "wrong").list_organizations()
    assert info.value.details["status"] == 403


def test_raise_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="RAISE_URL must be an http"):
        RemoteBackend("localhost:8888")


def test_every_route_answers_what_the_service_answers(raise_server: BackgroundServer, remote_env: Path) -> None:
    """Each route once, through REST, against the server's own service on the same store: the
    decoded answer equals the service's (same classes, same values)."""
    remote = RemoteBackend(raise_server.url, raise_server.token)
    service = raise_server.extension.service()
    p, g = "acme/ml/rec", "acme/ml/rec/g"
    # every mutating route, through REST
    remote.create_organization("partner")
    remote.ensure_project(p)
    remote.create_domain("acme", "other", tags=["t"])
    remote.create_project("acme", "other", "proj")
    remote.create_feature_group(p, "g", entity_keys=["user_id"], ttl_seconds=86400)
    remote.create_features(g, [{"name": "clicks", "dtype": "int64"}, {"name": "score", "dtype": "float64"}])
    with pytest.warns(Warning):
        remote.create_features(g, [{"name": "ctr", "dtype": "float64", "derived_from": "clicks / later"}])
    remote.create_features(g, [{"name": "later", "dtype": "float64"}])
    remote.update_feature(g, "score", "v1", {"description": "a score"})
    remote.create_features(g, [{"name": "old", "dtype": "int64"}])
    remote.deprecate_feature(g, "old", "v1", "use clicks")
    remote.delete_feature(g, "old", "v1")
    rows = pd.DataFrame({"user_id": [1, 2], "event_time": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True)})
    remote.write(g, rows.assign(clicks=[3, 4], later=[1.0, 2.0]))
    remote.write(g, [{"user_id": 1, "event_time": "2024-01-01", "clicks": 9}], "upsert")
    remote.create_snapshot(g, "first", "before compaction")
    assert remote.compact(g, 0) == 1
    remote.set_principal_group("acme", "ml-team", ["alice@acme", "bob@acme"])
    remote.add_org_alias("acme", "acme.com")
    remote.set_acl(g, {"readers": ["ml-team@acme"], "writers": ["alice@acme"]})
    remote.grant_external_access(g, "partner", ["clicks"], "read", datetime(2100, 1, 1, tzinfo=UTC))
    remote.create_audit_alert("acme", "creates", {"actions": ["CREATE"]}, ["sec@acme"])
    remote.set_audit_config("acme", retention_days=400)
    entities = pd.DataFrame({"user_id": [2, 1], "event_time": pd.to_datetime(["2024-01-05"] * 2, utc=True)})

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
        ("list_organizations", (), {}),
        ("get_organization", ("acme",), {}),
        ("list_domains", ("acme",), {"tags": ["t"]}),
        ("get_domain", ("acme", "ml"), {}),
        ("list_projects", ("acme", "other"), {}),
        ("get_project", ("acme", "ml", "rec"), {}),
        ("list_feature_groups", (p,), {}),
        ("get_feature_group", (g,), {}),
        ("search_features", (p, "clicks"), {}),
        ("list_features", (g,), {"all_versions": True}),
        ("get_feature", (g, "score"), {}),
        ("list_versions", (g, "old"), {}),
        ("validate_feature", (g, "x", "float64", "clicks * 2"), {}),
        ("impact", (g, "clicks"), {}),
        ("lineage_closure", (g, "ctr", None, "up", True), {}),
        ("get_acl", (g,), {}),
        ("get_effective_acl", (g,), {}),
        ("get_acl_chain", (g, "clicks", "v1"), {}),
        ("list_external_grants", (g,), {"include_inactive": True}),
        ("list_principal_groups", ("acme",), {}),
        ("list_org_aliases", ("acme",), {}),
        ("list_audit_alerts", ("acme",), {}),
        ("get_audit_alert", ("acme", "creates"), {}),
        ("get_audit_config", ("acme",), {}),
        ("audit_query", ("acme", {"actions": ["CREATE"], "resource_types": ["feature"]}), {}),
        ("audit_count", ("acme", {"actions": ["CREATE"]}), {}),
        ("commits", (g,), {}),
        ("list_snapshots", (g,), {}),
        ("read", (g, ["clicks", "ctr"]), {"snapshot": "first", "history": True}),
        ("changes", (g, 1), {}),
        ("get_training_data", (p, entities, ["g.clicks", "g.ctr"]), {}),
    ]
    for name, args, kwargs in calls:
        got, expected = getattr(remote, name)(*args, **kwargs), getattr(service, name)(*args, **kwargs)
        assert type(got) is type(expected), name
        if isinstance(expected, pa.Table):
            assert got.equals(expected), name
        else:
            assert got == expected, name
    graph = remote.get_lineage(g, "ctr", None)
    assert graph.to_dict() == service.get_lineage(g, "ctr", None).to_dict()
    assert [n.name for n in graph.upstream_of(graph.focus.id)] == ["clicks", "later"]
    # the rest of the audit routes: their answers move with the log itself, so compare their kind
    report = remote.audit_verify("acme")
    assert report.ok and report.checked > 20
    after, until = remote.audit_stream_bounds("acme", {"actions": ["CREATE"]})
    batch = remote.audit_stream_batch("acme", {"actions": ["CREATE"]}, after_seq=after, until_seq=until, size=5)
    assert len(batch) == 5 and [e.seq for e in batch] == sorted(e.seq for e in batch)
    assert remote.check_audit_alerts("acme") == {"creates": 0}
    assert {m.alert for m in remote.audit_alert_matches("acme", "creates")} == {"creates"}  # matched on arrival
    exported = remote.audit_export("acme", {"actions": ["CREATE"]}, "jsonl", str(remote_env / "audit") + "/")
    assert exported.rows == remote.audit_count("acme", {"actions": ["CREATE"]}) and Path(exported.path).exists()
    assert remote.audit_purge("acme").purged == 0
    assert remote.delete_audit_alert("acme", "creates").name == "creates"
    assert remote.revoke_external_access(g, "partner") == 1
    remote.delete_principal_group("acme", "ml-team")
    assert remote.list_principal_groups("acme") == []
