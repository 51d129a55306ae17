"""Resampling schemes shared by the bootstrap-based estimators (events, safe haven, lead-lag)."""

from __future__ import annotations

import numpy as np

__all__ = ["stationary_bootstrap_indices"]


def stationary_bootstrap_indices(
    n: int, replicates: int, mean_block: float, rng: np.random.Generator
) -> np.ndarray:
    """Index matrix ``(replicates, n)`` of the Politis-Romano stationary bootstrap.

    Each row starts a new block at ``t`` with probability ``1 / mean_block`` (always at 0),
    at a uniform position; otherwise it continues the block, wrapping around the end.
    Vectorised: each position finds its block's start with a running maximum.
    """
    p = 1.0 / max(mean_block, 1.0)
    new_block = rng.random((replicates, n)) < p
    new_block[:, 0] = True
    starts = rng.integers(0, n, size=(replicates, n))
    positions = np.broadcast_to(np.arange(n), (replicates, n))
    block_pos = np.maximum.accumulate(np.where(new_block, positions, 0), axis=1)
    start_val = np.take_along_axis(starts, block_pos, axis=1)
    return (start_val + (positions - block_pos)) % n
