# ruff: noqa: E501
"""The multimodal routes through the session's real Jupyter server: the client's mistakes are
4xx with a coded body and change nothing, previews are PNGs the server drew (decoded here with
Pillow), and ``/metrics`` reports PRD §17.13's figures as the catalog holds them."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from multimodal_data import write_images
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from raise_ import BlobRef, BlobRegistry, FeatureStore, IntegrityPolicy, MultimodalSource
from raise_jupyter.server_ext.background import BackgroundServer

PROJECT = "acme/mlplatform/vision"


@pytest.fixture
def catalog_url(tmp_path: Path) -> str:  # the routes do not depend on the catalog: SQLite only
    return f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"


# The shared fixture's remote branch: this test's store, served by the session's Jupyter server.
pytestmark = pytest.mark.parametrize("store_on_both_backends", ["remote"], indirect=True)


@pytest.fixture
def server(store_on_both_backends: Path, raise_server: BackgroundServer) -> BackgroundServer:
    return raise_server


def call(server: BackgroundServer, verb: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
    url = f"{server.url}raise/v1/{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=verb, headers={"Authorization": f"token {server.token}"})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture
def registry(server: BackgroundServer, tmp_path: Path) -> BlobRegistry:
    fs = FeatureStore(PROJECT)
    write_images(tmp_path / "imgs", 4)
    registry = BlobRegistry("imgs", IntegrityPolicy.lazy(), store=fs)
    MultimodalSource("local", str(tmp_path / "imgs"), registry=registry).scan()
    return registry


def test_the_client_s_mistakes_are_4xx_and_change_nothing(
    server: BackgroundServer, registry: BlobRegistry, tmp_path: Path
) -> None:
    base = f"projects/{PROJECT}/blob-registries"
    before = call(server, "GET", f"{base}/imgs")[1]
    cases = [
        ("POST", base, {"name": "has space"}, {}, 400, "INVALID_ARGUMENT"),
        ("POST", base, {"name": "x", "policy": {"mode": "sometimes"}}, {}, 400, "INVALID_ARGUMENT"),
        ("POST", base, {"name": "imgs"}, {}, 409, "BLOB_REGISTRY_EXISTS"),
        ("GET", f"{base}/nope", None, {}, 404, "BLOB_REGISTRY_NOT_FOUND"),
        ("PATCH", f"{base}/imgs", {"policy": {"cache_validation_seconds": -1}}, {}, 400, "INVALID_ARGUMENT"),
        ("POST", f"{base}/imgs/references/batch", {"references": [{"uri": ""}]}, {}, 400, "INVALID_ARGUMENT"),
        ("POST", f"{base}/imgs/references/batch", {"references": [{"uri": "s3://b/k", "content_type": "png"}]}, {}, 400, "INVALID_ARGUMENT"),
        ("GET", f"{base}/imgs/references", None, {"limit": -1}, 400, "INVALID_ARGUMENT"),
        ("GET", f"{base}/imgs/references/not-an-id", None, {}, 404, "BLOB_REFERENCE_NOT_FOUND"),
        ("GET", f"{base}/imgs/references/by-uri", None, {"uri": "s3://b/none.png"}, 404, "BLOB_REFERENCE_NOT_FOUND"),
        ("POST", f"{base}/imgs/validate-batch", {"uris": ["s3://b/none.png"]}, {}, 404, "BLOB_REFERENCE_NOT_FOUND"),
        ("POST", f"projects/{PROJECT}/multimodal-sources/scan", {"source": {"uri_prefix": "/x", "colour": 1}}, {}, 400, "INVALID_ARGUMENT"),
        ("POST", f"projects/{PROJECT}/multimodal-sources/scan", {"source": {"uri_prefix": "/x", "max_concurrency": 0}}, {}, 400, "INVALID_ARGUMENT"),
        ("GET", f"projects/{PROJECT}/blobs/describe", None, {"uri": str(tmp_path / "gone.png")}, 422, "BLOB_MISSING"),
        ("GET", f"projects/{PROJECT}/blobs/preview", None, {"uri": str(tmp_path / "secret.png")}, 404, "BLOB_REFERENCE_NOT_FOUND"),
        ("GET", f"projects/{PROJECT}/blobs/preview", None, {"uri": str(tmp_path / "imgs/product-000.png"), "size": 5}, 400, "INVALID_ARGUMENT"),
    ]  # fmt: skip
    for verb, path, body, query, status, code in cases:
        got, answer = call(server, verb, path, body, **query)
        assert (got, answer["error"]["code"]) == (status, code), (verb, path, body, query, answer)
        assert answer["error"]["message"]
    after = call(server, "GET", f"{base}/imgs")[1]
    assert {k: after[k] for k in ("references", "by_status", "policy")} == {
        k: before[k] for k in ("references", "by_status", "policy")
    }
    assert [r["name"] for r in call(server, "GET", base)[1]] == ["imgs"]


def test_previews_are_pngs_drawn_by_the_server(
    server: BackgroundServer, registry: BlobRegistry, tmp_path: Path
) -> None:
    source = Image.new("RGB", (300, 150), (200, 30, 90))
    path = tmp_path / "imgs" / "wide.png"
    source.save(path)
    registry.register(str(path))
    status, answer = call(server, "GET", f"projects/{PROJECT}/blobs/preview", uri=str(path), size=64)
    assert status == 200 and answer["content_type"] == "image/png"
    thumb = Image.open(io.BytesIO(base64.b64decode(answer["data"])))
    assert thumb.format == "PNG" and thumb.size == (64, 32) == (answer["width"], answer["height"])
    assert thumb.convert("RGB").getpixel((10, 10)) == (200, 30, 90)
    # a blob feature's samples: the sidebar's route, as Feature.blob_samples calls it
    fs = FeatureStore(PROJECT)
    group = fs.create_feature_group("photos", entity_keys=["sku"])
    group.create_features_from_schema({"image": BlobRef(content_types=["image/*"])})
    refs = registry.list_references()
    group.write([{"sku": f"s{i}", "image": ref} for i, ref in enumerate(refs)])
    samples = group.feature("image").blob_samples(limit=3, size=32)
    assert {s["uri"] for s in samples} <= {r.uri for r in refs}  # what the column holds, nothing else
    assert len(samples) == 3 and all(s["thumbnail"]["data"] and s["error"] is None for s in samples)
    missing = Path(samples[0]["uri"])
    missing.unlink()
    again = {s["uri"]: s for s in group.feature("image").blob_samples(limit=3, size=32)}
    assert again[str(missing)]["thumbnail"] is None and "does not exist" in again[str(missing)]["error"]


def test_metrics_report_the_registries(server: BackgroundServer, registry: BlobRegistry, tmp_path: Path) -> None:
    refs = registry.list_references()
    Path(refs[0].uri).unlink()
    registry.validate_batch()
    request = urllib.request.Request(
        f"{server.url}raise/v1/metrics", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(request) as response:
        text = response.read().decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    value = {name: v for (name, labels), v in samples.items() if not labels}
    assert value["raise_blob_references_total"] == len(refs)
    assert value["raise_blob_bytes_referenced_total"] == sum(r.size_bytes for r in refs)
    assert value["raise_blob_validations_total"] == len(refs)
    assert value["raise_blob_validations_failed_total"] == 1
    assert value["raise_blob_missing_rate"] == pytest.approx(1 / len(refs))
    assert value["raise_blob_invalid_rate"] == 0.0
    assert value["raise_blob_validation_duration_seconds_count"] >= len(refs)
    assert value["raise_blob_scan_duration_seconds_count"] >= 1


def test_a_registry_draws_itself_with_thumbnails_from_the_server(registry: BlobRegistry) -> None:
    import re

    html = registry._repr_html_()
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) == 4 and all(src.startswith("data:image/png;base64,") for src in sources)
    first = Image.open(io.BytesIO(base64.b64decode(sources[0].split(",", 1)[1])))
    assert first.format == "PNG" and max(first.size) <= 128
    assert "4 reference(s)" in html and "4 unchecked" in html and "policy lazy" in html
