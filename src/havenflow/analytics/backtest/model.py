"""``Backtest(market, decisions, spec).fit() -> BacktestResult``, sweeps and walk-forward."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from havenflow.analytics.backtest.engine import Market, execution_targets, simulate
from havenflow.analytics.backtest.metrics import (
    bars_per_year,
    cagr,
    deflated_sharpe,
    max_drawdown,
    pbo_cscv,
    sharpe,
    sharpe_conf_int,
    sortino,
    volatility,
)
from havenflow.analytics.results import NO_JSON, Result
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "Backtest",
    "BacktestResult",
    "BacktestSpec",
    "SweepResult",
    "excess_returns",
    "sweep",
]

METRIC_KEYS = (
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "turnover",
    "exposure",
)


@dataclass(frozen=True)
class BacktestSpec:
    """What is simulated: a name, the window, and costs.

    Parameters
    ----------
    name
        The strategy's name in tables and JSON.
    start, end
        The window (closes on or after ``start``, on or before ``end``).
    cost_bps
        Commission per unit of weight traded, in basis points (10 = 0.1% of what is traded).
    slippage_bps
        Slippage per unit traded, in basis points (added to the cost).
    """

    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    cost_bps: float = 0.0
    slippage_bps: float = 0.0

    def __post_init__(self) -> None:
        for what, v in (("cost_bps", self.cost_bps), ("slippage_bps", self.slippage_bps)):
            if not (math.isfinite(v) and 0.0 <= v <= 1000.0):
                raise DataValidationError(f"{what} must be between 0 and 1000, got {v!r}")
        if self.end <= self.start:
            raise DataValidationError(
                f"the backtest ends ({self.end.date()}) before it starts ({self.start.date()})"
            )


@dataclass(frozen=True)
class BacktestResult(Result):
    """A strategy's simulated path and its metrics (returns simple, in fractions).

    Metrics are annualised on the strategy's own calendar (``bars_per_year`` observed);
    ``sharpe`` and ``sortino`` are on returns in excess of cash; ``turnover`` is the
    one-way fraction of the portfolio traded per year (a full switch from gold to Bitcoin
    counts 1); ``exposure`` the average weight held outside cash; ``hit_rate`` the share of
    bars with a positive excess return among bars spent invested.
    """

    kind: ClassVar[str] = "backtest"

    name: str
    assets: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    cost_bps: float
    slippage_bps: float
    nobs: int
    bars_per_year: float
    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sharpe_ci: tuple[float, float]
    sortino: float
    max_drawdown: float
    drawdown_peak: pd.Timestamp | None
    drawdown_trough: pd.Timestamp | None
    drawdown_recovery: pd.Timestamp | None
    calmar: float
    hit_rate: float
    turnover: float
    exposure: float
    n_trades: int
    equity: pd.Series = field(metadata=NO_JSON, repr=False)
    weights: pd.DataFrame = field(metadata=NO_JSON, repr=False)
    excess: pd.Series = field(metadata=NO_JSON, repr=False)

    @property
    def returns(self) -> pd.Series:
        """Bar returns of the value path (simple, fractions)."""
        return self.equity.pct_change().iloc[1:]

    def metrics(self) -> dict[str, float]:
        """The headline metrics (the JSON ``metrics`` object)."""
        return {k: getattr(self, k) for k in METRIC_KEYS}

    def conf_int(self, alpha: float = 0.05) -> tuple[float, float]:
        """Block-bootstrap interval of the Sharpe ratio (computed at 5%)."""
        if abs(alpha - 0.05) > 1e-12:
            raise DataValidationError("the Sharpe interval is computed at alpha = 0.05 only")
        return self.sharpe_ci

    def rolling_sharpe(self, days: int = 365) -> pd.Series:
        """Sharpe ratio over trailing ``days`` calendar days, annualised on this calendar."""
        x = self.excess
        window = f"{days}D"
        mean = x.rolling(window).mean()
        sd = x.rolling(window).std()
        out = mean / sd * math.sqrt(self.bars_per_year)
        full = x.index >= x.index[0] + pd.Timedelta(days=days)
        return out.where(full).dropna()

    def drawdown(self) -> pd.Series:
        """The value's fall from its running peak, every bar (0 at a peak)."""
        return self.equity / self.equity.cummax() - 1.0

    def to_dict(self) -> dict[str, Any]:
        """The fields, ``metrics{...}`` and ``equity[]`` (Result stamps kind).

        Each ``equity`` record: ``date``, ``value`` (starts at 1), ``drawdown`` (from the
        running peak) and ``rolling_sharpe`` (trailing 365 calendar days, null before).
        """
        from havenflow.analytics.results import jsonable

        doc = {
            f.name: jsonable(getattr(self, f.name))
            for f in self.__dataclass_fields__.values()
            if f.metadata.get("json", True) and f.name not in METRIC_KEYS
        }
        doc["metrics"] = jsonable(self.metrics())
        doc["returns"] = "simple, fractions (0.1 = 10%); sharpe and sortino on excess over cash"
        drawdown = self.drawdown().to_numpy()
        rolling = self.rolling_sharpe().reindex(self.equity.index).to_numpy()
        doc["equity"] = [
            {
                "date": pd.Timestamp(d).date().isoformat(),  # type: ignore[arg-type]
                "value": float(v),
                "drawdown": float(dd),
                "rolling_sharpe": jsonable(rs),
            }
            for (d, v), dd, rs in zip(self.equity.items(), drawdown, rolling, strict=True)
        ]
        return doc

    def to_frame(self) -> pd.DataFrame:
        """Value, drawdown, weights held after each close."""
        frame = pd.DataFrame({"value": self.equity, "drawdown": self.drawdown()})
        return frame.join(self.weights)

    def _summary_text(self) -> str:
        dd = (
            f"max drawdown {self.max_drawdown:.1%} ({_d(self.drawdown_peak)} -> "
            f"{_d(self.drawdown_trough)}, recovered {_d(self.drawdown_recovery)})"
        )
        lo, hi = self.sharpe_ci
        return (
            f"{self.name}: {_d(self.start)} to {_d(self.end)}, {self.nobs} bars "
            f"({self.bars_per_year:.0f} a year), costs {self.cost_bps + self.slippage_bps:g} bp\n"
            f"CAGR {self.cagr:.1%}, volatility {self.volatility:.1%}, Sharpe {self.sharpe:.2f} "
            f"[{lo:.2f}, {hi:.2f}], Sortino {self.sortino:.2f}, Calmar {self.calmar:.2f}\n"
            f"{dd}; turnover {self.turnover:.2f}/yr, exposure {self.exposure:.0%}, "
            f"trades on {self.n_trades} days"
        )


def _d(t: pd.Timestamp | None) -> str:
    return "never" if t is None else t.date().isoformat()


def excess_returns(
    equity: pd.Series, weights: pd.DataFrame, trade: pd.Series, cash: pd.Series
) -> np.ndarray:
    """Bar returns over cash, exactly 0 on bars spent wholly in cash without trading.

    (The value's return minus the cash return leaves rounding noise of 1e-17 there, which a
    Sharpe ratio would divide by itself.)
    """
    r = equity.pct_change().to_numpy()[1:]
    excess = np.asarray(r - cash.to_numpy()[1:], dtype=float)
    idle = weights.sum(axis=1).to_numpy()[:-1] <= 1e-12
    traded = trade.to_numpy() > 1e-12
    # The first return also carries the first bar's trades (the value starts at the capital).
    moved = traded[1:].copy()
    moved[0] |= traded[0]
    excess[idle & ~moved] = 0.0
    return excess


class Backtest:
    """Simulate target-weight decisions on a market.

    Parameters
    ----------
    market
        Closes of every asset the decisions may name (their own sessions) and the cash rate.
    decisions
        Targets indexed by the date of the close whose data decided them (see
        :mod:`havenflow.analytics.backtest.strategies`).
    spec
        Name, window and costs.
    """

    def __init__(self, market: Market, decisions: pd.DataFrame, spec: BacktestSpec) -> None:
        self.spec = spec
        self.assets = [str(c) for c in decisions.columns]
        if not self.assets:
            raise DataValidationError(f"{spec.name}: the strategy names no asset")
        self.market = market.restrict(self.assets, spec.start, spec.end)
        self.decisions = decisions

    def simulate(self) -> tuple[pd.Series, pd.DataFrame, pd.Series, pd.Series]:
        """Value path, weights held, weight traded and cash returns on the strategy's bars.

        The value path starts at the capital, 1, before the first bar's trades: the cost of
        a first purchase is in the first return, like every other cost.
        """
        index = pd.DatetimeIndex(self.market.closes.index)
        ret, traded, cash = self.market.arrays()
        targets = execution_targets(self.decisions, index, self.assets)
        cost = (self.spec.cost_bps + self.spec.slippage_bps) / 10_000.0
        values, held, trade = simulate(ret, traded, cash, targets, cost)
        values = values.copy()
        values[0] = 1.0
        return (
            pd.Series(values, index=index, name=self.spec.name),
            pd.DataFrame(held, index=index, columns=self.assets),
            pd.Series(trade, index=index),
            pd.Series(cash, index=index),
        )

    def active(self, weights: pd.DataFrame) -> np.ndarray:
        """Per bar: was some asset held over it open that day (a bar that can win or lose)."""
        _, traded, _ = self.market.arrays()
        before = weights.to_numpy()[:-1] > 1e-12
        return np.asarray((before & traded[1:]).any(axis=1))

    def fit(self, *, replicates: int = 999, seed: int | None = 0) -> BacktestResult:
        """Simulate and measure; ``replicates`` block-bootstrap draws for the Sharpe interval."""
        equity, weights, trade, cash = self.simulate()
        n = len(equity) - 1
        if n < 20:
            raise InsufficientDataError(f"{self.spec.name}: {n} bars, at least 20 needed")
        index = pd.DatetimeIndex(equity.index)
        periods = bars_per_year(index)
        years = (index[-1] - index[0]).days / 365.25
        r = equity.pct_change().to_numpy()[1:]
        excess = excess_returns(equity, weights, trade, cash)
        invested = weights.sum(axis=1).to_numpy()[:-1]  # held over each bar
        on = self.active(weights)
        dd = max_drawdown(equity)
        growth = cagr(equity)
        return BacktestResult(
            name=self.spec.name,
            assets=tuple(self.assets),
            start=index[0],
            end=index[-1],
            cost_bps=self.spec.cost_bps,
            slippage_bps=self.spec.slippage_bps,
            nobs=n,
            bars_per_year=periods,
            total_return=float(equity.iloc[-1] - 1.0),
            cagr=growth,
            volatility=volatility(r, periods),
            sharpe=sharpe(excess, periods),
            sharpe_ci=sharpe_conf_int(excess, periods, replicates=replicates, seed=seed),
            sortino=sortino(excess, periods),
            max_drawdown=dd.depth,
            drawdown_peak=dd.peak,
            drawdown_trough=dd.trough,
            drawdown_recovery=dd.recovery,
            calmar=growth / abs(dd.depth) if dd.depth < 0 else math.nan,
            hit_rate=float(np.mean(excess[on] > 0)) if on.any() else math.nan,
            # The first purchase out of cash counts half: turnover is one-way.
            turnover=float(trade.sum() / 2.0 / years),
            exposure=float(invested.mean()),
            n_trades=int((trade.to_numpy() > 1e-12).sum()),
            equity=equity,
            weights=weights,
            excess=pd.Series(excess, index=index[1:]),
        )


@dataclass(frozen=True)
class SweepResult(Result):
    """A parameter search judged for having searched.

    ``trials`` has one row per configuration (its parameters, Sharpe ratio, CAGR, max
    drawdown); ``best`` is the highest in-sample Sharpe ratio; ``deflated_sharpe`` the
    probability that its true Sharpe ratio beats the best of ``n_trials`` skill-less ones;
    ``pbo`` the probability of backtest overfitting (CSCV, ``pbo_blocks`` blocks);
    ``walk_forward`` the strategy that, at each refit date, adopts the configuration with
    the best Sharpe ratio on the data before it (its metrics are out of sample).
    """

    kind: ClassVar[str] = "backtest_sweep"

    name: str
    parameters: tuple[str, ...]
    n_trials: int
    best: dict[str, Any]
    best_sharpe: float
    deflated_sharpe: float
    sharpe_benchmark: float
    sharpe_variance: float
    pbo: float
    pbo_blocks: int
    refit: str
    walk_forward: BacktestResult | None
    walk_forward_choices: tuple[dict[str, Any], ...]
    trials: pd.DataFrame = field(metadata=NO_JSON, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per configuration."""
        return self.trials

    def to_dict(self) -> dict[str, Any]:
        """The fields and ``trials`` as records (Result stamps kind and schema_version)."""
        from havenflow.analytics.results import jsonable

        doc = {
            f.name: jsonable(getattr(self, f.name))
            for f in self.__dataclass_fields__.values()
            if f.metadata.get("json", True)
        }
        doc["trials"] = jsonable(self.trials.to_dict(orient="records"))
        return doc

    def _summary_text(self) -> str:
        best = ", ".join(f"{k}={v}" for k, v in self.best.items())
        wf = (
            f"; walk-forward (refit {self.refit}) Sharpe {self.walk_forward.sharpe:.2f}, "
            f"CAGR {self.walk_forward.cagr:.1%}"
            if self.walk_forward is not None
            else ""
        )
        return (
            f"{self.name}: best of {self.n_trials} configurations ({best}) Sharpe "
            f"{self.best_sharpe:.2f}, deflated Sharpe {self.deflated_sharpe:.2f}; "
            f"PBO {self.pbo:.2f}{wf}"
        )


def sweep(
    name: str,
    market: Market,
    configurations: Sequence[Mapping[str, Any]],
    decisions: Sequence[pd.DataFrame],
    spec: BacktestSpec,
    *,
    refit: str = "YS",
    min_history_days: int = 365,
    pbo_blocks: int = 16,
    replicates: int = 999,
    seed: int | None = 0,
) -> SweepResult:
    """Run every configuration, deflate the best Sharpe ratio, estimate PBO, walk forward.

    ``configurations[k]`` names the parameters of ``decisions[k]`` (all built from data
    known at each date). The deflated Sharpe ratio uses the variance of the trials' Sharpe
    ratios and the number of trials (correlated trials make this conservative). The
    walk-forward strategy switches, at every ``refit`` date once ``min_history_days`` have
    passed, to the configuration with the best Sharpe ratio on the bars before that date
    (cash while none has held anything), pays the costs of switching, and is measured from
    the first refit date.
    """
    if len(configurations) != len(decisions) or len(decisions) < 2:
        raise DataValidationError("a sweep needs at least two configurations")
    results = [
        Backtest(
            market, d, BacktestSpec(name, spec.start, spec.end, spec.cost_bps, spec.slippage_bps)
        ).simulate()
        for d in decisions
    ]
    index = results[0][0].index
    if any(not v.index.equals(index) for v, _, _, _ in results):
        raise DataValidationError("every configuration must trade the same assets")
    returns = np.column_stack([excess_returns(*res) for res in results])
    periods = bars_per_year(pd.DatetimeIndex(index))
    sd = returns.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_bar = np.where(sd > 0, returns.mean(axis=0) / sd, np.nan)
    trials = pd.DataFrame([dict(c) for c in configurations])
    trials["sharpe"] = per_bar * math.sqrt(periods)
    trials["cagr"] = [cagr(v) for v, _, _, _ in results]
    trials["max_drawdown"] = [max_drawdown(v).depth for v, _, _, _ in results]
    finite = np.isfinite(per_bar)
    if not finite.any():
        raise InsufficientDataError(f"{name}: no configuration ever held anything")
    best_k = int(np.nanargmax(per_bar))
    # Trials that never held anything have no Sharpe ratio; they still count as tries.
    variance = float(np.var(per_bar[finite], ddof=1)) if finite.sum() > 1 else 0.0
    dsr, _, sr0 = deflated_sharpe(returns[:, best_k], len(decisions), variance)
    pbo, _ = pbo_cscv(np.where(np.isfinite(returns), returns, 0.0), pbo_blocks)

    # Walk-forward: refit dates, each choosing on bars strictly before it.
    idx = pd.DatetimeIndex(index)
    refits = pd.date_range(idx[0] + pd.Timedelta(days=min_history_days), idx[-1], freq=refit)
    pieces = []
    choices: list[dict[str, Any]] = []
    for j, when in enumerate(refits):
        past = np.asarray(idx[1:] < when)
        hist = returns[past]
        s = hist.std(axis=0, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(s > 0, hist.mean(axis=0) / s, -np.inf)
        until = refits[j + 1] if j + 1 < len(refits) else idx[-1] + pd.Timedelta(days=1)
        if not np.isfinite(score).any():
            # No configuration has held anything yet: nothing to choose on, stay in cash.
            choices.append({"from": when.date().isoformat(), "cash": True})
            continue
        k = int(np.argmax(score))
        choices.append({"from": when.date().isoformat(), **dict(configurations[k])})
        d = decisions[k]
        # Decisions of the chosen configuration dated from the day before the refit date
        # (its position then) until the next refit; the first piece starts from cash.
        d = d.loc[(d.index < until)]
        before = d.loc[d.index < when - pd.Timedelta(days=1)]
        if not before.empty:
            d = pd.concat(
                [
                    before.iloc[[-1]].set_axis([when - pd.Timedelta(days=1)]),
                    d.loc[d.index >= when - pd.Timedelta(days=1)],
                ]
            )
        pieces.append(d)
    walk: BacktestResult | None = None
    if pieces:
        stitched = pd.concat(pieces).fillna(0.0)
        stitched = stitched[~stitched.index.duplicated(keep="last")].sort_index()
        # Measured from the first choice: before it the walk-forward has nothing to choose on,
        # and months of cash would dilute its numbers.
        wf_spec = BacktestSpec(
            f"{name} (walk-forward from {refits[0].date()})",
            refits[0],
            spec.end,
            spec.cost_bps,
            spec.slippage_bps,
        )
        walk = Backtest(market, stitched, wf_spec).fit(replicates=replicates, seed=seed)
    return SweepResult(
        name=name,
        parameters=tuple(trials.columns[: len(configurations[0])]),
        n_trials=len(decisions),
        best=dict(configurations[best_k]),
        best_sharpe=float(trials["sharpe"].iloc[best_k]),
        deflated_sharpe=dsr,
        sharpe_benchmark=sr0 * math.sqrt(periods),
        sharpe_variance=variance,
        pbo=pbo,
        pbo_blocks=pbo_blocks,
        refit=refit,
        walk_forward=walk,
        walk_forward_choices=tuple(choices),
        trials=trials,
    )
