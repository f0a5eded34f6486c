"""Bodies and URLs over what the server reads: a coded 413 / 414 that the SDK raises as
``PayloadTooLargeError`` / ``UriTooLongError`` saying how to get under (or raise) the limit,
instead of a reset connection that read as "is the Jupyter server running?". Nothing is written
and the connection stays usable. A server with a 1 MiB body limit keeps the uploads small."""

from __future__ import annotations

import http.client
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from raise_ import FeatureStore
from raise_.api.errors import PayloadTooLargeError, ServerUnavailableError, UriTooLongError
from raise_.client.group import FeatureGroup
from raise_.client.remote import RemoteBackend
from raise_jupyter.server_ext.background import BackgroundServer

LIMIT = 1024 * 1024
MAX_URL_BYTES = 64 * 1024  # raise_jupyter.server_ext.handlers.MAX_URL_BYTES, as docs/server.md documents it


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    home = tmp_path_factory.mktemp("limits") / "home"
    config = {"ServerApp": {"max_body_size": LIMIT}}
    with BackgroundServer(home=home, catalog_url=f"sqlite:///{home / 'catalog.db'}", config=config) as server:
        yield server


@pytest.fixture
def group(
    small_server: BackgroundServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> FeatureGroup:
    for name in ("RAISE_HOME", "RAISE_CATALOG_URL", "RAISE_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    monkeypatch.setenv("RAISE_URL", small_server.url)
    monkeypatch.setenv("RAISE_TOKEN", small_server.token)
    fs = FeatureStore("acme/ml/rec")
    g = fs.create_feature_group(request.node.name[:40].replace("_", "-"), entity_keys=["user_id"])
    g.create_feature("clicks", dtype="int64")
    g.write(pd.DataFrame({"user_id": [1, 2], "clicks": [10, 20]}))
    return g


def _state(group: FeatureGroup) -> tuple[int, int]:
    return len(group.commits()), group.read().to_arrow().num_rows


def _big_frame() -> pd.DataFrame:
    n = 200_000  # 3.2 MB as Arrow
    return pd.DataFrame({"user_id": np.arange(n), "clicks": np.arange(n)})


def test_an_upload_over_the_limit_is_payload_too_large_and_says_how_to_raise_it(group: FeatureGroup) -> None:
    before = _state(group)
    with pytest.raises(PayloadTooLargeError) as caught:
        group.write(_big_frame())
    error = caught.value
    assert error.code == "PAYLOAD_TOO_LARGE" and error.details["limit_bytes"] == LIMIT
    assert error.details["size_bytes"] > LIMIT
    assert "--ServerApp.max_body_size=BYTES" in error.message and "smaller parts" in error.message
    assert "Nothing was written" in error.message
    assert _state(group) == before == (1, 2)
    group.write(_big_frame().head(1000))  # the same connection goes on
    assert _state(group) == (2, 1000)


def test_entity_frames_over_the_limit_are_refused_too(group: FeatureGroup) -> None:
    fs = FeatureStore("acme/ml/rec")
    with pytest.raises(PayloadTooLargeError):
        fs.get_training_data(_big_frame()[["user_id"]], [f"{group.name}.clicks"])


def _raw(
    server: BackgroundServer, verb: str, path: str, body: Any = None, **headers: str
) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        chunked = body is not None and not isinstance(body, bytes)
        conn.request(
            verb,
            f"/raise/v1/{path}",
            body=body,
            headers={"Authorization": f"token {server.token}", **headers},
            encode_chunked=chunked,
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_a_chunked_upload_over_the_limit_is_413(small_server: BackgroundServer, group: FeatureGroup) -> None:
    before = _state(group)
    chunks = (b"x" * 65536 for _ in range(2 * LIMIT // 65536))
    status, body = _raw(
        small_server,
        "POST",
        f"groups/acme/ml/rec/{group.name}/data",
        chunks,
        **{"Content-Type": "application/vnd.apache.arrow.stream"},
    )
    assert (status, body["error"]["code"], body["error"]["details"]) == (
        413,
        "PAYLOAD_TOO_LARGE",
        {"limit_bytes": LIMIT},
    )
    assert _state(group) == before


def test_a_url_over_the_limit_is_uri_too_long(small_server: BackgroundServer, group: FeatureGroup) -> None:
    long_filter = "clicks IN (" + ", ".join(str(n) for n in range(20_000)) + ")"  # 100 kB
    with pytest.raises(UriTooLongError) as caught:
        group.read(filter=long_filter)
    assert caught.value.code == "URI_TOO_LONG" and caught.value.details["limit_bytes"] == MAX_URL_BYTES
    assert caught.value.details["size_bytes"] > 100_000 and "Shorten" in caught.value.message
    status, body = _raw(small_server, "GET", "organizations?tags=" + "x" * 100_000)
    assert (status, body["error"]["code"]) == (414, "URI_TOO_LONG")
    # a URL under the limit still reads
    fitting = "clicks IN (" + ", ".join(str(n) for n in range(0, 50_000, 10)) + ")"  # 35 kB
    assert len(fitting) < MAX_URL_BYTES / 1.5
    assert sorted(group.read(filter=fitting).to_arrow().column("user_id").to_pylist()) == [1, 2]


class _Proxy(http.server.BaseHTTPRequestHandler):
    """Stands for a proxy in front of the server that refuses large bodies with its own page."""

    def do_POST(self) -> None:  # the name http.server calls
        self.rfile.read(int(self.headers["Content-Length"]))
        page = b"<html><body>413 Request Entity Too Large</body></html>"
        self.send_response(413)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_proxys_413_is_payload_too_large_too(tmp_path: Path) -> None:
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        backend = RemoteBackend(f"http://127.0.0.1:{proxy.server_address[1]}/")
        with pytest.raises(PayloadTooLargeError) as caught:
            backend.write("acme/ml/rec/g", pd.DataFrame({"user_id": [1], "clicks": [1]}))
        assert "client_max_body_size" in caught.value.message and "--ServerApp.max_body_size" in caught.value.message
        assert not isinstance(caught.value, ServerUnavailableError)
    finally:
        proxy.shutdown()
