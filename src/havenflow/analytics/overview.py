"""A point-in-time overview of the universe: last value, moves over standard windows, ATH.

This is the main job's summary until the full report lands. Windows are calendar offsets
(1 month back from the as-of date, and so on); the start value is the last value known on or
before the window's start, so a 7-day crypto series and a 5-day metal series are compared over
the same span of time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from havenflow.catalog import SeriesSpec

__all__ = ["WINDOWS", "AssetOverview", "Overview", "overview"]

WINDOWS: dict[str, pd.DateOffset] = {
    "1M": pd.DateOffset(months=1),
    "3M": pd.DateOffset(months=3),
    "1Y": pd.DateOffset(years=1),
}


@dataclass(frozen=True)
class AssetOverview:
    """One series as of a date.

    ``moves`` are simple returns for prices and index levels, and changes in percentage points
    for yields, rates and spreads (``move_unit`` says which).
    """

    id: str
    name: str
    last_date: str
    last: float
    move_unit: str
    moves: dict[str, float | None]
    high: float
    high_date: str
    from_high: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "last_date": self.last_date,
            "last": self.last,
            "move_unit": self.move_unit,
            "moves": self.moves,
            "high": self.high,
            "high_date": self.high_date,
            "from_high": self.from_high,
        }


@dataclass(frozen=True)
class Overview:
    """The overview of several series as of ``asof``."""

    asof: str
    assets: tuple[AssetOverview, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per series."""
        rows = []
        for a in self.assets:
            row: dict[str, Any] = {
                "id": a.id,
                "last_date": a.last_date,
                "last": a.last,
                "unit": a.move_unit,
            }
            row.update(a.moves)
            row.update({"high": a.high, "high_date": a.high_date, "from_high": a.from_high})
            rows.append(row)
        return pd.DataFrame(rows).set_index("id")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "asof": self.asof,
            "windows": list(WINDOWS),
            "assets": [a.to_dict() for a in self.assets],
        }


def _value_on_or_before(values: pd.Series, when: pd.Timestamp) -> float | None:
    pos = values.index.searchsorted(when, side="right") - 1
    return None if pos < 0 else float(values.iloc[pos])


def overview(
    series: Mapping[str, pd.Series], specs: Mapping[str, SeriesSpec], asof: pd.Timestamp
) -> Overview:
    """Compute the overview of ``series`` (already truncated to what was known at ``asof``).

    A window whose start precedes a series' first value, or follows its last value, gets
    ``None``, never a made-up number.
    """
    assets = []
    for sid, values in series.items():
        spec = specs[sid]
        last_date = pd.Timestamp(values.index[-1])
        last = float(values.iloc[-1])
        moves: dict[str, float | None] = {}
        for label, offset in WINDOWS.items():
            start_when = asof - offset
            # No move when the series does not reach back to the window's start, nor when its
            # last value precedes the start (a stale series did not move "0%": it is unknown).
            covers = values.index[0] <= start_when < last_date
            base = _value_on_or_before(values, start_when) if covers else None
            if base is None:
                moves[label] = None
            elif spec.is_differenced:
                moves[label] = last - base
            else:
                moves[label] = last / base - 1.0
        high_date = pd.Timestamp(values.index[int(np.argmax(values.to_numpy()))])
        high = float(values.max())
        from_high = None if spec.is_differenced or high <= 0 else last / high - 1.0
        assets.append(
            AssetOverview(
                id=sid,
                name=spec.name,
                last_date=last_date.date().isoformat(),
                last=last,
                move_unit="pp" if spec.is_differenced else "return",
                moves={k: (None if v is None or math.isnan(v) else v) for k, v in moves.items()},
                high=high,
                high_date=high_date.date().isoformat(),
                from_high=from_high,
            )
        )
    return Overview(asof=asof.date().isoformat(), assets=tuple(assets))
