"""``outlook``: an asset's forward return over horizons, given today's state, is up or not."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import numpy as np
from pydantic import field_validator, model_validator

from havenflow.claims import fits
from havenflow.claims.base import (
    ClaimKind,
    ClaimOutcome,
    Context,
    Forecast,
    KindParams,
    Number,
    Verdict,
    lp,
    pct,
)

Horizon = Literal["1M", "3M", "6M"]
Direction = Literal["up", "down", "not_up", "not_down"]
DAYS = {"1M": 21, "3M": 63, "6M": 126}
HORIZON_LABELS = {v: k for k, v in DAYS.items()}


class OutlookParams(KindParams):
    """Parameters of a ``outlook`` claim.

    Given the state on the date, ``asset`` is ``direction[i]`` over ``horizons[i]``.

    ``up``: the conditional P(up) is above the baseline's and above 50%; ``not_up``: it is at
    most the baseline's; ``down`` and ``not_down`` mirror them. A horizon is judged only where
    the conditional model beat the baseline out of sample: elsewhere the state says nothing.
    """

    asset: str
    horizons: tuple[Horizon, ...] = ("1M", "6M")
    direction: tuple[Direction, ...] = ("not_up", "up")

    @field_validator("direction", mode="before")
    @classmethod
    def _listify(cls, v: object) -> object:
        return (v,) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _paired(self) -> OutlookParams:
        if not self.horizons:
            raise ValueError("horizons: at least one")
        if len(self.direction) == 1 and len(self.horizons) > 1:
            object.__setattr__(self, "direction", self.direction * len(self.horizons))
        if len(self.direction) != len(self.horizons):
            raise ValueError(
                f"direction: one per horizon ({len(self.horizons)}), got {len(self.direction)}"
            )
        return self


def _holds(direction: str, p_up: float, base: float) -> bool | None:
    """True where the conditional outlook agrees, False where it contradicts, None in between."""
    if direction == "up":
        return True if p_up > base and p_up > 0.5 else False if p_up <= base else None
    if direction == "down":
        return True if p_up < base and p_up < 0.5 else False if p_up >= base else None
    if direction == "not_up":
        return True if p_up <= base else False if p_up > 0.5 else None
    return True if p_up >= base else False if p_up < 0.5 else None  # not_down


class Outlook(ClaimKind[OutlookParams]):
    """The ``outlook`` kind (see :class:`OutlookParams`)."""

    name = "outlook"
    params = OutlookParams
    summary = "an asset's conditional forward outlook over horizons (walk-forward tested)"
    inferential = True

    def needs(self, p: OutlookParams) -> list[str]:
        return [p.asset, "bitcoin", "silver", "gold", "vix", "sp500"]

    def methods(self, p: OutlookParams) -> str:
        return (
            "Baseline, analogues, quantile regression and their combination, re-fitted at "
            "every month end; CRPS/Brier skill with a one-sided Diebold-Mariano test "
            "(Bonferroni over 3 models). No edge at a horizon: the state says nothing there and "
            "the horizon is not judged."
        )

    @staticmethod
    def _days(p: OutlookParams) -> tuple[int, ...]:
        return tuple(sorted({DAYS[h] for h in p.horizons} | {21, 63, 126}))

    def hindsight(
        self, ctx: Context, p: OutlookParams, outcome: ClaimOutcome, later: Any
    ) -> list[Any]:
        """Each horizon's realised return against the as-of forecast distribution.

        PIT: the as-of CDF at the realised return (uniform over many forecasts if calibrated);
        CRPS: against the as-of quantiles and, for comparison, the baseline's (lower is
        better); inside: within the as-of 5-95% interval.
        """
        from havenflow.analytics.outlook import (
            CRPS_LEVELS,
            QUANTILE_LEVELS,
            cdf_from_quantiles,
            crps_from_quantiles,
        )
        from havenflow.claims.hindsight import both, forward_row
        from havenflow.services.outlook import outlook_ids

        res = fits.outlook(ctx, p.asset, self._days(p))
        # The horizons were counted on the sessions of every series the outlook aligned.
        with_ids = tuple(outlook_ids(ctx.repo, p.asset, ctx.day))
        words = {"up": "up", "down": "down", "not_up": "not up", "not_down": "not down"}
        claimed = {DAYS[h]: words[d] for h, d in zip(p.horizons, p.direction, strict=True)}
        evidence = {f.days_to: f.direction for f in outcome.forecasts}
        cells = np.isin(np.round(QUANTILE_LEVELS, 2), CRPS_LEVELS)
        rows = []
        for h in res.spec.horizons:
            if h not in res.current:
                continue
            method = res.chosen[h]
            q = res.current[h][method].quantiles
            qb = res.current[h]["baseline"].quantiles
            median = float(np.interp(0.5, QUANTILE_LEVELS, q))
            lo, hi = (float(v) for v in np.interp([0.05, 0.95], QUANTILE_LEVELS, q))
            row = forward_row(
                later,
                "",
                self.name,
                f"{p.asset} {HORIZON_LABELS.get(h, f'{h}d')} outlook ({method})",
                p.asset,
                ctx.asof,
                h,
                claimed=claimed.get(h),
                expected=median,
                evidence=evidence.get(h),
                with_ids=with_ids,
            )
            scores: dict[str, Any] = {"method": method, "interval": [lo, hi], "level": 0.9}
            if row.status == "complete" and row.realised is not None:
                r = row.realised
                crps = crps_from_quantiles(r, q[cells], CRPS_LEVELS)
                crps_base = crps_from_quantiles(r, qb[cells], CRPS_LEVELS)
                # Outside the 5-95% quantiles the PIT is only known to be below 0.05 (or
                # above 0.95): the value shown there is the tail's midpoint, flagged.
                censored = bool(r < q[0] or r > q[-1])
                scores |= {
                    "pit": cdf_from_quantiles(r, q, QUANTILE_LEVELS),
                    "pit_censored": censored,
                    "crps": crps,
                    "crps_baseline": crps_base,
                    "crps_skill": 1.0 - crps / crps_base if crps_base > 0 else None,
                    "in_interval": bool(lo <= r <= hi),
                }
                pit = (
                    f"PIT < {QUANTILE_LEVELS[0]:.2f} (below the as-of 5% quantile)"
                    if r < q[0]
                    else f"PIT > {QUANTILE_LEVELS[-1]:.2f} (above the as-of 95% quantile)"
                    if r > q[-1]
                    else f"PIT {scores['pit']:.2f}"
                )
                extra = (
                    f"; {pit}, "
                    f"{'inside' if scores['in_interval'] else 'outside'} the as-of 5-95% "
                    f"interval [{both(lo)}, {both(hi)}], CRPS {crps:.3f} (log-return units, "
                    f"lower is better; baseline {crps_base:.3f})"
                )
            else:
                extra = f"; as-of 5-95% interval [{both(lo)}, {both(hi)}]"
            rows.append(dataclasses.replace(row, scores=scores, text=row.text + extra))
        return rows

    def calendar_ids(self, ctx: Context, p: OutlookParams) -> tuple[str, ...]:
        from havenflow.services.outlook import outlook_ids

        return tuple(outlook_ids(ctx.repo, p.asset, ctx.day))

    def judge(self, ctx: Context, p: OutlookParams) -> ClaimOutcome:
        days = self._days(p)
        out = fits.outlook(ctx, p.asset, days).to_dict()
        rows = {h["horizon"]: h for h in out["horizons"] if "p_up" in h}
        judged: list[tuple[str, str, bool | None, dict[str, Any]]] = []
        for label, direction in zip(p.horizons, p.direction, strict=True):
            h = rows.get(DAYS[label])
            if h is None:
                return ClaimOutcome.not_testable(f"no {label} outlook on {ctx.day}")
            if not h["edge"]:
                judged.append((label, direction, None, h))
                continue
            cond = h["conditional"] or {}
            judged.append(
                (label, direction, _holds(direction, cond["p_up"], h["baseline_p_up"]), h)
            )
        results = [j[2] for j in judged]
        if any(r is False for r in results):
            verdict = Verdict.not_supported
        elif results and all(r is True for r in results):
            verdict = Verdict.supported
        else:
            verdict = Verdict.inconclusive
        skill = out.get("skill", {})
        pvals = []
        for horizon, *_ in judged:
            s = skill.get(str(DAYS[horizon]), {})
            best = s.get("best_conditional")
            pv = (s.get("methods", {}).get(best, {}) or {}).get("dm_pvalue") if best else None
            if pv is not None:
                pvals.append(min(1.0, 3 * pv))  # Bonferroni over the 3 conditional models
        pvalue = min(1.0, min(pvals) * len(pvals)) if pvals else None

        def line(h: dict[str, Any]) -> str:
            cond = h["conditional"] or {}
            shown = (
                f"conditional P(up) {cond['p_up']:.0%} vs baseline {h['baseline_p_up']:.0%}"
                if h["edge"]
                else f"no out-of-sample edge: baseline P(up) {h['baseline_p_up']:.0%}"
            )
            return f"{shown}, median {pct(math.expm1(h['quantiles']['50']))}"

        words = {"up": "up", "down": "down", "not_up": "not up", "not_down": "not down"}
        forecasts = [
            Forecast(
                p.asset,
                DAYS[label],
                DAYS[label],
                words[d],
                0
                if not h["edge"]
                else (1 if h["conditional"]["p_up"] > h["baseline_p_up"] else -1),
                line(h),
            )
            for label, d, _, h in judged
        ]
        state = out["state"]
        return ClaimOutcome(
            verdict=verdict,
            numbers=[
                Number(f"outlook {label} (claimed: {words[d]})", line(h), h["p_up"])
                for label, d, _, h in judged
            ],
            explanation=(
                f"Given the state on {out['asof']} (target momentum "
                f"{lp(state.get('target_momentum'))}, metals minus bitcoin "
                f"{lp(state.get('metals_minus_bitcoin'))}, silver breakout "
                f"{'active' if state.get('silver_breakout') == 1.0 else 'not active'}), the "
                f"walk-forward record says: {out['verdict']}. "
                + " ".join(
                    f"{label}: "
                    + (
                        "not judged (no edge, the state adds nothing that survived testing)."
                        if r is None and not h["edge"]
                        else "the conditional outlook agrees."
                        if r
                        else "the conditional outlook contradicts it."
                        if r is False
                        else "the conditional outlook is neither for nor against."
                    )
                    for label, _, r, h in judged
                )
            ),
            rule="each horizon is judged only where a conditional model beat the baseline out "
            "of sample (one-sided DM test on CRPS, Bonferroni over 3 models): up = conditional "
            "P(up) above the baseline's and 50%, not up = at most the baseline's; supported: "
            "every horizon agrees; not supported: one contradicts; otherwise (no edge) "
            "inconclusive",
            charts=[
                {
                    "kind": "fan",
                    "title": f"{p.asset} forward return quantiles: shown outlook, conditional "
                    "model and baseline",
                    "horizons": [h["label"] for h in rows.values()],
                    "shown": [h["quantiles"] for h in rows.values()],
                    "baseline": [h["baseline_quantiles"] for h in rows.values()],
                    "conditional": [
                        (h["conditional"] or {}).get("quantiles") for h in rows.values()
                    ],
                }
            ],
            pvalue=pvalue,
            test="the best conditional model does not beat the baseline (one-sided DM on CRPS, "
            "Bonferroni over models and horizons)",
            forecasts=forecasts,
        )


KIND = Outlook()
