"""Incremental updates of the store from the live sources.

For each series: the last stored date minus its revision window (10 days for daily series,
120 for weekly ones, 400 for monthly ones, from the first of a month) is the start; the store
keeps every value a revision supersedes; the sources are tried in catalog order; the result
is validated like a user file. All fetched series are then written in ONE transaction, so
an update killed half-way writes nothing. A series whose every source failed is reported,
not written; the others still are. With ``FRED_API_KEY``, FRED series come with ALFRED's
vintages, which the store keeps beside the latest values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import numpy as np
import pandas as pd

from havenflow.catalog import SeriesSpec, get_spec, load_catalog
from havenflow.data.sources.base import default_client, fetch_with_fallback
from havenflow.data.sources.impersonate import browser_client
from havenflow.data.store import ObservationBatch, Store
from havenflow.data.validate import validate_series
from havenflow.exceptions import (
    DataValidationError,
    NoNetworkError,
    SourceError,
    SourceUnreachableError,
)

__all__ = ["UpdateOutcome", "update_store"]

logger = logging.getLogger(__name__)

#: Days re-fetched before the last stored date, to pick up revisions (daily series).
DEFAULT_OVERLAP_DAYS = 10
#: Revision windows by calendar: a monthly series (M2, CPI) is revised for months after its
#: release, a weekly one for weeks; whole windows are re-fetched so revisions are caught (the
#: store keeps the values they supersede).
REVISION_DAYS = {"monthly": 400, "weekly": 120}


@dataclass(frozen=True)
class UpdateOutcome:
    """What an update did for one series."""

    series_id: str
    status: str  # "updated", "unchanged", "failed", "skipped"
    rows: int = 0
    new_rows: int = 0
    source: str | None = None
    message: str = ""


ProgressCallback = Callable[[str, str], None]


def _validate_fetched(spec: SeriesSpec, frame: pd.DataFrame, where: str) -> pd.Series:
    dates = pd.DatetimeIndex(frame["date"])
    return validate_series(
        dates,
        frame["value"].to_numpy(dtype=float),
        where=where,
        column="value",
        positive=spec.must_be_positive,
        row_label="row",
    )


def update_store(
    store: Store,
    series_ids: Sequence[str] | None = None,
    *,
    client: httpx.Client | None = None,
    overlap_days: int = DEFAULT_OVERLAP_DAYS,
    full: bool = False,
    end: date | None = None,
    on_progress: ProgressCallback | None = None,
    source_options: dict[str, object] | None = None,
) -> list[UpdateOutcome]:
    """Fetch what is new for each series and write it all in one transaction.

    Parameters
    ----------
    store
        The store to update.
    series_ids
        Ids to update (default: every catalog series with a live source).
    client
        HTTP client (default: :func:`default_client`); tests inject a mock transport.
    overlap_days
        Days re-fetched before the last stored date.
    full
        Re-fetch whole histories.
    end
        Last date to fetch (default: today).
    on_progress
        Called as ``on_progress(series_id, stage)`` with stage ``fetching``, ``done`` or
        ``failed``.
    source_options
        Extra keyword arguments for the sources (retry policy, sleep, clock: for tests).

    Returns
    -------
    list of UpdateOutcome
        One per series, in the order given.

    Raises
    ------
    NoNetworkError
        When no source of any series could be reached (offline): nothing is written. A host
        that cannot be reached is tried once per update, not once per series and retry.
    """
    ids = list(series_ids) if series_ids else [s.id for s in load_catalog().values() if s.sources]
    specs = [get_spec(sid) for sid in ids]
    last = {} if full else store.last_dates()
    own_client = client is None
    http = client or default_client()
    # Yahoo refuses scripts' TLS handshakes: a browser-like one when curl_cffi is installed
    # (only for the default client: an injected one, in tests, answers for every source).
    browser = browser_client() if own_client else None
    clients = {"yahoo": browser} if browser is not None else {}
    cooling: dict[str, str] = {}  # source -> why: rate-limited, not asked again
    outcomes: list[UpdateOutcome] = []
    batches: list[ObservationBatch] = []
    unreachable: dict[str, str] = {}  # source -> why: one failed connection is enough
    offline = 0  # series whose every source was unreachable
    try:
        for spec in specs:
            if not spec.sources:
                outcomes.append(
                    UpdateOutcome(spec.id, "skipped", message="no live source (bundled only)")
                )
                continue
            if on_progress:
                on_progress(spec.id, "fetching")
            stored_last = last.get(spec.id)
            window = max(overlap_days, REVISION_DAYS.get(spec.calendar, 0))
            start: date | None
            if stored_last is not None and spec.calendar == "monthly":
                # From the first day of the window's month: whole months, never a part of one.
                start = (stored_last - timedelta(days=window)).replace(day=1).date()
            else:
                start = (
                    None if stored_last is None else (stored_last - timedelta(days=window)).date()
                )
            try:
                frame, ref = fetch_with_fallback(
                    spec.sources,
                    start,
                    end,
                    http,
                    unreachable=unreachable,
                    clients=clients,
                    cooling=cooling,
                    **(source_options or {}),
                )
                if frame.empty:
                    outcomes.append(
                        UpdateOutcome(spec.id, "unchanged", source=f"{ref.source}:{ref.symbol}")
                    )
                    if on_progress:
                        on_progress(spec.id, "done")
                    continue
                vintages = None
                if "realtime_start" in frame.columns:
                    # ALFRED: every vintage; the series itself is each date's latest one.
                    vintages = frame
                    frame = frame.drop_duplicates("date", keep="last")[["date", "value"]]
                values = _validate_fetched(spec, frame, f"{ref.source} {ref.symbol}")
            except (SourceError, DataValidationError) as exc:
                offline += isinstance(exc, SourceUnreachableError)
                outcomes.append(UpdateOutcome(spec.id, "failed", message=str(exc)))
                if on_progress:
                    on_progress(spec.id, "failed")
                continue
            new_rows = (
                int(np.sum(values.index > stored_last)) if stored_last is not None else len(values)
            )
            batches.append(ObservationBatch(spec, values, ref.source, ref.symbol, vintages))
            outcomes.append(
                UpdateOutcome(
                    spec.id,
                    "updated" if new_rows else "unchanged",
                    rows=len(values),
                    new_rows=new_rows,
                    source=f"{ref.source}:{ref.symbol}",
                )
            )
            if on_progress:
                on_progress(spec.id, "done")
    finally:
        if own_client:
            http.close()
        if browser is not None:
            browser.close()
    live = [o for o in outcomes if o.status != "skipped"]
    if live and offline == len(live):
        raise NoNetworkError(
            "no network: no source could be reached ("
            + "; ".join(f"{k}: {v.split(' (')[0]}" for k, v in unreachable.items())
            + "); the store is unchanged"
        )
    if batches:
        store.write(batches)
    return outcomes
