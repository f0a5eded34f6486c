"""Blob references, content types, hash algorithms and integrity policies, without a store:
properties against the URIs' parts, detection against real files (Pillow, wave, numpy), digests
against hashlib, blake3 and xxhash themselves."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import wave
from pathlib import Path

import blake3
import numpy as np
import pytest
import xxhash
from multimodal_data import image_bytes
from PIL import Image

from raise_ import BlobRef
from raise_.errors import InvalidArgumentError
from raise_.multimodal.blobstore import BlobStore, expand_braces
from raise_.multimodal.content_types import ContentType, infer_content_type, sniff_content_type
from raise_.multimodal.hashing import HashAlgorithm, hash_bytes, hash_stream
from raise_.multimodal.policy import IntegrityMode, IntegrityPolicy
from raise_.multimodal.references import BlobReference, create_reference, reference_from_value

# README *Content Types*, every MIME type of its table.
README_TYPES = [
    "image/png", "image/jpeg", "image/webp", "image/tiff", "image/bmp", "image/gif",
    "audio/wav", "audio/mpeg", "audio/flac", "audio/ogg", "audio/aac",
    "video/mp4", "video/webm", "video/avi", "video/quicktime",
    "application/pdf",
    "model/ply", "model/obj", "model/gltf+json",
    "application/x-numpy", "application/x-numpy-compressed", "application/x-pytorch", "application/x-safetensors",
]  # fmt: skip


@pytest.mark.parametrize(
    ("uri", "scheme", "bucket", "key"),
    [
        ("s3://products/images/product-001.png", "s3", "products", "images/product-001.png"),
        ("gs://bkt/a/b/c.wav", "gs", "bkt", "a/b/c.wav"),
        ("az://container/x.mp4", "az", "container", "x.mp4"),
        ("file:///data/img.png", "file", None, "/data/img.png"),
        ("/data/img.png", "file", None, "/data/img.png"),
    ],
)
def test_a_reference_says_where_its_blob_is(uri: str, scheme: str, bucket: str | None, key: str) -> None:
    ref = create_reference(uri)
    assert (ref.uri, ref.scheme, ref.bucket, ref.key) == (uri, scheme, bucket, key)
    assert ref.filename == key.rsplit("/", 1)[-1]


def test_a_relative_path_is_kept_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert create_reference("imgs/a.png").uri == str(tmp_path / "imgs" / "a.png")


def test_kinds_follow_the_content_type() -> None:
    kinds = {t: create_reference(f"s3://b/k{i}", t) for i, t in enumerate(README_TYPES)}
    assert [t for t, r in kinds.items() if r.is_image] == README_TYPES[:6]
    assert [t for t, r in kinds.items() if r.is_audio] == README_TYPES[6:11]
    assert [t for t, r in kinds.items() if r.is_video] == README_TYPES[11:15]
    assert [t for t, r in kinds.items() if r.is_document] == ["application/pdf"]
    assert [t for t, r in kinds.items() if r.is_3d] == README_TYPES[16:19]
    assert [t for t, r in kinds.items() if r.is_tensor] == README_TYPES[19:]


def test_every_readme_content_type_is_a_member() -> None:
    assert [ContentType(t).value for t in README_TYPES] == README_TYPES
    # the README's names, and the aliases people write
    assert ContentType.AUDIO_WAV == "audio/wav" and ContentType.TENSOR_SAFETENSORS == "application/x-safetensors"
    assert ContentType.parse("audio/mp3") is ContentType.AUDIO_MP3 is ContentType.AUDIO_MPEG
    assert ContentType.parse("Image/JPG; q=0.9") is ContentType.IMAGE_JPEG
    assert ContentType.parse("application/x-custom") == "application/x-custom"  # kept, not refused
    assert BlobRef(content_types=["audio/mp3"]).accepts("audio/mpeg") and BlobRef(content_types=["image/*"]).accepts(
        ContentType.IMAGE_WEBP
    )


def test_references_are_immutable_values() -> None:
    ref = create_reference("s3://b/k.png", checksum="ABC", size_bytes=3, metadata={"w": 1})
    with pytest.raises(AttributeError):
        ref.checksum = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ref.metadata["w"] = 2  # type: ignore[index]
    assert ref.checksum == "abc"  # hex, lower-cased
    same = create_reference("s3://b/k.png", checksum="abc", size_bytes=3, metadata={"w": 1})
    assert {ref, same} == {ref} and ref.with_changes(size_bytes=4).size_bytes == 4 and ref.size_bytes == 3
    back = BlobReference.from_dict(json.loads(json.dumps(ref.to_dict())))
    assert back == ref and back.hash_algorithm is HashAlgorithm.SHA256
    stored = ref.to_storage()
    assert stored["metadata"] == '{"w": 1}' and reference_from_value(stored) == ref


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"uri": ""}, "needs a uri"),
        ({"uri": "s3://b/k", "content_type": "png"}, "is not a content type"),
        ({"uri": "s3://b/k", "content_type": "image/*"}, "is not a content type"),
        ({"uri": "s3://b/k", "size_bytes": -1}, "size_bytes"),
        ({"uri": "s3://b/k", "hash_algorithm": "crc32"}, "Unknown hash algorithm"),
        ({"uri": "s3://b/k", "metadata": ["width", 3]}, "metadata must be a mapping"),
        ({"uri": "ht tp://x/y"}, "no valid scheme"),
    ],
)
def test_a_bad_reference_is_a_coded_error(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidArgumentError, match=needle) as info:
        BlobReference(**kwargs)  # type: ignore[arg-type]
    assert info.value.code == "INVALID_ARGUMENT"


# -- detecting content types ----------------------------------------------------------------------


def _samples() -> dict[ContentType, bytes]:
    out: dict[ContentType, bytes] = {}
    for fmt, kind in (
        ("PNG", ContentType.IMAGE_PNG),
        ("JPEG", ContentType.IMAGE_JPEG),
        ("GIF", ContentType.IMAGE_GIF),
        ("BMP", ContentType.IMAGE_BMP),
        ("TIFF", ContentType.IMAGE_TIFF),
        ("WEBP", ContentType.IMAGE_WEBP),
    ):
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, format=fmt)
        out[kind] = buf.getvalue()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 100)
    out[ContentType.AUDIO_WAV] = buf.getvalue()
    buf = io.BytesIO()
    np.save(buf, np.arange(10))
    out[ContentType.TENSOR_NUMPY] = buf.getvalue()
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    out[ContentType.TENSOR_SAFETENSORS] = struct.pack("<Q", len(header)) + header + b"\x00" * 4
    out[ContentType.DOCUMENT_PDF] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
    out[ContentType.AUDIO_FLAC] = b"fLaC\x00\x00\x00\x22" + b"\x00" * 40
    out[ContentType.AUDIO_OGG] = b"OggS\x00\x02" + b"\x00" * 40
    out[ContentType.VIDEO_MP4] = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    out[ContentType.VIDEO_MOV] = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  "
    out[ContentType.VIDEO_WEBM] = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"\x00" * 20
    out[ContentType.MODEL_PLY] = b"ply\nformat ascii 1.0\n"
    return out


def test_extensionless_blobs_are_known_by_their_first_bytes(tmp_path: Path) -> None:
    for kind, data in _samples().items():
        path = tmp_path / f"blob-{kind.name.lower()}"  # no extension
        path.write_bytes(data)
        assert infer_content_type(str(path)) is kind, kind
        assert sniff_content_type(data[:64]) is kind
    # the extension wins without reading; a name that says nothing of an unreachable blob: None
    (tmp_path / "really-a-png.jpg").write_bytes(_samples()[ContentType.IMAGE_PNG])
    assert infer_content_type(str(tmp_path / "really-a-png.jpg")) is ContentType.IMAGE_JPEG
    assert infer_content_type(str(tmp_path / "missing-blob")) is None
    assert infer_content_type(str(tmp_path / "blob-image_png"), sniff=False) is None


def test_extensions_of_every_readme_type() -> None:
    names = {
        "a.png": "image/png", "a.JPG": "image/jpeg", "a.jpeg": "image/jpeg", "a.webp": "image/webp",
        "a.tif": "image/tiff", "a.bmp": "image/bmp", "a.gif": "image/gif", "a.wav": "audio/wav",
        "a.mp3": "audio/mpeg", "a.flac": "audio/flac", "a.ogg": "audio/ogg", "a.aac": "audio/aac",
        "a.mp4": "video/mp4", "a.webm": "video/webm", "a.avi": "video/avi", "a.mov": "video/quicktime",
        "a.pdf": "application/pdf", "a.ply": "model/ply", "a.obj": "model/obj", "a.gltf": "model/gltf+json",
        "a.npy": "application/x-numpy", "a.npz": "application/x-numpy-compressed", "a.pt": "application/x-pytorch",
        "model.safetensors": "application/x-safetensors",
    }  # fmt: skip
    assert {n: infer_content_type(f"s3://b/{n}") for n in names} == names
    assert sorted(set(names.values())) == sorted(README_TYPES)


# -- hashing --------------------------------------------------------------------------------------


def test_digests_are_those_of_the_reference_libraries() -> None:
    data = image_bytes(7) * 50
    expected = {
        HashAlgorithm.SHA256: hashlib.sha256(data).hexdigest(),
        HashAlgorithm.SHA512: hashlib.sha512(data).hexdigest(),
        HashAlgorithm.MD5: hashlib.md5(data).hexdigest(),
        HashAlgorithm.BLAKE3: blake3.blake3(data).hexdigest(),
        HashAlgorithm.XXH3: xxhash.xxh3_128(data).hexdigest(),
    }
    for algorithm, digest in expected.items():
        assert hash_bytes(data, algorithm) == digest
        # streamed in chunks smaller than the data: the same digest and the length
        assert hash_stream(io.BytesIO(data), algorithm, chunk_bytes=1000) == (digest, len(data))
    assert HashAlgorithm.parse("SHA-256") is HashAlgorithm.SHA256 and HashAlgorithm.parse("xxh3") is HashAlgorithm.XXH3


def test_a_two_gigabyte_blob_is_hashed_in_constant_memory(tmp_path: Path) -> None:
    """2 GiB (a sparse file: zeros) streamed through the store: Python's peak allocation stays
    near one chunk, and the digest is xxhash's own over the same zeros."""
    import tracemalloc

    size = 2 * 1024**3
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        f.truncate(size)
    reference = xxhash.xxh3_128()
    zeros = bytes(64 * 1024 * 1024)
    for _ in range(size // len(zeros)):
        reference.update(zeros)
    del zeros
    tracemalloc.start()
    try:
        digest, read = BlobStore().hash(str(path), HashAlgorithm.XXH3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (digest, read) == (reference.hexdigest(), size)
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while hashing 2 GiB"


# -- policies ---------------------------------------------------------------------------------------


def test_policies_of_the_readme_and_their_checks() -> None:
    assert IntegrityPolicy() == IntegrityPolicy.on_write()  # the default
    strict = IntegrityPolicy.strict()
    assert (strict.mode, strict.fail_on_missing, strict.fail_on_mismatch, strict.cache_validation_seconds) == (
        IntegrityMode.STRICT,
        True,
        True,
        0.0,
    )
    assert strict.validates_on_write and strict.validates_on_read
    assert IntegrityPolicy.on_read().validates_on_read and not IntegrityPolicy.on_read().validates_on_write
    lazy = IntegrityPolicy.lazy()
    assert not lazy.validates_on_read and not lazy.validates_on_write
    periodic = IntegrityPolicy.periodic("6h")
    assert periodic.mode is IntegrityMode.PERIODIC and periodic.check_interval == "6h"
    assert IntegrityPolicy.from_dict(periodic.to_dict()) == periodic
    assert IntegrityPolicy(mode="periodic").check_interval == "1d"  # type: ignore[arg-type]
    for bad, needle in (
        ({"mode": "sometimes"}, "Unknown integrity mode"),
        ({"cache_validation_seconds": -1}, "cache_validation_seconds"),
        ({"mode": "periodic", "check_interval": "30s"}, "at most every minute"),
        ({"check_interval": "1h"}, "PERIODIC only"),
        ({"fail_on_missing": "yes"}, "True or False"),
        ({"retries": 3}, "Unknown integrity policy field"),
    ):
        with pytest.raises(InvalidArgumentError, match=needle):
            IntegrityPolicy.from_dict(bad)


def test_brace_patterns_expand() -> None:
    assert expand_braces("*.{jpg,png}") == ["*.jpg", "*.png"]
    assert expand_braces("{a,b}/*.{x,y}") == ["a/*.x", "a/*.y", "b/*.x", "b/*.y"]
    assert expand_braces("*.png") == ["*.png"]
