"""The ``BlobStore`` seam (DESIGN §8): where blobs are read, through fsspec, so ``file://`` and
plain paths, ``s3://`` (s3fs), ``gs://`` (gcsfs), ``az://`` (adlfs) and any other fsspec scheme go
through the same code.

Credentials never come from a notebook: fsspec's packages read their environment (``AWS_*``,
``AWS_ENDPOINT_URL``, ``GOOGLE_APPLICATION_CREDENTIALS``, ...), and the process that owns the store
may add options per scheme with ``RAISE_BLOB_STORAGE_OPTIONS`` (JSON: ``{"s3": {"endpoint_url":
...}}``). Every read streams: :meth:`BlobStore.open` hands out a file object read in chunks.

What can go wrong is told apart, because a validation reports it: a blob that is not there
(:meth:`info` returns None), and a storage that cannot be reached (:class:`BlobUnreachableError`:
no package for the scheme, refused credentials, no answer).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, Final

import fsspec

from raise_.errors import BlobUnreachableError, InvalidArgumentError, PermissionDeniedError
from raise_.multimodal.hashing import CHUNK_BYTES, HashAlgorithm, hash_stream
from raise_.multimodal.references import normalise_uri

__all__ = ["BlobInfo", "BlobStore", "expand_braces"]

_PACKAGES: Final = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}
# Options that make a listing or an info call see the storage as it is now, not as first listed.
_FRESH: Final[dict[str, dict[str, Any]]] = {"s3": {"use_listings_cache": False}, "gs": {"use_listings_cache": False}}


@dataclass(frozen=True)
class BlobInfo:
    """What a storage says about one object without reading it (a HEAD request on S3)."""

    uri: str
    size: int
    etag: str | None = None
    version_id: str | None = None
    last_modified: datetime | None = None
    content_type: str | None = None


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0].lower() if "://" in uri else "file"


def _etag(value: object) -> str | None:
    return str(value).strip('"') if value else None


def _modified(info: Mapping[str, Any]) -> datetime | None:
    value = info.get("LastModified") or info.get("last_modified") or info.get("mtime") or info.get("created")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def expand_braces(pattern: str) -> list[str]:
    """``*.{jpg,png}`` → ``["*.jpg", "*.png"]`` (fnmatch has no braces; PRD §17.8 uses them)."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [out for option in match.group(1).split(",") for out in expand_braces(head + option + tail)]


class BlobStore:
    """Reads blobs wherever fsspec reaches. One instance is shared by a process's validations
    (filesystems are made once per scheme and bucket, and are safe to use from several threads)."""

    _default: BlobStore | None = None
    _default_lock = threading.Lock()

    def __init__(
        self,
        storage_options: Mapping[str, Mapping[str, Any]] | None = None,
        allowed_prefixes: Sequence[str] | None = None,
    ) -> None:
        self.storage_options = {k.lower(): dict(v) for k, v in (storage_options or {}).items()}
        # None: every URI this process can reach; else only those under one of these prefixes.
        self.allowed_prefixes = (
            tuple(normalise_uri(p) for p in allowed_prefixes) if allowed_prefixes is not None else None
        )
        self._filesystems: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> BlobStore:
        """The store configured by this process's environment (``RAISE_BLOB_STORAGE_OPTIONS``)."""
        with cls._default_lock:
            if cls._default is None:
                roots = os.environ.get("RAISE_BLOB_ALLOWED_PREFIXES", "").strip()
                allowed = [p.strip() for p in roots.split(",") if p.strip()] if roots else None
                cls._default = cls(_options_from_env(), allowed)
            return cls._default

    @classmethod
    def reset_default(cls) -> None:
        """Forget the default store (its environment changed: tests, a reconfigured server)."""
        with cls._default_lock:
            cls._default = None

    def check_allowed(self, uri: str) -> None:
        """Refuse a URI outside the prefixes the server allows (``RAISE_BLOB_ALLOWED_PREFIXES``):
        a shared server's own files are not the store's to read."""
        if self.allowed_prefixes is None:
            return
        uri = normalise_uri(uri)
        if not any(uri == p.rstrip("/") or uri.startswith(p.rstrip("/") + "/") for p in self.allowed_prefixes):
            raise PermissionDeniedError(
                f"This store reads blobs only under {', '.join(self.allowed_prefixes)}; {uri} is outside them "
                "(the server's RAISE_BLOB_ALLOWED_PREFIXES).",
                {"uri": uri},
            )

    # -- filesystems ------------------------------------------------------------------------------

    def filesystem(self, uri: str) -> tuple[Any, str]:
        """The fsspec filesystem of ``uri`` and the path in it."""
        uri = normalise_uri(uri)
        scheme = _scheme(uri)
        if scheme == "file":
            path = uri[len("file://") :] if uri.startswith("file://") else uri
            return self._fs(scheme), path
        fs = self._fs(scheme)
        return fs, fs._strip_protocol(uri)

    def _fs(self, scheme: str) -> Any:
        with self._lock:
            fs = self._filesystems.get(scheme)
            if fs is not None:
                return fs
            options = {**_FRESH.get(scheme, {}), **self.storage_options.get(scheme, {})}
            try:
                cls = fsspec.get_filesystem_class(scheme)
            except (ImportError, ValueError) as exc:
                package = _PACKAGES.get(scheme)
                hint = f"install {package} (pip install {package})" if package else "use a scheme fsspec knows"
                raise BlobUnreachableError(
                    f"No storage reads {scheme}:// URIs here: {exc}. To read them, {hint}.",
                    {"scheme": scheme, "package": package},
                ) from None
            # skip_instance_cache: this store's options, not those of another fsspec user.
            fs = cls(skip_instance_cache=True, **options)
            self._filesystems[scheme] = fs
            return fs

    # -- reading ----------------------------------------------------------------------------------

    def info(self, uri: str) -> BlobInfo | None:
        """What the storage says about the object at ``uri``; None when it does not exist."""
        fs, path = self.filesystem(uri)
        try:
            if hasattr(fs, "invalidate_cache"):
                fs.invalidate_cache(path)
            raw = fs.info(path)
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise _unreachable(uri, exc) from None
        if raw.get("type") == "directory":
            return None
        return _to_info(uri, raw)

    def exists(self, uri: str) -> bool:
        return self.info(uri) is not None

    def open(self, uri: str) -> IO[bytes]:
        """The object as a binary stream (read it in chunks). FileNotFoundError when missing."""
        fs, path = self.filesystem(uri)
        try:
            return fs.open(path, "rb", block_size=CHUNK_BYTES)  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise _unreachable(uri, exc) from None

    def read_head(self, uri: str, n: int) -> bytes | None:
        """The first ``n`` bytes, or None when the blob is missing or unreachable."""
        fs, path = self.filesystem(uri)
        try:
            with fs.open(path, "rb", block_size=max(n, 1024)) as f:
                return bytes(f.read(n))
        except Exception:
            return None

    def read(self, uri: str, max_bytes: int) -> bytes:
        """The whole blob, refused when larger than ``max_bytes`` (previews, never bulk reads)."""
        info = self.info(uri)
        if info is None:
            raise FileNotFoundError(uri)
        if info.size > max_bytes:
            raise InvalidArgumentError(
                f"{uri} is {info.size} bytes, more than the {max_bytes} a preview reads.", {"uri": uri}
            )
        with self.open(uri) as f:
            return bytes(f.read())

    def hash(self, uri: str, algorithm: HashAlgorithm | str = HashAlgorithm.SHA256) -> tuple[str, int]:
        """(hex digest, size) of the blob, streamed. FileNotFoundError when missing."""
        try:
            if _scheme(uri) == "file":
                # A local file straight from the OS: fsspec's file wrapper costs more than hashing
                # a small image does.
                _, path = self.filesystem(uri)
                with open(path, "rb", buffering=0) as raw:
                    return hash_stream(raw, algorithm)
            with self.open(uri) as f:
                return hash_stream(f, algorithm)
        except FileNotFoundError:
            raise
        except BlobUnreachableError:
            raise
        except Exception as exc:
            raise _unreachable(uri, exc) from None

    # -- listing ----------------------------------------------------------------------------------

    def list(self, prefix: str, *, recursive: bool = True, pattern: str | None = None) -> Iterator[BlobInfo]:
        """The objects under ``prefix`` (a directory, a bucket or a key prefix), sorted by URI.
        ``pattern`` matches each object's name relative to the prefix (``*.png``, ``**/*.{jpg,png}``)."""
        prefix = normalise_uri(prefix)
        fs, path = self.filesystem(prefix)
        patterns = expand_braces(pattern) if pattern else None
        base = path.rstrip("/")
        try:
            if hasattr(fs, "invalidate_cache"):
                fs.invalidate_cache(base)
            if recursive:
                found = fs.find(base, detail=True, withdirs=False)
            else:
                found = {e["name"]: e for e in fs.ls(base, detail=True) if e.get("type") != "directory"}
        except FileNotFoundError:
            return
        except Exception as exc:
            raise _unreachable(prefix, exc) from None
        for name in sorted(found):
            raw = found[name]
            if raw.get("type") == "directory":
                continue
            relative = name[len(base) :].lstrip("/") if name.startswith(base) else name.rsplit("/", 1)[-1]
            if patterns and not any(
                fnmatch.fnmatchcase(relative, p) or fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], p)
                for p in patterns
            ):
                continue
            yield _to_info(self._uri_of(prefix, fs, name), raw)

    @staticmethod
    def _uri_of(prefix: str, fs: Any, name: str) -> str:
        """The URI of a listed object, in the form the prefix was written in."""
        scheme = _scheme(prefix)
        if scheme == "file":
            path = name if name.startswith("/") else "/" + name
            return "file://" + path if prefix.startswith("file://") else path
        return str(fs.unstrip_protocol(name)) if not name.startswith(f"{scheme}://") else name


def _to_info(uri: str, raw: Mapping[str, Any]) -> BlobInfo:
    return BlobInfo(
        uri=uri,
        size=int(raw.get("size") or raw.get("Size") or 0),
        etag=_etag(raw.get("ETag") or raw.get("etag")),
        version_id=raw.get("VersionId") or raw.get("version_id") or None,
        last_modified=_modified(raw),
        content_type=raw.get("ContentType") or raw.get("content_type") or None,
    )


def _unreachable(uri: str, exc: BaseException) -> BlobUnreachableError:
    if isinstance(exc, BlobUnreachableError):
        return exc
    kind = "refused access" if isinstance(exc, PermissionError) else "could not be reached"
    text = str(exc) or type(exc).__name__
    return BlobUnreachableError(
        f"The storage of {uri} {kind}: {text}. Check the credentials and endpoint of the process "
        "that owns the store (AWS_*, AWS_ENDPOINT_URL, RAISE_BLOB_STORAGE_OPTIONS).",
        {"uri": uri, "reason": type(exc).__name__},
    )


def _options_from_env() -> dict[str, dict[str, Any]]:
    text = os.environ.get("RAISE_BLOB_STORAGE_OPTIONS", "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidArgumentError(f"RAISE_BLOB_STORAGE_OPTIONS is not JSON: {exc}.", {}) from None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise InvalidArgumentError(
            'RAISE_BLOB_STORAGE_OPTIONS must map a scheme to its options: {"s3": {"endpoint_url": "..."}}.', {}
        )
    return value
