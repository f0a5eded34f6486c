"""The ``raise`` command: ``raise info``, ``raise seed-demo`` and ``raise serve``.

``raise serve`` starts a Jupyter server that is only a Raise store (the ``raise_jupyter``
extension, token auth, no kernels or files) for a team to share through ``RAISE_URL``; it needs
the server extra (``pip install 'raise-featurestore[server]'``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from raise_.config import Settings

__all__ = ["main"]


def _info(_: argparse.Namespace) -> int:
    from raise_.engine import Engine

    settings = Settings.from_env()
    engine = Engine.shared(settings)
    print(f"RAISE_HOME     {settings.home}")
    print(f"catalog        {engine.db.engine.url.render_as_string(hide_password=True)}")
    print(f"schema         {engine.db.current_revision()}")
    orgs = engine.catalog.list_organizations()
    print(f"organizations  {', '.join(o.name for o in orgs) or '(none)'}")
    return 0


def _seed_demo(args: argparse.Namespace) -> int:
    from raise_.demo import seed_demo_store

    summary = seed_demo_store()
    print(summary)
    return 0


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="raise", description="Raise feature store")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="show where the store lives and what it holds").set_defaults(func=_info)
    sub.add_parser("seed-demo", help="create the demo organization, groups and features (idempotent)").set_defaults(
        func=_seed_demo
    )
    _serve_parser(sub)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "serve":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
