"""Scanning object storage for multimodal blobs (PRD §17.8): list the objects under a prefix
(paginated by the fsspec package), keep those of the wanted content types (by extension, or by
their first bytes where the name says nothing), and make a reference of each: size, ETag and
version from the listing, the checksum (when asked) by streaming the blob. Hashing runs
``concurrency`` blobs at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from raise_.errors import InvalidArgumentError
from raise_.multimodal.blobstore import BlobInfo, BlobStore
from raise_.multimodal.content_types import SNIFF_BYTES, ContentType, content_type_of, sniff_content_type
from raise_.multimodal.hashing import HashAlgorithm
from raise_.multimodal.references import BlobReference, normalise_uri
from raise_.multimodal.validation import DEFAULT_CONCURRENCY, io_workers
from raise_.progress import items_bar

__all__ = ["ScanSpec", "describe", "scan"]


@dataclass(frozen=True)
class ScanSpec:
    """What a :class:`~raise_.multimodal.sources.MultimodalSource` asks a scan for (its dict
    travels to the server that reads the storage)."""

    uri_prefix: str
    content_types: tuple[str, ...] | None = None
    registry: str | None = None
    compute_checksums: bool = True
    hash_algorithm: HashAlgorithm = HashAlgorithm.SHA256
    recursive: bool = True
    glob_pattern: str | None = None
    sniff: bool = True  # names without a known extension: read their first bytes
    max_concurrency: int = DEFAULT_CONCURRENCY
    limit: int | None = None
    name: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "uri_prefix", normalise_uri(self.uri_prefix))
        if self.content_types is not None:
            types = tuple(str(ContentType.parse(str(getattr(t, "value", t)))) for t in self.content_types)
            object.__setattr__(self, "content_types", types or None)
        object.__setattr__(self, "hash_algorithm", HashAlgorithm.parse(self.hash_algorithm))
        n = self.max_concurrency
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 256:
            raise InvalidArgumentError("max_concurrency is a whole number from 1 to 256.", {"max_concurrency": n})
        if self.limit is not None and (
            isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1
        ):
            raise InvalidArgumentError("limit is a positive whole number.", {"limit": self.limit})

    def wants(self, content_type: str | None) -> bool:
        if self.content_types is None:
            return True
        if content_type is None:
            return False
        major = content_type.partition("/")[0]
        return content_type in self.content_types or f"{major}/*" in self.content_types

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri_prefix": self.uri_prefix,
            "content_types": list(self.content_types) if self.content_types is not None else None,
            "registry": self.registry,
            "compute_checksums": self.compute_checksums,
            "hash_algorithm": self.hash_algorithm.value,
            "recursive": self.recursive,
            "glob_pattern": self.glob_pattern,
            "sniff": self.sniff,
            "max_concurrency": self.max_concurrency,
            "limit": self.limit,
            "name": self.name,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScanSpec:
        if not isinstance(data, Mapping):
            raise InvalidArgumentError("A scan is described by a mapping (a MultimodalSource's to_dict()).", {})
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise InvalidArgumentError(f"Unknown multimodal source field {unknown[0]!r}.", {"field": unknown[0]})
        if "uri_prefix" not in data:
            raise InvalidArgumentError("A multimodal source needs uri_prefix=, such as 's3://bucket/images/'.", {})
        values = dict(data)
        if values.get("content_types") is not None:
            values["content_types"] = tuple(values["content_types"])
        return cls(**values)


def _reference(
    info: BlobInfo, content_type: str, checksum: str, algorithm: HashAlgorithm, source: str | None
) -> BlobReference:
    metadata: dict[str, Any] = {}
    if info.last_modified is not None:
        metadata["last_modified"] = info.last_modified.isoformat()
    if source:
        metadata["source"] = source
    return BlobReference(
        uri=info.uri,
        content_type=content_type,
        checksum=checksum,
        hash_algorithm=algorithm,
        size_bytes=info.size,
        etag=info.etag,
        version_id=info.version_id,
        metadata=metadata,
    )


def _type_of(info: BlobInfo, store: BlobStore, sniff: bool) -> str | None:
    by_name = content_type_of(info.uri)
    if by_name is not None:
        return by_name.value
    if info.content_type and info.content_type != ContentType.UNKNOWN.value and "/" in info.content_type:
        return str(ContentType.parse(info.content_type))  # what the object store was told on upload
    if sniff:
        head = store.read_head(info.uri, SNIFF_BYTES)
        found = sniff_content_type(head) if head else None
        if found is not None:
            return found.value
    return None


def scan(spec: ScanSpec, store: BlobStore) -> list[BlobReference]:
    """References to the blobs under ``spec.uri_prefix`` of the wanted types, sorted by URI."""
    candidates = list(store.list(spec.uri_prefix, recursive=spec.recursive, pattern=spec.glob_pattern))

    def one(info: BlobInfo) -> BlobReference | None:
        content_type = _type_of(info, store, spec.sniff)
        if not spec.wants(content_type):
            return None
        checksum = ""
        if spec.compute_checksums:
            try:
                checksum, size = store.hash(info.uri, spec.hash_algorithm)
            except FileNotFoundError:
                return None  # deleted between listing and reading: not there to reference
            info = BlobInfo(info.uri, size, info.etag, info.version_id, info.last_modified, info.content_type)
        return _reference(info, content_type or ContentType.UNKNOWN.value, checksum, spec.hash_algorithm, spec.name)

    found: list[BlobReference] = []
    bar = items_bar(len(candidates), f"scan {spec.name or spec.uri_prefix}", "blob")
    # Each worker takes a batch of blobs, not one: handing a thread one small file costs as much as
    # hashing it. A batch is a few blobs, so a slow blob holds up few others.
    workers = io_workers(spec.uri_prefix, spec.max_concurrency)
    size = max(1, min(32, len(candidates) // (workers * 4) or 1))
    batches = [candidates[i : i + size] for i in range(0, len(candidates), size)]
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="raise-scan") as pool:
            for refs in pool.map(lambda batch: [one(info) for info in batch], batches):
                bar.update(len(refs))
                found.extend(r for r in refs if r is not None)
                if spec.limit is not None and len(found) >= spec.limit:
                    del found[spec.limit :]
                    break
    finally:
        bar.close()
    return found


def describe(
    uri: str, store: BlobStore, *, compute_checksum: bool = True, algorithm: HashAlgorithm = HashAlgorithm.SHA256
) -> BlobReference:
    """A reference to one blob as the storage has it now (FileNotFoundError when missing)."""
    info = store.info(uri)
    if info is None:
        raise FileNotFoundError(uri)
    content_type = _type_of(info, store, True) or ContentType.UNKNOWN.value
    checksum = ""
    if compute_checksum:
        checksum, size = store.hash(info.uri, algorithm)
        info = BlobInfo(info.uri, size, info.etag, info.version_id, info.last_modified, info.content_type)
    return _reference(info, content_type, checksum, algorithm, None)
