"""Coinbase Exchange public daily candles (no key): ``/products/{product}/candles``.

A request returns at most 300 candles, newest first, as ``[time, low, high, open, close,
volume]``; longer ranges are paged. Days are UTC days; today's unfinished candle is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np
import pandas as pd

from havenflow.data.sources.base import (
    HttpSource,
    clip_dates,
    frame_from_pairs,
)

__all__ = ["CoinbaseSource"]

CANDLES_URL = "https://api.exchange.coinbase.com/products/{product}/candles"
PAGE_DAYS = 300
#: Coinbase's BTC-USD book opened in 2015; earlier requests return empty pages.
EARLIEST = date(2015, 1, 1)


@dataclass
class CoinbaseSource(HttpSource):
    """Coinbase Exchange daily closes by product id (``BTC-USD``, ``ETH-USD``)."""

    name: str = "coinbase"

    def fetch(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        """Return daily closes of ``symbol`` between ``start`` and ``end`` (UTC days)."""
        today = self.now().astimezone(UTC).date()
        last = min(end or today, today)
        first = max(start or EARLIEST, EARLIEST)
        url = CANDLES_URL.format(product=symbol)
        pages: list[pd.DataFrame] = []
        page_start = first
        while page_start <= last:
            page_end = min(page_start + timedelta(days=PAGE_DAYS - 1), last)
            params = {
                "granularity": "86400",
                "start": datetime.combine(page_start, datetime.min.time(), UTC).isoformat(),
                "end": datetime.combine(page_end, datetime.min.time(), UTC).isoformat(),
            }
            pages.append(self.request(url, symbol, lambda r: self._parse(r, symbol), params))
            page_start = page_end + timedelta(days=1)
        if not pages:
            return frame_from_pairs([], [])
        frame = pd.concat(pages, ignore_index=True)
        frame = frame.drop_duplicates("date", keep="last").sort_values("date")
        # Today's candle is still moving: keep only finished UTC days.
        frame = frame.loc[frame["date"] < pd.Timestamp(today)]
        return clip_dates(frame.reset_index(drop=True), start, end)

    def _parse(self, response: httpx.Response, symbol: str) -> pd.DataFrame:
        payload = self._json(response, symbol)
        if isinstance(payload, dict):
            raise self._error(
                f"unknown product or refused request: {payload.get('message', payload)}",
                symbol,
                response.url,
                response.status_code,
            )
        if not isinstance(payload, list):
            raise self._error(
                f"unexpected JSON type {type(payload).__name__}", symbol, response.url
            )
        try:
            times = np.array([int(row[0]) for row in payload], dtype="int64")
            closes = np.array([float(row[4]) for row in payload], dtype=float)
        except (IndexError, TypeError, ValueError) as exc:
            raise self._error(
                f"unexpected candle layout ({exc}); "
                "expected [time, low, high, open, close, volume]",
                symbol,
                response.url,
            ) from exc
        dates = pd.to_datetime(times, unit="s", utc=True).tz_localize(None)
        return frame_from_pairs(dates, closes)
