"""Safe-haven and "digital gold" tests (claims C4 and C7).

- Baur-McDermott (2010) / Baur-Lucey (2010) regression: the asset's return on the equity
  return, with extra slopes on days in the equity market's worst 10%, 5% and 1% tails:
  ``r_t = a + (b0 + b1 D10_t + b2 D5_t + b3 D1_t) r_eq,t + e_t``. The asset is a *hedge* if
  ``b0 <= 0`` (strong if significantly negative) and a *safe haven* at a tail if the total tail
  slope (``b0 + b1`` at 10%, ``b0 + b1 + b2`` at 5%, ...) is ``<= 0`` (strong if significantly
  negative); Newey-West errors. The tails are quantiles of the equity returns in the sample.
- Conditional correlation: the asset's correlation with equities and with gold on stress days
  (VIX above its trailing 80th percentile, or equities more than 10% below their running high)
  against calm days, with stationary-block-bootstrap confidence intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from havenflow.analytics.drivers import newey_west_lags
from havenflow.analytics.resample import stationary_bootstrap_indices
from havenflow.analytics.results import Result
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "FearGauge",
    "HedgeTest",
    "SafeHavenRegression",
    "SafeHavenResult",
    "TailTest",
    "conditional_correlation",
    "fear_gauge",
    "stress_days",
]

TAILS = (0.10, 0.05, 0.01)


def _verdict(slope: float, pvalue_one_sided_negative: float, pvalue_positive: float) -> str:
    if slope < 0 and pvalue_one_sided_negative < 0.05:
        return "strong"
    if pvalue_positive < 0.05:
        return "no"  # significantly positive: moves with equities
    return "weak"  # not significantly positive: on average no worse than uncorrelated


@dataclass(frozen=True)
class HedgeTest:
    """The all-days slope of the asset on equities (``b0``): is it a hedge."""

    slope: float
    std_err: float
    pvalue: float
    verdict: str


@dataclass(frozen=True)
class TailTest:
    """The total slope on the equity market's worst ``quantile`` days: a safe haven there."""

    quantile: float
    threshold: float
    n_days: int
    total_slope: float
    std_err: float
    pvalue: float
    verdict: str


@dataclass(frozen=True)
class SafeHavenResult(Result):
    """Baur-McDermott hedge and safe-haven slopes of one asset on equities.

    ``pvalue`` of each test is one-sided, against the alternative that the slope is below zero
    (the asset rises, or falls less, when equities fall); ``verdict`` applies the rule in
    ``verdict_rule``. Returns are per-bar log returns.
    """

    kind: ClassVar[str] = "safe_haven_regression"

    asset: str
    equity: str
    start: str
    end: str
    nobs: int
    cov_type: str
    verdict_rule: str
    hedge: HedgeTest
    safe_haven: tuple[TailTest, ...]

    def tail(self, quantile: float) -> TailTest:
        """The test on the worst ``quantile`` of equity days (0.10, 0.05 or 0.01)."""
        for t in self.safe_haven:
            if abs(t.quantile - quantile) < 1e-12:
                return t
        raise DataValidationError(
            f"no safe-haven test at the {quantile:g} tail; the tails are "
            + ", ".join(f"{t.quantile:g}" for t in self.safe_haven)
        )

    def to_frame(self) -> pd.DataFrame:
        """One row for the hedge test and one per tail: slope, error, p-value, verdict."""
        rows = [
            {
                "test": "hedge (all days)",
                "slope": self.hedge.slope,
                "std_err": self.hedge.std_err,
                "pvalue": self.hedge.pvalue,
                "n_days": self.nobs,
                "verdict": self.hedge.verdict,
            }
        ]
        rows += [
            {
                "test": f"safe haven (worst {t.quantile:.0%} days)",
                "slope": t.total_slope,
                "std_err": t.std_err,
                "pvalue": t.pvalue,
                "n_days": t.n_days,
                "verdict": t.verdict,
            }
            for t in self.safe_haven
        ]
        return pd.DataFrame(rows).set_index("test")

    def _summary_text(self) -> str:
        tails = ", ".join(f"{t.quantile:.0%} tail {t.verdict}" for t in self.safe_haven)
        return (
            f"{self.asset} on {self.equity}, {self.start}..{self.end} ({self.nobs} days, "
            f"{self.cov_type}): hedge {self.hedge.verdict} (slope {self.hedge.slope:+.3f}); "
            f"safe haven: {tails}. One-sided p-values against a slope below zero."
        )


@dataclass(frozen=True)
class SafeHavenRegression:
    """Baur-McDermott hedge and safe-haven regression of an asset on equities.

    Parameters
    ----------
    asset, equity
        Per-bar log returns on one calendar.
    """

    asset: pd.Series
    equity: pd.Series
    asset_name: str = "asset"
    equity_name: str = "equity"

    def fit(self, *, hac_lags: int | None = None) -> SafeHavenResult:
        """Fit the regression (Newey-West errors, ``hac_lags`` or the usual rule of thumb)."""
        data = pd.concat({"r": self.asset, "m": self.equity}, axis=1, join="inner").dropna()
        if len(data) < 250:
            raise InsufficientDataError(
                f"{len(data)} common days of {self.asset_name} and {self.equity_name}; "
                "the 1% tail needs at least 250"
            )
        if data["r"].std() == 0 or data["m"].std() == 0:
            raise DataValidationError("a constant return series has no slope")
        m = data["m"]
        regressors = {"equity": m}
        thresholds = {}
        for q in TAILS:
            cut = float(m.quantile(q))
            thresholds[q] = cut
            regressors[f"tail_{round(q * 100)}"] = m * (m <= cut)
        x = sm.add_constant(pd.DataFrame(regressors), has_constant="add")
        lags = hac_lags if hac_lags is not None else newey_west_lags(len(data))
        fit = sm.OLS(data["r"], x).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
        cov = fit.cov_params()
        b0 = float(fit.params["equity"])
        z0 = b0 / float(fit.bse["equity"])
        hedge = HedgeTest(
            slope=b0,
            std_err=float(fit.bse["equity"]),
            pvalue=float(stats.norm.cdf(z0)),
            verdict=_verdict(b0, float(stats.norm.cdf(z0)), float(stats.norm.sf(z0))),
        )
        tails = []
        names = ["equity"]
        for q in TAILS:
            names.append(f"tail_{round(q * 100)}")
            w = np.array([1.0 if c in names else 0.0 for c in x.columns])
            slope = float(w @ fit.params.to_numpy())
            se = float(np.sqrt(w @ cov.to_numpy() @ w))
            zq = slope / se
            tails.append(
                TailTest(
                    quantile=q,
                    threshold=thresholds[q],
                    n_days=int((m <= thresholds[q]).sum()),
                    total_slope=slope,
                    std_err=se,
                    pvalue=float(stats.norm.cdf(zq)),
                    verdict=_verdict(slope, float(stats.norm.cdf(zq)), float(stats.norm.sf(zq))),
                )
            )
        return SafeHavenResult(
            asset=self.asset_name,
            equity=self.equity_name,
            start=pd.Timestamp(data.index[0]).date().isoformat(),
            end=pd.Timestamp(data.index[-1]).date().isoformat(),
            nobs=len(data),
            cov_type=f"HAC (Newey-West, {lags} lags)",
            verdict_rule="strong: slope significantly < 0 (5%, one-sided); weak: not "
            "significantly > 0; no: significantly > 0",
            hedge=hedge,
            safe_haven=tuple(tails),
        )


@dataclass(frozen=True)
class FearGauge:
    """Where a fear index (the VIX) stands on its last date.

    Attributes
    ----------
    date
        The last date with a value.
    level
        Its value on that date.
    change
        Its change over ``window`` bars, in index points.
    percentile
        The share of the trailing ``lookback`` bars (that date included) at or below the level.
    """

    date: pd.Timestamp
    level: float
    change: float
    percentile: float
    window: int
    lookback: int


def fear_gauge(index: pd.Series, window: int = 63, lookback: int = 756) -> FearGauge:
    """Level, ``window``-bar change and trailing percentile of a fear index, on its last date.

    Raises
    ------
    InsufficientDataError
        With fewer than ``window + 1`` values.
    """
    values = index.dropna()
    if len(values) <= window:
        raise InsufficientDataError(
            f"{len(values)} values of {index.name or 'the fear index'}: {window + 1} needed"
        )
    last = float(values.iloc[-1])
    tail = values.iloc[-lookback:]
    return FearGauge(
        date=pd.Timestamp(values.index[-1]),
        level=last,
        change=last - float(values.iloc[-1 - window]),
        percentile=float((tail <= last).mean()),
        window=window,
        lookback=len(tail),
    )


def stress_days(
    vix: pd.Series | None,
    equity_level: pd.Series,
    *,
    vix_window: int = 252,
    vix_percentile: float = 0.80,
    drawdown: float = -0.10,
) -> pd.Series:
    """Point-in-time stress flag on the equity's dates.

    Stress on day t: VIX above the ``vix_percentile`` quantile of its trailing ``vix_window``
    values up to t, or the equity level more than ``-drawdown`` below its running high up to t.
    """
    level = equity_level.dropna()
    dd = level / level.cummax() - 1.0
    flag = dd <= drawdown
    if vix is not None:
        v = vix.reindex(level.index).ffill(limit=5)
        threshold = v.rolling(vix_window, min_periods=vix_window // 2).quantile(vix_percentile)
        flag = flag | (v > threshold).fillna(False)
    return flag.astype(bool)


def conditional_correlation(
    moves: pd.DataFrame,
    asset: str,
    partners: list[str],
    stress: pd.Series,
    *,
    replicates: int = 999,
    seed: int | None = 0,
    block_length: float = 10.0,
) -> dict[str, Any]:
    """Correlations of ``asset`` with each partner on stress vs calm days, bootstrapped.

    The bootstrap resamples whole days by stationary blocks (keeping stress episodes and
    volatility clustering together), recomputing each correlation on the stress and calm days
    of each resample: a 95% percentile interval for each correlation and for the difference.
    """
    cols = [asset, *partners]
    data = moves[cols].join(stress.rename("stress"), how="inner").dropna()
    s = data["stress"].to_numpy(dtype=bool)
    if s.sum() < 30 or (~s).sum() < 30:
        raise InsufficientDataError(
            f"{int(s.sum())} stress and {int((~s).sum())} calm days: at least 30 of each needed"
        )
    rng = np.random.default_rng(seed)
    idx = stationary_bootstrap_indices(len(data), replicates, block_length, rng)
    out = []
    a = data[asset].to_numpy(dtype=float)
    for p in partners:
        b = data[p].to_numpy(dtype=float)
        point = {k: float(np.corrcoef(a[mask], b[mask])[0, 1]) for k, mask in _masks(s).items()}
        # Every replicate's stress and calm correlations at once (one pass over the
        # resampled days instead of a loop: the same numbers as _corr to rounding).
        ar, br, sr = a[idx], b[idx], s[idx]
        boot = {"stress": _masked_corr(ar, br, sr), "calm": _masked_corr(ar, br, ~sr)}
        diff = boot["stress"] - boot["calm"]
        out.append(
            {
                "partner": p,
                "stress": point["stress"],
                "stress_ci": _ci(boot["stress"]),
                "calm": point["calm"],
                "calm_ci": _ci(boot["calm"]),
                "difference": point["stress"] - point["calm"],
                "difference_ci": _ci(diff),
            }
        )
    return {
        "asset": asset,
        "start": pd.Timestamp(data.index[0]).date().isoformat(),
        "end": pd.Timestamp(data.index[-1]).date().isoformat(),
        "n_stress_days": int(s.sum()),
        "n_calm_days": int((~s).sum()),
        "bootstrap": f"stationary block bootstrap of days, mean block {block_length:g}, "
        f"{replicates} replicates, seed {seed}",
        "correlations": out,
    }


def _masks(s: np.ndarray) -> dict[str, np.ndarray]:
    return {"stress": s, "calm": ~s}


def _masked_corr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row by row, the correlation of ``a`` and ``b`` over the columns where ``mask`` holds.

    NaN where fewer than 3 columns are kept or either side is constant (as :func:`_corr`).
    """
    w = mask.astype(float)
    n = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = (a * w).sum(axis=1) / n
        mb = (b * w).sum(axis=1) / n
        da = (a - ma[:, None]) * w
        db = (b - mb[:, None]) * w
        saa = (da * da).sum(axis=1)
        sbb = (db * db).sum(axis=1)
        out = (da * db).sum(axis=1) / np.sqrt(saa * sbb)
    bad = (n < 3) | (saa <= 0) | (sbb <= 0)
    return np.asarray(np.where(bad, np.nan, np.clip(out, -1.0, 1.0)), dtype=float)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _ci(draws: np.ndarray) -> list[float]:
    lo, hi = np.nanquantile(draws, [0.025, 0.975])
    return [float(lo), float(hi)]
