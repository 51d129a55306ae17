"""Market snapshot: returns, volatility, drawdowns, ranks, all-time highs and breakouts.

Claims C1 (silver at a fresh all-time high after an accelerating rally) and C2 (silver the best
performer). Every number for an as-of date uses values on or before it only. Windows are
calendar spans (one month back from the as-of date, ...), so a 7-day crypto series and a 5-day
metal are compared over the same span of time; volatility is annualised by each asset's own
calendar (365 bars a year for crypto, 252 for exchange and business-day series).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from havenflow.analytics.results import Result
from havenflow.catalog import SeriesSpec
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "BREAKOUT_BARS",
    "PERIODS_PER_YEAR",
    "SNAPSHOT_WINDOWS",
    "AssetSnapshot",
    "HighMarks",
    "RatioHistory",
    "Snapshot",
    "high_marks",
    "ratio_history",
    "snapshot",
    "window_start",
]

SNAPSHOT_WINDOWS = ("1W", "1M", "3M", "6M", "YTD", "1Y")
BREAKOUT_BARS = (20, 55, 252)
PERIODS_PER_YEAR = {"crypto": 365, "exchange": 252, "business": 252, "weekly": 52, "monthly": 12}
#: A series whose last value is older than this many days before the as-of date is stale.
STALE_DAYS = 10

_OFFSETS = {
    "1W": pd.DateOffset(weeks=1),
    "1M": pd.DateOffset(months=1),
    "3M": pd.DateOffset(months=3),
    "6M": pd.DateOffset(months=6),
    "1Y": pd.DateOffset(years=1),
}


def window_start(asof: pd.Timestamp, window: str) -> pd.Timestamp:
    """The date a window starts from: its value is the last one on or before this date."""
    if window == "YTD":
        return pd.Timestamp(year=asof.year - 1, month=12, day=31)
    if window not in _OFFSETS:
        raise DataValidationError(
            f"unknown window {window!r}; use one of {', '.join(SNAPSHOT_WINDOWS)}"
        )
    return pd.Timestamp(asof - _OFFSETS[window])


def _clean(values: pd.Series) -> pd.Series:
    return values.dropna().astype(float)


@dataclass(frozen=True)
class WindowStats:
    """One asset over one window (``None`` where the series does not cover it)."""

    ret: float | None
    volatility: float | None
    risk_adjusted: float | None
    max_drawdown: float | None


def _window_stats(values: pd.Series, asof: pd.Timestamp, window: str, ppy: int) -> WindowStats:
    start = window_start(asof, window)
    before = values[:start]
    if before.empty:
        return WindowStats(None, None, None, None)
    inside = values[(values.index > start) & (values.index <= asof)]
    if inside.empty:
        return WindowStats(None, None, None, None)
    path = pd.concat([before.iloc[-1:], inside])
    ret = float(path.iloc[-1] / path.iloc[0] - 1.0)
    logret = np.diff(np.log(path.to_numpy()))
    vol = float(np.std(logret, ddof=1) * math.sqrt(ppy)) if len(logret) >= 2 else None
    years = (asof - start).days / 365.25
    risk_adj = None
    if vol is not None and vol > 0:
        risk_adj = float(math.log1p(ret) / years / vol)
    peak = np.maximum.accumulate(path.to_numpy())
    mdd = float(np.min(path.to_numpy() / peak - 1.0))
    return WindowStats(ret, vol, risk_adj, mdd)


@dataclass(frozen=True)
class Breakout:
    """A new ``bars``-bar closing high: the last close above the highest of the prior bars."""

    bars: int
    is_new_high: bool
    prior_high: float | None
    last_breakout_date: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "bars": self.bars,
            "is_new_high": self.is_new_high,
            "prior_high": self.prior_high,
            "last_breakout_date": self.last_breakout_date,
        }


def breakouts(values: pd.Series, bars: int) -> pd.Series:
    """True on each date whose close is above the highest close of the ``bars`` before it."""
    prior = values.shift(1).rolling(bars, min_periods=bars).max()
    return (values > prior) & prior.notna()


@dataclass(frozen=True)
class AssetSnapshot:
    """One asset as of a date (see :func:`snapshot`)."""

    id: str
    name: str
    last_date: str
    last: float
    history_start: str
    stale: bool
    windows: dict[str, WindowStats]
    ath: float
    ath_date: str
    is_ath: bool
    drawdown_from_ath: float
    real_ath: dict[str, Any] | None
    breakouts: tuple[Breakout, ...]
    acceleration: dict[str, Any]
    rank: dict[str, int | None] = field(default_factory=dict)
    risk_adjusted_rank: dict[str, int | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "last_date": self.last_date,
            "last": self.last,
            "history_start": self.history_start,
            "stale": self.stale,
            "returns": {w: s.ret for w, s in self.windows.items()},
            "volatility": {w: s.volatility for w, s in self.windows.items()},
            "risk_adjusted": {w: s.risk_adjusted for w, s in self.windows.items()},
            "max_drawdown": {w: s.max_drawdown for w, s in self.windows.items()},
            "rank": dict(self.rank),
            "risk_adjusted_rank": dict(self.risk_adjusted_rank),
            "ath": self.ath,
            "ath_date": self.ath_date,
            "is_ath": self.is_ath,
            "drawdown_from_ath": self.drawdown_from_ath,
            "real_ath": self.real_ath,
            "breakouts": [b.to_dict() for b in self.breakouts],
            "acceleration": self.acceleration,
        }


@dataclass(frozen=True)
class Snapshot(Result):
    """The universe as of a date: per-asset numbers, ranks and the best performer per window."""

    kind: ClassVar[str] = "snapshot"

    asof: str
    windows: tuple[str, ...]
    assets: tuple[AssetSnapshot, ...]
    best_performer: dict[str, str | None]
    best_risk_adjusted: dict[str, str | None]
    deflator: str | None
    notes: tuple[str, ...]

    def asset(self, series_id: str) -> AssetSnapshot:
        """One asset's snapshot by id."""
        for a in self.assets:
            if a.id == series_id:
                return a
        raise KeyError(series_id)

    def to_frame(self) -> pd.DataFrame:
        """One row per asset: last, ATH fields and the return of every window."""
        rows = []
        for a in self.assets:
            row: dict[str, Any] = {
                "id": a.id,
                "last": a.last,
                "ath": a.ath,
                "ath_date": a.ath_date,
                "is_ath": a.is_ath,
                "drawdown_from_ath": a.drawdown_from_ath,
            }
            row.update({f"ret_{w}": s.ret for w, s in a.windows.items()})
            row.update({f"rank_{w}": a.rank.get(w) for w in self.windows})
            rows.append(row)
        return pd.DataFrame(rows).set_index("id")

    def _summary_text(self) -> str:
        best = ", ".join(f"{w}: {a or '—'}" for w, a in self.best_performer.items())
        highs = [a.id for a in self.assets if a.is_ath]
        return (
            f"Snapshot as of {self.asof} ({len(self.assets)} series; simple returns). Best "
            f"performer by window: {best}. At an all-time high: {', '.join(highs) or 'none'}."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``havenflow snapshot --json``)."""
        return {
            "asof": self.asof,
            "windows": list(self.windows),
            "return_definition": "simple return from the last value on or before the window "
            "start to the last value on or before asof",
            "volatility_definition": "annualised sd of log returns on the asset's own calendar "
            "(365 bars a year for crypto, 252 otherwise)",
            "risk_adjusted_definition": "annualised log return / annualised volatility",
            "best_performer": dict(self.best_performer),
            "best_risk_adjusted": dict(self.best_risk_adjusted),
            "deflator": self.deflator,
            "notes": list(self.notes),
            "assets": [a.to_dict() for a in self.assets],
        }


def _ranks(values: dict[str, float | None]) -> dict[str, int | None]:
    present = sorted(((v, k) for k, v in values.items() if v is not None), reverse=True)
    out: dict[str, int | None] = dict.fromkeys(values)
    for i, (_, k) in enumerate(present, start=1):
        out[k] = i
    return out


def _real_ath(values: pd.Series, deflator: pd.Series | None) -> dict[str, Any] | None:
    """The ATH in today's money: each value times (deflator now / deflator when it was set)."""
    if deflator is None:
        return None
    cpi = deflator.reindex(values.index, method="ffill")
    ok = cpi.notna()
    if not ok.any():
        return None
    real = values[ok] * float(cpi[ok].iloc[-1]) / cpi[ok]
    top = pd.Timestamp(str(real.idxmax()))
    return {
        "ath": float(real.max()),
        "ath_date": top.date().isoformat(),
        "is_ath": bool(real.index[-1] == top),
        "drawdown_from_ath": float(real.iloc[-1] / real.max() - 1.0),
        "in_money_of": pd.Timestamp(cpi[ok].index[-1]).date().isoformat(),
    }


def snapshot(
    series: Mapping[str, pd.Series],
    specs: Mapping[str, SeriesSpec],
    asof: str | pd.Timestamp,
    *,
    deflator: pd.Series | None = None,
    breakout_bars: tuple[int, ...] = BREAKOUT_BARS,
) -> Snapshot:
    """Compute the snapshot of a universe of prices and index levels as of a date.

    Parameters
    ----------
    series
        Id to levels (each on its own calendar), already truncated to what was known on
        ``asof``; later values are ignored anyway.
    specs
        Catalog entries (calendar, kind, name).
    asof
        The date of the snapshot.
    deflator
        A price index on the dates it became known (CPI, point-in-time), for the all-time high
        in real terms; ``None`` when not available (the result says so).
    breakout_bars
        Lookbacks of the N-bar closing-high breakouts.
    """
    when = pd.Timestamp(asof)
    assets: list[AssetSnapshot] = []
    notes: list[str] = []
    if deflator is None:
        notes.append(
            "no deflator (CPI, a live FRED series: `havenflow data update cpi`): all-time "
            "highs are nominal only"
        )
    for sid, raw in series.items():
        spec = specs[sid]
        if spec.is_differenced:
            raise DataValidationError(
                f"{sid} is a {spec.kind}: the snapshot ranks prices and index levels; "
                "yields belong in `havenflow drivers`"
            )
        values = _clean(raw)[:when]
        if values.empty:
            raise InsufficientDataError(f"{sid} has no value on or before {when.date()}")
        if values.nunique() < 2:
            raise InsufficientDataError(f"{sid} is constant up to {when.date()}")
        if (values <= 0).any():
            bad = values.index[(values <= 0).to_numpy()][0]
            raise DataValidationError(f"{sid}: non-positive value on {bad.date()}")
        last_date = pd.Timestamp(values.index[-1])
        stale = last_date < when - pd.Timedelta(days=STALE_DAYS)
        ppy = PERIODS_PER_YEAR[spec.calendar]
        if stale:
            stats = {w: WindowStats(None, None, None, None) for w in SNAPSHOT_WINDOWS}
            notes.append(f"{sid}: last value {last_date.date()}, stale on {when.date()}")
        else:
            stats = {w: _window_stats(values, when, w, ppy) for w in SNAPSHOT_WINDOWS}
        ath_date = pd.Timestamp(values.index[int(np.argmax(values.to_numpy()))])
        ath = float(values.max())
        outs = []
        for bars in breakout_bars:
            flags = breakouts(values, bars)
            hits = flags[flags]
            prior = values.iloc[-bars - 1 : -1].max() if len(values) > bars else None
            outs.append(
                Breakout(
                    bars=bars,
                    is_new_high=bool(flags.iloc[-1]),
                    prior_high=None if prior is None else float(prior),
                    last_breakout_date=None
                    if hits.empty
                    else pd.Timestamp(hits.index[-1]).date().isoformat(),
                )
            )
        short, long_ = stats["1M"], stats["6M"]
        accel: dict[str, Any] = {
            "short_window": "1M",
            "long_window": "6M",
            "date": last_date.date().isoformat(),
            "short_annualised": None,
            "long_annualised": None,
            "value": None,
            "accelerating": None,
        }
        if short.ret is not None and long_.ret is not None:
            s_ann = math.log1p(short.ret) / ((when - window_start(when, "1M")).days / 365.25)
            l_ann = math.log1p(long_.ret) / ((when - window_start(when, "6M")).days / 365.25)
            accel.update(
                short_annualised=s_ann,
                long_annualised=l_ann,
                value=s_ann - l_ann,
                accelerating=bool(s_ann > l_ann and s_ann > 0),
            )
        assets.append(
            AssetSnapshot(
                id=sid,
                name=spec.name,
                last_date=last_date.date().isoformat(),
                last=float(values.iloc[-1]),
                history_start=pd.Timestamp(values.index[0]).date().isoformat(),
                stale=bool(stale),
                windows=stats,
                ath=ath,
                ath_date=ath_date.date().isoformat(),
                is_ath=bool(ath_date == last_date),
                drawdown_from_ath=float(values.iloc[-1] / ath - 1.0),
                real_ath=_real_ath(values, deflator[:when] if deflator is not None else None),
                breakouts=tuple(outs),
                acceleration=accel,
            )
        )
    best: dict[str, str | None] = {}
    best_ra: dict[str, str | None] = {}
    for w in SNAPSHOT_WINDOWS:
        ranks = _ranks({a.id: a.windows[w].ret for a in assets})
        ra_ranks = _ranks({a.id: a.windows[w].risk_adjusted for a in assets})
        for a in assets:
            a.rank[w] = ranks[a.id]
            a.risk_adjusted_rank[w] = ra_ranks[a.id]
        best[w] = next((k for k, r in ranks.items() if r == 1), None)
        best_ra[w] = next((k for k, r in ra_ranks.items() if r == 1), None)
    return Snapshot(
        asof=when.date().isoformat(),
        windows=SNAPSHOT_WINDOWS,
        assets=tuple(assets),
        best_performer=best,
        best_risk_adjusted=best_ra,
        deflator=None if deflator is None else "cpi",
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class HighMarks:
    """Closes of a recent span with the days that set an all-time high or an N-bar breakout."""

    closes: pd.Series
    ath_dates: pd.DatetimeIndex
    breakout_dates: pd.DatetimeIndex
    breakout_bars: int


def high_marks(levels: pd.Series, days: int = 3 * 365, breakout_bars: int = 252) -> HighMarks:
    """The last ``days`` of ``levels`` and the closes that made new highs, point in time.

    An all-time-high day closes at the running maximum of the whole history so far (and above
    the day before); a breakout day closes above the highest of the previous ``breakout_bars``.
    """
    series = levels.dropna()
    if series.empty:
        raise InsufficientDataError("no value to find highs in")
    recent = series.loc[series.index >= series.index[-1] - pd.Timedelta(days=days)]
    running = series.cummax()
    ath = recent.index[(recent >= running.loc[recent.index]) & (recent > recent.shift(1))]
    prior = series.shift(1).rolling(breakout_bars, min_periods=breakout_bars).max()
    brk = recent.index[(recent > prior.loc[recent.index]).to_numpy()]
    return HighMarks(recent, pd.DatetimeIndex(ath), pd.DatetimeIndex(brk), breakout_bars)


@dataclass(frozen=True)
class RatioHistory:
    """A price ratio's history, its month-end closes and where today's value stands."""

    ratio: pd.Series
    monthly: pd.Series
    now: float
    percentile: float

    @property
    def since(self) -> pd.Timestamp:
        """First date of the history."""
        return pd.Timestamp(self.ratio.index[0])


def ratio_history(numerator: pd.Series, denominator: pd.Series) -> RatioHistory:
    """``numerator / denominator`` on their common dates, with today's percentile in its history.

    The percentile is the share of days (today included) on which the ratio was at or below
    today's value.
    """
    ratio = (numerator / denominator).dropna()
    if ratio.empty:
        raise InsufficientDataError("the two series share no date")
    now = float(ratio.iloc[-1])
    return RatioHistory(
        ratio=ratio,
        monthly=ratio.resample("ME").last().dropna(),
        now=now,
        percentile=float((ratio <= now).mean()),
    )
