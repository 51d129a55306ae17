"""Stooq daily CSV downloads (``/q/d/l/``): an optional fallback.

Stooq asks for an API key for CSV downloads; set ``STOOQ_API_KEY`` (or pass ``api_key``).
Without one this source fails at once with a clear message, and the next source is tried.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import date

import httpx
import pandas as pd

from havenflow.data.sources.base import (
    HttpSource,
    RetryableSourceError,
    clip_dates,
    frame_from_pairs,
    looks_like_html,
)
from havenflow.exceptions import SourceNotConfiguredError

__all__ = ["StooqSource"]

CSV_URL = "https://stooq.com/q/d/l/"
EXPECTED = ["Date", "Open", "High", "Low", "Close"]


@dataclass
class StooqSource(HttpSource):
    """Stooq daily closes by Stooq symbol (``xagusd``, ``si.f``, ``^spx``)."""

    name: str = "stooq"
    api_key: str | None = None

    def fetch(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        """Return daily closes of ``symbol`` between ``start`` and ``end``."""
        key = self.api_key or os.environ.get("STOOQ_API_KEY")
        if not key:
            raise SourceNotConfiguredError(
                "Stooq needs an API key: set STOOQ_API_KEY", source=self.name, symbol=symbol
            )
        params = {"s": symbol, "i": "d", "apikey": key}
        if start is not None:
            params["d1"] = start.strftime("%Y%m%d")
        if end is not None:
            params["d2"] = end.strftime("%Y%m%d")
        return clip_dates(
            self.request(CSV_URL, symbol, lambda r: self._parse(r, symbol), params), start, end
        )

    def _parse(self, response: httpx.Response, symbol: str) -> pd.DataFrame:
        if looks_like_html(response):
            raise self._error("served an HTML page instead of CSV", symbol, response.url)
        text = response.text
        if not text.strip():
            raise RetryableSourceError(
                "empty body", source=self.name, symbol=symbol, url=str(response.url)
            )
        if text.strip().lower() in {"no data", "brak danych"}:
            raise self._error("unknown symbol (Stooq answered 'No data')", symbol, response.url)
        frame = pd.read_csv(io.StringIO(text))
        if list(frame.columns[: len(EXPECTED)]) != EXPECTED:
            raise self._error(
                f"unexpected CSV header {list(frame.columns)}; expected {EXPECTED}...",
                symbol,
                response.url,
            )
        if frame["Close"].isna().iloc[-1] or not text.endswith("\n"):
            raise RetryableSourceError(
                "truncated CSV body", source=self.name, symbol=symbol, url=str(response.url)
            )
        dates = pd.to_datetime(frame["Date"], format="ISO8601")
        return frame_from_pairs(pd.DatetimeIndex(dates), frame["Close"].to_numpy(dtype=float))
