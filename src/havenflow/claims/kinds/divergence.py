"""``divergence``: two assets diverge (relative strength or a return spread far from normal)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from havenflow.claims import fits
from havenflow.claims.base import (
    ClaimKind,
    ClaimOutcome,
    Context,
    KindParams,
    Number,
    Verdict,
    lp,
    num,
)


class DivergenceParams(KindParams):
    """Parameters of a ``divergence`` claim.

    ``a`` and ``b`` diverge: |z| of the relative strength or of the ``bars``-bar return
    spread at least ``z`` (not supported below ``z / 2``).
    """

    a: str
    b: str
    bars: Literal[21, 63] = 63
    z: float = Field(2.0, gt=0.0)

    @model_validator(mode="after")
    def _two(self) -> DivergenceParams:
        if self.a == self.b:
            raise ValueError("b: another asset than a")
        return self


class Divergence(ClaimKind[DivergenceParams]):
    """The ``divergence`` kind (see :class:`DivergenceParams`)."""

    name = "divergence"
    params = DivergenceParams
    summary = "two assets diverge (relative strength or return spread z-score)"

    def needs(self, p: DivergenceParams) -> list[str]:
        return [p.a, p.b]

    def alternatives(self, p: DivergenceParams) -> list[tuple[str, DivergenceParams]]:
        other = 21 if p.bars == 63 else 63
        return [
            (f"{other}-bar spread", p.model_copy(update={"bars": other})),
            (f"|z| >= {p.z * 1.25:g}", p.model_copy(update={"z": p.z * 1.25})),
        ]

    def methods(self, p: DivergenceParams) -> str:
        return (
            f"{p.a}/{p.b}: relative-strength z over 252 bars; {p.bars}-bar spread z over 756 "
            "bars; rolling 20/60/120-bar correlations against their own history."
        )

    def judge(self, ctx: Context, p: DivergenceParams) -> ClaimOutcome:
        div = fits.divergence(ctx, p.a, p.b).to_dict(history=True)
        z = div["relative_strength_z"]
        sp = {x["bars"]: x for x in div["spreads"]}[p.bars]
        sz = sp["spread_z"]
        breakdown = [c["window"] for c in div["correlations"] if c["breakdown"]]
        if z is None and sz is None:
            return ClaimOutcome.not_testable(
                f"{p.a}/{p.b} has too short a common history for its z-scores"
            )
        zmax = max(abs(z or 0.0), abs(sz or 0.0))
        if zmax >= p.z:
            verdict = Verdict.supported
        elif zmax < p.z / 2:
            verdict = Verdict.not_supported
        else:
            verdict = Verdict.inconclusive
        hist = div.get("history", [])
        return ClaimOutcome(
            verdict=verdict,
            numbers=[
                Number(f"relative strength z ({p.a}/{p.b}, 252 bars)", num(z), z),
                Number(f"{p.bars}-bar return spread", lp(sp["spread"]), sp["spread"]),
                Number(f"{p.bars}-bar spread z (756 bars)", num(sz), sz),
            ],
            explanation=(
                f"Over {p.bars} trading days {p.a} beat {p.b} by {lp(sp['spread'])}, {num(sz)} "
                f"standard deviations of that spread's past three years; the {p.a}/{p.b} ratio "
                f"stands {num(z)} sd from its one-year mean. The daily-return correlation "
                + (
                    f"has broken down (bottom decile) over {', '.join(map(str, breakdown))} bars."
                    if breakdown
                    else "has not broken down: the two co-move day to day at their usual level; "
                    "any divergence is in trend."
                )
            ),
            rule=f"supported: |z| >= {p.z:g} for the relative strength or the {p.bars}-bar "
            f"spread; not supported: both below {p.z / 2:g}; otherwise inconclusive",
            charts=[
                {
                    "kind": "relative_strength",
                    "title": f"{p.a} / {p.b}: relative strength and its z-score (month ends)",
                    "dates": [h["date"] for h in hist],
                    "ratio": [h.get("relative_strength") for h in hist],
                    "z": [h.get("relative_strength_z") for h in hist],
                }
            ],
        )


KIND = Divergence()
