"""``implied_move``: an asset moved differently from what the forces driving another imply."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator
from scipy.stats import norm

from havenflow.claims import fits
from havenflow.claims.base import ClaimKind, ClaimOutcome, Context, KindParams, Number, Verdict, lp

Window = Literal["1M", "3M", "6M", "YTD", "1Y"]


class ImpliedMoveParams(KindParams):
    """Parameters of a ``implied_move`` claim.

    If ``asset`` reacted only to the drivers that moved ``by`` over ``window``, it would be
    elsewhere: its actual move lies outside the drivers' prediction interval.
    """

    asset: str
    by: str
    window: Window = "3M"

    @model_validator(mode="after")
    def _two(self) -> ImpliedMoveParams:
        if self.asset == self.by:
            raise ValueError("by: another asset than asset")
        return self


class ImpliedMove(ClaimKind[ImpliedMoveParams]):
    """The ``implied_move`` kind (see :class:`ImpliedMoveParams`)."""

    name = "implied_move"
    params = ImpliedMoveParams
    summary = "an asset's actual move against the move its drivers imply over a window"
    inferential = True

    def needs(self, p: ImpliedMoveParams) -> list[str]:
        return [p.asset, p.by]

    def alternatives(self, p: ImpliedMoveParams) -> list[tuple[str, ImpliedMoveParams]]:
        others = [w for w in ("1M", "6M", "3M") if w != p.window][:2]
        return [(f"{w} window", p.model_copy(update={"window": w})) for w in others]

    def methods(self, p: ImpliedMoveParams) -> str:
        return (
            f"{p.asset}'s own driver betas (3 years of daily log returns, HAC) applied to the "
            f"drivers' moves over {p.window}; confidence interval from the betas' covariance, "
            f"prediction interval adding {p.asset}'s residual variance over the window's bars."
        )

    def judge(self, ctx: Context, p: ImpliedMoveParams) -> ClaimOutcome:
        dr = fits.drivers(ctx, p.asset, p.window, implied_by=p.by).to_dict()
        ref = dr["implied_by"]
        t = ref["target"]
        outside_pi = t["actual"] < t["prediction_low"] or t["actual"] > t["prediction_high"]
        outside_ci = t["actual"] < t["ci_low"] or t["actual"] > t["ci_high"]
        if outside_pi:
            verdict = Verdict.supported
        elif outside_ci:
            verdict = Verdict.inconclusive
        else:
            verdict = Verdict.not_supported
        se_pred = (t["prediction_high"] - t["prediction_low"]) / (2 * 1.959963984540054)
        pvalue = float(2 * norm.sf(abs(t["gap"]) / se_pred)) if se_pred > 0 else None
        pi = f"[{100 * t['prediction_low']:+.1f}, {100 * t['prediction_high']:+.1f}]"
        return ClaimOutcome(
            verdict=verdict,
            numbers=[
                Number(
                    f"{p.asset} implied by the drivers (95% CI)",
                    f"{lp(t['implied'])} [{100 * t['ci_low']:+.1f}, {100 * t['ci_high']:+.1f}]",
                    t["implied"],
                ),
                Number(f"{p.asset} actual", lp(t["actual"]), t["actual"]),
                Number(
                    f"range with {p.asset}'s own noise (95%)",
                    f"{pi} log points",
                    t["prediction_low"],
                ),
            ],
            explanation=(
                f"From {t['start']} to {t['end']} {p.by} moved {lp(ref['reference_move'])}. "
                f"Applying {p.asset}'s own betas to the same drivers' moves gives "
                f"{lp(t['implied'])} (95% CI {100 * t['ci_low']:+.1f}..{100 * t['ci_high']:+.1f}); "
                f"{p.asset} actually moved {lp(t['actual'])}, a gap of {lp(t['gap'])}. "
                + (
                    f"That gap is larger than {p.asset}'s own unexplained noise over the window."
                    if outside_pi
                    else "The gap is outside the drivers' interval but inside the range "
                    f"{p.asset}'s own idiosyncratic noise produces over {t['n_bars']} bars {pi}."
                    if outside_ci
                    else "The actual move is inside the implied interval."
                )
            ),
            rule="supported: the actual move lies outside the prediction interval (drivers plus "
            f"{p.asset}'s residual noise); inconclusive: outside the drivers' CI only; not "
            "supported: inside the CI",
            charts=[
                {
                    "kind": "implied",
                    "title": f"{p.asset}: factor-implied vs actual move (log points)",
                    "implied": t["implied"],
                    "ci": [t["ci_low"], t["ci_high"]],
                    "prediction": [t["prediction_low"], t["prediction_high"]],
                    "actual": t["actual"],
                }
            ],
            pvalue=pvalue,
            test="the actual move equals the implied one (z of the gap on the prediction "
            "standard error)",
        )


KIND = ImpliedMove()
