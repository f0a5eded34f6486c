"""Bulk inference (README *Bulk Inference*, PRD §18): models run over feature data inside jobs.

The package is light to import: specs and transforms only. A framework (torch, onnxruntime,
sentence-transformers, ...) is imported by its runtime when a run loads a model.
"""
