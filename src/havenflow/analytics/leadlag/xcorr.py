"""Cross-correlation scan with a scan-adjusted null (block sign-flip randomisation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from havenflow.analytics.leadlag._common import (
    NullMethod,
    Seed,
    _ccf_fft,
    _pair,
    _standardise,
    min_obs,
    scan_block_length,
)
from havenflow.analytics.resample import stationary_bootstrap_indices
from havenflow.analytics.results import NO_JSON, Result
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = ["CrossCorrelation", "CrossCorrelationResult", "cross_correlation"]


@dataclass(frozen=True)
class CrossCorrelationResult(Result):
    """Lagged cross-correlation scan with a scan-adjusted p-value.

    Attributes
    ----------
    leader, follower, lag_unit
        Who leads whom in the test, and the unit of every lag (bars of the aligned calendar).
    nobs
        Observations in the sample.
    lag, correlation
        The lag with the largest |correlation| (signed: positive means the leader moves
        first) and corr(leader_t, follower_{t+lag}) there.
    pvalue
        Scan-adjusted p-value: of ``stat = max_k |t(k)|`` (each lag's correlation over its
        block standard error under the null) against its block sign-flip null, or of
        ``max_k |corr(k)|`` against a stationary-bootstrap null. Either accounts for the scan
        over all lags and for each series' own dependence and volatility clustering.
    naive_pvalue
        The pointwise p-value of the best lag as if it had been chosen in advance (normal
        approximation, ``sqrt(n - |k|) * r``). Shown for contrast only: it ignores the scan.
    lag_conf_int
        95% interval of the best lag (see :meth:`conf_int` for other levels).
    lags, profile_correlation, null_lower, null_upper
        The profile over every scanned lag, with pointwise 95% bands under the null.
    """

    leader: str
    follower: str
    lag_unit: str
    nobs: int
    lag: int
    correlation: float
    pvalue: float
    stat: float
    naive_pvalue: float
    lag_conf_int: tuple[int, int]
    replicates: int
    block_length: float
    seed: int | None
    null_method: str
    lags: np.ndarray = field(metadata=NO_JSON, repr=False)
    profile_correlation: np.ndarray = field(metadata=NO_JSON, repr=False)
    null_lower: np.ndarray = field(metadata=NO_JSON, repr=False)
    null_upper: np.ndarray = field(metadata=NO_JSON, repr=False)
    null_max: np.ndarray = field(metadata=NO_JSON, repr=False)
    boot_lags: np.ndarray = field(metadata=NO_JSON, repr=False)

    kind = "xcorr"
    method = "xcorr"
    _derived = ("method", "lag_convention", "null_hypothesis", "profile")

    @property
    def lag_convention(self) -> str:
        """How to read ``lag``."""
        return f"positive lag k ({self.lag_unit}): leader at t goes with follower at t+k"

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

    @property
    def profile(self) -> list[dict[str, float]]:
        """One row per lag: ``lag``, ``correlation``, null band ``lower``/``upper``."""
        return [
            {"lag": int(k), "correlation": float(c), "lower": float(lo), "upper": float(hi)}
            for k, c, lo, hi in zip(
                self.lags, self.profile_correlation, self.null_lower, self.null_upper, strict=True
            )
        ]

    def conf_int(self, alpha: float = 0.05) -> tuple[int, int]:
        """``1 - alpha`` interval of the best lag (percentiles of the bootstrap argmax)."""
        if not 0 < alpha < 1:
            raise DataValidationError(f"alpha must be in (0, 1), got {alpha!r}")
        lo, hi = np.quantile(self.boot_lags, [alpha / 2, 1 - alpha / 2], method="nearest")
        return int(lo), int(hi)

    def to_frame(self) -> pd.DataFrame:
        """The profile: one row per lag (positive: the leader moves first)."""
        return pd.DataFrame(
            {
                "correlation": self.profile_correlation,
                "null_lower": self.null_lower,
                "null_upper": self.null_upper,
            },
            index=pd.Index(self.lags, name=f"lag ({self.lag_unit})"),
        )

    def _summary_text(self) -> str:
        lo, hi = self.lag_conf_int
        return (
            f"Cross-correlation, leader {self.leader} -> follower {self.follower} "
            f"({self.nobs} obs, lags {self.lags[0]}..{self.lags[-1]} {self.lag_unit}; "
            "positive lag = leader first)\n"
            f"best lag {self.lag:+d} {self.lag_unit} (95% CI {lo:+d}..{hi:+d}), "
            f"correlation {self.correlation:+.3f}\n"
            f"scan-adjusted p-value {self.pvalue:.4f} ({self.replicates} "
            f"{'sign-flip' if self.null_method == 'multiplier' else 'stationary-bootstrap'} "
            f"draws, block {self.block_length:.0f}); naive pointwise p {self.naive_pvalue:.4f}"
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
            lag=k,
            correlation=float(corr[best]),
            pvalue=out.pvalue,
            stat=out.statistic,
            naive_pvalue=naive_p,
            lag_conf_int=(int(ci[0]), int(ci[1])),
            replicates=replicates,
            block_length=out.block_length,
            seed=seed if isinstance(seed, int) else None,
            null_method=null,
            lags=lags,
            profile_correlation=corr,
            null_lower=out.lower,
            null_upper=out.upper,
            null_max=out.null_max,
            boot_lags=np.asarray(out.boot_best),
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
