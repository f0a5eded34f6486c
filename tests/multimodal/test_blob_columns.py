"""``blob_ref`` feature columns: writes carry references (objects, their dicts), content types the
type refuses are refused, writes under ON_WRITE/STRICT are validated before the commit (a failure
names its row and nothing is committed), reads under ON_READ/STRICT mark each row; and a
``BlobIntegrityCheck`` as a job's quality check stops a run whose output points at missing blobs."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from multimodal_data import sha256, write_images

from raise_ import (
    ACL,
    BlobIntegrityCheck,
    BlobRef,
    BlobRegistry,
    FeatureStore,
    FileSystem,
    IntegrityPolicy,
    MultimodalSource,
    SQLTransform,
)
from raise_.errors import BlobIntegrityError, BlobIntegrityWarning, BlobMissingError, InvalidDataError, InvalidJobError
from raise_.multimodal.references import BlobReference


@pytest.fixture
def images(tmp_path: Path) -> dict[str, bytes]:
    return write_images(tmp_path / "imgs", 4)


def _group(fs: FeatureStore, name: str, dtype: BlobRef) -> object:
    group = fs.create_feature_group(name, entity_keys=["sku"])
    group.create_features_from_schema({"image": dtype})
    return group


def _refs(tmp_path: Path) -> list[BlobReference]:
    return MultimodalSource("imgs", str(tmp_path / "imgs")).scan()


def test_writes_under_on_write_are_validated_first(fs: FeatureStore, tmp_path: Path, images: dict[str, bytes]) -> None:
    BlobRegistry("checked", IntegrityPolicy.on_write(), store=fs)
    group = _group(fs, "photos", BlobRef(content_types=["image/png"], registry="checked"))
    refs = _refs(tmp_path)
    group.write(pd.DataFrame({"sku": ["a", "b"], "image": refs[:2]}))
    stored = group.read().to_pandas().sort_values("sku")
    assert [v["checksum"] for v in stored["image"]] == [sha256(images[r.filename]) for r in refs[:2]]
    commits = len(group.commits())
    Path(refs[3].uri).unlink()
    changed = refs[2].with_changes(checksum=sha256(b"something else"))
    for bad, error, row in ((refs[3], BlobMissingError, 1), (changed, BlobIntegrityError, 1)):
        with pytest.raises(error) as info:
            group.write(pd.DataFrame({"sku": ["c", "d"], "image": [refs[0], bad]}))
        assert f"Column 'image' row {row}" in info.value.message and info.value.details["uri"] == bad.uri
    assert len(group.commits()) == commits and len(group.read().to_pandas()) == 2  # nothing written
    # the type's own constraint comes first, as before
    with pytest.raises(InvalidDataError, match="not accepted"):
        group.write([{"sku": "e", "image": refs[0].with_changes(content_type="image/jpeg")}])


def test_validate_on_write_without_a_registry(fs: FeatureStore, tmp_path: Path, images: dict[str, bytes]) -> None:
    group = _group(fs, "photos", BlobRef(validate_on_write=True))
    refs = _refs(tmp_path)
    as_dicts = [r.to_storage() for r in refs]  # what a reader of the column gets back writes too
    group.write(pd.DataFrame({"sku": list("abcd"), "image": as_dicts}))
    with pytest.raises(BlobMissingError, match="row 0"):
        group.write([{"sku": "x", "image": BlobReference(uri=str(tmp_path / "nope.png"), content_type="image/png")}])
    # a lazy registry named by the type: the type's validate_on_write still validates
    BlobRegistry("lazy", IntegrityPolicy.lazy(), store=fs)
    lazy = _group(fs, "lazy-photos", BlobRef(registry="lazy", validate_on_write=True))
    with pytest.raises(BlobMissingError):
        lazy.write([{"sku": "x", "image": BlobReference(uri=str(tmp_path / "nope.png"))}])
    plain = _group(fs, "plain-photos", BlobRef(registry="lazy"))
    plain.write([{"sku": "x", "image": BlobReference(uri=str(tmp_path / "nope.png"))}])  # LAZY: not checked


def test_reads_under_on_read_mark_each_row(fs: FeatureStore, tmp_path: Path, images: dict[str, bytes]) -> None:
    BlobRegistry("watched", IntegrityPolicy.on_read(cache_validation_seconds=0), store=fs)
    group = _group(fs, "photos", BlobRef(registry="watched"))
    refs = _refs(tmp_path)
    group.write(pd.DataFrame({"sku": list("abcd"), "image": refs}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = group.read().to_pandas()
    assert list(clean["image_status"]) == ["valid"] * 4
    Path(refs[1].uri).unlink()
    with pytest.warns(BlobIntegrityWarning, match="1 of 4 row"):
        marked = group.read().to_pandas().set_index("sku")
    assert marked["image_status"].to_dict() == {"a": "valid", "b": "missing", "c": "valid", "d": "valid"}
    # STRICT fails the read on the first bad row instead
    BlobRegistry("watched", IntegrityPolicy.strict(), store=fs)
    with pytest.raises(BlobMissingError, match="Column 'image' row"):
        group.read()


def test_a_job_s_blob_integrity_check_stops_a_bad_run(
    fs: FeatureStore, tmp_path: Path, images: dict[str, bytes]
) -> None:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    group = fs.create_feature_group("catalog-images", entity_keys=["sku"], event_time="event_time")
    group.create_features_from_schema({"image_ref": BlobRef(content_types=["image/*"])})
    refs = _refs(tmp_path)
    listing = pd.DataFrame(
        {
            "sku": [f"s{i}" for i in range(len(refs))],
            "event_time": pd.Timestamp("2026-12-01", tz="UTC"),
            "uri": [r.uri for r in refs],
            "checksum": [r.checksum for r in refs],
            "size_bytes": [r.size_bytes for r in refs],
        }
    )
    (tmp_path / "listing").mkdir()
    listing.to_parquet(tmp_path / "listing" / "part.parquet")
    sql = (
        "SELECT sku, event_time, {'uri': uri, 'content_type': 'image/png', 'checksum': checksum, "
        "'hash_algorithm': 'sha256', 'size_bytes': size_bytes, 'etag': NULL, 'version_id': NULL, "
        "'created_at': event_time, 'metadata': '{}'} AS image_ref FROM source"
    )
    check = BlobIntegrityCheck(name="images-exist", column="image_ref", verify_checksum=True, max_missing_rate=0.0)
    job = fs.create_job(
        name="load-images",
        sources=[FileSystem(path=str(tmp_path / "listing"), format="parquet")],
        transform=SQLTransform(name="t", sql=sql),
        target="catalog-images",
        quality_checks=[check],
    )
    run = job.run()
    assert run.status == "succeeded", run.error
    report = {c["name"]: c for c in run.quality_report["checks"]}["images-exist"]
    assert report["passed"] is True and report["details"]["checked_references"] == len(refs)
    assert len(group.read().to_pandas()) == len(refs)
    Path(refs[0].uri).unlink()
    run = job.run()
    assert (run.status, run.error_code, run.rows_written) == ("failed", "QUALITY_CHECK_FAILED", 0)
    report = {c["name"]: c for c in run.quality_report["checks"]}["images-exist"]
    assert report["details"]["missing_count"] == 1 and report["details"]["failures"][0]["uri"] == refs[0].uri
    # the check travels with the job's definition (its dict) and comes back the same
    assert fs.get_job("load-images").quality_checks[0] == check


def test_the_check_standalone_samples_and_bounds(tmp_path: Path, images: dict[str, bytes]) -> None:
    refs = _refs(tmp_path)
    for ref in refs[:2]:
        Path(ref.uri).unlink()
    frame = pd.DataFrame({"image_ref": [*refs, None]})
    lenient = BlobIntegrityCheck(name="c", column="image_ref", max_missing_rate=0.5)
    result = lenient.check(frame)
    assert result.result == "passed" and result.details is not None
    assert (result.details["total_references"], result.details["null_references"], result.details["missing_rate"]) == (
        4,
        1,
        0.5,
    )
    strict = BlobIntegrityCheck(name="c", column="image_ref", severity="warning")
    assert str(strict.check(frame).result) == "CheckResult.WARNING"
    sampled = BlobIntegrityCheck(name="c", column="image_ref", sample_rate=0.5, seed=1).check(frame)
    assert sampled.details is not None and sampled.details["checked_references"] == 2
    assert (
        BlobIntegrityCheck(name="c", column="image_ref", sample_rate=0.5, seed=1).check(frame).details
        == sampled.details
    )
    rows = [{"image_ref": r.to_dict()} for r in refs]  # rows of dicts work too
    assert BlobIntegrityCheck(name="c", column="image_ref").check(rows).details["missing_count"] == 2  # type: ignore[index]
    for bad in ({"max_missing_rate": 2}, {"sample_rate": 0}, {"column": ""}):
        with pytest.raises(InvalidJobError):
            BlobIntegrityCheck(**{"name": "c", "column": "image_ref", **bad})  # type: ignore[arg-type]
    with pytest.raises(InvalidJobError, match="which the data does not have"):
        BlobIntegrityCheck(name="c", column="photo").check(frame)
