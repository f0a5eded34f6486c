"""The sidebar calls only routes the server has: every entry of the ROUTES table of
``labextension/src/api.ts`` is a route of :data:`raise_.api.routes.ROUTES` (same service method,
verb and path template, and the server routes such a request to that method), its query arguments
are the method's, and its paths are written as the server writes them."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from raise_.api.calls import bindings
from raise_.api.routes import API_PREFIX, ROUTES, Router, routes_by_method

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "labextension" / "src"
API_TS = SOURCES / "api.ts"
PATH_CASES = json.loads((Path(__file__).with_name("path_cases.json")).read_text())

# Routes served by their own handlers rather than the route table (raise_jupyter/server_ext/handlers.py).
OWN_HANDLERS = {"health": "GET", "ready": "GET", "metrics": "GET"}

_TABLE = re.compile(r"^export const ROUTES = \{\n(?P<body>.*?)^\} as const", re.M | re.S)
_ENTRY = re.compile(
    r"^\s*(?P<key>\w+): \{ method: '(?P<method>\w+)', verb: '(?P<verb>[A-Z]+)', path: '(?P<path>[^']+)'"
    r"(?:, query: \[(?P<query>[^\]]*)\])? \},?$"
)


@dataclass(frozen=True)
class UsedRoute:
    key: str
    method: str
    verb: str
    path: str
    query: tuple[str, ...]


def used_routes() -> list[UsedRoute]:
    table = _TABLE.search(API_TS.read_text())
    assert table is not None, f"no `export const ROUTES = {{ ... }} as const` table in {API_TS}"
    out = []
    for line in table.group("body").splitlines():
        if not line.strip():
            continue
        m = _ENTRY.match(line)
        assert m is not None, f"{API_TS.name}: a ROUTES entry this test cannot read: {line.strip()!r}"
        query = tuple(q.strip().strip("'") for q in (m.group("query") or "").split(",") if q.strip())
        out.append(UsedRoute(m.group("key"), m.group("method"), m.group("verb"), m.group("path"), query))
    return out


USED = used_routes()
TABLE_ROUTES = [r for r in USED if r.method not in OWN_HANDLERS]


def test_the_table_lists_what_the_sidebar_browses() -> None:
    keys = [r.key for r in USED]
    assert len(set(keys)) == len(keys)
    assert {r.method for r in USED} >= {
        "health",
        "list_organizations",
        "list_domains",
        "list_projects",
        "list_feature_groups",
        "get_feature_group",
        "search_features",
        "list_features",
        "get_feature",
        "list_versions",
        "get_lineage",
        "commits",
        "analyze",
        "list_live_tables",
        "list_jobs",
    }


@pytest.mark.parametrize("used", TABLE_ROUTES, ids=lambda r: r.key)
def test_each_route_is_the_servers(used: UsedRoute) -> None:
    route = routes_by_method().get(used.method)
    assert route is not None, f"the server has no route for {used.method}"
    assert (used.verb, used.path) == (route.verb, route.path)


@pytest.mark.parametrize("used", TABLE_ROUTES, ids=lambda r: r.key)
def test_the_server_routes_each_request_to_that_method(used: UsedRoute) -> None:
    # An earlier route of the same verb could take the request (GET .../features/bulk is a feature).
    route = routes_by_method()[used.method]
    names = ["acme", "ml", "rec", "user-signals"]
    sample = {slot.name: "/".join(names[: slot.segments or 2]) for slot in route.slots}
    sample["version"] = "v2"
    match = Router(ROUTES).match(used.verb, route.url_path(sample))
    assert match is not None
    assert match.route.method == used.method


@pytest.mark.parametrize("used", TABLE_ROUTES, ids=lambda r: r.key)
def test_query_arguments_are_the_methods(used: UsedRoute) -> None:
    binding = bindings()[used.method]
    assert set(used.query) <= set(binding.query_params), (
        f"{used.key} sends {sorted(set(used.query) - set(binding.query_params))}, "
        f"which {used.method} does not take (it takes {list(binding.query_params)})"
    )


@pytest.mark.parametrize("used", [r for r in USED if r.method in OWN_HANDLERS], ids=lambda r: r.key)
def test_routes_with_their_own_handler_exist(used: UsedRoute) -> None:
    handlers = pytest.importorskip("raise_jupyter.server_ext.handlers")
    rules = {pattern: handler for pattern, handler, _ in handlers.handlers(extension=None)}
    handler = rules.get(f"{API_PREFIX.lstrip('/')}{used.path}")
    assert handler is not None, f"the server extension serves no {API_PREFIX}{used.path}"
    assert used.verb == OWN_HANDLERS[used.method]
    assert callable(getattr(handler, used.verb.lower(), None))


def test_only_the_api_module_talks_to_the_server() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {needle}"
        for path in SOURCES.rglob("*.ts*")
        if path != API_TS
        for needle in ("makeRequest", "raise/v1", "fetch(", "XMLHttpRequest")
        if needle in path.read_text()
    ]
    assert offenders == []


@pytest.mark.parametrize("case", PATH_CASES, ids=lambda c: c["path"])
def test_paths_are_written_as_the_server_writes_them(case: dict[str, object]) -> None:
    # tests/frontend/api.spec.ts checks the sidebar's expandPath against the same cases
    route = next(r for r in ROUTES if r.path == case["template"])  # a GET and a POST may share one
    values = case["values"]
    assert isinstance(values, dict)
    assert route.url_path(values) == case["path"]
    match = route.match(str(case["path"]))
    assert match is not None
    assert {k: v for k, v in match.items() if v is not None} == {k: v for k, v in values.items() if v is not None}


def test_every_route_with_placeholders_has_a_path_case() -> None:
    covered = {c["template"] for c in PATH_CASES}
    assert [r.key for r in TABLE_ROUTES if "{" in r.path and r.path not in covered] == []


def test_the_sidebar_and_the_server_extension_have_one_version() -> None:
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    package = json.loads((ROOT / "package.json").read_text())["version"]
    m = re.search(r"^export const FRONTEND_VERSION = '([^']+)';$", (SOURCES / "version.ts").read_text(), re.M)
    assert m is not None
    assert (package, m.group(1)) == (python, python)
