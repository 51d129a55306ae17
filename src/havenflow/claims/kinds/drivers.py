"""``drivers``: named macro drivers explain a share of an asset's move over a window."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator
from scipy.stats import norm

from havenflow.claims import fits
from havenflow.claims.base import (
    ClaimKind,
    ClaimOutcome,
    Context,
    KindParams,
    Number,
    Verdict,
    lp,
    pct,
)
from havenflow.universe import DRIVER_IDS, DRIVER_LABELS

DriverName = Literal["real_yield", "dollar", "rate_expectations", "equities", "vix"]
Window = Literal["1M", "3M", "6M", "YTD", "1Y"]


class DriversParams(KindParams):
    """Parameters of a ``drivers`` claim.

    The ``drivers`` together explain at least ``min_share`` of ``asset``'s log move over
    ``window``, with the sum of their lower 95% bounds above zero.
    """

    asset: str
    drivers: tuple[DriverName, ...] = ("real_yield", "dollar", "rate_expectations")
    window: Window = "3M"
    min_share: float = Field(0.25, gt=0.0, le=1.0)
    years: float = Field(3.0, ge=1.0, le=20.0)

    @field_validator("drivers")
    @classmethod
    def _some(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one driver")
        return tuple(dict.fromkeys(v))


class Drivers(ClaimKind[DriversParams]):
    """The ``drivers`` kind (see :class:`DriversParams`)."""

    name = "drivers"
    params = DriversParams
    summary = "macro drivers (real yield, dollar, rate expectations...) explain an asset's move"
    inferential = True

    def needs(self, p: DriversParams) -> list[str]:
        ids = [p.asset]
        for d in p.drivers:
            ids += ["ust_2y"] if d == "rate_expectations" else [DRIVER_IDS[d]]
        return list(dict.fromkeys(ids))

    def alternatives(self, p: DriversParams) -> list[tuple[str, DriversParams]]:
        others = [w for w in ("1M", "6M", "3M") if w != p.window][:2]
        alts = [(f"{w} window", p.model_copy(update={"window": w})) for w in others]
        alts.append(("5 years of estimation", p.model_copy(update={"years": 5.0})))
        return alts

    def methods(self, p: DriversParams) -> str:
        return (
            f"OLS of {p.asset}'s daily log returns on the real-yield change, dollar return, "
            f"rate-expectation change, S&P 500 return and VIX change over {p.years:g} years, "
            f"HAC errors; the betas times the drivers' moves over {p.window} attribute the move."
        )

    def judge(self, ctx: Context, p: DriversParams) -> ClaimOutcome:
        outcome = fits.drivers(ctx, p.asset, p.window, years=p.years)
        dr = outcome.to_dict()
        att = dr["attribution"]
        contrib = {c["driver"]: c for c in att["contributions"]}
        missing = [d for d in p.drivers if d not in contrib]
        if missing:
            return ClaimOutcome.not_testable(
                f"{', '.join(missing)} cannot drive {p.asset} in this model (it is the asset)"
            )
        total = sum(contrib[d]["contribution"] for d in p.drivers)
        # The sum's standard error from the betas' joint HAC covariance (m' V m over the named
        # drivers' window moves m), not the sum of the separate intervals.
        m = np.array([contrib[d]["driver_move"] for d in p.drivers])
        cov = outcome.regression.cov.loc[list(p.drivers), list(p.drivers)].to_numpy(dtype=float)
        se = float(np.sqrt(m @ cov @ m))
        low, high = total - 1.959963984540054 * se, total + 1.959963984540054 * se
        share = total / att["actual"] if att["actual"] else None
        coefs = {c["name"]: c for c in dr["regression"]["coefficients"]}
        # The sign of the move matters: drivers "explain" a rally only by pushing it up.
        up = att["actual"] >= 0
        bound = low if up else -high
        if share is not None and share >= p.min_share and bound > 0:
            verdict = Verdict.supported
        elif share is None or share < p.min_share / 2.5 or bound <= 0:
            verdict = Verdict.not_supported
        else:
            verdict = Verdict.inconclusive
        names = " + ".join(d.replace("_", " ") for d in p.drivers)
        numbers = [
            Number(
                f"{names}, {att['start']}..{att['end']}",
                f"{lp(total)} of {lp(att['actual'])} ({pct(share, 0)} of the move)",
                total,
            ),
        ]
        for d in p.drivers[:2]:
            c = coefs.get(d)
            if c is not None:
                numbers.append(
                    Number(
                        f"{p.asset} beta on {DRIVER_LABELS[d]} (HAC t)",
                        f"{c['coef']:+.3f} (t {c['t']:+.1f})",
                        c["coef"],
                    )
                )
        parts = ", ".join(
            f"{d.replace('_', ' ')} {lp(c['contribution'])}" for d, c in contrib.items()
        )
        return ClaimOutcome(
            verdict=verdict,
            numbers=numbers,
            explanation=(
                f"Regressing {p.asset}'s daily log returns on the drivers over "
                f"{dr['estimation']} (R² {dr['regression']['rsquared']:.2f}), then applying the "
                f"betas to the drivers' moves from {att['start']} to {att['end']}: {parts}, "
                f"against an actual move of {lp(att['actual'])}; {lp(att['unexplained'])} is "
                f"unexplained. The named drivers together: {lp(total)} (95% CI "
                f"{100 * low:+.1f}..{100 * high:+.1f})."
            ),
            rule=f"supported: {names} together explain at least {pct(p.min_share, 0)[1:]} of "
            "the move with their summed 95% interval on the move's side of zero; not supported: "
            f"under {pct(p.min_share / 2.5, 0)[1:]} or an interval reaching zero; otherwise "
            "inconclusive",
            charts=[
                {
                    "kind": "attribution",
                    "title": f"{p.asset}'s move {att['start']}..{att['end']}, by driver "
                    "(log points)",
                    "labels": [dr["driver_labels"][c["driver"]] for c in att["contributions"]]
                    + ["drift", "unexplained", "actual"],
                    "values": [c["contribution"] for c in att["contributions"]]
                    + [att["drift"], att["unexplained"], att["actual"]],
                    "low": [c["ci_low"] for c in att["contributions"]] + [None, None, None],
                    "high": [c["ci_high"] for c in att["contributions"]] + [None, None, None],
                }
            ],
            pvalue=_share_pvalue(total, att["actual"], se, p.min_share),
            test=f"the named drivers explain at most {pct(p.min_share, 0)[1:]} of the move "
            "(one-sided z, HAC covariance of the betas)",
            notes=list(dr.get("notes", [])),
        )


def _share_pvalue(total: float, actual: float, se: float, min_share: float) -> float | None:
    """The claim's own test: H0 "the drivers explain at most ``min_share`` of the move".

    One-sided z in the direction of the move, on the HAC standard error of the summed
    contribution.
    """
    if not se > 0 or not actual:
        return None
    signed = total if actual > 0 else -total
    return float(norm.sf((signed - min_share * abs(actual)) / se))


KIND = Drivers()
