"""Time the lead-lag network on synthetic universes with planted leader groups.

For 100, 500 and 2,000 assets (2,000 daily bars, max lag 20, 499 replicates; sizes with
``--sizes``): a quarter of the assets lead a common factor by 2 bars, the rest follow it.
Each size is run with ``scheduler="sync"`` and on a ``LocalCluster`` with 1 and 2 workers
(the same numbers each time: checked), and reports the seconds, the peak resident memory of
the process or of each worker, and the adjusted Rand index of the two groups found against
the planted ones. The peer is the naive loop a user would write: per pair, statsmodels'
``ccf`` both ways and the same 499-draw null by re-running ``ccf`` on a shuffled follower,
timed on 10 pairs and extrapolated to every pair (said so in the output). Usage::

    python benchmarks/network.py [--sizes 100,500,2000] [--replicates 499]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from havenflow.analytics.network import LeadLagNetwork
from havenflow.analytics.network.graph import adjusted_rand_index

BARS, MAX_LAG, LAG = 2000, 20, 2


def universe(n_assets: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Planted groups: leaders (a quarter) move with a factor ``LAG`` bars before followers."""
    rng = np.random.default_rng(seed)
    n_leaders = n_assets // 4
    factor = rng.standard_normal(BARS + LAG)
    noise = rng.standard_normal((BARS, n_assets)) * 2.0
    moves = noise.copy()
    moves[:, :n_leaders] += factor[LAG:, None]
    moves[:, n_leaders:] += factor[:BARS, None]
    truth = np.array([0] * n_leaders + [1] * (n_assets - n_leaders))
    return pd.DataFrame(moves, columns=[f"a{i}" for i in range(n_assets)]), truth


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def naive_seconds_per_pair(moves: pd.DataFrame, replicates: int, pairs: int = 10) -> float:
    """statsmodels' ccf per pair, both directions, with a shuffled-follower null."""
    from statsmodels.tsa.stattools import ccf

    rng = np.random.default_rng(0)
    x = moves.to_numpy()
    started = time.perf_counter()
    for p in range(pairs):
        a, b = x[:, p], x[:, p + 1]
        observed = max(
            np.abs(ccf(a, b, adjusted=True, fft=True, nlags=MAX_LAG + 1)).max(),
            np.abs(ccf(b, a, adjusted=True, fft=True, nlags=MAX_LAG + 1)).max(),
        )
        exceed = 0
        for _ in range(replicates):
            shuffled = rng.permutation(b)
            draw = max(
                np.abs(ccf(a, shuffled, adjusted=True, fft=True, nlags=MAX_LAG + 1)).max(),
                np.abs(ccf(shuffled, a, adjusted=True, fft=True, nlags=MAX_LAG + 1)).max(),
            )
            exceed += draw >= observed
    return (time.perf_counter() - started) / pairs


def run(n_assets: int, replicates: int) -> None:
    """One size: sync, 1 and 2 workers, and the naive extrapolation."""
    moves, truth = universe(n_assets)
    network = LeadLagNetwork(moves, max_lag=MAX_LAG)
    pairs = n_assets * (n_assets - 1) // 2
    rows = []
    reference = None
    # The clusters first: their workers are fresh processes (Dask spawns them), and this
    # process's own peak is read after its sync run, which comes last.
    for label, scheduler, workers in (
        ("LocalCluster 1 worker", "cluster", 1),
        ("LocalCluster 2 workers", "cluster", 2),
        ("sync", "sync", 0),
    ):
        started = time.perf_counter()
        if scheduler == "sync":
            result = network.fit(replicates, seed=0, scheduler="sync")
            memory = f"process peak {_peak_mb():.0f} MB"
        else:
            from dask.distributed import Client, LocalCluster

            with (
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    host="127.0.0.1",
                ) as cluster,
                Client(cluster) as client,
            ):
                started = time.perf_counter()  # the cluster's start is not the scan's time
                result = network.fit(replicates, seed=0, scheduler=cluster.scheduler_address)
                peaks = client.run(
                    lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                )
                memory = "worker peaks " + ", ".join(f"{v:.0f}" for v in peaks.values()) + " MB"
        seconds = time.perf_counter() - started
        if reference is None:
            reference = result
        else:
            pd.testing.assert_frame_equal(reference.pairs, result.pairs)  # same numbers
        ari = adjusted_rand_index(truth, result.scores["cluster"].to_numpy())
        significant = int((result.pairs["qvalue"] <= 0.05).sum())
        rows.append((label, seconds, memory, ari, significant))
    naive = naive_seconds_per_pair(moves, replicates) * pairs
    print(
        f"\n{n_assets} assets, {pairs:,} pairs, {BARS} bars, lags -{MAX_LAG}..{MAX_LAG}, "
        f"{replicates} replicates"
    )
    for label, seconds, memory, ari, significant in rows:
        print(
            f"  {label:<24} {seconds:9.1f} s  x{naive / seconds:8.0f} vs naive  ARI {ari:.3f}  "
            f"significant pairs {significant:,}  {memory}"
        )
    print(f"  {'naive ccf loop':<24} {naive:9.0f} s  (extrapolated from 10 pairs)")


def main() -> None:
    """Parse the sizes and run each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,2000")
    parser.add_argument("--replicates", type=int, default=499)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        run(sizes[0], args.replicates)
        return
    for size in sizes:
        # Each size in a fresh process, so its peak memory is its own.
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--sizes",
                str(size),
                "--replicates",
                str(args.replicates),
                "--child",
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
