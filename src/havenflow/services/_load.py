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
    levels = align(
        {k: v.values for k, v in loaded.items()},
        calendar,  # type: ignore[arg-type]
        specs=specs,
        end=pd.Timestamp(asof) if asof is not None else None,
        sessions=sessions,
        known={k: v.known for k, v in loaded.items() if v.known is not None},
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

    Returns
    -------
    tuple
        The frame (one column per id, only dates where every series has a value) and the specs.
    """
    user_freq = check_freq(freq)
    # Co-movement statistics: each daily value on the day it describes (published by asof),
    # so a weekly release's moves do not pile onto its publication day and invent a lag.
    frame, specs, _ = _aligned_levels(repo, ids, CALENDAR[user_freq], asof, placement="observed")
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
