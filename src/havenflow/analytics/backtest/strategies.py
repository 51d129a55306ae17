"""Strategies as decisions: target weights dated by the close whose data they used.

Each builder returns a DataFrame indexed by decision dates with one column per asset (the
rest of the portfolio is cash). The engine executes a decision on each asset's next session
(:func:`~havenflow.analytics.backtest.engine.execution_targets`), so a builder only has to
use data known at each date, which every input here is: phases classified from indicators
known that day, trigger onsets from closes up to that day.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from havenflow.exceptions import DataValidationError

__all__ = [
    "Rebalance",
    "fixed_weights",
    "phase_rotation",
    "rebalance_dates",
    "sample_signal",
    "trigger_hold",
]

Rebalance = Literal["D", "W", "M"]


def rebalance_dates(index: pd.DatetimeIndex, rebalance: Rebalance) -> pd.DatetimeIndex:
    """The last date of each day, week (ending Sunday) or month present in ``index``."""
    if rebalance == "D":
        return index
    if rebalance not in ("W", "M"):
        raise DataValidationError(f"rebalance must be D, W or M, not {rebalance!r}")
    key = index.to_period("W-SUN" if rebalance == "W" else "M")
    last = ~pd.Series(key).duplicated(keep="last").to_numpy()
    return index[last]


def fixed_weights(
    weights: Mapping[str, float],
    start: pd.Timestamp,
    rebalance_on: pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """Hold ``weights``: bought at the first close (decided the day before ``start``).

    With ``rebalance_on``, the weights are restored on each of those closes (a 60/40 or an
    equal weight rebalanced monthly); without, they drift (buy and hold).
    """
    _check_weights(weights, "weights")
    dates = pd.DatetimeIndex([start - pd.Timedelta(days=1)])
    if rebalance_on is not None:
        dates = pd.DatetimeIndex(dates.append(rebalance_on[rebalance_on >= start]))
    return pd.DataFrame(
        np.tile([float(w) for w in weights.values()], (len(dates), 1)),
        index=dates,
        columns=list(weights),
    )


def phase_rotation(
    phase: pd.Series,
    holdings: Mapping[int, Mapping[str, float]],
    otherwise: Mapping[str, float],
) -> pd.DataFrame:
    """Hold ``holdings[p]`` on dates whose phase is ``p``, ``otherwise`` in the other phases.

    ``phase`` is the phase known at each date's close; a date without one (before the
    classifier has the history it needs) emits no decision. Every asset named anywhere gets
    a column, so a change of phase sells what the new phase does not hold.
    """
    for p, w in holdings.items():
        _check_weights(w, f"holdings of phase {p}")
    _check_weights(otherwise, "holdings otherwise")
    assets = list(dict.fromkeys([*(a for w in holdings.values() for a in w), *otherwise]))
    rows = {p: [float(w.get(a, 0.0)) for a in assets] for p, w in holdings.items()}
    default = [float(otherwise.get(a, 0.0)) for a in assets]
    phase = phase.dropna()
    values = np.array([rows.get(int(p), default) for p in phase])
    return pd.DataFrame(values.reshape(len(phase), len(assets)), index=phase.index, columns=assets)


def trigger_hold(
    onsets: pd.DatetimeIndex, index: pd.DatetimeIndex, asset: str, hold_days: int
) -> pd.DataFrame:
    """Hold ``asset`` from each onset's close for ``hold_days`` calendar days, else cash.

    A new onset while holding extends the holding. The decision on each date of ``index``
    is 1 while a hold started on or before it has not run out, else 0.
    """
    if hold_days < 1:
        raise DataValidationError("the holding period must be at least one day")
    t = index.to_numpy()
    o = np.sort(onsets.to_numpy())
    # The latest onset on or before each date, and whether its hold still runs.
    pos = np.searchsorted(o, t, side="right") - 1
    last = np.where(pos >= 0, o[np.maximum(pos, 0)], np.datetime64("NaT"))
    ends = last + np.timedelta64(hold_days, "D")
    held = (pos >= 0) & (t < ends)  # type: ignore[operator]
    return pd.DataFrame({asset: held.astype(float)}, index=index)


def sample_signal(decisions: pd.DataFrame, on: pd.DatetimeIndex) -> pd.DataFrame:
    """The decisions in force at each date of ``on``, keeping only those that change them.

    A signal is looked at on the rebalancing dates only; a date whose targets equal the
    previous ones emits no decision, so weights drift between changes.
    """
    at = decisions.reindex(decisions.index.union(on)).ffill().reindex(on).dropna(how="all")
    if at.empty:
        return at
    same = np.array(at.fillna(-1.0).diff().abs().sum(axis=1) == 0)
    same[0] = False
    return at.loc[~same]


def _check_weights(weights: Mapping[str, float], what: str) -> None:
    total = 0.0
    for asset, w in weights.items():
        if not isinstance(w, int | float) or not 0.0 <= float(w) <= 1.0:
            raise DataValidationError(f"{what}: weight of {asset} must be between 0 and 1")
        total += float(w)
    if total > 1.0 + 1e-9:
        raise DataValidationError(f"{what}: weights add up to {total:g}, over 1 (no leverage)")
