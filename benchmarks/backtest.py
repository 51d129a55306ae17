"""A 1,000-configuration sweep of the trigger rule: havenflow's engine vs vectorbt, same run.

The rule: after each close of silver above its previous N-session high (N in 20 values from
21 to 525), hold Bitcoin for W weeks (W = 1..50), else cash: 1,000 configurations on
Bitcoin's own daily calendar, 2015-01-01 to 2025-12-31, 10 bp per unit traded. Both engines
get the same target-weight matrix (decided at each close, traded at the next bar) and
return each configuration's value path and Sharpe ratio; the script checks that the two
agree (final values with no costs to 1e-9, Sharpe ratios) before timing them.

- havenflow: ``simulate_sweep`` (compiled; one pass per configuration) plus the metrics.
- vectorbt: ``Portfolio.from_orders(close, size=targets, size_type="targetpercent")``
  with 1,000 columns, then ``sharpe_ratio()``.

Each timing is the median of 3 runs after a warm-up (numba compiles once in both).

Run: ``python benchmarks/backtest.py`` in an environment with vectorbt installed
(``pip install vectorbt``; not a havenflow dependency). Without it, only havenflow is timed.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from havenflow.analytics.backtest.engine import Market, simulate_sweep
from havenflow.analytics.backtest.metrics import deflated_sharpe, pbo_cscv
from havenflow.analytics.backtest.strategies import trigger_hold
from havenflow.analytics.events import parse_trigger, trigger_onsets
from havenflow.data.repository import DataRepository

START, END = "2015-01-01", "2025-12-31"
LOOKBACKS = np.linspace(21, 525, 20).astype(int)
HOLD_WEEKS = np.arange(1, 51)
COST = 0.001


def _median(fn: Callable[[], object], repeats: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def build() -> tuple[pd.Series, np.ndarray, list[tuple[int, int]]]:
    """Bitcoin's closes and the (bars, configurations) target matrix decided at each close."""
    repo = DataRepository()
    btc = repo.load("bitcoin").values.loc[START:END]
    silver = repo.load("silver").values.loc[:END]
    days = pd.DatetimeIndex(btc.index)
    cols, configs = [], []
    for n in LOOKBACKS:
        onsets = trigger_onsets(parse_trigger(f"silver:high({n})"), silver.to_frame("silver"))
        for w in HOLD_WEEKS:
            cols.append(trigger_hold(onsets, days, "bitcoin", 7 * int(w))["bitcoin"].to_numpy())
            configs.append((int(n), int(w)))
    return btc, np.column_stack(cols), configs


def havenflow_sweep(btc: pd.Series, decided: np.ndarray, cost: float) -> tuple[np.ndarray, ...]:
    """Values (bars, configurations) and annualised Sharpe ratios by havenflow's engine."""
    market = Market.from_series({"bitcoin": btc})
    ret, traded, cash = market.arrays()
    cash = np.zeros_like(cash)  # vectorbt's cash earns nothing: compare like with like
    # Decided at the close of t, executable from bar t+1.
    targets = np.full((decided.shape[1], len(btc), 1), np.nan)
    targets[:, 1:, 0] = decided[:-1].T
    values = simulate_sweep(ret, traded, cash, targets, cost)
    r = values[:, 1:] / values[:, :-1] - 1.0
    sharpe = r.mean(axis=1) / r.std(axis=1, ddof=1) * math.sqrt(365)
    return values.T, sharpe


def vectorbt_sweep(btc: pd.Series, decided: np.ndarray, cost: float) -> tuple[np.ndarray, ...]:
    """The same with vectorbt."""
    import vectorbt as vbt

    size = np.full_like(decided, np.nan)
    size[1:] = decided[:-1]
    close = pd.DataFrame(
        np.repeat(btc.to_numpy()[:, None], decided.shape[1], axis=1), index=btc.index
    )
    pf = vbt.Portfolio.from_orders(
        close, size=size, size_type="targetpercent", fees=cost, freq="1D", init_cash=1.0
    )
    r = pf.returns().to_numpy()[1:]
    sharpe = r.mean(axis=0) / r.std(axis=0, ddof=1) * math.sqrt(365)
    return pf.value().to_numpy(), sharpe


def main() -> None:
    """Check agreement, then time both."""
    t = time.perf_counter()
    btc, decided, configs = build()
    print(
        f"signals for {len(configs)} configurations on {len(btc)} bars: "
        f"{time.perf_counter() - t:.2f} s (shared by both engines)"
    )
    ours_v, ours_s = havenflow_sweep(btc, decided, 0.0)
    try:
        import vectorbt  # noqa: F401
    except ImportError:
        vectorbt_available = False
    else:
        vectorbt_available = True
    if vectorbt_available:
        theirs_v, theirs_s = vectorbt_sweep(btc, decided, 0.0)
        err = np.max(np.abs(ours_v[-1] / theirs_v[-1] - 1.0))
        print(
            f"no costs: largest relative difference of final values {err:.2e}, of Sharpe "
            f"ratios {np.nanmax(np.abs(ours_s - theirs_s)):.2e}"
        )
        _, s1 = havenflow_sweep(btc, decided, COST)
        _, s2 = vectorbt_sweep(btc, decided, COST)
        print(
            f"10 bp: largest Sharpe difference {np.nanmax(np.abs(s1 - s2)):.2e} (vectorbt "
            "takes fees out of cash on each order, havenflow out of the value pro rata)"
        )
    ours = _median(lambda: havenflow_sweep(btc, decided, COST))
    print(f"havenflow: {ours:.3f} s for {len(configs)} configurations")
    if vectorbt_available:
        theirs = _median(lambda: vectorbt_sweep(btc, decided, COST))
        print(f"vectorbt:  {theirs:.3f} s; ratio vectorbt / havenflow = {theirs / ours:.1f}x")
    best = int(np.nanargmax(ours_s))
    values, _ = havenflow_sweep(btc, decided, 0.0)
    r = values[1:] / values[:-1] - 1.0
    per_bar = r.mean(axis=0) / r.std(axis=0, ddof=1)
    dsr, _, _ = deflated_sharpe(r[:, best], len(configs), float(np.nanvar(per_bar, ddof=1)))
    pbo, _ = pbo_cscv(r, 16)
    print(
        f"best configuration (no costs): high({configs[best][0]}), hold "
        f"{configs[best][1]} weeks, Sharpe {ours_s[best]:.2f}; deflated Sharpe for "
        f"{len(configs)} trials {dsr:.2f}; PBO {pbo:.2f}"
    )


if __name__ == "__main__":
    main()
