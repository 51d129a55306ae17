"""The bundled real dataset: every catalog series that has an embedded file, as of its build.

It lives in ``havenflow/data/bundled/observations.parquet`` (long format: ``series_id``,
``date``, ``value``) with ``manifest.json`` beside it, both built by
``scripts/build_embedded.py`` from the raw files in ``shared/data/raw``. Nothing here is
generated or interpolated: dates missing from those files are missing here too.

The file is read on first use, not at import time.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import pandas as pd

from havenflow.catalog import get_spec
from havenflow.exceptions import UnknownSeriesError

__all__ = ["embedded_ids", "embedded_manifest", "embedded_series"]

_PACKAGE = "havenflow.data.bundled"
OBSERVATIONS_FILE = "observations.parquet"
MANIFEST_FILE = "manifest.json"


@functools.cache
def _all_embedded() -> dict[str, pd.Series]:
    with resources.as_file(resources.files(_PACKAGE).joinpath(OBSERVATIONS_FILE)) as path:
        frame = pd.read_parquet(path)
    out: dict[str, pd.Series] = {}
    for series_id, group in frame.groupby("series_id", sort=False, observed=True):
        values = pd.Series(
            group["value"].to_numpy(dtype=float),
            index=pd.DatetimeIndex(group["date"], name="date").as_unit("ns"),
            name=str(series_id),
        )
        # The builder wrote sorted, unique dates; keep the invariant explicit for readers.
        values.flags.allows_duplicate_labels = False
        out[str(series_id)] = values
    return out


@functools.cache
def embedded_manifest() -> dict[str, Any]:
    """Return the manifest written by the builder: per series, its source file, hash and range."""
    text = resources.files(_PACKAGE).joinpath(MANIFEST_FILE).read_text(encoding="utf-8")
    manifest: dict[str, Any] = json.loads(text)
    return manifest


def embedded_ids() -> list[str]:
    """Ids of the series that have bundled values, in catalog order."""
    return list(_all_embedded())


def embedded_series(series_id: str) -> pd.Series:
    """Return the bundled values of one series (a copy: callers may modify it).

    Raises
    ------
    UnknownSeriesError
        If the id is not in the catalog, or the catalog series has no bundled data (live only).
    """
    spec = get_spec(series_id)
    data = _all_embedded()
    if series_id not in data:
        sources = ", ".join(f"{s.source}:{s.symbol}" for s in spec.sources) or "none"
        raise UnknownSeriesError(
            f"series {series_id!r} has no bundled data (live only; sources: {sources}); "
            f"run `havenflow data update {series_id}` to fetch it"
        )
    return data[series_id].copy()
