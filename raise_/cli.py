"""The ``raise`` command: ``raise info``, ``raise seed-demo``, ``raise demo``, ``raise serve``,
``raise worker``, ``raise run`` and ``raise lineage export``.

``raise demo`` (what ``make demo`` runs) seeds the demo store, then replaces itself with JupyterLab
on it, opened on ``notebooks/00_quickstart.ipynb`` with the Raise sidebar showing, after printing
the URL to open (with its token); it needs the jupyter extra.

``raise serve`` starts a Jupyter server that is only a Raise store (the ``raise_jupyter``
extension, token auth, no kernels or files) for a team to share through ``RAISE_URL``; it needs
the server extra (``pip install 'raise-featurestore[server]'``).

``raise worker`` runs the scheduler of an embedded store until SIGINT/SIGTERM; ``raise run RUN_ID``
executes one pending run (what the subprocess launcher, an Airflow task or a pod runs).

``raise lineage export PROJECT_PATH --output FILE`` writes the OpenLineage events of the project's
job runs (rebuilt from the catalog) to a JSON-lines file; it needs the openlineage extra.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import secrets
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from raise_.config import Settings

__all__ = ["main"]


def _info(_: argparse.Namespace) -> int:
    from raise_.engine import Engine

    settings = Settings.from_env()
    engine = Engine.shared(settings)
    print(f"RAISE_HOME     {settings.home}")
    print(f"catalog        {engine.db.engine.url.render_as_string(hide_password=True)}")
    print(f"schema         {engine.db.current_revision()}")
    orgs = engine.service.list_organizations()
    print(f"organizations  {', '.join(o.name for o in orgs) or '(none)'}")
    return 0


def _seed_demo(args: argparse.Namespace) -> int:
    from raise_.demo import seed_demo_store

    summary = seed_demo_store()
    print(summary)
    return 0


#: The JupyterLab workspace ``raise demo`` opens (kept in the demo store's folder, rewritten at each start).
DEMO_WORKSPACE = "raise-demo"
DEMO_NOTEBOOK = "notebooks/00_quickstart.ipynb"
#: The id of the Raise sidebar's panel (labextension/src/widget.tsx), as JupyterLab's layout restorer knows it.
SIDEBAR_ID = "raise-sidebar"


def demo_workspace(notebook: str | None) -> dict[str, Any]:
    """A JupyterLab workspace: ``notebook`` open in the main area, the Raise sidebar open on the left.

    A workspace is what JupyterLab restores when it loads ``/lab/workspaces/<name>``: this is the one
    documented, version-stable way to choose what a fresh JupyterLab shows (no page setting opens a
    side panel), and it touches neither the user's settings nor their other workspaces."""
    main: dict[str, Any] = {"dock": None, "current": None}
    data: dict[str, Any] = {}
    if notebook:
        widget = f"notebook:{notebook}"
        main = {"dock": {"type": "tab-area", "currentIndex": 0, "widgets": [widget]}, "current": widget}
        data[widget] = {"data": {"path": notebook, "factory": "Notebook"}}
    data["layout-restorer:data"] = {
        "main": main,
        "left": {"collapsed": False, "visible": True, "current": SIDEBAR_ID, "widgets": ["filebrowser", SIDEBAR_ID]},
        "right": {"collapsed": True, "visible": True, "widgets": []},
    }
    return {"data": data, "metadata": {"id": DEMO_WORKSPACE}}


def _free_port(host: str, start: int) -> int:
    """The first port from ``start`` that nothing listens on (JupyterLab's own choice would not be
    known here, and the URL is printed before it starts)."""
    for port in range(start, start + 100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host if host not in ("localhost", "") else "127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port in {start}..{start + 99}")


#: A Jupyter token option: ``--IdentityProvider.token`` (or a subclass's, such as Jupyter Server's
#: default ``PasswordIdentityProvider``), and the older ``--ServerApp.token`` / ``--NotebookApp.token``;
#: ``=VALUE`` or the value as the next argument, as traitlets reads them.
_TOKEN_OPTION = re.compile(r"--(?P<owner>\w*IdentityProvider|ServerApp|NotebookApp)\.token(?:=(?P<value>.*))?", re.S)


def _token_rank(owner: str) -> int:
    # Jupyter Server takes IdentityProvider.token over the deprecated ServerApp.token (over NotebookApp's).
    return 2 if owner.endswith("IdentityProvider") else 1 if owner == "ServerApp" else 0


def split_token_arguments(arguments: list[str]) -> tuple[str | None, list[str]]:
    """The Jupyter token among ``arguments`` (``None`` when none is given, ``""`` for no token), and
    the other arguments.

    Every spelling is taken out: ``raise demo`` hands the token to Jupyter itself (in the environment,
    not on the command line where ``ps`` shows it), so the URL it prints carries the token the server
    really uses. Where several are given, the one Jupyter Server would use wins: an identity
    provider's over ``ServerApp``'s over ``NotebookApp``'s, the last of each."""
    found: dict[int, str] = {}
    rest: list[str] = []
    position = 0
    while position < len(arguments):
        argument = arguments[position]
        match = _TOKEN_OPTION.fullmatch(argument)
        if match is None:
            rest.append(argument)
            position += 1
            continue
        value = match["value"]
        if value is None:
            following = arguments[position + 1] if position + 1 < len(arguments) else None
            if following is None or following.startswith("-"):
                raise ValueError(f"{argument} needs a value: {argument}=TOKEN ({argument}= for no token)")
            value = following
            position += 1
        position += 1
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]  # traitlets drops one pair of quotes around a string
        found[_token_rank(match["owner"])] = value
    return (found[max(found)] if found else None), rest


def _demo(args: argparse.Namespace) -> int:
    try:
        importlib.import_module("jupyterlab")
        workspaces = importlib.import_module("jupyterlab_server.workspaces_handler")
    except ImportError as exc:
        print(f"raise demo needs JupyterLab ({exc}); pip install 'raise-featurestore[jupyter]'.", file=sys.stderr)
        return 2
    try:
        given_token, extra = split_token_arguments(args.extra)
    except ValueError as exc:
        print(f"raise demo: {exc}", file=sys.stderr)
        return 2
    home = Path(args.home or os.environ.get("RAISE_HOME") or ".raise-demo").resolve()
    root = Path(args.notebook_dir or ".").resolve()
    os.environ["RAISE_HOME"] = str(home)
    for name in ("RAISE_URL", "RAISE_TOKEN"):  # the demo store is this one, not a server's
        os.environ.pop(name, None)
    if not args.no_seed:
        from raise_.demo import seed_demo_store

        print(seed_demo_store(), flush=True)
    notebook = args.notebook
    if notebook and not (root / notebook).is_file():
        print(f"raise demo: {root / notebook} does not exist; opening JupyterLab without it.", file=sys.stderr)
        notebook = None
    workspace_dir = home / "lab-workspaces"
    workspaces.WorkspacesManager(str(workspace_dir)).save(DEMO_WORKSPACE, json.dumps(demo_workspace(notebook)))
    if given_token == "":
        token = ""  # no token: said on the command line (an empty value; a secret never goes there)
        for name in ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE"):
            os.environ.pop(name, None)
        extra.append("--IdentityProvider.token=")
    else:
        token = given_token or os.environ.get("JUPYTER_TOKEN") or _token_file() or secrets.token_hex(24)
        os.environ["JUPYTER_TOKEN"] = token  # read by Jupyter Server: not on the command line, where ps shows it
    port = args.port or _free_port(args.ip, 8888)
    host = "127.0.0.1" if args.ip in ("localhost", "127.0.0.1", "0.0.0.0", "", "::") else args.ip
    path = f"lab/workspaces/{DEMO_WORKSPACE}"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--ip={args.ip}",
        f"--port={port}",
        "--ServerApp.port_retries=0",  # the printed URL must stay true
        f"--LabApp.workspaces_dir={workspace_dir}",
        f"--LabApp.default_url=/{path}",
    ]
    if args.no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI run as root
    command += extra
    url = f"http://{host}:{port}/{path}" + (f"?{urlencode({'token': token})}" if token else "")
    unguarded = (
        "  No token (--IdentityProvider.token is empty): anyone who can reach this address can use the server.\n"
        if not token
        else ""
    )
    print(
        f"\nRaise demo: JupyterLab on the demo store at {home}\n"
        f"  Open  {url}\n"
        f"{unguarded}"
        f"  ({notebook or 'JupyterLab'} with the Raise sidebar; Ctrl-C stops the server)\n",
        flush=True,
    )
    os.execv(sys.executable, command)
    return 0  # pragma: no cover - execv does not return


def _token_file() -> str | None:
    """The token in ``$JUPYTER_TOKEN_FILE``, which Jupyter reads when ``$JUPYTER_TOKEN`` is not set."""
    path = os.environ.get("JUPYTER_TOKEN_FILE")
    return Path(path).read_text() if path else None


def _demo_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="seed the demo store and start JupyterLab on it (what `make demo` runs)",
        description=(
            "Seed the demo store (idempotent), then start JupyterLab on it, opened on "
            f"{DEMO_NOTEBOOK} with the Raise sidebar showing, and print the URL with its token. "
            "Further arguments go to JupyterLab (e.g. --ServerApp.shutdown_no_activity_timeout=3600). "
            "A token given as --IdentityProvider.token=T (or the older --ServerApp.token, --NotebookApp.token) "
            "is the one the server uses and the URL carries; an empty one (--IdentityProvider.token=) means "
            "no token. Otherwise $JUPYTER_TOKEN, else a generated one."
        ),
    )
    p.add_argument("--home", help="the demo store's directory (default: $RAISE_HOME, else ./.raise-demo)")
    p.add_argument("--notebook-dir", help="JupyterLab's root directory (default: the current one)")
    p.add_argument("--notebook", default=DEMO_NOTEBOOK, help=f"notebook to open, under it (default {DEMO_NOTEBOOK})")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default: the first free one from 8888)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser (headless machines)")
    p.add_argument("--no-seed", action="store_true", help="start JupyterLab on the store as it is")
    p.set_defaults(func=_demo)


def _serve(args: argparse.Namespace) -> int:
    try:
        # Imported by name: raise_ itself never imports Jupyter (DESIGN §1).
        serve = importlib.import_module("raise_jupyter.server_ext.serve")
    except ImportError as exc:
        print(
            f"raise serve needs Jupyter Server ({exc}); pip install 'raise-featurestore[server]'.",
            file=sys.stderr,
        )
        return 2
    unknown = [a for a in args.extra if not (a.startswith("--") and "." in a.split("=", 1)[0])]
    if unknown:
        print(f"raise serve: unrecognized arguments: {' '.join(unknown)}", file=sys.stderr)
        return 2
    options = serve.ServeOptions(
        host=args.host,
        port=args.port,
        token=args.token or os.environ.get("RAISE_SERVE_TOKEN") or None,
        home=args.home,
        catalog_url=args.catalog_url,
        base_url=args.base_url,
        certfile=args.certfile,
        keyfile=args.keyfile,
        allow_root=args.allow_root,
        rate_limit_tier=args.rate_limit_tier,
        rate_limit_per_minute=args.rate_limit_per_minute,
        log_level=args.log_level,
        extra=args.extra,
    )
    result: int = serve.serve(options)
    return result


def _serve_online(args: argparse.Namespace) -> int:
    try:
        import tornado  # noqa: F401

        from raise_.serving.server import OnlineServerOptions, serve_online
    except ImportError as exc:
        print(f"raise serve-online needs tornado ({exc}); pip install 'raise-featurestore[server]'.", file=sys.stderr)
        return 2
    options = OnlineServerOptions(
        host=args.host,
        port=args.port,
        home=args.home,
        catalog_url=args.catalog_url,
        online_url=args.online_url,
        threads=args.threads,
        near_cache_ttl=args.near_cache_ttl,
    )
    return serve_online(options)


def _serve_online_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve-online",
        help="run the lean online lookup server (no Jupyter): POST /v1/features:lookup with X-API-Key",
        description=(
            "Serve online lookups (seed 002 §11: /v1/features:lookup, /v1/features:batchLookup) from the "
            "online store, with API keys (fs.create_api_key), /health, /ready and /metrics. It opens the "
            "catalog and the online store only: run it beside the process that owns the store."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=6570, help="port to listen on (default 6570)")
    p.add_argument("--home", help="store directory (default: $RAISE_HOME, else ~/.raise)")
    p.add_argument("--catalog-url", help="catalog database URL (default: $RAISE_CATALOG_URL, else SQLite in home)")
    p.add_argument("--online-url", help="online store URL (default: $RAISE_ONLINE_URL, else $RAISE_HOME/online.db)")
    p.add_argument("--threads", type=int, default=0, help="lookup threads (0, the default: the event loop; N: a pool)")
    p.add_argument("--near-cache-ttl", type=float, default=0.5, help="seconds a hot key's answer is reused (≤ 1)")
    p.set_defaults(func=_serve_online)


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run a store server for a team (Jupyter Server with only the Raise extension)",
        description=(
            "Run a Jupyter server that serves only the Raise store under {base_url}raise/v1/, with token "
            "authentication and no kernels, files or terminals. Prints the RAISE_URL and RAISE_TOKEN "
            "lines that point notebooks at it. Stop it with Ctrl-C or SIGTERM. Further --Class.trait=value "
            "arguments go to Jupyter Server (e.g. --ServerApp.trust_xheaders=True behind a proxy)."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--token", help="the token clients send (default: $RAISE_SERVE_TOKEN, else a generated one)")
    p.add_argument("--home", help="store directory (default: $RAISE_HOME, else ~/.raise)")
    p.add_argument("--catalog-url", help="catalog database URL (default: $RAISE_CATALOG_URL, else SQLite in home)")
    p.add_argument("--base-url", default="/", help="URL prefix, behind a proxy (default /)")
    p.add_argument("--certfile", help="TLS certificate (PEM) to serve HTTPS")
    p.add_argument("--keyfile", help="TLS private key (PEM) for --certfile")
    p.add_argument("--allow-root", action="store_true", help="allow running as root (containers)")
    p.add_argument("--rate-limit-tier", choices=["free", "standard", "enterprise"], help="requests per minute per user")
    p.add_argument("--rate-limit-per-minute", type=int, help="requests per minute per user (overrides the tier)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"])
    p.set_defaults(func=_serve)


def _worker(args: argparse.Namespace) -> int:
    from raise_.scheduling.worker import worker_command

    return worker_command(poll_seconds=args.poll)


def _run(args: argparse.Namespace) -> int:
    from raise_.runs.entry import run_command

    return run_command(args.run_id)


def _runs_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = sub.add_parser(
        "worker",
        help="run the scheduler of an embedded store (alert checks, schedules) until Ctrl-C or SIGTERM",
    )
    w.add_argument("--poll", type=float, default=5.0, help="seconds between looks for due items (default 5)")
    w.set_defaults(func=_worker)
    r = sub.add_parser("run", help="execute one pending run (what launchers start)")
    r.add_argument("run_id", help="the run's id")
    r.set_defaults(func=_run)


def _lineage_export(args: argparse.Namespace) -> int:
    from raise_.errors import RaiseError

    try:
        from raise_.orchestration.openlineage.emitter import LineageSettings
        from raise_.orchestration.openlineage.export import export_run_events
    except ImportError as exc:
        print(
            f"raise lineage export needs openlineage-python ({exc}); pip install 'raise-featurestore[openlineage]'.",
            file=sys.stderr,
        )
        return 2
    from raise_.client.backend import open_backend

    output = Path(args.output)
    try:
        # The store as the SDK opens it: this process's (RAISE_HOME), or the server's at RAISE_URL.
        count = export_run_events(
            open_backend(Settings.from_env()),
            args.project_path,
            output,
            since=args.since,
            namespace=LineageSettings.from_env().namespace,
        )
    except RaiseError as exc:
        print(f"raise lineage export: {exc.message}", file=sys.stderr)
        return 2
    print(f"wrote {count} events to {output}")
    return 0


def _lineage_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lineage = sub.add_parser("lineage", help="OpenLineage events of job runs")
    actions = lineage.add_subparsers(dest="lineage_command", required=True)
    e = actions.add_parser(
        "export",
        help="write the OpenLineage events of a project's job runs to a JSON-lines file",
        description=(
            "Rebuild from the catalog the OpenLineage run events of every run of every job of PROJECT_PATH "
            "(START for each run that started, COMPLETE/FAIL/ABORT for each that ended), the same events "
            "RAISE_OPENLINEAGE_URL receives live, and write them to FILE, one JSON event per line, oldest first."
        ),
    )
    e.add_argument("project_path", metavar="PROJECT_PATH", help="org/domain/project")
    e.add_argument("--output", "-o", required=True, metavar="FILE", help="the JSON-lines file to write (replaced)")
    e.add_argument("--since", metavar="ISO", help="only events at or after this time (e.g. 2026-01-01T00:00:00Z)")
    e.set_defaults(func=_lineage_export)


def jobs_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from raise_.orchestration.job_command import jobs_parser as add

    add(sub)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="raise", description="Raise feature store")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="show where the store lives and what it holds").set_defaults(func=_info)
    sub.add_parser("seed-demo", help="create the demo organization, groups and features (idempotent)").set_defaults(
        func=_seed_demo
    )
    _demo_parser(sub)
    _serve_parser(sub)
    _serve_online_parser(sub)
    _runs_parsers(sub)
    _lineage_parser(sub)
    jobs_parser(sub)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("serve", "demo"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
