"""The route table cannot drift: every service method the SDK calls has exactly one route whose
parameters are that method's, the remote backend has the same signatures, the typed protocol is
regenerated, and every route's URL finds its way back to that route with the same values."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest

import raise_.client
from raise_.api.calls import bindings, encode_request, router
from raise_.api.protocol_source import PROTOCOL_PATH, render
from raise_.api.routes import ROUTES, Route, routes_by_method
from raise_.client.remote import RemoteBackend
from raise_.governance.guard import POLICY_ATTRIBUTE
from raise_.service import DataService

CLIENT_DIR = Path(raise_.client.__file__).parent
# SDK objects that live beside their subsystem rather than in raise_/client.
SDK_FILES = [
    Path(raise_.client.__file__).parent.parent / "analytics" / "job.py",
    # what `raise jobs run` (an Airflow task, a pod) calls with a job token
    Path(raise_.client.__file__).parent.parent / "orchestration" / "job_command.py",
]


def methods_the_sdk_calls() -> set[str]:
    """``self._backend.x(...)`` and ``backend.x(...)`` in the SDK's source."""
    called: set[str] = set()
    for path in [*CLIENT_DIR.glob("*.py"), *SDK_FILES]:
        if path.name in ("remote.py", "backend.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
                if name in ("_backend", "backend"):
                    called.add(node.func.attr)
    return called


def test_every_method_the_sdk_calls_has_one_route() -> None:
    called = methods_the_sdk_calls()
    assert len(called) > 55  # the scan itself works
    routed = routes_by_method()  # raises on a method routed twice
    assert sorted(called - set(routed)) == []
    assert sorted(set(routed) - called) == []  # no dead routes either


def test_routes_call_public_doors_of_the_service() -> None:
    for route in ROUTES:
        fn = getattr(DataService, route.method, None)
        assert callable(fn), f"{route.method} is not a method of DataService"
        policy = getattr(fn, POLICY_ATTRIBUTE)
        assert policy.kind in ("guarded", "filtered"), f"{route.method} is {policy.kind}: no door for REST"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.method)
def test_route_parameters_are_the_method_parameters(route: Route) -> None:
    signature = inspect.signature(getattr(DataService, route.method))
    params = [p for p in signature.parameters if p != "self"]
    binding = bindings()[route.method]
    assert set(route.path_params) <= set(params), f"{route.path} names no parameter of {route.method}"
    if route.arrow_body is not None:
        assert route.arrow_body in params
    placed = [*binding.path_params, *binding.query_params, *binding.body_params]
    placed += [route.arrow_body] if route.arrow_body else []
    assert sorted(placed) == sorted(params)  # every argument travels, exactly once
    if route.verb in ("GET", "DELETE"):
        assert binding.body_params == ()
    # a data route says so: Arrow in for data frames, Arrow out for tables
    returns = signature.return_annotation
    assert route.arrow_response == (returns == "pa.Table")


@pytest.mark.parametrize("name", sorted(routes_by_method()))
def test_remote_backend_has_the_service_signature(name: str) -> None:
    assert inspect.signature(getattr(RemoteBackend, name)) == inspect.signature(getattr(DataService, name))
    assert getattr(RemoteBackend, name).__doc__ == inspect.getdoc(getattr(DataService, name))


def test_the_backend_protocol_is_regenerated() -> None:
    assert PROTOCOL_PATH.read_text() == render(), "run: python -m raise_.api.protocol_source"


SAMPLES: dict[str, Any] = {
    "org": "acme",
    "domain": "ml-platform",
    "project": "rec",
    "org_path": "acme",
    "project_path": "acme/ml/rec",
    "group_path": "acme/ml/rec/user-signals",
    "job_id": "0b7f5a52-1f6e-4a4e-9d0e-2f1c3a6b8e11",
    "run_id": "7d2c1b0a-3e4f-4a5b-8c6d-9e0f1a2b3c4d",
    "result_id": "5c1d0e9a-7b2f-4c3d-8e1f-a9b8c7d6e5f4",
    "resource_path": "acme/ml/rec",
    "name": "click_count",
    "version": "v2",
    "direction": "up",
    "registry": "product-images",
    "reference_id": "4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d",
    "feature": "image_ref@v1",
    "uri": "hf://sentence-transformers/all-MiniLM-L6-v2",
}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.method)
def test_each_route_url_matches_that_route_and_gives_back_its_values(route: Route) -> None:
    values = {p: SAMPLES[p] for p in route.path_params}
    found = router().match(route.verb, route.url_path(values))
    assert found is not None and found.route is route
    assert found.path_args == values


@pytest.mark.parametrize(
    ("method", "values"),
    [
        # names that need escaping, a version-less feature, and malformed paths the service must see as given
        ("get_feature", {"group_path": "acme/ml/rec/user signals", "name": "a@b/c", "version": None}),
        ("get_feature", {"group_path": "acme/ml/rec", "name": "x", "version": "v1"}),  # 3 parts: one segment
        ("get_feature_group", {"group_path": "acme/ml/rec/g/extra"}),
        ("get_feature_group", {"group_path": ""}),
        ("get_organization", {"org": ""}),
        ("get_organization", {"org": "a/b?c#d%e"}),
        ("ensure_project", {"project_path": "acme//rec"}),
        ("get_acl", {"resource_path": "acme/acl/effective"}),
        ("get_effective_acl", {"resource_path": "acme/acl"}),
        ("lineage_closure", {"group_path": "a/b/c/d", "name": "x", "version": None, "direction": "down"}),
    ],
)
def test_odd_values_round_trip_through_the_path(method: str, values: dict[str, Any]) -> None:
    route = routes_by_method()[method]
    found = router().match(route.verb, route.url_path(values))
    assert found is not None and found.route is route
    assert found.path_args == values


def test_matching_is_per_verb() -> None:
    path = "/groups/acme/ml/rec/g/features/bulk"
    post, get = router().match("POST", path), router().match("GET", path)
    assert post is not None and post.route.method == "create_features"
    assert get is not None and (get.route.method, get.path_args["name"]) == ("get_feature", "bulk")
    assert router().match("PUT", path) is None
    assert router().allowed(path) == ["GET", "POST"]
    assert router().match("GET", "/no/such/route") is None and router().allowed("/no/such/route") == []


def test_request_placement_query_body_and_arrow() -> None:
    read = encode_request(bindings()["read"], {"group_path": "a/b/c/d", "features": ["x"], "as_of_commit": 3})
    assert (read.verb, read.path, read.body) == (
        "GET",
        "/groups/a/b/c/d/data?features=%5B%22x%22%5D&as_of_commit=3",
        None,
    )
    create = encode_request(bindings()["create_domain"], {"org": "acme", "name": "ml", "tags": ["a"]})
    assert (create.verb, create.path, create.content_type) == (
        "POST",
        "/organizations/acme/domains",
        "application/json",
    )
    assert create.body == b'{"name":"ml","tags":["a"]}'
    # strings go raw unless they would read as JSON
    search = encode_request(bindings()["search_features"], {"project_path": "a/b/c", "query": "5", "status": "active"})
    assert search.path == "/projects/a/b/c/features/search?query=%225%22&status=active"


def test_docs_list_every_route() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "server.md").read_text()
    missing = [f"{r.verb} {r.path}" for r in ROUTES if f"`{r.verb} {r.path}` | `{r.method}`" not in docs]
    assert missing == []
