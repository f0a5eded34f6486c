"""``raise serve``: a Jupyter server that is only a Raise store, for a team to share.

It carries what a team deployment needs and nothing else:

- the ``raise_jupyter`` extension alone: every other server extension installed in the
  environment (JupyterLab, terminals, ...) is switched off;
- of Jupyter's own handlers only the login and logout pages and the 404 fallback: no kernels, no
  contents, files, nbconvert, view or static files, no ``/api/*``, so the token a team shares opens
  the store (behind its ACLs and audit log) and cannot run code or read the server's files, such as
  ``catalog.db`` and ``features.duckdb`` when it is started in ``$RAISE_HOME``;
- token authentication: the given token or a generated one;
- no browser; SIGINT and SIGTERM stop it cleanly (the extension's ``stop_extension`` closes the
  scheduler and the store) without Jupyter's interactive "shut down?" question.

Every request acts as the server's user (``RAISE_USER``, else the OS user): a shared token is one
identity. For per-user identities and ACLs run the store behind JupyterHub, or give the server an
``IdentityProvider`` (``--ServerApp.identity_provider_class=...``; see docs/server.md).
"""

from __future__ import annotations

import secrets
import signal
import socket
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from jupyter_server.base.handlers import Template404
from jupyter_server.serverapp import ServerApp
from sqlalchemy.engine import make_url
from tornado.routing import Router

from raise_.config import Settings

__all__ = ["ServeOptions", "StoreServerApp", "serve"]

_WILDCARDS = ("", "0.0.0.0", "::")


def _prune(router: Router, keep: set[type]) -> None:
    rules = router.rules  # type: ignore[attr-defined]  # every router of a tornado Application has rules
    for rule in rules:
        if hasattr(rule.target, "rules"):
            _prune(rule.target, keep)
    rules[:] = [rule for rule in rules if hasattr(rule.target, "rules") or rule.target in keep]


class StoreServerApp(ServerApp):
    """A ``ServerApp`` with only the Raise extension: no kernels, contents, files or terminals."""

    name = "raise-serve"
    description = "A Raise feature store server (Jupyter Server with only the raise_jupyter extension)"
    default_services = ("auth",)  # type: ignore[assignment]  # a subset of the services

    def init_server_extensions(self) -> None:
        # Extensions enabled by the environment's config files are switched off, not just left out.
        self.jpserver_extensions = {name: False for name in self.jpserver_extensions} | {"raise_jupyter": True}
        super().init_server_extensions()

    def init_webapp(self) -> None:
        """Build Jupyter's web application, then drop every handler of its own but login and 404.

        Jupyter registers handlers whatever ``default_services`` says: the contents manager's
        ``/files/`` (any file under the working directory, ``catalog.db`` included when started in
        ``$RAISE_HOME``), ``/static/``, ``/api``, ``/api/spec.yaml``, ``/metrics``, ``/``, and whatever
        services a config file asks for. Raise's routes are added after this, by the extension."""
        super().init_webapp()
        keep: set[type] = {handler for _, handler, *_ in self.identity_provider.get_handlers()}  # type: ignore[misc]
        keep.add(Template404)  # the last rule: 404 for any URL nothing else matches
        _prune(self.web_app.default_router, keep)

    def init_signal(self) -> None:
        # A service: stop at once on either signal, no "Shut down this server (y/[n])?" on a terminal.
        signal.signal(signal.SIGINT, self._signal_stop)
        signal.signal(signal.SIGTERM, self._signal_stop)


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    home: str | None = None
    catalog_url: str | None = None
    base_url: str = "/"
    certfile: str | None = None
    keyfile: str | None = None
    allow_root: bool = False
    rate_limit_tier: str | None = None
    rate_limit_per_minute: int | None = None
    log_level: str = "INFO"
    extra: list[str] = field(default_factory=list)  # more --Class.trait=value settings


def public_url(host: str, port: int, base_url: str, https: bool) -> str:
    """The URL a team member's notebook uses (the machine's name when listening everywhere)."""
    name = socket.gethostname() if host in _WILDCARDS else (f"[{host}]" if ":" in host else host)
    base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    return f"{'https' if https else 'http'}://{name}:{port}{base}"


def _argv(options: ServeOptions, token: str) -> list[str]:
    argv = [
        f"--ServerApp.ip={options.host}",
        f"--ServerApp.port={options.port}",
        "--ServerApp.port_retries=0",  # the URL a team pasted must not move to another port
        f"--ServerApp.base_url={options.base_url}",
        "--ServerApp.open_browser=False",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.log_level={options.log_level}",
        f"--RaiseExtension.log_level={options.log_level}",
        "--RaiseExtension.kernel_env=False",  # no kernels here
    ]
    if options.allow_root:
        argv.append("--ServerApp.allow_root=True")
    if options.certfile:
        argv.append(f"--ServerApp.certfile={options.certfile}")
    if options.keyfile:
        argv.append(f"--ServerApp.keyfile={options.keyfile}")
    if options.home:
        argv.append(f"--RaiseExtension.home={options.home}")
    if options.catalog_url:
        argv.append(f"--RaiseExtension.catalog_url={options.catalog_url}")
    if options.rate_limit_tier:
        argv.append(f"--RaiseExtension.rate_limit_tier={options.rate_limit_tier}")
    if options.rate_limit_per_minute is not None:
        argv.append(f"--RaiseExtension.rate_limit_per_minute={options.rate_limit_per_minute}")
    return argv + list(options.extra)


def serve(options: ServeOptions, out: TextIO = sys.stdout) -> int:
    """Run the server until SIGINT or SIGTERM; prints the lines a team pastes first."""
    token = options.token or secrets.token_urlsafe(32)
    app: Any = StoreServerApp.instance()
    app.initialize(argv=_argv(options, token))  # finds the port; the loop has not started yet
    store = Settings.from_env(options.home, options.catalog_url)
    url = public_url(app.ip, app.port, app.base_url, https=bool(app.certfile))
    catalog = make_url(store.catalog_url).render_as_string(hide_password=True)
    print(f"Raise store server: catalog {catalog}, offline store {store.offline_store_path}", file=out)
    print("Point notebooks, scripts and jobs at it with:", file=out)
    print(f"export RAISE_URL={url}", file=out)
    if options.token:
        print("export RAISE_TOKEN=<the token given with --token>", file=out)
    else:
        print(f"export RAISE_TOKEN={token}", file=out)
    out.flush()
    app.start()  # until a signal stops the loop
    return 0
