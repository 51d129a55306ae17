"""Driver attribution (claim C5) and the factor-implied move (claim C9).

An asset's per-bar log returns are regressed on driver moves (the change in the 10-year real
yield, the dollar's log return, the change in a rate-expectation proxy, the equity market's log
return, the VIX's log change) by OLS with Newey-West (HAC) standard errors from statsmodels. The
attribution of a move over a window is each beta times the driver's move over that window
(sums of per-bar moves), plus the intercept's drift, plus the unexplained rest; all in log
points, so the parts add up exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.regression.rolling import RollingOLS

from havenflow.analytics.results import Result
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "DriverModel",
    "DriverResult",
    "attribute",
    "implied_move",
    "newey_west_lags",
]


def newey_west_lags(nobs: int) -> int:
    """The usual Newey-West truncation ``floor(4 (n / 100)^(2/9))``."""
    lags: int = math.floor(4.0 * (nobs / 100.0) ** (2.0 / 9.0))
    return lags


@dataclass(frozen=True)
class DriverResult(Result):
    """A driver regression: coefficients with HAC errors, fit, and rolling betas."""

    kind = "drivers"

    asset: str
    drivers: tuple[str, ...]
    frequency: str
    start: str
    end: str
    nobs: int
    params: pd.Series
    bse: pd.Series
    tvalues: pd.Series
    pvalues: pd.Series
    cov: pd.DataFrame
    rsquared: float
    rsquared_adj: float
    resid_sd: float
    hac_lags: int
    rolling_betas: pd.DataFrame | None
    hac_adjust: bool = False

    def to_frame(self) -> pd.DataFrame:
        """One row per regressor: coef, HAC std err, t, p."""
        return pd.DataFrame(
            {"coef": self.params, "std_err": self.bse, "t": self.tvalues, "pvalue": self.pvalues}
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "asset": self.asset,
            "frequency": self.frequency,
            "start": self.start,
            "end": self.end,
            "nobs": self.nobs,
            "cov_type": f"HAC (Newey-West, Bartlett, {self.hac_lags} lags"
            + (", small-sample n/(n-k))" if self.hac_adjust else ")"),
            "rsquared": self.rsquared,
            "rsquared_adj": self.rsquared_adj,
            "coefficients": [
                {
                    "name": str(k),
                    "coef": float(self.params[k]),
                    "std_err": float(self.bse[k]),
                    "t": float(self.tvalues[k]),
                    "pvalue": float(self.pvalues[k]),
                }
                for k in self.params.index
            ],
        }


@dataclass(frozen=True)
class DriverModel:
    """OLS of an asset's per-bar moves on driver moves, with Newey-West errors.

    Parameters
    ----------
    moves
        Per-bar moves on one calendar: the asset's column and one column per driver.
    asset
        The asset's column.
    drivers
        Driver columns.
    frequency
        Label of the calendar (``D`` or ``W``), reported.
    """

    moves: pd.DataFrame
    asset: str
    drivers: tuple[str, ...]
    frequency: str = "D"

    def fit(
        self,
        *,
        hac_lags: int | None = None,
        rolling_window: int | None = None,
        hac_adjust: bool = False,
    ) -> DriverResult:
        """Fit the full-window regression and, optionally, rolling betas.

        Parameters
        ----------
        hac_lags
            Newey-West truncation (default :func:`newey_west_lags`).
        rolling_window
            Bars per rolling regression (statsmodels ``RollingOLS``); ``None`` for none.
        hac_adjust
            Scale the HAC covariance by ``n / (n - k)`` (statsmodels' ``use_correction``,
            R's ``sandwich::NeweyWest(adjust = TRUE)``).
        """
        cols = [self.asset, *self.drivers]
        missing = [c for c in cols if c not in self.moves]
        if missing:
            raise DataValidationError(f"no column {', '.join(missing)} in the moves")
        data = self.moves[cols].dropna()
        k = len(self.drivers) + 1
        if len(data) < max(10 * k, 30):
            raise InsufficientDataError(
                f"{len(data)} common observations of {self.asset} and its drivers; at least "
                f"{max(10 * k, 30)} needed"
            )
        for c in cols:
            if data[c].std() == 0:
                raise DataValidationError(f"{c} does not move in the sample: a beta is undefined")
        y = data[self.asset]
        x = sm.add_constant(data[list(self.drivers)], has_constant="add")
        lags = hac_lags if hac_lags is not None else newey_west_lags(len(data))
        fit = sm.OLS(y, x).fit(
            cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": hac_adjust}
        )
        rolling = None
        if rolling_window is not None and len(data) > rolling_window:
            rolling = RollingOLS(y, x, window=rolling_window).fit(params_only=True).params
            rolling = rolling.drop(columns="const").dropna()
        return DriverResult(
            asset=self.asset,
            drivers=tuple(self.drivers),
            frequency=self.frequency,
            start=pd.Timestamp(data.index[0]).date().isoformat(),
            end=pd.Timestamp(data.index[-1]).date().isoformat(),
            nobs=int(fit.nobs),
            params=fit.params,
            bse=fit.bse,
            tvalues=fit.tvalues,
            pvalues=fit.pvalues,
            cov=fit.cov_params(),
            rsquared=float(fit.rsquared),
            rsquared_adj=float(fit.rsquared_adj),
            resid_sd=float(np.sqrt(fit.scale)),
            hac_lags=lags,
            rolling_betas=rolling,
            hac_adjust=hac_adjust,
        )


def _window_moves(
    moves: pd.DataFrame, drivers: tuple[str, ...], start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """The bars in ``(start, end]``, refusing a window in which a driver has no value."""
    inside = moves[(moves.index > start) & (moves.index <= end)]
    if inside.empty:
        raise InsufficientDataError(f"no bar between {start.date()} and {end.date()}")
    if inside[list(drivers)].isna().any().any():
        raise InsufficientDataError(
            f"a driver has no value in the window {start.date()}..{end.date()}"
        )
    return inside


def attribute(
    result: DriverResult,
    moves: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    level: float = 0.95,
) -> dict[str, Any]:
    """Split the asset's log move over ``(start, end]`` into driver contributions.

    Each contribution is ``beta * (sum of the driver's per-bar moves)``, with an interval from
    the beta's HAC standard error; ``drift`` is the intercept times the bars; ``unexplained``
    is the rest. The parts add up to the actual log move exactly.
    """
    window = _window_moves(moves, result.drivers, start, end)
    actual = float(window[result.asset].sum())
    z = stats.norm.ppf(0.5 + level / 2)
    parts = []
    total = 0.0
    for d in result.drivers:
        move = float(window[d].sum())
        beta, se = float(result.params[d]), float(result.bse[d])
        contrib = beta * move
        total += contrib
        parts.append(
            {
                "driver": d,
                "driver_move": move,
                "beta": beta,
                "contribution": contrib,
                "ci_low": contrib - z * se * abs(move),
                "ci_high": contrib + z * se * abs(move),
            }
        )
    drift = float(result.params["const"]) * len(window)
    return {
        "asset": result.asset,
        "start": start.date().isoformat(),
        "end": end.date().isoformat(),
        "n_bars": len(window),
        "unit": "log points (sum of per-bar log returns; yields: percentage points)",
        "actual": actual,
        "actual_simple_return": math.expm1(actual),
        "explained": total,
        "drift": drift,
        "unexplained": actual - total - drift,
        "contributions": parts,
        "level": level,
    }


def implied_move(
    result: DriverResult,
    moves: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    level: float = 0.95,
) -> dict[str, Any]:
    """The asset's factor-implied log move over a window against its actual move (claim C9).

    ``implied = sum_i beta_i * m_i`` over the drivers' moves ``m`` in the window. Its
    confidence interval comes from the betas' HAC covariance (``m' V m``); the prediction
    interval adds the residual variance of ``n`` bars (what the drivers cannot explain even
    with known betas).
    """
    window = _window_moves(moves, result.drivers, start, end)
    drivers = list(result.drivers)
    m = window[drivers].sum().to_numpy(dtype=float)
    beta = result.params[drivers].to_numpy(dtype=float)
    cov = result.cov.loc[drivers, drivers].to_numpy(dtype=float)
    implied = float(beta @ m)
    se_beta = float(np.sqrt(m @ cov @ m))
    se_pred = float(np.sqrt(se_beta**2 + result.resid_sd**2 * len(window)))
    z = stats.norm.ppf(0.5 + level / 2)
    actual = float(window[result.asset].sum()) if result.asset in window else float("nan")
    return {
        "asset": result.asset,
        "start": start.date().isoformat(),
        "end": end.date().isoformat(),
        "n_bars": len(window),
        "unit": "log points",
        "driver_moves": {d: float(v) for d, v in zip(drivers, m, strict=True)},
        "betas": {d: float(b) for d, b in zip(drivers, beta, strict=True)},
        "implied": implied,
        "implied_simple_return": math.expm1(implied),
        "ci_low": implied - z * se_beta,
        "ci_high": implied + z * se_beta,
        "prediction_low": implied - z * se_pred,
        "prediction_high": implied + z * se_pred,
        "actual": actual,
        "actual_simple_return": math.expm1(actual) if np.isfinite(actual) else None,
        "gap": actual - implied,
        "actual_outside_prediction_interval": bool(
            not (implied - z * se_pred <= actual <= implied + z * se_pred)
        ),
        "level": level,
    }
