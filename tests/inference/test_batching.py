"""Which rows go together to the model: fixed and length-bucketed batches."""

from __future__ import annotations

import numpy as np

from raise_ import BatchConfig
from raise_.inference.batching import plan_batches


def test_dynamic_batches_group_texts_by_length() -> None:
    rng = np.random.default_rng(7)
    lengths_ = rng.integers(1, 400, size=1000)
    config = BatchConfig(batch_size=16, max_batch_size=128, dynamic_batching=True)
    batches = plan_batches(1000, config, lengths_)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(1000))  # every row once
    budget = 16 * lengths_.max()
    for b in batches:
        assert 1 <= len(b) <= 128 and len(b) * lengths_[b].max() <= budget
    # sorted by length: short texts share large batches, long ones small
    assert len(batches[0]) > 100 and max(len(b) for b in batches[-3:]) <= 16
    padded = sum(len(b) * lengths_[b].max() for b in batches)
    fixed = sum(len(b) * lengths_[b].max() for b in plan_batches(1000, BatchConfig(batch_size=16), lengths_))
    assert padded < fixed * 0.75  # far less padding than fixed batches of the same size
    assert [len(b) for b in plan_batches(10, BatchConfig(batch_size=4))] == [4, 4, 2]
