"""Trading sessions: which days each series' market is open, so holidays are never bars.

Every daily series of the catalog names its sessions: an exchange calendar of
``exchange_calendars`` (``XNYS`` for US equities, the VIX, the COMEX closes and the dollar
index, whose bundled bars follow the NYSE's holidays), ``us_federal`` (Monday to
Friday less US federal holidays and Good Friday, the bond market's closures: FRED's rates and
the Fed's indices), or ``24/7`` (crypto). Aligning onto trading days uses the sessions common
to every series involved: a day on which any of their markets was closed is not a bar (its
moves land in the next common session's), so no holiday enters a volatility, correlation,
lead-lag or event study as a zero return. The user can name the target sessions instead.

Before an exchange calendar's first session, and where ``exchange_calendars`` knows no
holidays (the NYSE before 1970), its days are Monday to Friday: the README says so.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from havenflow.exceptions import DataValidationError

__all__ = ["SESSIONS", "WEEKDAYS", "common_sessions", "sessions"]

#: Sessions names havenflow knows besides ``exchange_calendars``' own.
WEEKDAYS = "weekdays"  # Monday to Friday, no holidays (the old "business days")
SESSIONS = ("24/7", "us_federal", WEEKDAYS)


def _home_made(name: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    if name == "24/7":
        return pd.date_range(start, end, freq="D")
    if name == WEEKDAYS:
        return pd.bdate_range(start, end)
    # US federal holidays and Good Friday: expanded once per year of use (the holiday rules
    # are slow to expand), then sliced, like the exchange calendars.
    days = _federal(pd.Timestamp.today().year)
    lo = np.searchsorted(days, np.datetime64(start, "ns"), "left")
    hi = np.searchsorted(days, np.datetime64(end, "ns"), "right")
    return pd.DatetimeIndex(days[lo:hi])


@functools.cache
def _federal(year: int) -> np.ndarray:
    from pandas.tseries.holiday import GoodFriday, USFederalHolidayCalendar

    start, end = pd.Timestamp("1800-01-01"), pd.Timestamp(year=year + 1, month=12, day=31)
    holidays = (
        USFederalHolidayCalendar()
        .holidays(start, end)
        .union(pd.DatetimeIndex(GoodFriday.dates(start, end)))
    )
    days = pd.bdate_range(start, end, freq="C", holidays=list(holidays))
    return pd.DatetimeIndex(days).as_unit("ns").to_numpy()


@functools.cache
def _exchange(name: str, year: int) -> np.ndarray:
    """Every session ``exchange_calendars`` knows for ``name`` (cached per calendar year)."""
    import exchange_calendars as xc
    from exchange_calendars.errors import InvalidCalendarName

    end = pd.Timestamp(year=year + 1, month=12, day=31)
    try:
        # The library's own pandas deprecation warnings are its to fix, not ours.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Warning)
            try:
                cal = xc.get_calendar(name, start="1927-01-03", end=end.date().isoformat())
            except ValueError:  # a calendar whose history starts later: its own earliest day
                cal = xc.get_calendar(name, end=end.date().isoformat())
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
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if name in SESSIONS:
        days = _home_made(name, start, end)
    else:
        known = _exchange(name, pd.Timestamp.today().year)
        first = pd.Timestamp(known[0])
        lo = np.searchsorted(known, np.datetime64(start, "ns"), "left")
        hi = np.searchsorted(known, np.datetime64(end, "ns"), "right")
        days = pd.DatetimeIndex(known[lo:hi])
        if start < first:  # before the calendar's history: Monday to Friday
            early = pd.bdate_range(start, min(end, first - pd.Timedelta(days=1)))
            days = pd.DatetimeIndex(early.append(days))
    return pd.DatetimeIndex(days, name="date").as_unit("ns")


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
