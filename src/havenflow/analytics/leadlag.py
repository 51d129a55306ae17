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
    "cross_correlation",
    "stationary_bootstrap_indices",
]

Seed = int | np.random.Generator | None


def _pair(
    leader: pd.Series | np.ndarray, follower: pd.Series | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two equally long float arrays with no missing value (leading/trailing gaps trimmed)."""
    if isinstance(leader, pd.Series) and isinstance(follower, pd.Series):
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
        P-value of ``max_k |corr(k)|`` against its bootstrap null distribution: accounts for the
        scan over all lags and for each series' own dependence and volatility clustering.
    naive_pvalue
        The pointwise p-value of the best lag as if it had been chosen in advance (normal
        approximation, ``sqrt(n - |k|) * r``). Shown for contrast only: it ignores the scan.
    lag_ci
        95% percentile interval of the best lag under a paired stationary bootstrap.
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
    naive_pvalue: float
    lag_ci: tuple[int, int]
    replicates: int
    block_length: float
    seed: int | None
    null_max: np.ndarray = field(repr=False)

    method = "xcorr"
    null_hypothesis = (
        "no cross-correlation at any scanned lag (each series keeps its own dependence)"
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
            "naive_p_value": self.naive_pvalue,
            "lag_ci": list(self.lag_ci),
            "n_obs": self.nobs,
            "replicates": self.replicates,
            "block_length": self.block_length,
            "seed": self.seed,
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
            f"scan-adjusted p-value {self.pvalue:.4f} ({self.replicates} stationary-bootstrap "
            f"replicates, mean block {self.block_length:.1f}); "
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
        if len(x) < 4 * self.max_lag + 20:
            raise InsufficientDataError(
                f"{len(x)} observations are too few to scan lags up to {self.max_lag} "
                f"(need at least {4 * self.max_lag + 20})"
            )
        return x, y

    def fit(
        self,
        replicates: int = 999,
        *,
        seed: Seed = None,
        block_length: float | None = None,
        chunk: int = 250,
    ) -> CrossCorrelationResult:
        """Scan the lags and compute the scan-adjusted null by stationary bootstrap.

        Parameters
        ----------
        replicates
            Bootstrap replicates for the null and for the lag interval.
        seed
            Seed or generator; the same seed gives the same result.
        block_length
            Mean block length; default: Politis-White (``arch.bootstrap.optimal_block_length``)
            of the follower and of the squared follower (volatility clustering), whichever is
            longer.
        chunk
            Replicates per FFT batch (memory vs speed).
        """
        from arch.bootstrap import optimal_block_length  # heavy import: only here

        x, y = self._data
        n = len(x)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        xs, ys = _standardise(x), _standardise(y)
        lags = np.arange(-self.max_lag, self.max_lag + 1)
        corr = _ccf_fft(xs, ys, self.max_lag)
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
            c = _ccf_fft(xs, _standardise(y[idx]), self.max_lag)  # follower resampled alone
            null_corr[lo:hi] = c
            null_max[lo:hi] = np.abs(c).max(axis=1)
            pidx = stationary_bootstrap_indices(n, hi - lo, paired_block, rng)
            # Paired resampling of (x_t, y_t) by blocks; lagged pairs survive inside blocks.
            xp = _standardise(x[pidx])
            yp = _standardise(y[pidx])
            boot_best[lo:hi] = lags[np.argmax(np.abs(_ccf_fft(xp, yp, self.max_lag)), axis=1)]
        pvalue = (1.0 + np.sum(null_max >= observed_max)) / (replicates + 1.0)
        k = int(lags[best])
        naive_z = np.sqrt(n - abs(k)) * abs(corr[best])
        naive_p = float(2 * stats.norm.sf(naive_z))
        lower, upper = np.quantile(null_corr, [0.025, 0.975], axis=0)
        ci = np.quantile(boot_best, [0.025, 0.975], method="nearest")
        return CrossCorrelationResult(
            leader=self.leader_name,
            follower=self.follower_name,
            lag_unit=self.lag_unit,
            nobs=n,
            lags=lags,
            correlation=corr,
            lower=lower,
            upper=upper,
            best_lag=k,
            best_correlation=float(corr[best]),
            pvalue=float(pvalue),
            naive_pvalue=naive_p,
            lag_ci=(int(ci[0]), int(ci[1])),
            replicates=replicates,
            block_length=block_length,
            seed=seed if isinstance(seed, int) else None,
            null_max=null_max,
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
        """JSON-ready dict."""
        return {
            "leader": self.leader,
            "follower": self.follower,
            "method": "granger",
            "lag_unit": self.lag_unit,
            "cov_type": self.cov_type,
            "selected_lag": self.selected_lag,
            "criterion": self.criterion,
            "null_hypothesis": self.null_hypothesis,
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
            # The lag matrix is built once per direction at the largest lag; each lag slices it.
            lagmat = _lag_matrix(caused, causing, max(test_lags))
            for k in test_lags:
                rows.append(
                    {
                        "direction": direction,
                        "lag": k,
                        **_granger_one(caused, lagmat, k, max(test_lags), cov_type, hac_maxlags),
                    }
                )
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


def _lag_matrix(caused: np.ndarray, causing: np.ndarray, max_lag: int) -> np.ndarray:
    """Columns: caused lags 1..max_lag, then causing lags 1..max_lag (rows aligned with t)."""
    n = len(caused)
    out = np.full((n, 2 * max_lag), np.nan)
    for j in range(1, max_lag + 1):
        out[j:, j - 1] = caused[:-j]
        out[j:, max_lag + j - 1] = causing[:-j]
    return out


def _granger_one(
    caused: np.ndarray,
    lagmat: np.ndarray,
    k: int,
    max_lag: int,
    cov_type: str,
    hac_maxlags: int | None,
) -> dict[str, Any]:
    # statsmodels' convention: the test at lag k uses observations k..n-1 (its own sample).
    yv = caused[k:]
    own = lagmat[k:, :k]
    other = lagmat[k:, max_lag : max_lag + k]
    nobs = len(yv)
    ones = np.ones((nobs, 1))
    x_r = np.hstack([ones, own])
    x_u = np.hstack([ones, own, other])
    beta_u, *_ = np.linalg.lstsq(x_u, yv, rcond=None)
    resid_u = yv - x_u @ beta_u
    df_denom = nobs - x_u.shape[1]
    if cov_type == "classical":
        beta_r, *_ = np.linalg.lstsq(x_r, yv, rcond=None)
        ssr_r = float(np.sum((yv - x_r @ beta_r) ** 2))
        ssr_u = float(resid_u @ resid_u)
        fstat = (ssr_r - ssr_u) / ssr_u * df_denom / k
    else:
        cov = _robust_cov(x_u, resid_u, cov_type, hac_maxlags)
        b = beta_u[-k:]
        v = cov[-k:, -k:]
        fstat = float(b @ np.linalg.solve(v, b)) / k
    pvalue = float(stats.f.sf(fstat, k, df_denom))
    return {
        "statistic": float(fstat),
        "df_num": k,
        "df_denom": int(df_denom),
        "pvalue": pvalue,
        "nobs": nobs,
    }


def _robust_cov(
    xm: np.ndarray, resid: np.ndarray, cov_type: str, hac_maxlags: int | None
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
        return np.asarray(bread @ meat @ bread, dtype=float)
    raise DataValidationError(f"cov_type must be classical, HC0, HC1, HC3 or HAC, got {cov_type!r}")


def _select_lag(caused: np.ndarray, causing: np.ndarray, lags: list[int], criterion: str) -> int:
    """The lag minimising AIC or BIC of the unrestricted regression on a common sample."""
    max_lag = max(lags)
    lagmat = _lag_matrix(caused, causing, max_lag)
    yv = caused[max_lag:]
    nobs = len(yv)
    best, best_ic = lags[0], np.inf
    for k in lags:
        xm = np.hstack(
            [np.ones((nobs, 1)), lagmat[max_lag:, :k], lagmat[max_lag:, max_lag : max_lag + k]]
        )
        beta, *_ = np.linalg.lstsq(xm, yv, rcond=None)
        ssr = float(np.sum((yv - xm @ beta) ** 2))
        penalty = 2.0 if criterion == "aic" else np.log(nobs)
        ic = nobs * np.log(ssr / nobs) + penalty * xm.shape[1]
        if ic < best_ic:
            best, best_ic = k, ic
    return best
