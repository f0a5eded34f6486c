"""The SDK of multimodal data (README *Multimodal Data*): ``BlobRegistry`` and
``MultimodalSource``. Both are doors into the store's multimodal service: embedded, it reads the
blobs in this process; through a server (``RAISE_URL``), the server reads them with its own
credentials, and previews come back as PNG thumbnails.

A registry belongs to a project: ``BlobRegistry(name=...)`` opens (or creates) it in the project of
the store made last in this process (``FeatureStore("acme/mlplatform/vision")``), or of ``store=``.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from raise_.api.protocol import Backend
from raise_.client.store import FeatureStore, current_store
from raise_.errors import BlobReferenceNotFoundError, BlobRegistryNotFoundError
from raise_.multimodal.blobstore import BlobStore
from raise_.multimodal.content_types import ContentType
from raise_.multimodal.hashing import HashAlgorithm, hash_bytes, hash_stream
from raise_.multimodal.policy import IntegrityPolicy
from raise_.multimodal.references import BlobReference, create_reference, reference_from_value
from raise_.multimodal.scanning import ScanSpec
from raise_.multimodal.validation import DEFAULT_CONCURRENCY, ValidationResult

__all__ = ["BlobRegistry", "MultimodalSource"]

RefLike = BlobReference | str | Mapping[str, Any]


def _store(store: FeatureStore | None) -> FeatureStore:
    return store if store is not None else current_store()


def _ref(data: Mapping[str, Any]) -> BlobReference:
    return BlobReference.from_dict(data)


class BlobRegistry:
    """Tracks and validates the blob references of a project (README *Blob Registry*)."""

    def __init__(
        self,
        name: str,
        policy: IntegrityPolicy | None = None,
        *,
        store: FeatureStore | None = None,
        description: str | None = None,
    ) -> None:
        fs = _store(store)
        self._backend: Backend = fs._backend
        self.project = fs.path
        self._record: dict[str, Any]
        if policy is None and description is None:
            # Opening one that exists needs read only; a new one is created (write).
            try:
                self._record = self._backend.get_blob_registry(self.project, name)
            except BlobRegistryNotFoundError:
                self._record = self._backend.create_blob_registry(self.project, name, if_exists="skip")
        else:
            # With a policy: created with it, or an existing one brought to it (admins only).
            self._record = self._backend.create_blob_registry(
                self.project,
                name,
                policy=policy.to_dict() if policy is not None else None,
                description=description,
                if_exists="update",
            )
        self.name: str = self._record["name"]

    # -- the registry ---------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return str(self._record["id"])

    @property
    def policy(self) -> IntegrityPolicy:
        return IntegrityPolicy.from_dict(self._record["policy"])

    def set_policy(self, policy: IntegrityPolicy) -> None:
        self._record = self._backend.update_blob_registry(self.project, self.name, policy=policy.to_dict())

    def info(self) -> dict[str, Any]:
        """The registry with its counts: ``references``, ``by_status``, ``bytes_referenced``."""
        self._record = self._backend.get_blob_registry(self.project, self.name)
        return dict(self._record)

    def __len__(self) -> int:
        return int(self.info()["references"])

    def delete(self) -> None:
        """Delete the registry and its references (the blobs stay where they are)."""
        self._backend.delete_blob_registry(self.project, self.name)

    # -- references -----------------------------------------------------------------------------

    def register(
        self,
        uri: str | BlobReference | None = None,
        content_type: ContentType | str | None = None,
        checksum: str = "",
        size_bytes: int = 0,
        hash_algorithm: HashAlgorithm | str = HashAlgorithm.SHA256,
        metadata: Mapping[str, Any] | None = None,
        *,
        etag: str | None = None,
        version_id: str | None = None,
        reference: BlobReference | None = None,
        validate: bool | None = None,
    ) -> BlobReference:
        """Register one reference (built from the arguments, or ``reference=``/a reference as
        ``uri``). Under an ON_WRITE or STRICT policy it is validated first."""
        ref = reference if reference is not None else uri if isinstance(uri, BlobReference) else None
        if ref is None:
            if not isinstance(uri, str):
                raise TypeError("register() needs uri= (or reference=)")
            ref = create_reference(
                uri,
                content_type,
                checksum,
                hash_algorithm,
                size_bytes,
                etag=etag,
                version_id=version_id,
                metadata=metadata,
            )
        (out,) = self._backend.register_blob_references(self.project, self.name, [ref.to_dict()], validate=validate)
        return _ref(out)

    def register_many(self, references: Iterable[RefLike], validate: bool | None = None) -> list[BlobReference]:
        """Register many references in one call (one transaction)."""
        values = [self._as_ref(r).to_dict() for r in references]
        return [
            _ref(r) for r in self._backend.register_blob_references(self.project, self.name, values, validate=validate)
        ]

    def get(self, reference_id: str) -> BlobReference:
        """A reference by its registry id (validated first under ON_READ or STRICT)."""
        return _ref(self._backend.get_blob_reference(self.project, self.name, str(reference_id)))

    def get_by_uri(self, uri: str) -> BlobReference:
        """The newest reference to ``uri``."""
        return _ref(self._backend.get_blob_reference_by_uri(self.project, self.name, uri))

    def list_references(
        self,
        content_type: ContentType | str | None = None,
        prefix: str | None = None,
        status: str | None = None,
        limit: int = 10_000,
        offset: int = 0,
    ) -> list[BlobReference]:
        """References by URI; ``content_type`` may be ``"image/*"``."""
        kind = str(content_type.value) if isinstance(content_type, ContentType) else content_type
        found = self._backend.list_blob_references(
            self.project, self.name, content_type=kind, prefix=prefix, status=status, limit=limit, offset=offset
        )
        return [_ref(r) for r in found]

    def delete_reference(self, reference: RefLike) -> None:
        self._backend.delete_blob_reference(self.project, self.name, self._id_of(reference))

    def find_orphans(self) -> list[BlobReference]:
        """References whose blobs no longer exist."""
        return [_ref(r) for r in self._backend.find_blob_orphans(self.project, self.name)]

    # -- checksums and validation -----------------------------------------------------------------

    @staticmethod
    def compute_checksum(
        data: bytes | bytearray | memoryview | IO[bytes] | str | os.PathLike[str],
        algorithm: HashAlgorithm | str = HashAlgorithm.SHA256,
    ) -> str:
        """The hex checksum of ``data``: bytes, an open binary file, or a path/URI (streamed)."""
        if isinstance(data, bytes | bytearray | memoryview):
            return hash_bytes(data, algorithm)
        if isinstance(data, str | os.PathLike):
            digest, _ = BlobStore.default().hash(os.fspath(data), algorithm)
            return digest
        if hasattr(data, "read"):
            digest, _ = hash_stream(data, algorithm)
            return digest
        raise TypeError(f"compute_checksum() takes bytes, a binary file or a path, not {type(data).__name__}")

    def validate(self, reference: RefLike, force: bool = False) -> ValidationResult:
        """Validate one reference: a registered one by its id (the result is recorded and cached
        for the policy's ``cache_validation_seconds``), any other as given (nothing recorded)."""
        ref = self._as_ref(reference)
        if ref.id is not None and ref.registry in (None, self.name):
            return ValidationResult.from_dict(
                self._backend.validate_blob_reference(self.project, self.name, ref.id, force=force)
            )
        (out,) = self._backend.validate_blob_values(self.project, [ref.to_dict()])
        assert out is not None
        return ValidationResult.from_dict(out)

    def validate_batch(
        self, references: Iterable[RefLike] | None = None, force: bool = False
    ) -> list[ValidationResult]:
        """Validate many references concurrently (None: every reference of the registry), in order."""
        if references is None:
            return [
                ValidationResult.from_dict(r)
                for r in self._backend.validate_blob_batch(self.project, self.name, force=force)
            ]
        refs = [self._as_ref(r) for r in references]
        held = [i for i, r in enumerate(refs) if r.id is not None and r.registry in (None, self.name)]
        others = [i for i, r in enumerate(refs) if i not in set(held)]
        out: list[ValidationResult | None] = [None] * len(refs)
        if held:
            found = self._backend.validate_blob_batch(
                self.project, self.name, reference_ids=[str(refs[i].id) for i in held], force=force
            )
            for i, r in zip(held, found, strict=True):
                out[i] = ValidationResult.from_dict(r)
        if others:
            found_values = self._backend.validate_blob_values(self.project, [refs[i].to_dict() for i in others])
            for i, value in zip(others, found_values, strict=True):
                assert value is not None
                out[i] = ValidationResult.from_dict(value)
        return [r for r in out if r is not None]

    def validation_history(self, reference: RefLike, limit: int = 100) -> list[ValidationResult]:
        found = self._backend.blob_validation_history(self.project, self.name, self._id_of(reference), limit=limit)
        return [ValidationResult.from_dict(r) for r in found]

    # -- pictures ---------------------------------------------------------------------------------

    def thumbnails(self, limit: int = 12, size: int = 128, content_type: str = "image/*") -> list[dict[str, Any]]:
        """PNG thumbnails (base64, drawn by the store) of the first ``limit`` image references."""
        out = []
        for ref in self.list_references(content_type=content_type, limit=limit):
            try:
                out.append({**self._backend.blob_preview(self.project, ref.uri, size=size), "status": ref.status})
            except Exception as exc:  # a missing or undrawable blob: shown as such, not a failure
                out.append({"uri": ref.uri, "error": str(getattr(exc, "message", exc)), "status": ref.status})
        return out

    def _repr_html_(self) -> str:
        info = self.info()
        counts = ", ".join(f"{n} {s}" for s, n in sorted(info.get("by_status", {}).items())) or "no references"
        cells = []
        for thumb in self.thumbnails(limit=8):
            title = html.escape(thumb["uri"])
            if "data" in thumb:
                cells.append(
                    f'<figure style="display:inline-block;margin:4px;text-align:center">'
                    f'<img src="data:image/png;base64,{thumb["data"]}" title="{title}" alt="{title}"/>'
                    f'<figcaption style="font-size:10px">{html.escape(thumb["uri"].rsplit("/", 1)[-1])} · '
                    f"{html.escape(thumb['status'])}</figcaption></figure>"
                )
            else:
                cells.append(f'<span title="{title}">⚠ {html.escape(thumb["error"])}</span>')
        return (
            f"<div><b>BlobRegistry {html.escape(self.name)}</b> ({html.escape(self.project)}) — "
            f"{info['references']} reference(s), {info['bytes_referenced']:,} bytes: {html.escape(counts)}; "
            f"policy {html.escape(self.policy.mode.value)}<div>{''.join(cells)}</div></div>"
        )

    def __repr__(self) -> str:
        return f"BlobRegistry(name={self.name!r}, project={self.project!r}, policy={self.policy.mode.value!r})"

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _as_ref(value: RefLike) -> BlobReference:
        ref = reference_from_value(value)
        if ref is None:
            raise TypeError("a reference may not be None")
        return ref

    def _id_of(self, value: RefLike) -> str:
        if isinstance(value, str) and "://" not in value and "/" not in value:
            return value  # an id
        ref = self._as_ref(value)
        return ref.id if ref.id is not None else self.get_by_uri(ref.uri).id or ""


class MultimodalSource:
    """Blobs under a prefix of object storage (or a directory), as references (README
    *Multimodal Sources*): ``scan()`` lists them, registering them in ``registry`` when given."""

    def __init__(
        self,
        name: str,
        uri_prefix: str,
        content_types: Sequence[ContentType | str] | None = None,
        registry: BlobRegistry | str | None = None,
        compute_checksums: bool = True,
        hash_algorithm: HashAlgorithm | str = HashAlgorithm.SHA256,
        recursive: bool = True,
        glob_pattern: str | None = None,
        *,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        store: FeatureStore | None = None,
    ) -> None:
        self.name = name
        self.registry = registry
        self.spec = ScanSpec(
            uri_prefix=uri_prefix,
            content_types=tuple(str(getattr(t, "value", t)) for t in content_types) if content_types else None,
            registry=registry.name if isinstance(registry, BlobRegistry) else registry,
            compute_checksums=compute_checksums,
            hash_algorithm=HashAlgorithm.parse(hash_algorithm),
            recursive=recursive,
            glob_pattern=glob_pattern,
            max_concurrency=max_concurrency,
            name=name,
        )
        if isinstance(registry, BlobRegistry) and store is None:
            self._backend, self.project = registry._backend, registry.project
        else:
            fs = _store(store)
            self._backend, self.project = fs._backend, fs.path

    @property
    def uri_prefix(self) -> str:
        return self.spec.uri_prefix

    def scan(self, limit: int | None = None) -> list[BlobReference]:
        """References (not data) to the blobs of the wanted types, sorted by URI."""
        spec = self.spec.to_dict()
        spec["limit"] = limit
        return [_ref(r) for r in self._backend.scan_multimodal_source(self.project, spec)]

    def uri_of(self, name: str) -> str:
        if "://" in name or name.startswith("/"):
            return name
        return self.spec.uri_prefix.rstrip("/") + "/" + name.lstrip("/")

    def get_reference(self, name: str) -> BlobReference:
        """The reference to one blob of the source (a name under the prefix, or a full URI): the
        registry's, when it holds it; else described from the storage now."""
        uri = self.uri_of(name)
        if self.spec.registry is not None:
            try:
                return _ref(self._backend.get_blob_reference_by_uri(self.project, self.spec.registry, uri))
            except BlobReferenceNotFoundError:
                pass
        described = self._backend.describe_blob(
            self.project, uri, checksum=self.spec.compute_checksums, hash_algorithm=self.spec.hash_algorithm.value
        )
        return _ref(described)

    def to_dict(self) -> dict[str, Any]:
        return self.spec.to_dict()

    def __repr__(self) -> str:
        return f"MultimodalSource(name={self.name!r}, uri_prefix={self.uri_prefix!r})"
