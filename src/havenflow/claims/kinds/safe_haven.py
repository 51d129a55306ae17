"""``safe_haven``: rising fear sends capital to havens (they hold up on the worst equity days)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from scipy.stats import norm

from havenflow.analytics.safehaven import fear_gauge
from havenflow.claims import fits
from havenflow.claims.base import ClaimKind, ClaimOutcome, Context, KindParams, Number, Verdict, num
from havenflow.claims.charts import tails_chart


class SafeHavenParams(KindParams):
    """Parameters of a ``safe_haven`` claim.

    At least one of ``asset`` is a (weak or strong) safe haven on the ``quantile`` worst
    S&P 500 days, and fear is rising: the ``stress`` index rose at least ``fear_rise`` points
    over ``fear_window`` bars.
    """

    asset: tuple[str, ...]
    stress: Literal["vix"] = "vix"
    quantile: float = 0.05
    fear_rise: float = Field(3.0, gt=0.0)
    fear_window: int = Field(63, ge=5, le=252)

    @field_validator("asset", mode="before")
    @classmethod
    def _listify(cls, v: object) -> object:
        return (v,) if isinstance(v, str) else v

    @field_validator("quantile")
    @classmethod
    def _tail(cls, v: float) -> float:
        if v not in (0.1, 0.05, 0.01):
            raise ValueError("one of the tails fitted: 0.1, 0.05 or 0.01")
        return v

    @field_validator("asset")
    @classmethod
    def _some(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one asset")
        return tuple(dict.fromkeys(v))


class SafeHaven(ClaimKind[SafeHavenParams]):
    """The ``safe_haven`` kind (see :class:`SafeHavenParams`)."""

    name = "safe_haven"
    params = SafeHavenParams
    summary = "rising fear (VIX) with assets that hold up on the worst equity days"
    inferential = True

    def needs(self, p: SafeHavenParams) -> list[str]:
        return [*p.asset, "sp500", p.stress]

    def alternatives(self, p: SafeHavenParams) -> list[tuple[str, SafeHavenParams]]:
        qs = [q for q in (0.1, 0.01, 0.05) if q != p.quantile][:2]
        alts = [(f"worst {q:.0%} days", p.model_copy(update={"quantile": q})) for q in qs]
        alts.append(
            (
                f"fear over {p.fear_window // 3} bars",
                p.model_copy(update={"fear_window": max(5, p.fear_window // 3)}),
            )
        )
        return alts

    def methods(self, p: SafeHavenParams) -> str:
        return (
            "Baur-McDermott regressions of daily log returns on the S&P 500 with dummies for "
            "its 10/5/1% worst days, Newey-West errors; strong haven: tail slope significantly "
            "below 0, weak: not significantly above 0. Fear: the VIX's change over "
            f"{p.fear_window} bars against a rise of {p.fear_rise:g} points, and its percentile "
            "of the last 3 years."
        )

    def judge(self, ctx: Context, p: SafeHavenParams) -> ClaimOutcome:
        sh = fits.safehaven(ctx, p.asset, (), None).to_dict()
        tails = {
            r["asset"]: next(t for t in r["safe_haven"] if t["quantile"] == p.quantile)
            for r in sh["regressions"]
        }
        start = sh["regressions"][0]["start"]
        fear = fear_gauge(fits.levels(ctx, (p.stress,))[p.stress], p.fear_window)
        fear_up = fear.change >= p.fear_rise
        havens = [a for a, t in tails.items() if t["verdict"] in ("strong", "weak")]
        if havens and fear_up:
            verdict = Verdict.supported
        elif not havens or fear.change <= 0:
            verdict = Verdict.not_supported
        else:
            verdict = Verdict.inconclusive
        # Primary test: the best haven's tail slope is below zero (one-sided).
        best = min(tails, key=lambda a: tails[a]["total_slope"] / tails[a]["std_err"])
        tb = tails[best]
        pvalue = float(norm.cdf(tb["total_slope"] / tb["std_err"]))
        q = f"{p.quantile:.0%}"
        numbers = [
            Number(
                f"{a} on the worst {q} equity days (slope, HAC 95%)",
                f"{t['total_slope']:+.2f} ± {1.96 * t['std_err']:.2f} ({t['verdict']} haven)",
                t["total_slope"],
            )
            for a, t in tails.items()
        ]
        numbers.append(
            Number(
                f"{p.stress.upper()}: change over {p.fear_window} bars / percentile of 3 years",
                f"{num(fear.change)} pts / {100 * fear.percentile:.0f}th (level "
                f"{fear.level:.1f} on {fear.date.date()})",
                fear.change,
            )
        )
        held = (
            f"{' and '.join(havens)} {'holds' if len(havens) == 1 else 'hold'} up in equity "
            "sell-offs"
            if havens
            else "none of them holds up in equity sell-offs"
        )
        return ClaimOutcome(
            verdict=verdict,
            numbers=numbers,
            explanation=(
                f"On the {q} worst S&P 500 days since {start}, the slopes on equities are "
                + ", ".join(
                    f"{a} {t['total_slope']:+.2f} ({t['verdict']})" for a, t in tails.items()
                )
                + f": {held}. Uncertainty on {fear.date.date()}: the {p.stress.upper()} is at "
                f"{fear.level:.1f}, the {100 * fear.percentile:.0f}th percentile of its last 3 "
                f"years, {num(fear.change)} points over {p.fear_window} bars, so fear is "
                + (
                    "rising."
                    if fear_up
                    else f"not rising by the claim's threshold (+{p.fear_rise:g} points)."
                )
            ),
            rule=f"supported: at least one of {', '.join(p.asset)} is a weak or strong safe "
            f"haven on the {q} worst equity days AND the {p.stress.upper()} rose at least "
            f"{p.fear_rise:g} points over {p.fear_window} bars; not supported: no haven, or "
            "the index did not rise; otherwise inconclusive",
            charts=[
                tails_chart(
                    sh["regressions"], "Slope on equities in the worst equity days (95% CI)"
                )
            ],
            pvalue=pvalue,
            test=f"{best}'s slope on the {q} worst equity days is below zero (one-sided, HAC)",
        )


KIND = SafeHaven()
