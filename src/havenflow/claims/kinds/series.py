"""``series``: a fundamental or a ratio is above or below a threshold (level, trend, percentile).

The series is any id the repository knows: a file given with ``--data``, a series imported
with ``havenflow data import``, a catalog series, or a ratio ``"a/b"`` of two of them. A
fundamental (a market deficit, mine supply, industrial demand) enters the verdict only through
such a series: without it the claim is "not testable" and says how to bring it in.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import field_validator
from scipy.stats import norm

from havenflow.claims import fits
from havenflow.claims.base import (
    ClaimKind,
    ClaimOutcome,
    Context,
    KindParams,
    Number,
    Verdict,
    dates,
)
from havenflow.exceptions import HavenflowError

Window = Literal["1Y", "3Y", "5Y", "10Y", "all"]
_YEARS = {"1Y": 1, "3Y": 3, "5Y": 5, "10Y": 10}


class SeriesParams(KindParams):
    """Parameters of a ``series`` claim.

    ``series`` (an id, or ``"a/b"`` for a ratio) passes ``test`` against ``threshold``.

    ``level``: the last value is ``direction`` the threshold; ``percentile``: the last value's
    percentile in its history (0..1) is; ``trend``: the OLS slope per year over ``window`` is
    (HAC standard error; significant at 5% one-sided). ``beside``: a price drawn beside it.
    """

    series: str
    test: Literal["level", "trend", "percentile"] = "level"
    direction: Literal["above", "below"] = "above"
    threshold: float = 0.0
    window: Window = "5Y"
    beside: str | None = None
    label: str | None = None

    @field_validator("series")
    @classmethod
    def _shape(cls, v: str) -> str:
        parts = v.split("/")
        if len(parts) > 2 or not all(x.strip() for x in parts):
            raise ValueError(f"an id or a ratio 'a/b', got {v!r}")
        return "/".join(x.strip() for x in parts)

    @field_validator("threshold")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not np.isfinite(v):
            raise ValueError("a finite number")
        return v

    @property
    def ids(self) -> list[str]:
        return self.series.split("/")


class Series(ClaimKind[SeriesParams]):
    """The ``series`` kind (see :class:`SeriesParams`)."""

    name = "series"
    params = SeriesParams
    summary = "a fundamental or ratio series against a threshold (level, trend, percentile)"
    inferential = False

    def needs(self, p: SeriesParams) -> list[str]:
        return p.ids

    def core(self, p: SeriesParams) -> list[str]:
        # A fundamental published yearly must not drag the note's as-of back a year: it is
        # judged on its own freshness instead.
        return []

    def methods(self, p: SeriesParams) -> str:
        return {
            "level": f"{p.series}: its last value known on the date against {p.threshold:g}.",
            "percentile": f"{p.series}: the share of its history at or below the last value.",
            "trend": f"{p.series}: OLS of the level on time (years) over {p.window}, "
            "Newey-West errors.",
        }[p.test]

    def alternatives(self, p: SeriesParams) -> list[tuple[str, SeriesParams]]:
        if p.test != "trend":
            return []
        return [
            (f"{w} window", p.model_copy(update={"window": w}))
            for w in ("3Y", "10Y", "5Y")
            if w != p.window
        ][:2]

    def _load(self, ctx: Context, p: SeriesParams) -> pd.Series:
        if len(p.ids) == 2:
            a, b = p.ids
            frame = fits.levels(ctx, (a, b)).dropna()
            return (frame[a] / frame[b]).rename(p.series)
        loaded = ctx.memo(("series", p.series, ctx.day), lambda: ctx.repo.load(p.series, ctx.day))
        values: pd.Series = loaded.values.astype(float).dropna().rename(p.series)
        return values

    def judge(self, ctx: Context, p: SeriesParams) -> ClaimOutcome:
        values = self._load(ctx, p)
        if len(values) < 3:
            return ClaimOutcome.not_testable(f"{p.series} has {len(values)} values by {ctx.day}")
        last, last_date = float(values.iloc[-1]), pd.Timestamp(values.index[-1]).date()
        label = p.label or p.series
        above = p.direction == "above"
        pvalue = None
        test_text = None
        if p.test == "level":
            stat, shown = last, f"{last:,.4g} on {last_date}"
            holds = last > p.threshold if above else last < p.threshold
            verdict = Verdict.supported if holds else Verdict.not_supported
            side = "above" if last > p.threshold else "at or below"
            what = f"its last value, {shown}, is {side} {p.threshold:g}"
        elif p.test == "percentile":
            stat = float((values <= last).mean())
            shown = f"{100 * stat:.0f}th percentile since {pd.Timestamp(values.index[0]).year}"
            holds = stat > p.threshold if above else stat < p.threshold
            verdict = Verdict.supported if holds else Verdict.not_supported
            what = f"its last value ({last:,.4g} on {last_date}) is at the {shown}"
        else:
            slope, se, n = _trend(values, p.window)
            stat = slope
            z = (slope - p.threshold) / se if se > 0 else 0.0
            pvalue = float(norm.sf(z) if above else norm.cdf(z))
            test_text = f"the trend is not {p.direction} {p.threshold:g} per year (one-sided, HAC)"
            shown = f"{slope:+,.4g} per year ± {1.96 * se:,.3g} ({n} values)"
            if pvalue < 0.05:
                verdict = Verdict.supported
            elif (slope > p.threshold) != above and float(norm.sf(abs(z))) < 0.05:
                verdict = Verdict.not_supported
            else:
                verdict = Verdict.inconclusive
            what = f"its trend over {p.window} is {shown}, one-sided p {pvalue:.3f}"
        numbers = [Number(f"{label}: {p.test}", shown, stat)]
        chart: dict[str, Any] = {
            "kind": "series_beside",
            "title": f"{label}" + (f" beside {p.beside}" if p.beside else ""),
            "name": label,
            "dates": dates(values.index),
            "values": values.tolist(),
            "threshold": p.threshold if p.test == "level" else None,
        }
        if p.beside:
            try:
                px = fits.levels(ctx, (p.beside,))[p.beside].dropna()
                px = px.loc[px.index >= values.index[0]]
                monthly = px.groupby(pd.DatetimeIndex(px.index).to_period("M")).tail(1)
                chart |= {
                    "beside": p.beside,
                    "beside_dates": dates(monthly.index),
                    "beside_values": monthly.tolist(),
                }
            except HavenflowError:
                pass  # the price is context: the claim stands on the series
        return ClaimOutcome(
            verdict=verdict,
            numbers=numbers,
            explanation=f"{label} ({p.series}, {len(values)} values known by {ctx.day}): {what}.",
            rule={
                "level": f"supported: the last value is {p.direction} {p.threshold:g}; "
                "otherwise not supported",
                "percentile": f"supported: its percentile is {p.direction} {p.threshold:g}; "
                "otherwise not supported",
                "trend": f"supported: the yearly trend is {p.direction} {p.threshold:g} at 5% "
                "(one-sided); not supported: significantly the other way; otherwise "
                "inconclusive",
            }[p.test],
            charts=[chart],
            pvalue=pvalue,
            test=test_text,
        )


def _trend(values: pd.Series, window: str) -> tuple[float, float, int]:
    """OLS slope of the level per year over the window, with its Newey-West standard error."""
    import statsmodels.api as sm

    from havenflow.analytics.drivers import newey_west_lags
    from havenflow.exceptions import InsufficientDataError

    end = pd.Timestamp(values.index[-1])
    if window != "all":
        values = values.loc[values.index > end - pd.DateOffset(years=_YEARS[window])]
    if len(values) < 8:
        raise InsufficientDataError(
            f"{values.name}: {len(values)} values in the {window} window, at least 8 needed"
        )
    t = (pd.DatetimeIndex(values.index) - end).days.to_numpy(dtype=float) / 365.25
    x = sm.add_constant(t)
    fit = sm.OLS(values.to_numpy(dtype=float), x).fit(
        cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(len(values))}
    )
    return float(fit.params[1]), float(fit.bse[1]), len(values)


KIND = Series()
