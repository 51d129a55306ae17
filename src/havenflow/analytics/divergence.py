"""Divergence between two assets (claim C3: "Bitcoin has not followed silver").

Inputs are the two level series on one calendar (see :func:`havenflow.data.align.align`);
every rolling statistic at date t uses bars up to t only, and the "breakdown" of a rolling
correlation is judged against that correlation's own history up to t (an expanding
percentile), never against the full sample.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from havenflow.analytics.results import Result
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = ["Divergence", "DivergenceResult", "DivergenceSpec"]


@dataclass(frozen=True)
class DivergenceSpec:
    """Windows of the divergence measures, in bars of the common calendar.

    Attributes
    ----------
    zscore_window
        Rolling window of the log relative strength's z-score (252: a trading year).
    spread_bars
        Horizons of the return spread ``r_A(N) - r_B(N)`` (log returns).
    spread_history
        Rolling window over which each spread is z-scored.
    corr_windows
        Windows of the rolling correlation of per-bar log returns.
    breakdown_percentile
        A rolling correlation at or below this percentile of its own history "broke down".
    """

    zscore_window: int = 252
    spread_bars: tuple[int, ...] = (21, 63)
    spread_history: int = 756
    corr_windows: tuple[int, ...] = (20, 60, 120)
    breakdown_percentile: float = 10.0


@dataclass(frozen=True)
class DivergenceResult(Result):
    """Latest divergence measures and their history (``to_frame`` is the chart data)."""

    kind = "divergence"

    a: str
    b: str
    asof: str
    spec: DivergenceSpec
    history: pd.DataFrame
    latest: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """The history of every measure, one row per bar (a copy)."""
        return self.history.copy()

    def to_dict(self, *, history: bool = False) -> dict[str, Any]:
        """JSON-ready dict; ``history=True`` adds the chart series (month-end samples)."""
        out: dict[str, Any] = {
            "a": self.a,
            "b": self.b,
            "asof": self.asof,
            "definitions": {
                "relative_strength": f"{self.a} / {self.b}, both levels on one calendar",
                "relative_strength_z": "z-score of log(A/B) against its trailing "
                f"{self.spec.zscore_window}-bar mean and sd",
                "spread": "log return of A minus log return of B over N bars",
                "spread_z": f"z-score of the spread against its trailing "
                f"{self.spec.spread_history} bars",
                "correlation": "rolling correlation of per-bar log returns",
                "breakdown": "the rolling correlation is at or below the "
                f"{self.spec.breakdown_percentile:g}th percentile of its own history up to asof",
            },
            **self.latest,
        }
        if history:
            months = pd.DatetimeIndex(self.history.index).to_period("M")
            sample = self.history.groupby(months).tail(1)
            out["history"] = [
                {"date": pd.Timestamp(str(d)).date().isoformat()}
                | {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}
                for d, row in sample.iterrows()
            ]
        return out

    def _summary_text(self) -> str:
        """Text summary."""
        lat = self.latest
        lines = [
            f"Divergence {self.a} vs {self.b} as of {self.asof}",
            f"relative strength {self.a}/{self.b}: {lat['relative_strength']:.4g} "
            f"(z {_f(lat['relative_strength_z'])} vs trailing {self.spec.zscore_window} bars)",
        ]
        for s in lat["spreads"]:
            lines.append(
                f"{s['bars']}-bar log-return spread (log points): {_f(s['spread'], pct=True)} "
                f"(z {_f(s['spread_z'])})"
            )
        for c in lat["correlations"]:
            flag = " BREAKDOWN" if c["breakdown"] else ""
            lines.append(
                f"{c['window']}-bar correlation {_f(c['correlation'])} "
                f"(percentile {_f(c['percentile'], digits=0)} of its history){flag}"
            )
        return "\n".join(lines)


def _f(v: float | None, *, pct: bool = False, digits: int = 2) -> str:
    if v is None:
        return "—"
    return f"{100 * v:+.1f} lp" if pct else f"{v:+.{digits}f}"  # log points


def _expanding_percentile(values: pd.Series) -> pd.Series:
    """Percentile (0-100) of each value among the values up to and including it."""
    arr = values.to_numpy(dtype=float)
    out = np.full(len(arr), np.nan)
    seen: list[float] = []
    for i, v in enumerate(arr):
        if np.isnan(v):
            continue
        bisect.insort(seen, v)
        # Share of history at or below v (ties count as below: a conservative breakdown flag).
        out[i] = 100.0 * bisect.bisect_right(seen, v) / len(seen)
    return pd.Series(out, index=values.index)


@dataclass(frozen=True)
class Divergence:
    """Divergence of asset A against asset B.

    Parameters
    ----------
    levels
        Two columns (A then B, or named by ``a``/``b``) of strictly positive levels on one
        calendar.
    a, b
        Column names.
    spec
        Windows (:class:`DivergenceSpec`).
    """

    levels: pd.DataFrame
    a: str
    b: str
    spec: DivergenceSpec = DivergenceSpec()

    def fit(self) -> DivergenceResult:
        """Compute every measure."""
        for col in (self.a, self.b):
            if col not in self.levels:
                raise DataValidationError(f"no column {col!r} in the levels")
        frame = self.levels[[self.a, self.b]].dropna()
        need = max(self.spec.zscore_window, *self.spec.corr_windows, *self.spec.spread_bars) + 2
        if len(frame) < need:
            raise InsufficientDataError(
                f"{self.a} and {self.b} share {len(frame)} bars; the divergence windows need "
                f"at least {need}"
            )
        if (frame <= 0).any().any():
            raise DataValidationError("divergence needs strictly positive levels")
        for col in (self.a, self.b):
            if frame[col].nunique() < 2:
                raise DataValidationError(f"{col} is constant: no divergence can be measured")
        log_a, log_b = np.log(frame[self.a]), np.log(frame[self.b])
        log_rs = log_a - log_b
        w = self.spec.zscore_window
        z = (log_rs - log_rs.rolling(w).mean()) / log_rs.rolling(w).std()
        hist = pd.DataFrame({"relative_strength": np.exp(log_rs), "relative_strength_z": z})
        ra, rb = log_a.diff(), log_b.diff()
        for n in self.spec.spread_bars:
            spread = (log_a - log_a.shift(n)) - (log_b - log_b.shift(n))
            hs = self.spec.spread_history
            hist[f"spread_{n}"] = spread
            hist[f"spread_{n}_z"] = (spread - spread.rolling(hs, min_periods=hs // 2).mean()) / (
                spread.rolling(hs, min_periods=hs // 2).std()
            )
        for cw in self.spec.corr_windows:
            corr = ra.rolling(cw).corr(rb)
            hist[f"corr_{cw}"] = corr
            hist[f"corr_{cw}_percentile"] = _expanding_percentile(corr)
        last = hist.iloc[-1]

        def val(key: str) -> float | None:
            v = last[key]
            return None if pd.isna(v) else float(v)

        correlations = []
        for cw in self.spec.corr_windows:
            pct = val(f"corr_{cw}_percentile")
            correlations.append(
                {
                    "window": cw,
                    "correlation": val(f"corr_{cw}"),
                    "percentile": pct,
                    "history_median": float(hist[f"corr_{cw}"].median()),
                    "breakdown": bool(pct is not None and pct <= self.spec.breakdown_percentile),
                }
            )
        latest = {
            "last_date": pd.Timestamp(frame.index[-1]).date().isoformat(),
            "n_bars": len(frame),
            "relative_strength": float(last["relative_strength"]),
            "relative_strength_z": val("relative_strength_z"),
            "spreads": [
                {"bars": n, "spread": val(f"spread_{n}"), "spread_z": val(f"spread_{n}_z")}
                for n in self.spec.spread_bars
            ],
            "correlations": correlations,
        }
        return DivergenceResult(
            a=self.a,
            b=self.b,
            asof=pd.Timestamp(frame.index[-1]).date().isoformat(),
            spec=self.spec,
            history=hist,
            latest=latest,
        )
