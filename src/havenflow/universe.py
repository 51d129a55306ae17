"""Named id lists and frequency tables: which series each analysis uses, in one place."""

from __future__ import annotations

from typing import Literal

from havenflow.exceptions import DataValidationError

__all__ = [
    "BARS_PER_YEAR",
    "CALENDAR",
    "CORE_IDS",
    "DEFAULT_MAX_LAG",
    "DEFAULT_VAR_MAX_LAG",
    "DRIVER_IDS",
    "DRIVER_LABELS",
    "LAG_UNITS",
    "PHASE_SERIES",
    "REPORT_SERIES",
    "SNAPSHOT_IDS",
    "SUMMARY_IDS",
    "VAR_IRF_PERIODS",
    "UserFrequency",
    "check_freq",
]

UserFrequency = Literal["D", "W", "M"]

#: ``--freq`` to the alignment calendar: D is the trading-day (business-day) calendar, so
#: Bitcoin's weekend moves land in Monday's return, over the same span as the metals'.
CALENDAR = {"D": "B", "W": "W", "M": "M"}
LAG_UNITS = {"D": "business days", "W": "weeks", "M": "months"}
BARS_PER_YEAR = {"D": 252, "W": 52, "M": 12}
DEFAULT_MAX_LAG = {"D": 120, "W": 26, "M": 12}
#: ``--method var``: largest lag order the criterion may choose, and impulse-response horizons.
DEFAULT_VAR_MAX_LAG = {"D": 20, "W": 8, "M": 6}
VAR_IRF_PERIODS = {"D": 20, "W": 12, "M": 12}


def check_freq(freq: str) -> UserFrequency:
    """``freq`` if it is D, W or M (the analyses' calendars)."""
    if freq not in CALENDAR:
        raise DataValidationError(f"--freq must be D, W or M, got {freq!r}")
    return freq  # type: ignore[return-value]


SNAPSHOT_IDS = ["silver", "gold", "bitcoin", "sp500", "nasdaq100", "copper", "dxy"]
DRIVER_IDS = {
    "real_yield": "real_yield_10y",
    "dollar": "usd_broad",
    "equities": "sp500",
    "vix": "vix",
}
DRIVER_LABELS = {
    "real_yield": "10y real yield change (pp)",
    "dollar": "broad dollar index log return",
    "rate_expectations": "2y yield minus fed funds, change (pp)",
    "equities": "S&P 500 log return",
    "vix": "VIX log change",
}

#: Series the phase indicators use; the first six are required.
PHASE_SERIES = [
    "vix",
    "sp500",
    "gold",
    "silver",
    "real_yield_10y",
    "usd_broad",
    "bitcoin",
    "m2",
    "fed_balance_sheet",
    "reverse_repo",
]

#: The series every claim of the report rests on (C1, C2: silver's rank among them; C10:
#: silver and bitcoin): the report's default as-of is the last date they all share.
CORE_IDS = ("silver", "gold", "sp500", "bitcoin")

#: Series the report reads (for the methods section and the point-in-time test).
REPORT_SERIES = (
    "silver",
    "gold",
    "bitcoin",
    "sp500",
    "nasdaq100",
    "copper",
    "dxy",
    "usd_broad",
    "vix",
    "real_yield_10y",
    "ust_2y",
    "fed_funds",
    "m2",
    "fed_balance_sheet",
    "reverse_repo",
)

#: The universe of the summary table.
SUMMARY_IDS = [
    "silver",
    "gold",
    "bitcoin",
    "sp500",
    "nasdaq100",
    "copper",
    "dxy",
    "usd_broad",
    "vix",
    "real_yield_10y",
    "nominal_10y",
    "ust_2y",
    "breakeven_10y",
]
