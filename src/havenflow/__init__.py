"""havenflow: test and monitor cross-asset rotation claims with data.

Importing havenflow touches neither the network nor the disk; data is read on first use, and
the estimators are imported when a function first needs them.

>>> import havenflow as hf
>>> df = hf.load(["silver", "bitcoin"], asof="2026-01-23", freq="W")
>>> hf.leadlag(df.silver, df.bitcoin, max_lag=26)  # an HTML summary in a notebook
"""

from __future__ import annotations

from havenflow.api import (
    backtest,
    check,
    divergence,
    drivers,
    events,
    granger,
    leadlag,
    load,
    outlook,
    phases,
    regime,
    rolling_leadlag,
    safe_haven,
    snapshot,
    timeline,
    var,
)
from havenflow.exceptions import (
    DataValidationError,
    HavenflowError,
    InsufficientDataError,
    SourceError,
    StoreBusyError,
    StoreError,
    UnknownSeriesError,
)

__all__ = [
    "DataValidationError",
    "HavenflowError",
    "InsufficientDataError",
    "SourceError",
    "StoreBusyError",
    "StoreError",
    "UnknownSeriesError",
    "__version__",
    "backtest",
    "check",
    "divergence",
    "drivers",
    "events",
    "granger",
    "leadlag",
    "load",
    "outlook",
    "phases",
    "regime",
    "rolling_leadlag",
    "safe_haven",
    "snapshot",
    "timeline",
    "var",
]

__version__ = "0.1.0"
