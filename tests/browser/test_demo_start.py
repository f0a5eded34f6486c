"""``make demo`` itself: it seeds the store, prints the URL with its token, and that URL opens
JupyterLab on notebooks/00_quickstart.ipynb with the Raise sidebar showing the demo catalog.

The test runs the Makefile's ``demo`` target headless (``DEMO_ARGS=--no-browser``), with what it
installs taken as done (``make -o``: this run's environment is the one under test), on a temporary
store and a copy of the notebook (JupyterLab may write to what it opens).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from .lab_driver import (
    REPO,
    STEP_MS,
    LabPage,
    check_sidebar_installed,
    free_port,
    isolated_env,
    stop,
    wait_until_serving,
)

pytestmark = pytest.mark.slow

URL_LINE = re.compile(r"^\s*Open\s+(http://\S+/lab/workspaces/raise-demo\?token=(\w+))\s*$")


class Output:
    """The lines a process prints, collected by a thread (and copied to a log file)."""

    def __init__(self, proc: subprocess.Popen[str], log: Path) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(proc, log), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str], log: Path) -> None:
        assert proc.stdout is not None
        with log.open("w") as out:
            for line in proc.stdout:
                out.write(line)
                out.flush()
                with self._changed:
                    self.lines.append(line.rstrip("\n"))
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if match := pattern.search(line):
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    pytest.fail(
                        f"make demo printed no line matching {pattern.pattern!r}:\n" + "\n".join(self.lines[-40:]),
                        pytrace=False,
                    )
                self._changed.wait(min(left, 1.0))


def test_make_demo_opens_the_quickstart_with_the_sidebar(browser: Browser, tmp_path: Path, artifacts: Path) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is not installed: the demo starts with `make demo`.", pytrace=False)
    check_sidebar_installed()
    root, home = tmp_path / "root", tmp_path / "home"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(REPO / "notebooks" / "00_quickstart.ipynb", root / "notebooks")
    port = free_port()
    command = [
        "make",
        "--no-print-directory",
        "-o",
        ".venv/.stamp-jupyter",
        "-o",
        "raise_jupyter/labextension/package.json",
        "demo",
        f"DEMO_HOME={home}",
        f"DEMO_NOTEBOOK_DIR={root}",
        f"DEMO_ARGS=--no-browser --port={port}",
    ]
    proc = subprocess.Popen(
        command,
        cwd=REPO,
        env=isolated_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    log = artifacts / "make-demo.log"
    output = Output(proc, log)
    try:
        summary = output.wait_for(re.compile(r"demo store at (\S+): (.*)$"), timeout=300)
        assert Path(summary[1]) == home
        assert summary[2].startswith("2 organizations (acme, partner), 4 feature groups")
        url, token = output.wait_for(URL_LINE, timeout=60).groups()
        assert url.startswith(f"http://127.0.0.1:{port}/")
        wait_until_serving(f"http://127.0.0.1:{port}/api/status?token={token}", proc, log)

        context = browser.new_context(viewport={"width": 1440, "height": 960})
        page = context.new_page()
        page.set_default_timeout(STEP_MS)
        lab = LabPage(page, artifacts, "test_make_demo")
        try:
            page.goto(url)  # as printed: no ?reset, the demo's workspace decides the layout
            lab.dismiss_news()
            tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
            expect(tab).to_have_text("00_quickstart.ipynb")
            notebook = page.locator(".jp-NotebookPanel:visible")
            expect(notebook.locator(".jp-MarkdownCell h1").first).to_contain_text("Raise in ten minutes")
            current = page.locator(".jp-SideBar .lm-TabBar-tab.lm-mod-current")
            expect(current.and_(page.locator('[data-id="raise-sidebar"]'))).to_have_count(1)
            expect(lab.sidebar).to_be_visible()
            organizations = lab.sidebar.locator('[data-testid="raise-node"][data-kind="organization"]')
            expect(organizations).to_have_count(2)
            assert lab.paths(organizations) == ["acme", "partner"]
            expect(lab.sidebar.get_by_test_id("raise-version-banner")).to_have_count(0)
            lab.dismiss_news(timeout_ms=10_000)  # a fresh JupyterLab asks; the question covers the notebook
            lab.shot("quickstart-and-sidebar")
        except Exception:
            page.screenshot(path=str(artifacts / "test_make_demo-FAILED.png"))
            raise
        finally:
            context.close()
    finally:
        stop(proc)
