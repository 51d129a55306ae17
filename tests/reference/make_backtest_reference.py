"""Peer numbers for the backtest metrics: empyrical-reloaded and quantstats on our returns.

Run from the repository root in an environment with the peers installed (they are not
havenflow's dependencies)::

    python -m venv /tmp/peers && /tmp/peers/bin/pip install -e . empyrical-reloaded quantstats
    /tmp/peers/bin/python tests/reference/make_backtest_reference.py

It backtests buy-and-hold Bitcoin (a 365-day calendar) and the default phase rotation (cash
part of the time) on the bundled data, 2020-01-01 to 2025-12-31, no costs, and writes
``tests/reference/backtest_peers.json``: each path's bar returns and cash returns (the
inputs, so the test does not depend on the bundled data staying the same), the bars per year
observed, and the peers' CAGR, volatility, Sharpe, Sortino, max drawdown and Calmar with
``annualization`` set to those bars per year and the risk-free rate set to the cash returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import empyrical
import quantstats as qs

from havenflow.data.repository import DataRepository
from havenflow.services.backtest import builtin_strategy, run_backtest

HERE = Path(__file__).resolve().parent


def _case(name: str) -> dict[str, Any]:
    out = run_backtest(
        DataRepository(),
        builtin_strategy(name, "bitcoin" if name == "buy_and_hold" else None),
        start="2020-01-01",
        end="2025-12-31",
        benchmarks=False,
        search=False,
        replicates=99,
    )
    r = out.strategy
    returns = r.returns
    cash = returns - r.excess
    ann = r.bars_per_year
    excess = r.excess
    doc: dict[str, Any] = {
        "dates": [d.date().isoformat() for d in returns.index],
        "returns": returns.tolist(),
        "cash": cash.tolist(),
        "bars_per_year": ann,
        "empyrical": {
            # empyrical counts years as bars / annualization: the same as calendar days /
            # 365.25 once annualization is the bars per year observed.
            "cagr": float(empyrical.cagr(returns, annualization=ann)),
            "volatility": float(empyrical.annual_volatility(returns, annualization=ann)),
            "sharpe": float(empyrical.sharpe_ratio(returns, risk_free=cash, annualization=ann)),
            "sortino": float(empyrical.sortino_ratio(excess, annualization=ann)),
            "max_drawdown": float(empyrical.max_drawdown(returns)),
            "calmar": float(empyrical.calmar_ratio(returns, annualization=ann)),
        },
        "quantstats": {
            "volatility": float(qs.stats.volatility(returns, periods=ann, annualize=True)),
            "sharpe": float(qs.stats.sharpe(excess, rf=0.0, periods=ann)),
            "max_drawdown": float(qs.stats.max_drawdown(returns)),
        },
        "versions": {"empyrical": empyrical.__version__, "quantstats": qs.__version__},
    }
    return doc


def main() -> None:
    """Write the JSON."""
    doc = {name: _case(name) for name in ("buy_and_hold", "phase_rotation")}
    path = HERE / "backtest_peers.json"
    path.write_text(json.dumps(doc) + "\n")
    for name, case in doc.items():
        print(name, json.dumps(case["empyrical"]), json.dumps(case["quantstats"]))


if __name__ == "__main__":
    main()
