"""Content types of multimodal blobs (README *Content Types*, PRD §17.4) and how a blob's type is
found: from its name's extension first, then from its first bytes (magic numbers) when it can be
read, because object stores are full of extensionless keys and mislabelled files.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Final

from raise_.types.dtypes import canonical_content_type

__all__ = ["ContentType", "content_type_of", "infer_content_type", "sniff_content_type"]


class ContentType(StrEnum):
    """The MIME types Raise knows by name. Any other ``type/subtype`` string is accepted where a
    content type is asked for; these get an extension and magic-byte detection."""

    # Images
    IMAGE_PNG = "image/png"
    IMAGE_JPEG = "image/jpeg"
    IMAGE_WEBP = "image/webp"
    IMAGE_TIFF = "image/tiff"
    IMAGE_BMP = "image/bmp"
    IMAGE_GIF = "image/gif"
    # Audio
    AUDIO_WAV = "audio/wav"
    AUDIO_MP3 = "audio/mpeg"
    AUDIO_FLAC = "audio/flac"
    AUDIO_OGG = "audio/ogg"
    AUDIO_AAC = "audio/aac"
    # Video
    VIDEO_MP4 = "video/mp4"
    VIDEO_WEBM = "video/webm"
    VIDEO_AVI = "video/avi"
    VIDEO_MOV = "video/quicktime"
    # Documents
    DOCUMENT_PDF = "application/pdf"
    # 3D and point clouds
    MODEL_PLY = "model/ply"
    MODEL_OBJ = "model/obj"
    MODEL_GLTF = "model/gltf+json"
    # ML tensors
    TENSOR_NUMPY = "application/x-numpy"
    TENSOR_NUMPY_COMPRESSED = "application/x-numpy-compressed"
    TENSOR_PYTORCH = "application/x-pytorch"
    TENSOR_SAFETENSORS = "application/x-safetensors"
    # Anything else: bytes of no known type.
    UNKNOWN = "application/octet-stream"

    # Aliases: the same members under the names people also use.
    AUDIO_MPEG = "audio/mpeg"
    VIDEO_QUICKTIME = "video/quicktime"
    APPLICATION_PDF = "application/pdf"
    TENSOR_NPY = "application/x-numpy"
    TENSOR_NPZ = "application/x-numpy-compressed"
    TENSOR_PT = "application/x-pytorch"

    def __str__(self) -> str:
        return self.value

    @property
    def category(self) -> str:
        """``image``, ``audio``, ``video``, ``document``, ``3d``, ``tensor`` or ``other``."""
        return category_of(self.value)

    @classmethod
    def parse(cls, value: str | ContentType) -> ContentType | str:
        """The member for ``value`` (aliases such as ``audio/mp3``, ``image/jpg`` and ``audio/x-wav``
        included, parameters such as ``; charset=`` dropped), else the lower-cased text itself."""
        if isinstance(value, ContentType):
            return value
        text = canonical_content_type(value)
        try:
            return cls(text)
        except ValueError:
            return text


_CATEGORIES: Final[dict[str, str]] = {"image": "image", "audio": "audio", "video": "video", "model": "3d"}
_TENSORS: Final = frozenset(
    {
        ContentType.TENSOR_NUMPY.value,
        ContentType.TENSOR_NUMPY_COMPRESSED.value,
        ContentType.TENSOR_PYTORCH.value,
        ContentType.TENSOR_SAFETENSORS.value,
    }
)


def category_of(content_type: str) -> str:
    text = str(content_type).partition(";")[0].strip().lower()
    if text in _TENSORS:
        return "tensor"
    if text == ContentType.DOCUMENT_PDF.value:
        return "document"
    return _CATEGORIES.get(text.partition("/")[0], "other")


_EXTENSIONS: Final[dict[str, ContentType]] = {
    ".png": ContentType.IMAGE_PNG,
    ".jpg": ContentType.IMAGE_JPEG,
    ".jpeg": ContentType.IMAGE_JPEG,
    ".jpe": ContentType.IMAGE_JPEG,
    ".webp": ContentType.IMAGE_WEBP,
    ".tif": ContentType.IMAGE_TIFF,
    ".tiff": ContentType.IMAGE_TIFF,
    ".bmp": ContentType.IMAGE_BMP,
    ".gif": ContentType.IMAGE_GIF,
    ".wav": ContentType.AUDIO_WAV,
    ".mp3": ContentType.AUDIO_MP3,
    ".flac": ContentType.AUDIO_FLAC,
    ".ogg": ContentType.AUDIO_OGG,
    ".oga": ContentType.AUDIO_OGG,
    ".aac": ContentType.AUDIO_AAC,
    ".mp4": ContentType.VIDEO_MP4,
    ".m4v": ContentType.VIDEO_MP4,
    ".webm": ContentType.VIDEO_WEBM,
    ".avi": ContentType.VIDEO_AVI,
    ".mov": ContentType.VIDEO_MOV,
    ".pdf": ContentType.DOCUMENT_PDF,
    ".ply": ContentType.MODEL_PLY,
    ".obj": ContentType.MODEL_OBJ,
    ".gltf": ContentType.MODEL_GLTF,
    ".glb": ContentType.MODEL_GLTF,
    ".npy": ContentType.TENSOR_NUMPY,
    ".npz": ContentType.TENSOR_NUMPY_COMPRESSED,
    ".pt": ContentType.TENSOR_PYTORCH,
    ".pth": ContentType.TENSOR_PYTORCH,
    ".safetensors": ContentType.TENSOR_SAFETENSORS,
}

#: How many leading bytes :func:`sniff_content_type` needs to recognise every type it knows.
SNIFF_BYTES: Final = 64


def _riff(kind: bytes) -> Callable[[bytes], bool]:
    return lambda b: b[:4] == b"RIFF" and b[8:12] == kind


def _iso_media(brands: tuple[bytes, ...]) -> Callable[[bytes], bool]:
    # ISO base media (MP4, MOV): a box whose type is "ftyp", then the major brand.
    return lambda b: b[4:8] == b"ftyp" and b[8:12] in brands


def _safetensors(b: bytes) -> bool:
    # An 8-byte little-endian header length, then a JSON object.
    return len(b) > 9 and b[8:9] == b"{" and 0 < int.from_bytes(b[:8], "little") < 100_000_000


# Ordered: the first match wins. ZIP-based types (NPZ, PyTorch's zip format) cannot be told apart
# from the first bytes alone, so a ZIP is reported as neither.
_MAGIC: Final[list[tuple[Callable[[bytes], bool], ContentType]]] = [
    (lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"), ContentType.IMAGE_PNG),
    (lambda b: b.startswith(b"\xff\xd8\xff"), ContentType.IMAGE_JPEG),
    (lambda b: b[:6] in (b"GIF87a", b"GIF89a"), ContentType.IMAGE_GIF),
    (lambda b: b[:2] == b"BM" and len(b) >= 14, ContentType.IMAGE_BMP),
    (lambda b: b[:4] in (b"II*\x00", b"MM\x00*"), ContentType.IMAGE_TIFF),
    (_riff(b"WEBP"), ContentType.IMAGE_WEBP),
    (_riff(b"WAVE"), ContentType.AUDIO_WAV),
    (_riff(b"AVI "), ContentType.VIDEO_AVI),
    (lambda b: b.startswith(b"fLaC"), ContentType.AUDIO_FLAC),
    (lambda b: b.startswith(b"OggS"), ContentType.AUDIO_OGG),
    (lambda b: b.startswith(b"ID3") or (len(b) > 1 and b[0] == 0xFF and b[1] & 0xE6 == 0xE2), ContentType.AUDIO_MP3),
    (lambda b: len(b) > 1 and b[0] == 0xFF and b[1] & 0xF6 == 0xF0, ContentType.AUDIO_AAC),
    (_iso_media((b"qt  ",)), ContentType.VIDEO_MOV),
    (lambda b: b[4:8] == b"ftyp", ContentType.VIDEO_MP4),
    (lambda b: b.startswith(b"\x1a\x45\xdf\xa3"), ContentType.VIDEO_WEBM),
    (lambda b: b.startswith(b"%PDF-"), ContentType.DOCUMENT_PDF),
    (lambda b: b.startswith(b"ply\n") or b.startswith(b"ply\r\n"), ContentType.MODEL_PLY),
    (lambda b: b.startswith(b"glTF"), ContentType.MODEL_GLTF),
    (lambda b: b.startswith(b"\x93NUMPY"), ContentType.TENSOR_NUMPY),
    (_safetensors, ContentType.TENSOR_SAFETENSORS),
]


def content_type_of(name: str) -> ContentType | None:
    """The type a name's extension says (``a/b/photo.JPG`` → ``IMAGE_JPEG``), or None."""
    base = name.rsplit("/", 1)[-1].split("?", 1)[0].lower()
    dot = base.rfind(".")
    return _EXTENSIONS.get(base[dot:]) if dot > 0 else None


def sniff_content_type(head: bytes) -> ContentType | None:
    """The type a blob's first bytes say (at least :data:`SNIFF_BYTES` of them), or None."""
    for matches, content_type in _MAGIC:
        if matches(head):
            return content_type
    return None


def infer_content_type(uri: str, *, sniff: bool = True, store: object | None = None) -> ContentType | None:
    """The content type of the blob at ``uri``: its extension first; failing that (and with
    ``sniff``), its first bytes when the blob can be read. None when neither says.

    ``store`` is the :class:`~raise_.multimodal.blobstore.BlobStore` to read through (the default
    one, configured from the environment, otherwise).
    """
    by_name = content_type_of(uri)
    if by_name is not None or not sniff:
        return by_name
    from raise_.multimodal.blobstore import BlobStore

    blobs = store if isinstance(store, BlobStore) else BlobStore.default()
    head = blobs.read_head(uri, SNIFF_BYTES)
    return sniff_content_type(head) if head is not None else None
