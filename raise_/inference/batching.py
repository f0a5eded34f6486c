"""Which rows go together to the model.

Fixed batching cuts the rows in order into ``batch_size`` pieces. Dynamic batching, for text,
sorts the rows by length and grows each batch while its padded size (rows × its longest text)
stays within ``batch_size`` × the longest text of all, up to ``max_batch_size`` rows: short texts
share large batches, long ones small, and little of any batch is padding. The executor puts the
outputs back in the rows' order.
"""

from __future__ import annotations

import numpy as np

from raise_.inference.specs import BatchConfig

__all__ = ["plan_batches"]


def plan_batches(rows: int, config: BatchConfig, lengths: np.ndarray | None = None) -> list[np.ndarray]:
    """Row indices of each batch, in the order they run."""
    if rows == 0:
        return []
    if not config.dynamic_batching or lengths is None:
        size = config.batch_size
        return [np.arange(start, min(start + size, rows)) for start in range(0, rows, size)]
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = np.maximum(np.asarray(lengths)[order], 1)
    budget = int(config.batch_size * sorted_lengths[-1])
    most = config.largest_batch
    batches = []
    start = 0
    while start < rows:
        end = min(start + most, rows)
        # Shrink until rows × the longest (the last, as they are sorted) fits the budget; each
        # step jumps straight to what the current longest allows, so this ends in a few steps.
        while end - start > 1 and (end - start) * int(sorted_lengths[end - 1]) > budget:
            end = start + max(1, min(end - start - 1, budget // int(sorted_lengths[end - 1])))
        batches.append(order[start:end])
        start = end
    return batches
