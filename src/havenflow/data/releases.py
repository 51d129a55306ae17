"""When a macro value became public: release schedules, so nothing is used before it was.

A market close is known on its own day. A statistic is known when its release comes out, and
the releases follow schedules, not fixed delays. Each catalog series may name one
(``release`` in ``catalog.toml``); without one, a value is known ``known_lag_days`` after the
end of its period. The schedules, each on US federal business days (a release due on a holiday
comes out the next business day):

``next_session``
    The next business day after the end of the period. The New York Fed publishes the effective
    fed funds rate for a day at 9:00 the next business day (so Friday's rate, which FRED also
    gives for Saturday and Sunday, is known on Monday); FRED posts a month's average fed funds
    rate on the first business day after the month.
``h10``
    The Fed's H.10 release (foreign exchange rates, the broad dollar index): the daily values of
    a week, Monday to Friday, come out the following Monday.
``h41``
    The Fed's H.4.1 release (the balance sheet, Wednesday levels): Thursday.
``h6``
    The Fed's H.6 release (M2): a month's level comes out on the fourth Tuesday of the next
    month since the release became monthly in 2021, and is taken as the fourth Thursday of the
    next month in the weekly era before it (the Thursday release of 24 May 2007 carried April).
``cpi``
    The BLS consumer price index: a month's index comes out in the middle of the next month.
    From 2017 it came between the 10th and the 15th, so it is taken as the 15th; before, the
    day varied more (January 2014 on 20 February, January 2015 on 26 February, February 2015
    on 24 March), so it is taken as the 26th. Where BLS announced a rescheduled date, that
    date: September 2013 on 30 October 2013 (the 2013 shutdown); September 2025 on 24
    October, October and November 2025 on 18 December (the 2025 lapse in appropriations).

These are rules, not the releases' own dates: they never put a value before its release in
the cases above, but they can put it a few days after. With ``FRED_API_KEY`` set, ``data
update`` stores ALFRED's vintages instead, whose first ``realtime_start`` is each value's real
publication date, and ``--asof`` reads the vintage known then (see :mod:`havenflow.data.store`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from havenflow.exceptions import DataValidationError

__all__ = ["RELEASES", "RESCHEDULED", "release_dates"]

#: Release schedules and what each means (shown by ``havenflow data list --json``).
RELEASES: dict[str, str] = {
    "next_session": "the next US federal business day after the period ends",
    "h10": "the Fed's H.10: a week's daily values on the following Monday",
    "h41": "the Fed's H.4.1: Wednesday levels on Thursday",
    "h6": "the Fed's H.6: a month's level on the fourth Tuesday of the next month "
    "(fourth Thursday before 2021)",
    "cpi": "BLS CPI: the 15th of the next month (the 26th before 2017), or the date BLS announced",
}

#: Release dates BLS or the Fed announced away from the schedule, by schedule and period
#: (month start).
RESCHEDULED: dict[str, dict[pd.Timestamp, pd.Timestamp]] = {
    "cpi": {
        # BLS notice of 10 October 2025 (bls.gov/bls/092025-cpi-reschedule-notice.htm).
        # The 2013 lapse in appropriations delayed September 2013's index.
        pd.Timestamp("2013-09-01"): pd.Timestamp("2013-10-30"),
        pd.Timestamp("2025-09-01"): pd.Timestamp("2025-10-24"),
        # BLS, 21 November 2025: no October survey; the October indexes that could be built
        # (carried forward) came with November's, on 18 December instead of 10 December.
        pd.Timestamp("2025-10-01"): pd.Timestamp("2025-12-18"),
        pd.Timestamp("2025-11-01"): pd.Timestamp("2025-12-18"),
    }
}

#: From this year on, BLS released CPI by the 15th of the next month.
CPI_MID_MONTH_FROM = 2017

#: H.6 became a monthly release (on Tuesdays) in 2021; before, it came out every Thursday.
H6_MONTHLY_FROM = pd.Timestamp("2021-02-01")


def _on_or_after_session(days: np.ndarray) -> np.ndarray:
    """Each date, or the first US federal business day after it when it is not one."""
    from havenflow.data.calendars import sessions

    if not len(days):
        return days
    lo = pd.Timestamp(days.min())
    hi = pd.Timestamp(days.max()) + pd.Timedelta(days=14)
    open_days = sessions("us_federal", lo, hi).to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(open_days, days, side="left")
    return open_days[np.clip(pos, 0, len(open_days) - 1)]


def _nth_weekday(month_start: pd.DatetimeIndex, weekday: int, n: int) -> pd.DatetimeIndex:
    """The ``n``-th ``weekday`` (Monday 0) of each month starting at ``month_start``."""
    shift = (weekday - month_start.day_of_week + 7) % 7
    return month_start + pd.to_timedelta(shift + 7 * (n - 1), unit="D")


def release_dates(index: pd.DatetimeIndex, release: str, calendar: str) -> np.ndarray:
    """The publication date of each observation in ``index`` under schedule ``release``.

    Parameters
    ----------
    index
        Observation dates (a monthly series is dated by any day of its month).
    release
        A key of :data:`RELEASES`.
    calendar
        The series' calendar; ``monthly`` observations end with their month.

    Returns
    -------
    numpy.ndarray
        ``datetime64[ns]`` dates, same length as ``index`` (non-decreasing when ``index`` is
        sorted).

    Raises
    ------
    DataValidationError
        For an unknown schedule.
    """
    dates = pd.DatetimeIndex(index).as_unit("ns").normalize()
    if release not in RELEASES:
        raise DataValidationError(
            f"unknown release schedule {release!r}; one of {', '.join(RELEASES)}"
        )
    if release == "next_session":
        period_end = dates + pd.offsets.MonthEnd(0) if calendar == "monthly" else dates
        return _on_or_after_session((period_end + pd.Timedelta(days=1)).to_numpy())
    if release == "h10":
        # The Monday after the week (Monday to Friday) the observation belongs to.
        monday = dates + pd.to_timedelta(7 - dates.day_of_week, unit="D")
        return _on_or_after_session(monday.to_numpy())
    if release == "h41":
        return _on_or_after_session((dates + pd.Timedelta(days=1)).to_numpy())
    next_month = (dates.to_period("M") + 1).start_time.as_unit("ns")
    if release == "h6":
        tuesday = _nth_weekday(pd.DatetimeIndex(next_month), 1, 4)
        thursday = _nth_weekday(pd.DatetimeIndex(next_month), 3, 4)
        monthly_era = np.asarray(dates.to_period("M").start_time >= H6_MONTHLY_FROM)
        due = np.where(monthly_era, tuesday.to_numpy(), thursday.to_numpy())
        return _on_or_after_session(due)
    # cpi: the 15th from 2017 (releases came by then), the 26th before (they came later).
    day = np.where(np.asarray(dates.year >= CPI_MID_MONTH_FROM), 14, 25)
    due = _on_or_after_session((next_month + pd.to_timedelta(day, unit="D")).to_numpy())
    months = dates.to_period("M").start_time
    for month, when in RESCHEDULED["cpi"].items():
        due[np.asarray(months == month)] = np.datetime64(when, "ns")
    return due
