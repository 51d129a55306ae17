"""``event_study``: after a trigger, a target's forward returns beat (or trail) its baseline."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from pydantic import Field, field_validator

from havenflow.claims import fits
from havenflow.claims.base import (
    ClaimKind,
    ClaimOutcome,
    Context,
    Forecast,
    KindParams,
    Number,
    Verdict,
    pct,
)
from havenflow.claims.charts import event_chart


class EventStudyParams(KindParams):
    """Parameters of a ``event_study`` claim.

    After ``trigger`` (e.g. ``"silver:high(252)"``, ``"vix:above(30)"``), ``target``'s
    forward log returns over ``horizons`` trading days are ``direction`` (up: above its
    unconditional baseline; down: below it).
    """

    trigger: str
    target: str
    horizons: tuple[int, ...] = (21, 63, 126)
    direction: Literal["up", "down"] = "up"
    min_gap: int = Field(21, ge=1, le=252)
    min_events: int = Field(10, ge=3)

    @field_validator("horizons")
    @classmethod
    def _positive(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(h < 1 or h > 756 for h in v):
            raise ValueError("horizons: trading days from 1 to 756")
        return tuple(sorted(set(v)))

    @field_validator("trigger")
    @classmethod
    def _parses(cls, v: str) -> str:
        from havenflow.analytics.events import parse_trigger

        parse_trigger(v)  # a DataValidationError (a ValueError) names what is wrong
        return v


class EventStudy(ClaimKind[EventStudyParams]):
    """The ``event_study`` kind (see :class:`EventStudyParams`)."""

    name = "event_study"
    params = EventStudyParams
    summary = "a target's returns after a trigger against its baseline"
    inferential = True

    def needs(self, p: EventStudyParams) -> list[str]:
        from havenflow.analytics.events import parse_trigger

        return list(dict.fromkeys([*parse_trigger(p.trigger).series, p.target]))

    def alternatives(self, p: EventStudyParams) -> list[tuple[str, EventStudyParams]]:
        return [
            (f"events {g} bars apart", p.model_copy(update={"min_gap": g}))
            for g in (max(1, p.min_gap // 2), p.min_gap * 2)
        ]

    def methods(self, p: EventStudyParams) -> str:
        return (
            f"Event study of {p.target} after {p.trigger}: forward log returns at "
            f"{', '.join(map(str, p.horizons))} trading days minus the unconditional mean, "
            f"stationary block-bootstrap inference with event dates fixed, events at least "
            f"{p.min_gap} bars apart; Bonferroni over the horizons."
        )

    def hindsight(
        self, ctx: Context, p: EventStudyParams, outcome: ClaimOutcome, later: Any
    ) -> list[Any]:
        """The last event's realised excess return at the horizons that ended after the date."""
        from havenflow.claims.hindsight import event_rows

        # The claim is about the excess over the baseline, so only the event rows score it
        # (its forecast's raw return would set an easier bar in a rising market).
        ev = fits.events(ctx, p.trigger, p.target, p.horizons, p.min_gap)
        return event_rows(
            later,
            self.name,
            p.target,
            ctx.asof,
            ev.event_dates,
            ev.horizons,
            p.direction,
            p.trigger,
            with_ids=self.calendar_ids(ctx, p),
        )

    def judge(self, ctx: Context, p: EventStudyParams) -> ClaimOutcome:
        ev = fits.events(ctx, p.trigger, p.target, p.horizons, p.min_gap).to_dict()
        hs = [h for h in ev["horizons"] if h["excess_mean"] is not None and h["pvalue"] is not None]
        up = p.direction == "up"
        k = max(1, len(hs))
        # Bonferroni over the horizons: one claim, several looks.
        alpha = 0.05 / k
        agree = [h for h in hs if h["pvalue"] < alpha and (h["excess_mean"] > 0) == up]
        oppose = [h for h in hs if h["pvalue"] < alpha and (h["excess_mean"] > 0) != up]
        if ev["n_events"] < p.min_events:
            verdict = Verdict.inconclusive
        elif agree and not oppose:
            verdict = Verdict.supported
        elif oppose or not agree:
            verdict = Verdict.not_supported
        else:
            verdict = Verdict.inconclusive
        pvalue = min(1.0, min(h["pvalue"] for h in hs) * k) if hs else None
        numbers = [
            Number(
                f"{p.target} excess return {h['horizon']} days after (95% CI)",
                f"{pct(h['excess_mean'])} [{pct(h['ci_low'])}, {pct(h['ci_high'])}], p "
                f"{h['pvalue']:.2f}",
                h["excess_mean"],
            )
            for h in hs
        ]
        numbers.insert(
            0, Number("events", f"{ev['n_events']} ({ev['description']})", float(ev["n_events"]))
        )
        last = ev["event_dates"][-1] if ev["event_dates"] else None
        forecasts = []
        if last is not None and hs:
            # An event within the longest horizon of the as-of date is live: its evidence
            # speaks about the target's next days.
            index = fits.levels(ctx, (p.target,)).index
            bars_since = int((index > pd.Timestamp(last)).sum())
            if bars_since < max(p.horizons):
                sig = agree or oppose
                direction = 0 if not sig else (1 if sig[0]["excess_mean"] > 0 else -1)
                forecasts.append(
                    Forecast(
                        p.target,
                        max(1, min(p.horizons) - bars_since),
                        max(p.horizons) - bars_since,
                        p.direction,
                        direction,
                        f"last event {last} ({bars_since} bars ago); excess "
                        + ", ".join(
                            f"{h['horizon']}d {pct(h['excess_mean'])} (p {h['pvalue']:.2f})"
                            for h in hs
                        ),
                    )
                )
        return ClaimOutcome(
            verdict=verdict,
            numbers=numbers,
            explanation=(
                f"{ev['n_events']} events from {ev['sample_start']} to {ev['sample_end']} "
                f"({ev['description']}; the last on {last}). {p.target}'s forward returns "
                + (
                    f"{'beat' if up else 'trail'} the baseline significantly at "
                    f"{', '.join(str(h['horizon']) for h in agree)} days"
                    if agree
                    else "do not differ significantly from the baseline in the claimed direction"
                )
                + (
                    " and move against the claim at "
                    f"{', '.join(str(h['horizon']) for h in oppose)} days"
                    if oppose
                    else ""
                )
                + f" (each horizon at 5%/{k}, Bonferroni)."
            ),
            rule=f"with at least {p.min_events} events: supported if the excess return is "
            f"{'positive' if up else 'negative'} and significant at some horizon (5% over "
            f"{k} horizons, Bonferroni) and never significant the other way; not supported "
            "otherwise; fewer events: inconclusive",
            charts=[
                event_chart(
                    ev, f"{p.target} after {ev['trigger']}: average path vs baseline (log return)"
                )
            ],
            pvalue=pvalue,
            test="zero excess return at every horizon (stationary bootstrap, Bonferroni min-p)",
            forecasts=forecasts,
        )


KIND = EventStudy()
