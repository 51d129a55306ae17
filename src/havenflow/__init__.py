"""havenflow: test and monitor cross-asset rotation claims with data.

Importing havenflow touches neither the network nor the disk; data is read on first use.
"""

from __future__ import annotations

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
]

__version__ = "0.1.0"
