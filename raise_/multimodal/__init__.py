"""Multimodal data (README *Multimodal Data*, PRD §17): references to blobs (images, audio,
video, tensors) that stay where they are, registries that track and validate them, scans of
object storage, and integrity checks for jobs.

The SDK's names (``from raise_ import BlobRegistry, ...``) load lazily from the modules here and
from :mod:`raise_.client.multimodal`; this package imports nothing itself, because every process
importing ``raise_`` loads its catalog tables (:mod:`raise_.multimodal.models`).
"""
