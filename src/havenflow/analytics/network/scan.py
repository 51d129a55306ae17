"""Every pair of a universe through the lead-lag scan of :mod:`havenflow.analytics.leadlag.xcorr`.

The same test as ``havenflow leadlag --method xcorr``, for all pairs at once: each lag's
correlation studentised by its block standard error under the null, the maximum |t| over the
lags ``-L..L`` judged against block sign-flip draws (flipping the first series' blocks), so
each p-value accounts for the scan over lags, each series' own dependence and volatility
clustering. Vectorised by leader: for a chunk of leaders, the block sums of the lagged
cross-products against every follower are batched matrix products, and the draws of one
leader against all its followers are one ``(replicates x blocks) @ (blocks x lags*followers)``
product in float32, as in the pairwise code.

Randomness: the signs of leader ``i`` come from child ``i`` of ``SeedSequence(seed)``, drawn
exactly as the pairwise scan draws them from a generator; so pair ``(i, j)`` gets the p-value
``CrossCorrelation(x_i, x_j).fit(seed=default_rng(child_i))`` would give (tested), whatever
the chunking and whichever machine runs the chunk.

Pairs are unordered (``i < j``): the scan over negative and positive lags already says who
moves first; each pair is reported with the leader first (lag >= 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from havenflow.analytics.leadlag._common import scan_block_length
from havenflow.analytics.leadlag.xcorr import _rademacher
from havenflow.exceptions import DataValidationError

__all__ = ["ChunkResult", "chunk_plan", "scan_chunk", "standardised_panel"]

#: Memory of one block of sign-flip draws (replicates x lags x followers doubles, and their
#: temporaries): fixed, so a worker's peak does not grow with the universe.
DRAWS_BUDGET_MB = 64.0


def standardised_panel(values: np.ndarray) -> np.ndarray:
    """Columns standardised (mean 0, sd 1); a constant column is refused."""
    panel = np.asarray(values, dtype=float)
    if panel.ndim != 2:
        raise DataValidationError("the universe must be a 2-D array (bars x assets)")
    if not np.isfinite(panel).all():
        raise DataValidationError("the universe has missing or non-finite moves: align first")
    sd = panel.std(axis=0)
    if np.any(sd == 0):
        raise DataValidationError(f"asset #{int(np.flatnonzero(sd == 0)[0])} never moves")
    return np.asarray((panel - panel.mean(axis=0)) / sd, dtype=float)


@dataclass(frozen=True)
class ChunkResult:
    """The pairs ``(i, j)``, ``i`` in ``leaders`` and ``j > i``, of one chunk."""

    first: np.ndarray  # i
    second: np.ndarray  # j
    lag: np.ndarray  # best lag of corr(x_i(t), x_j(t + lag)); positive: i moves first
    correlation: np.ndarray
    stat: np.ndarray  # max |t| over lags
    pvalue: np.ndarray


def chunk_plan(
    n_assets: int, n_bars: int, max_lag: int, budget_mb: float = 256.0
) -> list[np.ndarray]:
    """Leader chunks whose block sums fit in ``budget_mb`` (memory flat in the universe size).

    The block sums of a chunk of ``m`` leaders take ``lags x blocks x m x assets`` doubles;
    ``m`` shrinks as the universe grows, so a worker's peak stays near the budget.
    """
    ell = scan_block_length(n_bars)
    blocks = -(-n_bars // ell)
    per_leader = (2 * max_lag + 1) * blocks * n_assets * 8 * 2  # sums and their float32 copy
    m = int(max(1, min(n_assets, budget_mb * 1e6 // per_leader)))
    # The last asset leads no pair (every pair has i < j): it is in no chunk.
    return [np.arange(s, min(s + m, n_assets - 1)) for s in range(0, n_assets - 1, m)]


def _block_sums(
    panel: np.ndarray, leaders: np.ndarray, max_lag: int, ell: int
) -> tuple[np.ndarray, np.ndarray]:
    """``S[k, b, i, j] = sum_{t in block b} x_i(t) x_j(t + lag_k)`` and the lags' counts."""
    n, n_assets = panel.shape
    blocks = -(-n // ell)
    lags = np.arange(-max_lag, max_lag + 1)
    padded_rows = blocks * ell
    x = np.zeros((padded_rows, len(leaders)))
    x[:n] = panel[:, leaders]
    xb = x.reshape(blocks, ell, len(leaders))
    y = np.zeros((padded_rows + 2 * max_lag, n_assets))
    y[max_lag : max_lag + n] = panel
    sums = np.empty((len(lags), blocks, len(leaders), n_assets))
    for idx, k in enumerate(lags):
        # Row t of the shifted panel is x(t + k): zero where t + k is outside the sample.
        shifted = y[max_lag + k : max_lag + k + padded_rows].reshape(blocks, ell, n_assets)
        np.matmul(xb.transpose(0, 2, 1), shifted, out=sums[idx])
    return sums, n - np.abs(lags)


def scan_chunk(
    panel: np.ndarray,
    leaders: np.ndarray,
    max_lag: int,
    replicates: int,
    seeds: list[np.random.SeedSequence],
) -> ChunkResult:
    """Scan every pair ``(i, j)`` with ``i`` in ``leaders`` and ``j > i``.

    Parameters
    ----------
    panel
        Standardised moves, bars x assets (:func:`standardised_panel`).
    leaders
        Column indices of this chunk.
    max_lag
        Lags scanned: ``-max_lag..max_lag`` bars.
    replicates
        Sign-flip draws per pair.
    seeds
        One ``SeedSequence`` per leader of the chunk (children of the run's seed).
    """
    n, n_assets = panel.shape
    ell = scan_block_length(n)
    blocks = -(-n // ell)
    lags = np.arange(-max_lag, max_lag + 1)
    sums, counts = _block_sums(panel, leaders, max_lag, ell)
    corr_all = sums.sum(axis=1) / counts[:, None, None]  # (lags, m, assets)
    se_all = np.sqrt((sums**2).sum(axis=1)) / counts[:, None, None]
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("i", "j", "lag", "corr", "stat", "p")}
    for pos, (i, seed) in enumerate(zip(leaders, seeds, strict=True)):
        followers = np.arange(i + 1, n_assets)
        if not len(followers):
            continue
        corr = corr_all[:, pos, followers]  # (lags, followers)
        se = se_all[:, pos, followers]
        if np.any(se <= 0):
            raise DataValidationError("a lag's cross-products are all zero: constant series?")
        stat = np.max(np.abs(corr) / se, axis=0)
        signs = _rademacher(np.random.default_rng(seed), replicates, blocks)
        # The draws of one leader against its followers, a block of followers at a time:
        # (replicates x lags x followers) doubles would grow with the universe.
        null_max = np.empty((replicates, len(followers)))
        step = max(1, int(DRAWS_BUDGET_MB * 1e6 // (replicates * len(lags) * 8 * 3)))
        for start in range(0, len(followers), step):
            part = slice(start, start + step)
            block_sums = sums[:, :, pos, followers[part]].transpose(1, 0, 2).reshape(blocks, -1)
            draws = (signs @ block_sums.astype(np.float32)).astype(float)
            draws = draws.reshape(replicates, len(lags), -1) / counts[None, :, None]
            null_max[:, part] = np.max(np.abs(draws) / se[None, :, part], axis=1)
        pvalue = (1.0 + np.sum(null_max >= stat[None], axis=0)) / (replicates + 1.0)
        best = np.argmax(np.abs(corr), axis=0)
        out["i"].append(np.full(len(followers), i))
        out["j"].append(followers)
        out["lag"].append(lags[best])
        out["corr"].append(corr[best, np.arange(len(followers))])
        out["stat"].append(stat)
        out["p"].append(pvalue)
    if not out["i"]:
        empty = np.array([], dtype=float)
        return ChunkResult(
            empty.astype(int), empty.astype(int), empty.astype(int), empty, empty, empty
        )
    return ChunkResult(
        first=np.concatenate(out["i"]),
        second=np.concatenate(out["j"]),
        lag=np.concatenate(out["lag"]),
        correlation=np.concatenate(out["corr"]),
        stat=np.concatenate(out["stat"]),
        pvalue=np.concatenate(out["p"]),
    )
