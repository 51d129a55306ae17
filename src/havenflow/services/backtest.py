"""Backtests of a note's rotation: load -> decisions -> simulate -> metrics, with benchmarks.

Strategies come from a name (``buy_and_hold``, ``phase_rotation``, ``trigger``) or a small
TOML file (see :func:`load_strategy_file` and ``docs/backtest.md``). Every decision uses data
known at its date: prices at their close, the rule-based phase classified from indicators
known that day (macro series on their release dates), trigger onsets from closes up to that
day. The engine trades them on each asset's next session.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from havenflow.analytics.results import Result
from havenflow.data.repository import DataRepository
from havenflow.exceptions import DataValidationError, HavenflowError
from havenflow.services._load import _aligned_levels, _has_data
from havenflow.universe import PHASE_SERIES

if TYPE_CHECKING:
    from havenflow.analytics.backtest import BacktestResult, Market, SweepResult

__all__ = [
    "BOND_PROXY",
    "STRATEGIES",
    "BacktestOutcome",
    "StrategyConfig",
    "builtin_strategy",
    "load_strategy_file",
    "parse_strategy",
    "run_backtest",
    "strategy_config",
    "strategy_decisions",
]

#: A 10-year Treasury total-return proxy built from the DGS10 yield (see
#: :func:`~havenflow.analytics.backtest.engine.bond_total_return_index`).
BOND_PROXY = "bond_10y"
STRATEGIES = ("buy_and_hold", "phase_rotation", "trigger")
Kind = Literal["buy_and_hold", "weights", "phase_rotation", "trigger"]

#: Default sweeps: what a user would try, judged by the deflated Sharpe ratio and PBO.
DEFAULT_SWEEPS: dict[str, dict[str, list[Any]]] = {
    "phase_rotation": {"window": [42, 63, 126], "confirm": [10, 21, 42]},
    "trigger": {"bars": [126, 252, 504], "hold_weeks": [4, 8, 13, 26]},
}


@dataclass(frozen=True)
class StrategyConfig:
    """A strategy as data (from a name and options, or a TOML file).

    Attributes
    ----------
    name
        Shown in tables and JSON.
    kind
        ``buy_and_hold`` (``weights`` bought once), ``weights`` (rebalanced to ``weights``
        at each rebalancing date), ``phase_rotation`` or ``trigger``.
    weights
        For ``buy_and_hold`` and ``weights``: asset to weight (the rest in cash).
    holdings, otherwise
        For ``phase_rotation``: weights held in each phase (1-4), and in the others.
    window, confirm
        The phase classifier's parameters (bars).
    trigger, asset, hold_weeks
        For ``trigger``: hold ``asset`` for ``hold_weeks`` weeks after each onset.
    rebalance
        How often the signal is looked at (``D``, ``W``, ``M``).
    sweep
        Parameter lists to search (``window``/``confirm``; ``bars``/``hold_weeks``).
    """

    name: str
    kind: Kind
    weights: Mapping[str, float] = field(default_factory=dict)
    holdings: Mapping[int, Mapping[str, float]] = field(default_factory=dict)
    otherwise: Mapping[str, float] = field(default_factory=dict)
    window: int = 63
    confirm: int = 21
    trigger: str = "silver:high(252)"
    asset: str = "bitcoin"
    hold_weeks: int = 13
    rebalance: Literal["D", "W", "M"] = "D"
    sweep: Mapping[str, list[Any]] = field(default_factory=dict)
    #: The first date to backtest from when none is given (ISO date; None: 2018-01-01).
    start: str | None = None
    #: Costs per unit of weight traded (basis points) when none are given.
    cost_bps: float = 0.0

    def assets(self) -> list[str]:
        """Every asset the strategy may hold."""
        if self.kind in ("buy_and_hold", "weights"):
            return list(self.weights)
        if self.kind == "trigger":
            return [self.asset]
        names = [a for w in self.holdings.values() for a in w] + list(self.otherwise)
        return list(dict.fromkeys(names))


def builtin_strategy(
    name: str, asset: str | None = None, rebalance: Literal["D", "W", "M"] | None = None
) -> StrategyConfig:
    """The named strategy with its defaults (``asset`` for buy-and-hold and the trigger)."""
    if name == "buy_and_hold":
        a = asset or "bitcoin"
        cfg = StrategyConfig(f"buy and hold {a}", "buy_and_hold", weights={a: 1.0})
    elif name == "phase_rotation":
        if asset:
            raise DataValidationError(
                "--asset applies to buy_and_hold and trigger; the phase rotation holds what "
                "its phases name (change them in a --file strategy)"
            )
        cfg = StrategyConfig(
            "phase rotation",
            "phase_rotation",
            holdings={1: {"gold": 0.5, "silver": 0.5}, 2: {"bitcoin": 1.0}},
            otherwise={},
            rebalance="W",
            sweep=DEFAULT_SWEEPS["phase_rotation"],
        )
    elif name == "trigger":
        a = asset or "bitcoin"
        cfg = StrategyConfig(
            f"{a} 13 weeks after silver:high(252)",
            "trigger",
            asset=a,
            sweep=DEFAULT_SWEEPS["trigger"],
        )
    else:
        raise DataValidationError(
            f"unknown strategy {name!r}; use one of {', '.join(STRATEGIES)} or --file"
        )
    return replace(cfg, rebalance=rebalance) if rebalance else cfg


def strategy_config(
    name: str | None,
    file: str | Path | None = None,
    asset: str | None = None,
    rebalance: Literal["D", "W", "M"] | None = None,
) -> StrategyConfig:
    """The strategy of a file (which wins) or a built-in name, ``rebalance`` overriding."""
    if file is not None:
        cfg = load_strategy_file(file)
        return replace(cfg, rebalance=rebalance) if rebalance is not None else cfg
    if name is None:
        raise DataValidationError("give a strategy name or a file")
    return builtin_strategy(name, asset, rebalance)


def _weights(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise DataValidationError(f"{where}: expected a table of asset = weight")
    out = {}
    for k, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
            raise DataValidationError(f"{where}.{k}: a weight must be a number from 0 to 1")
        out[str(k)] = float(v)
    if sum(out.values()) > 1 + 1e-9:
        raise DataValidationError(f"{where}: weights add up to {sum(out.values()):g}, over 1")
    return out


def load_strategy_file(path: str | Path) -> StrategyConfig:
    """Read a strategy from TOML; a bad file gets a one-line error naming the file and key.

    The file has one ``[strategy]`` table::

        [strategy]
        name = "metals in fear, bitcoin in debasement"
        kind = "phase_rotation"        # or buy_and_hold, weights, trigger
        rebalance = "W"
        holdings = { 1 = { gold = 0.5, silver = 0.5 }, 2 = { bitcoin = 1.0 } }
        otherwise = { bond_10y = 1.0 } # {} is cash
        [strategy.sweep]
        window = [42, 63, 126]
    """
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataValidationError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{p}: not valid TOML ({exc})") from None
    raw = doc.get("strategy")
    if not isinstance(raw, dict):
        raise DataValidationError(f"{p}: needs a [strategy] table")
    return parse_strategy(raw, str(p))


def parse_strategy(raw: dict[str, Any], path: str) -> StrategyConfig:
    """Validate a ``[strategy]`` table (of a strategy file or a note); errors name ``path``.

    Also takes ``start`` (the first date to backtest from, for a note's strategy).
    """
    p = path
    if not isinstance(raw, dict):
        raise DataValidationError(f"{p}: [strategy] must be a table")
    known = {
        "name", "kind", "weights", "holdings", "otherwise", "window", "confirm", "trigger",
        "asset", "hold_weeks", "rebalance", "sweep", "start", "cost_bps",
    }  # fmt: skip
    extra = sorted(set(raw) - known)
    if extra:
        raise DataValidationError(f"{p}: strategy.{extra[0]} is not a known key")
    kind = raw.get("kind")
    if kind not in ("buy_and_hold", "weights", "phase_rotation", "trigger"):
        raise DataValidationError(
            f"{p}: strategy.kind must be buy_and_hold, weights, phase_rotation or trigger"
        )
    where = f"{p}: strategy"
    kw: dict[str, Any] = {"name": str(raw.get("name", kind)), "kind": kind}
    if kind in ("buy_and_hold", "weights"):
        kw["weights"] = _weights(raw.get("weights"), f"{where}.weights")
    if kind == "phase_rotation":
        holdings = raw.get("holdings", {})
        if not isinstance(holdings, dict):
            raise DataValidationError(f"{where}.holdings: expected a table of phase = weights")
        parsed: dict[int, dict[str, float]] = {}
        for ph, w in holdings.items():
            if str(ph) not in {"1", "2", "3", "4"}:
                raise DataValidationError(f"{where}.holdings.{ph}: phases are 1, 2, 3 and 4")
            parsed[int(ph)] = _weights(w, f"{where}.holdings.{ph}")
        kw["holdings"] = parsed
        kw["otherwise"] = _weights(raw.get("otherwise", {}), f"{where}.otherwise")
    for key in ("window", "confirm", "hold_weeks"):
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 520:
                raise DataValidationError(f"{where}.{key}: a whole number from 1 to 520")
            kw[key] = v
    for key in ("trigger", "asset"):
        if key in raw:
            if not isinstance(raw[key], str):
                raise DataValidationError(f"{where}.{key}: expected a string")
            kw[key] = raw[key]
    if "rebalance" in raw:
        if raw["rebalance"] not in ("D", "W", "M"):
            raise DataValidationError(f"{where}.rebalance: D, W or M")
        kw["rebalance"] = raw["rebalance"]
    sweep = raw.get("sweep", {})
    allowed = {"phase_rotation": {"window", "confirm"}, "trigger": {"bars", "hold_weeks"}}
    if not isinstance(sweep, dict):
        raise DataValidationError(f"{where}.sweep: expected a table of parameter = [values]")
    for key, values in sweep.items():
        if key not in allowed.get(kind, set()):
            raise DataValidationError(f"{where}.sweep.{key}: not a parameter of {kind}")
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)
        ):
            raise DataValidationError(f"{where}.sweep.{key}: a list of positive whole numbers")
    kw["sweep"] = sweep
    if "cost_bps" in raw:
        c = raw["cost_bps"]
        if isinstance(c, bool) or not isinstance(c, int | float) or not 0 <= c <= 1000:
            raise DataValidationError(f"{where}.cost_bps: a number of basis points, 0 to 1000")
        kw["cost_bps"] = float(c)
    if "start" in raw:
        from havenflow.data.validate import parse_asof

        try:
            kw["start"] = parse_asof(str(raw["start"]), "key 'start'").date().isoformat()
        except HavenflowError as exc:
            raise DataValidationError(f"{where}.start: {exc}") from None
    cfg = StrategyConfig(**kw)
    if kind == "trigger":
        from havenflow.analytics.events import parse_trigger

        try:
            parse_trigger(cfg.trigger)
        except DataValidationError as exc:
            raise DataValidationError(f"{where}.trigger: {exc}") from None
    if not cfg.assets():
        raise DataValidationError(f"{where}: the strategy holds nothing (all cash)")
    return cfg


def _market(repo: DataRepository, assets: list[str], asof: pd.Timestamp) -> Market:
    """Closes of ``assets`` on their own sessions, as known at ``asof``, and the policy rate."""
    from havenflow.analytics.backtest import Market, bond_total_return_index

    ids = [("nominal_10y" if a == BOND_PROXY else a) for a in assets]
    loaded = repo.load_many([*dict.fromkeys(ids), "fed_funds"], asof)
    prices: dict[str, pd.Series] = {}
    for a, sid in zip(assets, ids, strict=True):
        item = loaded[sid]
        if a == BOND_PROXY:
            prices[a] = bond_total_return_index(item.values)
            continue
        if item.spec.is_differenced:
            raise DataValidationError(f"{a} is a {item.spec.kind}, not a price: it cannot be held")
        prices[a] = item.values
    rate = loaded["fed_funds"]
    # The policy rate as known: DFF for a day is published the next business day.
    known = pd.Series(rate.values.to_numpy(), index=pd.DatetimeIndex(rate.known_dates()))
    known = known[~known.index.duplicated(keep="last")]
    return Market.from_series(prices, known)


def _phases(repo: DataRepository, asof: pd.Timestamp, window: int, confirm: int) -> pd.Series:
    from havenflow.analytics.regime import OPTIONAL, PhaseClassifier, PhaseSpec

    available = [s for s in PHASE_SERIES if s not in OPTIONAL or _has_data(repo, s, asof)]
    levels, _, _ = _aligned_levels(repo, available, "B", asof)
    rules = PhaseClassifier(levels, PhaseSpec(window=window, confirm=confirm)).fit()
    return rules.phase.dropna().astype(int)


def strategy_decisions(
    repo: DataRepository,
    cfg: StrategyConfig,
    market: Market,
    start: pd.Timestamp,
    asof: pd.Timestamp,
) -> pd.DataFrame:
    """The strategy's decisions from data known at each date (see the module docstring)."""
    from havenflow.analytics.backtest.strategies import (
        fixed_weights,
        phase_rotation,
        rebalance_dates,
        sample_signal,
        trigger_hold,
    )
    from havenflow.analytics.events import parse_trigger, trigger_onsets

    bars = market.restrict(cfg.assets(), start, asof).closes.index
    on = rebalance_dates(pd.DatetimeIndex(bars), cfg.rebalance)
    if cfg.kind == "buy_and_hold":
        return fixed_weights(cfg.weights, start)
    if cfg.kind == "weights":
        return fixed_weights(cfg.weights, start, on)
    if cfg.kind == "phase_rotation":
        phase = _phases(repo, asof, cfg.window, cfg.confirm)
        signal = phase_rotation(phase, cfg.holdings, cfg.otherwise)
    else:
        trig = parse_trigger(cfg.trigger)
        if trig.kind == "phase":
            levels = pd.DataFrame({"phase": _phases(repo, asof, cfg.window, cfg.confirm)})
        else:
            levels, _, _ = _aligned_levels(repo, list(trig.series), "B", asof)
        onsets = trigger_onsets(trig, levels)
        days = pd.DatetimeIndex(levels.index.union(bars))
        signal = trigger_hold(onsets, days, cfg.asset, 7 * cfg.hold_weeks)
    # Decisions dated before the start set the position held at the start.
    head = signal.loc[signal.index < start]
    sampled = sample_signal(signal, on)
    if not head.empty:
        first = head.iloc[[-1]]
        if not sampled.empty and np.allclose(
            sampled.iloc[0].to_numpy(), first.iloc[0].to_numpy(), equal_nan=True
        ):
            sampled = sampled.iloc[1:]  # the position held at the start, already decided
        sampled = pd.concat([first, sampled])
    return sampled


def _sweep_configs(cfg: StrategyConfig) -> list[tuple[dict[str, Any], StrategyConfig]]:
    grid = cfg.sweep
    if not grid:
        return []
    out = []
    if cfg.kind == "phase_rotation":
        for w in grid.get("window", [cfg.window]):
            for c in grid.get("confirm", [cfg.confirm]):
                out.append(({"window": w, "confirm": c}, replace(cfg, window=w, confirm=c)))
    elif cfg.kind == "trigger":
        from havenflow.analytics.events import parse_trigger

        trig = parse_trigger(cfg.trigger)
        bars_list = grid.get("bars", [trig.bars]) if trig.bars is not None else [None]
        for b in bars_list:
            text = cfg.trigger if b is None else cfg.trigger.replace(f"({trig.bars})", f"({b})")
            for h in grid.get("hold_weeks", [cfg.hold_weeks]):
                out.append(({"bars": b, "hold_weeks": h}, replace(cfg, trigger=text, hold_weeks=h)))
    return out if len(out) >= 2 else []


@dataclass(frozen=True)
class BacktestOutcome(Result):
    """A strategy against its benchmarks, with the search it came from judged."""

    kind: ClassVar[str] = "backtest_report"

    strategy: BacktestResult
    benchmarks: tuple[BacktestResult, ...]
    sweep: SweepResult | None
    description: str
    asof: pd.Timestamp
    timing: str = (
        "decisions use data known at a close and trade at each asset's next session's close"
    )
    notes: tuple[str, ...] = ()
    #: The strategy's own deflated Sharpe ratio, for the search it sits in (NaN without one).
    deflated_sharpe: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """The strategy's ``metrics`` and ``equity`` at the top, benchmarks and the sweep."""
        from havenflow.analytics.results import jsonable

        doc = self.strategy.to_dict()
        return {
            "name": self.strategy.name,
            "description": self.description,
            "asof": self.asof.date().isoformat(),
            "timing": self.timing,
            "metrics": doc["metrics"],
            "deflated_sharpe": jsonable(self.deflated_sharpe),
            "equity": doc["equity"],
            "strategy": doc,
            "benchmarks": [b.to_dict() for b in self.benchmarks],
            "sweep": None if self.sweep is None else self.sweep.to_dict(),
            "notes": list(self.notes),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row of metrics per strategy and benchmark."""
        rows = []
        for r in (self.strategy, *self.benchmarks, *self._walk()):
            lo, hi = r.sharpe_ci
            rows.append(
                {
                    "strategy": r.name,
                    **r.metrics(),
                    "sharpe_lo": lo,
                    "sharpe_hi": hi,
                    "hit_rate": r.hit_rate,
                    "start": r.start.date(),
                    "end": r.end.date(),
                }
            )
        return pd.DataFrame(rows).set_index("strategy")

    def _walk(self) -> tuple[BacktestResult, ...]:
        if self.sweep is None or self.sweep.walk_forward is None:
            return ()
        return (self.sweep.walk_forward,)

    def _summary_text(self) -> str:
        lines = [self.strategy._summary_text()]
        if self.sweep is not None:
            lines.append(
                f"deflated Sharpe of this configuration among the {self.sweep.n_trials} tried: "
                f"{self.deflated_sharpe:.2f}"
            )
            lines.append(self.sweep._summary_text())
        return "\n".join(lines)


def run_backtest(
    repo: DataRepository,
    cfg: StrategyConfig,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    cost_bps: float | None = None,
    slippage_bps: float = 0.0,
    benchmarks: bool = True,
    search: bool = True,
    replicates: int = 999,
    seed: int | None = 0,
) -> BacktestOutcome:
    """Backtest ``cfg`` from ``start`` to ``end`` (default: the last date its assets share).

    ``start`` and ``cost_bps`` default to the strategy's own (``cfg.start``, ``cfg.cost_bps``).

    Benchmarks (buy-and-hold Bitcoin and gold, 60/40 S&P 500 and the 10-year Treasury proxy
    rebalanced monthly, an equal weight of gold, silver, Bitcoin and the S&P 500 rebalanced
    monthly) run over the same window with the same costs. With ``search`` and a sweep in
    ``cfg``, every configuration is run, the best judged by the deflated Sharpe ratio and
    PBO, and a walk-forward choice among them is simulated out of sample.
    """
    from havenflow.analytics.backtest import Backtest, BacktestSpec, sweep
    from havenflow.data.validate import parse_asof
    from havenflow.services.asof import resolve_asof

    assets = cfg.assets()
    signal_ids = _signal_series(cfg)
    bench_sets: list[tuple[str, dict[str, float], bool]] = [
        ("buy and hold bitcoin", {"bitcoin": 1.0}, False),
        ("buy and hold gold", {"gold": 1.0}, False),
        ("60/40 S&P 500 / 10y Treasury", {"sp500": 0.6, BOND_PROXY: 0.4}, True),
        ("equal weight", {"gold": 0.25, "silver": 0.25, "bitcoin": 0.25, "sp500": 0.25}, True),
    ]

    def ids(names: list[str]) -> list[str]:
        return [("nominal_10y" if a == BOND_PROXY else a) for a in names]

    # The window ends on the last date that the strategy's assets and its signal's series
    # share (a signal whose data has ended would hold cash by construction).
    needed = ids([*assets, *signal_ids])
    try:
        end_ts = resolve_asof(repo, tuple(dict.fromkeys(needed)), end).asof
    except DataValidationError as exc:
        raise DataValidationError(str(exc).replace("--asof", "--end")) from None
    try:
        first = start if start is not None else (cfg.start or "2018-01-01")
        start_ts = parse_asof(first)
    except DataValidationError as exc:
        raise DataValidationError(str(exc).replace("--asof", "--start")) from None
    if start_ts >= end_ts:
        raise DataValidationError(
            f"--start {start_ts.date()} is not before the end {end_ts.date()}"
        )
    everything = list(dict.fromkeys([*assets, *(a for _, w, _ in bench_sets for a in w)]))
    market = _market(repo, everything, end_ts)
    if cost_bps is None:
        cost_bps = cfg.cost_bps
    spec = BacktestSpec(cfg.name, start_ts, end_ts, cost_bps, slippage_bps)
    decisions = strategy_decisions(repo, cfg, market, start_ts, end_ts)
    result = Backtest(market, decisions, spec).fit(replicates=replicates, seed=seed)
    notes: list[str] = []
    bench: list[BacktestResult] = []
    known_rate = repo.load("fed_funds", end_ts).values.dropna()
    if not known_rate.empty and known_rate.index[-1] < end_ts - pd.Timedelta(days=7):
        notes.append(
            f"the fed funds rate ends {known_rate.index[-1].date()}: cash earns its last value "
            f"({known_rate.iloc[-1]:.2f}%) after that (update it with `havenflow data update "
            "fed_funds`)"
        )
    if benchmarks:
        last = common_last(repo, ids(everything))
        for name, weights, rebal in bench_sets:
            if name == cfg.name:
                continue  # the strategy is this benchmark
            short = [
                a for a, sid in zip(weights, ids(list(weights)), strict=True) if last[sid] < end_ts
            ]
            if short:
                # Never a frozen price standing in for data that has ended.
                notes.append(
                    f"benchmark {name} not run: "
                    + ", ".join(
                        f"{a} ends {last[s].date()}" for a, s in zip(short, ids(short), strict=True)
                    )
                    + f", before {end_ts.date()}"
                )
                continue
            b_cfg = StrategyConfig(
                name, "weights" if rebal else "buy_and_hold", weights=weights, rebalance="M"
            )
            try:
                d = strategy_decisions(repo, b_cfg, market, start_ts, end_ts)
                b_spec = BacktestSpec(name, start_ts, end_ts, cost_bps, slippage_bps)
                bench.append(Backtest(market, d, b_spec).fit(replicates=replicates, seed=seed))
            except HavenflowError as exc:
                notes.append(f"benchmark {name} not run: {exc}")
    swept: SweepResult | None = None
    grid = _sweep_configs(cfg) if search else []
    if grid:
        swept = sweep(
            cfg.name,
            market,
            [g for g, _ in grid],
            [strategy_decisions(repo, c, market, start_ts, end_ts) for _, c in grid],
            spec,
            replicates=replicates,
            seed=seed,
        )
    desc = _describe(cfg)
    for r in (result, *bench):
        if r.start > start_ts + pd.Timedelta(days=7):
            notes.append(
                f"{r.name} starts {r.start.date()}, not {start_ts.date()}: its data begins "
                "then (compare its row over its own window)"
            )
    if math.isnan(result.sharpe):
        notes.append("the strategy never held anything in the window: no Sharpe ratio")
    headline = math.nan
    if swept is not None:
        from havenflow.analytics.backtest.metrics import deflated_sharpe

        # The strategy as configured, deflated for the whole search it sits in.
        headline = deflated_sharpe(result.excess.to_numpy(), swept.n_trials, swept.sharpe_variance)[
            0
        ]
    return BacktestOutcome(
        result, tuple(bench), swept, desc, end_ts, notes=tuple(notes), deflated_sharpe=headline
    )


def common_last(repo: DataRepository, ids: list[str]) -> dict[str, pd.Timestamp]:
    """Each series' last known date."""
    from havenflow.services.asof import common_asof

    return dict(common_asof(repo, tuple(dict.fromkeys(ids))).last)


def _signal_series(cfg: StrategyConfig) -> list[str]:
    """Series the strategy's signal reads (for the window's end)."""
    from havenflow.analytics.regime import REQUIRED

    if cfg.kind == "phase_rotation":
        return list(REQUIRED)
    if cfg.kind == "trigger":
        from havenflow.analytics.events import parse_trigger

        trig = parse_trigger(cfg.trigger)
        return list(REQUIRED) if trig.kind == "phase" else list(trig.series)
    return []


def _describe(cfg: StrategyConfig) -> str:
    def w(m: Mapping[str, float]) -> str:
        return ", ".join(f"{a} {v:.0%}" for a, v in m.items()) or "cash"

    if cfg.kind == "buy_and_hold":
        return f"buy and hold {w(cfg.weights)}"
    if cfg.kind == "weights":
        return f"{w(cfg.weights)}, rebalanced (signal checked {cfg.rebalance})"
    if cfg.kind == "trigger":
        return (
            f"hold {cfg.asset} for {cfg.hold_weeks} weeks after each onset of {cfg.trigger}, "
            f"cash otherwise (checked {cfg.rebalance})"
        )
    phases = "; ".join(f"phase {p}: {w(h)}" for p, h in sorted(cfg.holdings.items()))
    return (
        f"{phases}; otherwise {w(cfg.otherwise)} (rule-based phases, window {cfg.window}, "
        f"confirm {cfg.confirm}, checked {cfg.rebalance})"
    )
