"""Calendars, point-in-time alignment and returns.

Bitcoin trades every day, metals and indices on exchange days, FRED's rates on business days,
the Fed balance sheet weekly and M2 monthly. Correlating them needs one calendar first, or
weekend returns pile into Monday and invent a lead-lag.

The rule here: every observation has a *known date*, the date from which its value was public
(the end of its period plus the series' publication lag: a June M2 level is known in late July,
a Wednesday balance-sheet level on Thursday, a close on its own day). On a target date ``T`` a
series takes the value of its latest observation known on or before ``T``, and only if that
observation is at most ``max_stale_days`` old at ``T`` (bounded carry-forward); otherwise the
cell is missing. Hence no value is ever used before it was known, and a monthly value is never
spread back into its own month. The same rule makes alignment point-in-time: data after ``T``
cannot change what is reported for ``T``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from havenflow.catalog import Calendar, SeriesSpec
from havenflow.exceptions import DataValidationError

__all__ = [
    "DEFAULT_MAX_STALE_DAYS",
    "FREQUENCIES",
    "Frequency",
    "align",
    "calendar_index",
    "changes",
    "known_dates",
    "last_bar_of_week",
    "levels_from_returns",
    "returns",
    "trading_days",
    "transform",
]

Frequency = Literal["D", "B", "W", "M"]
FREQUENCIES: dict[str, str] = {
    "D": "calendar days",
    "B": "trading days (the sessions common to the series' markets; holidays are not bars)",
    "W": "weeks ending Friday",
    "M": "month ends",
}
_PANDAS_FREQ = {"D": "D", "B": "B", "W": "W-FRI", "M": "ME"}

#: How long a value may be carried forward from its known date, by the series' own calendar.
DEFAULT_MAX_STALE_DAYS: dict[str, int] = {
    "crypto": 3,
    "exchange": 7,  # a long weekend plus a holiday or two
    "business": 7,
    "weekly": 14,
    "monthly": 45,
}


def known_dates(
    index: pd.DatetimeIndex, calendar: Calendar, known_lag_days: int, release: str | None = None
) -> np.ndarray:
    """Return, for each observation date, the date from which the value was public.

    Parameters
    ----------
    index
        Observation dates. A monthly series is dated by its month (any day in it).
    calendar
        The series' calendar; ``monthly`` values become known after their month ends.
    known_lag_days
        Publication lag in days after the end of the period (when no ``release`` is named).
    release
        A release schedule of :mod:`havenflow.data.releases` (``h10``, ``h41``, ``h6``,
        ``cpi``, ``next_session``), which then decides instead of ``known_lag_days``.

    Returns
    -------
    numpy.ndarray
        ``datetime64[ns]`` known dates, same length as ``index``.
    """
    if release is not None:
        from havenflow.data.releases import release_dates

        return release_dates(pd.DatetimeIndex(index), release, calendar)
    dates = pd.DatetimeIndex(index).as_unit("ns")
    period_end = dates + pd.offsets.MonthEnd(0) if calendar == "monthly" else dates
    return (period_end + pd.Timedelta(days=known_lag_days)).to_numpy(dtype="datetime64[ns]")


def calendar_index(start: pd.Timestamp, end: pd.Timestamp, freq: Frequency) -> pd.DatetimeIndex:
    """Dates of the target calendar between ``start`` and ``end`` inclusive."""
    if freq not in _PANDAS_FREQ:
        raise DataValidationError(f"freq must be one of {list(_PANDAS_FREQ)}, got {freq!r}")
    out = pd.date_range(start.normalize(), end.normalize(), freq=_PANDAS_FREQ[freq], name="date")
    return out.as_unit("ns")


def last_bar_of_week(frame: pd.DataFrame) -> pd.DataFrame:
    """The last row of each week (weeks end on Friday), labelled by that row's own date.

    A complete week is labelled by its Friday; a week cut short (by the as-of date or by a
    holiday) keeps the date of its last actual bar, so a sample never carries a date later
    than its data (``resample("W-FRI")`` would label a Monday-only week with the coming
    Friday).
    """
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataValidationError("last_bar_of_week: the index must be a DatetimeIndex")
    if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
        raise DataValidationError("last_bar_of_week: dates must be sorted and unique")
    week = pd.Index(frame.index.to_period("W-FRI"))
    return frame[~week.duplicated(keep="last")]


def spec_known_dates(spec: SeriesSpec, index: pd.DatetimeIndex) -> np.ndarray:
    """:func:`known_dates` of ``index`` under the series' calendar, lag and release schedule."""
    return known_dates(index, spec.calendar, spec.known_lag_days, spec.release)


def _default_spec_values(
    name: str, specs: Mapping[str, SeriesSpec] | None
) -> tuple[Calendar, int, str | None]:
    if specs is not None and name in specs:
        return specs[name].calendar, specs[name].known_lag_days, specs[name].release
    return "business", 0, None


def _session_names(names: list[str], specs: Mapping[str, SeriesSpec] | None) -> list[str]:
    """The sessions of the daily series among ``names`` (weekly and monthly ones have none)."""
    out = []
    for name in names:
        spec = specs.get(name) if specs is not None else None
        out.append(spec.sessions if spec is not None else "weekdays")
    return [s for s in out if s is not None]


def trading_days(
    names: list[str],
    specs: Mapping[str, SeriesSpec] | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
    sessions: str | None = None,
) -> pd.DatetimeIndex:
    """The trading days from ``start`` to ``end`` for series ``names``.

    ``sessions`` names the calendar outright; otherwise the sessions common to every daily
    series' market (a day any of them was closed is not a bar: its moves land in the next
    common session), Monday to Friday when only 24/7, weekly or monthly series are involved.
    """
    from havenflow.data.calendars import common_sessions
    from havenflow.data.calendars import sessions as named

    if sessions is not None:
        return pd.DatetimeIndex(named(sessions, start, end), name="date").as_unit("ns")
    return common_sessions(_session_names(names, specs), start, end)


def align(
    series: Mapping[str, pd.Series],
    freq: Frequency = "B",
    *,
    specs: Mapping[str, SeriesSpec] | None = None,
    max_stale_days: int | Mapping[str, int] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    how: Literal["outer", "inner"] = "outer",
    sessions: str | None = None,
    known: Mapping[str, np.ndarray] | None = None,
    placement: Literal["known", "observed"] = "known",
) -> pd.DataFrame:
    """Align series with different calendars onto one calendar, point-in-time.

    Parameters
    ----------
    series
        Name to values (sorted unique DatetimeIndex).
    freq
        Target calendar: ``D`` calendar days, ``B`` trading days (see ``sessions``), ``W``
        Fridays, ``M`` month ends.
    specs
        Catalog entries by name, for each series' calendar and publication lag. A series without
        one is treated as a business-day series known on its date.
    max_stale_days
        How many days a value may be carried past its known date; one number for all, or per
        name. By default from :data:`DEFAULT_MAX_STALE_DAYS` by the series' calendar.
    start, end
        Limits of the target calendar. By default from the earliest to the latest known date;
        ``end`` is also the as-of date: nothing known after it is used.
    how
        ``outer`` keeps every target date on which any series has a value; ``inner`` keeps only
        dates on which all have one.
    sessions
        For ``B``: the calendar to align on (an exchange_calendars name such as ``XNYS``,
        ``us_federal``, ``24/7`` or ``weekdays``). By default the sessions common to every
        daily series' market (each spec's ``sessions``), so no holiday is a bar.
    known
        Publication dates per observation (one per value of ``series[name]``) for the series
        that have them (ALFRED's vintages); the others follow their spec's release schedule.
    placement
        ``known`` (the default) puts each value on its publication date: what was known on
        each date, for anything reported date by date (a phase history, a trigger, a
        walk-forward forecast). ``observed`` puts a daily series' values on the days they
        describe, keeping only those published by ``end``: for statistics of co-movement
        estimated as of ``end`` (a regression, a cross-correlation), where a weekly release
        (the H.10's broad dollar, published the next Monday) would otherwise pile a week's
        moves onto Mondays and invent a lag. Weekly and monthly series stay on their known
        dates either way.

    Returns
    -------
    pandas.DataFrame
        One column per series, indexed by the target dates; missing where no value was known
        recently enough.
    """
    if not series:
        raise DataValidationError("align needs at least one series")
    prepared: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for name, values in series.items():
        if not isinstance(values.index, pd.DatetimeIndex):
            raise DataValidationError(f"series {name!r}: index must be a DatetimeIndex")
        if not values.index.is_monotonic_increasing or values.index.has_duplicates:
            raise DataValidationError(f"series {name!r}: dates must be sorted and unique")
        clean = values.dropna()
        calendar, lag, release = _default_spec_values(name, specs)
        if max_stale_days is None:
            stale = DEFAULT_MAX_STALE_DAYS[calendar]
        elif isinstance(max_stale_days, int):
            stale = max_stale_days
        else:
            stale = max_stale_days.get(name, DEFAULT_MAX_STALE_DAYS[calendar])
        if stale < 0:
            raise DataValidationError(f"max_stale_days must be >= 0, got {stale} for {name!r}")
        if known is not None and name in known:
            # Real publication dates (ALFRED's first vintage), one per observation.
            when = np.asarray(known[name], dtype="datetime64[ns]")
            if len(when) != len(values):
                raise DataValidationError(
                    f"series {name!r}: {len(when)} known dates for {len(values)} values"
                )
            published = when[values.notna().to_numpy()]
        else:
            published = known_dates(pd.DatetimeIndex(clean.index), calendar, lag, release)
        observed = clean.to_numpy(dtype=float)
        if placement == "observed" and calendar not in {"weekly", "monthly"}:
            # On the days they describe, as far as published by the end (the as-of date).
            if end is not None:
                public = published <= np.datetime64(pd.Timestamp(end), "ns")
                clean, observed = clean[public], observed[public]
            published = pd.DatetimeIndex(clean.index).as_unit("ns").to_numpy()
        order = np.argsort(published, kind="stable")
        published, observed = published[order], observed[order]
        prepared[name] = (published, observed, stale)

    non_empty = [k for k, _, _ in prepared.values() if len(k)]
    if not non_empty:
        raise DataValidationError("align: every series is empty")
    lo = pd.Timestamp(start) if start is not None else pd.Timestamp(min(k[0] for k in non_empty))
    hi = pd.Timestamp(end) if end is not None else pd.Timestamp(max(k[-1] for k in non_empty))
    if hi < lo:
        raise DataValidationError(f"align: end {hi.date()} is before start {lo.date()}")
    if freq == "B":
        target = trading_days(list(series), specs, lo, hi, sessions)
    else:
        target = calendar_index(lo, hi, freq)
    target_ns = target.to_numpy(dtype="datetime64[ns]")

    columns: dict[str, np.ndarray] = {}
    for name, (public, observed, stale) in prepared.items():
        out = np.full(len(target_ns), np.nan)
        if len(public):
            # Known dates are sorted (above): searchsorted finds, for each target date, the
            # last observation already public on that date.
            pos = np.searchsorted(public, target_ns, side="right") - 1
            has = pos >= 0
            age = (target_ns[has] - public[pos[has]]) / np.timedelta64(1, "D")
            fresh = np.zeros(len(target_ns), dtype=bool)
            fresh[has] = age <= stale
            out[fresh] = observed[pos[fresh]]
        columns[name] = out
    frame = pd.DataFrame(columns, index=target)
    if how == "inner":
        return frame.dropna(how="any")
    return frame.dropna(how="all")


def returns(
    levels: pd.DataFrame | pd.Series, kind: Literal["log", "simple"] = "log"
) -> pd.DataFrame | pd.Series:
    """Period returns of price levels; missing where either end is missing (never filled).

    Parameters
    ----------
    levels
        Strictly positive levels.
    kind
        ``log`` for log returns, ``simple`` for ``p_t / p_{t-1} - 1``.
    """
    if kind not in ("log", "simple"):
        raise DataValidationError(f"kind must be 'log' or 'simple', got {kind!r}")
    values = levels.to_numpy(dtype=float)
    if np.any(values[~np.isnan(values)] <= 0):
        raise DataValidationError("returns need strictly positive levels; use changes() for yields")
    ratio = levels / levels.shift(1)
    result = ratio.apply(np.log) if kind == "log" else ratio - 1.0
    return result.iloc[1:]


def changes(levels: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Period changes (for yields and spreads: percentage points)."""
    return levels.diff().iloc[1:]


def transform(levels: pd.DataFrame, specs: Mapping[str, SeriesSpec] | None = None) -> pd.DataFrame:
    """Turn aligned levels into the natural per-period move of each series.

    Prices, index levels and money stocks give log returns; yields, rates and spreads give
    changes in percentage points. A column without a spec is treated as a price.
    """
    out: dict[str, pd.Series] = {}
    for name in levels.columns:
        spec = specs.get(str(name)) if specs is not None else None
        col = levels[name]
        if spec is not None and spec.is_differenced:
            out[str(name)] = changes(col)  # type: ignore[assignment]
        else:
            out[str(name)] = returns(col, "log")  # type: ignore[assignment]
    return pd.DataFrame(out)


def levels_from_returns(
    period_returns: pd.Series, start_value: float, kind: Literal["log", "simple"] = "log"
) -> pd.Series:
    """Rebuild levels from returns (the inverse of :func:`returns`).

    ``start_value`` is the level on the date before the first return; the result is indexed
    like ``period_returns``.
    """
    growth = np.exp(period_returns.cumsum()) if kind == "log" else (1.0 + period_returns).cumprod()
    return growth * float(start_value)
