"""Market state: snapshot, divergence, drivers and safe-haven tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from havenflow.analytics.results import Result
from havenflow.data.align import transform
from havenflow.data.repository import DataRepository
from havenflow.exceptions import (
    DataValidationError,
    HavenflowError,
    InsufficientDataError,
)
from havenflow.services._load import _aligned_levels
from havenflow.universe import (
    BARS_PER_YEAR,
    CALENDAR,
    DRIVER_IDS,
    DRIVER_LABELS,
    LAG_UNITS,
    SNAPSHOT_IDS,
    check_freq,
)

if TYPE_CHECKING:
    from havenflow.analytics.divergence import DivergenceResult
    from havenflow.analytics.drivers import DriverResult
    from havenflow.analytics.performance import Snapshot
    from havenflow.analytics.safehaven import SafeHavenResult


@dataclass(frozen=True)
class DriversOutcome(Result):
    """Driver regression of an asset, the attribution of a window's move, the implied move."""

    kind = "drivers_outcome"

    asof: str
    frequency: str
    window: str
    estimation: str
    driver_labels: dict[str, str]
    notes: list[str]
    regression: DriverResult
    attribution: dict[str, Any]
    rolling_betas: list[dict[str, Any]] | None = None
    implied_by: dict[str, Any] | None = None

    def to_frame(self) -> pd.DataFrame:
        """The regression's coefficients."""
        return self.regression.to_frame()

    def _summary_text(self) -> str:
        att = self.attribution
        return (
            f"{self.regression.asset} on its drivers ({self.estimation}); "
            f"{att['start']}..{att['end']}: {100 * att['actual']:+.1f} log points, drivers "
            f"explain {100 * att['explained']:+.1f}, unexplained {100 * att['unexplained']:+.1f}"
        )


@dataclass(frozen=True)
class SafeHavenOutcome(Result):
    """Hedge and safe-haven regressions of gold, silver and bitcoin; BTC in stress."""

    kind = "safe_haven"

    asof: str
    stress_definition: str
    regressions: list[SafeHavenResult]
    conditional_correlation: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """One row per asset: hedge slope and verdict."""
        return pd.DataFrame(
            [
                {
                    "asset": r.asset,
                    "hedge_slope": r.hedge.slope,
                    "hedge": r.hedge.verdict,
                }
                for r in self.regressions
            ]
        ).set_index("asset")

    def _summary_text(self) -> str:
        return f"Hedge / safe-haven tests against the S&P 500 as of {self.asof}; " + ", ".join(
            f"{r.asset} {r.hedge.verdict}" for r in self.regressions
        )


def _deflator(repo: DataRepository, asof: str | pd.Timestamp | None) -> pd.Series | None:
    """CPI on the dates each value became known, or ``None`` when there is no CPI."""
    from havenflow.exceptions import UnknownSeriesError

    try:
        cpi = repo.load("cpi", asof)
    except (UnknownSeriesError, InsufficientDataError):
        return None
    known, values = cpi.as_known()
    return pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(known)).sort_index()


def run_snapshot(
    repo: DataRepository, ids: list[str] | None = None, asof: str | None = None
) -> Snapshot:
    """The snapshot of a universe (default :data:`SNAPSHOT_IDS`) as of a date."""
    from havenflow.analytics.performance import snapshot

    ids = ids or SNAPSHOT_IDS
    loaded = repo.load_many(ids, asof)
    when = pd.Timestamp(asof) if asof else max(v.last for v in loaded.values())
    return snapshot(
        {k: v.values for k, v in loaded.items()},
        {k: v.spec for k, v in loaded.items()},
        when,
        deflator=_deflator(repo, when),
    )


def run_divergence(
    repo: DataRepository, a: str = "silver", b: str = "bitcoin", asof: str | None = None
) -> DivergenceResult:
    """Divergence of A against B on the trading-day calendar."""
    from havenflow.analytics.divergence import Divergence

    if a == b:
        raise DataValidationError("divergence of a series against itself")
    levels, specs, _ = _aligned_levels(repo, [a, b], "B", asof)
    for sid, spec in specs.items():
        if spec.is_differenced:
            raise DataValidationError(f"{sid} is a {spec.kind}: divergence compares prices")
    levels = levels.dropna()
    return Divergence(levels, a, b).fit()


def driver_moves(
    repo: DataRepository,
    assets: list[str],
    freq: str = "D",
    asof: str | None = None,
    *,
    placement: Literal["known", "observed"] = "observed",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-bar moves of ``assets`` and of the drivers, on one calendar, point-in-time.

    The rate-expectation proxy is the 2-year yield minus the effective fed funds rate; its
    change is the 2-year yield's change minus the policy rate's. Where the daily fed funds
    series has ended (the bundled one ends in June 2025), the policy rate continues as the
    monthly average (FEDFUNDS), each month's value taken from the day it was published (the
    day after the month ends): the proxy sees every cut, up to a month late and averaged over
    its month; the notes say from when.
    """
    user_freq = check_freq(freq)
    if user_freq == "M":
        raise DataValidationError("driver regressions run on D or W moves")
    ids = list(dict.fromkeys([*assets, *DRIVER_IDS.values(), "ust_2y", "fed_funds"]))
    # A regression of daily moves: each value on the day it describes, published by asof
    # ("observed"); rolling betas, reported window by window, use "known" placement.
    levels, specs, loaded = _aligned_levels(
        repo, ids, CALENDAR[user_freq], asof, placement=placement
    )
    moves = transform(levels, specs)
    policy, notes = _policy_rate(repo, levels["fed_funds"], loaded["fed_funds"].last, asof)
    ff_change = policy.diff().reindex(moves.index)
    out = pd.DataFrame({a: moves[a] for a in assets})
    for label, sid in DRIVER_IDS.items():
        out[label] = moves[sid]
    out["rate_expectations"] = moves["ust_2y"] - ff_change
    out = out[[*assets, "real_yield", "dollar", "rate_expectations", "equities", "vix"]]
    return out, {"notes": notes, "labels": DRIVER_LABELS}


def _policy_rate(
    repo: DataRepository,
    daily: pd.Series,
    daily_last: pd.Timestamp,
    asof: str | pd.Timestamp | None,
) -> tuple[pd.Series, list[str]]:
    """The policy rate on ``daily``'s calendar: the daily series, then monthly averages.

    After ``daily_last`` the level is the latest average, published by then (known date:
    month end plus its publication lag), of a month that starts after ``daily_last``; until
    the first is published, the last daily level. No value is used before it was public,
    and no move the daily series already saw is undone and redone.
    """
    if daily.index[-1] <= daily_last:
        return daily, []
    try:
        monthly = repo.load("fed_funds_monthly", asof)
    except HavenflowError as exc:
        # Without the monthly series the policy rate is held at its last daily value.
        held = daily.where(daily.index <= daily_last).ffill()
        return held, [
            f"daily fed funds ends {daily_last.date()} and the monthly average is unavailable "
            f"({exc}): after it the policy rate is held at its last value"
        ]
    # By month (the splice needs each value's month); FEDFUNDS' averages are not revised.
    known = monthly.known_dates()
    target = daily.index.to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(known, target, side="right") - 1
    values = monthly.values.to_numpy(dtype=float)
    from_monthly = np.where(pos >= 0, values[np.clip(pos, 0, None)], np.nan)
    # Only averages of months that start after the daily series ends continue it: the
    # average of an earlier month (or of the month it ends in) mixes days before a move the
    # daily series already saw, and would undo it and redo it. Until the first such average
    # is published, the last daily level holds.
    months = pd.DatetimeIndex(monthly.values.index)
    usable = np.asarray(months.to_period("M").start_time > daily_last)
    from_monthly = np.where(usable[np.clip(pos, 0, None)] & (pos >= 0), from_monthly, np.nan)
    last_level = daily.loc[:daily_last].dropna()
    after = daily.index > daily_last
    continued = pd.Series(from_monthly, index=daily.index).fillna(
        last_level.iloc[-1] if len(last_level) else np.nan
    )
    spliced = daily.where(~after, continued)
    last_month = pd.Timestamp(monthly.values.index[-1])
    return spliced, [
        f"daily fed funds ends {daily_last.date()}: after it the policy rate is the monthly "
        f"average (FEDFUNDS, through {last_month:%B %Y}), each month from the day after it "
        "ends; the rate-expectation proxy sees the cuts up to a month late, averaged over "
        "their month"
    ]


def run_drivers(
    repo: DataRepository,
    asset: str,
    *,
    freq: str = "D",
    asof: str | None = None,
    window: str = "3M",
    years: float = 3.0,
    implied_by: str | None = None,
) -> DriversOutcome:
    """Driver regressions, attribution of the window's move, and the factor-implied move."""
    from havenflow.analytics.drivers import DriverModel, attribute, implied_move
    from havenflow.analytics.performance import window_start

    assets = [asset] + ([implied_by] if implied_by and implied_by != asset else [])
    drivers = [d for d in DRIVER_LABELS if d not in assets]
    if asset == "sp500":
        drivers = [d for d in drivers if d != "equities"]
    moves, meta = driver_moves(repo, assets, freq, asof)
    moves = moves.dropna(subset=drivers)
    if moves.empty:
        raise InsufficientDataError("the drivers have no common dates")
    end = pd.Timestamp(asof) if asof is not None else pd.Timestamp(moves.index[-1])
    end = min(end, pd.Timestamp(moves.index[-1]))
    est_start = end - pd.DateOffset(days=round(365.25 * years))
    rolling_window = BARS_PER_YEAR[check_freq(freq)]
    w_start = window_start(end, window)
    fits = {}
    for a in assets:
        sample = moves[(moves.index > est_start) & (moves.index <= end)].dropna(subset=[a])
        fits[a] = DriverModel(sample, a, tuple(drivers), freq).fit()
    res = fits[asset]
    # Rolling betas are reported window by window: each window ending on t uses only the
    # values published by t (the dollar's H.10 week after its Monday), so they are fitted on
    # the known-placement moves.
    known_moves, _ = driver_moves(repo, assets, freq, asof, placement="known")
    known_moves = known_moves.dropna(subset=[*drivers, asset])
    known_sample = known_moves[(known_moves.index > est_start) & (known_moves.index <= end)]
    rolling_fit = (
        DriverModel(known_sample, asset, tuple(drivers), freq).fit(rolling_window=rolling_window)
        if len(known_sample) > rolling_window
        else None
    )
    rolling_betas = None
    if rolling_fit is not None and rolling_fit.rolling_betas is not None:
        rb = rolling_fit.rolling_betas
        sample = rb.groupby(pd.DatetimeIndex(rb.index).to_period("M")).tail(1)
        rolling_betas = [
            {"date": pd.Timestamp(str(d)).date().isoformat()}
            | {str(k): float(v) for k, v in row.items()}
            for d, row in sample.iterrows()
        ]
    implied = None
    if implied_by:
        ref = fits.get(implied_by)
        ref_move = float(moves[implied_by][(moves.index > w_start) & (moves.index <= end)].sum())
        implied = {
            "reference": implied_by,
            "reference_move": ref_move,
            "reference_simple_return": float(np.expm1(ref_move)),
            "reference_attribution": None
            if ref is None
            else attribute(ref, moves.dropna(subset=[implied_by]), w_start, end),
            "target": implied_move(res, moves.dropna(subset=[asset]), w_start, end),
        }
    return DriversOutcome(
        asof=end.date().isoformat(),
        frequency=freq,
        window=window,
        estimation=f"{years:g} years of {LAG_UNITS[check_freq(freq)]} up to asof",
        driver_labels={d: DRIVER_LABELS[d] for d in drivers},
        notes=list(meta["notes"]),
        regression=res,
        attribution=attribute(res, moves.dropna(subset=[asset]), w_start, end),
        rolling_betas=rolling_betas,
        implied_by=implied,
    )


def run_safehaven(
    repo: DataRepository,
    asof: str | None = None,
    seed: int = 0,
    *,
    assets: tuple[str, ...] = ("gold", "silver", "bitcoin"),
    target: str | None = "bitcoin",
    partners: tuple[str, ...] = ("sp500", "gold"),
    years: float | None = None,
) -> SafeHavenOutcome:
    """Hedge / safe-haven regressions of ``assets``; ``target``'s stress correlations.

    Regressions are on the S&P 500; ``target`` is correlated with each of ``partners`` on stress
    and calm days (skipped when ``target`` is None). ``years``: only the last ``years`` of data
    up to ``asof`` (default: all of it).
    """
    from havenflow.analytics.safehaven import (
        SafeHavenRegression,
        conditional_correlation,
        stress_days,
    )

    named = [*assets, *([target] if target else []), *partners]
    for sid in named:
        if sid in ("sp500", "vix") and sid in assets:
            raise DataValidationError(f"{sid} is the stress benchmark: it cannot be a haven")
    ids = list(dict.fromkeys([*named, "sp500", "vix"]))
    levels, specs, _ = _aligned_levels(repo, ids, "B", asof)
    for sid in named:
        if specs[sid].is_differenced:
            raise DataValidationError(f"{sid} is a {specs[sid].kind}: safe-haven tests need prices")
    moves = transform(levels, specs)
    # Stress is classified on the full history (its percentiles are trailing, point-in-time);
    # ``years`` only shortens the sample the slopes and correlations are estimated on.
    stress = stress_days(levels["vix"], levels["sp500"])
    if years is not None:
        last = pd.Timestamp(moves.dropna(how="all").index[-1])
        moves = moves.loc[moves.index > last - pd.DateOffset(days=round(365.25 * years))]
    regressions = [SafeHavenRegression(moves[a], moves["sp500"], a, "sp500").fit() for a in assets]
    cond: dict[str, Any] = {}
    if target is not None:
        cond = conditional_correlation(moves, target, list(partners), stress, seed=seed)
    return SafeHavenOutcome(
        asof=pd.Timestamp(moves.dropna(how="all").index[-1]).date().isoformat(),
        stress_definition="VIX above the 80th percentile of its trailing 252 days, or the "
        "S&P 500 more than 10% below its running high (both point-in-time)",
        regressions=list(regressions),
        conditional_correlation=cond,
    )
