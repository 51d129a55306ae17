"""FRED (Federal Reserve Bank of St. Louis).

Without a key, the public CSV download ``fredgraph.csv`` (no registration): today's vintage
only, each value's publication date approximated by its series' release schedule
(:mod:`havenflow.data.releases`). With ``FRED_API_KEY`` set (or ``api_key`` passed), the JSON
API ``fred/series/observations`` over ALFRED's whole real-time period: every vintage of every
observation, with the days it was current (``realtime_start``..``realtime_end``), so that the
store can answer "as published on date X". Missing observations (FRED writes ``.``) are dropped.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import date

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

__all__ = ["FredSource"]

CSV_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
API_URL = "https://api.stlouisfed.org/fred/series/observations"
#: ALFRED's whole real-time period (its documented bounds).
REALTIME_ALL = {"realtime_start": "1776-07-04", "realtime_end": "9999-12-31"}
#: The most rows FRED returns per request; longer answers come in pages (``offset``).
PAGE_ROWS = 100_000
#: A bound on the pages of one series (10 million vintage rows): a server that keeps
#: announcing more rows cannot keep the update going forever.
MAX_PAGES = 100


def _numbers(raw: pd.Series) -> tuple[np.ndarray, str | None]:
    """Values with FRED's missing marks ('.', empty) as NaN, and the first other non-number."""
    text = raw.astype(str).str.strip()
    missing = text.isin({".", ""})
    values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float)
    # Only '.' means missing: any other word is garbage, not a gap to drop silently.
    garbage = np.isnan(values) & ~missing.to_numpy()
    return values, (str(text.iloc[int(np.flatnonzero(garbage)[0])]) if garbage.any() else None)


@dataclass
class FredSource(HttpSource):
    """FRED series by id (``DFII10``, ``M2SL``...)."""

    name: str = "fred"
    api_key: str | None = None
    #: With a key: fetch ALFRED's vintages (``realtime_start``/``realtime_end`` columns).
    vintages: bool = True

    def fetch(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        """Return FRED observations of ``symbol`` between ``start`` and ``end``."""
        key = self.api_key or os.environ.get("FRED_API_KEY")
        if key:
            return self._fetch_api(symbol, start, end, key)
        return self._fetch_csv(symbol, start, end)

    def _fetch_csv(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        params = {"id": symbol}
        if start is not None:
            params["cosd"] = start.isoformat()
        if end is not None:
            params["coed"] = end.isoformat()

        def parse(response: httpx.Response) -> pd.DataFrame:
            if looks_like_html(response):
                raise self._error(
                    "served an HTML page instead of CSV (unknown series id?)",
                    symbol,
                    response.url,
                    response.status_code,
                )
            text = response.text
            if not text.strip():
                raise RetryableSourceError(
                    "empty body", source=self.name, symbol=symbol, url=str(response.url)
                )
            if not text.endswith("\n"):
                # FRED always ends its CSV with a newline: anything else was cut off in transit.
                raise RetryableSourceError(
                    "truncated CSV body (no final newline)",
                    source=self.name,
                    symbol=symbol,
                    url=str(response.url),
                )
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            columns = [c.strip() for c in frame.columns]
            if (
                len(columns) != 2
                or columns[0].lower() not in {"observation_date", "date"}
                or (columns[1].upper() != symbol.upper())
            ):
                raise self._error(
                    f"unexpected CSV header {columns}; expected ['observation_date', {symbol!r}]",
                    symbol,
                    response.url,
                    response.status_code,
                )
            dates = pd.to_datetime(frame.iloc[:, 0], format="ISO8601", errors="coerce")
            if dates.isna().any():
                bad = frame.iloc[int(np.flatnonzero(dates.isna().to_numpy())[0]), 0]
                raise self._error(f"unparseable date {bad!r} in CSV", symbol, response.url)
            values, garbage = _numbers(frame.iloc[:, 1])
            if garbage is not None:
                raise self._error(f"not a number: {garbage!r} in CSV", symbol, response.url)
            keep = ~np.isnan(values)
            return frame_from_pairs(pd.DatetimeIndex(dates[keep]), values[keep])

        return clip_dates(self.request(CSV_URL, symbol, parse, params), start, end)

    def _fetch_api(
        self, symbol: str, start: date | None, end: date | None, key: str
    ) -> pd.DataFrame:
        params = {"series_id": symbol, "api_key": key, "file_type": "json"}
        if start is not None:
            params["observation_start"] = start.isoformat()
        if end is not None:
            params["observation_end"] = end.isoformat()
        if self.vintages:
            params |= REALTIME_ALL | {"limit": str(PAGE_ROWS)}
        pages: list[pd.DataFrame] = []
        offset = 0
        for _ in range(MAX_PAGES):
            if self.vintages:
                params["offset"] = str(offset)
            frame, count, rows = self.request(
                API_URL, symbol, lambda r: self._parse_api(r, symbol), params
            )
            pages.append(frame)
            offset += rows
            if self.vintages and rows == 0 and offset < count:
                # A page cut short: stopping here would store part of the record as all of
                # it (and the store replaces the window it covers).
                raise RetryableSourceError(
                    f"an empty page at offset {offset} of {count} rows",
                    source=self.name,
                    symbol=symbol,
                    url=API_URL,
                )
            if not self.vintages or rows == 0 or offset >= count:
                break
        else:
            raise self._error(
                f"more than {MAX_PAGES} pages of {PAGE_ROWS} vintage rows: refused", symbol, API_URL
            )
        frame = pd.concat(pages, ignore_index=True) if len(pages) > 1 else pages[0]
        if "realtime_start" in frame.columns:
            frame = frame.sort_values(["date", "realtime_start"], kind="stable")
        return clip_dates(frame.reset_index(drop=True), start, end)

    def _parse_api(self, response: httpx.Response, symbol: str) -> tuple[pd.DataFrame, int, int]:
        """One page: its observations, the row count the server announced, and the rows it held.

        With vintages, the frame has ``realtime_start`` and ``realtime_end`` columns too.
        """
        payload = self._json(response, symbol)
        if not isinstance(payload, dict) or "observations" not in payload:
            raise self._error("unexpected JSON: no 'observations' field", symbol, response.url)
        rows = payload["observations"]
        if not isinstance(rows, list):
            raise self._error("unexpected JSON: 'observations' is not a list", symbol, response.url)
        try:
            dates = pd.to_datetime([r["date"] for r in rows], format="ISO8601")
            values, garbage = _numbers(pd.Series([r["value"] for r in rows], dtype=str))
            vintage = bool(rows) and all("realtime_start" in r for r in rows)
            if vintage:
                starts = pd.to_datetime([r["realtime_start"] for r in rows], format="ISO8601")
                ends = pd.Series([str(r["realtime_end"]) for r in rows])
            count = int(payload.get("count", len(rows)))
        except (KeyError, TypeError, ValueError) as exc:
            raise self._error(
                f"unexpected observation record ({exc})", symbol, response.url
            ) from exc
        if garbage is not None:
            raise self._error(f"not a number: {garbage!r} in JSON", symbol, response.url)
        keep = ~np.isnan(values)
        frame = frame_from_pairs(dates[keep], values[keep])
        if self.vintages and vintage:
            # frame_from_pairs sorts stably by date: the vintage columns follow the same order.
            order = np.argsort(pd.DatetimeIndex(dates[keep]).to_numpy(), kind="stable")
            frame["realtime_start"] = pd.DatetimeIndex(starts[keep]).as_unit("ns")[order]
            end_text = ends[keep].to_numpy()[order]
            if any(not isinstance(e, str) or len(e) < 10 for e in end_text):
                raise self._error("unexpected realtime_end in JSON", symbol, response.url)
            frame["realtime_end"] = end_text
        return self._checked(frame, symbol, response.url), count, len(rows)
