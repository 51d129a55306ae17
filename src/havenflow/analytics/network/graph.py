"""From scanned pairs to a network: lead scores, Hermitian clustering, flows between groups.

- **Lead-lag matrix** ``A[i, j]``: the evidence that ``i`` leads ``j``, ``|correlation|`` at the
  best lag when the pair is significant (Benjamini-Hochberg ``q <= alpha``) with ``lag > 0``;
  0 otherwise (contemporaneous or insignificant pairs add nothing).
- **Net lead score** of an asset: (significant pairs it leads - pairs it follows) / (N - 1),
  in -1..1; ranked from the strongest leader.
- **Hermitian clustering** (Cucuringu, Li, Sun and Zanetti 2020, "Hermitian matrices for
  clustering directed graphs"; used for lead-lag networks by Bennett, Cucuringu and Reinert
  2022): the Hermitian matrix ``H = i (A - A^T)`` has real eigenvalues in +- pairs; the
  eigenvectors of its ``k`` largest eigenvalues (real and imaginary parts) embed the assets,
  and k-means on the embedding gives ``k`` groups whose edges mostly point the same way
  between groups. Groups are ordered by their net outgoing flow, leaders first.
- **Flow** between groups ``a`` and ``b``: ``sum A[a, b] - sum A[b, a]`` over their members,
  normalised by the members' pairs; positive: ``a`` leads ``b``.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2

from havenflow.exceptions import DataValidationError

__all__ = ["adjusted_rand_index", "hermitian_clusters", "lead_matrix", "lead_scores"]


def lead_matrix(
    n_assets: int,
    first: np.ndarray,
    second: np.ndarray,
    lag: np.ndarray,
    correlation: np.ndarray,
    significant: np.ndarray,
) -> np.ndarray:
    """``A[i, j]``: |correlation| where ``i`` significantly leads ``j`` (lag > 0), else 0."""
    a = np.zeros((n_assets, n_assets))
    weight = np.where(significant & (lag != 0), np.abs(correlation), 0.0)
    forward = lag > 0
    a[first[forward], second[forward]] = weight[forward]
    a[second[~forward], first[~forward]] = weight[~forward]
    return a


def lead_scores(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Net lead score per asset and its rank (1 = strongest leader)."""
    n = a.shape[0]
    leads = (a > 0).sum(axis=1)
    follows = (a > 0).sum(axis=0)
    score = (leads - follows) / max(n - 1, 1)
    order = np.argsort(-score, kind="stable")
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(1, n + 1)
    return score, rank


def hermitian_clusters(
    a: np.ndarray, k: int = 2, seed: int = 0, mode: str = "flow"
) -> tuple[np.ndarray, np.ndarray]:
    """Group labels (0 = the strongest leading group) and the k x k flow matrix between groups.

    ``mode="flow"`` (Herm, as in the papers): the eigenvectors of the ``2 * floor(k/2)``
    largest |eigenvalues| embed the assets by the phase of their edges, so k-means splits
    leaders from followers (groups that mostly point the same way between them).
    ``mode="groups"``: the eigenvectors of the ``k`` largest eigenvalues, each asset's row
    rotated to a common phase and scaled to unit length, so a leader and the assets it leads
    land together: one group per separate leader and its followers.

    Raises
    ------
    DataValidationError
        When ``k`` is not between 2 and the number of assets.
    """
    n = a.shape[0]
    if not 2 <= k <= n:
        raise DataValidationError(f"clusters must be between 2 and the {n} assets, got {k}")
    if mode not in ("flow", "groups"):
        raise DataValidationError(f"mode must be flow or groups, got {mode!r}")
    h = 1j * (a - a.T)
    values, vectors = np.linalg.eigh(h)
    if mode == "flow":
        top = np.argsort(-np.abs(values), kind="stable")[: 2 * max(1, k // 2)]
        rows = vectors[:, top]
    else:
        # Eigenvalues come in +- pairs of conjugate eigenvectors: the k largest positive
        # ones span the directed structure. Within one leader's group the rows differ only by
        # a complex factor (the phase says leader or follower): removing it groups them.
        rows = vectors[:, np.argsort(-values, kind="stable")[:k]]
        biggest = rows[np.arange(n), np.argmax(np.abs(rows), axis=1)]
        norm = np.linalg.norm(rows, axis=1)
        safe = np.where(np.abs(biggest) > 0, np.abs(biggest), 1.0)
        rows = rows * (np.conj(biggest) / safe)[:, None] / np.where(norm > 0, norm, 1.0)[:, None]
    embedding = np.hstack([rows.real, rows.imag])
    if not np.any(embedding):
        return np.zeros(n, dtype=int), np.zeros((k, k))
    # k-means from a fixed generator: the same network gives the same groups.
    _, labels = kmeans2(embedding, k, minit="++", seed=np.random.default_rng(seed))
    flow = _flows(a, labels, k)
    order = np.argsort(-flow.sum(axis=1), kind="stable")  # leaders first
    relabel = np.empty(k, dtype=int)
    relabel[order] = np.arange(k)
    labels = relabel[labels]
    return labels, _flows(a, labels, k)


def _flows(a: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    flow = np.zeros((k, k))
    for p in range(k):
        for q in range(k):
            if p == q:
                continue
            mp, mq = labels == p, labels == q
            pairs = mp.sum() * mq.sum()
            if pairs:
                flow[p, q] = (a[np.ix_(mp, mq)].sum() - a[np.ix_(mq, mp)].sum()) / pairs
    return flow


def adjusted_rand_index(truth: np.ndarray, found: np.ndarray) -> float:
    """Hubert and Arabie's adjusted Rand index of two labellings (1: identical partitions)."""
    from scipy.special import comb

    t = np.unique(np.asarray(truth), return_inverse=True)[1]
    f = np.unique(np.asarray(found), return_inverse=True)[1]
    table = np.zeros((t.max() + 1, f.max() + 1))
    np.add.at(table, (t, f), 1)
    index = comb(table, 2).sum()
    rows, cols = comb(table.sum(axis=1), 2).sum(), comb(table.sum(axis=0), 2).sum()
    total = comb(len(t), 2)
    expected = rows * cols / total if total else 0.0
    best = (rows + cols) / 2
    if best == expected:
        return 1.0
    return float((index - expected) / (best - expected))
