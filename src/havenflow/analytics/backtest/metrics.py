"""Performance metrics, their bootstrap intervals, and the corrections for having searched.

Definitions (equal to empyrical-reloaded's on the same return series and annualisation to
1e-8, tested against numbers it computed: ``tests/reference/make_backtest_reference.py``):

- ``cagr``: ending value to the power one over the years elapsed, minus one. Years are
  calendar days over 365.25 (empyrical counts bars over a fixed 252; the same once
  ``annualization`` is the bars per year observed here).
- ``volatility``: standard deviation of bar returns (ddof 1) times the square root of the
  bars per year *observed on the strategy's own calendar* (about 365 for Bitcoin, 252 for a
  metal; quantstats and empyrical default to 252 for everything).
- ``sharpe``: mean over standard deviation of the bar returns in excess of cash (the policy
  rate the strategy could have earned), annualised the same way.
- ``sortino``: annualised mean excess return over the annualised downside deviation (root
  mean square of the negative excess returns, zeros counted), as empyrical.
- ``max_drawdown``: the deepest fall of the value from its running peak (the starting value
  counts as a peak), with the peak, trough and recovery dates; ``calmar``: CAGR over it.

The deflated Sharpe ratio follows Bailey and Lopez de Prado (2014, *Journal of Portfolio
Management* 40(5)); the probability of backtest overfitting, their combinatorially
symmetric cross-validation (Bailey, Borwein, Lopez de Prado and Zhu, 2017, *Journal of
Computational Finance* 20(4)).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from havenflow.analytics.resample import stationary_bootstrap_indices
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "EULER_GAMMA",
    "Drawdown",
    "bars_per_year",
    "cagr",
    "deflated_sharpe",
    "expected_max_sharpe",
    "max_drawdown",
    "pbo_cscv",
    "sharpe",
    "sharpe_conf_int",
    "sortino",
    "volatility",
]

EULER_GAMMA = 0.5772156649015329


@dataclass(frozen=True)
class Drawdown:
    """The deepest fall from a running peak: its depth (negative) and dates."""

    depth: float
    peak: pd.Timestamp | None
    trough: pd.Timestamp | None
    recovery: pd.Timestamp | None


def bars_per_year(index: pd.DatetimeIndex) -> float:
    """Bars per year observed on ``index``: returns over calendar years elapsed."""
    if len(index) < 2:
        raise InsufficientDataError("annualising needs at least two dates")
    days = (index[-1] - index[0]).days
    return (len(index) - 1) / (days / 365.25)


def cagr(values: pd.Series) -> float:
    """Compound annual growth of ``values`` (a value path, first to last) per calendar year."""
    years = (values.index[-1] - values.index[0]).days / 365.25
    return float((values.iloc[-1] / values.iloc[0]) ** (1.0 / years) - 1.0)


def volatility(returns: np.ndarray, periods: float) -> float:
    """Annualised standard deviation (ddof 1)."""
    return float(np.std(returns, ddof=1) * math.sqrt(periods))


def sharpe(excess: np.ndarray, periods: float) -> float:
    """Annualised Sharpe ratio of excess returns (NaN when they do not vary)."""
    sd = np.std(excess, ddof=1)
    return float(np.mean(excess) / sd * math.sqrt(periods)) if sd > 0 else math.nan


def sortino(excess: np.ndarray, periods: float) -> float:
    """Annualised Sortino ratio of excess returns (target 0), empyrical's definition."""
    down = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    return float(np.mean(excess) / down * math.sqrt(periods)) if down > 0 else math.nan


def max_drawdown(values: pd.Series) -> Drawdown:
    """The deepest drawdown of a value path, its peak, trough and recovery (None if not yet)."""
    v = values.to_numpy(dtype=float)
    peak = np.maximum.accumulate(v)
    dd = v / peak - 1.0
    trough_i = int(np.argmin(dd))
    if dd[trough_i] >= 0:
        return Drawdown(0.0, None, None, None)
    peak_i = int(np.argmax(v[: trough_i + 1]))
    after = np.nonzero(v[trough_i:] >= v[peak_i])[0]
    recovery = values.index[trough_i + int(after[0])] if after.size else None
    return Drawdown(float(dd[trough_i]), values.index[peak_i], values.index[trough_i], recovery)


def sharpe_conf_int(
    excess: np.ndarray,
    periods: float,
    *,
    alpha: float = 0.05,
    replicates: int = 999,
    mean_block: float | None = None,
    seed: int | None = 0,
) -> tuple[float, float]:
    """Percentile interval of the annualised Sharpe ratio by the stationary block bootstrap.

    Blocks (mean length ``mean_block``, by default ``n ** (1/3)`` and at least 5 bars) keep
    volatility clustering and short-run dependence in each resample, which an i.i.d.
    bootstrap or the normal formula would ignore.
    """
    n = len(excess)
    if n < 20:
        raise InsufficientDataError(f"a Sharpe interval needs at least 20 returns, got {n}")
    block = mean_block if mean_block is not None else max(5.0, n ** (1.0 / 3.0))
    rng = np.random.default_rng(seed)
    draws = np.empty(replicates)
    # In chunks, so 999 resamples of 3,000 days never hold more than ~25 MB of indices.
    chunk = max(1, 1_000_000 // n)
    done = 0
    while done < replicates:
        k = min(chunk, replicates - done)
        idx = stationary_bootstrap_indices(n, k, block, rng)
        x = excess[idx]
        sd = x.std(axis=1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            draws[done : done + k] = np.where(sd > 0, x.mean(axis=1) / sd, np.nan)
        done += k
    draws = draws[np.isfinite(draws)] * math.sqrt(periods)
    if draws.size < replicates / 2:
        return math.nan, math.nan  # the returns hardly vary: no Sharpe ratio to bound
    lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """Expected largest of ``n_trials`` Sharpe ratios that are all truly zero.

    Bailey and Lopez de Prado's approximation: ``sqrt(V) * ((1 - g) * z(1 - 1/N) +
    g * z(1 - 1/(N e)))`` with ``g`` Euler's constant and ``V`` the variance of the trials'
    Sharpe ratios (same units as the Sharpe ratio tested). One trial: 0.
    """
    if n_trials < 1:
        raise DataValidationError("the number of trials must be at least 1")
    if n_trials == 1:
        return 0.0
    z = stats.norm.ppf
    return math.sqrt(sharpe_variance) * float(
        (1 - EULER_GAMMA) * z(1 - 1 / n_trials) + EULER_GAMMA * z(1 - 1 / (n_trials * math.e))
    )


def deflated_sharpe(
    returns: np.ndarray, n_trials: int, sharpe_variance: float
) -> tuple[float, float, float]:
    """Deflated Sharpe ratio of the chosen strategy's per-bar (excess) returns.

    Parameters
    ----------
    returns
        The chosen strategy's bar returns (not annualised).
    n_trials
        How many configurations were tried (the chosen one among them).
    sharpe_variance
        Variance across the trials of their per-bar Sharpe ratios.

    Returns
    -------
    (dsr, sharpe_per_bar, benchmark_per_bar)
        ``dsr`` is the probability that the true Sharpe ratio exceeds the best one expected
        from ``n_trials`` skill-less trials, given the sample's length, skewness and
        kurtosis (their probabilistic Sharpe ratio against that benchmark). With one trial
        it is the probabilistic Sharpe ratio against zero.
    """
    r = np.asarray(returns, dtype=float)
    n = len(r)
    if n < 20:
        raise InsufficientDataError(f"a deflated Sharpe ratio needs at least 20 returns, got {n}")
    sd = r.std(ddof=1)
    if not sd > 0:
        return math.nan, math.nan, math.nan
    sr = float(r.mean() / sd)
    skew = float(stats.skew(r))
    kurt = float(stats.kurtosis(r, fisher=False))
    sr0 = expected_max_sharpe(n_trials, sharpe_variance)
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2
    if not denom > 0:
        return math.nan, sr, sr0
    z = (sr - sr0) * math.sqrt(n - 1) / math.sqrt(denom)
    return float(stats.norm.cdf(z)), sr, sr0


def pbo_cscv(trial_returns: np.ndarray, n_blocks: int = 16) -> tuple[float, np.ndarray]:
    """Probability of backtest overfitting by combinatorially symmetric cross-validation.

    The ``(bars, trials)`` matrix is cut into ``n_blocks`` contiguous blocks; for every way
    of choosing half of them as the in-sample set, the trial with the best in-sample Sharpe
    ratio is ranked among all trials out of sample (the other half). PBO is the share of
    splits in which it ranks at or below the median (logit of its relative rank <= 0).

    Returns
    -------
    (pbo, logits)
        The probability and the logit of each split's relative out-of-sample rank.
    """
    m = np.asarray(trial_returns, dtype=float)
    n_bars, n_trials = m.shape
    if n_trials < 2:
        raise DataValidationError("PBO needs at least two trials")
    if n_blocks < 2 or n_blocks % 2:
        raise DataValidationError("PBO needs an even number of blocks (at least 2)")
    if n_bars < 2 * n_blocks:
        raise InsufficientDataError(f"PBO with {n_blocks} blocks needs {2 * n_blocks}+ bars")
    edges = np.linspace(0, n_bars, n_blocks + 1).astype(int)
    s1 = np.add.reduceat(m, edges[:-1], axis=0)
    s2 = np.add.reduceat(m * m, edges[:-1], axis=0)
    cnt = np.diff(edges).astype(float)
    combos = np.array(list(itertools.combinations(range(n_blocks), n_blocks // 2)))
    pick = np.zeros((len(combos), n_blocks))
    np.put_along_axis(pick, combos, 1.0, axis=1)

    def _sr(sel: np.ndarray) -> np.ndarray:
        n = sel @ cnt
        mean = (sel @ s1) / n[:, None]
        var = ((sel @ s2) - n[:, None] * mean**2) / (n[:, None] - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(var > 0, mean / np.sqrt(np.maximum(var, 0)), -np.inf)

    sr_in, sr_out = _sr(pick), _sr(1.0 - pick)
    # A split in which no trial varies in sample chooses nothing: it is left out.
    usable = np.isfinite(sr_in).any(axis=1)
    if not usable.any():
        return math.nan, np.array([])
    sr_in, sr_out = sr_in[usable], sr_out[usable]
    best = np.argmax(sr_in, axis=1)
    chosen = sr_out[np.arange(len(best)), best]
    # Relative rank in (0, 1) with ties at their mid-rank (trials that never invest tie at
    # -inf; counting them all above the chosen one would call a tie overfitting).
    below = (sr_out < chosen[:, None]).sum(axis=1)
    ties = (sr_out == chosen[:, None]).sum(axis=1)
    rank = below + (ties + 1) / 2.0
    omega = rank / (n_trials + 1.0)
    logits = np.log(omega / (1.0 - omega))
    return float(np.mean(logits <= 0)), logits
