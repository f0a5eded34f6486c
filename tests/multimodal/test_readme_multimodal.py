# ruff: noqa: B018, I001
"""README *Multimodal Data*, every block pasted verbatim between the markers, in order (later
blocks use what earlier ones made), on a real S3 API (moto on loopback) holding real PNG images.
Only the names the README leaves undefined are set before a block (``registry_id``, ``data``,
``HashAlgorithm``). What the blocks print is compared with the README's comments; what they made
is checked against hashlib and the catalog's rows (hand-written SQL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from multimodal_data import image_bytes, put_images, sha256


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends


@pytest.fixture
def products(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, store_env: Path) -> dict[str, bytes]:
    """s3://products/images/ with three PNGs and two JPEGs (and a text file a scan skips), and
    s3://bucket/image.png; the README's first block runs before any FeatureStore of its own, in
    the project RAISE_PROJECT names."""
    monkeypatch.setenv("RAISE_PROJECT", "acme/mlplatform/vision")
    images = {f"product-00{i}.png": image_bytes(i) for i in range(1, 4)}
    images |= {f"product-10{i}.jpg": image_bytes(10 + i, "JPEG") for i in range(2)}
    put_images("products", "images/", {**images, "notes.txt": b"not an image"})
    put_images("bucket", "", {"image.png": image_bytes(42)})
    return images


def test_multimodal_data(products: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    # fmt: off
    # --- README: Blob References ---
    from raise_ import BlobReference, BlobRegistry, ContentType, create_reference

    # Create a registry for tracking references
    registry = BlobRegistry(name="product-images")

    # Register a blob reference
    ref = registry.register(
        uri="s3://products/images/product-001.png",
        content_type=ContentType.IMAGE_PNG,
        checksum="abc123def456...",
        size_bytes=1024000,
        metadata={
            "width": 1920,
            "height": 1080,
            "color_space": "sRGB",
        },
    )

    print(ref.uri)           # s3://products/images/product-001.png
    print(ref.scheme)        # s3
    print(ref.bucket)        # products
    print(ref.key)           # images/product-001.png
    print(ref.is_image)      # True
    print(ref.size_bytes)    # 1024000

    # Convenience function
    ref = create_reference(
        uri="s3://bucket/audio.wav",
        content_type="audio/wav",
        checksum="def789...",
    )
    # --- end README ---
    # fmt: on
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "s3://products/images/product-001.png",
        "s3",
        "products",
        "images/product-001.png",
        "True",
        "1024000",
    ]
    assert isinstance(ref, BlobReference) and ref.is_audio and ref.bucket == "bucket" and ref.key == "audio.wav"
    assert ref.content_type == ContentType.AUDIO_WAV and ref.checksum == "def789..." and ref.id is None
    with pytest.raises(AttributeError):
        ref.uri = "s3://elsewhere/x.wav"  # type: ignore[misc]  # immutable
    # The registered one was validated (ON_WRITE, the default): the blob exists, its size is not 1024000.
    held = registry.get_by_uri("s3://products/images/product-001.png")
    assert held.status == "invalid" and held.metadata["width"] == 1920 and held.size_bytes == 1024000

    # fmt: off
    # --- README: BlobRef Feature Type ---
    from raise_ import FeatureStore, BlobRef

    fs = FeatureStore("acme/mlplatform/vision")

    # Create feature group with blob reference columns
    image_features = fs.create_feature_group("image-features")

    image_features.create_features_from_schema({
        "product_id": "string",
        "image_ref": BlobRef(content_types=["image/png", "image/jpeg"]),
        "thumbnail_ref": BlobRef(content_types=["image/jpeg"]),
        "embedding": "float32[512]",
    })
    # --- end README ---
    # fmt: on
    dtypes = {f.name: str(f.dtype) for f in image_features.list_features()}
    assert dtypes["image_ref"] == "blob_ref<image/png|image/jpeg>" and dtypes["thumbnail_ref"] == "blob_ref<image/jpeg>"

    # fmt: off
    # --- README: String Syntax ---
    # Any blob type
    "blob_ref"

    # Constrained to specific content types
    "blob_ref<image/png|image/jpeg>"
    "blob_ref<audio/wav|audio/mp3|audio/flac>"
    "blob_ref<video/mp4>"
    # --- end README ---
    # fmt: on
    from raise_ import parse_dtype

    for text in (
        "blob_ref",
        "blob_ref<image/png|image/jpeg>",
        "blob_ref<audio/wav|audio/mp3|audio/flac>",
        "blob_ref<video/mp4>",
    ):
        assert str(parse_dtype(text)) == text
    assert parse_dtype("blob_ref<audio/wav|audio/mp3|audio/flac>").accepts(ContentType.AUDIO_MP3)  # audio/mpeg

    # fmt: off
    # --- README: Typed Constructor ---
    from raise_ import BlobRef

    # Any content type
    BlobRef()

    # Only images
    BlobRef(content_types=["image/png", "image/jpeg"])

    # With registry and validation settings
    BlobRef(
        content_types=["video/mp4", "video/webm"],
        registry="video-store",
        validate_on_write=True,
    )

    # Check if type accepts a content type
    image_type = BlobRef(content_types=["image/png", "image/jpeg"])
    image_type.accepts("image/png")   # True
    image_type.accepts("video/mp4")   # False
    # --- end README ---
    # fmt: on
    assert image_type.accepts("image/png") and not image_type.accepts("video/mp4")

    # (set up: the names the block leaves undefined)
    registry_id = registry.get_by_uri("s3://products/images/product-001.png").id
    from raise_ import HashAlgorithm

    data = image_bytes(42)
    # fmt: off
    # --- README: Blob Registry ---
    from raise_ import BlobRegistry, IntegrityPolicy

    # Create registry with integrity policy
    registry = BlobRegistry(
        name="product-images",
        policy=IntegrityPolicy.on_write(),
    )

    # Register references
    ref = registry.register(
        uri="s3://bucket/image.png",
        content_type="image/png",
        checksum="abc123...",
    )

    # Get by registry ID or URI
    ref = registry.get(registry_id)
    ref = registry.get_by_uri("s3://bucket/image.png")

    # List references with filtering
    all_refs = registry.list_references()
    png_refs = registry.list_references(content_type=ContentType.IMAGE_PNG)
    s3_refs = registry.list_references(prefix="s3://bucket/")

    # Find orphaned references (blobs that no longer exist)
    orphans = registry.find_orphans()

    # Compute checksums
    checksum = registry.compute_checksum(data, HashAlgorithm.SHA256)
    # --- end README ---
    # fmt: on
    assert ref.uri == "s3://bucket/image.png" and ref.status == "invalid"  # exists; its checksum is not "abc123..."
    assert [r.uri for r in all_refs] == ["s3://bucket/image.png", "s3://products/images/product-001.png"]
    assert [r.uri for r in png_refs] == [r.uri for r in all_refs] and [r.uri for r in s3_refs] == [
        "s3://bucket/image.png"
    ]
    assert orphans == []
    assert checksum == hashlib.sha256(image_bytes(42)).hexdigest()

    # fmt: off
    # --- README: Multimodal Sources ---
    from raise_ import MultimodalSource, ContentType

    # Create source for scanning images
    source = MultimodalSource(
        name="product_images",
        uri_prefix="s3://products/images/",
        content_types=[ContentType.IMAGE_JPEG, ContentType.IMAGE_PNG],
        registry=registry,
        compute_checksums=True,
        recursive=True,
    )

    # Scan returns BlobReferences, not actual data
    refs = source.scan()
    for ref in refs:
        print(f"{ref.uri} - {ref.content_type}")

    # Get reference for specific file
    ref = source.get_reference("product-001.png")
    # --- end README ---
    # fmt: on
    printed = capsys.readouterr().out.splitlines()
    expected = sorted(products)
    assert printed == [
        f"s3://products/images/{name} - {'image/png' if name.endswith('.png') else 'image/jpeg'}" for name in expected
    ]
    assert [r.checksum for r in refs] == [sha256(products[name]) for name in expected]
    assert [r.size_bytes for r in refs] == [len(products[name]) for name in expected]
    assert all(r.etag and r.id for r in refs)  # the listing's ETag; registered
    assert ref.uri == "s3://products/images/product-001.png" and ref.checksum == sha256(products["product-001.png"])

    # fmt: off
    # --- README: Integrity Validation ---
    from raise_ import IntegrityPolicy, IntegrityMode

    # Validate on every access
    strict = IntegrityPolicy.strict()

    # Validate only when creating/updating references (default)
    on_write = IntegrityPolicy.on_write()

    # Validate only on explicit check
    lazy = IntegrityPolicy.lazy()

    # Custom policy
    policy = IntegrityPolicy(
        mode=IntegrityMode.ON_WRITE,
        fail_on_missing=True,
        fail_on_mismatch=True,
        cache_validation_seconds=3600,
    )

    # Validate a reference
    result = registry.validate(ref)
    print(result.status)           # BlobStatus.VALID
    print(result.valid)            # True
    print(result.checksum_matches) # True
    print(result.size_matches)     # True

    # Batch validation
    results = registry.validate_batch(refs)
    # --- end README ---
    # fmt: on
    assert capsys.readouterr().out.splitlines() == ["BlobStatus.VALID", "True", "True", "True"]
    assert (strict.mode, on_write.mode, lazy.mode) == (IntegrityMode.STRICT, IntegrityMode.ON_WRITE, IntegrityMode.LAZY)
    assert strict.fail_on_missing and strict.fail_on_mismatch and not on_write.fail_on_missing
    assert policy.cache_validation_seconds == 3600
    assert [r.uri for r in results] == [r.uri for r in refs] and all(r.valid for r in results)

    data = pd.DataFrame({"image_ref": refs})  # (set up: the data to check)
    # fmt: off
    # --- README: Blob Integrity Checks ---
    from raise_ import BlobIntegrityCheck
    from raise_.transforms import CheckSeverity

    # Create integrity check
    check = BlobIntegrityCheck(
        name="check_image_integrity",
        column="image_ref",
        verify_checksum=True,
        verify_existence=True,
        max_missing_rate=0.01,  # Allow 1% missing
        max_invalid_rate=0.0,   # No invalid checksums
        sample_rate=1.0,        # Check all references
        severity=CheckSeverity.ERROR,
    )

    # Run the check
    result = check.check(data)
    print(result.result)   # CheckResult.PASSED
    print(result.details)  # {"total_references": 100, "missing_count": 0, ...}
    # --- end README ---
    # fmt: on
    assert capsys.readouterr().out.splitlines()[0] == "CheckResult.PASSED"
    assert result.details is not None
    assert (result.details["total_references"], result.details["missing_count"]) == (len(products), 0)

    # fmt: off
    # --- README: Content Types ---
    from raise_.transforms import ContentType, infer_content_type

    # Use enum
    ContentType.IMAGE_PNG
    ContentType.AUDIO_WAV
    ContentType.TENSOR_SAFETENSORS

    # Infer from URI
    content_type = infer_content_type("s3://bucket/image.png")  # ContentType.IMAGE_PNG
    content_type = infer_content_type("data/model.safetensors")  # ContentType.TENSOR_SAFETENSORS
    # --- end README ---
    # fmt: on
    assert content_type is ContentType.TENSOR_SAFETENSORS
    assert infer_content_type("s3://bucket/image.png") is ContentType.IMAGE_PNG

    # fmt: off
    # --- README: Hash Algorithms ---
    from raise_.transforms import HashAlgorithm

    # Supported algorithms
    HashAlgorithm.SHA256   # Default, recommended
    HashAlgorithm.SHA512   # More secure
    HashAlgorithm.MD5      # Fast but not cryptographically secure
    HashAlgorithm.BLAKE3   # Very fast, modern
    HashAlgorithm.XXH3     # Extremely fast, good for large files
    # --- end README ---
    # fmt: on
    assert [a.value for a in HashAlgorithm] == ["sha256", "sha512", "md5", "blake3", "xxh3"]

    # fmt: off
    # --- README: Example: Image Processing Pipeline ---
    from raise_ import (
        FeatureStore, BlobRef, BlobRegistry, MultimodalSource,
        ContentType, IntegrityPolicy, BlobIntegrityCheck,
    )

    # 1. Create feature group with blob reference column
    fs = FeatureStore("acme/mlplatform/vision")
    fg = fs.create_feature_group("product-images")
    fg.create_features_from_schema({
        "product_id": "string",
        "image_ref": BlobRef(content_types=["image/png", "image/jpeg"]),
        "embedding": "float32[512]",
    })

    # 2. Create registry with integrity policy
    registry = BlobRegistry(
        name="product-images",
        policy=IntegrityPolicy.on_write(),
    )

    # 3. Scan for images (returns references, not data)
    source = MultimodalSource(
        name="product_images",
        uri_prefix="s3://products/images/",
        content_types=[ContentType.IMAGE_JPEG, ContentType.IMAGE_PNG],
        registry=registry,
    )
    refs = source.scan()

    # 4. Process with integrity check
    check = BlobIntegrityCheck(
        name="verify_images",
        column="image_ref",
        verify_checksum=True,
    )

    # Key benefit: Only references move through the pipeline,
    # not the actual image bytes (which may be gigabytes)
    # --- end README ---
    # fmt: on
    # The pipeline goes on: the references are written as features and read back as they were.
    frame = pd.DataFrame(
        {
            "sku": [f"p{i}" for i in range(len(refs))],
            "product_id": [r.filename for r in refs],
            "image_ref": refs,
            "embedding": [[float(i)] * 512 for i in range(len(refs))],
        }
    )
    fg.write(frame)
    back = fg.read().to_pandas().sort_values("sku")
    stored = [dict(v) for v in back["image_ref"]]
    assert [v["uri"] for v in stored] == [r.uri for r in refs]
    assert [v["checksum"] for v in stored] == [sha256(products[n]) for n in sorted(products)]
    assert [v["content_type"] for v in stored] == [r.mime_type for r in refs]
    assert check.check(back).result == "passed"

    # The catalog holds one row per (URI, checksum): the README's fake checksums and the scan's.
    engine = sa.create_engine(_catalog_url())
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.uri, r.checksum, r.status FROM blob_references r JOIN blob_registries g "
                "ON g.id = r.registry_id WHERE g.name = :n AND g.scope = :p ORDER BY r.uri, r.checksum"
            ),
            {"n": "product-images", "p": "acme/mlplatform/vision"},
        ).all()
        validations = conn.execute(sa.text("SELECT count(*) FROM blob_validations")).scalar()
    engine.dispose()
    scanned = {(f"s3://products/images/{n}", sha256(d)) for n, d in products.items()}
    readme = {("s3://bucket/image.png", "abc123..."), ("s3://products/images/product-001.png", "abc123def456...")}
    assert {(u, c) for u, c, _ in rows} == scanned | readme
    assert {u: s for u, c, s in rows if (u, c) in readme} == {
        "s3://bucket/image.png": "invalid",
        "s3://products/images/product-001.png": "invalid",
    }
    assert validations and validations >= len(products) + 2


def _catalog_url() -> str:
    import os

    return os.environ["RAISE_CATALOG_URL"]
