"""``stress_correlation``: under stress an asset moves with one partner rather than another."""

from __future__ import annotations

from pydantic import Field, model_validator

from havenflow.claims import fits
from havenflow.claims.base import ClaimKind, ClaimOutcome, Context, KindParams, Number, Verdict


class StressCorrelationParams(KindParams):
    """Parameters of a ``stress_correlation`` claim.

    On stress days ``asset``'s daily correlation with ``versus`` is above zero (95% CI) and,
    with ``rather_than``, above its stress correlation with that one.
    """

    asset: str
    versus: str
    rather_than: str | None = None
    years: float | None = Field(None, ge=2.0)

    @model_validator(mode="after")
    def _distinct(self) -> StressCorrelationParams:
        names = [self.asset, self.versus] + ([self.rather_than] if self.rather_than else [])
        if len(set(names)) != len(names):
            raise ValueError("asset, versus and rather_than must differ")
        return self

    @property
    def partners(self) -> tuple[str, ...]:
        return (self.versus,) + ((self.rather_than,) if self.rather_than else ())


class StressCorrelation(ClaimKind[StressCorrelationParams]):
    """The ``stress_correlation`` kind (see :class:`StressCorrelationParams`)."""

    name = "stress_correlation"
    params = StressCorrelationParams
    summary = "under stress an asset correlates with one partner (rather than another)"
    inferential = True

    def needs(self, p: StressCorrelationParams) -> list[str]:
        return [p.asset, *p.partners, "sp500", "vix"]

    def alternatives(self, p: StressCorrelationParams) -> list[tuple[str, StressCorrelationParams]]:
        return [
            (f"last {y:g} years only", p.model_copy(update={"years": float(y)}))
            for y in (5, 10)
            if p.years != y
        ]

    def methods(self, p: StressCorrelationParams) -> str:
        return (
            "Stress = VIX above the 80th percentile of its trailing 252 days or the S&P 500 "
            "more than 10% below its running high (point-in-time); daily log-return "
            "correlations on stress and calm days with stationary block-bootstrap 95% CIs."
        )

    def judge(self, ctx: Context, p: StressCorrelationParams) -> ClaimOutcome:
        sh = fits.safehaven(ctx, (), p.partners, p.asset, p.years).to_dict()
        cc = sh["conditional_correlation"]
        by = {c["partner"]: c for c in cc["correlations"]}
        v = by[p.versus]
        r = by.get(p.rather_than) if p.rather_than else None
        if r is not None:
            holds = v["stress_ci"][0] > 0 and v["stress"] > r["stress"]
            fails = v["stress_ci"][1] < r["stress_ci"][0] or v["stress_ci"][1] <= 0
        else:
            holds = v["stress_ci"][0] > 0
            fails = v["stress_ci"][1] <= 0
        verdict = (
            Verdict.supported if holds else Verdict.not_supported if fails else Verdict.inconclusive
        )
        numbers = [
            Number(
                f"{p.asset}–{c['partner']} correlation, stress vs calm",
                f"{c['stress']:+.2f} [{c['stress_ci'][0]:+.2f}, {c['stress_ci'][1]:+.2f}] "
                f"vs {c['calm']:+.2f}",
                c["stress"],
            )
            for c in cc["correlations"]
        ]
        text = (
            f"On {cc['n_stress_days']} stress days ({sh['stress_definition']}) {p.asset}'s daily "
            f"correlation with {p.versus} is {v['stress']:+.2f} against {v['calm']:+.2f} on "
            f"{cc['n_calm_days']} calm days (difference {v['difference']:+.2f}, 95% CI "
            f"{v['difference_ci'][0]:+.2f}..{v['difference_ci'][1]:+.2f})"
        )
        if r is not None:
            text += (
                f"; with {p.rather_than} it is {r['stress']:+.2f}. In stress {p.asset} moves "
                + (
                    f"more with {p.versus} than with {p.rather_than}."
                    if v["stress"] > r["stress"]
                    else f"more with {p.rather_than}."
                )
            )
        else:
            text += "."
        # A one-sided bootstrap p of "the stress correlation is at most zero" is not kept by the
        # fit; the verdict rests on the CIs, so no p-value enters the q-values.
        rule = (
            f"supported: the stress correlation with {p.versus} is above 0 (95% CI)"
            + (
                f" and above the one with {p.rather_than}; not supported: its CI lies below "
                f"{p.rather_than}'s or reaches no higher than 0"
                if r is not None
                else "; not supported: its CI reaches no higher than 0"
            )
            + "; otherwise inconclusive"
        )
        return ClaimOutcome(
            verdict=verdict,
            numbers=numbers,
            explanation=text,
            rule=rule,
            charts=[
                {
                    "kind": "stress_bars",
                    "title": f"{p.asset}'s correlation in stress and calm (95% block-bootstrap CI)",
                    "partners": [c["partner"] for c in cc["correlations"]],
                    "stress": [c["stress"] for c in cc["correlations"]],
                    "stress_ci": [c["stress_ci"] for c in cc["correlations"]],
                    "calm": [c["calm"] for c in cc["correlations"]],
                    "calm_ci": [c["calm_ci"] for c in cc["correlations"]],
                }
            ],
        )


KIND = StressCorrelation()
