"""The simulation: target weights decided at a close are traded on each asset's next session.

Timing is the point. A decision dated ``d`` (a close) uses data known at ``d`` only and is
executed at the close of the first session strictly after ``d`` of each asset it concerns, so
a signal computed from the close of bar t trades at t+1 and earns from t+1 on; a look-ahead
signal cannot profit (``tests/test_backtest.py`` plants one). Each asset keeps its own
calendar: Bitcoin trades every day, metals, equities and Treasuries on their sessions, and a
weight in an asset that is closed waits for its next session (sales on Friday, a purchase of
Bitcoin on Saturday: the purchase waits for cash, it is never financed by borrowing). Cash
earns the overnight policy rate known the day before, accrued ACT/360 over the calendar days
between bars. Costs are charged per unit of weight traded, out of every holding pro rata
(so costs never leave a negative cash balance).

The kernel is compiled (numba) and :func:`simulate_python` is its slow, plain-Python oracle
(tested equal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "Market",
    "bond_total_return_index",
    "execution_targets",
    "simulate",
    "simulate_python",
    "simulate_sweep",
]

#: Calendar days in a year, for CAGR and for annualising on an asset's observed bar frequency.
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Market:
    """Asset closes on the union of their sessions, and the cash rate.

    Attributes
    ----------
    closes
        One column per asset, indexed by every date on which at least one of them traded;
        NaN where an asset had no session (its price is not carried: it did not trade).
    cash_rate
        Annual overnight rate in percent known at each date's close (the policy rate), on the
        same index; NaN before the first known value means cash earns nothing.
    """

    closes: pd.DataFrame
    cash_rate: pd.Series

    @classmethod
    def from_series(
        cls, prices: dict[str, pd.Series], cash_rate: pd.Series | None = None
    ) -> Market:
        """Build from each asset's own closes (its own dates) and the rate (its own dates).

        Raises
        ------
        DataValidationError
            For a price that is not positive and finite, or an index that is not dates.
        """
        cols = {}
        for name, s in prices.items():
            s = s.dropna()
            if not isinstance(s.index, pd.DatetimeIndex):
                raise DataValidationError(f"{name}: prices need a DatetimeIndex")
            if not s.index.is_monotonic_increasing or s.index.has_duplicates:
                raise DataValidationError(f"{name}: dates must be increasing and unique")
            v = s.to_numpy(dtype=float)
            bad = ~np.isfinite(v) | (v <= 0)
            if bad.any():
                first = s.index[int(np.argmax(bad))].date()
                raise DataValidationError(f"{name}: price {v[np.argmax(bad)]!r} on {first}")
            cols[name] = s.astype(float)
        if not cols:
            raise DataValidationError("a market needs at least one asset")
        closes = pd.DataFrame(cols).sort_index()
        if cash_rate is None:
            rate = pd.Series(np.nan, index=closes.index)
        else:
            rate = cash_rate.dropna().astype(float)
            # The rate known at each close: the last value on or before it.
            rate = rate.reindex(closes.index.union(rate.index)).ffill().reindex(closes.index)
        return cls(closes, rate)

    def restrict(self, assets: list[str], start: pd.Timestamp, end: pd.Timestamp) -> Market:
        """The sessions of ``assets`` only (their union), between ``start`` and ``end``."""
        missing = [a for a in assets if a not in self.closes]
        if missing:
            raise DataValidationError(f"no prices for {', '.join(missing)}")
        closes = self.closes[assets].dropna(how="all")
        closes = closes.loc[(closes.index >= start) & (closes.index <= end)]
        if len(closes) < 2:
            raise InsufficientDataError(
                f"{', '.join(assets)}: fewer than 2 sessions between "
                f"{start.date()} and {end.date()}"
            )
        return Market(closes, self.cash_rate.reindex(closes.index))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Simple returns (0 on days without a session), the session mask, and cash returns.

        An asset's return on a session is its close over its previous close; its first
        session within the window has no return (the window starts there). Cash on bar t
        earns the rate known at the previous bar's close for the calendar days in between.
        """
        p = self.closes.to_numpy(dtype=float)
        traded = np.isfinite(p)
        held = pd.DataFrame(p).ffill().to_numpy()
        prev = np.vstack([np.full((1, p.shape[1]), np.nan), held[:-1]])
        ret = np.where(traded & np.isfinite(prev), p / prev - 1.0, 0.0)
        days = np.diff(self.closes.index.to_numpy()).astype("timedelta64[D]").astype(float)
        rate = self.cash_rate.to_numpy(dtype=float)
        cash = np.zeros(len(p))
        cash[1:] = np.nan_to_num(rate[:-1] / 100.0) * days / 360.0
        return ret, traded, cash


def execution_targets(
    decisions: pd.DataFrame, index: pd.DatetimeIndex, assets: list[str]
) -> np.ndarray:
    """Map targets decided at closes to the first bar of ``index`` strictly after each.

    ``decisions`` is indexed by the decision's date (the close whose data it used) with one
    column per asset (NaN: no decision for that asset). The result is ``(len(index), n)``
    with each row the newest decision that becomes executable on that bar; decisions dated
    before the first bar all map to it (the strategy's position at the start), and the last
    of several decisions mapping to one bar wins.
    """
    out = np.full((len(index), len(assets)), np.nan)
    if decisions.empty:
        return out
    extra = [c for c in decisions.columns if c not in assets]
    if extra:
        raise DataValidationError(f"targets name assets with no prices: {', '.join(extra)}")
    d = decisions.reindex(columns=assets).sort_index()
    w = d.to_numpy(dtype=float)
    finite = w[np.isfinite(w)]
    if finite.size and (finite.min() < -1e-12 or finite.max() > 1 + 1e-12):
        raise DataValidationError("target weights must lie between 0 and 1 (long only)")
    sums = np.nansum(w, axis=1)
    if (sums > 1 + 1e-9).any():
        bad = d.index[int(np.argmax(sums > 1 + 1e-9))]
        raise DataValidationError(f"target weights decided on {bad.date()} add up to over 1")
    pos = np.searchsorted(index.to_numpy(), d.index.to_numpy(), side="right")
    for row, p in enumerate(pos):
        if p >= len(index):
            continue
        vals = w[row]
        ok = np.isfinite(vals)
        out[p, ok] = vals[ok]
    return out


def bond_total_return_index(yields_pct: pd.Series, maturity_years: float = 10.0) -> pd.Series:
    """Total-return index of a constant-maturity par bond from its yield (a 10-year proxy).

    Each session the bond bought at par on the previous session (coupon = that yield,
    semi-annual) is repriced at the new yield with its maturity shortened by the calendar
    days in between, plus the coupon accrued over those days; then it is rolled into a new
    par bond. This is the usual way to turn a constant-maturity yield (FRED's DGS10) into
    returns when no bond index is free; it ignores the bid-ask of rolling.
    """
    y = yields_pct.dropna().astype(float) / 100.0
    if len(y) < 2:
        raise InsufficientDataError("a bond index needs at least two yields")
    days = np.diff(y.index.to_numpy()).astype("timedelta64[D]").astype(float)
    c = y.to_numpy()[:-1]
    new = y.to_numpy()[1:]
    n = 2.0 * (maturity_years - days / DAYS_PER_YEAR)  # semi-annual periods left
    half = new / 2.0
    disc = (1.0 + half) ** (-n)
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(half > 1e-12, (1.0 - disc) / half, n)
    price = (c / 2.0) * annuity + disc
    ret = price - 1.0 + c * days / DAYS_PER_YEAR
    level = np.concatenate([[100.0], 100.0 * np.cumprod(1.0 + ret)])
    return pd.Series(level, index=y.index, name=f"{yields_pct.name}_tr")


@numba.njit(cache=True, error_model="numpy")
def simulate(
    returns: np.ndarray,
    traded: np.ndarray,
    cash: np.ndarray,
    targets: np.ndarray,
    cost: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compiled kernel: values, weights held after each close, and weight traded each bar.

    ``targets[t]`` are the decisions executable from bar ``t`` (see
    :func:`execution_targets`); ``cost`` is the fraction of each unit of weight traded lost
    to costs and slippage. Sales are executed first; purchases use the cash there is and the
    rest waits for the next bar.
    """
    n_bars, n_assets = returns.shape
    values = np.empty(n_bars)
    held = np.zeros((n_bars, n_assets))
    traded_weight = np.zeros(n_bars)
    h = np.zeros(n_assets)
    pending = np.full(n_assets, np.nan)
    cash_w = 1.0
    value = 1.0
    for t in range(n_bars):
        if t > 0:
            total = cash_w * (1.0 + cash[t])
            for i in range(n_assets):
                h[i] *= 1.0 + returns[t, i]
                total += h[i]
            value *= total
            for i in range(n_assets):
                h[i] /= total
            cash_w = cash_w * (1.0 + cash[t]) / total
        for i in range(n_assets):
            if not math.isnan(targets[t, i]):
                pending[i] = targets[t, i]
        trade = 0.0
        for i in range(n_assets):
            if traded[t, i] and not math.isnan(pending[i]) and pending[i] < h[i]:
                trade += h[i] - pending[i]
                cash_w += h[i] - pending[i]
                h[i] = pending[i]
                pending[i] = np.nan
        wanted = 0.0
        for i in range(n_assets):
            if traded[t, i] and not math.isnan(pending[i]):
                wanted += pending[i] - h[i]
        scale = 1.0
        if wanted > cash_w:
            scale = max(cash_w, 0.0) / wanted
        for i in range(n_assets):
            if traded[t, i] and not math.isnan(pending[i]):
                buy = (pending[i] - h[i]) * scale
                trade += buy
                cash_w -= buy
                h[i] += buy
                if scale >= 1.0:
                    pending[i] = np.nan
        if trade > 0.0 and cost > 0.0:
            # Paid out of every holding pro rata: the weights stay, the value shrinks.
            value *= 1.0 - cost * trade
        values[t] = value
        traded_weight[t] = trade
        for i in range(n_assets):
            held[t, i] = h[i]
    return values, held, traded_weight


def simulate_python(
    returns: np.ndarray,
    traded: np.ndarray,
    cash: np.ndarray,
    targets: np.ndarray,
    cost: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The oracle of :func:`simulate`: the same rules, written for reading, uncompiled."""
    n_bars, n_assets = returns.shape
    values, held, traded_weight = [], [], []
    weights = [0.0] * n_assets
    pending: list[float | None] = [None] * n_assets
    cash_w, value = 1.0, 1.0
    for t in range(n_bars):
        if t > 0:
            grown = [weights[i] * (1.0 + returns[t, i]) for i in range(n_assets)]
            cash_grown = cash_w * (1.0 + cash[t])
            total = sum(grown) + cash_grown
            value *= total
            weights = [g / total for g in grown]
            cash_w = cash_grown / total
        for i in range(n_assets):
            if not math.isnan(targets[t, i]):
                pending[i] = float(targets[t, i])
        open_now = [bool(traded[t, i]) for i in range(n_assets)]
        trade = 0.0
        for i in range(n_assets):  # sales first: they fund the purchases
            p = pending[i]
            if open_now[i] and p is not None and p < weights[i]:
                trade += weights[i] - p
                cash_w += weights[i] - p
                weights[i] = p
                pending[i] = None
        buys = {
            i: p - weights[i]
            for i in range(n_assets)
            if open_now[i] and (p := pending[i]) is not None
        }
        want = sum(buys.values())
        scale = 1.0 if want <= cash_w else max(cash_w, 0.0) / want
        for i, amount in buys.items():
            trade += amount * scale
            cash_w -= amount * scale
            weights[i] += amount * scale
            if scale >= 1.0:
                pending[i] = None
        if trade > 0 and cost > 0:
            value *= 1.0 - cost * trade
        values.append(value)
        held.append(list(weights))
        traded_weight.append(trade)
    return np.array(values), np.array(held), np.array(traded_weight)


@numba.njit(cache=True, error_model="numpy")
def simulate_sweep(
    returns: np.ndarray,
    traded: np.ndarray,
    cash: np.ndarray,
    targets: np.ndarray,
    cost: float,
) -> np.ndarray:
    """Value paths ``(configurations, bars)`` of many target matrices on one market.

    ``targets`` is ``(configurations, bars, assets)``, each slice as for :func:`simulate`;
    a parameter sweep runs in one compiled call instead of one Python call per
    configuration.
    """
    out = np.empty((targets.shape[0], returns.shape[0]))
    for k in range(targets.shape[0]):
        values, _, _ = simulate(returns, traded, cash, targets[k], cost)
        out[k] = values
    return out
