"""Lead-lag estimators: FFT cross-correlation with a scan-adjusted null, and Granger causality.

Convention, stated in every result: a positive lag ``k`` means the leader's move at ``t`` goes
with the follower's move at ``t + k`` (the leader moves first). The unit is bars of the
calendar the series were aligned on. Inputs are returns (or changes), never price levels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "CrossCorrelation",
    "CrossCorrelationResult",
    "GrangerCausality",
    "GrangerResult",
    "RollingCrossCorrelation",
    "RollingLeadLagResult",
    "cross_correlation",
    "min_obs",
    "stationary_bootstrap_indices",
]

Seed = int | np.random.Generator | None
NullMethod = Literal["multiplier", "stationary"]


def _joined(leader: pd.Series, follower: pd.Series) -> pd.DataFrame:
    """Leader and follower on their common dates, leading/trailing gaps trimmed, none inside."""
    frame = pd.concat({"x": leader, "y": follower}, axis=1, join="inner", sort=True)
    both = frame.notna().all(axis=1).to_numpy()
    if not both.any():
        raise InsufficientDataError("leader and follower share no date with values in both")
    first, last = np.flatnonzero(both)[[0, -1]]
    frame = frame.iloc[first : last + 1]
    if frame.isna().any().any():
        gap = frame.index[frame.isna().any(axis=1).to_numpy()][0]
        raise DataValidationError(
            f"missing value inside the sample on {pd.Timestamp(gap).date()}: align the series "
            "first (havenflow.data.align) and decide how gaps are handled"
        )
    return frame


def _pair(
    leader: pd.Series | np.ndarray, follower: pd.Series | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two equally long float arrays with no missing value (leading/trailing gaps trimmed)."""
    if isinstance(leader, pd.Series) and isinstance(follower, pd.Series):
        frame = _joined(leader, follower)
        x, y = frame["x"].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float)
    else:
        x, y = np.asarray(leader, dtype=float), np.asarray(follower, dtype=float)
        if x.shape != y.shape or x.ndim != 1:
            raise DataValidationError(
                f"leader and follower must be 1-D of equal length, got {x.shape} and {y.shape}"
            )
        if np.isnan(x).any() or np.isnan(y).any():
            raise DataValidationError("leader and follower must not contain NaN")
    for name, arr in (("leader", x), ("follower", y)):
        if np.nanstd(arr) == 0:
            raise DataValidationError(f"{name} is constant: a correlation is undefined")
    return x, y


def min_obs(max_lag: int) -> int:
    """Fewest observations for a scan up to ``max_lag``: ``max(4 * max_lag, 60)``.

    Below it the scan's null is not calibrated: with ``n = 2 * max_lag + 10`` (the old floor)
    a 62-week window scanned to 26 weeks rejected 22% of independent GARCH-t pairs at 5%. At
    ``4 * max_lag`` every lag keeps at least three quarters of the sample and the sign-flip
    null has at least 20 blocks; ``benchmarks/calibration.py`` measures the size there.
    """
    return max(4 * max_lag, 60)


def scan_block_length(n: int) -> int:
    """Block length of the sign-flip null for ``n`` observations: ``round(n ** (1/3))``.

    At most ``n // 20`` (at least 20 blocks, or the sign-flip distribution is too coarse) and
    at least 1. A fixed rule rather than a data-driven one: the Politis-White estimate on the
    cross-products has a median of 2 under AR(1) returns and left the scan over-rejecting
    (8-10% at 5%), and a rule that depends only on ``n`` keeps rolling windows point in time
    (a window's blocks never depend on data after its end).
    """
    return int(min(max(round(n ** (1.0 / 3.0)), 1), max(n // 20, 1)))


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


def _ccf_fft(x_std: np.ndarray, y_std: np.ndarray, max_lag: int) -> np.ndarray:
    """corr(x_t, y_{t+k}) for k = -max_lag..max_lag, along the last axis (rows = replicates).

    Both inputs are standardised (mean 0, sd 1); each lag's sum is divided by its number of
    overlapping pairs (n - |k|), as statsmodels' ``ccf(adjusted=True)`` does.
    """
    n = x_std.shape[-1]
    nfft = 1 << int(np.ceil(np.log2(2 * n - 1)))
    fx = np.fft.rfft(x_std, nfft, axis=-1)
    fy = np.fft.rfft(y_std, nfft, axis=-1)
    full = np.fft.irfft(np.conj(fx) * fy, nfft, axis=-1)  # full[k] = sum_t x_t y_{t+k}
    lags = np.arange(-max_lag, max_lag + 1)
    out = full[..., lags % nfft]
    return np.asarray(out / (n - np.abs(lags)), dtype=float)


def _standardise(a: np.ndarray) -> np.ndarray:
    mean = a.mean(axis=-1, keepdims=True)
    sd = a.std(axis=-1, keepdims=True)
    return np.asarray((a - mean) / np.where(sd == 0, np.nan, sd), dtype=float)


@dataclass(frozen=True)
class CrossCorrelationResult:
    """Lagged cross-correlation scan with a scan-adjusted p-value.

    Attributes
    ----------
    lags, correlation
        The scanned lags (positive: the leader moves first) and corr(leader_t, follower_{t+k}).
    lower, upper
        Pointwise 95% bands of each lag's correlation under the null of no cross-dependence.
    best_lag, best_correlation
        The lag with the largest |correlation|, and that correlation.
    pvalue
        Scan-adjusted p-value: of ``max_k |t(k)|`` (each lag's correlation over its block
        standard error under the null) against its block sign-flip null, or of
        ``max_k |corr(k)|`` against a stationary-bootstrap null. Either accounts for the scan
        over all lags and for each series' own dependence and volatility clustering.
    statistic
        The scan statistic: ``max_k |t(k)|`` (multiplier) or ``max_k |corr(k)|`` (stationary).
    naive_pvalue
        The pointwise p-value of the best lag as if it had been chosen in advance (normal
        approximation, ``sqrt(n - |k|) * r``). Shown for contrast only: it ignores the scan.
    lag_ci
        95% percentile interval of the best lag (argmax of the bootstrap profiles).
    """

    leader: str
    follower: str
    lag_unit: str
    nobs: int
    lags: np.ndarray
    correlation: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    best_lag: int
    best_correlation: float
    pvalue: float
    statistic: float
    naive_pvalue: float
    lag_ci: tuple[int, int]
    replicates: int
    block_length: float
    seed: int | None
    null_method: str
    null_max: np.ndarray = field(repr=False)

    method = "xcorr"

    @property
    def null_hypothesis(self) -> str:
        """The null the p-value and the bands are computed under."""
        if self.null_method == "stationary":
            return "leader and follower independent (follower resampled by stationary bootstrap)"
        return (
            "zero correlation at every scanned lag; each series keeps its own dependence and "
            "volatility clustering, common volatility allowed (block sign-flip randomisation "
            "of the cross-products, studentised under the null)"
        )

    def to_frame(self) -> pd.DataFrame:
        """The profile: one row per lag."""
        return pd.DataFrame(
            {"correlation": self.correlation, "lower": self.lower, "upper": self.upper},
            index=pd.Index(self.lags, name="lag"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the fields of ``havenflow leadlag --json``)."""
        return {
            "leader": self.leader,
            "follower": self.follower,
            "method": self.method,
            "lag_unit": self.lag_unit,
            "lag_convention": "positive lag k: leader at t goes with follower at t+k",
            "best_lag": self.best_lag,
            "correlation": self.best_correlation,
            "p_value": self.pvalue,
            "scan_statistic": self.statistic,
            "naive_p_value": self.naive_pvalue,
            "lag_ci": list(self.lag_ci),
            "n_obs": self.nobs,
            "replicates": self.replicates,
            "block_length": self.block_length,
            "seed": self.seed,
            "null_method": self.null_method,
            "null_hypothesis": self.null_hypothesis,
            "profile": [
                {"lag": int(k), "correlation": float(c), "lower": float(lo), "upper": float(hi)}
                for k, c, lo, hi in zip(
                    self.lags, self.correlation, self.lower, self.upper, strict=True
                )
            ],
        }

    def summary(self) -> str:
        """A short text summary."""
        return (
            f"Cross-correlation, leader {self.leader} -> follower {self.follower} "
            f"({self.nobs} obs, lags {self.lags[0]}..{self.lags[-1]} {self.lag_unit}; "
            "positive lag = leader first)\n"
            f"best lag {self.best_lag:+d} (95% CI {self.lag_ci[0]:+d}..{self.lag_ci[1]:+d}), "
            f"correlation {self.best_correlation:+.3f}\n"
            f"scan-adjusted p-value {self.pvalue:.4f} ({self.replicates} {self.null_method}-"
            f"bootstrap replicates, block {self.block_length:.1f}); "
            f"naive pointwise p {self.naive_pvalue:.4f}"
        )


@dataclass(frozen=True)
class CrossCorrelation:
    """Lagged cross-correlation of a leader's and a follower's returns.

    Parameters
    ----------
    leader, follower
        Returns on one calendar (Series are joined on their index; arrays must be aligned).
    max_lag
        Lags ``-max_lag..max_lag`` are scanned.
    lag_unit
        The bars' unit, printed with every result (``business days``, ``weeks``...).
    """

    leader: pd.Series | np.ndarray
    follower: pd.Series | np.ndarray
    max_lag: int
    lag_unit: str = "bars"
    leader_name: str = "leader"
    follower_name: str = "follower"

    def __post_init__(self) -> None:
        if not isinstance(self.max_lag, int | np.integer) or self.max_lag < 1:
            raise DataValidationError(f"max_lag must be a positive int, got {self.max_lag!r}")

    @cached_property
    def _data(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = _pair(self.leader, self.follower)
        if len(x) < min_obs(self.max_lag):
            raise InsufficientDataError(
                f"{len(x)} observations are too few to scan lags up to {self.max_lag} "
                f"(need at least {min_obs(self.max_lag)})"
            )
        return x, y

    def fit(
        self,
        replicates: int = 999,
        *,
        seed: Seed = None,
        null: NullMethod = "multiplier",
        block_length: float | None = None,
        chunk: int = 250,
    ) -> CrossCorrelationResult:
        """Scan the lags and judge the best one against a scan-adjusted null.

        Parameters
        ----------
        replicates
            Bootstrap replicates for the null and for the lag interval.
        seed
            Seed or generator; the same seed gives the same result.
        null
            ``multiplier`` (default): each lag's correlation is studentised with a block
            (HAC-type) standard error of its cross-products computed under the null, and the
            distribution of the maximum |t| over all lags comes from flipping the signs of
            whole blocks of cross-products (Rademacher multipliers). Null: zero correlation at
            every scanned lag; it allows each series its own dependence, volatility
            clustering, and volatility common to both (which a resampling of one series alone
            destroys). Its size is measured on a grid of nulls by ``benchmarks/calibration.py``.
            ``stationary``: resample the follower by stationary bootstrap against the fixed
            leader (null: the two are independent); kept for comparison, it is not calibrated
            under common volatility.
        block_length
            Block length; default :func:`scan_block_length` (``n ** (1/3)``, at least 20
            blocks) for ``multiplier``; Politis-White on the follower and its square
            (``arch.bootstrap.optimal_block_length``) for ``stationary``.
        chunk
            Replicates per FFT batch of the ``stationary`` null (memory vs speed).
        """
        x, y = self._data
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        if replicates < 19:
            raise DataValidationError(f"replicates must be at least 19, got {replicates}")
        if null == "multiplier":
            out = _multiplier_scan(x, y, self.max_lag, replicates, rng, block_length)
        elif null == "stationary":
            out = _stationary_scan(x, y, self.max_lag, replicates, rng, block_length, chunk)
        else:
            raise DataValidationError(f"null must be multiplier or stationary, got {null!r}")
        lags, corr = out.lags, out.correlation
        best = int(np.argmax(np.abs(corr)))
        k = int(lags[best])
        n = len(x)
        naive_p = float(2 * stats.norm.sf(np.sqrt(n - abs(k)) * abs(corr[best])))
        ci = np.quantile(out.boot_best, [0.025, 0.975], method="nearest")
        return CrossCorrelationResult(
            leader=self.leader_name,
            follower=self.follower_name,
            lag_unit=self.lag_unit,
            nobs=n,
            lags=lags,
            correlation=corr,
            lower=out.lower,
            upper=out.upper,
            best_lag=k,
            best_correlation=float(corr[best]),
            pvalue=out.pvalue,
            statistic=out.statistic,
            naive_pvalue=naive_p,
            lag_ci=(int(ci[0]), int(ci[1])),
            replicates=replicates,
            block_length=out.block_length,
            seed=seed if isinstance(seed, int) else None,
            null_method=null,
            null_max=out.null_max,
        )


@dataclass(frozen=True)
class _Scan:
    lags: np.ndarray
    correlation: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    pvalue: float
    statistic: float
    null_max: np.ndarray
    boot_best: np.ndarray
    block_length: float


def _cross_products(xs: np.ndarray, ys: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """``z[t, j] = xs_t * ys_{t+k_j}`` for k = -L..L (zero where t + k is outside), and counts."""
    n = len(xs)
    pad = np.zeros(max_lag)
    window = np.lib.stride_tricks.sliding_window_view(
        np.concatenate([pad, ys, pad]), 2 * max_lag + 1
    )[:n]
    lags = np.arange(-max_lag, max_lag + 1)
    return xs[:, None] * window, n - np.abs(lags)


def _rademacher(rng: np.random.Generator, replicates: int, n_blocks: int) -> np.ndarray:
    """A ``(replicates, n_blocks)`` float32 matrix of random signs, eight per random byte."""
    raw = rng.integers(0, 256, size=(replicates, (n_blocks + 7) // 8), dtype=np.uint8)
    bits = np.unpackbits(raw, axis=1)[:, :n_blocks]
    return np.asarray(bits.astype(np.float32) * 2.0 - 1.0, dtype=np.float32)


def _block_signs(seed: int | None, replicates: int, n_blocks: int) -> np.ndarray:
    """Signs for blocks ``0..n_blocks-1``, block ``b`` drawn from its own child stream of ``seed``.

    Keyed by the block's position, so a shorter sample (the same series truncated at an
    earlier date) gets the same signs for the blocks it shares: every rolling window's p-value
    is reproducible as of its own end date.
    """
    root = np.random.SeedSequence(seed)
    out = np.empty((replicates, n_blocks), dtype=np.float32)
    for b, child in enumerate(root.spawn(n_blocks)):
        out[:, b] = _rademacher(np.random.default_rng(child), 1, replicates)[0]
    return out


@dataclass(frozen=True)
class _SignFlip:
    """One sample's scan under the sign-flip null (see :func:`_sign_flip_scan`)."""

    correlation: np.ndarray
    std_err: np.ndarray
    statistic: float
    null_draws: np.ndarray  # (replicates, lags): correlations under the null
    null_max: np.ndarray  # (replicates,): max |t| under the null
    perturbed: np.ndarray  # (replicates, lags): correlation + centred perturbation (lag CI)

    @property
    def pvalue(self) -> float:
        return float((1.0 + np.sum(self.null_max >= self.statistic)) / (len(self.null_max) + 1.0))


def _sign_flip_scan(
    x: np.ndarray, y: np.ndarray, max_lag: int, block_ids: np.ndarray, signs: np.ndarray
) -> _SignFlip:
    """The lag scan of one sample judged against a block sign-flip null.

    Each lag's statistic is ``t(k) = sum_t z_t(k) / sqrt(sum_b S_b(k)^2)``, with ``z_t(k)`` the
    cross-products of the standardised series and ``S_b(k)`` their sums over block ``b``: a
    self-normalised (block HAC) t-statistic whose standard error is computed under the null
    (uncentred). Flipping the sign of a block's sums is flipping the leader in that block, so
    the null draws ``sum_b e_b S_b(k)`` share the observed standard error exactly: with
    symmetric shocks independent of the follower the test is a randomisation test, whatever
    the volatility paths of either series, common volatility included. (Centring ``S_b`` on the
    observed correlation, as before, shrank the standard error of the observed statistic but
    not of the draws, and over-rejected by a factor of up to four in short windows.)

    ``block_ids[t]`` (non-decreasing) names the column of ``signs`` that flips observation
    ``t``; a rolling scan passes the ids of a grid laid on the whole series so that all its
    windows share the draws. The lag interval uses the same signs on the centred block sums
    (a wild bootstrap of the profile around the observed one).
    """
    xs, ys = _standardise(x), _standardise(y)
    lags = np.arange(-max_lag, max_lag + 1)
    corr = _ccf_fft(xs, ys, max_lag)
    z, counts = _cross_products(xs, ys, max_lag)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(block_ids)) + 1])
    sums = np.add.reduceat(z, starts, axis=0)
    shifted = np.arange(len(xs))[:, None] + lags
    valid = (shifted >= 0) & (shifted < len(xs))
    centred = np.add.reduceat(np.where(valid, z - corr, 0.0), starts, axis=0)
    se = np.sqrt((sums**2).sum(axis=0)) / counts
    if np.any(se <= 0):
        raise DataValidationError("a lag's cross-products are all zero: constant series?")
    flips = signs[:, block_ids[starts]]
    k = len(lags)
    draws = (flips @ np.hstack([sums, centred]).astype(np.float32)).astype(float) / np.tile(
        counts, 2
    )
    null_draws, perturbation = draws[:, :k], draws[:, k:]
    return _SignFlip(
        correlation=corr,
        std_err=se,
        statistic=float(np.max(np.abs(corr) / se)),
        null_draws=null_draws,
        null_max=np.max(np.abs(null_draws) / se, axis=1),
        perturbed=corr + perturbation,
    )


def _multiplier_scan(
    x: np.ndarray,
    y: np.ndarray,
    max_lag: int,
    replicates: int,
    rng: np.random.Generator,
    block_length: float | None,
) -> _Scan:
    n = len(x)
    if block_length is None:
        ell = scan_block_length(n)
    else:
        ell = int(min(max(round(block_length), 1), max(n // 20, 1)))
    block_ids = np.arange(n) // ell
    signs = _rademacher(rng, replicates, int(block_ids[-1]) + 1)
    out = _sign_flip_scan(x, y, max_lag, block_ids, signs)
    lags = np.arange(-max_lag, max_lag + 1)
    lower, upper = np.quantile(out.null_draws, [0.025, 0.975], axis=0)
    return _Scan(
        lags=lags,
        correlation=out.correlation,
        lower=lower,
        upper=upper,
        pvalue=out.pvalue,
        statistic=out.statistic,
        null_max=out.null_max,
        boot_best=lags[np.argmax(np.abs(out.perturbed), axis=1)],
        block_length=float(ell),
    )


def _stationary_scan(
    x: np.ndarray,
    y: np.ndarray,
    max_lag: int,
    replicates: int,
    rng: np.random.Generator,
    block_length: float | None,
    chunk: int,
) -> _Scan:
    from arch.bootstrap import optimal_block_length  # heavy import: only here

    n = len(x)
    xs, ys = _standardise(x), _standardise(y)
    lags = np.arange(-max_lag, max_lag + 1)
    corr = _ccf_fft(xs, ys, max_lag)
    best = int(np.argmax(np.abs(corr)))
    observed_max = float(np.abs(corr[best]))
    if block_length is None:
        pw = optimal_block_length(np.column_stack([y, y**2]))
        block_length = float(max(pw["stationary"].max(), 1.0))
    null_max = np.empty(replicates)
    null_corr = np.empty((replicates, len(lags)))
    boot_best = np.empty(replicates, dtype=int)
    # Paired blocks must be long enough to carry the relation at the best lag.
    paired_block = max(block_length, 2.0 * abs(int(lags[best])) + 1.0)
    for lo in range(0, replicates, chunk):
        hi = min(lo + chunk, replicates)
        idx = stationary_bootstrap_indices(n, hi - lo, block_length, rng)
        c = _ccf_fft(xs, _standardise(y[idx]), max_lag)  # follower resampled alone
        null_corr[lo:hi] = c
        null_max[lo:hi] = np.abs(c).max(axis=1)
        pidx = stationary_bootstrap_indices(n, hi - lo, paired_block, rng)
        # Paired resampling of (x_t, y_t) by blocks; lagged pairs survive inside blocks.
        c_pair = _ccf_fft(_standardise(x[pidx]), _standardise(y[pidx]), max_lag)
        boot_best[lo:hi] = lags[np.argmax(np.abs(c_pair), axis=1)]
    pvalue = float((1.0 + np.sum(null_max >= observed_max)) / (replicates + 1.0))
    lower, upper = np.quantile(null_corr, [0.025, 0.975], axis=0)
    return _Scan(
        lags=lags,
        correlation=corr,
        lower=lower,
        upper=upper,
        pvalue=pvalue,
        statistic=observed_max,
        null_max=null_max,
        boot_best=boot_best,
        block_length=block_length,
    )


def cross_correlation(
    leader: pd.Series, follower: pd.Series, max_lag: int, **fit_options: Any
) -> CrossCorrelationResult:
    """Shortcut for ``CrossCorrelation(leader, follower, max_lag).fit(**fit_options)``."""
    return CrossCorrelation(
        leader,
        follower,
        max_lag,
        leader_name=str(leader.name or "leader"),
        follower_name=str(follower.name or "follower"),
    ).fit(**fit_options)


@dataclass(frozen=True)
class RollingLeadLagResult:
    """The cross-correlation scan in moving windows: is the lead-lag stable, or did it come and go.

    ``to_frame()`` has one row per window, indexed by the window's last date: ``start``,
    ``n_obs``, ``best_lag``, ``correlation``, ``p_value`` (scan-adjusted, within the window),
    ``lag_low`` and ``lag_high`` (95% interval of the best lag). Each window uses data up to
    its last date only.

    Overlapping windows share most of their data, so the number of windows significant at
    ``alpha`` has no binomial null. ``count_null`` is its distribution under the null for this
    very design: every window's scan is run on the same sign-flip draws (one sign per block of
    a grid laid on the whole series), each draw's windows are judged as the observed ones are,
    and the significant windows are counted. ``count_pvalue`` is the share of draws with at
    least as many significant windows as observed.
    """

    leader: str
    follower: str
    lag_unit: str
    max_lag: int
    window: int
    step: str
    replicates: int
    seed: int | None
    table: pd.DataFrame
    block_length: int
    alpha: float
    count_null: np.ndarray = field(repr=False)

    method = "xcorr-rolling"

    @property
    def n_significant(self) -> int:
        """Windows whose scan-adjusted p-value is below ``alpha``."""
        return int((self.table["p_value"] < self.alpha).sum())

    @property
    def expected_count(self) -> float:
        """Mean number of significant windows under the null, for this design."""
        return float(self.count_null.mean()) if self.count_null.size else 0.0

    @property
    def count_interval(self) -> tuple[int, int]:
        """Central 95% range of the number of significant windows under the null."""
        if not self.count_null.size:
            return (0, 0)
        lo, hi = np.quantile(self.count_null, [0.025, 0.975], method="nearest")
        return int(lo), int(hi)

    @property
    def count_pvalue(self) -> float:
        """P-value of the observed count against its null for this design (one-sided)."""
        hits = np.sum(self.count_null >= self.n_significant)
        return float((1.0 + hits) / (self.count_null.size + 1.0))

    def to_frame(self) -> pd.DataFrame:
        """One row per window (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        rows = []
        for end, r in self.table.iterrows():
            rows.append(
                {
                    "end": pd.Timestamp(str(end)).date().isoformat(),
                    "start": pd.Timestamp(r["start"]).date().isoformat(),
                    "n_obs": int(r["n_obs"]),
                    "best_lag": int(r["best_lag"]),
                    "correlation": float(r["correlation"]),
                    "p_value": float(r["p_value"]),
                    "lag_ci": [int(r["lag_low"]), int(r["lag_high"])],
                }
            )
        lo, hi = self.count_interval
        return {
            "leader": self.leader,
            "follower": self.follower,
            "method": self.method,
            "lag_unit": self.lag_unit,
            "lag_convention": "positive lag k: leader at t goes with follower at t+k",
            "max_lag": self.max_lag,
            "window": self.window,
            "step": self.step,
            "replicates": self.replicates,
            "seed": self.seed,
            "block_length": self.block_length,
            "alpha": self.alpha,
            "n_windows": len(rows),
            "n_significant": self.n_significant,
            "n_significant_5pct": self.n_significant,
            "expected_significant": self.expected_count,
            "significant_null_range": [lo, hi],
            "count_pvalue": self.count_pvalue,
            "count_null_hypothesis": (
                "no correlation at any scanned lag in any window; the count's null comes from "
                "the same sign-flip draws applied to every window jointly"
            ),
            "windows": rows,
        }

    def summary(self) -> str:
        """Text summary."""
        t = self.table
        sig = t[t["p_value"] < self.alpha]
        lo, hi = self.count_interval
        lines = [
            f"Rolling cross-correlation, leader {self.leader} -> follower {self.follower}: "
            f"{len(t)} windows of {self.window} {self.lag_unit}, stepped {self.step}, "
            f"lags +-{self.max_lag}",
            f"windows with a scan-adjusted p < {self.alpha:g}: {len(sig)} of {len(t)}; with no "
            f"relation, these overlapping windows give {self.expected_count:.1f} on average "
            f"(95% range {lo}..{hi}); p-value of the count {self.count_pvalue:.3f}",
        ]
        if len(sig):
            lines.append(
                f"best lag in those windows: median {float(sig['best_lag'].median()):+.0f}, "
                f"range {int(sig['best_lag'].min()):+d}..{int(sig['best_lag'].max()):+d}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class RollingCrossCorrelation:
    """Cross-correlation scan with a scan-adjusted p-value in moving windows.

    Parameters
    ----------
    leader, follower
        Returns on one calendar, as Series with a DatetimeIndex.
    max_lag
        Lags ``-max_lag..max_lag``.
    window
        Bars per window; at least :func:`min_obs` of ``max_lag``.
    step
        Pandas period code: a window ends on the last bar of each period (``M``: monthly).
    """

    leader: pd.Series
    follower: pd.Series
    max_lag: int
    window: int
    step: str = "M"
    lag_unit: str = "bars"
    leader_name: str = "leader"
    follower_name: str = "follower"

    def fit(
        self,
        replicates: int = 499,
        *,
        seed: int | None = None,
        alpha: float = 0.05,
    ) -> RollingLeadLagResult:
        """Run the scan in every window, and judge the count of significant windows.

        Parameters
        ----------
        replicates
            Sign-flip draws, shared by all windows (each window's null and the count's null).
        seed
            One seed for the whole run. Block ``b`` of the grid draws its signs from child
            stream ``b``, so a window's result does not depend on data after its end.
        alpha
            Level at which a window counts as significant.
        """
        if self.window < min_obs(self.max_lag):
            raise InsufficientDataError(
                f"a window of {self.window} bars is too short for lags up to {self.max_lag} "
                f"(need at least {min_obs(self.max_lag)}): lower the lag or widen the window"
            )
        if not 0 < alpha < 1:
            raise DataValidationError(f"alpha must be in (0, 1), got {alpha!r}")
        if replicates < 19:
            raise DataValidationError(f"replicates must be at least 19, got {replicates}")
        if not isinstance(self.leader, pd.Series) or not isinstance(self.follower, pd.Series):
            raise DataValidationError("rolling lead-lag needs Series with a DatetimeIndex")
        frame = _joined(self.leader, self.follower)
        if len(frame) < self.window:
            raise InsufficientDataError(
                f"{len(frame)} common observations are fewer than one window ({self.window})"
            )
        index = pd.DatetimeIndex(frame.index)
        try:
            periods = index.to_period(self.step)
        except (ValueError, TypeError) as exc:
            raise DataValidationError(
                f"step must be a period code (M, W, Q), got {self.step!r}"
            ) from exc
        ends = pd.Series(np.arange(len(index))).groupby(np.asarray(periods)).max().to_numpy()
        ends = ends[ends >= self.window - 1]
        ell = scan_block_length(self.window)
        # One grid of blocks over the whole series: every window flips the same blocks with the
        # same signs, so the windows' null statistics are jointly distributed as the observed.
        block_ids = np.arange(len(index)) // ell
        signs = _block_signs(seed, replicates, int(block_ids[-1]) + 1)
        x_all = frame["x"].to_numpy(dtype=float)
        y_all = frame["y"].to_numpy(dtype=float)
        lags = np.arange(-self.max_lag, self.max_lag + 1)
        records = []
        null_significant = []
        for end in ends:
            lo = end - self.window + 1
            x, y = x_all[lo : end + 1], y_all[lo : end + 1]
            if np.std(x) == 0 or np.std(y) == 0:
                continue  # a flat window (a market closed for a year) has no correlation
            out = _sign_flip_scan(x, y, self.max_lag, block_ids[lo : end + 1], signs)
            best = int(np.argmax(np.abs(out.correlation)))
            ci = np.quantile(
                lags[np.argmax(np.abs(out.perturbed), axis=1)], [0.025, 0.975], method="nearest"
            )
            records.append(
                {
                    "end": index[end],
                    "start": index[lo],
                    "n_obs": len(x),
                    "best_lag": int(lags[best]),
                    "correlation": float(out.correlation[best]),
                    "p_value": out.pvalue,
                    "lag_low": int(ci[0]),
                    "lag_high": int(ci[1]),
                }
            )
            null_significant.append(_null_pvalues(out.null_max, out.statistic) < alpha)
        table = pd.DataFrame.from_records(
            records,
            columns=[
                "end",
                "start",
                "n_obs",
                "best_lag",
                "correlation",
                "p_value",
                "lag_low",
                "lag_high",
            ],
        ).set_index("end")
        count_null = (
            np.sum(null_significant, axis=0) if null_significant else np.zeros(0, dtype=int)
        )
        return RollingLeadLagResult(
            leader=self.leader_name,
            follower=self.follower_name,
            lag_unit=self.lag_unit,
            max_lag=self.max_lag,
            window=self.window,
            step=self.step,
            replicates=replicates,
            seed=seed,
            table=table,
            block_length=ell,
            alpha=alpha,
            count_null=np.asarray(count_null, dtype=int),
        )


def _null_pvalues(null_max: np.ndarray, observed: float) -> np.ndarray:
    """Each draw's p-value as the observed one is computed, the observed standing in for it.

    Under the null the observed statistic and the ``R`` draws are exchangeable; draw ``r`` is
    ranked among the other ``R - 1`` draws and the observed one, with the same ``(1 + #>=) /
    (R + 1)`` formula, so a draw's p-value has exactly the observed p-value's null law.
    """
    r = len(null_max)
    order = np.sort(null_max)
    # draws >= each draw (itself included), then drop itself and add the observed.
    at_least = r - np.searchsorted(order, null_max, side="left")
    return np.asarray((at_least - 1 + (observed >= null_max) + 1.0) / (r + 1.0), dtype=float)


# ---- Granger causality --------------------------------------------------------------------

CovType = Literal["classical", "HC0", "HC1", "HC3", "HAC"]


@dataclass(frozen=True)
class GrangerResult:
    """Granger-causality tests in both directions.

    ``to_frame()`` has one row per (direction, lag): ``statistic`` (F), ``df_num``, ``df_denom``,
    ``pvalue``. Classical F equals statsmodels' ``ssr_ftest``; robust versions are Wald tests with
    an HC or HAC covariance, reported as F = W / df_num.
    """

    leader: str
    follower: str
    lag_unit: str
    cov_type: str
    rows: tuple[dict[str, Any], ...]
    selected_lag: int | None = None
    criterion: str | None = None

    null_hypothesis = "the causing series' lags add nothing to the caused series' own lags"

    def to_frame(self) -> pd.DataFrame:
        """One row per direction and lag."""
        return pd.DataFrame(list(self.rows))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict.

        The headline is the ``leader -> follower`` test: at the selected lag, or at the lag
        with the smallest p-value when several were tested (that minimum is not adjusted for
        the choice: read every row in ``tests``).
        """
        forward = [r for r in self.rows if r["direction"] == f"{self.leader} -> {self.follower}"]
        head = min(forward, key=lambda r: r["pvalue"])
        return {
            "leader": self.leader,
            "follower": self.follower,
            "method": "granger",
            "lag_unit": self.lag_unit,
            "lag_convention": "lag k: the causing series' values up to t-k enter the regression",
            "cov_type": self.cov_type,
            "selected_lag": self.selected_lag,
            "criterion": self.criterion,
            "null_hypothesis": self.null_hypothesis,
            "direction": head["direction"],
            "best_lag": head["lag"],
            "statistic": head["statistic"],
            "df": [head["df_num"], head["df_denom"]],
            "p_value": head["pvalue"],
            "correlation": None,
            "lag_ci": None,
            "n_obs": head["nobs"],
            "profile": [
                {"lag": r["lag"], "statistic": r["statistic"], "p_value": r["pvalue"]}
                for r in forward
            ],
            "tests": [dict(r) for r in self.rows],
        }

    def summary(self) -> str:
        """Text summary."""
        lines = [f"Granger causality ({self.cov_type} covariance; lags in {self.lag_unit})"]
        for r in self.rows:
            lines.append(
                f"  {r['direction']:<32} lag {r['lag']:>3}  F = {r['statistic']:.4f}  "
                f"df = ({r['df_num']}, {r['df_denom']})  p = {r['pvalue']:.4g}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class GrangerCausality:
    """Granger causality between a leader and a follower, both directions.

    Parameters
    ----------
    leader, follower
        Returns on one calendar.
    lags
        A maximum lag (every lag 1..max is tested), or an explicit set of lags.
    """

    leader: pd.Series | np.ndarray
    follower: pd.Series | np.ndarray
    lags: int | Sequence[int]
    lag_unit: str = "bars"
    leader_name: str = "leader"
    follower_name: str = "follower"

    def _lag_list(self) -> list[int]:
        lags = (
            list(range(1, self.lags + 1))
            if isinstance(self.lags, int | np.integer)
            else list(self.lags)
        )
        if not lags or any((not isinstance(k, int | np.integer)) or k < 1 for k in lags):
            raise DataValidationError(
                f"lags must be a positive int or a list of positive ints, got {self.lags!r}"
            )
        return sorted({int(k) for k in lags})

    def fit(
        self,
        cov_type: CovType = "classical",
        *,
        select: Literal["aic", "bic"] | None = None,
        hac_maxlags: int | None = None,
        hac_adjust: bool = False,
    ) -> GrangerResult:
        """Run the tests.

        Parameters
        ----------
        cov_type
            ``classical`` (the textbook F test, as statsmodels and R's ``lmtest::grangertest``),
            ``HC0``/``HC1``/``HC3`` (heteroskedasticity-robust Wald) or ``HAC`` (Newey-West).
        select
            Choose one lag by ``aic`` or ``bic`` of the unrestricted regression, on a common
            sample, and test only that lag.
        hac_maxlags
            Newey-West truncation for ``HAC`` (default ``floor(4 (n/100)^(2/9))``).
        hac_adjust
            Scale the ``HAC`` covariance by ``n / (n - k)`` (``k`` regressors): R's
            ``sandwich::NeweyWest(adjust = TRUE)``, statsmodels' ``use_correction=True``.
        """
        x, y = _pair(self.leader, self.follower)
        lags = self._lag_list()
        max_lag = max(lags)
        n = len(x)
        if n < 3 * max_lag + 10:
            raise InsufficientDataError(f"{n} observations are too few for {max_lag} lags")
        chosen: dict[str, int] = {}
        if select is not None:
            for direction, (caused, causing) in self._directions(x, y).items():
                chosen[direction] = _select_lag(caused, causing, lags, select)
        rows: list[dict[str, Any]] = []
        for direction, (caused, causing) in self._directions(x, y).items():
            test_lags = [chosen[direction]] if select is not None else lags
            for row in _granger_direction(
                caused, causing, test_lags, cov_type, hac_maxlags, hac_adjust
            ):
                rows.append({"direction": direction, **row})
        return GrangerResult(
            leader=self.leader_name,
            follower=self.follower_name,
            lag_unit=self.lag_unit,
            cov_type=cov_type,
            rows=tuple(rows),
            selected_lag=None
            if select is None
            else chosen[f"{self.leader_name} -> {self.follower_name}"],
            criterion=select,
        )

    def _directions(self, x: np.ndarray, y: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {
            f"{self.leader_name} -> {self.follower_name}": (y, x),
            f"{self.follower_name} -> {self.leader_name}": (x, y),
        }


def _design(caused: np.ndarray, causing: np.ndarray, max_lag: int) -> np.ndarray:
    """Columns: 1, caused lags 1..L, causing lags 1..L, caused (the target); rows are dates t.

    Lags not yet defined (t < j) are zero: a lag-k regression uses only rows t >= k and
    columns j <= k, where every value is defined.
    """
    n = len(caused)
    out = np.zeros((n, 2 * max_lag + 2))
    out[:, 0] = 1.0
    for j in range(1, max_lag + 1):
        out[j:, j] = caused[:-j]
        out[j:, max_lag + j] = causing[:-j]
    out[:, -1] = caused
    return out


def _granger_direction(
    caused: np.ndarray,
    causing: np.ndarray,
    lags: list[int],
    cov_type: str,
    hac_maxlags: int | None,
    hac_adjust: bool = False,
) -> list[dict[str, Any]]:
    """Granger tests of ``causing -> caused`` at each lag, from one design matrix.

    statsmodels' convention is kept: the test at lag k uses rows k..n-1 (its own sample). The
    cross-product matrix of rows k..n-1 is that of rows L..n-1 plus rows k..L-1, so every lag's
    restricted and unrestricted fits come from one Gram matrix updated row by row (nested least
    squares on the normal equations; the inputs are standardised first, which leaves every
    statistic unchanged and keeps the normal equations well conditioned).
    """
    caused = (caused - caused.mean()) / caused.std()
    causing = (causing - causing.mean()) / causing.std()
    max_lag = max(lags)
    z = _design(caused, causing, max_lag)
    gram = z[max_lag:].T @ z[max_lag:]
    grams: dict[int, np.ndarray] = {}
    for k in range(max_lag, 0, -1):
        if k < max_lag:
            gram = gram + np.outer(z[k], z[k])
        if k in lags:
            grams[k] = gram.copy()
    rows: list[dict[str, Any]] = []
    target = z.shape[1] - 1
    for k in lags:
        g = grams[k]
        nobs = len(caused) - k
        restricted = list(range(k + 1))
        unrestricted = restricted + list(range(max_lag + 1, max_lag + k + 1))
        df_denom = nobs - len(unrestricted)
        beta_u, ssr_u = _normal_equations(g, unrestricted, target)
        if cov_type == "classical":
            _, ssr_r = _normal_equations(g, restricted, target)
            fstat = (ssr_r - ssr_u) / ssr_u * df_denom / k
        else:
            xm = z[k:, unrestricted]
            resid = z[k:, target] - xm @ beta_u
            cov = _robust_cov(xm, resid, cov_type, hac_maxlags, hac_adjust=hac_adjust)
            b, v = beta_u[-k:], cov[-k:, -k:]
            fstat = float(b @ np.linalg.solve(v, b)) / k
        rows.append(
            {
                "lag": k,
                "statistic": float(fstat),
                "df_num": k,
                "df_denom": int(df_denom),
                "pvalue": float(stats.f.sf(fstat, k, df_denom)),
                "nobs": nobs,
            }
        )
    return rows


def _normal_equations(gram: np.ndarray, cols: list[int], target: int) -> tuple[np.ndarray, float]:
    """Least-squares coefficients and residual sum of squares from a cross-product matrix."""
    xtx = gram[np.ix_(cols, cols)]
    xty = gram[cols, target]
    beta = np.linalg.solve(xtx, xty)
    return beta, float(gram[target, target] - xty @ beta)


def _robust_cov(
    xm: np.ndarray,
    resid: np.ndarray,
    cov_type: str,
    hac_maxlags: int | None,
    *,
    hac_adjust: bool = False,
) -> np.ndarray:
    n, p = xm.shape
    bread = np.linalg.inv(xm.T @ xm)
    if cov_type in {"HC0", "HC1"}:
        meat = (xm * resid[:, None] ** 2).T @ xm
        scale = n / (n - p) if cov_type == "HC1" else 1.0
        return np.asarray(scale * bread @ meat @ bread, dtype=float)
    if cov_type == "HC3":
        h = np.einsum("ij,jk,ik->i", xm, bread, xm)
        u = resid / (1.0 - h)
        return np.asarray(bread @ ((xm * u[:, None] ** 2).T @ xm) @ bread, dtype=float)
    if cov_type == "HAC":
        maxlags = (
            hac_maxlags if hac_maxlags is not None else int(np.floor(4 * (n / 100) ** (2 / 9)))
        )
        scores = xm * resid[:, None]
        meat = scores.T @ scores
        for lag in range(1, maxlags + 1):
            w = 1.0 - lag / (maxlags + 1.0)  # Bartlett kernel
            gamma = scores[lag:].T @ scores[:-lag]
            meat += w * (gamma + gamma.T)
        if hac_adjust:  # sandwich::NeweyWest(adjust = TRUE): n / (n - k)
            meat *= n / (n - p)
        return np.asarray(bread @ meat @ bread, dtype=float)
    raise DataValidationError(f"cov_type must be classical, HC0, HC1, HC3 or HAC, got {cov_type!r}")


def _select_lag(caused: np.ndarray, causing: np.ndarray, lags: list[int], criterion: str) -> int:
    """The lag minimising AIC or BIC of the unrestricted regression on a common sample."""
    max_lag = max(lags)
    z = _design(caused, causing, max_lag)[max_lag:]
    gram = z.T @ z
    nobs = len(z)
    target = z.shape[1] - 1
    penalty = 2.0 if criterion == "aic" else float(np.log(nobs))
    best, best_ic = lags[0], np.inf
    for k in lags:
        cols = list(range(k + 1)) + list(range(max_lag + 1, max_lag + k + 1))
        _, ssr = _normal_equations(gram, cols, target)
        ic = nobs * np.log(ssr / nobs) + penalty * len(cols)
        if ic < best_ic:
            best, best_ic = k, ic
    return best
