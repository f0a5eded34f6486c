"""Every route needs Jupyter authentication: a server built with
``allow_unauthenticated_access=False`` (and one with Jupyter's lenient default) refuses every
route of the table, and health, ready and metrics, without a valid token, and the refusal leaks nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

import raise_jupyter
from raise_.api.routes import ROUTES, Route

SAMPLES = {
    "org": "acme",
    "org_path": "acme",
    "domain": "ml",
    "project": "rec",
    "project_path": "acme/ml/rec",
    "group_path": "acme/ml/rec/g",
    "resource_path": "acme/ml/rec",
    "name": "clicks",
    "version": "v1",
    "direction": "up",
    "job_id": "0b7f5a52-1f6e-4a4e-9d0e-2f1c3a6b8e11",
    "result_id": "5c1d0e9a-7b2f-4c3d-8e1f-a9b8c7d6e5f4",
    "run_id": "7d2c1b0a-3e4f-4a5b-8c6d-9e0f1a2b3c4d",
    "registry": "product-images",
    "reference_id": "4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d",
    "feature": "image_ref",
    "uri": "hf://sentence-transformers/all-MiniLM-L6-v2",
}

ENDPOINTS = [(r.verb, r.url_path({p: SAMPLES[p] for p in r.path_params}).lstrip("/")) for r in ROUTES]
ENDPOINTS += [("GET", "health"), ("GET", "ready"), ("GET", "metrics")]


@pytest.fixture(params=[False, True], ids=["server-refuses-undecorated", "handlers-alone"])
def raise_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """``False``: Jupyter refuses any endpoint without an auth decorator; ``True`` (Jupyter's default
    today): only the handlers' own ``@web.authenticated`` stands in the way."""
    return {"ServerApp": {"allow_unauthenticated_access": request.param}}


@pytest.fixture
def catalog_url(tmp_path: Any) -> str:  # auth does not depend on the catalog: SQLite only
    return f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"


def test_the_table_is_covered() -> None:
    assert len(ENDPOINTS) == len(ROUTES) + 3
    assert all(isinstance(r, Route) for r in ROUTES)


async def test_no_route_answers_without_authentication(
    api: Any, jp_serverapp: Any, raise_config: dict[str, Any]
) -> None:
    setting = raise_config["ServerApp"]["allow_unauthenticated_access"]
    assert jp_serverapp.web_app.settings["allow_unauthenticated_access"] is setting
    answered = []
    for verb, path in ENDPOINTS:
        for headers in ({}, {"Authorization": "token not-the-token"}):
            code, _, body = await api(
                verb, path, auth=False, headers=headers, json_body={} if verb in ("POST", "PUT", "PATCH") else None
            )
            if code not in (401, 403):
                answered.append((verb, path, code))
            elif body:
                assert json.loads(body)["error"]["code"] == "UNAUTHENTICATED"
    assert answered == []


async def test_with_the_token_the_same_server_answers(api: Any) -> None:
    code, _, body = await api("GET", "health")
    assert (code, json.loads(body)) == (200, {"status": "ok", "version": raise_jupyter.__version__})
    code, _, body = await api("GET", "organizations")
    assert (code, json.loads(body)) == (200, [])
