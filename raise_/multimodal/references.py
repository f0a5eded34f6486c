"""Blob references (README *Blob References*, PRD §17.3): an immutable pointer to a blob with what
is needed to trust it later (checksum, size, ETag, version), never the bytes themselves.

A reference's location is a URI: ``s3://bucket/key``, ``gs://…``, ``az://container/key``,
``file:///abs/path`` or a plain path (read as ``file``). Object-store URIs have a ``bucket`` and a
``key``; a file has only a ``key`` (its path).
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

from raise_.errors import InvalidArgumentError
from raise_.multimodal.content_types import ContentType, category_of, content_type_of
from raise_.multimodal.hashing import HashAlgorithm
from raise_.types.dtypes import BLOB_REF_STORAGE, is_content_type

__all__ = ["OBJECT_STORE_SCHEMES", "BlobReference", "create_reference", "normalise_uri", "reference_from_value"]

#: Schemes whose first URI component is a bucket (or container) rather than part of a path.
OBJECT_STORE_SCHEMES: Final = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "r2", "oss"})
_MAX_URI: Final = 2048


def normalise_uri(uri: str) -> str:
    """The URI a reference keeps: ``~`` expanded and relative paths made absolute (a reference
    must mean the same file whichever directory reads it); other URIs unchanged."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidArgumentError("A blob reference needs a uri, such as 's3://bucket/key.png'.", {"uri": uri})
    uri = uri.strip()
    if len(uri) > _MAX_URI:
        raise InvalidArgumentError(f"A blob URI is at most {_MAX_URI} characters.", {"uri": uri[:200] + "…"})
    if "://" in uri:
        scheme = uri.split("://", 1)[0]
        if not scheme or not all(c.isalnum() or c in "+-." for c in scheme):
            raise InvalidArgumentError(f"{uri!r} has no valid scheme.", {"uri": uri})
        return uri
    return os.path.abspath(os.path.expanduser(uri))


def _text(value: object) -> str:
    return str(getattr(value, "value", value))


@dataclass(frozen=True)
class BlobReference:
    """A reference to one blob. Immutable: :meth:`with_changes` makes a changed copy.

    ``id`` and ``registry`` are set once a registry holds the reference; ``status`` is what its
    last validation found (``valid``, ``missing``, ``invalid``, ``unreachable``, ``unchecked``).
    """

    uri: str
    content_type: ContentType | str = ContentType.UNKNOWN
    checksum: str = ""
    hash_algorithm: HashAlgorithm = HashAlgorithm.SHA256
    size_bytes: int = 0
    etag: str | None = None
    version_id: str | None = None
    # Two references to the same content are equal whenever and wherever they were made: what
    # follows is bookkeeping (when, the registry's id and its last finding), not identity.
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False)
    id: str | None = field(default=None, compare=False)
    registry: str | None = field(default=None, compare=False)
    status: str = field(default="unchecked", compare=False)
    validated_at: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "uri", normalise_uri(self.uri))
        content_type = _text(self.content_type) if self.content_type is not None else ContentType.UNKNOWN.value
        if not is_content_type(content_type.partition(";")[0].strip()) or content_type.endswith("/*"):
            raise InvalidArgumentError(
                f"{content_type!r} is not a content type; write type/subtype such as 'image/png' "
                "(ContentType lists the known ones).",
                {"uri": self.uri, "content_type": content_type},
            )
        set_(self, "content_type", ContentType.parse(content_type))
        set_(self, "hash_algorithm", HashAlgorithm.parse(self.hash_algorithm))
        if not isinstance(self.checksum, str):
            raise InvalidArgumentError("checksum must be a hex string.", {"uri": self.uri})
        set_(self, "checksum", self.checksum.strip().lower())
        if isinstance(self.size_bytes, numbers.Integral) and not isinstance(self.size_bytes, bool):
            set_(self, "size_bytes", int(self.size_bytes))  # numpy integers from a frame
        if isinstance(self.size_bytes, bool) or not isinstance(self.size_bytes, int) or self.size_bytes < 0:
            raise InvalidArgumentError(
                f"size_bytes must be a whole number of bytes ≥ 0, got {self.size_bytes!r}.", {"uri": self.uri}
            )
        if not isinstance(self.metadata, Mapping):
            raise InvalidArgumentError("metadata must be a mapping.", {"uri": self.uri})
        try:
            frozen = json.loads(json.dumps(dict(self.metadata), default=str))
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"metadata must be JSON: {exc}.", {"uri": self.uri}) from None
        set_(self, "metadata", MappingProxyType(frozen))
        created = self.created_at
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        set_(self, "created_at", created)

    def __hash__(self) -> int:
        return hash((self.uri, self.checksum, self.hash_algorithm))

    # -- where the blob is ------------------------------------------------------------------------

    @property
    def scheme(self) -> str:
        """``s3``, ``gs``, ``az``, ``file``, ...: ``file`` for plain paths."""
        return self.uri.split("://", 1)[0].lower() if "://" in self.uri else "file"

    @property
    def bucket(self) -> str | None:
        """The bucket (or container) of an object-store URI; None for files."""
        return urlsplit(self.uri).netloc or None if self.scheme in OBJECT_STORE_SCHEMES else None

    @property
    def key(self) -> str:
        """The object key under the bucket; for a file, its path."""
        if self.scheme in OBJECT_STORE_SCHEMES:
            return urlsplit(self.uri).path.lstrip("/")
        if self.scheme == "file":
            return self.uri[len("file://") :] if self.uri.startswith("file://") else self.uri
        return self.uri.split("://", 1)[1]

    @property
    def filename(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    # -- what it is -------------------------------------------------------------------------------

    @property
    def mime_type(self) -> str:
        return _text(self.content_type)

    @property
    def category(self) -> str:
        return category_of(self.mime_type)

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")

    @property
    def is_audio(self) -> bool:
        return self.mime_type.startswith("audio/")

    @property
    def is_video(self) -> bool:
        return self.mime_type.startswith("video/")

    @property
    def is_document(self) -> bool:
        return self.category == "document"

    @property
    def is_3d(self) -> bool:
        return self.category == "3d"

    @property
    def is_tensor(self) -> bool:
        return self.category == "tensor"

    @property
    def has_checksum(self) -> bool:
        return bool(self.checksum)

    # -- copies and forms ---------------------------------------------------------------------------

    def with_changes(self, **changes: Any) -> BlobReference:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "registry": self.registry,
            "uri": self.uri,
            "content_type": self.mime_type,
            "checksum": self.checksum,
            "hash_algorithm": self.hash_algorithm.value,
            "size_bytes": self.size_bytes,
            "etag": self.etag,
            "version_id": self.version_id,
            "created_at": self.created_at.isoformat(),
            "metadata": dict(self.metadata),
            "status": self.status,
            "validated_at": self.validated_at.isoformat() if self.validated_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BlobReference:
        known = {k: v for k, v in data.items() if k in _FIELDS and v is not None}
        if isinstance(known.get("metadata"), str):
            known["metadata"] = json.loads(known["metadata"] or "{}")
        if isinstance(known.get("validated_at"), str):
            known["validated_at"] = datetime.fromisoformat(known["validated_at"])
        return cls(**known)

    def to_storage(self) -> dict[str, Any]:
        """The value a ``blob_ref`` feature column stores (the struct of ``BLOB_REF_STORAGE``):
        the reference's own fields, its time as a datetime and its metadata as JSON text."""
        out = {k: v for k, v in self.to_dict().items() if k in BLOB_REF_STORAGE.fields}
        out.update(created_at=self.created_at, metadata=json.dumps(dict(self.metadata), sort_keys=True))
        return out

    def __repr__(self) -> str:
        checksum = f"{self.checksum[:12]}…" if len(self.checksum) > 12 else self.checksum
        return (
            f"BlobReference(uri={self.uri!r}, content_type={self.mime_type!r}, size_bytes={self.size_bytes}, "
            f"checksum={self.hash_algorithm.value}:{checksum!r}, status={self.status!r})"
        )


_FIELDS: Final = frozenset(BlobReference.__dataclass_fields__)


def create_reference(
    uri: str,
    content_type: ContentType | str | None = None,
    checksum: str = "",
    hash_algorithm: HashAlgorithm | str = HashAlgorithm.SHA256,
    size_bytes: int = 0,
    *,
    etag: str | None = None,
    version_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> BlobReference:
    """A reference built from what you know of a blob (README ``create_reference``); the content
    type, when not given, is the one its extension says (else ``application/octet-stream``)."""
    if content_type is None:
        content_type = content_type_of(uri) or ContentType.UNKNOWN
    return BlobReference(
        uri=uri,
        content_type=content_type,
        checksum=checksum,
        hash_algorithm=HashAlgorithm.parse(hash_algorithm),
        size_bytes=size_bytes,
        etag=etag,
        version_id=version_id,
        metadata=dict(metadata or {}),
    )


def reference_from_value(value: object) -> BlobReference | None:
    """A reference from what a ``blob_ref`` column or a caller holds: a reference, its dict (the
    stored struct or ``to_dict()``), a URI string; None for null."""
    if value is None:
        return None
    if isinstance(value, BlobReference):
        return value
    if isinstance(value, str):
        return create_reference(value)
    if isinstance(value, Mapping):
        return BlobReference.from_dict(value)
    raise InvalidArgumentError(
        f"{type(value).__name__} is not a blob reference; give a BlobReference, its dict or a URI.",
        {"value": repr(value)[:200]},
    )
