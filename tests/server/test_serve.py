"""``raise serve`` as a team runs it: a subprocess that prints the lines to paste, answers
``/raise/v1/ready`` with its token, serves the SDK through ``RAISE_URL``, serves nothing else of
Jupyter (no kernels, files, contents, nbconvert, static files, Lab: its handlers are enumerated),
and stops cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from raise_ import FeatureStore
from raise_.api.errors import AuthenticationError
from raise_.client.remote import RemoteBackend
from raise_jupyter.server_ext.background import _free_port


class Served:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port
        self.lines: list[str] = []
        self.log: list[str] = []
        self._out = threading.Thread(target=self._pump, args=(process.stdout, self.lines), daemon=True)
        self._err = threading.Thread(target=self._pump, args=(process.stderr, self.log), daemon=True)
        self._out.start()
        self._err.start()

    @staticmethod
    def _pump(stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def exported(self, name: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if line.startswith(f"export {name}="):
                    return line.split("=", 1)[1]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"raise serve printed no {name} line: {self.lines}\n" + "\n".join(self.log))

    def get(self, path: str, token: str | None) -> tuple[int, bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/{path}")
        if token:
            request.add_header("Authorization", f"token {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def wait_ready(self, token: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                code, body = self.get("raise/v1/ready", token)
                if code == 200:
                    return dict(json.loads(body))
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)
        raise AssertionError("raise serve did not become ready:\n" + "\n".join(self.log))


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    started: list[Served] = []

    def run(*args: str, cwd: Path = tmp_path) -> Served:
        port = _free_port()
        argv = [sys.executable, "-m", "raise_.cli", "serve", "--port", str(port), "--home", str(tmp_path / "home")]
        if os.geteuid() == 0:
            argv.append("--allow-root")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAISE_URL", "RAISE_TOKEN", "RAISE_SERVE"))}
        env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
        env["RAISE_USER"] = "ops@acme"
        process = subprocess.Popen(
            [*argv, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
        )
        served = Served(process, port)
        started.append(served)
        return served

    yield run
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait(10)


@pytest.mark.parametrize(
    ("given_token", "stop_with"),
    [(None, signal.SIGINT), ("team-secret-token", signal.SIGTERM)],
    ids=["generated-token-sigint", "given-token-sigterm"],
)
def test_a_team_store_server(
    start: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given_token: str | None, stop_with: int
) -> None:
    served = start(*(["--token", given_token] if given_token else []))
    url = served.exported("RAISE_URL")
    printed = served.exported("RAISE_TOKEN")
    assert url == f"http://127.0.0.1:{served.port}/"
    if given_token:
        token = given_token
        assert given_token not in "\n".join(served.lines)  # not echoed
    else:
        token = printed
        assert len(token) >= 40
    assert served.wait_ready(token) == {"status": "ready", "catalog": "sqlite"}
    assert served.get("raise/v1/ready", None)[0] == 403
    assert served.get("raise/v1/ready", "wrong")[0] == 403

    # the SDK through RAISE_URL, exactly as a team member's notebook
    monkeypatch.setenv("RAISE_URL", url)
    monkeypatch.setenv("RAISE_TOKEN", token)
    fs = FeatureStore("acme/ml/rec")
    assert isinstance(fs._backend, RemoteBackend)
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    group.create_feature("clicks", dtype="int64")
    group.write(pa.table({"user_id": [1, 2], "clicks": [10, 20]}))
    assert group.read().to_arrow().sort_by("user_id").column("clicks").to_pylist() == [10, 20]
    assert fs._backend.get_organization("acme").owner == "ops@acme"  # the server's user
    with pytest.raises(AuthenticationError):
        RemoteBackend(url, "wrong").list_organizations()

    # nothing else of Jupyter: no kernels, files, sessions or Lab behind the team's token
    for path in ("api/kernels", "api/contents", "api/sessions", "api/terminals", "lab", "files/x", "tree"):
        assert served.get(path, token)[0] == 404, path
    assert served.get("api/status", token)[0] == 404
    # a published dashboard's page is the store's too, behind the same token
    code, body = served.get("raise/dashboards/overview", token)
    assert code == 404 and "DASHBOARD_NOT_FOUND" in str(body)  # none published
    assert served.get("raise/dashboards/overview", None)[0] == 403
    assert (tmp_path / "home" / "features.duckdb").exists()

    served.process.send_signal(stop_with)
    assert served.process.wait(30) == 0
    served._err.join(5)
    log = "\n".join(served.log)
    assert "Raise: stopped (scheduler and store closed)" in log, log
    assert "Traceback" not in log, log


def test_the_options_reach_the_extension(start: Any, tmp_path: Path) -> None:
    catalog = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    served = start("--catalog-url", catalog, "--rate-limit-per-minute", "3", "--base-url", "/team/store/")
    token = served.exported("RAISE_TOKEN")
    assert served.exported("RAISE_URL") == f"http://127.0.0.1:{served.port}/team/store/"
    deadline = time.monotonic() + 30
    while True:
        try:
            code, _ = served.get("team/store/raise/v1/health", token)
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert code == 200
    assert [served.get("team/store/raise/v1/organizations", token)[0] for _ in range(4)] == [200, 200, 200, 429]
    assert (tmp_path / "elsewhere.db").exists()
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(30) == 0


def test_a_stray_argument_is_refused(start: Any) -> None:
    served = start("--colour", "red")
    assert served.process.wait(30) == 2
    served._err.join(5)
    assert "unrecognized arguments: --colour red" in "\n".join(served.log)


# -- what `raise serve` registers ----------------------------------------------------------------

#: The handlers of Jupyter Server a store server keeps, and why each is needed. Everything else of
#: Jupyter's (files, contents, nbconvert, view, static files, /api/*, Jupyter's own /metrics, the
#: main page) is a way past the store's ACLs and audit log to the server's files or state.
ALLOWED_JUPYTER_HANDLERS = {
    # The identity provider's own pages (IdentityProvider.get_handlers): the browser's form to
    # exchange the token (or a password) for a cookie, and the page that clears it. They read no file.
    "jupyter_server.auth.login.LoginFormHandler": r"/login$",
    "jupyter_server.auth.logout.LogoutHandler": r"/logout$",
    # The last rule of every Jupyter server: a 404 for any URL no other rule matches.
    "jupyter_server.base.handlers.Template404": r"(.*)$",
}

_LIST_HANDLERS = """
import json, sys
from raise_jupyter.server_ext.serve import ServeOptions, StoreServerApp, _argv

def leaves(router):
    for rule in router.rules:
        if hasattr(rule.target, "rules"):  # a host's router: its own rules
            yield from leaves(rule.target)
        else:
            handler = rule.target
            yield [rule.matcher.regex.pattern, f"{handler.__module__}.{handler.__qualname__}"]

port, home, base_url, allow_root, *extra = sys.argv[1:]
options = ServeOptions(port=int(port), home=home, base_url=base_url, allow_root=allow_root == "1", extra=extra)
app = StoreServerApp.instance()
app.initialize(argv=_argv(options, "handler-listing-token"))
print(json.dumps(list(leaves(app.web_app.default_router))))
"""


def served_handlers(tmp_path: Path, base_url: str = "/", *extra: str) -> list[tuple[str, str]]:
    """The (URL pattern, handler class) rules of a ``raise serve`` app after ``initialize``, in a
    subprocess of its own (a ``ServerApp`` is a process-wide singleton and takes the signals)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAISE_URL", "RAISE_TOKEN"))}
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    argv = [str(_free_port()), str(tmp_path / "home"), base_url, "1" if os.geteuid() == 0 else "0", *extra]
    done = subprocess.run(
        [sys.executable, "-c", _LIST_HANDLERS, *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [(pattern, handler) for pattern, handler in json.loads(done.stdout.splitlines()[-1])]


@pytest.mark.parametrize(
    ("base_url", "extra"),
    [
        ("/", ()),
        # Services a deployment's config or command line adds are not registered either.
        (
            "/team/store/",
            (
                "--ServerApp.extra_services=['jupyter_server.files.handlers','jupyter_server.nbconvert.handlers',"
                "'jupyter_server.view.handlers','jupyter_server.services.contents.handlers']",
            ),
        ),
    ],
    ids=["default", "base-url-and-services-asked-for"],
)
def test_raise_serve_registers_only_the_stores_handlers(tmp_path: Path, base_url: str, extra: tuple[str, ...]) -> None:
    rules = served_handlers(tmp_path, base_url, *extra)
    foreign = [
        (pattern, handler)
        for pattern, handler in rules
        if not handler.startswith("raise_jupyter.") and handler not in ALLOWED_JUPYTER_HANDLERS
    ]
    assert foreign == [], "raise serve registers handlers that are not the store's:\n" + "\n".join(
        f"  {pattern}  {handler}" for pattern, handler in foreign
    )
    jupyter = {handler: pattern for pattern, handler in rules if handler in ALLOWED_JUPYTER_HANDLERS}
    assert jupyter == {
        "jupyter_server.auth.login.LoginFormHandler": f"{base_url}login$",
        "jupyter_server.auth.logout.LogoutHandler": f"{base_url}logout$",
        "jupyter_server.base.handlers.Template404": "(.*)$",
    }
    assert rules[-1] == ("(.*)$", "jupyter_server.base.handlers.Template404")  # the fallback stays last
    raise_patterns = [pattern for pattern, handler in rules if handler.startswith("raise_jupyter.")]
    assert f"{base_url}raise/v1/(.*)$" in raise_patterns and f"{base_url}raise/v1/health$" in raise_patterns
    assert f"{base_url}raise/dashboards/([^/]+)$" in raise_patterns  # published dashboards (PRD §13.5)


def test_raise_serve_started_in_its_store_directory_hands_out_no_file(start: Any, tmp_path: Path) -> None:
    """Started inside ``$RAISE_HOME``, the server's working directory holds ``catalog.db`` and
    ``features.duckdb``: the team's token must not fetch them, list them or render them."""
    home = tmp_path / "home"
    home.mkdir()
    secret = b"a file of the server's, not the store's"
    (home / "notes.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (home / "secret.txt").write_bytes(secret)
    served = start("--token", "team-secret-token", cwd=home)
    token = "team-secret-token"
    served.wait_ready(token)
    assert (home / "catalog.db").read_bytes().startswith(b"SQLite format 3\x00")  # the store's, in use
    paths = [
        "files/catalog.db",
        "files/features.duckdb",
        "files/secret.txt",
        "files/notes.ipynb",
        "api/contents",
        "api/contents/catalog.db",
        "api/contents/secret.txt?content=1&format=base64",
        "api/resolvePath?path=catalog.db",
        "nbconvert/html/notes.ipynb",
        "nbconvert/script/notes.ipynb?download=true",
        "api/nbconvert",
        "view/secret.txt",
        "view/notes.ipynb",
        "static/style/bootstrap.min.css",
        "static/favicon.ico",
        "favicon.ico",
        "robots.txt",
        "custom/custom.css",
        "api/spec.yaml",
        "api/status",
        "api/me",
        "api",
        "metrics",
        "",
        "tree",
        "edit/secret.txt",
        "notebooks/notes.ipynb",
    ]
    answers = {path: served.get(path, token) for path in paths}
    opened = {path: code for path, (code, _) in answers.items() if code not in (403, 404)}
    assert opened == {}, f"answered with the team's token: {opened}"
    for path, (_, body) in answers.items():
        assert secret not in body and b"SQLite format" not in body, path
    # the store itself answers, and the login form still renders (without Jupyter's stylesheets)
    assert served.wait_ready(token)["status"] == "ready"
    code, body = served.get("login", None)
    assert code == 200 and b"<form" in body
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(30) == 0
