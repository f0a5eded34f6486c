"""Real images for the multimodal tests, made with Pillow: each a different size and colour, so
their checksums and sizes differ; their SHA-256 is computed here with hashlib (the reference)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image


def image_bytes(i: int, fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", (32 + i, 24 + (i % 7)), ((37 * i) % 256, (91 * i) % 256, (53 * i) % 256))
    image.putpixel((i % 32, 0), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def write_images(folder: Path, n: int, fmt: str = "PNG", prefix: str = "product-") -> dict[str, bytes]:
    """``n`` images ``product-000.png`` ... in ``folder``; returns name → bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    ext = {"PNG": "png", "JPEG": "jpg"}[fmt]
    out = {}
    for i in range(n):
        data = image_bytes(i, fmt)
        name = f"{prefix}{i:03d}.{ext}"
        (folder / name).write_bytes(data)
        out[name] = data
    return out


def put_images(bucket: str, prefix: str, images: dict[str, bytes]) -> None:
    """Upload images to the session's S3 API (moto), creating the bucket."""
    import s3fs

    s3 = s3fs.S3FileSystem(skip_instance_cache=True)
    if not s3.exists(bucket):
        s3.mkdir(bucket)
    for name, data in images.items():
        s3.pipe(f"{bucket}/{prefix}{name}", data)
    s3.invalidate_cache()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
