"""A real Jupyter server with the Raise extension, run in a background thread of this process.

For tests and benchmarks that call the store through REST with the synchronous SDK: the server
gets its own thread and event loop, so a blocking client in the main thread does not stall it.
Token authentication is on, as in any Jupyter server; the extension starts as in a real server
(its scheduler runs), except that it leaves this process's ``RAISE_URL``/``RAISE_TOKEN`` alone
unless ``kernel_env=True`` (the process is usually a test run that also uses embedded stores)::

    with BackgroundServer(home=tmp / "home") as server:
        os.environ["RAISE_URL"], os.environ["RAISE_TOKEN"] = server.url, server.token
        fs = FeatureStore("acme/ml/rec")      # talks to the server
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from jupyter_server.serverapp import ServerApp
from traitlets.config import Config

from raise_jupyter.server_ext.app import RaiseExtension

__all__ = ["BackgroundServer"]


class _ServerApp(ServerApp):
    """A ``ServerApp`` that loads only the extensions its config names, not every extension the
    environment enables (JupyterLab, notebook_shim, ...): some of those patch Jupyter's classes
    for the whole process, which would leak into every later server of a test run."""

    only_extensions: dict[str, bool] = {}  # noqa: RUF012  # set per instance before initialize()

    def init_server_extensions(self) -> None:
        self.jpserver_extensions = {name: False for name in self.jpserver_extensions} | self.only_extensions
        super().init_server_extensions()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BackgroundServer:
    """``start()`` returns once the server listens; ``stop()`` shuts it down and joins its thread."""

    def __init__(
        self,
        *,
        home: str | Path | None = None,
        catalog_url: str | None = None,
        token: str | None = None,
        root_dir: str | Path | None = None,
        config: dict[str, Any] | None = None,
        kernel_env: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.token = token or secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._timeout = timeout
        c = Config(config or {})
        self._extensions = {"raise_jupyter": True, **c.ServerApp.get("jpserver_extensions", {})}
        c.ServerApp.jpserver_extensions = self._extensions
        c.IdentityProvider.token = self.token
        c.RaiseExtension.home = None if home is None else str(home)
        c.RaiseExtension.catalog_url = catalog_url
        c.RaiseExtension.kernel_env = kernel_env
        self._config = c
        self._root_dir = str(root_dir) if root_dir is not None else None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.app: ServerApp | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def extension(self) -> RaiseExtension:
        assert self.app is not None, "the server is not started"
        point = self.app.extension_manager.extension_points["raise_jupyter"]
        app: RaiseExtension = point.app
        return app

    def start(self) -> BackgroundServer:
        self._thread = threading.Thread(target=self._run, name="raise-background-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._timeout):
            raise TimeoutError(f"the Jupyter server did not start within {self._timeout} s")
        if self._error is not None:
            raise RuntimeError("the Jupyter server failed to start") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._open())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _open(self) -> None:
        kwargs: dict[str, Any] = {"root_dir": self._root_dir} if self._root_dir else {}
        app = _ServerApp(
            config=self._config,
            port=self.port,
            port_retries=0,
            ip="127.0.0.1",
            open_browser=False,
            allow_root=True,
            log_level="WARN",
            **kwargs,
        )
        app.init_signal = lambda: None  # type: ignore[method-assign]  # signals belong to the main thread
        app.only_extensions = self._extensions
        app.initialize(argv=[])
        app.start_app()
        self.app = app
        await app._post_start()  # type: ignore[no-untyped-call]  # as ServerApp.start_ioloop: starts the extensions

    def stop(self) -> None:
        if self.app is None or self._loop is None or self._thread is None:
            return
        app, loop = self.app, self._loop

        async def shutdown() -> None:
            app.http_server.stop()
            await app._cleanup()
            loop.stop()

        loop.call_soon_threadsafe(lambda: asyncio.ensure_future(shutdown()))
        self._thread.join(self._timeout)
        self.app = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
