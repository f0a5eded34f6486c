"""What the browser tests drive: a JupyterLab started for them (:class:`Lab`) and a page on it
(:class:`LabPage`), with the steps the tests take; the fixtures are in ``conftest.py``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from raise_ import FeatureStore

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

REPO = Path(__file__).resolve().parents[2]
#: How long a step may take on a slow, busy machine before the test fails (milliseconds).
STEP_MS = 90_000
#: How long JupyterLab may take to start (seconds).
START_S = 240.0
DEMO_PROJECT = "acme/mlplatform/recommendation"


def check_sidebar_installed() -> None:
    """The JupyterLab under test sees the environment's and the system's labextensions only."""
    from jupyter_core.paths import ENV_JUPYTER_PATH, SYSTEM_JUPYTER_PATH

    places = [Path(p) / "labextensions" / "raise-featurestore" for p in [*ENV_JUPYTER_PATH, *SYSTEM_JUPYTER_PATH]]
    if not any((place / "package.json").is_file() for place in places):
        pytest.fail(
            "The Raise sidebar is not installed as a JupyterLab extension (looked in "
            f"{', '.join(map(str, places))}): build and install it with `make frontend`.",
            pytrace=False,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a JupyterLab under test: no store or server of the developer's, and no
    Jupyter or IPython configuration, kernels or settings of theirs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAISE_", "JUPYTER", "MAKE", "MFLAGS"))}
    for name in ("config", "data", "runtime", "ipython"):
        (tmp / name).mkdir(parents=True, exist_ok=True)
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def wait_until_serving(url: str, proc: subprocess.Popen[Any], log: Path, timeout: float = START_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{tail(log)}", pytrace=False)
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=10) as answer:
            if answer.status == 200:
                return
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer {url} within {timeout:.0f} s:\n{tail(log)}", pytrace=False)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(proc: subprocess.Popen[Any]) -> None:
    """End the process group this test started (JupyterLab and its kernels)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


class Lab:
    """A running JupyterLab with the Raise extensions on a seeded demo store."""

    def __init__(self, root: Path, home: Path, url: str, token: str) -> None:
        self.root, self.home, self.url, self.token = root, home, url, token

    def lab_url(self) -> str:
        return f"{self.url}lab?reset&token={self.token}"

    def store(self, path: str = DEMO_PROJECT) -> FeatureStore:
        """The SDK on the same store, through this server, as the sidebar's user: what the page
        must show comes from here."""
        saved = {k: os.environ.get(k) for k in ("RAISE_URL", "RAISE_TOKEN")}
        os.environ.update(RAISE_URL=self.url, RAISE_TOKEN=self.token)
        try:
            return FeatureStore(path)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def notebook(self, name: str, *cells: str) -> str:
        """Write a notebook of code cells under the server's root; its path for ``docmanager:open``."""
        path = self.root / "notebooks" / f"{name}.ipynb"
        path.parent.mkdir(exist_ok=True)
        nb = {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"cell-{i}",
                    "metadata": {},
                    "outputs": [],
                    "source": source,
                }
                for i, source in enumerate(cells)
            ],
            "metadata": {
                "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        path.write_text(json.dumps(nb, indent=1))
        return path.relative_to(self.root).as_posix()


class LabPage:
    """A JupyterLab page and the steps the tests take on it, each screenshotted on demand."""

    def __init__(self, page: Page, shots: Path, name: str) -> None:
        self.page, self._shots, self._name, self._step = page, shots, name, 0

    def shot(self, what: str) -> Path:
        self._step += 1
        path = self._shots / f"{self._name}-{self._step:02d}-{what}.png"
        self.page.screenshot(path=str(path))
        return path

    def load(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_function("() => window.jupyterapp !== undefined", timeout=STEP_MS)
        self.page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")
        self.dismiss_news()

    def dismiss_news(self, timeout_ms: float = 1_500) -> None:
        """Answer "No" to the "official Jupyter news" toast if it shows up within ``timeout_ms``."""
        no = self.page.get_by_role("button", name="No", exact=True)
        with contextlib.suppress(Exception):
            no.wait_for(state="visible", timeout=timeout_ms)
            no.click()
            no.wait_for(state="hidden", timeout=10_000)  # it slides away

    def command(self, command: str, args: dict[str, Any] | None = None) -> Any:
        return self.page.evaluate(
            "async ([id, args]) => { await window.jupyterapp.commands.execute(id, args); return true; }",
            [command, args or {}],
        )

    # -- the sidebar

    @property
    def sidebar(self) -> Locator:
        return self.page.get_by_test_id("raise-sidebar")

    def open_sidebar(self) -> Locator:
        from playwright.sync_api import expect

        self.command("raise:open-sidebar")
        expect(self.sidebar).to_be_visible()
        expect(self.sidebar.get_by_test_id("raise-footer")).to_contain_text("Updated", timeout=STEP_MS)
        return self.sidebar

    def node(self, kind: str, path: str) -> Locator:
        return self.sidebar.locator(f'[data-testid="raise-node"][data-kind="{kind}"][data-path="{path}"]')

    def feature(self, path: str) -> Locator:
        return self.sidebar.locator(f'[data-testid="raise-feature"][data-path="{path}"]')

    def expand(self, path: str) -> None:
        """Open every level of the tree down to ``path`` (``org/domain/project[/group]``)."""
        from playwright.sync_api import expect

        kinds = ["organization", "domain", "project", "group"]
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            node = self.node(kinds[depth - 1], "/".join(parts[:depth]))
            expect(node).to_be_visible()
            if node.get_attribute("aria-expanded") != "true":
                node.click()
            expect(node).to_have_attribute("aria-expanded", "true")
        # loaded: no "Loading…" note left under it
        expect(self.sidebar.locator(".jp-RaiseTree-note.jp-mod-loading")).to_have_count(0)

    def paths(self, locator: Locator) -> list[str]:
        return [p or "" for p in locator.evaluate_all("(els) => els.map(e => e.dataset.path)")]

    # -- notebooks

    def open_notebook(self, path: str) -> Locator:
        """Open a notebook and wait for its kernel to be ready."""
        from playwright.sync_api import expect

        self.page.evaluate(
            """async (path) => {
                const widget = await window.jupyterapp.commands.execute('docmanager:open', {path});
                await widget.context.ready;
                await widget.sessionContext.ready;
            }""",
            path,
        )
        name = path.rsplit("/", 1)[-1]
        tab = self.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
        expect(tab).to_have_text(name)
        panel = self.page.locator(".jp-NotebookPanel:visible")
        expect(panel.locator(".jp-Cell").first).to_be_visible()
        return panel

    def run_all(self, panel: Locator, outputs: int) -> None:
        """Run every cell; wait until ``outputs`` cells show an output."""
        from playwright.sync_api import expect

        self.command("notebook:run-all-cells")
        expect(panel.locator(".jp-Cell .jp-OutputArea-output")).to_have_count(outputs, timeout=3 * STEP_MS)
        expect(panel.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)
