"""``best_performer``: an asset leads a universe over calendar windows (optionally: beats one)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from havenflow.claims import fits
from havenflow.claims.base import ClaimKind, ClaimOutcome, Context, KindParams, Number, Verdict, pct
from havenflow.universe import SNAPSHOT_IDS

Window = Literal["1W", "1M", "3M", "6M", "YTD", "1Y"]


class BestPerformerParams(KindParams):
    """Parameters of a ``best_performer`` claim.

    ``asset`` ranks first in ``universe`` over at least ``min_first`` of ``windows``; with
    ``versus``, it also beats that asset in every window. ``risk_adjusted`` ranks by return per
    unit of volatility instead of return.
    """

    asset: str
    windows: tuple[Window, ...] = ("1M", "3M", "6M", "YTD", "1Y")
    universe: tuple[str, ...] = tuple(SNAPSHOT_IDS)
    risk_adjusted: bool = False
    versus: str | None = None
    min_first: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _coherent(self) -> BestPerformerParams:
        if not self.windows:
            raise ValueError("windows: at least one window")
        if self.min_first is not None and self.min_first > len(self.windows):
            raise ValueError(f"min_first: at most the {len(self.windows)} windows")
        if self.versus == self.asset:
            raise ValueError("versus: another asset than asset")
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        extra = [self.asset] + ([self.versus] if self.versus else [])
        return tuple(dict.fromkeys([*self.universe, *extra]))

    @property
    def first_needed(self) -> int:
        return self.min_first or max(1, (len(self.windows) + 1) // 2)


class BestPerformer(ClaimKind[BestPerformerParams]):
    """The ``best_performer`` kind (see :class:`BestPerformerParams`)."""

    name = "best_performer"
    params = BestPerformerParams
    summary = "an asset is the best performer of a universe over calendar windows"

    def needs(self, p: BestPerformerParams) -> list[str]:
        return [p.asset] + ([p.versus] if p.versus else [])

    def alternatives(self, p: BestPerformerParams) -> list[tuple[str, BestPerformerParams]]:
        return [
            (
                "risk-adjusted ranks" if not p.risk_adjusted else "raw returns",
                p.model_copy(update={"risk_adjusted": not p.risk_adjusted}),
            ),
            (
                "first in every window",
                p.model_copy(update={"min_first": len(p.windows)}),
            ),
        ]

    def methods(self, p: BestPerformerParams) -> str:
        return (
            f"Calendar-window simple returns ({', '.join(p.windows)}) of {', '.join(p.ids)} on "
            "each asset's own calendar; risk-adjusted = return over annualised volatility."
        )

    def judge(self, ctx: Context, p: BestPerformerParams) -> ClaimOutcome:
        snap = fits.snapshot(ctx, p.ids).to_dict()
        assets = {x["id"]: x for x in snap["assets"]}
        me = assets[p.asset]
        rank_key = "risk_adjusted_rank" if p.risk_adjusted else "rank"
        windows = [w for w in p.windows if me["returns"].get(w) is not None]
        if not windows:
            return ClaimOutcome.not_testable(f"{p.asset} has no return over {p.windows}")
        first = [w for w in windows if me[rank_key].get(w) == 1]
        rival = assets.get(p.versus) if p.versus else None
        beats = (
            [
                w
                for w in windows
                if rival["returns"].get(w) is not None and me["returns"][w] > rival["returns"][w]
            ]
            if rival is not None
            else windows
        )
        need = p.first_needed
        if len(first) >= need and len(beats) == len(windows):
            verdict = Verdict.supported
        elif len(first) < need / 2 or len(beats) < len(windows) / 2:
            verdict = Verdict.not_supported
        else:
            verdict = Verdict.inconclusive
        n = len(assets)
        numbers = [
            Number(
                f"windows where {p.asset} ranks first "
                f"({'risk-adjusted' if p.risk_adjusted else 'return'})",
                f"{len(first)} of {len(windows)}",
                float(len(first)),
            ),
            Number(
                f"{p.asset}'s rank by window",
                ", ".join(f"{w} {me[rank_key].get(w)}/{n}" for w in windows),
            ),
        ]
        text = (
            f"Across {n} assets ({', '.join(assets)}), {p.asset} ranks first "
            f"{'per unit of volatility ' if p.risk_adjusted else ''}over "
            f"{', '.join(first) if first else 'no window'} of {', '.join(windows)}."
        )
        if rival is not None:
            mid = "3M" if "3M" in windows else windows[0]
            gap = None
            if rival["returns"].get(mid) is not None:
                gap = me["returns"][mid] - rival["returns"][mid]
            numbers.append(Number(f"{p.asset} minus {p.versus}, {mid} return", pct(gap), gap))
            text += (
                f" It beats {p.versus} over {len(beats)} of {len(windows)} windows; over {mid} "
                f"{p.asset} returned {pct(me['returns'][mid])} against {p.versus}'s "
                f"{pct(rival['returns'].get(mid))}."
            )
        rule = (
            f"supported: {p.asset} ranks first in at least {need} of the {len(windows)} windows"
            + (f" and beats {p.versus} in all of them" if p.versus else "")
            + f"; not supported: first in fewer than {need / 2:g}"
            + (f" or beats {p.versus} in fewer than half" if p.versus else "")
            + "; otherwise inconclusive"
        )
        return ClaimOutcome(
            verdict=verdict,
            numbers=numbers,
            explanation=text,
            rule=rule,
            charts=[
                {
                    "kind": "ranking",
                    "title": "Returns by window",
                    "windows": snap["windows"],
                    "assets": {
                        k: [v["returns"].get(w) for w in snap["windows"]] for k, v in assets.items()
                    },
                }
            ],
        )


KIND = BestPerformer()
