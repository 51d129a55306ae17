"""Trading sessions: which days each series' market is open, so holidays are never bars.

Every daily series of the catalog names its sessions: an exchange calendar of
``exchange_calendars`` (``XNYS`` for US equities and the VIX, ``CMES`` for COMEX and NYMEX
futures, ``ICEUS`` for the dollar index), ``us_federal`` (Monday to Friday less US federal
holidays: FRED's rates and the Fed's indices), or ``24/7`` (crypto). Aligning onto trading days
uses the sessions common to every series involved: a day on which any of their markets was
closed is not a bar (its moves land in the next common session's), so no holiday enters a
volatility, correlation, lead-lag or event study as a zero return. The user can name the
target sessions instead.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from havenflow.exceptions import DataValidationError

__all__ = ["FIRST", "SESSIONS", "WEEKDAYS", "common_sessions", "sessions"]

#: Sessions names havenflow knows besides ``exchange_calendars``' own.
WEEKDAYS = "weekdays"  # Monday to Friday, no holidays (the old "business days")
SESSIONS = ("24/7", "us_federal", WEEKDAYS)
#: The earliest session any calendar is built from (the bundled S&P 500 starts in 1927).
FIRST = pd.Timestamp("1927-01-03")


@functools.cache
def _sessions(name: str) -> np.ndarray:
    """Every session of ``name`` from :data:`FIRST` to the calendar's end, as datetime64[ns]."""
    last = pd.Timestamp.today().normalize() + pd.DateOffset(years=1)
    if name == "24/7":
        days = pd.date_range(FIRST, last, freq="D")
    elif name == WEEKDAYS:
        days = pd.bdate_range(FIRST, last)
    elif name == "us_federal":
        from pandas.tseries.holiday import USFederalHolidayCalendar

        holidays = USFederalHolidayCalendar().holidays(FIRST, last)
        days = pd.bdate_range(FIRST, last, freq="C", holidays=list(holidays))
    else:
        import exchange_calendars as xc
        from exchange_calendars.errors import InvalidCalendarName

        try:
            # The library's own pandas deprecation warnings are its to fix, not ours.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Warning)
                cal = xc.get_calendar(name, start=FIRST.date().isoformat())
                days = pd.DatetimeIndex(cal.sessions)
        except InvalidCalendarName:
            raise DataValidationError(
                f"unknown sessions {name!r}: one of {', '.join(SESSIONS)} or an "
                "exchange_calendars name (XNYS, CMES, ICEUS, XLON, ...)"
            ) from None
        if days.tz is not None:
            days = days.tz_localize(None)
    return pd.DatetimeIndex(days).as_unit("ns").normalize().to_numpy()


def sessions(name: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """The sessions of ``name`` between ``start`` and ``end`` inclusive.

    Raises
    ------
    DataValidationError
        For an unknown calendar name.
    """
    days = _sessions(name)
    lo, hi = (
        np.searchsorted(days, np.datetime64(start.normalize(), "ns"), "left"),
        np.searchsorted(days, np.datetime64(end.normalize(), "ns"), "right"),
    )
    return pd.DatetimeIndex(days[lo:hi], name="date")


def common_sessions(names: list[str], start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """The days between ``start`` and ``end`` on which every calendar of ``names`` has a session.

    With no names (crypto, weekly and monthly series only), Monday to Friday.
    """
    wanted = [n for n in dict.fromkeys(names) if n != "24/7"]
    if not wanted:
        wanted = [WEEKDAYS]
    out = sessions(wanted[0], start, end)
    for name in wanted[1:]:
        out = out.intersection(sessions(name, start, end))
    return pd.DatetimeIndex(out, name="date").as_unit("ns")
