"""Real-browser tests: JupyterLab with the Raise extensions on a seeded demo store, driven in Debian's
Chromium by Playwright.

One JupyterLab (a subprocess, on a temporary ``RAISE_HOME`` seeded with ``raise seed-demo``) and one
Chromium serve every test of this package, and end with its last test; each test gets a fresh page
(``/lab?reset``: no restored layout).
Screenshots of each step go to ``$RAISE_BROWSER_ARTIFACTS`` (default ``test-artifacts/browser``),
with JupyterLab's log and the browser console. Waits are on conditions with generous limits (the
machines are slow and busy), never on fixed sleeps.

Chromium is ``/usr/bin/chromium`` (``$RAISE_TEST_CHROMIUM`` overrides; ``make test`` installs it with
apt-get): Playwright's own browser download (``playwright install``) is never used. Without Chromium or
Playwright the tests fail, saying what to install: they are not skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .lab_driver import (
    REPO,
    STEP_MS,
    Lab,
    LabPage,
    check_sidebar_installed,
    free_port,
    isolated_env,
    stop,
    wait_until_serving,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path(os.environ.get("RAISE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


# -- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and logs go (``$RAISE_BROWSER_ARTIFACTS``, else ``test-artifacts/browser``)."""
    path = Path(os.environ.get("RAISE_BROWSER_ARTIFACTS") or REPO / "test-artifacts" / "browser")
    path.mkdir(parents=True, exist_ok=True)
    return path


# Package scope, not session: between its calls, Playwright's sync API leaves its event loop marked
# as running in this thread, which would break every later test that runs an asyncio loop.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's chromium. Install it with "
            "`apt-get install -y --no-install-recommends chromium` (as root; `make test` does it), or point "
            "RAISE_TEST_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:
        pytest.fail(f"Playwright is not installed ({exc}): pip install -e '.[dev]'.", pytrace=False)
    expect.set_options(timeout=STEP_MS)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# -- JupyterLab ---------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def lab(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[Lab]:
    check_sidebar_installed()
    tmp = tmp_path_factory.mktemp("lab")
    root, home = tmp / "root", tmp / "home"
    root.mkdir()
    token = secrets.token_hex(16)
    env = isolated_env(tmp, RAISE_HOME=str(home), JUPYTER_TOKEN=token)
    seeded = subprocess.run(
        [sys.executable, "-m", "raise_.cli", "seed-demo"], env=env, capture_output=True, text=True, timeout=300
    )
    assert seeded.returncode == 0, seeded.stderr
    # No "official Jupyter news?" question: it would cover the notebook's corner.
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        f"--LabApp.user_settings_dir={tmp / 'settings'}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run JupyterLab commands
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = artifacts / "jupyterlab.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(f"{url}api/status?token={token}", proc, log)
        yield Lab(root, home, url, token)
    finally:
        stop(proc)


# -- pages --------------------------------------------------------------------------------------


@pytest.fixture
def lab_page(request: pytest.FixtureRequest, browser: Browser, lab: Lab, artifacts: Path) -> Iterator[LabPage]:
    """A fresh page (new browser context) on the session's JupyterLab, loaded and ready."""
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"[pageerror] {exc}"))
    lab_page = LabPage(page, artifacts, name)
    try:
        lab_page.load(lab.lab_url())
        yield lab_page
    finally:
        if request.node.stash.get(_FAILED, False):
            with contextlib.suppress(Exception):
                page.screenshot(path=str(artifacts / f"{name}-FAILED.png"))
        (artifacts / f"{name}-console.log").write_text("\n".join(console) + "\n")
        context.close()
