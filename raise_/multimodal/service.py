"""The multimodal service: blob registries and their references in the catalog, validation with
its cache, scans of object storage, previews, and the integrity of ``blob_ref`` columns (PRD §17,
issue 22).

Who may do what: registries live in a project and follow its ACL cascade (organization › domain ›
project, as a group does): reading a registry, its references, their validations and previews
needs read on the project; registering, scanning into, validating (which records results) and
deleting references needs write; creating a registry needs write, changing its policy or deleting
it needs admin. Every change and every validation is audited (``CREATE``/``DELETE`` on
``blob_registry``/``blob_reference``, ``VALIDATE`` with the counts by status).

All I/O on blobs (HEAD, streamed hashing, listing) happens outside catalog transactions, through
the :class:`~raise_.multimodal.blobstore.BlobStore` seam, concurrently with a bound.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, func, insert, select, update

from raise_.catalog.lookup import find_organization
from raise_.catalog.paths import parse_project_path
from raise_.errors import (
    BlobIntegrityWarning,
    BlobMissingError,
    BlobReferenceNotFoundError,
    BlobRegistryExistsError,
    BlobRegistryNotFoundError,
    InvalidArgumentError,
)
from raise_.governance import audit
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, guarded, internal
from raise_.governance.identity import acting_as
from raise_.multimodal.blobstore import BlobStore
from raise_.multimodal.columns import BlobColumnChecks
from raise_.multimodal.content_types import ContentType, content_type_of
from raise_.multimodal.hashing import HashAlgorithm
from raise_.multimodal.models import BlobReferenceModel, BlobRegistryModel, BlobValidationModel
from raise_.multimodal.policy import IntegrityMode, IntegrityPolicy
from raise_.multimodal.references import BlobReference, normalise_uri, reference_from_value
from raise_.multimodal.scanning import ScanSpec, scan
from raise_.multimodal.validation import (
    BlobStatus,
    BlobValidationResult,
    raise_for_policy,
    validate_references,
)
from raise_.types.dtypes import is_registry_name

if TYPE_CHECKING:
    from raise_.scheduling.scheduler import Scheduler
    from raise_.storage.service import StorageService

__all__ = ["PERIODIC_KIND", "MultimodalService", "register_multimodal_schedules"]

#: The scheduler's item kind for a PERIODIC registry's validation.
PERIODIC_KIND: Final = "blob-integrity"
_MAX_LIST: Final = 100_000
_PREVIEW_MAX_BYTES: Final = 50 * 1024 * 1024
_PREVIEW_SIZES: Final = range(16, 1025)


def _registry_dict(row: BlobRegistryModel, counts: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(row.id),
        "name": row.name,
        "project": row.scope,
        "description": row.description,
        "policy": IntegrityPolicy.from_dict(row.integrity_policy).to_dict(),
        "created_by": row.created_by,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "last_validated_at": row.last_validated_at,
    }
    if counts is not None:
        out.update(counts)
    return out


def _reference_dict(row: BlobReferenceModel, registry: str) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "registry": registry,
        "uri": row.uri,
        "content_type": row.content_type,
        "checksum": row.checksum,
        "hash_algorithm": row.hash_algorithm,
        "size_bytes": int(row.size_bytes),
        "etag": row.etag,
        "version_id": row.version_id,
        "metadata": dict(row.details or {}),
        "status": row.status,
        "created_at": row.created_at,
        "validated_at": row.validated_at,
    }


def _result_of_row(row: BlobValidationModel, ref: BlobReferenceModel) -> BlobValidationResult:
    return BlobValidationResult(
        uri=ref.uri,
        status=BlobStatus(row.status),
        message=row.message or "",
        checksum_matches=row.checksum_matches,
        size_matches=row.size_matches,
        expected_checksum=ref.checksum or None,
        actual_checksum=row.actual_checksum,
        expected_size=int(ref.size_bytes) or None,
        actual_size=row.actual_size,
        hash_algorithm=ref.hash_algorithm,
        reference_id=str(ref.id),
        checked_at=row.checked_at,
        duration_seconds=row.duration_seconds,
        cached=True,
    )


class DurationHistogram:
    """Durations observed in this process, bucketed as Prometheus histograms are (cumulative)."""

    BUCKETS: Final = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts = [0] * len(self.BUCKETS)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        with self._lock:
            self.count += 1
            self.total += seconds
            for i, bound in enumerate(self.BUCKETS):
                if seconds <= bound:
                    self.counts[i] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "buckets": list(zip(self.BUCKETS, self.counts, strict=True)),
                "count": self.count,
                "sum": self.total,
            }


class MultimodalService(Service):
    def __init__(
        self,
        context: ServiceContext,
        storage: StorageService | None = None,
        blobs: BlobStore | None = None,
        schedules: Callable[[], Scheduler] | None = None,
    ) -> None:
        super().__init__(context)
        self.storage = storage
        self._blobs = blobs
        self._schedules = schedules
        self.scan_durations = DurationHistogram()
        self.validation_durations = DurationHistogram()
        # The integrity of blob_ref columns: the storage service runs these on writes and reads.
        self.columns = BlobColumnChecks(self.registry_policy, self.validate_values)

    @property
    def blobs(self) -> BlobStore:
        return self._blobs if self._blobs is not None else BlobStore.default()

    # -- registries -------------------------------------------------------------------------------

    @guarded("write", lambda a: Target.path(a["project_path"]), "create a blob registry in")
    def create_blob_registry(
        self,
        project_path: str,
        name: str,
        policy: Mapping[str, Any] | None = None,
        description: str | None = None,
        if_exists: str = "error",
    ) -> dict[str, Any]:
        """A registry in the project (``if_exists``: ``error``, ``skip`` (the existing one) or
        ``update`` (its policy and description, which needs admin on the project))."""
        if not isinstance(name, str) or not is_registry_name(name):
            raise InvalidArgumentError(
                f"{name!r} is not a registry name: use letters, digits, '_', '.' and '-' (1-128), "
                "starting with a letter or digit.",
                {"name": name},
            )
        if if_exists not in ("error", "skip", "update"):
            raise InvalidArgumentError("if_exists must be 'error', 'skip' or 'update'.", {"if_exists": if_exists})
        checked = IntegrityPolicy.from_dict(policy) if policy is not None else IntegrityPolicy()
        context = parse_project_path(project_path)
        with self.db.transaction() as s:
            existing = self._registry_row(s, str(context), name, missing_ok=True)
            created: dict[str, Any] = {}
            if existing is not None:
                if if_exists == "error":
                    raise BlobRegistryExistsError(
                        f"Blob registry {name!r} already exists in {context}; open it with "
                        f"BlobRegistry(name={name!r}) or pass if_exists='skip'.",
                        {"registry": name, "project": str(context)},
                    )
                unchanged = (policy is None or checked.to_dict() == existing.integrity_policy) and (
                    description is None or description == existing.description
                )
                if if_exists == "skip" or unchanged:
                    return _registry_dict(existing)
            else:
                org = find_organization(s, context.org)
                existing = BlobRegistryModel(
                    id=uuid.uuid4(),
                    org_id=org.id,
                    scope=str(context),
                    name=name,
                    description=description,
                    integrity_policy=checked.to_dict(),
                    created_by=self.actor(),
                )
                s.add(existing)
                s.flush()
                self._audit(s, "CREATE", "blob_registry", existing, f"{context}/{name}", {"policy": checked.to_dict()})
                created = _registry_dict(existing)
        if created:
            # After the commit: the scheduler writes its items in transactions of its own.
            self._schedule(created["id"], None, checked)
            return created
        return self.update_blob_registry(project_path, name, policy=policy, description=description)

    @guarded("admin", lambda a: Target.path(a["project_path"]), "change a blob registry of")
    def update_blob_registry(
        self,
        project_path: str,
        name: str,
        policy: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        context = parse_project_path(project_path)
        checked = IntegrityPolicy.from_dict(policy) if policy is not None else None
        with self.db.transaction() as s:
            row = self._registry_row(s, str(context), name)
            before = IntegrityPolicy.from_dict(row.integrity_policy)
            changes: dict[str, Any] = {}
            if checked is not None:
                row.integrity_policy = checked.to_dict()
                changes["policy"] = checked.to_dict()
            if description is not None:
                row.description = description
                changes["description"] = description
            row.updated_at = datetime.now(UTC)
            if changes:
                self._audit(s, "UPDATE_METADATA", "blob_registry", row, f"{context}/{name}", changes)
            out = _registry_dict(row)
        if checked is not None:
            self._schedule(out["id"], before, checked)
        return out

    @guarded("read", lambda a: Target.path(a["project_path"]), "read the blob registries of")
    def get_blob_registry(self, project_path: str, name: str) -> dict[str, Any]:
        """The registry with its counts: references by status, bytes referenced."""
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            row = self._registry_row(s, str(context), name)
            by_status = dict(
                s.execute(
                    select(BlobReferenceModel.status, func.count())
                    .where(BlobReferenceModel.registry_id == row.id)
                    .group_by(BlobReferenceModel.status)
                ).all()
            )
            total_bytes = s.scalar(
                select(func.coalesce(func.sum(BlobReferenceModel.size_bytes), 0)).where(
                    BlobReferenceModel.registry_id == row.id
                )
            )
            counts = {
                "references": int(sum(by_status.values())),
                "by_status": {str(k): int(v) for k, v in by_status.items()},
                "bytes_referenced": int(total_bytes or 0),
            }
            return _registry_dict(row, counts)

    @guarded("read", lambda a: Target.path(a["project_path"]), "list the blob registries of")
    def list_blob_registries(self, project_path: str) -> list[dict[str, Any]]:
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            rows = s.scalars(
                select(BlobRegistryModel)
                .where(BlobRegistryModel.scope == str(context))
                .order_by(BlobRegistryModel.name)
            ).all()
            counts = dict(
                s.execute(
                    select(BlobReferenceModel.registry_id, func.count())
                    .where(BlobReferenceModel.registry_id.in_([r.id for r in rows]))
                    .group_by(BlobReferenceModel.registry_id)
                ).all()
            )
            return [_registry_dict(r, {"references": int(counts.get(r.id, 0))}) for r in rows]

    @guarded("admin", lambda a: Target.path(a["project_path"]), "delete a blob registry of")
    def delete_blob_registry(self, project_path: str, name: str) -> None:
        """Delete the registry, its references and their validations (never the blobs)."""
        context = parse_project_path(project_path)
        with self.db.transaction() as s:
            row = self._registry_row(s, str(context), name)
            ids = select(BlobReferenceModel.id).where(BlobReferenceModel.registry_id == row.id)
            s.execute(delete(BlobValidationModel).where(BlobValidationModel.reference_id.in_(ids)))
            n = s.scalar(select(func.count()).where(BlobReferenceModel.registry_id == row.id))
            s.execute(delete(BlobReferenceModel).where(BlobReferenceModel.registry_id == row.id))
            self._audit(s, "DELETE", "blob_registry", row, f"{context}/{name}", {"references": int(n or 0)})
            s.delete(row)
            registry_id, policy = str(row.id), IntegrityPolicy.from_dict(row.integrity_policy)
        if policy.mode is IntegrityMode.PERIODIC:
            self._unschedule(registry_id)

    # -- references -------------------------------------------------------------------------------

    @guarded("write", lambda a: Target.path(a["project_path"]), "register blob references in")
    def register_blob_references(
        self,
        project_path: str,
        registry: str,
        references: Sequence[Mapping[str, Any]],
        validate: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Register references (each the dict of a :class:`BlobReference`); one already held
        (same URI and checksum) is returned as it is. Under an ON_WRITE or STRICT policy (or
        ``validate=True``) each is validated first: with ``fail_on_*`` a failure raises and nothing
        is registered; without, it is registered with the status found and a warning says so."""
        if not isinstance(references, Sequence) or isinstance(references, str | bytes):
            raise InvalidArgumentError("references must be a list of references.", {})
        refs = [self._reference_in(value, i) for i, value in enumerate(references)]
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            reg = self._registry_row(s, str(context), registry)
            policy = IntegrityPolicy.from_dict(reg.integrity_policy)
            registry_id = reg.id
        for ref in refs:
            self.blobs.check_allowed(ref.uri)
        check = policy.validates_on_write if validate is None else bool(validate)
        results: list[BlobValidationResult | None] = [None] * len(refs)
        if check:
            found = self._validate_io(refs, policy)
            for i, checked in enumerate(found):
                raise_for_policy(checked, policy, f"references[{i}]" if len(refs) > 1 else "")
                results[i] = checked
            bad = [r for r in found if not r.valid]
            if bad:
                warnings.warn(
                    f"{len(bad)} of {len(refs)} blob reference(s) failed validation and were registered with "
                    f"their status (first: {bad[0].uri}: {bad[0].status.value}, {bad[0].message})",
                    BlobIntegrityWarning,
                    stacklevel=3,
                )
        out: list[dict[str, Any]] = []
        with self.db.transaction() as s:
            reg = s.get(BlobRegistryModel, registry_id)
            assert reg is not None
            created = 0
            for ref, result in zip(refs, results, strict=True):
                row: BlobReferenceModel | None = s.scalar(
                    select(BlobReferenceModel).where(
                        BlobReferenceModel.registry_id == registry_id,
                        BlobReferenceModel.uri == ref.uri,
                        BlobReferenceModel.checksum == ref.checksum,
                    )
                )
                if row is None:
                    row = BlobReferenceModel(
                        id=uuid.uuid4(),
                        registry_id=registry_id,
                        uri=ref.uri,
                        content_type=ref.mime_type,
                        checksum=ref.checksum,
                        hash_algorithm=ref.hash_algorithm.value,
                        size_bytes=ref.size_bytes,
                        etag=ref.etag,
                        version_id=ref.version_id,
                        details=dict(ref.metadata),
                        status=BlobStatus.UNCHECKED.value,
                        created_by=self.actor(),
                        created_at=ref.created_at,
                    )
                    s.add(row)
                    s.flush()
                    created += 1
                if result is not None:
                    self._record(s, row, result)
                out.append(_reference_dict(row, reg.name))
            if created:
                self._audit(
                    s,
                    "CREATE",
                    "blob_reference",
                    reg,
                    f"{context}/{registry}",
                    {
                        "references": created,
                        "uris": [r["uri"] for r in out[:20]],
                        "bytes": sum(r.size_bytes for r in refs),
                    },
                )
        return out

    def _reference_in(self, value: object, index: int) -> BlobReference:
        try:
            ref = reference_from_value(value)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"references[{index}]: {exc.message}", {**exc.details, "index": index}) from None
        if ref is None:
            raise InvalidArgumentError(f"references[{index}] is null.", {"index": index})
        if ref.content_type == ContentType.UNKNOWN:
            known = content_type_of(ref.uri)
            if known is not None:
                ref = ref.with_changes(content_type=known)
        return ref

    @guarded("read", lambda a: Target.path(a["project_path"]), "read the blob references of")
    def get_blob_reference(self, project_path: str, registry: str, reference_id: str) -> dict[str, Any]:
        """One reference by its id; validated first under an ON_READ or STRICT policy."""
        return self._get(project_path, registry, lambda s, reg: self._reference_row(s, reg, reference_id))

    @guarded("read", lambda a: Target.path(a["project_path"]), "read the blob references of")
    def get_blob_reference_by_uri(self, project_path: str, registry: str, uri: str) -> dict[str, Any]:
        """The newest reference to ``uri`` in the registry."""

        return self._get(project_path, registry, lambda s, reg: self._newest_by_uri(s, reg, uri))

    def _get(
        self,
        project_path: str,
        registry: str,
        find: Callable[[Any, BlobRegistryModel], BlobReferenceModel],
    ) -> dict[str, Any]:
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            reg = self._registry_row(s, str(context), registry)
            row = find(s, reg)
            policy = IntegrityPolicy.from_dict(reg.integrity_policy)
            out = _reference_dict(row, reg.name)
        if policy.validates_on_read:
            (result,) = self._validate_ids(str(context), registry, [out["id"]], force=False, audit_as_read=True)
            raise_for_policy(result, policy)
            out["status"] = result.status.value
            out["validated_at"] = result.checked_at
        return out

    @guarded("read", lambda a: Target.path(a["project_path"]), "read the blob references of")
    def list_blob_references(
        self,
        project_path: str,
        registry: str,
        content_type: str | None = None,
        prefix: str | None = None,
        status: str | None = None,
        limit: int = 10_000,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """References by URI; ``content_type`` (``image/png`` or ``image/*``), ``prefix`` of the URI
        and ``status`` filter them (bound, never pasted)."""
        for name, value in (("limit", limit), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > _MAX_LIST:
                raise InvalidArgumentError(f"{name} must be a whole number from 0 to {_MAX_LIST}.", {name: value})
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            reg = self._registry_row(s, str(context), registry)
            query = select(BlobReferenceModel).where(BlobReferenceModel.registry_id == reg.id)
            if content_type is not None:
                text = str(getattr(content_type, "value", content_type)).lower()
                if text.endswith("/*"):
                    query = query.where(BlobReferenceModel.content_type.startswith(text[:-1], autoescape=True))
                else:
                    query = query.where(BlobReferenceModel.content_type == str(ContentType.parse(text)))
            if prefix is not None:
                query = query.where(BlobReferenceModel.uri.startswith(str(prefix), autoescape=True))
            if status is not None:
                query = query.where(BlobReferenceModel.status == str(getattr(status, "value", status)).lower())
            rows = s.scalars(
                query.order_by(BlobReferenceModel.uri, BlobReferenceModel.created_at).offset(offset).limit(limit)
            ).all()
            return [_reference_dict(r, reg.name) for r in rows]

    @guarded("write", lambda a: Target.path(a["project_path"]), "delete blob references of")
    def delete_blob_reference(self, project_path: str, registry: str, reference_id: str) -> None:
        """Forget a reference and its validations (the blob itself is never touched)."""
        context = parse_project_path(project_path)
        with self.db.transaction() as s:
            reg = self._registry_row(s, str(context), registry)
            row = self._reference_row(s, reg, reference_id)
            s.execute(delete(BlobValidationModel).where(BlobValidationModel.reference_id == row.id))
            self._audit(
                s, "DELETE", "blob_reference", reg, f"{context}/{registry}", {"uri": row.uri, "id": str(row.id)}
            )
            s.delete(row)

    # -- validation -------------------------------------------------------------------------------

    @guarded("write", lambda a: Target.path(a["project_path"]), "validate the blob references of")
    def validate_blob_reference(
        self, project_path: str, registry: str, reference_id: str, force: bool = False
    ) -> dict[str, Any]:
        """Validate one reference (a result younger than the policy's cache is reused unless ``force``)."""
        (result,) = self._validate_ids(project_path, registry, [reference_id], force=force)
        return result.to_dict()

    @guarded("write", lambda a: Target.path(a["project_path"]), "validate the blob references of")
    def validate_blob_batch(
        self,
        project_path: str,
        registry: str,
        reference_ids: list[str] | None = None,
        uris: list[str] | None = None,
        force: bool = False,
    ) -> list[dict[str, Any]]:
        """Validate references by id or URI (none given: all of the registry), concurrently."""
        ids = self._ids_of(project_path, registry, reference_ids, uris)
        return [r.to_dict() for r in self._validate_ids(project_path, registry, ids, force=force)]

    @guarded("write", lambda a: Target.path(a["project_path"]), "validate the blob references of")
    def find_blob_orphans(self, project_path: str, registry: str, force: bool = False) -> list[dict[str, Any]]:
        """References whose blobs no longer exist (validated now, existence only)."""
        ids = self._ids_of(project_path, registry, None, None)
        results = self._validate_ids(project_path, registry, ids, force=force, existence_only=True)
        missing = {r.reference_id for r in results if r.status is BlobStatus.MISSING}
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            reg = self._registry_row(s, str(context), registry)
            rows = s.scalars(
                select(BlobReferenceModel)
                .where(BlobReferenceModel.id.in_([uuid.UUID(i) for i in missing if i]))
                .order_by(BlobReferenceModel.uri)
            ).all()
            return [_reference_dict(r, reg.name) for r in rows]

    @guarded("read", lambda a: Target.path(a["project_path"]), "read the blob validations of")
    def blob_validation_history(
        self, project_path: str, registry: str, reference_id: str, limit: int = 100
    ) -> list[dict[str, Any]]:
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            reg = self._registry_row(s, str(context), registry)
            ref = self._reference_row(s, reg, reference_id)
            rows = s.scalars(
                select(BlobValidationModel)
                .where(BlobValidationModel.reference_id == ref.id)
                .order_by(BlobValidationModel.checked_at.desc())
                .limit(max(1, min(int(limit), 10_000)))
            ).all()
            return [{**_result_of_row(r, ref).to_dict(), "cached": False, "checked_by": r.checked_by} for r in rows]

    def _ids_of(
        self, project_path: str, registry: str, reference_ids: list[str] | None, uris: list[str] | None
    ) -> list[str]:
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            reg = self._registry_row(s, str(context), registry)
            if reference_ids is None and uris is None:
                return [
                    str(i)
                    for i in s.scalars(
                        select(BlobReferenceModel.id)
                        .where(BlobReferenceModel.registry_id == reg.id)
                        .order_by(BlobReferenceModel.uri)
                    )
                ]
            ids = [str(self._reference_row(s, reg, i).id) for i in reference_ids or []]
            ids += [str(self._newest_by_uri(s, reg, uri).id) for uri in uris or []]
            return ids

    def _validate_ids(
        self,
        project_path: str,
        registry: str,
        ids: Sequence[str],
        *,
        force: bool,
        existence_only: bool = False,
        audit_as_read: bool = False,
    ) -> list[BlobValidationResult]:
        """Validate the references ``ids`` of a registry, recording each new result; results younger
        than the policy's cache answer without I/O."""
        context = parse_project_path(project_path)
        now = datetime.now(UTC)
        with self.db.reader() as s:
            reg = self._registry_row(s, str(context), registry)
            policy = IntegrityPolicy.from_dict(reg.integrity_policy)
            registry_id = reg.id
            rows = {
                str(r.id): r
                for r in s.scalars(
                    select(BlobReferenceModel).where(BlobReferenceModel.id.in_([uuid.UUID(i) for i in ids]))
                )
            }
            cached: dict[str, BlobValidationResult] = {}
            fresh_after = now - timedelta(seconds=policy.cache_validation_seconds)
            if not force and policy.cache_validation_seconds > 0 and not existence_only:
                recent = [
                    r for r in rows.values() if r.validated_at is not None and _aware(r.validated_at) >= fresh_after
                ]
                for row in recent:
                    last = s.scalar(
                        select(BlobValidationModel)
                        .where(BlobValidationModel.reference_id == row.id)
                        .order_by(BlobValidationModel.checked_at.desc())
                        .limit(1)
                    )
                    # An existence-only check (find_orphans) does not stand for a checksum check.
                    unhashed = (
                        policy.verify_checksum
                        and row.checksum
                        and last is not None
                        and (last.valid and last.checksum_matches is None)
                    )
                    if last is not None and not unhashed:
                        cached[str(row.id)] = _result_of_row(last, row)
            todo = [rows[i] for i in ids if i in rows and i not in cached]
            refs = [BlobReference.from_dict(_reference_dict(r, reg.name)) for r in todo]
        fresh = self._validate_io(refs, policy, verify_checksum=not existence_only and policy.verify_checksum)
        by_id = dict(cached)
        with self.db.transaction() as s:
            reg = s.get(BlobRegistryModel, registry_id)
            assert reg is not None
            self._record_many(
                s, [(uuid.UUID(str(ref.id)), r) for ref, r in zip(refs, fresh, strict=True)], existence_only
            )
            by_id.update({str(ref.id): result for ref, result in zip(refs, fresh, strict=True)})
            reg.last_validated_at = now
            counts: dict[str, int] = {}
            for result in by_id.values():
                counts[result.status.value] = counts.get(result.status.value, 0) + 1
            self._audit(
                s,
                "READ" if audit_as_read else "VALIDATE",
                "blob_registry",
                reg,
                f"{context}/{registry}",
                {
                    "references": len(by_id),
                    "validated": len(fresh),
                    "from_cache": len(cached),
                    "by_status": counts,
                    "existence_only": existence_only,
                },
            )
        return [by_id[i] for i in ids if i in by_id]

    def _validate_io(
        self, refs: Sequence[BlobReference], policy: IntegrityPolicy, *, verify_checksum: bool | None = None
    ) -> list[BlobValidationResult]:
        results = validate_references(
            refs,
            self.blobs,
            verify_checksum=policy.verify_checksum if verify_checksum is None else verify_checksum,
            verify_size=policy.verify_size,
        )
        for result in results:
            self.validation_durations.observe(result.duration_seconds)
        return results

    def _record_many(
        self, s: Any, found: Sequence[tuple[uuid.UUID, BlobValidationResult]], existence_only: bool
    ) -> None:
        """Record many findings in two statements (an insert and an update by primary key), not
        three per reference: the catalog was most of a large batch's time."""
        if not found:
            return
        actor = self.actor()
        s.execute(insert(BlobValidationModel), [self._validation_values(ref_id, r, actor) for ref_id, r in found])
        # "It exists" says nothing of its content: the last full validation's status stands.
        changes = [
            {"id": ref_id, "status": r.status.value, "validated_at": r.checked_at}
            for ref_id, r in found
            if not (existence_only and r.valid)
        ]
        if changes:
            s.execute(update(BlobReferenceModel), changes)

    @staticmethod
    def _validation_values(ref_id: uuid.UUID, r: BlobValidationResult, actor: str) -> dict[str, Any]:
        """The ``blob_validations`` row of one finding."""
        return {
            "id": uuid.uuid4(),
            "reference_id": ref_id,
            "status": r.status.value,
            "valid": r.valid,
            "message": r.message,
            "actual_checksum": r.actual_checksum,
            "actual_size": r.actual_size,
            "checksum_matches": r.checksum_matches,
            "size_matches": r.size_matches,
            "duration_seconds": r.duration_seconds,
            "checked_by": actor,
            "checked_at": r.checked_at,
        }

    def _record(self, s: Any, row: BlobReferenceModel, result: BlobValidationResult) -> None:
        """One finding, on a reference loaded in this session (registering keeps the row it returns)."""
        s.add(BlobValidationModel(**self._validation_values(row.id, result, self.actor())))
        row.status = result.status.value
        row.validated_at = result.checked_at

    @guarded("read", lambda a: Target.path(a["project_path"]), "validate blobs of")
    def validate_blob_values(
        self,
        project_path: str,
        references: Sequence[object],
        verify_checksum: bool = True,
    ) -> list[dict[str, Any] | None]:
        """Validate references no registry holds (values of data, ``registry.validate`` of an
        unregistered reference): results only, nothing recorded; None for a null value."""
        if not isinstance(references, Sequence) or isinstance(references, str | bytes):
            raise InvalidArgumentError("references must be a list of references.", {})
        return [
            None if r is None else r.to_dict()
            for r in self.validate_values(references, verify_checksum=verify_checksum)
        ]

    @internal
    def validate_values(
        self, values: Sequence[object], *, verify_checksum: bool = True
    ) -> list[BlobValidationResult | None]:
        refs = [self._reference_in(v, i) if v is not None else None for i, v in enumerate(values)]
        present = [r for r in refs if r is not None]
        for ref in present:
            self.blobs.check_allowed(ref.uri)
        found = iter(self._validate_io(present, IntegrityPolicy(), verify_checksum=verify_checksum))
        return [None if r is None else next(found) for r in refs]

    @internal
    def registry_policy(self, project_path: str, registry: str) -> IntegrityPolicy | None:
        """The policy of a registry a ``blob_ref`` feature names (None: no such registry)."""
        with self.db.reader() as s:
            row = self._registry_row(s, str(parse_project_path(project_path)), registry, missing_ok=True)
            return IntegrityPolicy.from_dict(row.integrity_policy) if row is not None else None

    # -- sources ----------------------------------------------------------------------------------

    @guarded("read", lambda a: Target.path(a["project_path"]), "scan multimodal sources in")
    def scan_multimodal_source(self, project_path: str, source: Mapping[str, Any]) -> list[dict[str, Any]]:
        """List the blobs under a source's prefix as references (hashing them when asked), and
        register them in the source's registry when it names one (which needs write)."""
        spec = ScanSpec.from_dict(source)
        self.blobs.check_allowed(spec.uri_prefix)
        if spec.registry is not None:
            self.authorize("write", Target.path(project_path), "register blob references in")
            self.get_blob_registry(project_path, spec.registry)  # exists, before any I/O
        started = time.perf_counter()
        refs = scan(spec, self.blobs)
        self.scan_durations.observe(time.perf_counter() - started)
        if spec.registry is None:
            return [r.to_dict() for r in refs]
        return self.register_blob_references(project_path, spec.registry, [r.to_dict() for r in refs], validate=False)

    @guarded("read", lambda a: Target.path(a["project_path"]), "read blobs of")
    def describe_blob(
        self,
        project_path: str,
        uri: str,
        checksum: bool = True,
        hash_algorithm: str = HashAlgorithm.SHA256.value,
    ) -> dict[str, Any]:
        """The reference a source's ``get_reference`` returns: what the storage says of one blob,
        its content type (extension, then magic bytes) and, with ``checksum``, its digest."""
        from raise_.multimodal.scanning import describe

        self.blobs.check_allowed(uri)
        try:
            found = describe(uri, self.blobs, compute_checksum=checksum, algorithm=HashAlgorithm.parse(hash_algorithm))
        except FileNotFoundError:
            raise BlobMissingError(f"{uri} does not exist.", {"uri": uri}) from None
        return found.to_dict()

    # -- previews ---------------------------------------------------------------------------------

    @guarded("read", lambda a: Target.path(a["project_path"]), "preview blobs of")
    def blob_preview(self, project_path: str, uri: str, size: int = 160) -> dict[str, Any]:
        """A PNG thumbnail (base64) of an image the project references, drawn by the server: the
        browser never reaches the storage. Only URIs registered in one of the project's registries
        are previewed (the store is not a way to read any file its server can)."""
        if isinstance(size, bool) or not isinstance(size, int) or size not in _PREVIEW_SIZES:
            raise InvalidArgumentError("size is a whole number of pixels from 16 to 1024.", {"size": size})
        uri = normalise_uri(uri)
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            content_type = s.scalar(
                select(BlobReferenceModel.content_type)
                .join(BlobRegistryModel, BlobRegistryModel.id == BlobReferenceModel.registry_id)
                .where(BlobRegistryModel.scope == str(context), BlobReferenceModel.uri == uri)
                .limit(1)
            )
        if content_type is None:
            raise BlobReferenceNotFoundError(
                f"No blob registry of {context} holds {uri}: only registered references are previewed.",
                {"uri": uri, "project": str(context)},
            )
        return self.thumbnail(uri, size)

    @guarded("read", lambda a: Target.path(a["group_path"]), "preview the blobs of")
    def blob_feature_samples(
        self, group_path: str, feature: str, limit: int = 8, size: int = 96
    ) -> list[dict[str, Any]]:
        """The first ``limit`` references of a ``blob_ref`` feature's latest values, each with a
        thumbnail (PNG, base64) when it is an image the store can draw: what the sidebar shows.
        Only URIs read from that column are drawn, so a preview shows nothing the caller could
        not read."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            raise InvalidArgumentError("limit is a whole number from 1 to 100.", {"limit": limit})
        if isinstance(size, bool) or not isinstance(size, int) or size not in _PREVIEW_SIZES:
            raise InvalidArgumentError("size is a whole number of pixels from 16 to 1024.", {"size": size})
        if self.storage is None:
            raise InvalidArgumentError("This service has no offline store to read features from.", {})
        from raise_.types import BlobRef

        column = self.storage.layout(group_path).resolve(feature)
        if not isinstance(column.dtype, BlobRef):
            raise InvalidArgumentError(
                f"{feature!r} is not a blob_ref feature of {group_path}; previews show blob references.",
                {"feature": feature, "group": group_path},
            )
        table = self.storage.read(group_path, [feature], limit=limit * 4)
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for value in table.column(table.column_names[-1]).to_pylist() if table.num_rows else []:
            ref = reference_from_value(value)
            if ref is None or ref.uri in seen:
                continue
            seen.add(ref.uri)
            item: dict[str, Any] = {**ref.to_dict(), "thumbnail": None, "error": None}
            if ref.is_image:
                try:
                    item["thumbnail"] = self.thumbnail(ref.uri, size)
                except Exception as exc:  # missing, unreachable, not drawable: said, not raised
                    item["error"] = str(getattr(exc, "message", exc))
            out.append(item)
            if len(out) >= limit:
                break
        return out

    @internal
    def thumbnail(self, uri: str, size: int = 160) -> dict[str, Any]:
        """A thumbnail of an image blob, for a caller that checked the right to see it."""
        from raise_.multimodal.previews import thumbnail_png

        self.blobs.check_allowed(uri)
        try:
            data = self.blobs.read(uri, _PREVIEW_MAX_BYTES)
        except FileNotFoundError:
            raise BlobMissingError(f"{uri} does not exist: there is nothing to preview.", {"uri": uri}) from None
        png, width, height = thumbnail_png(data, size)
        return {
            "uri": uri,
            "content_type": "image/png",
            "width": width,
            "height": height,
            "data": base64.b64encode(png).decode("ascii"),
        }

    # -- metrics ----------------------------------------------------------------------------------

    @internal
    def blob_metrics(self) -> dict[str, Any]:
        """What ``/metrics`` reports (PRD §17.13): counts from the catalog, durations of this process."""
        with self.db.reader() as s:
            refs, total_bytes = s.execute(
                select(func.count(), func.coalesce(func.sum(BlobReferenceModel.size_bytes), 0))
            ).one()
            by_status = dict(
                s.execute(select(BlobReferenceModel.status, func.count()).group_by(BlobReferenceModel.status)).all()
            )
            validations = s.scalar(select(func.count()).select_from(BlobValidationModel))
            failed = s.scalar(select(func.count()).where(BlobValidationModel.valid.is_(False)))
        checked = sum(int(v) for k, v in by_status.items() if k != BlobStatus.UNCHECKED.value)
        return {
            "references": int(refs),
            "bytes_referenced": int(total_bytes or 0),
            "validations": int(validations or 0),
            "validations_failed": int(failed or 0),
            "missing_rate": (int(by_status.get("missing", 0)) / checked) if checked else 0.0,
            "invalid_rate": (int(by_status.get("invalid", 0)) / checked) if checked else 0.0,
            "scan_durations": self.scan_durations.snapshot(),
            "validation_durations": self.validation_durations.snapshot(),
        }

    # -- periodic validation ----------------------------------------------------------------------

    @internal
    def run_periodic_validation(self, registry_id: str) -> dict[str, Any]:
        """The scheduler's item of a PERIODIC registry: validate all its references, as the
        registry's creator (the audit entry names them)."""
        with self.db.reader() as s:
            row = s.get(BlobRegistryModel, uuid.UUID(registry_id))
            if row is None:
                return {"skipped": "deleted"}
            scope, name, owner = row.scope, row.name, row.created_by
        with acting_as(owner):
            ids = self._ids_of(scope, name, None, None)
            results = self._validate_ids(scope, name, ids, force=True)
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status.value] = counts.get(r.status.value, 0) + 1
        return {"registry": f"{scope}/{name}", "validated": len(results), "by_status": counts}

    def _scheduler(self) -> Scheduler:
        if self._schedules is not None:
            return self._schedules()
        from raise_.scheduling.scheduler import Scheduler

        return Scheduler(self.db)

    def _schedule(self, registry_id: str, before: IntegrityPolicy | None, policy: IntegrityPolicy) -> None:
        """Keep the registry's periodic validation on the scheduler as its policy says (called
        after the registry's transaction: the scheduler writes in its own)."""
        from raise_.durations import parse_duration

        if policy.mode is IntegrityMode.PERIODIC:
            self._scheduler().ensure(
                _item_name(registry_id),
                PERIODIC_KIND,
                every=parse_duration(policy.check_interval or "1d", "check_interval"),
                payload={"registry_id": registry_id},
            )
        elif before is not None and before.mode is IntegrityMode.PERIODIC:
            self._unschedule(registry_id)

    def _unschedule(self, registry_id: str) -> None:
        self._scheduler().remove(_item_name(registry_id))

    # -- helpers ----------------------------------------------------------------------------------

    def _registry_row(self, s: Any, scope: str, name: str, *, missing_ok: bool = False) -> Any:
        row = s.scalar(
            select(BlobRegistryModel).where(BlobRegistryModel.scope == scope, BlobRegistryModel.name == name)
        )
        if row is None and not missing_ok:
            raise BlobRegistryNotFoundError(
                f"No blob registry {name!r} in {scope}; create it with BlobRegistry(name={name!r}).",
                {"registry": name, "project": scope},
            )
        return row

    @staticmethod
    def _newest_by_uri(s: Any, reg: BlobRegistryModel, uri: str) -> BlobReferenceModel:
        """The newest reference to ``uri`` (the same URI with another checksum is a newer blob)."""
        row: BlobReferenceModel | None = s.scalar(
            select(BlobReferenceModel)
            .where(BlobReferenceModel.registry_id == reg.id, BlobReferenceModel.uri == normalise_uri(uri))
            .order_by(BlobReferenceModel.created_at.desc())
            .limit(1)
        )
        if row is None:
            raise BlobReferenceNotFoundError(
                f"Registry {reg.name!r} holds no reference to {uri}; register it first.",
                {"registry": reg.name, "uri": uri},
            )
        return row

    @staticmethod
    def _reference_row(s: Any, reg: BlobRegistryModel, reference_id: str) -> BlobReferenceModel:
        try:
            key = uuid.UUID(str(reference_id))
        except ValueError:
            key = None
        row = s.get(BlobReferenceModel, key) if key is not None else None
        if row is None or row.registry_id != reg.id:
            raise BlobReferenceNotFoundError(
                f"Registry {reg.name!r} holds no reference {reference_id!r}.",
                {"registry": reg.name, "reference_id": str(reference_id)},
            )
        return row  # type: ignore[no-any-return]

    def _audit(
        self, s: Any, action: str, resource_type: str, reg: BlobRegistryModel, path: str, details: dict[str, Any]
    ) -> None:
        audit.record(
            s,
            actor=self.actor(),
            action=action,
            resource_type=resource_type,
            resource_id=reg.id,
            resource_path=path,
            org_id=reg.org_id,
            details=details,
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _item_name(registry_id: str) -> str:
    return f"blob-integrity:{registry_id}"


def register_multimodal_schedules(scheduler: Scheduler, multimodal: MultimodalService) -> None:
    """Teach ``scheduler`` to run the periodic validations of PERIODIC registries."""
    scheduler.register(PERIODIC_KIND, lambda item: multimodal.run_periodic_validation(str(item.payload["registry_id"])))
