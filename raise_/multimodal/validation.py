"""Validating blob references (README *Integrity Validation*, PRD §17.7): does the blob exist, is
it the size and the content the reference says. The answer is a :class:`ValidationResult`, never
an exception: a missing blob, a mismatch and an unreachable storage are results with a status and
a message; only a policy with ``fail_on_*`` turns them into coded errors
(:func:`raise_for_policy`).

Many references are validated concurrently with a bound (:func:`validate_references`): the work is
I/O (HEAD requests, streamed reads), so threads overlap it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from raise_.errors import BlobIntegrityError, BlobMissingError, BlobUnreachableError
from raise_.multimodal.blobstore import BlobStore
from raise_.multimodal.policy import IntegrityPolicy
from raise_.multimodal.references import BlobReference

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BlobStatus",
    "ValidationResult",
    "io_workers",
    "raise_for_policy",
    "validate_reference",
    "validate_references",
]

#: How many blobs are read at once by batch validation and scans.
DEFAULT_CONCURRENCY: Final = 16


class BlobStatus(StrEnum):
    VALID = "valid"  # exists, and its size and checksum (where checked) match
    MISSING = "missing"  # the storage answered: no such object
    INVALID = "invalid"  # exists, but its size or checksum differs from the reference
    EXPIRED = "expired"  # exists, but is another version (ETag / version id changed; content not hashed)
    UNREACHABLE = "unreachable"  # the storage could not be asked (scheme, credentials, network)
    UNCHECKED = "unchecked"  # never validated

    def __str__(self) -> str:
        return f"BlobStatus.{self.name}"  # as the README prints it; .value is the stored text

    __repr__ = __str__


@dataclass(frozen=True)
class ValidationResult:
    """What validating one reference found. ``checksum_matches``/``size_matches`` are None when
    that was not checked (no checksum recorded, ``verify_checksum=False``, a missing blob)."""

    uri: str
    status: BlobStatus
    message: str = ""
    checksum_matches: bool | None = None
    size_matches: bool | None = None
    expected_checksum: str | None = None
    actual_checksum: str | None = None
    expected_size: int | None = None
    actual_size: int | None = None
    hash_algorithm: str | None = None
    etag: str | None = None
    reference_id: str | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_seconds: float = 0.0
    cached: bool = False

    @property
    def valid(self) -> bool:
        return self.status is BlobStatus.VALID

    @property
    def exists(self) -> bool | None:
        if self.status is BlobStatus.UNREACHABLE:
            return None
        return self.status is not BlobStatus.MISSING

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        out["valid"] = self.valid
        out["checked_at"] = self.checked_at.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationResult:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["status"] = BlobStatus(known["status"])
        if isinstance(known.get("checked_at"), str):
            known["checked_at"] = datetime.fromisoformat(known["checked_at"])
        return cls(**known)

    def __repr__(self) -> str:
        return f"ValidationResult(uri={self.uri!r}, status={self.status.name}, message={self.message!r})"


def validate_reference(
    ref: BlobReference,
    store: BlobStore,
    *,
    verify_checksum: bool = True,
    verify_size: bool = True,
) -> ValidationResult:
    """Check one reference against its storage: existence (HEAD), size, then the checksum by
    streaming the blob (only when the reference has one and ``verify_checksum``)."""
    started = time.perf_counter()
    base: dict[str, Any] = {
        "uri": ref.uri,
        "reference_id": ref.id,
        "expected_checksum": ref.checksum or None,
        "expected_size": ref.size_bytes or None,
        "hash_algorithm": ref.hash_algorithm.value,
    }

    def done(status: BlobStatus, message: str, **found: Any) -> ValidationResult:
        return ValidationResult(
            status=status, message=message, duration_seconds=time.perf_counter() - started, **base, **found
        )

    try:
        info = store.info(ref.uri)
    except BlobUnreachableError as exc:
        return done(BlobStatus.UNREACHABLE, exc.message)
    if info is None:
        return done(BlobStatus.MISSING, f"{ref.uri} does not exist.")
    # A size of 0 on a reference means "not recorded" (create_reference's default).
    size_matches = info.size == ref.size_bytes if verify_size and ref.size_bytes else None
    found: dict[str, Any] = {"actual_size": info.size, "size_matches": size_matches, "etag": info.etag}
    if size_matches is False:
        return done(
            BlobStatus.INVALID, f"{ref.uri} is {info.size} bytes; the reference says {ref.size_bytes}.", **found
        )
    if verify_checksum and ref.checksum:
        try:
            actual, _ = store.hash(ref.uri, ref.hash_algorithm)
        except FileNotFoundError:
            return done(BlobStatus.MISSING, f"{ref.uri} disappeared while it was read.", **found)
        except BlobUnreachableError as exc:
            return done(BlobStatus.UNREACHABLE, exc.message, **found)
        matches = actual == ref.checksum
        found.update(actual_checksum=actual, checksum_matches=matches)
        if not matches:
            return done(
                BlobStatus.INVALID,
                f"The {ref.hash_algorithm.name} of {ref.uri} is {actual[:16]}…; the reference says "
                f"{ref.checksum[:16]}…: the blob changed or the reference is wrong.",
                **found,
            )
        return done(BlobStatus.VALID, "exists; size and checksum match", **found)
    changed = (ref.etag and info.etag and ref.etag != info.etag) or (
        ref.version_id and info.version_id and ref.version_id != info.version_id
    )
    if changed:
        return done(BlobStatus.EXPIRED, f"{ref.uri} is another version than the one referenced.", **found)
    return done(BlobStatus.VALID, "exists" + ("; size matches" if size_matches else ""), **found)


def io_workers(uri: str, concurrency: int) -> int:
    """How many threads read blobs at ``uri`` at once: ``concurrency`` for remote storage, where
    threads overlap waiting; for local files (the page cache answers: the work is CPU) no more
    than the cores, since more threads only queue for the interpreter (measured: 16 threads
    hashed cached files at half the speed of one)."""
    local = "://" not in uri or uri.startswith("file://")
    return max(1, min(concurrency, os.cpu_count() or 1)) if local else max(1, concurrency)


def validate_references(
    refs: Sequence[BlobReference],
    store: BlobStore,
    *,
    verify_checksum: bool = True,
    verify_size: bool = True,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: Callable[[ValidationResult], None] | None = None,
) -> list[ValidationResult]:
    """Validate many references, ``concurrency`` at a time; results in the order of ``refs``."""
    if not refs:
        return []

    def one(ref: BlobReference) -> ValidationResult:
        result = validate_reference(ref, store, verify_checksum=verify_checksum, verify_size=verify_size)
        if on_result is not None:
            on_result(result)
        return result

    if len(refs) == 1 or concurrency <= 1:
        return [one(r) for r in refs]
    # Batches of a few references per task: handing a thread one small blob costs as much as
    # checking it. Small enough that the bound still spreads slow storage over every worker.
    # Local blobs: no more threads than cores (see io_workers); a batch may mix, the first decides.
    concurrency = io_workers(refs[0].uri, concurrency)
    size = max(1, min(32, len(refs) // (concurrency * 4)))
    batches = [refs[i : i + size] for i in range(0, len(refs), size)]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(batches)), thread_name_prefix="raise-blob") as pool:
        return [result for batch in pool.map(lambda b: [one(r) for r in b], batches) for result in batch]


def raise_for_policy(result: ValidationResult, policy: IntegrityPolicy, where: str = "") -> None:
    """The coded error a policy asks for, naming the URI (and ``where``: the row of a write)."""
    at = f"{where}: " if where else ""
    if result.status is BlobStatus.MISSING and policy.fail_on_missing:
        raise BlobMissingError(
            f"{at}{result.uri} does not exist. Upload the blob or fix the reference's URI.",
            {"uri": result.uri, "status": result.status.value},
        )
    if result.status is BlobStatus.UNREACHABLE and policy.fail_on_missing:
        raise BlobUnreachableError(f"{at}{result.message}", {"uri": result.uri, "status": result.status.value})
    if result.status in (BlobStatus.INVALID, BlobStatus.EXPIRED) and policy.fail_on_mismatch:
        raise BlobIntegrityError(
            f"{at}{result.message} Register the blob again to record what it is now.",
            {
                "uri": result.uri,
                "status": result.status.value,
                "expected_checksum": result.expected_checksum,
                "actual_checksum": result.actual_checksum,
                "expected_size": result.expected_size,
                "actual_size": result.actual_size,
            },
        )


#: The name ``from raise_ import BlobValidationResult`` gives (``raise_.ValidationResult`` is a
#: derived feature's expression check).
BlobValidationResult = ValidationResult
