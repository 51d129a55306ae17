"""The cross-correlation scan in moving windows, with an honest null for the count of hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from havenflow.analytics.leadlag._common import _joined, min_obs, scan_block_length
from havenflow.analytics.leadlag.xcorr import _block_signs, _sign_flip_scan
from havenflow.analytics.results import NO_JSON, Result
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = ["RollingCrossCorrelation", "RollingLeadLagResult"]


@dataclass(frozen=True)
class RollingLeadLagResult(Result):
    """The cross-correlation scan in moving windows: is the lead-lag stable, or did it come and go.

    ``to_frame()`` has one row per window, indexed by the window's last date: ``start``,
    ``nobs``, ``lag`` (best lag, positive: leader first), ``correlation``, ``pvalue``
    (scan-adjusted, within the window), ``lag_conf_low`` and ``lag_conf_high`` (95% interval
    of the best lag). Each window uses data up to its last date only.

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
    block_length: int
    alpha: float
    table: pd.DataFrame = field(metadata=NO_JSON, repr=False)
    count_null: np.ndarray = field(metadata=NO_JSON, repr=False)

    kind = "xcorr-rolling"
    method = "xcorr-rolling"
    _derived = (
        "method",
        "lag_convention",
        "n_windows",
        "n_significant",
        "expected_significant",
        "significant_null_range",
        "count_pvalue",
        "count_null_hypothesis",
        "windows",
    )

    @property
    def lag_convention(self) -> str:
        """How to read ``lag``."""
        return f"positive lag k ({self.lag_unit}): leader at t goes with follower at t+k"

    @property
    def n_windows(self) -> int:
        """Windows scanned."""
        return len(self.table)

    @property
    def n_significant(self) -> int:
        """Windows whose scan-adjusted p-value is below ``alpha``."""
        return int((self.table["pvalue"] < self.alpha).sum())

    @property
    def expected_significant(self) -> float:
        """Mean number of significant windows under the null, for this design."""
        return float(self.count_null.mean()) if self.count_null.size else 0.0

    @property
    def significant_null_range(self) -> tuple[int, int]:
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

    @property
    def count_null_hypothesis(self) -> str:
        """The null of ``count_pvalue``."""
        return (
            "no correlation at any scanned lag in any window; the count's null comes from "
            "the same sign-flip draws applied to every window jointly"
        )

    @property
    def windows(self) -> list[dict[str, Any]]:
        """One row per window (JSON).

        Keys: ``end``, ``start``, ``nobs``, ``lag``, ``correlation``, ``pvalue``,
        ``lag_conf_int``.
        """
        return [
            {
                "end": pd.Timestamp(str(end)).date().isoformat(),
                "start": pd.Timestamp(r["start"]).date().isoformat(),
                "nobs": int(r["nobs"]),
                "lag": int(r["lag"]),
                "correlation": float(r["correlation"]),
                "pvalue": float(r["pvalue"]),
                "lag_conf_int": [int(r["lag_conf_low"]), int(r["lag_conf_high"])],
            }
            for end, r in self.table.iterrows()
        ]

    def to_frame(self) -> pd.DataFrame:
        """One row per window (a copy)."""
        return self.table.copy()

    def _summary_text(self) -> str:
        t = self.table
        sig = t[t["pvalue"] < self.alpha]
        lo, hi = self.significant_null_range
        lines = [
            f"Rolling cross-correlation, leader {self.leader} -> follower {self.follower}: "
            f"{len(t)} windows of {self.window} {self.lag_unit}, stepped {self.step}, "
            f"lags +-{self.max_lag}",
            f"windows with a scan-adjusted p < {self.alpha:g}: {len(sig)} of {len(t)}; with no "
            f"relation, these overlapping windows give {self.expected_significant:.1f} on "
            f"average (95% range {lo}..{hi}); p-value of the count {self.count_pvalue:.3f}",
        ]
        if len(sig):
            lines.append(
                f"best lag in those windows: median {float(sig['lag'].median()):+.0f}, "
                f"range {int(sig['lag'].min()):+d}..{int(sig['lag'].max()):+d}"
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
                    "nobs": len(x),
                    "lag": int(lags[best]),
                    "correlation": float(out.correlation[best]),
                    "pvalue": out.pvalue,
                    "lag_conf_low": int(ci[0]),
                    "lag_conf_high": int(ci[1]),
                }
            )
            null_significant.append(_null_pvalues(out.null_max, out.statistic) < alpha)
        table = pd.DataFrame.from_records(
            records,
            columns=[
                "end",
                "start",
                "nobs",
                "lag",
                "correlation",
                "pvalue",
                "lag_conf_low",
                "lag_conf_high",
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
