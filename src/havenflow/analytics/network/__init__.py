"""Lead-lag networks over whole universes: every pair scanned, scored, clustered; on Dask.

``LeadLagNetwork(moves, max_lag).fit(replicates, seed=..., scheduler=...)`` scans every pair
of the columns of ``moves`` (one calendar, no missing values) with the lead-lag scan of
``havenflow leadlag`` (:mod:`havenflow.analytics.network.scan`), adjusts the p-values across
pairs (Benjamini-Hochberg), scores each asset and clusters the lead-lag matrix into leader
and follower groups (:mod:`havenflow.analytics.network.graph`).

Resolution: a pair's p-value is a randomisation p-value, at least ``1 / (replicates + 1)``;
across ``M`` pairs Benjamini-Hochberg can call pairs significant only where enough of them
reach that floor (about ``M * p_min / alpha``), so small universes need more replicates
(999 or 1999) to show anything at all, and a network with no structure shows none.

Engine: the pairs are cut into chunks of leaders sized to a memory budget (a worker's peak
stays flat as the universe grows). ``scheduler="sync"`` runs them in this process;
``"local"`` on a ``dask.distributed.LocalCluster`` (one single-threaded worker per core);
``"tcp://HOST:PORT"`` on an existing Dask cluster. The panel is scattered to the workers once;
each chunk draws its signs from the children of ``SeedSequence(seed)`` of its own leaders, so
every scheduler gives identical numbers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from havenflow.analytics.leadlag._common import min_obs
from havenflow.analytics.multiple import benjamini_hochberg
from havenflow.analytics.network.graph import hermitian_clusters, lead_matrix, lead_scores
from havenflow.analytics.network.scan import (
    ChunkResult,
    chunk_plan,
    scan_chunk,
    standardised_panel,
)
from havenflow.analytics.results import NO_JSON, Result
from havenflow.exceptions import DataValidationError

__all__ = ["LeadLagNetwork", "NetworkResult", "ProgressCallback"]

#: Most assets one network takes (4 million pairs at 2,000; the benchmark's largest).
MAX_ASSETS = 5000


@dataclass(frozen=True)
class NetworkResult(Result):
    """Pairs, scores and groups of a lead-lag network.

    Attributes
    ----------
    assets
        The universe, in column order.
    lag_unit, nobs, max_lag, replicates, seed, alpha
        Bars of the calendar, the sample, the lags scanned (``-max_lag..max_lag``), draws per
        pair, the seed, and the BH level of "significant".
    pairs
        One row per unordered pair with the leader first: ``leader``, ``follower``, ``lag``
        (>= 0, bars; 0: contemporaneous, no leader), ``correlation`` at that lag,
        ``stat`` (max |t| over lags), ``pvalue`` (scan-adjusted) and ``qvalue`` (BH).
    scores
        Per asset: ``id``, ``score`` (net lead score, -1..1), ``rank`` (1: strongest leader),
        ``leads`` and ``follows`` (significant pairs), ``cluster``.
    clusters
        ``k`` groups, leaders first: ``members`` and ``flow`` to each other group (positive:
        this group leads).
    """

    assets: tuple[str, ...]
    lag_unit: str
    nobs: int
    max_lag: int
    replicates: int
    seed: int | None
    alpha: float
    scheduler: str
    cluster_mode: str
    pairs: pd.DataFrame = field(metadata=NO_JSON, repr=False)
    scores: pd.DataFrame = field(metadata=NO_JSON, repr=False)
    flows: np.ndarray = field(metadata=NO_JSON, repr=False)

    kind = "network"
    null_hypothesis = (
        "no correlation between the pair's moves at any lag from -max_lag to max_lag "
        "(block sign-flip randomisation, as havenflow leadlag --method xcorr)"
    )

    def to_dict(self) -> dict[str, Any]:
        """JSON: ``assets``, ``pairs[]``, ``scores[]``, ``clusters[]`` and the settings."""
        from havenflow.analytics.results import jsonable

        k = self.flows.shape[0]
        clusters = [
            {
                "cluster": c,
                "members": [
                    a
                    for a, lab in zip(self.assets, self.scores["cluster"], strict=True)
                    if lab == c
                ],
                "flow": {str(d): float(self.flows[c, d]) for d in range(k) if d != c},
            }
            for c in range(k)
        ]
        return {
            "assets": list(self.assets),
            "lag_unit": self.lag_unit,
            "lag_convention": "positive lag: the leader moves first",
            "nobs": self.nobs,
            "max_lag": self.max_lag,
            "replicates": self.replicates,
            "seed": self.seed,
            "alpha": self.alpha,
            "scheduler": self.scheduler,
            "cluster_mode": self.cluster_mode,
            "null_hypothesis": self.null_hypothesis,
            "pairs": jsonable(self.pairs.to_dict(orient="records")),
            "scores": jsonable(self.scores.to_dict(orient="records")),
            "clusters": clusters,
        }

    def to_frame(self) -> pd.DataFrame:
        """The scores table."""
        return self.scores.set_index("id")

    def _summary_text(self) -> str:
        significant = int((self.pairs["qvalue"] <= self.alpha).sum())
        top = ", ".join(self.scores.sort_values("rank")["id"].head(5))
        return (
            f"Lead-lag network of {len(self.assets)} assets, {len(self.pairs)} pairs, lags "
            f"-{self.max_lag}..{self.max_lag} {self.lag_unit}, {self.nobs} bars: {significant} "
            f"pairs significant at q <= {self.alpha}. Strongest leaders: {top}."
        )


ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class LeadLagNetwork:
    """Every pair of ``moves`` (bars x assets, one calendar, no gaps) up to ``max_lag``."""

    moves: pd.DataFrame
    max_lag: int = 20
    lag_unit: str = "bars"

    def __post_init__(self) -> None:
        if not isinstance(self.moves, pd.DataFrame):
            raise DataValidationError("moves must be a DataFrame (bars x assets)")
        n, n_assets = self.moves.shape
        if n_assets < 3:
            raise DataValidationError(f"a network needs at least 3 assets, got {n_assets}")
        if n_assets > MAX_ASSETS:
            raise DataValidationError(f"at most {MAX_ASSETS} assets, got {n_assets}")
        if not 1 <= self.max_lag <= 260:
            raise DataValidationError(f"max_lag must be between 1 and 260, got {self.max_lag}")
        if n < min_obs(self.max_lag):
            raise DataValidationError(
                f"{n} bars: a scan to {self.max_lag} lags needs at least {min_obs(self.max_lag)}"
            )
        if self.moves.columns.duplicated().any():
            raise DataValidationError("asset names must be unique")

    def fit(
        self,
        replicates: int = 499,
        *,
        seed: int | None = 0,
        scheduler: str = "sync",
        clusters: int = 2,
        mode: str = "flow",
        alpha: float = 0.05,
        budget_mb: float = 256.0,
        progress: ProgressCallback | None = None,
    ) -> NetworkResult:
        """Scan, adjust, score and cluster.

        Parameters
        ----------
        replicates
            Sign-flip draws per pair (at least 19).
        seed
            Seed of every draw: the same seed gives the same network on any scheduler.
        scheduler
            ``sync``, ``local`` (a LocalCluster sized to the machine) or ``tcp://HOST:PORT``.
        clusters
            Groups of the Hermitian clustering.
        mode
            ``flow``: leader and follower groups (Herm); ``groups``: one group per separate
            leader and the assets it leads (see :func:`hermitian_clusters`).
        alpha
            BH level for "significant".
        budget_mb
            Memory of one chunk's block sums.
        progress
            Called with (chunks done, chunks in all).
        """
        if replicates < 19:
            raise DataValidationError(f"replicates must be at least 19, got {replicates}")
        if not 0 < alpha < 1:
            raise DataValidationError(f"alpha must be in (0, 1), got {alpha}")
        panel = standardised_panel(self.moves.to_numpy(dtype=float))
        n, n_assets = panel.shape
        children = np.random.SeedSequence(seed).spawn(n_assets)
        plan = chunk_plan(n_assets, n, self.max_lag, budget_mb)
        parts = _run(panel, plan, self.max_lag, replicates, children, scheduler, progress)
        first = np.concatenate([p.first for p in parts])
        second = np.concatenate([p.second for p in parts])
        lag = np.concatenate([p.lag for p in parts])
        corr = np.concatenate([p.correlation for p in parts])
        stat = np.concatenate([p.stat for p in parts])
        pvalue = np.concatenate([p.pvalue for p in parts])
        order = np.lexsort((second, first))
        first, second, lag, corr, stat, pvalue = (
            a[order] for a in (first, second, lag, corr, stat, pvalue)
        )
        qvalue = benjamini_hochberg(pvalue)
        names = [str(c) for c in self.moves.columns]
        forward = lag >= 0
        leader = np.where(forward, first, second)
        follower = np.where(forward, second, first)
        pairs = pd.DataFrame(
            {
                "leader": [names[i] for i in leader],
                "follower": [names[j] for j in follower],
                "lag": np.abs(lag),
                "correlation": corr,
                "stat": stat,
                "pvalue": pvalue,
                "qvalue": qvalue,
            }
        )
        a = lead_matrix(n_assets, first, second, lag, corr, qvalue <= alpha)
        score, rank = lead_scores(a)
        labels, flows = hermitian_clusters(a, clusters, seed=0 if seed is None else seed, mode=mode)
        scores = pd.DataFrame(
            {
                "id": names,
                "score": score,
                "rank": rank,
                "leads": (a > 0).sum(axis=1),
                "follows": (a > 0).sum(axis=0),
                "cluster": labels,
            }
        )
        return NetworkResult(
            assets=tuple(names),
            lag_unit=self.lag_unit,
            nobs=n,
            max_lag=self.max_lag,
            replicates=replicates,
            seed=seed,
            alpha=alpha,
            scheduler=scheduler,
            cluster_mode=mode,
            pairs=pairs,
            scores=scores,
            flows=flows,
        )


def _run(
    panel: np.ndarray,
    plan: list[np.ndarray],
    max_lag: int,
    replicates: int,
    children: list[np.random.SeedSequence],
    scheduler: str,
    progress: ProgressCallback | None,
) -> list[ChunkResult]:
    if scheduler == "sync":
        out = []
        for done, leaders in enumerate(plan, 1):
            out.append(
                scan_chunk(panel, leaders, max_lag, replicates, [children[i] for i in leaders])
            )
            if progress:
                progress(done, len(plan))
        return out
    if scheduler != "local" and not scheduler.startswith("tcp://"):
        raise DataValidationError(
            f"scheduler must be sync, local or tcp://HOST:PORT, got {scheduler[:80]!r}"
        )
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=max(1, min(os.cpu_count() or 1, len(plan))),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port (None still takes 8787 here)
            host="127.0.0.1",
        )
        client = Client(cluster)  # type: ignore[no-untyped-call]
    else:
        try:
            client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except OSError as exc:
            raise DataValidationError(
                f"cannot reach the Dask scheduler {scheduler}: {exc}"
            ) from None
    try:
        shared = client.scatter(panel, broadcast=True)  # type: ignore[no-untyped-call]
        futures = {
            client.submit(
                scan_chunk,
                shared,
                leaders,
                max_lag,
                replicates,
                [children[i] for i in leaders],
                pure=False,
            ): pos
            for pos, leaders in enumerate(plan)
        }
        results: list[ChunkResult | None] = [None] * len(plan)
        for done, future in enumerate(as_completed(futures), 1):  # type: ignore[no-untyped-call]
            results[futures.pop(future)] = future.result()
            future.release()  # the worker may drop its copy
            if progress:
                progress(done, len(plan))
        return [r for r in results if r is not None]
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()
