"""Lead-lag speed against the peers named in the lead-lag issue, measured in the same run.

- xcorr: two 6,000-bar series, lags -250..250, 2,000-replicate null and lag interval. Peer: the
  same scan with statsmodels ``ccf`` (two calls per replicate, one per side) in a Python loop.
- Granger: both directions, lags 1..20, 6,000 bars. Peer: ``grangercausalitytests`` twice.
- HY/HRY: two asynchronous series of 10^5 timestamps over five days at 1 s resolution, a
  1,001-point lag grid. Peer: the ``lead-lag`` package, when installed (``pip install cython``
  then ``pip install --no-build-isolation lead-lag``), timed on a subset of lags; then 10^6
  timestamps each, and the same code at daily resolution.
- Rolling: 20 years of daily data, two-year windows (the calibrated minimum for lags -120..120)
  stepped monthly.

Run: ``python benchmarks/leadlag.py`` (on demand; never part of the test suite).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from statsmodels.tsa.stattools import ccf, grangercausalitytests

from havenflow.analytics.leadlag import (
    CrossCorrelation,
    GrangerCausality,
    RollingCrossCorrelation,
    min_obs,
)
from havenflow.analytics.leadlag.hy import HayashiYoshida
from havenflow.analytics.resample import stationary_bootstrap_indices


def _median_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """Median wall time of ``repeats`` calls (the first big call also pays page faults)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _row(name: str, ours: float, peer: float | None, note: str = "") -> None:
    peer_s = f"{peer:9.3f} s" if peer is not None else "        —  "
    ratio = f"{peer / ours:7.1f}x" if peer is not None else "     — "
    print(f"{name:<44} {ours:9.3f} s {peer_s} {ratio}  {note}")


def bench_xcorr(rng: np.random.Generator) -> None:
    n, max_lag, reps = 6000, 250, 2000
    x = rng.standard_t(5, n)
    y = 0.2 * np.roll(x, 10) + rng.standard_t(5, n)
    CrossCorrelation(x[:600], y[:600], 10).fit(replicates=99, seed=0)  # imports arch once
    res = CrossCorrelation(x, y, max_lag).fit(replicates=reps, seed=1)
    t_ours = _median_time(lambda: CrossCorrelation(x, y, max_lag).fit(replicates=reps, seed=1))
    t_stat = _median_time(
        lambda: CrossCorrelation(x, y, max_lag).fit(replicates=reps, seed=1, null="stationary"),
        repeats=1,
    )
    # Peer, same work: per replicate, the null scan (follower resampled alone) and the lag-CI
    # scan (pairs resampled together), each with ccf for both sides.
    peer_reps = 100  # timed on a subset, scaled to 2,000 (the loop is linear in replicates)
    idx = stationary_bootstrap_indices(n, peer_reps, 5.0, rng)
    pidx = stationary_bootstrap_indices(n, peer_reps, 21.0, rng)
    t0 = time.perf_counter()
    for r in range(peer_reps):
        for xb, yb in ((x, y[idx[r]]), (x[pidx[r]], y[pidx[r]])):
            pos = ccf(yb, xb, adjusted=True, nlags=max_lag + 1, fft=True)
            neg = ccf(xb, yb, adjusted=True, nlags=max_lag + 1, fft=True)
            _ = max(np.abs(pos).max(), np.abs(neg).max())
    t_peer = (time.perf_counter() - t0) / peer_reps * reps
    _row("xcorr n=6000 ±250, 2000 reps (multiplier)", t_ours, t_peer, f"p={res.pvalue:.4f}")
    _row("xcorr, same, stationary-bootstrap null", t_stat, t_peer)


def bench_granger(rng: np.random.Generator) -> None:
    n = 6000
    x = rng.standard_t(5, n)
    y = 0.2 * np.roll(x, 3) + rng.standard_t(5, n)
    GrangerCausality(x[:500], y[:500], 3).fit()
    t_g = _median_time(lambda: GrangerCausality(x, y, 20).fit())
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grangercausalitytests(np.column_stack([y, x]), 20)
        grangercausalitytests(np.column_stack([x, y]), 20)
    t_gp = time.perf_counter() - t0
    _row("Granger both directions, lags 1..20, n=6000", t_g, t_gp)


def _async_pair(n: int, seconds: int, rng: np.random.Generator) -> tuple[pd.Series, pd.Series]:
    path = np.cumsum(rng.standard_normal(seconds + 10)) * 1e-4
    follower_path = (
        np.concatenate([np.zeros(5), path[:-5]])
        + np.cumsum(rng.standard_normal(seconds + 10)) * 0.5e-4
    )
    start = pd.Timestamp("2026-01-19")
    tx = np.sort(rng.choice(seconds, size=n, replace=False))
    ty = np.sort(rng.choice(seconds, size=n, replace=False))
    ix = (start + pd.to_timedelta(tx, unit="s")).as_unit("ns")
    iy = (start + pd.to_timedelta(ty, unit="s")).as_unit("ns")
    return pd.Series(path[tx], index=ix), pd.Series(follower_path[ty], index=iy)


def bench_hy(rng: np.random.Generator) -> None:
    grid = pd.to_timedelta(np.arange(-500, 501), unit="s")
    x, y = _async_pair(100_000, 5 * 86_400, rng)
    HayashiYoshida(x[:1000], y[:1000], grid[:3]).fit()  # compile the kernel once
    t0 = time.perf_counter()
    res = HayashiYoshida(x, y, grid).fit()
    t_ours = time.perf_counter() - t0
    t_peer = None
    note = f"lag {res.lag_timedelta.total_seconds():+.0f} s (true +5 s)"
    try:
        from lead_lag import LeadLag
    except ImportError:
        note += "; lead-lag package not installed"
    else:
        sub = np.arange(-2, 3)  # timed on five lags, scaled to 1,001 (linear in lags)
        ll = LeadLag(x.copy(), y.copy(), max_lag=500, specific_lags=list(sub))
        t0 = time.perf_counter()
        ll.run_inference()
        t_peer = (time.perf_counter() - t0) / len(sub) * len(grid)
        theirs = np.asarray(ll.contrasts)
        ours5 = np.abs(res.contrast[498:503])
        note += f"; |ours - package| on those lags {np.max(np.abs(theirs - ours5)):.1e}"
    _row("HY 1e5 x 1e5 timestamps, 1,001 lags (1 s)", t_ours, t_peer, note)
    x6, y6 = _async_pair(1_000_000, 5 * 86_400 * 4, rng)
    t0 = time.perf_counter()
    res6 = HayashiYoshida(x6, y6, grid).fit()
    _row(
        "HY 1e6 x 1e6 timestamps, 1,001 lags",
        time.perf_counter() - t0,
        None,
        f"lag {res6.lag_timedelta.total_seconds():+.0f} s (target < 30 s)",
    )
    days = pd.bdate_range("2006-01-02", "2026-01-23")
    everyday = pd.date_range("2006-01-02", "2026-01-23")
    walk = pd.Series(np.cumsum(rng.standard_normal(len(everyday))) * 0.01, index=everyday)
    metal = walk[days]
    crypto = walk.shift(3).dropna() + np.cumsum(rng.standard_normal(len(everyday) - 3)) * 0.005
    t0 = time.perf_counter()
    resd = HayashiYoshida(
        metal, crypto, pd.to_timedelta(np.arange(-60, 61), unit="D"), lag_unit="days"
    ).fit()
    _row(
        "HY daily, 5-day vs 7-day calendars, ±60 days",
        time.perf_counter() - t0,
        None,
        f"lag {resd.lag_timedelta.days:+d} d (true +3; the package refuses daily data)",
    )


def bench_rolling(rng: np.random.Generator) -> None:
    n = 252 * 20
    idx = pd.bdate_range("2006-01-02", periods=n)
    x = pd.Series(rng.standard_t(5, n), index=idx)
    y = pd.Series(0.2 * np.roll(x.to_numpy(), 7) + rng.standard_t(5, n), index=idx)
    t0 = time.perf_counter()
    # ±120 days needs windows of 4 x 120 bars (min_obs) for a calibrated scan: two years.
    res = RollingCrossCorrelation(x, y, 120, min_obs(120)).fit(499, seed=1)
    _row(
        f"rolling: 20y daily, {min_obs(120)}-bar windows monthly, ±120",
        time.perf_counter() - t0,
        None,
        f"{len(res.table)} windows, 499 shared draws; count p {res.count_pvalue:.3f} "
        "(target < 10 s)",
    )


def main() -> int:
    """Print our time, the peer's time in the same run and the ratio, per case."""
    rng = np.random.default_rng(0)
    print(f"{'case':<44} {'havenflow':>11} {'peer':>11} {'ratio':>8}")
    bench_xcorr(rng)
    bench_granger(rng)
    bench_hy(rng)
    bench_rolling(rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
