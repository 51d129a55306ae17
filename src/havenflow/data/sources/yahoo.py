"""Yahoo Finance, through its chart endpoint (``/v8/finance/chart/{symbol}``).

The endpoint is what yfinance itself calls; using it directly keeps one dependency fewer and
lets tests replay its JSON. Dates are the exchange's local trading dates. The bar of a session
that has not closed yet is dropped, so a stored close is always final.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd

from havenflow.data.sources.base import (
    HttpSource,
    RetryableSourceError,
    clip_dates,
    frame_from_pairs,
    looks_like_html,
)

__all__ = ["YahooSource"]

CHART_URL = "https://query2.finance.yahoo.com/v8/finance/chart/{symbol}"


@dataclass
class YahooSource(HttpSource):
    """Yahoo Finance daily closes by Yahoo symbol (``SI=F``, ``^GSPC``, ``BTC-USD``)."""

    name: str = "yahoo"

    def fetch(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        """Return daily closes of ``symbol`` between ``start`` and ``end``."""
        first = datetime.combine(start or date(1970, 1, 2), datetime.min.time(), tzinfo=UTC)
        last = datetime.combine(end or self.now().date(), datetime.min.time(), tzinfo=UTC)
        params = {
            "period1": str(int(first.timestamp())),
            "period2": str(int((last + timedelta(days=1)).timestamp())),
            "interval": "1d",
            "events": "history",
            "includePrePost": "false",
        }
        url = CHART_URL.format(symbol=symbol)
        frame = self.request(url, symbol, lambda r: self._parse(r, symbol), params)
        return clip_dates(frame, start, end)

    def _parse(self, response: httpx.Response, symbol: str) -> pd.DataFrame:
        if looks_like_html(response):
            raise self._error(
                "served an HTML page instead of JSON (consent or error page)", symbol, response.url
            )
        try:
            payload = json.loads(response.text)
        except json.JSONDecodeError as exc:
            raise RetryableSourceError(
                f"truncated or invalid JSON body ({exc.msg} at {exc.pos})",
                source=self.name,
                symbol=symbol,
                url=str(response.url),
            ) from exc
        try:
            chart = payload["chart"]
            if chart.get("error"):
                err = chart["error"]
                raise self._error(
                    f"unknown or unavailable symbol: {err.get('description', err)}",
                    symbol,
                    response.url,
                    response.status_code,
                )
            result: dict[str, Any] = chart["result"][0]
            meta = result["meta"]
            timestamps = result.get("timestamp") or []
            closes = result["indicators"]["quote"][0].get("close") or []
        except (KeyError, IndexError, TypeError) as exc:
            raise self._error(
                f"unexpected JSON layout (missing {exc}); the API may have changed",
                symbol,
                response.url,
            ) from exc
        if len(timestamps) != len(closes):
            raise self._error(
                f"{len(timestamps)} timestamps but {len(closes)} closes", symbol, response.url
            )
        tz = meta.get("exchangeTimezoneName") or "UTC"
        stamps = pd.to_datetime(np.asarray(timestamps, dtype="int64"), unit="s", utc=True)
        local_dates = stamps.tz_convert(tz).tz_localize(None).normalize()
        values = np.array([np.nan if c is None else float(c) for c in closes], dtype=float)
        keep = ~np.isnan(values)
        frame = frame_from_pairs(local_dates[keep], values[keep])
        frame = frame.drop_duplicates("date", keep="last").reset_index(drop=True)
        return self._drop_open_session(frame, meta, tz)

    def _drop_open_session(
        self, frame: pd.DataFrame, meta: dict[str, Any], tz: str
    ) -> pd.DataFrame:
        period = (meta.get("currentTradingPeriod") or {}).get("regular") or {}
        session_end = period.get("end")
        if frame.empty or session_end is None:
            return frame
        if self.now().timestamp() < float(session_end):
            session_date = (
                pd.Timestamp(int(session_end), unit="s", tz="UTC").tz_convert(tz).normalize()
            ).tz_localize(None)
            if frame["date"].iloc[-1] >= session_date:
                return frame.iloc[:-1].reset_index(drop=True)
        return frame
