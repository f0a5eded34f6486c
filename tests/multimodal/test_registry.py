"""Blob registries in the catalog: references and their filters, validation on disk and on S3
(every status, with its details), the validation cache, policies that raise, periodic validation
on the scheduler, the audit log, access control. Rows are checked with hand-written SQL."""

from __future__ import annotations

import os
import threading
import time
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from multimodal_data import image_bytes, put_images, sha256, write_images

from raise_ import ACL, BlobRegistry, FeatureStore, IntegrityPolicy, MultimodalSource
from raise_.errors import (
    BlobIntegrityError,
    BlobIntegrityWarning,
    BlobMissingError,
    BlobReferenceNotFoundError,
    BlobRegistryExistsError,
    BlobRegistryNotFoundError,
    InvalidArgumentError,
    PermissionDeniedError,
)
from raise_.multimodal.blobstore import BlobStore
from raise_.multimodal.references import create_reference
from raise_.multimodal.validation import BlobStatus, io_workers, validate_references


@pytest.fixture
def images(tmp_path: Path) -> dict[str, bytes]:
    return write_images(tmp_path / "imgs", 6)


@pytest.fixture
def folder(tmp_path: Path, images: dict[str, bytes]) -> Path:
    return tmp_path / "imgs"


def _rows(sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = sa.create_engine(os.environ["RAISE_CATALOG_URL"])
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params).all()]
    finally:
        engine.dispose()


def test_scan_register_list_and_find(fs: FeatureStore, folder: Path, images: dict[str, bytes]) -> None:
    registry = BlobRegistry("imgs", IntegrityPolicy.lazy(), store=fs)
    (folder / "notes.txt").write_text("not an image")
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.jpg").write_bytes(image_bytes(50, "JPEG"))
    source = MultimodalSource("local", str(folder), content_types=["image/png", "image/jpeg"], registry=registry)
    refs = source.scan()
    names = [*sorted(images), "sub/deep.jpg"]
    assert [r.uri for r in refs] == [str(folder / n) for n in names]
    assert [r.checksum for r in refs[:-1]] == [sha256(images[n]) for n in sorted(images)]
    assert [r.size_bytes for r in refs[:-1]] == [len(images[n]) for n in sorted(images)]
    flat = MultimodalSource("flat", str(folder), recursive=False, glob_pattern="*.{png,jpg}", compute_checksums=False)
    assert [r.filename for r in flat.scan()] == sorted(images) and all(r.checksum == "" for r in flat.scan())
    # the catalog holds them, and the filters select what hand-written SQL does
    assert _rows("SELECT count(*) FROM blob_references") == [(len(names),)]
    assert [r.uri for r in registry.list_references(content_type="image/jpeg")] == [str(folder / "sub/deep.jpg")]
    assert len(registry.list_references(content_type="image/*")) == len(names)
    assert [r.filename for r in registry.list_references(prefix=str(folder / "product-00"))] == sorted(images)
    assert registry.list_references(prefix=str(folder / "product-%")) == []  # % is a character, not a wildcard
    assert [r.uri for r in registry.list_references(limit=2, offset=1)] == [str(folder / n) for n in names[1:3]]
    first = refs[0]
    assert registry.get(first.id or "") == first and registry.get_by_uri(first.uri).id == first.id
    # registering what is held returns it; a new checksum of the same URI is a new reference
    assert registry.register(first).id == first.id
    changed = registry.register(first.uri, "image/png", checksum=sha256(b"other"), size_bytes=5)
    assert changed.id != first.id and registry.get_by_uri(first.uri).id == changed.id
    registry.delete_reference(changed)
    assert registry.get_by_uri(first.uri).id == first.id
    with pytest.raises(BlobReferenceNotFoundError):
        registry.get(changed.id or "")
    info = registry.info()
    assert info["references"] == len(names) and info["bytes_referenced"] == sum(r.size_bytes for r in refs)
    assert fs.list_blob_registries()[0]["references"] == len(names)


def test_validation_finds_every_status_with_its_details(fs: FeatureStore, folder: Path) -> None:
    registry = BlobRegistry("imgs", IntegrityPolicy.lazy(), store=fs)
    refs = MultimodalSource("local", str(folder), registry=registry).scan()
    (folder / refs[1].filename).unlink()
    (folder / refs[2].filename).write_bytes(image_bytes(99))  # another image: another size
    data = (folder / refs[3].filename).read_bytes()
    (folder / refs[3].filename).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, one bit
    registry.register(f"nosuchscheme://bucket/{refs[4].filename}", "image/png", checksum="00")
    results = registry.validate_batch()
    by_uri = {r.uri: r for r in results}
    assert by_uri[refs[0].uri].status is BlobStatus.VALID and by_uri[refs[0].uri].checksum_matches is True
    missing = by_uri[refs[1].uri]
    assert (missing.status, missing.exists, missing.valid) == (BlobStatus.MISSING, False, False)
    resized = by_uri[refs[2].uri]
    assert (resized.status, resized.size_matches, resized.actual_size) == (
        BlobStatus.INVALID,
        False,
        len(image_bytes(99)),
    )
    flipped = by_uri[refs[3].uri]
    assert (flipped.status, flipped.size_matches, flipped.checksum_matches) == (BlobStatus.INVALID, True, False)
    assert flipped.actual_checksum == sha256((folder / refs[3].filename).read_bytes())
    unreachable = by_uri[f"nosuchscheme://bucket/{refs[4].filename}"]
    assert unreachable.status is BlobStatus.UNREACHABLE and "nosuchscheme" in unreachable.message
    assert unreachable.exists is None
    # each finding is recorded: the reference's status and a validation row
    statuses = dict(_rows("SELECT uri, status FROM blob_references"))
    assert statuses[refs[1].uri] == "missing" and statuses[refs[3].uri] == "invalid"
    assert _rows("SELECT count(*) FROM blob_validations") == [(len(results),)]
    assert [r.uri for r in registry.find_orphans()] == [refs[1].uri]
    history = registry.validation_history(refs[1])
    assert [h.status for h in history] == [BlobStatus.MISSING, BlobStatus.MISSING]  # validate_batch, then orphans


def test_results_are_cached_for_the_policy_s_seconds(
    fs: FeatureStore, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = BlobRegistry("imgs", IntegrityPolicy.lazy(cache_validation_seconds=0.5), store=fs)
    refs = MultimodalSource("local", str(folder), registry=registry).scan()
    reads: list[str] = []
    original = BlobStore.info

    def counting(self: BlobStore, uri: str) -> object:
        reads.append(uri)
        return original(self, uri)

    monkeypatch.setattr(BlobStore, "info", counting)
    first = registry.validate(refs[0])
    again = registry.validate(refs[0])
    assert (first.cached, again.cached, again.status, len(reads)) == (False, True, BlobStatus.VALID, 1)
    (folder / refs[0].filename).unlink()
    assert registry.validate(refs[0]).status is BlobStatus.VALID  # still the cached finding
    assert registry.validate(refs[0], force=True).status is BlobStatus.MISSING and len(reads) == 2
    time.sleep(0.6)
    assert registry.validate(refs[1]).cached is False and registry.validate(refs[1]).cached is True


def test_policies_that_fail_raise_and_register_nothing(fs: FeatureStore, folder: Path) -> None:
    registry = BlobRegistry("strict", IntegrityPolicy.strict(), store=fs)
    good = MultimodalSource("local", str(folder)).scan()
    with pytest.raises(BlobMissingError, match="does not exist") as missing:
        registry.register_many([good[0], create_reference(str(folder / "gone.png"), checksum="ab")])
    assert missing.value.details["uri"] == str(folder / "gone.png") and "references[1]" in missing.value.message
    with pytest.raises(BlobIntegrityError) as mismatch:
        registry.register(good[1].with_changes(checksum=sha256(b"not it")))
    assert mismatch.value.details["actual_checksum"] == good[1].checksum
    assert _rows("SELECT count(*) FROM blob_references") == [(0,)]
    # STRICT validates reads too: a blob deleted after registering fails get()
    held = registry.register(good[2])
    assert registry.get(held.id or "").status == "valid"
    (folder / good[2].filename).unlink()
    with pytest.raises(BlobMissingError):
        registry.get(held.id or "")
    # without fail_on_*: registered with the status found, and a warning says so
    lenient = BlobRegistry("lenient", IntegrityPolicy.on_write(), store=fs)
    with pytest.warns(BlobIntegrityWarning, match="1 of 1 blob reference"):
        kept = lenient.register(good[2])
    assert kept.status == "missing"
    # ON_READ: get() re-validates (cache 0) and says what it found
    reader = BlobRegistry("reader", IntegrityPolicy.on_read(cache_validation_seconds=0), store=fs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = reader.register(good[3])  # ON_READ does not validate writes
    assert ref.status == "unchecked" and reader.get(ref.id or "").status == "valid"


def test_registries_by_name_and_their_errors(fs: FeatureStore) -> None:
    registry = BlobRegistry("imgs", store=fs)
    assert registry.policy == IntegrityPolicy.on_write()
    again = BlobRegistry("imgs", store=fs)  # opens it
    assert again.id == registry.id
    BlobRegistry("imgs", IntegrityPolicy.lazy(), store=fs)  # brings it to that policy
    assert BlobRegistry("imgs", store=fs).policy.mode.value == "lazy"
    with pytest.raises(BlobRegistryExistsError):
        fs._backend.create_blob_registry(fs.path, "imgs")
    with pytest.raises(BlobRegistryNotFoundError, match="create it with BlobRegistry"):
        fs._backend.get_blob_registry(fs.path, "nope")
    for bad in ("", "has space", "semi;colon", "x" * 129):
        with pytest.raises(InvalidArgumentError):
            BlobRegistry(bad, store=fs)
    with pytest.raises(InvalidArgumentError, match="limit"):
        registry.list_references(limit=-1)
    registry.delete()
    assert fs.list_blob_registries() == []


def test_periodic_validation_runs_on_the_scheduler(fs: FeatureStore, folder: Path) -> None:
    from raise_.config import Settings
    from raise_.engine import Engine

    registry = BlobRegistry("nightly", IntegrityPolicy.periodic("1h"), store=fs)
    refs = MultimodalSource("local", str(folder), registry=registry).scan()
    (folder / refs[0].filename).unlink()
    engine = Engine.shared(Settings.from_env())  # the store's engine (embedded)
    items = {i.name: i for i in engine.scheduler.items()}
    item = items[f"blob-integrity:{registry.id}"]
    assert (item.kind, item.every) == ("blob-integrity", 3600.0)
    out = engine.service.multimodal.run_periodic_validation(registry.id)
    assert out["validated"] == len(refs) and out["by_status"] == {"missing": 1, "valid": len(refs) - 1}
    assert registry.get(refs[0].id or "").status == "missing"
    # the run acts as the registry's creator, and is audited
    entries = fs.audit.query(actions=["VALIDATE"])
    assert entries and entries[0].actor == "alice@acme" and entries[0].metadata["by_status"]["missing"] == 1
    registry.set_policy(IntegrityPolicy.lazy())
    assert f"blob-integrity:{registry.id}" not in {i.name for i in engine.scheduler.items()}


def test_changes_and_validations_are_audited(fs: FeatureStore, folder: Path) -> None:
    registry = BlobRegistry("imgs", IntegrityPolicy.lazy(), store=fs)
    refs = MultimodalSource("local", str(folder), registry=registry).scan()
    registry.validate_batch()
    registry.validate_batch()  # from the cache: audited too, as such
    entries = fs.audit.query(resource="acme/mlplatform/recommendation/imgs")
    kinds = [(e.action, e.resource_type) for e in reversed(entries)]
    assert kinds == [
        ("CREATE", "blob_registry"),
        ("CREATE", "blob_reference"),
        ("VALIDATE", "blob_registry"),
        ("VALIDATE", "blob_registry"),
    ]
    created, first, second = entries[-2], entries[-3], entries[-4]
    assert created.metadata["references"] == len(refs) and created.metadata["bytes"] == sum(r.size_bytes for r in refs)
    assert first.metadata["by_status"] == {"valid": len(refs)} and first.metadata["validated"] == len(refs)
    assert second.metadata["from_cache"] == len(refs) and second.metadata["validated"] == 0
    assert fs.audit.verify().ok


def test_access_follows_the_project(fs: FeatureStore, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = BlobRegistry("imgs", IntegrityPolicy.lazy(), store=fs)
    MultimodalSource("local", str(folder), registry=registry).scan()
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    bob = FeatureStore.__new__(FeatureStore)
    bob.__dict__.update(fs.__dict__)
    with pytest.raises(PermissionDeniedError):
        bob.list_blob_registries()
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    fs.project().set_acl(ACL(readers=["bob@acme"]))
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    assert [r["name"] for r in bob.list_blob_registries()] == ["imgs"]
    as_bob = BlobRegistry("imgs", store=bob)  # opening needs write? no: it exists, nothing changes
    assert len(as_bob.list_references()) == 6
    with pytest.raises(PermissionDeniedError, match="write"):
        as_bob.register(str(folder / "product-000.png"))
    with pytest.raises(PermissionDeniedError):
        as_bob.validate_batch()  # validating records findings: write
    with pytest.raises(PermissionDeniedError, match="admin"):
        as_bob.set_policy(IntegrityPolicy.strict())


def test_storage_outside_the_allowed_prefixes_is_refused(
    fs: FeatureStore, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAISE_BLOB_ALLOWED_PREFIXES", f"{folder},s3://products")
    BlobStore.reset_default()
    registry = BlobRegistry("imgs", IntegrityPolicy.lazy(), store=fs)
    assert len(MultimodalSource("ok", str(folder), registry=registry).scan()) == 6
    secret = tmp_path / "secret.png"
    secret.write_bytes(image_bytes(3))
    for attempt in (
        lambda: MultimodalSource("no", str(tmp_path), registry=registry).scan(),
        lambda: registry.register(str(secret)),
        lambda: registry.validate(create_reference(str(secret))),
        lambda: registry.register(f"{folder}-sibling/a.png"),  # a prefix is a folder, not a string start
    ):
        with pytest.raises(PermissionDeniedError, match="RAISE_BLOB_ALLOWED_PREFIXES"):
            attempt()


def test_validation_on_s3_sees_changes_and_versions(s3_endpoint: str, fs: FeatureStore) -> None:
    images = {f"v{i}.png": image_bytes(60 + i) for i in range(4)}
    put_images("vision", "set/", images)
    registry = BlobRegistry("s3imgs", IntegrityPolicy.lazy(cache_validation_seconds=0), store=fs)
    refs = MultimodalSource("s3", "s3://vision/set/", registry=registry).scan()
    assert [r.checksum for r in refs] == [sha256(images[n]) for n in sorted(images)]
    assert all(r.etag for r in refs) and all(r.uri.startswith("s3://vision/set/") for r in refs)
    import s3fs

    s3 = s3fs.S3FileSystem(skip_instance_cache=True)
    s3.rm("vision/set/v1.png")
    s3.pipe("vision/set/v2.png", image_bytes(99))
    # no checksum recorded: a changed ETag says it is another version
    unhashed = registry.register(refs[3].with_changes(checksum=""))
    s3.pipe("vision/set/v3.png", image_bytes(63)[:-1] + b"\x00")
    results = {r.uri.rsplit("/", 1)[-1]: r.status for r in registry.validate_batch()}
    assert results == {"v0.png": "valid", "v1.png": "missing", "v2.png": "invalid", "v3.png": "invalid"}
    assert registry.validate(unhashed).status is BlobStatus.EXPIRED


def test_batch_validation_runs_concurrently_within_its_bound() -> None:
    """Blobs on a remote scheme (fsspec's in-memory store stands in) are read ``concurrency`` at a
    time, never more; local files by no more threads than cores."""
    import fsspec

    memory = fsspec.filesystem("memory")
    refs = []
    for i in range(24):
        memory.pipe(f"/bound/b{i}.png", image_bytes(i))
        refs.append(create_reference(f"memory://bound/b{i}.png", size_bytes=len(image_bytes(i))))
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    class Slow(BlobStore):
        def info(self, uri: str):  # type: ignore[no-untyped-def]
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            time.sleep(0.02)
            try:
                return super().info(uri)
            finally:
                with lock:
                    state["now"] -= 1

    results = validate_references(refs, Slow(), concurrency=4)
    assert [r.uri for r in results] == [r.uri for r in refs] and all(r.valid for r in results)
    assert state["most"] == 4
    assert io_workers("memory://bound/x", 4) == 4
    assert io_workers("/data/x.png", 64) == io_workers("file:///data/x.png", 64) == (os.cpu_count() or 1)
