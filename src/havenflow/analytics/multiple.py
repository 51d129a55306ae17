"""Multiple testing across pairs and methods."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from havenflow.exceptions import DataValidationError

__all__ = ["benjamini_hochberg"]


def benjamini_hochberg(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values (false discovery rate adjusted p-values).

    Parameters
    ----------
    pvalues
        P-values of the tests in one family (every pair and method scanned together).

    Returns
    -------
    numpy.ndarray
        ``q_i = min_{j: p_(j) >= p_i} m p_(j) / rank(j)``, capped at 1, in the input order.
        Rejecting every test with ``q <= alpha`` controls the false discovery rate at
        ``alpha`` for independent or positively dependent tests.
    """
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise DataValidationError("p-values must be a flat list")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise DataValidationError("p-values must lie in [0, 1] with no missing value")
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    # Running minimum from the largest p-value down keeps the q-values monotone.
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q
