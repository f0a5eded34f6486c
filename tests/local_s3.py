"""A real S3 API on loopback: ``moto`` in server mode, named by ``AWS_ENDPOINT_URL`` so that
s3fs, boto3, the jobs' child processes and notebook kernels (they inherit it) all reach it.

Used by ``tests/conftest.py::s3_endpoint`` (one server per test session) and by
``tests/notebooks/store_outputs.py`` (one for the notebooks that read S3).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

#: Credentials and region moto accepts; with the endpoint they are all a client needs.
S3_VARIABLES = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@contextmanager
def local_s3(start_timeout: float = 30.0) -> Iterator[str]:
    """Start ``moto.server`` on a free loopback port, set the variables for the block, yield the
    endpoint's URL; the server stops and the variables are restored after it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in [*S3_VARIABLES, "AWS_ENDPOINT_URL"]}
    os.environ.update(S3_VARIABLES, AWS_ENDPOINT_URL=url)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto.server did not start on loopback (pip install 'moto[server]')") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
