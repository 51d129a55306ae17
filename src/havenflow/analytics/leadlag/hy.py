"""Hayashi-Yoshida covariance and the Hoffmann-Rosenbaum-Yoshida lead-lag contrast.

For two paths observed at their own, irregular times (Bitcoin every second of the week, metals
in exchange hours only; or daily closes on a 7-day and a 5-day calendar), the Hayashi-Yoshida
estimator sums the products of every pair of increments whose observation intervals overlap,
with no interpolation and no common grid. Hoffmann, Rosenbaum and Yoshida (2013, Bernoulli)
shift the follower's clock by a lag ``theta`` and take the lag that maximises the absolute
shifted covariance as the lead-lag estimate.

Convention, as in the rest of havenflow: a positive lag ``theta`` means the leader's move over
``(t - dt, t]`` goes with the follower's move over ``(t + theta - dt, t + theta]`` (the leader
moves first). Lags are time spans (``pandas.Timedelta``), at any resolution from nanoseconds
to days.

The kernel walks both sorted interval lists with two pointers, O(n + m) per lag, compiled with
numba and run in parallel over the lag grid. Because the follower's intervals tile the time
axis, the sum of the follower's increments that overlap one leader interval telescopes to a
difference of two follower values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd

from havenflow.analytics.results import NO_JSON, Result
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = ["HayashiYoshida", "HayashiYoshidaResult", "hy_covariance"]


@numba.njit(parallel=True, cache=True)
def _hy_kernel(
    tx: np.ndarray, x: np.ndarray, ty: np.ndarray, y: np.ndarray, lags: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled; checked against the oracle in the tests
    n, m = tx.shape[0], ty.shape[0]
    out = np.empty(lags.shape[0])
    for li in numba.prange(lags.shape[0]):
        theta = lags[li]
        lo = 0  # first follower interval j (0..m-2) ending after the leader interval starts
        hi = 0  # first follower interval starting at or after the leader interval ends
        total = 0.0
        for i in range(n - 1):
            a = tx[i]
            b = tx[i + 1]
            while lo < m - 1 and ty[lo + 1] - theta <= a:
                lo += 1
            while hi < m - 1 and ty[hi] - theta < b:
                hi += 1
            if hi > lo:
                # Overlapping follower intervals lo..hi-1 tile (ty[lo], ty[hi]]: their
                # increments sum to y[hi] - y[lo].
                total += (x[i + 1] - x[i]) * (y[hi] - y[lo])
        out[li] = total
    return out


def _as_path(series: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(series, pd.Series) or not isinstance(series.index, pd.DatetimeIndex):
        raise DataValidationError(f"{name} must be a pandas Series with a DatetimeIndex")
    clean = series.dropna()
    if clean.index.has_duplicates:
        first = clean.index[clean.index.duplicated()][0]
        raise DataValidationError(f"{name} has two observations at {first}")
    clean = clean.sort_index()
    if len(clean) < 3:
        raise InsufficientDataError(f"{name} has {len(clean)} observations; at least 3 needed")
    values = clean.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise DataValidationError(f"{name} has infinite values")
    if np.all(np.diff(values) == 0):
        raise DataValidationError(f"{name} is constant: its increments are all zero")
    # Nanosecond integers whatever the index's unit (pandas 3 may hold s, ms, us or ns).
    times = pd.DatetimeIndex(clean.index).as_unit("ns").asi8.astype(np.int64)
    return times, values


def hy_covariance(
    leader: pd.Series, follower: pd.Series, lags: Sequence[pd.Timedelta] | pd.TimedeltaIndex
) -> np.ndarray:
    """Shifted Hayashi-Yoshida covariance of two paths for each lag.

    Parameters
    ----------
    leader, follower
        Paths (log prices, or yield levels) indexed by their own observation times.
    lags
        Time shifts; positive: the leader moves first.

    Returns
    -------
    numpy.ndarray
        ``U(theta)``: the sum of products of overlapping increments, follower clock shifted
        back by ``theta``. At ``theta = 0`` with shared timestamps it is the realised
        covariance.
    """
    tx, x = _as_path(leader, "leader")
    ty, y = _as_path(follower, "follower")
    grid = pd.TimedeltaIndex(lags).as_unit("ns").asi8.astype(np.int64)
    return np.asarray(_hy_kernel(tx, x, ty, y, grid), dtype=float)


@dataclass(frozen=True)
class HayashiYoshidaResult(Result):
    """Lead-lag contrast over a lag grid.

    Attributes
    ----------
    lags
        The lag grid (``TimedeltaIndex``); positive: the leader moves first.
    covariance
        Shifted Hayashi-Yoshida covariance per lag.
    profile_contrast
        ``covariance / sqrt(sum dx^2 * sum dy^2)``: a correlation-like, signed contrast
        (the ``lead-lag`` package reports its absolute value).
    lag_timedelta, contrast
        The lag maximising ``|contrast|`` and the signed contrast there; ``lag`` is the same
        lag in ``lag_unit``.
    """

    leader: str
    follower: str
    lag_unit: str
    lag_timedelta: pd.Timedelta = field(metadata=NO_JSON)
    contrast: float
    nobs_leader: int
    nobs_follower: int
    lags: pd.TimedeltaIndex = field(metadata=NO_JSON, repr=False)
    covariance: np.ndarray = field(metadata=NO_JSON, repr=False)
    profile_contrast: np.ndarray = field(metadata=NO_JSON, repr=False)

    kind = "hy"
    method = "hy"
    pvalue = None
    uncertainty = (
        "none computed for the HY contrast: use --method xcorr on a common calendar for a "
        "scan-adjusted p-value and a lag interval"
    )
    _derived = ("method", "lag_convention", "lag", "pvalue", "uncertainty", "profile")

    @property
    def lag_convention(self) -> str:
        """How to read ``lag``."""
        return f"positive lag ({self.lag_unit}): the leader moves first"

    @property
    def lag(self) -> float:
        """The best lag in ``lag_unit`` (positive: the leader moves first)."""
        return self._in_units(self.lag_timedelta)

    @property
    def profile(self) -> list[dict[str, float]]:
        """One row per lag: ``lag`` (in ``lag_unit``) and ``contrast``."""
        return [
            {"lag": self._in_units(t), "contrast": float(c)}
            for t, c in zip(self.lags, self.profile_contrast, strict=True)
        ]

    def _in_units(self, lag: pd.Timedelta) -> float:
        return float(lag.value) / _UNIT_NS[self.lag_unit]

    def to_frame(self) -> pd.DataFrame:
        """The contrast profile, one row per lag (lag in ``lag_unit``)."""
        return pd.DataFrame(
            {
                f"lag ({self.lag_unit})": [self._in_units(t) for t in self.lags],
                "covariance": self.covariance,
                "contrast": self.profile_contrast,
            }
        ).set_index(f"lag ({self.lag_unit})")

    def _summary_text(self) -> str:
        return (
            f"Hayashi-Yoshida lead-lag, leader {self.leader} -> follower {self.follower} "
            f"({self.nobs_leader} and {self.nobs_follower} asynchronous observations; "
            f"{len(self.lags)} lags; positive lag = leader first)\n"
            f"best lag {self.lag:+g} {self.lag_unit}, "
            f"contrast {self.contrast:+.3f} (no p-value for this method)"
        )


#: Nanoseconds per reporting unit.
_UNIT_NS: dict[str, float] = {
    "nanoseconds": 1.0,
    "microseconds": 1e3,
    "milliseconds": 1e6,
    "seconds": 1e9,
    "minutes": 60e9,
    "hours": 3600e9,
    "days": 86400e9,
    "weeks": 7 * 86400e9,
}


@dataclass(frozen=True)
class HayashiYoshida:
    """Hoffmann-Rosenbaum-Yoshida lead-lag estimator on asynchronous observations.

    Parameters
    ----------
    leader, follower
        Paths indexed by their own observation times: log prices for prices (so that
        increments are log returns), levels for yields. No alignment is needed or wanted.
    lags
        The lag grid, as time spans.
    lag_unit
        Unit the lags are reported in (``seconds``, ``days``...).
    """

    leader: pd.Series
    follower: pd.Series
    lags: Sequence[pd.Timedelta] | pd.TimedeltaIndex
    lag_unit: str = "seconds"
    leader_name: str = "leader"
    follower_name: str = "follower"

    def fit(self) -> HayashiYoshidaResult:
        """Compute the contrast over the lag grid and pick the best lag."""
        if self.lag_unit not in _UNIT_NS:
            raise DataValidationError(
                f"lag_unit must be one of {', '.join(_UNIT_NS)}, got {self.lag_unit!r}"
            )
        grid = pd.TimedeltaIndex(self.lags)
        if len(grid) == 0 or grid.hasnans:
            raise DataValidationError("the lag grid must be a non-empty list of time spans")
        tx, x = _as_path(self.leader, "leader")
        ty, y = _as_path(self.follower, "follower")
        cov = np.asarray(
            _hy_kernel(tx, x, ty, y, grid.as_unit("ns").asi8.astype(np.int64)), dtype=float
        )
        norm = float(np.sqrt(np.sum(np.diff(x) ** 2) * np.sum(np.diff(y) ** 2)))
        contrast = cov / norm
        best = int(np.argmax(np.abs(contrast)))
        return HayashiYoshidaResult(
            leader=self.leader_name,
            follower=self.follower_name,
            lag_unit=self.lag_unit,
            lag_timedelta=grid[best],
            contrast=float(contrast[best]),
            nobs_leader=len(x),
            nobs_follower=len(y),
            lags=grid,
            covariance=cov,
            profile_contrast=contrast,
        )
