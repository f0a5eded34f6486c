"""Images for a model: blob references (or raw bytes, or URI strings) read through the blob store,
decoded with Pillow and stacked as one float array (N, 3, H, W) in [0, 1]."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pyarrow as pa

from raise_.errors import InvalidInferenceError, ModelRuntimeMissingError


def is_image_column(array: pa.Array) -> bool:
    typ = array.type
    blob_ref = bool(pa.types.is_struct(typ) and typ.get_field_index("uri") >= 0)
    return bool(blob_ref or pa.types.is_binary(typ) or pa.types.is_large_binary(typ))


def image_uris(array: pa.Array) -> list[str | None]:
    typ = array.type
    if pa.types.is_struct(typ):
        return array.field("uri").to_pylist()  # type: ignore[no-any-return]
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return array.to_pylist()  # type: ignore[no-any-return]
    raise InvalidInferenceError(f"Images come from blob references or bytes, not {typ}.", {"type": str(typ)})


def read_images(array: pa.Array) -> list[Any]:
    """The images as RGB Pillow images (a missing blob raises: its sample fails, not the run)."""
    try:
        from PIL import Image
    except ImportError:
        raise ModelRuntimeMissingError(
            "Image inference needs Pillow: pip install pillow.", {"package": "pillow"}
        ) from None
    from raise_.multimodal.blobstore import BlobStore

    if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
        blobs = array.to_pylist()
    else:
        store = BlobStore.default()
        blobs = []
        for uri in image_uris(array):
            if uri is None:
                raise ValueError("a row has no image reference")
            with store.open(uri) as f:
                blobs.append(f.read())
    images = []
    for data in blobs:
        if data is None:
            raise ValueError("a row has no image")
        with Image.open(io.BytesIO(data)) as img:
            images.append(img.convert("RGB"))
    return images


def load_images(array: pa.Array, size: int, mean: Any = None, std: Any = None) -> np.ndarray:
    from PIL import Image

    images = read_images(array)
    out = np.empty((len(images), 3, size, size), dtype=np.float32)
    for i, img in enumerate(images):
        resized = img.resize((size, size), Image.Resampling.BILINEAR)
        out[i] = np.asarray(resized, dtype=np.float32).transpose(2, 0, 1) / 255.0
    if mean is not None and std is not None:
        m = np.asarray(mean, dtype=np.float32).reshape(1, 3, 1, 1)
        s = np.asarray(std, dtype=np.float32).reshape(1, 3, 1, 1)
        out = (out - m) / s
    return out
