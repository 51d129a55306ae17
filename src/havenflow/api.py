"""The Python API for notebooks and scripts: load data, run one analysis, read the result.

Every function takes pandas objects and names things by ``Series.name`` (or column names);
every analysis returns a read-only result with ``summary()``, ``to_frame()``, ``to_dict()``,
``plot()`` and an HTML view in notebooks. Nothing here touches the network: ``load`` reads the
local store (``havenflow data update`` fills it) and falls back to the bundled data.

>>> import havenflow as hf
>>> df = hf.load(["silver", "bitcoin"], asof="2026-01-23", freq="W")
>>> res = hf.leadlag(df.silver, df.bitcoin, max_lag=26)
>>> res.lag, res.pvalue  # positive lag: silver first; scan-adjusted p-value

Prices or returns are declared, never guessed: the lead-lag functions take price levels by
default (``input="levels"``, turned into log returns, or changes for yields and rates) and
returns as they are with ``input="moves"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from havenflow.exceptions import DataValidationError, UnknownSeriesError
from havenflow.universe import CALENDAR, LAG_UNITS

if TYPE_CHECKING:
    from havenflow.analytics.divergence import DivergenceResult
    from havenflow.analytics.drivers import DriverResult
    from havenflow.analytics.events import EventStudyResult
    from havenflow.analytics.leadlag import (
        CrossCorrelationResult,
        GrangerResult,
        RollingLeadLagResult,
    )
    from havenflow.analytics.leadlag.hy import HayashiYoshidaResult
    from havenflow.analytics.leadlag.var import VARLeadLagResult
    from havenflow.analytics.outlook import OutlookResult
    from havenflow.analytics.performance import Snapshot
    from havenflow.analytics.regime import MarkovPhaseResult, PhaseResult
    from havenflow.analytics.safehaven import SafeHavenResult
    from havenflow.catalog import SeriesSpec
    from havenflow.data.repository import DataRepository
    from havenflow.services.backtest import BacktestOutcome

__all__ = [
    "backtest",
    "check",
    "divergence",
    "drivers",
    "events",
    "granger",
    "leadlag",
    "load",
    "outlook",
    "phases",
    "regime",
    "rolling_leadlag",
    "safe_haven",
    "snapshot",
    "timeline",
    "var",
]

Input = Literal["levels", "moves"]
# The analyses' calendars (universe), plus "B" as a name for the trading-day one.
_FREQS = {"B": CALENDAR["D"], **CALENDAR}
_UNITS = {CALENDAR[f]: LAG_UNITS[f] for f in CALENDAR}


def _repository(data: Sequence[str | Path] = (), store: str | Path | None = None) -> DataRepository:
    from havenflow.data.repository import DataRepository
    from havenflow.data.store import Store

    return DataRepository(
        store=Store(Path(store) if store else None), user_files=[Path(p) for p in data]
    )


def load(
    ids: str | Sequence[str],
    asof: str | pd.Timestamp | None = None,
    freq: str = "B",
    *,
    sessions: str | None = None,
    data: Sequence[str | Path] = (),
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Levels of ``ids`` on one calendar, as known on ``asof``.

    Parameters
    ----------
    ids
        Series ids (``havenflow data list``), or one id.
    asof
        Only values known on or before this day are used (release lags included).
    freq
        ``B`` trading days (``D`` is accepted for it), ``W`` weeks ending Friday, ``M`` month
        ends. Series on other calendars (Bitcoin's 7-day week, monthly macro data) are
        sampled as of each target date. Trading days are the sessions common to the series'
        markets (no holiday is a bar).
    sessions
        With ``B``: name the trading calendar instead (``"XNYS"``, ``"XLON"``,
        ``"us_federal"``, ``"24/7"``, ``"weekdays"`` or any exchange_calendars name).
    data
        CSV/Parquet files whose value columns become series (as ``--data``).
    store
        The DuckDB store (default: ``$HAVENFLOW_HOME`` or the user data directory); series
        missing from it come from the bundled data.

    Returns
    -------
    pandas.DataFrame
        One column per id, indexed by date; ``attrs["freq"]`` and ``attrs["lag_unit"]`` name
        the calendar.
    """
    from havenflow.services import _aligned_levels

    names = [ids] if isinstance(ids, str) else list(ids)
    if not names:
        raise DataValidationError("ids must name at least one series")
    if freq not in _FREQS:
        raise DataValidationError(f"freq must be B, D, W or M, got {freq!r}")
    calendar = _FREQS[freq]
    frame, _, _ = _aligned_levels(
        _repository(data, store), names, calendar, asof, sessions=sessions
    )
    frame = frame[names]
    frame.attrs["freq"] = calendar
    frame.attrs["lag_unit"] = _UNITS[calendar]
    return frame


def _spec(name: str) -> SeriesSpec | None:
    from havenflow.catalog import get_spec

    try:
        return get_spec(name)
    except UnknownSeriesError:
        return None


def _lag_unit(index: pd.Index) -> str:
    """The unit of one bar, from the spacing of the dates."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3:
        return "bars"
    days = float(np.median(np.diff(index.asi8)) / 86_400e9)
    if days <= 1.5:
        weekends = bool((index.day_of_week >= 5).any())
        return "days" if weekends else "business days"
    if days <= 8:
        return "weeks"
    if days <= 32:
        return "months"
    return "bars"


def _moves(series: pd.Series, role: str, input: Input) -> pd.Series:
    """Per-period moves of ``series``: as given, or from levels by the catalog's rule."""
    from havenflow.data.align import transform

    if not isinstance(series, pd.Series):
        raise DataValidationError(f"{role} must be a pandas Series, got {type(series).__name__}")
    name = str(series.name) if series.name is not None else role
    if input == "moves":
        return series.rename(name)
    if input != "levels":
        raise DataValidationError(f"input must be 'levels' or 'moves', got {input!r}")
    spec = _spec(name)
    moved = transform(series.to_frame(name), {name: spec} if spec is not None else None)[name]
    return moved.dropna()


def _path(series: pd.Series, role: str, input: Input) -> pd.Series:
    """A path whose increments are the series' moves (log prices, levels of rates)."""
    moved = _moves(series, role, "moves")
    clean = moved.dropna()
    if input == "moves":
        return clean.cumsum()
    spec = _spec(str(clean.name))
    if spec is not None and spec.is_differenced:
        return clean
    if (clean <= 0).any():
        bad = clean.index[(clean <= 0).to_numpy()][0]
        raise DataValidationError(f"{role} {clean.name}: non-positive price on {bad}")
    return pd.Series(np.log(clean.to_numpy(dtype=float)), index=clean.index, name=clean.name)


def _pair(
    leader: pd.Series, follower: pd.Series, input: Input
) -> tuple[pd.Series, pd.Series, dict[str, str]]:
    x, y = _moves(leader, "leader", input), _moves(follower, "follower", input)
    if x.name == y.name:
        y = y.rename(f"{y.name} (follower)")
    names = {"leader_name": str(x.name), "follower_name": str(y.name)}
    return x, y, names


def leadlag(
    leader: pd.Series,
    follower: pd.Series,
    max_lag: int = 26,
    method: Literal["xcorr", "hy"] = "xcorr",
    *,
    input: Input = "levels",
    seed: int | np.random.Generator | None = 0,
    replicates: int = 999,
) -> CrossCorrelationResult | HayashiYoshidaResult:
    """Does ``leader`` move before ``follower``? The lag scan with a scan-adjusted p-value.

    Parameters
    ----------
    leader, follower
        Price levels (or returns, with ``input="moves"``) on one calendar, e.g. two columns of
        :func:`load`. ``Series.name`` names them in every output.
    max_lag
        Lags ``-max_lag..max_lag`` bars are scanned (positive: the leader moves first).
    method
        ``xcorr``: cross-correlation with the block sign-flip scan null (the p-value accounts
        for scanning every lag). ``hy``: Hayashi-Yoshida contrast on each series' own dates
        (no p-value); ``max_lag`` is then in days.
    input
        ``levels`` (default) or ``moves``.
    seed
        Seed of the sign-flip draws.
    replicates
        Sign-flip draws.
    """
    if method == "hy":
        from havenflow.analytics.leadlag.hy import HayashiYoshida

        # HY works on each series' own observation times: log-price paths (or cumulated
        # moves), no common calendar.
        px, py = _path(leader, "leader", input), _path(follower, "follower", input)
        lags = pd.to_timedelta(np.arange(-max_lag, max_lag + 1), unit="D")
        return HayashiYoshida(
            px, py, lags, lag_unit="days", leader_name=str(px.name), follower_name=str(py.name)
        ).fit()
    x, y, names = _pair(leader, follower, input)
    if method == "xcorr":
        from havenflow.analytics.leadlag import CrossCorrelation

        return CrossCorrelation(x, y, max_lag, lag_unit=_lag_unit(x.index), **names).fit(
            replicates, seed=seed
        )
    raise DataValidationError(f"method must be xcorr or hy, got {method!r}")


def rolling_leadlag(
    leader: pd.Series,
    follower: pd.Series,
    max_lag: int = 26,
    window: int | None = None,
    *,
    input: Input = "levels",
    seed: int | None = 0,
    replicates: int = 499,
) -> RollingLeadLagResult:
    """The lag scan in windows ending at each month end, with the count's honest null.

    ``window`` defaults to the shortest window whose scan holds its size (``4 x max_lag``
    bars, at least 60).
    """
    from havenflow.analytics.leadlag import RollingCrossCorrelation, min_obs

    x, y, names = _pair(leader, follower, input)
    return RollingCrossCorrelation(
        x, y, max_lag, window or min_obs(max_lag), lag_unit=_lag_unit(x.index), **names
    ).fit(replicates, seed=seed)


def granger(
    leader: pd.Series,
    follower: pd.Series,
    max_lag: int = 8,
    *,
    input: Input = "levels",
    cov_type: Literal["classical", "HC0", "HC1", "HC3", "HAC"] = "HAC",
    select: Literal["aic", "bic"] | None = "bic",
) -> GrangerResult:
    """Granger causality in both directions, the lag order chosen by ``select`` (or all)."""
    from havenflow.analytics.leadlag import GrangerCausality

    x, y, names = _pair(leader, follower, input)
    return GrangerCausality(x, y, max_lag, lag_unit=_lag_unit(x.index), **names).fit(
        cov_type, select=select
    )


def var(
    leaders: pd.DataFrame,
    followers: pd.DataFrame | pd.Series,
    max_lag: int = 8,
    *,
    input: Input = "levels",
    ic: Literal["aic", "bic", "hqic", "fpe"] = "bic",
    cov_type: Literal["classical", "HC0", "HC1", "HC3", "HAC"] = "HAC",
    seed: int | None = 0,
) -> VARLeadLagResult:
    """Joint (block) Granger tests and impulse responses from one VAR.

    ``leaders`` (several columns) are the causing block, ``followers`` the caused block:
    "Bitcoin follows gold AND silver" is ``var(df[["gold", "silver"]], df.bitcoin)``.
    """
    from havenflow.analytics.leadlag.var import var_leadlag

    follow = followers.to_frame() if isinstance(followers, pd.Series) else followers
    columns = {str(c): leaders[c] for c in leaders.columns}
    columns.update({str(c): follow[c] for c in follow.columns})
    moves = pd.DataFrame({c: _moves(s.rename(c), c, input) for c, s in columns.items()}).dropna()
    lag_unit = _lag_unit(moves.index)
    return var_leadlag(
        moves,
        [str(c) for c in leaders.columns],
        [str(c) for c in follow.columns],
        max_lags=max_lag,
        ic=ic,
        cov_type=cov_type,
        lag_unit=lag_unit,
        seed=seed,
    )


def divergence(levels: pd.DataFrame, a: str, b: str) -> DivergenceResult:
    """Relative strength, return spreads and correlation breakdowns of ``a`` against ``b``."""
    from havenflow.analytics.divergence import Divergence

    return Divergence(levels, a, b).fit()


def phases(levels: pd.DataFrame) -> PhaseResult:
    """Rule-based phases of the cycle on every date of ``levels`` (point-in-time).

    ``levels`` holds the phase indicators' series by their ids, on trading days, as
    ``load(havenflow.services.PHASE_SERIES)`` gives them.
    """
    from havenflow.analytics.regime import PhaseClassifier

    return PhaseClassifier(levels).fit()


def backtest(
    strategy: str | None = "phase_rotation",
    *,
    file: str | Path | None = None,
    asset: str | None = None,
    start: str | None = None,
    end: str | None = None,
    cost_bps: float | None = None,
    slippage_bps: float = 0.0,
    rebalance: Literal["D", "W", "M"] | None = None,
    benchmarks: bool = True,
    search: bool = True,
    replicates: int = 999,
    seed: int | None = 0,
    data: Sequence[str | Path] = (),
    store: str | Path | None = None,
) -> BacktestOutcome:
    """Backtest a built-in strategy (or a TOML ``file``) against the benchmarks.

    The same as ``havenflow backtest``: decisions at a close trade at each asset's next
    session, costs in basis points per unit traded, metrics on each strategy's own
    calendar, and for a strategy with a sweep the deflated Sharpe ratio, PBO and a
    walk-forward choice. See ``docs/backtest.md``.
    """
    from havenflow.services.backtest import run_backtest, strategy_config

    cfg = strategy_config(strategy, file, asset, rebalance)  # a file wins over the name
    return run_backtest(
        _repository(data, store),
        cfg,
        start=start,
        end=end,
        cost_bps=cost_bps,
        slippage_bps=slippage_bps,
        benchmarks=benchmarks,
        search=search,
        replicates=replicates,
        seed=seed,
    )


def regime(
    levels: pd.DataFrame,
    *,
    window: int = 63,
    confirm: int = 21,
    min_weeks: int = 104,
    seed: int | None = 0,
) -> MarkovPhaseResult:
    """Point-in-time Markov-switching phases: weekly filtered probabilities of each phase.

    The HMM is re-estimated at every month end on the weeks known then and filters the next
    month, so no week's probability uses later data or parameters. ``levels`` as for
    :func:`phases` (``load(havenflow.services.PHASE_SERIES)``); ``window`` and ``confirm``
    set the indicators and the rules' phase (one of the EM's starts); ``seed`` the EM jitter.
    """
    from havenflow.analytics.regime import MarkovPhaseModel, PhaseClassifier, PhaseSpec

    rules = PhaseClassifier(levels, PhaseSpec(window=window, confirm=confirm)).fit()
    return MarkovPhaseModel(rules.indicators, rules.phase, min_weeks).fit(seed=seed)


def safe_haven(
    asset: pd.Series,
    equity: pd.Series,
    *,
    input: Input = "levels",
    hac_lags: int | None = None,
) -> SafeHavenResult:
    """Baur-McDermott hedge and safe-haven test of ``asset`` against ``equity``.

    Both series on one trading-day calendar (``load([...], freq="B")``), prices by default
    (``input="levels"``: turned into log returns) or per-bar log returns (``input="moves"``).
    Slopes on all days and on the equity market's worst 10/5/1% days, Newey-West errors.
    """
    from havenflow.analytics.safehaven import SafeHavenRegression

    a, m = _moves(asset, "asset", input), _moves(equity, "equity", input)
    return SafeHavenRegression(a, m, str(a.name), str(m.name)).fit(hac_lags=hac_lags)


def events(
    levels: pd.DataFrame,
    trigger: str,
    target: str,
    horizons: Sequence[int] | None = None,
    *,
    min_gap: int = 21,
    replicates: int = 999,
    seed: int | None = 0,
) -> EventStudyResult:
    """Forward returns of ``target`` after each onset of ``trigger``, against its baseline.

    ``levels``: trading-day levels holding the trigger's series and the target (``load``);
    ``trigger`` in the CLI's grammar (``silver:high(252)``, ``silver:ret(21)>0.1``...).
    """
    from havenflow.analytics.events import EventStudy

    hs = tuple(horizons) if horizons is not None else None
    study = EventStudy.from_trigger(levels, trigger, target, hs, min_gap)
    return study.fit(replicates, seed=seed)


def drivers(
    moves: pd.DataFrame, asset: str, drivers: Sequence[str], freq: Literal["D", "W"] = "D"
) -> DriverResult:
    """OLS of ``asset``'s moves on the ``drivers``' moves with Newey-West errors."""
    from havenflow.analytics.drivers import DriverModel

    return DriverModel(moves, asset, tuple(drivers), freq).fit()


def outlook(
    levels: pd.DataFrame, target: str = "bitcoin", horizons: Sequence[int] = (21, 63, 126)
) -> OutlookResult:
    """The target's forward-return distribution given today's state, scored walk-forward.

    ``levels``: the phase indicators' series and the target on trading days, e.g.
    ``load(havenflow.services.PHASE_SERIES)``.
    """
    from havenflow.analytics.outlook import ConditionalOutlook, OutlookSpec

    spec = OutlookSpec(horizons=tuple(horizons))
    return ConditionalOutlook.from_levels(levels, target, spec).fit()


def snapshot(levels: pd.DataFrame, asof: str | pd.Timestamp | None = None) -> Snapshot:
    """Returns over calendar windows, volatility, drawdown, all-time highs and breakouts.

    ``levels``: prices or index levels by catalog id (or any name: a price is assumed for a
    column the catalog does not know, and the output says which spec was used).
    """
    from havenflow.analytics.performance import snapshot as compute
    from havenflow.catalog import user_spec

    series = {str(c): levels[c].dropna() for c in levels.columns}
    specs = {c: _spec(c) or user_spec(c) for c in series}
    when = pd.Timestamp(asof) if asof is not None else max(s.index[-1] for s in series.values())
    return compute(series, specs, when)


def check(
    note: str | Path,
    asof: str | None = None,
    *,
    seed: int = 0,
    replicates: int = 999,
    sensitivity: bool = True,
    hindsight: bool = True,
    data: Sequence[str | Path] = (),
    store: str | Path | None = None,
) -> dict[str, Any]:
    """Judge every claim of a note (a TOML file or a bundled note's name).

    Parameters
    ----------
    note
        A note file, or a bundled note's name (``"silver-bitcoin-2026-01"``).
    asof
        The date to judge at (default: the note's date, or the last date its series share).
    seed, replicates
        Of every bootstrap and null.
    sensitivity
        Re-judge each claim under alternative parameters.
    hindsight
        Where the data runs past the as-of date, score the forward-looking claims against
        what followed (``hindsight``, ``hindsight_info``); it never changes a verdict.
    data, store
        Files of your own series (usable by id in every kind), and a store path.

    Returns
    -------
    dict
        The report document (``summary``, ``claims``, ``bottom_line``, ``hindsight``, ...),
        plain JSON types; ``havenflow.report.render_html`` renders it.

    Raises
    ------
    NoteError
        For a malformed note (the message names file, line, claim and key).
    """
    from havenflow.claims import CheckOptions, check_note, resolve_note

    return check_note(
        resolve_note(note),
        _repository(data, store),
        CheckOptions(
            asof=asof,
            seed=seed,
            replicates=replicates,
            sensitivity=sensitivity,
            hindsight=hindsight,
        ),
    )


def timeline(
    note: str | Path,
    start: str,
    end: str,
    step: Literal["W", "M", "Q"] = "M",
    *,
    seed: int = 0,
    replicates: int = 999,
    workers: int = 1,
    data: Sequence[str | Path] = (),
    store: str | Path | None = None,
) -> dict[str, Any]:
    """Judge a note at every week, month or quarter end from ``start`` to ``end``.

    Each step equals ``check(note, asof=step)`` without the sensitivity block; the data is
    read once and identical fits are reused across steps.

    Parameters
    ----------
    note
        A note file, or a bundled note's name.
    start, end
        The range (ISO dates); refused when it ends after the note's data or starts before it.
    step
        ``"W"`` (Fridays), ``"M"`` (month ends) or ``"Q"`` (quarter ends), business days.
    seed, replicates
        Of every bootstrap and null (as in :func:`check`).
    workers
        Worker processes (spawned: a script calling this with ``workers > 1`` needs the
        ``if __name__ == "__main__":`` guard).
    data, store
        Files of your own series, and a store path.

    Returns
    -------
    dict
        ``timeline`` (per step: ``asof``, ``verdicts``, ``numbers``) and ``timeline_info``
        (range, claims, verdict spells, ``track_record``); ``havenflow.report.render`` draws it.
    """
    from havenflow.claims import resolve_note
    from havenflow.claims.timeline import TimelineOptions, verdict_timeline

    return verdict_timeline(
        resolve_note(note),
        _repository(data, store),
        TimelineOptions(start, end, step, seed=seed, replicates=replicates, workers=workers),
    )
