"""``phase``: the cycle is in a given phase (on the claim's date)."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from havenflow.claims import fits
from havenflow.claims.base import ClaimKind, ClaimOutcome, Context, KindParams, Number, Verdict
from havenflow.universe import PHASE_SERIES


class PhaseParams(KindParams):
    """Parameters of a ``phase`` claim.

    The cycle is in ``phase`` (1 safety first, 2 debasement, 3 risk-on, 4 tightening) by the
    rules and by the point-in-time Markov-switching model. Date it with the claim's ``on``.
    """

    phase: Literal[1, 2, 3, 4]


class Phase(ClaimKind[PhaseParams]):
    """The ``phase`` kind (see :class:`PhaseParams`)."""

    name = "phase"
    params = PhaseParams
    summary = "the cycle is in a given phase (rules and a point-in-time Markov model)"

    def needs(self, p: PhaseParams) -> list[str]:
        from havenflow.analytics.regime import OPTIONAL

        return [s for s in PHASE_SERIES if s not in OPTIONAL]

    def methods(self, p: PhaseParams) -> str:
        return (
            "Rule-based scores over 63-bar indicators, 21-bar hysteresis, acute stress (VIX "
            "above its 3-year 90th percentile, S&P 500 5% off its high) forcing phase 1; "
            "four-regime Gaussian HMM re-estimated at every month end on an expanding window, "
            "filtered point-in-time probabilities only; agreement measured out of sample."
        )

    def hindsight(
        self, ctx: Context, p: PhaseParams, outcome: ClaimOutcome, later: Any
    ) -> list[Any]:
        """The phases that followed, each classified on its own date (rules, point-in-time)."""
        from havenflow.claims.hindsight import HORIZON_UNIT, HindsightRow

        phases = (
            fits.regime(later.at(later.end(self.needs(p))), markov=False)
            .rules.phase.dropna()
            .astype(int)
        )
        after = phases.loc[phases.index > ctx.asof]
        if after.empty:
            return []
        rows = []
        for bars in (21, 63, 126):
            complete = len(after) >= bars
            at = after.iloc[:bars]
            shares = at.value_counts(normalize=True).sort_index()
            out_of = at[at != p.phase]
            end = pd.Timestamp(at.index[-1]).date().isoformat()
            rows.append(
                HindsightRow(
                    claim="",
                    kind=self.name,
                    label=f"phases over the next {bars} trading days",
                    asset=None,
                    horizon=bars,
                    horizon_unit=HORIZON_UNIT,
                    start_date=ctx.day,
                    end_date=end if complete else None,
                    through=end,
                    status="complete" if complete else "pending",
                    realised=None,
                    expected=None,
                    claimed=None,
                    held=None,
                    scores={
                        "share_in_phase": float(shares.get(p.phase, 0.0)),
                        "phase_at_end": int(at.iloc[-1]),
                        "shares": {str(k): float(v) for k, v in shares.items()},
                        "first_left": None
                        if out_of.empty
                        else pd.Timestamp(out_of.index[0]).date().isoformat(),
                    },
                    text=f"over the next {bars} trading days (to {end}"
                    + ("" if complete else ", pending")
                    + "), by the rules on each day: "
                    + ", ".join(f"phase {k} on {v:.0%} of days" for k, v in shares.items())
                    + (
                        f"; it first left phase {p.phase} on {pd.Timestamp(out_of.index[0]).date()}"
                        if not out_of.empty
                        else ""
                    )
                    + f"; phase {int(at.iloc[-1])} at the end",
                )
            )
        return rows

    def judge(self, ctx: Context, p: PhaseParams) -> ClaimOutcome:
        from havenflow.analytics.regime import PHASE_NAMES

        outcome = fits.regime(ctx)
        regime = outcome.to_dict()
        phase = regime["phase"]
        probs = regime.get("probabilities") or {}
        hmm_phase = max(probs, key=lambda k: probs[k]) if probs else None
        rules_ok = phase == p.phase
        hmm_ok = hmm_phase == str(p.phase)
        verdict = (
            Verdict.supported
            if rules_ok and hmm_ok
            else Verdict.inconclusive
            if rules_ok or hmm_ok
            else Verdict.not_supported
        )
        trans = {t["from_phase"]: t for t in regime["transitions"]}
        tp = trans[p.phase]
        met = [e["condition"] for e in regime["evidence"] if e["phase"] == phase and e["met"]]
        mk = regime["markov"]
        agree = mk.get("agreement_with_rules_out_of_sample")
        if probs and hmm_phase:
            markov_text = (
                f"gives phase {hmm_phase} the highest probability ({probs[hmm_phase]:.2f}) for "
                f"the week of {mk['asof']}. Out of sample (point-in-time probabilities only, "
                f"{mk['agreement_weeks']} weeks from {mk['first_probability']}) its most likely "
                f"phase is the rules' phase on {100 * agree:.0f}% of weeks "
                f"({100 * mk['agreement_by_chance']:.0f}% expected by chance)."
            )
        else:
            markov_text = f"could not be fitted ({regime['markov'].get('error', 'no data')})."
        stress = [
            f"{e['episode']}: phase {e['rules_phase']} on {100 * e['rules_share']:.0f}% of weeks"
            for e in regime.get("episodes", [])
            if e["sensible"] == [1] and e["weeks"]
        ]
        others = [k for k in (1, 2, 3, 4) if k != p.phase]
        weekly = _weekly(fits.levels(ctx, ("silver", "gold", "bitcoin")))
        return ClaimOutcome(
            verdict=verdict,
            numbers=[
                Number(
                    "phase by the rules (since)",
                    f"{phase} {PHASE_NAMES[phase]} (since {regime['phase_since']})",
                    float(phase),
                ),
                Number(
                    f"Markov-switching filtered P(phase {p.phase}), point-in-time",
                    "n/a" if not probs else f"{probs[str(p.phase)]:.2f}",
                    probs.get(str(p.phase)),
                ),
                Number(
                    "Markov vs rules, same phase out of sample (weeks)",
                    "n/a" if agree is None else f"{100 * agree:.0f}% ({mk['agreement_weeks']})",
                    agree,
                ),
                Number(
                    f"what followed phase {p.phase} (completed spells)",
                    ", ".join(f"→{k}: {tp[f'to_{k}']}" for k in others)
                    + f"; median {tp['median_bars_before_switch'] or 0:.0f} bars",
                    float(tp["completed"]),
                ),
            ],
            explanation=(
                f"On {regime['asof']} the rules put the cycle in phase {phase} "
                f"({PHASE_NAMES[phase]}), smoothed scores "
                + ", ".join(f"{k}: {v:.2f}" for k, v in regime["smoothed_scores"].items())
                + f". Conditions met for it: {'; '.join(met) if met else 'none'}. The "
                "Markov-switching model (re-estimated at every month end on the data known then, "
                "filtered probabilities only) "
                + markov_text
                + (
                    " Known stress episodes (phase 1 expected) by the rules: "
                    + "; ".join(stress)
                    + "."
                    if stress
                    else ""
                )
                + f" Since {regime['timeline'][0]['start'][:4]}, phase {p.phase} ended "
                f"{tp['completed']} times: "
                + ", ".join(f"{tp[f'to_{k}']} times in phase {k}" for k in others)
                + "."
            ),
            rule=f"supported: the rules and the Markov model both say phase {p.phase}; "
            "inconclusive: one of them; not supported: neither",
            charts=[
                {
                    "kind": "phases",
                    "title": "Phases (rules) behind silver, gold and Bitcoin (weekly, log scale)",
                    "spells": regime["timeline"],
                    **weekly,
                }
            ],
        )


def _weekly(levels: Any, start: str = "2006-01-01") -> dict[str, Any]:
    """Weekly closes for the chart (a partial last week keeps the date of its last bar)."""
    from havenflow.data.align import last_bar_of_week

    frame = last_bar_of_week(levels).loc[start:]
    return {
        "dates": [d.date().isoformat() for d in frame.index],
        "series": {str(c): frame[c].tolist() for c in frame.columns},
    }


KIND = Phase()
