"""Texts, labels and reference computations for the inference tests (independent of Raise)."""

from __future__ import annotations

from typing import Any

import numpy as np

PETS = [
    "I love my two cats and their sleepy afternoons",
    "Walking the dog along the river every morning",
    "Our parrot learned to whistle a whole song",
    "Adopted a rescue puppy last spring",
    "Feeding the goldfish is my daughter's job",
    "My rabbit chews every cable in the house",
]
TECH = [
    "Writing Rust and Go for distributed databases",
    "I debug Kubernetes clusters for a living",
    "Compilers, type systems and functional programming",
    "Building GPU kernels for matrix multiplication",
    "Maintaining a Python library for data pipelines",
    "Tuning PostgreSQL queries and indexes at work",
]
#: The users' bios (user_id = index + 1) and what a reader would call them.
BIOS = PETS + TECH
LABELS = ["pets"] * len(PETS) + ["tech"] * len(TECH)

#: A classifier's training sentences, distinct from the users' bios.
TRAIN = [
    ("My kitten sleeps on the keyboard", "pets"),
    ("The hamster runs on its wheel all night", "pets"),
    ("We take the dogs to the beach", "pets"),
    ("Cleaning the aquarium for the turtles", "pets"),
    ("Horses need a lot of care and attention", "pets"),
    ("Our cat caught a mouse in the garden", "pets"),
    ("Deploying microservices with Docker", "tech"),
    ("Optimizing SQL joins in a data warehouse", "tech"),
    ("Learning CUDA programming for deep learning", "tech"),
    ("Refactoring a large Java codebase", "tech"),
    ("Writing unit tests for a web API", "tech"),
    ("Configuring Linux servers and networks", "tech"),
]


def embed(model: Any, texts: list[str]) -> np.ndarray:
    """The reference: sentence-transformers itself."""
    return np.asarray(model.encode(texts, convert_to_numpy=True), dtype=np.float32)


def vectors(column: Any) -> np.ndarray:
    """An embedding column read from the store (lists of floats) as a 2-D array."""
    return np.asarray([np.asarray(v, dtype=np.float32) for v in column])
