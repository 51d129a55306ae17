"""``all_time_high``: an asset is at (or within a margin of) its all-time closing high."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import Field

from havenflow.analytics.performance import high_marks
from havenflow.claims import fits
from havenflow.claims.base import (
    ClaimKind,
    ClaimOutcome,
    Context,
    KindParams,
    Number,
    Verdict,
    dates,
    pct,
)


class AllTimeHighParams(KindParams):
    """Parameters of a ``all_time_high`` claim.

    ``asset``; ``within``: the largest distance below the high that still counts (0.05 = 5%);
    ``accelerating``: the claim also says the rally accelerated (1M vs 6M annualised return).
    """

    asset: str
    within: float = Field(0.05, ge=0.0, lt=1.0)
    accelerating: bool = False


class AllTimeHigh(ClaimKind[AllTimeHighParams]):
    """The ``all_time_high`` kind (see :class:`AllTimeHighParams`)."""

    name = "all_time_high"
    params = AllTimeHighParams
    summary = "an asset is at a fresh all-time high (optionally: after an accelerating rally)"

    def needs(self, p: AllTimeHighParams) -> list[str]:
        return [p.asset]

    def alternatives(self, p: AllTimeHighParams) -> list[tuple[str, AllTimeHighParams]]:
        return [
            (f"within {pct(w, 0)[1:]} of the high", p.model_copy(update={"within": w}))
            for w in (p.within / 2, p.within * 2)
        ]

    def methods(self, p: AllTimeHighParams) -> str:
        return (
            "All-time high = the highest close in the data up to the date; acceleration = the 1M "
            "minus the 6M annualised log return; breakouts at 20/55/252 bars."
        )

    def hindsight(
        self, ctx: Context, p: AllTimeHighParams, outcome: ClaimOutcome, later: Any
    ) -> list[Any]:
        """The path after the date: return, deepest fall from the as-of high, any new high."""
        import dataclasses

        import numpy as np

        from havenflow.claims.hindsight import both, forward_row

        # The high the claim was judged on (the asset's own closes, weekends included for a
        # 7-day asset), not the business-day path's.
        high = float(fits.snapshot(ctx, (p.asset,)).to_dict()["assets"][0]["ath"])
        rows = []
        for bars in (5, 21, 63):
            row = forward_row(
                later, "", self.name, f"{p.asset} {bars} trading days on", p.asset, ctx.asof, bars
            )
            path = later.path(p.asset, ctx.asof).iloc[: bars + 1]
            worst = float(np.log(path.min() / high))
            # Peak to trough inside the window: a new high first, then the fall from it.
            peak_to_trough = float(np.log(path / path.cummax()).min())
            above = path[path > high]
            new_high = None if above.empty else pd.Timestamp(above.index[0]).date().isoformat()
            text = (
                f"{row.text}; lowest close {both(worst)} from the as-of high ({high:.2f}), "
                f"deepest fall from a peak {both(peak_to_trough)}; "
                + (
                    f"a new high came on {new_high} ({float(above.max()):.2f})"
                    if new_high
                    else "no new high"
                )
            )
            rows.append(
                dataclasses.replace(
                    row,
                    scores={
                        "high_asof": high,
                        "worst_from_high": worst,
                        "peak_to_trough": peak_to_trough,
                        "new_high": new_high,
                    },
                    text=text,
                )
            )
        return rows

    def judge(self, ctx: Context, p: AllTimeHighParams) -> ClaimOutcome:
        snap = fits.snapshot(ctx, (p.asset,)).to_dict()
        a = snap["assets"][0]
        dd = a["drawdown_from_ath"]
        acc = a["acceleration"] or {}
        near = dd is not None and dd >= -p.within
        accelerating = bool(acc.get("accelerating"))
        if not near:
            verdict = Verdict.not_supported
        elif accelerating or not p.accelerating:
            verdict = Verdict.supported
        else:
            verdict = Verdict.inconclusive
        brk = {b["bars"]: b["is_new_high"] for b in a["breakouts"]}
        marks = high_marks(fits.levels(ctx, (p.asset,))[p.asset].dropna())
        recent = marks.closes
        name = p.asset
        text = (
            f"{name}'s all-time closing high in the data is {a['ath']:.2f} on {a['ath_date']}; "
            f"on {a['last_date']} it closed at {a['last']:.2f}, {pct(dd)} from that high. Its "
            f"1-month return annualised is {pct(acc.get('short_annualised'), 0)} against "
            f"{pct(acc.get('long_annualised'), 0)} over 6 months, so the rally "
            f"{'is' if accelerating else 'is not'} accelerating. New 20/55/252-bar highs: "
            f"{', '.join('yes' if brk.get(n) else 'no' for n in (20, 55, 252))}."
        )
        if a.get("real_ath") is None:
            text += " The high is nominal: without CPI in the store no inflation-adjusted high."
        rule = (
            f"supported: within {pct(p.within, 0)[1:]} of the all-time high"
            + (" and the 1M annualised return above the 6M one" if p.accelerating else "")
            + f"; not supported: more than {pct(p.within, 0)[1:]} below the high"
            + ("; otherwise inconclusive" if p.accelerating else "")
        )
        chart: dict[str, Any] = {
            "kind": "price_markers",
            "title": f"{name}: closes, all-time highs and 252-bar breakouts",
            "dates": dates(recent.index),
            "values": recent.tolist(),
            "ath_dates": dates(marks.ath_dates),
            "ath_values": recent.loc[marks.ath_dates].tolist(),
            "breakout_dates": dates(marks.breakout_dates),
            "breakout_values": recent.loc[marks.breakout_dates].tolist(),
        }
        return ClaimOutcome(
            verdict=verdict,
            deciding="distance from the high",
            numbers=[
                Number("all-time high", f"{a['ath']:.2f} on {a['ath_date']}", a["ath"]),
                Number("distance from the high", pct(dd), dd),
                Number(
                    "acceleration (1M vs 6M, annualised)",
                    f"{pct(acc.get('short_annualised'), 0)} vs "
                    f"{pct(acc.get('long_annualised'), 0)}",
                    acc.get("value"),
                ),
            ],
            explanation=text,
            rule=rule,
            charts=[chart],
        )


KIND = AllTimeHigh()
