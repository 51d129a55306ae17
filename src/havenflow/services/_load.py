"""Loading and aligning series for the analyses, point in time."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from havenflow.catalog import SeriesSpec
from havenflow.data.align import align, transform
from havenflow.data.repository import DataRepository
from havenflow.exceptions import (
    DataWarning,
    HavenflowError,
    InsufficientDataError,
)
from havenflow.universe import CALENDAR, check_freq

if TYPE_CHECKING:
    pass


def _placed(loaded: dict[str, Any], placement: str) -> tuple[dict[str, pd.Series], dict[str, Any]]:
    """Each series and its publication times for :func:`align`.

    Date by date (``known``), a series with ALFRED vintages is its real-time series (each
    publication's latest value, no revision before it appeared); for statistics as of a date
    (``observed``), the vintage of that date by observation date.
    """
    series: dict[str, pd.Series] = {}
    known: dict[str, Any] = {}
    for sid, item in loaded.items():
        if placement == "known" and item.realtime is not None:
            times, values = item.as_known()
            series[sid], known[sid] = values, times
        else:
            series[sid] = item.values
            if item.known is not None:
                known[sid] = item.known
    return series, known


def _aligned_levels(
    repo: DataRepository,
    ids: list[str],
    calendar: str,
    asof: str | pd.Timestamp | None,
    *,
    sessions: str | None = None,
    placement: Literal["known", "observed"] = "known",
) -> tuple[pd.DataFrame, dict[str, SeriesSpec], dict[str, Any]]:
    """Levels of ``ids`` on one calendar (align's rules), with their specs and loaded series.

    On trading days (``B``) the bars are the sessions common to the series' markets, or
    ``sessions`` when named. ``placement``: see :func:`~havenflow.data.align.align`
    (``observed`` for co-movement statistics estimated as of ``asof``).
    """
    loaded = repo.load_many(ids, asof)
    specs = {k: v.spec for k, v in loaded.items()}
    series, known = _placed(loaded, placement)
    levels = align(
        series,
        calendar,  # type: ignore[arg-type]
        specs=specs,
        end=pd.Timestamp(asof) if asof is not None else None,
        sessions=sessions,
        known=known,
        placement=placement,
    )
    return levels, specs, loaded


def aligned_moves(
    repo: DataRepository,
    ids: list[str],
    freq: str = "D",
    asof: str | pd.Timestamp | None = None,
    *,
    levels: bool = False,
    placement: Literal["known", "observed"] = "observed",
) -> tuple[pd.DataFrame, dict[str, SeriesSpec]]:
    """Returns (or changes, for yields) of ``ids`` on one calendar, point-in-time.

    Parameters
    ----------
    repo
        Where the series come from.
    ids
        Series ids.
    freq
        ``D`` (trading days), ``W`` (weeks ending Friday) or ``M`` (month ends).
    asof
        Only values known on or before this date are used.
    levels
        Return aligned levels instead of moves (spurious correlation: warned about).
    placement
        ``observed`` (default) for statistics estimated as of ``asof``; ``known`` for
        anything reported window by window or date by date (a rolling scan), so a window
        ending on ``t`` uses only values published by ``t``.

    Returns
    -------
    tuple
        The frame (one column per id, only dates where every series has a value) and the specs.
    """
    user_freq = check_freq(freq)
    # Co-movement statistics: each daily value on the day it describes (published by asof),
    # so a weekly release's moves do not pile onto its publication day and invent a lag.
    frame, specs, _ = _aligned_levels(repo, ids, CALENDAR[user_freq], asof, placement=placement)
    if levels:
        warnings.warn(
            "lead-lag on price levels: trending levels correlate at every lag (spurious "
            "correlation); the result is not evidence of a lead or a lag",
            DataWarning,
            stacklevel=2,
        )
        out = frame
    else:
        out = transform(frame, specs)
    out = out.dropna(how="any")
    if out.empty:
        raise InsufficientDataError(
            f"{', '.join(ids)} have no common dates with values in all"
            + (f" up to {pd.Timestamp(asof).date()}" if asof is not None else "")
        )
    return out, specs


def _has_data(repo: DataRepository, sid: str, asof: str | pd.Timestamp | None) -> bool:

    try:
        return not repo.load(sid, asof).values.empty
    except HavenflowError:
        return False
