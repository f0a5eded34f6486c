"""The ``raise`` command: ``raise info`` and ``raise seed-demo``.

``raise serve`` (a standalone store server) arrives with the server extension.
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="raise", description="Raise feature store")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="show where the store lives and what it holds").set_defaults(func=_info)
    sub.add_parser("seed-demo", help="create the demo organization, groups and features (idempotent)").set_defaults(
        func=_seed_demo
    )
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
