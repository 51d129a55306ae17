"""Backtests of rotation strategies: honest timing, own calendars, and corrections for search.

- :mod:`~havenflow.analytics.backtest.engine`: the market (closes on each asset's sessions,
  the cash rate), the compiled simulation and its Python oracle;
- :mod:`~havenflow.analytics.backtest.strategies`: decisions from weights, phases, triggers;
- :mod:`~havenflow.analytics.backtest.metrics`: CAGR, volatility, Sharpe, Sortino, drawdown,
  block-bootstrap intervals, the deflated Sharpe ratio and PBO;
- :mod:`~havenflow.analytics.backtest.model`: ``Backtest(...).fit() -> BacktestResult`` and
  parameter sweeps with walk-forward choice.
"""

from havenflow.analytics.backtest.engine import Market, bond_total_return_index
from havenflow.analytics.backtest.model import (
    Backtest,
    BacktestResult,
    BacktestSpec,
    SweepResult,
    sweep,
)

__all__ = [
    "Backtest",
    "BacktestResult",
    "BacktestSpec",
    "Market",
    "SweepResult",
    "bond_total_return_index",
    "sweep",
]
