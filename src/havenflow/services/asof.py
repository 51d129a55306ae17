"""The default as-of date: the last date the needed series share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from havenflow.data.repository import DataRepository
from havenflow.exceptions import (
    DataValidationError,
    HavenflowError,
)

if TYPE_CHECKING:
    pass


def _names(ids: list[str]) -> str:
    return ids[0] if len(ids) == 1 else f"{', '.join(ids[:-1])} and {ids[-1]}"


@dataclass(frozen=True)
class CommonAsOf:
    """The last date that every needed series has a value, and where each series ends.

    Attributes
    ----------
    asof
        The last date known for every series in ``last`` (the minimum of their last dates).
    last
        Each needed series' last known date (publication lags included).
    context_last
        Last dates of series that are shown but not needed (reported when they end earlier).
    """

    asof: pd.Timestamp
    last: dict[str, pd.Timestamp]
    context_last: dict[str, pd.Timestamp]

    @staticmethod
    def _ends(ends: dict[str, pd.Timestamp], one: str, many: str) -> list[str]:
        by_date: dict[pd.Timestamp, list[str]] = {}
        for sid, day in ends.items():
            by_date.setdefault(day, []).append(sid)
        return [
            f"{_names(sids)} {one if len(sids) == 1 else many} {day.date()}"
            for day, sids in sorted(by_date.items())
        ]

    @property
    def message(self) -> str:
        """One line: the date, the series that share it, and those that end later or earlier."""
        ids = list(self.last)
        if len(ids) == 1:
            head = f"as of {self.asof.date()}, the last date of {ids[0]}"
        else:
            head = f"as of {self.asof.date()}, the last date {_names(ids)} share"
        later = {s: d for s, d in self.last.items() if d > self.asof}
        earlier = {s: d for s, d in self.context_last.items() if d < self.asof}
        parts = self._ends(later, "runs to", "run to") + self._ends(earlier, "ends", "end")
        return head + (f" ({'; '.join(parts)})" if parts else "")


def _last_known(repo: DataRepository, sid: str) -> pd.Timestamp:
    loaded = repo.load(sid)
    return pd.Timestamp(loaded.known_dates().max()).normalize()


def common_asof(
    repo: DataRepository, ids: list[str] | tuple[str, ...], *, context: tuple[str, ...] = ()
) -> CommonAsOf:
    """The default as-of of an analysis of ``ids``: the last date they all have a value.

    Parameters
    ----------
    repo
        Where the series come from.
    ids
        The series the analysis needs.
    context
        Series it shows but does not need (their end is only reported, when earlier).

    Raises
    ------
    UnknownSeriesError
        If an id has no data.
    """
    needed = list(dict.fromkeys(ids))
    if not needed:
        raise DataValidationError("common_asof needs at least one series id")
    last = {sid: _last_known(repo, sid) for sid in needed}
    context_last = {}
    for sid in dict.fromkeys(context):
        if sid in last:
            continue
        try:
            context_last[sid] = _last_known(repo, sid)
        except HavenflowError:
            continue  # a context series without data is simply not shown
    return CommonAsOf(min(last.values()), last, context_last)


def resolve_asof(
    repo: DataRepository,
    ids: list[str] | tuple[str, ...],
    asof: str | pd.Timestamp | None = None,
    *,
    context: tuple[str, ...] = (),
) -> CommonAsOf:
    """The as-of of an analysis of ``ids``: ``asof`` if given and covered, else the default.

    Raises
    ------
    DataValidationError
        If ``asof`` is malformed, or after the last date that every series in ``ids`` shares
        (the message names that date and the series that end there).
    """
    from havenflow.data.validate import parse_asof

    cutoff = parse_asof(asof) if asof is not None else None
    common = common_asof(repo, ids, context=context)
    if cutoff is None:
        return common
    if cutoff > common.asof:
        ending = [s for s, d in common.last.items() if d == common.asof]
        raise DataValidationError(
            f"--asof {cutoff.date()} is after {common.asof.date()}, the last date with data for "
            f"{_names(list(common.last))} ({_names(ending)} "
            f"{'ends' if len(ending) == 1 else 'end'} {common.asof.date()})"
        )
    return CommonAsOf(cutoff, common.last, common.context_last)
