"""Lead-lag speed against the peers named in the lead-lag issue, measured in the same run.

- xcorr: two 6,000-bar series, lags -250..250, 2,000-replicate bootstrap null. Peer: the same
  scan with statsmodels ``ccf`` (two calls per replicate, one per side) in a Python loop.
- Granger: both directions, lags 1..20, 6,000 bars. Peer: ``grangercausalitytests`` twice.

Run: ``python benchmarks/leadlag.py`` (on demand; never part of the test suite).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
from statsmodels.tsa.stattools import ccf, grangercausalitytests

from havenflow.analytics.leadlag import (
    CrossCorrelation,
    GrangerCausality,
    stationary_bootstrap_indices,
)


def main() -> int:
    rng = np.random.default_rng(0)
    n, max_lag, reps = 6000, 250, 2000
    x = rng.standard_t(5, n)
    y = 0.2 * np.roll(x, 10) + rng.standard_t(5, n)

    t0 = time.perf_counter()
    res = CrossCorrelation(x, y, max_lag).fit(replicates=reps, seed=1)
    t_ours = time.perf_counter() - t0

    # Peer, same work as ours: per replicate, the null scan (follower resampled alone) and the
    # lag-CI scan (pairs resampled together), each with ccf for both sides.
    peer_reps = 100  # timed on a subset, scaled to 2,000 (the loop is linear in replicates)
    idx = stationary_bootstrap_indices(n, peer_reps, res.block_length, rng)
    pidx = stationary_bootstrap_indices(n, peer_reps, max(res.block_length, 21.0), rng)
    t0 = time.perf_counter()
    for r in range(peer_reps):
        for xb, yb in ((x, y[idx[r]]), (x[pidx[r]], y[pidx[r]])):
            pos = ccf(yb, xb, adjusted=True, nlags=max_lag + 1, fft=True)
            neg = ccf(xb, yb, adjusted=True, nlags=max_lag + 1, fft=True)
            _ = max(np.abs(pos).max(), np.abs(neg).max())
    t_peer = (time.perf_counter() - t0) / peer_reps * reps
    print(f"xcorr scan n={n}, lags ±{max_lag}, {reps} bootstrap replicates (null + lag CI, both)")
    print(
        f"  havenflow: {t_ours:7.2f} s   statsmodels ccf loop: {t_peer:7.2f} s   "
        f"speed-up {t_peer / t_ours:5.1f}x"
    )
    print(f"  best lag {res.best_lag:+d}, CI {res.lag_ci}, p = {res.pvalue:.4f}")

    t0 = time.perf_counter()
    GrangerCausality(x, y, 20).fit()
    t_g = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grangercausalitytests(np.column_stack([y, x]), 20)
        grangercausalitytests(np.column_stack([x, y]), 20)
    t_gp = time.perf_counter() - t0
    print(f"Granger both directions, lags 1..20, n={n}")
    print(
        f"  havenflow: {t_g * 1e3:7.1f} ms   statsmodels: {t_gp * 1e3:7.1f} ms   "
        f"speed-up {t_gp / t_g:5.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
