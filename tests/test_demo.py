"""The demo store `make demo` opens is seeded idempotently with realistic data: derived features two
levels deep, a group only acme's finance team reads, and a partner organization sharing one feature
with acme through a grant."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from raise_ import FeatureStore
from raise_.demo import DEMO_PROJECT, PARTNER_PROJECT, PARTNER_USER, seed_demo_store
from raise_.engine import Engine
from raise_.errors import PermissionDeniedError

QUALITY = f"{PARTNER_PROJECT}/item-quality"


def changes(fs: FeatureStore) -> list[str]:
    """The audit log's changes (everything but reads), oldest first."""
    return [f"{e.action} {e.resource_path}" for e in fs.audit.query(limit=10_000) if e.action != "READ"]


@pytest.fixture
def demo(store_env: Path) -> tuple[str, str]:
    """The store seeded by alice@acme (the demo's user), twice: both summaries."""
    return seed_demo_store(), seed_demo_store()


def test_seed_demo_store_is_idempotent(store_env: Path) -> None:
    first = seed_demo_store()
    fs = FeatureStore(DEMO_PROJECT)
    made = changes(fs)
    assert "UPDATE_ACL acme/mlplatform/recommendation/user-revenue" in made
    second = seed_demo_store()
    assert first == second
    assert changes(fs) == made  # the second run changed nothing: no ACL, group, grant or row again
    assert "2 organizations (acme, partner), 4 feature groups, 16 features (3 derived), 31,000 rows" in first
    fs = FeatureStore(DEMO_PROJECT)
    users = fs.feature_group("user-signals").read().to_pandas()
    assert len(users) == 2_000 and users["event_time"].nunique() == 1  # latest day for everyone
    assert (users["click_count"] <= users["impression_count"]).all()
    for group in ("user-signals", "item-signals", "user-revenue"):
        assert len(fs.feature_group(group).commits()) == 1, group


def test_lineage_is_two_levels_deep(demo: tuple[str, str]) -> None:
    fs = FeatureStore(DEMO_PROJECT)
    score = fs.feature("user-signals/engagement_score")
    lineage = score.get_lineage()
    assert [n.name for n in lineage.upstream] == ["ctr", "session_minutes"]
    assert sorted(n.name for n in lineage.all_upstream()) == [
        "click_count",
        "ctr",
        "impression_count",
        "session_minutes",
    ]
    graph = lineage.as_graph()
    assert (len(graph.nodes), len(graph.edges)) == (5, 4)
    ctr = fs.feature("user-signals/ctr").get_lineage()
    assert [n.name for n in ctr.upstream] == ["click_count", "impression_count"]
    assert [n.name for n in ctr.downstream] == ["engagement_score"]
    # computed at read time from the stored inputs
    names = ["click_count", "impression_count", "session_minutes", "ctr", "engagement_score"]
    frame = fs.feature_group("user-signals").read(names).to_pandas()
    expected_ctr = frame["click_count"] / frame["impression_count"].where(frame["impression_count"] != 0)
    np.testing.assert_allclose(frame["ctr"], expected_ctr, equal_nan=True)
    expected = expected_ctr * np.log1p(frame["session_minutes"].astype("float64"))
    np.testing.assert_allclose(frame["engagement_score"], expected, rtol=1e-6, equal_nan=True)
    assert 0.02 < frame["ctr"].mean() < 0.08  # a realistic click-through rate


def test_the_revenue_acl_denies_other_members(demo: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    fs = FeatureStore(DEMO_PROJECT)
    monkeypatch.setenv("RAISE_USER", "rita@acme")  # an acme member outside finance
    assert [g.name for g in fs.list_feature_groups()] == ["item-signals", "user-signals"]
    with pytest.raises(PermissionDeniedError, match=r"rita@acme may not read .*/user-revenue: it needs reader access"):
        fs.feature_group("user-revenue")
    with pytest.raises(PermissionDeniedError):
        fs.feature("user-revenue/revenue_30d")
    assert len(fs.feature_group("user-signals").read(["ctr"])) == 2_000  # the rest of acme stays open to her
    monkeypatch.setenv("RAISE_USER", "fiona@acme")  # a member of finance@acme
    revenue = fs.feature_group("user-revenue").read().to_pandas()
    assert len(revenue) == 2_000 and (revenue["revenue_30d"] >= 0).all()
    assert ((revenue["orders_30d"] == 0) == (revenue["revenue_30d"] == 0)).all()


def test_the_partner_grant_lets_acme_read_the_shared_feature_only(
    demo: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAISE_USER", PARTNER_USER)
    own = FeatureStore(PARTNER_PROJECT).feature_group("item-quality")
    truth = own.read().to_pandas().set_index("item_id")
    assert len(truth) == 500
    assert [(g.org, g.features, g.permission, g.active) for g in own.list_external_grants()] == [
        ("acme", ["quality_score"], "read", True)
    ]

    monkeypatch.setenv("RAISE_USER", "alice@acme")
    fs = FeatureStore(DEMO_PROJECT)
    assert str(fs.feature(f"{QUALITY}/quality_score").dtype) == "float64"
    entities = pd.DataFrame({"item_id": [3, 1, 4], "event_time": pd.to_datetime(["2026-10-01"] * 3, utc=True)})
    shared = fs.get_training_data(entities, features=[f"{QUALITY}/quality_score"]).to_pandas()
    assert shared["quality_score"].tolist() == truth.loc[[3, 1, 4], "quality_score"].tolist()
    with pytest.raises(PermissionDeniedError, match="no live grant"):
        fs.feature(f"{QUALITY}/return_rate")  # not in the grant
    # acme's derived feature reads the partner's value across organizations
    items = fs.feature_group("item-signals").read(["price", "quality_per_euro"]).to_pandas().set_index("item_id")
    np.testing.assert_allclose(items["quality_per_euro"], truth["quality_score"] / items["price"])
    upstream = fs.feature("item-signals/quality_per_euro").get_lineage().upstream
    assert sorted(n.group_path + "/" + n.name for n in upstream) == [
        f"{DEMO_PROJECT}/item-signals/price",
        f"{QUALITY}/quality_score",
    ]

    monkeypatch.setenv("RAISE_USER", "zoe@globex")  # an organization with no grant
    with pytest.raises(PermissionDeniedError, match="no live grant giving 'globex'"):
        FeatureStore("globex/ml/rec").feature(f"{QUALITY}/quality_score")


def test_raise_demo_seeds_prints_the_url_and_starts_jupyterlab_on_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    """``raise demo`` (what ``make demo`` runs) up to the moment it becomes JupyterLab; the browser
    suite (tests/browser/test_demo_start.py) opens the URL for real."""
    from raise_ import cli

    execs: list[list[str]] = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: execs.append(argv))  # instead of becoming JupyterLab
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_quickstart.ipynb").write_text("{}")
    monkeypatch.setenv("RAISE_URL", "http://elsewhere:8888/")  # the demo's store is its own
    monkeypatch.delenv("JUPYTER_TOKEN", raising=False)
    for name in ("RAISE_HOME", "RAISE_CATALOG_URL", "RAISE_USER"):
        monkeypatch.delenv(name, raising=False)
    request.addfinalizer(Engine.close_all)  # the store this test opened
    home = tmp_path / "home"
    args = ["demo", "--home", str(home), "--notebook-dir", str(tmp_path), "--no-browser", "--port", "8999"]
    assert cli.main([*args, "--ServerApp.shutdown_no_activity_timeout=3600"]) == 0

    out = capsys.readouterr().out
    token = os.environ["JUPYTER_TOKEN"]
    assert f"demo store at {home}: 2 organizations (acme, partner)" in out
    assert f"  Open  http://127.0.0.1:8999/lab/workspaces/raise-demo?token={token}\n" in out
    assert os.environ["RAISE_HOME"] == str(home) and "RAISE_URL" not in os.environ
    (argv,) = execs
    assert argv[1:3] == ["-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path}" in argv and "--port=8999" in argv and "--no-browser" in argv
    assert "--LabApp.default_url=/lab/workspaces/raise-demo" in argv
    assert argv[-1] == "--ServerApp.shutdown_no_activity_timeout=3600"  # the rest goes to JupyterLab
    assert token not in " ".join(argv)  # Jupyter reads it from the environment, not the command line
    (saved,) = (home / "lab-workspaces").glob("raise-demo-*.jupyterlab-workspace")
    workspace = json.loads(saved.read_text())
    assert workspace["metadata"] == {"id": "raise-demo"}
    layout = workspace["data"]["layout-restorer:data"]
    assert layout["main"]["current"] == "notebook:notebooks/00_quickstart.ipynb"
    assert (layout["left"]["current"], layout["left"]["collapsed"]) == ("raise-sidebar", False)
    assert FeatureStore(DEMO_PROJECT).feature("user-signals/engagement_score").derived_from == (
        "ctr * LN(1 + session_minutes)"
    )


# -- the token `raise demo` prints is the token JupyterLab uses (issue 16 item 11) -----------------

TOKEN_ARGUMENTS = [
    # (arguments after `raise demo ...`, the token Jupyter uses, the arguments left for JupyterLab)
    ([], None, []),
    (["--IdentityProvider.token=user-token"], "user-token", []),
    (["--IdentityProvider.token", "user-token"], "user-token", []),
    (["--ServerApp.token=user-token"], "user-token", []),
    (["--ServerApp.token", "user-token"], "user-token", []),
    (["--NotebookApp.token=user-token"], "user-token", []),
    (["--NotebookApp.token", "user-token"], "user-token", []),
    (["--PasswordIdentityProvider.token=user-token"], "user-token", []),  # Jupyter Server's default provider
    (["--IdentityProvider.token='user-token'"], "user-token", []),  # traitlets drops one pair of quotes
    (["--IdentityProvider.token="], "", []),  # no token
    (["--ServerApp.token="], "", []),
    (["--IdentityProvider.token=a=b&c"], "a=b&c", []),
    (["--ServerApp.token=old", "--IdentityProvider.token=new"], "new", []),  # Jupyter: the provider's wins
    (["--IdentityProvider.token=new", "--ServerApp.token=old"], "new", []),
    (["--NotebookApp.token=nb", "--ServerApp.token=server"], "server", []),
    (["--IdentityProvider.token=first", "--IdentityProvider.token=last"], "last", []),
    (
        ["--ServerApp.shutdown_no_activity_timeout=3600", "--ServerApp.token", "t", "--collaborative"],
        "t",
        ["--ServerApp.shutdown_no_activity_timeout=3600", "--collaborative"],
    ),
    (
        ["--ServerApp.token_file=x", "--IdentityProvider.tokenize=y"],
        None,
        ["--ServerApp.token_file=x", "--IdentityProvider.tokenize=y"],
    ),
]


@pytest.mark.parametrize(("arguments", "token", "rest"), TOKEN_ARGUMENTS)
def test_the_token_among_jupyterlabs_arguments(arguments: list[str], token: str | None, rest: list[str]) -> None:
    from raise_.cli import split_token_arguments

    assert split_token_arguments(arguments) == (token, rest)


@pytest.mark.parametrize("arguments", [["--IdentityProvider.token"], ["--ServerApp.token", "--no-browser"]])
def test_a_token_option_without_a_value_is_refused(arguments: list[str]) -> None:
    from raise_.cli import split_token_arguments

    with pytest.raises(ValueError, match=r"needs a value: --\w+\.token=TOKEN"):
        split_token_arguments(arguments)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[str, list[str], dict[str, str]]:
    """``raise demo --no-seed ... EXTRA`` up to the moment it becomes JupyterLab: what it printed,
    the command it runs, and the environment JupyterLab inherits."""
    from raise_ import cli

    execs: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: execs.append((argv, dict(os.environ))))
    monkeypatch.setenv("JUPYTER_TOKEN", "from-the-environment")
    monkeypatch.delenv("JUPYTER_TOKEN_FILE", raising=False)
    monkeypatch.setenv("RAISE_HOME", str(tmp_path / "home"))  # _demo sets it: restored afterwards
    port = str(_free_port())
    args = ["demo", "--no-seed", "--notebook-dir", str(tmp_path), "--no-browser", "--port", port]
    assert cli.main([*args, *extra]) == 0
    ((argv, env),) = execs
    return capsys.readouterr().out, argv, env


@pytest.mark.parametrize(
    "extra",
    [
        ["--IdentityProvider.token=user-token"],
        ["--IdentityProvider.token", "user-token"],
        ["--ServerApp.token=user-token"],
        ["--ServerApp.token", "user-token"],
        ["--NotebookApp.token=user-token"],
        ["--NotebookApp.token", "user-token"],
    ],
    ids=lambda extra: " ".join(extra),
)
def test_raise_demo_prints_the_token_given_to_jupyterlab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    out, argv, env = _run_demo(tmp_path, monkeypatch, capsys, *extra)

    assert "/lab/workspaces/raise-demo?token=user-token\n" in out, out
    # Jupyter's one source of the token is the environment: no option left to contradict it (or show it in ps)
    assert env["JUPYTER_TOKEN"] == "user-token"
    assert not [a for a in argv if ".token" in a] and "user-token" not in argv


def test_raise_demo_with_an_empty_token_prints_a_url_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, argv, env = _run_demo(tmp_path, monkeypatch, capsys, "--IdentityProvider.token=")

    (line,) = [line for line in out.splitlines() if "Open  " in line]
    assert line.endswith("/lab/workspaces/raise-demo") and "token=" not in line
    assert "No token (--IdentityProvider.token is empty): anyone who can reach this address" in out
    assert argv[-1] == "--IdentityProvider.token=" and "JUPYTER_TOKEN" not in env


def test_raise_demo_without_a_token_option_keeps_jupyter_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _, env = _run_demo(tmp_path, monkeypatch, capsys)

    assert "/lab/workspaces/raise-demo?token=from-the-environment\n" in out
    assert env["JUPYTER_TOKEN"] == "from-the-environment"


@pytest.mark.parametrize("extra", [["--ServerApp.token", "user-token"], ["--IdentityProvider.token="]], ids=str)
def test_the_printed_url_opens_the_jupyterlab_raise_demo_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    """The command ``raise demo`` would become, run for real: the printed token is the server's."""
    out, argv, env = _run_demo(tmp_path, monkeypatch, capsys, *extra)
    (url,) = [line.split("Open  ", 1)[1] for line in out.splitlines() if "Open  " in line]
    port = int(url.split(":")[2].split("/")[0])
    env |= {"JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    token = parse_qs(urlsplit(url).query).get("token", [""])[0]

    def status(with_token: str) -> int:
        query = f"?token={with_token}" if with_token else ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status{query}", timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                code = status(token)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "lab.log").read_text()
                time.sleep(0.25)
        assert code == 200, (tmp_path / "lab.log").read_text()
        if token:
            assert status("from-the-environment") == 403  # what the old demo printed is not the server's
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_the_demo_has_a_published_dashboard_and_an_alert(demo: tuple[str, str]) -> None:
    assert demo[0].endswith("1 dashboard, 1 alert")
    fs = FeatureStore(DEMO_PROJECT)
    (dashboard,) = fs.list_dashboards()
    assert dashboard.name == "engagement-overview" and dashboard.published and dashboard.snapshot_time() is not None
    users = fs.feature_group("user-signals").read(["click_count", "country"], history=True).to_pandas()
    bars = dashboard.view({"country": "FR"}).charts[0]["spec"]["data"]["values"]
    assert bars == [{"country": "FR", "sum": int(users.loc[users["country"] == "FR", "click_count"].sum())}]
    (alert,) = fs.list_alerts()
    assert (alert.name, alert.status, alert.channels) == ("low-ctr", "active", ["email"])
