"""Thumbnails of image blobs, drawn where the store runs (Pillow): the sidebar and widgets show
images without the browser ever reaching the storage or its credentials."""

from __future__ import annotations

import io

from raise_.errors import InvalidArgumentError

__all__ = ["thumbnail_png"]

#: Decompression-bomb guard: an image of more pixels than this is refused, not decoded.
_MAX_PIXELS = 100_000_000


def thumbnail_png(data: bytes, size: int) -> tuple[bytes, int, int]:
    """A PNG no larger than ``size`` × ``size`` (aspect kept) of the image in ``data``, and its
    width and height."""
    try:
        from PIL import Image
    except ImportError:
        raise InvalidArgumentError(
            "Previews need Pillow where the store runs: pip install 'raise-featurestore[multimodal]'.", {}
        ) from None
    Image.MAX_IMAGE_PIXELS = _MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((size, size))
            out = io.BytesIO()
            converted = image if image.mode in ("RGB", "RGBA", "L", "LA", "P") else image.convert("RGB")
            converted.save(out, format="PNG")
            return out.getvalue(), converted.width, converted.height
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidArgumentError(f"The blob is not an image Pillow can draw: {exc}.", {}) from None
