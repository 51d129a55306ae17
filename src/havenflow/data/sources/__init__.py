"""Live data sources: the only code in havenflow that speaks HTTP.

Each source implements :class:`~havenflow.data.sources.base.Source`:
``fetch(symbol, start, end) -> DataFrame`` with columns ``date`` and ``value``, over an
injected :class:`httpx.Client`.
"""

from __future__ import annotations

from havenflow.data.sources.base import (
    HttpSource,
    RetryPolicy,
    Source,
    default_client,
    fetch_with_fallback,
    make_source,
)

__all__ = [
    "HttpSource",
    "RetryPolicy",
    "Source",
    "default_client",
    "fetch_with_fallback",
    "make_source",
]
