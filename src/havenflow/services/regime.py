"""Phases of the cycle: rules and the point-in-time Markov model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from havenflow.data.repository import DataRepository
from havenflow.exceptions import (
    HavenflowError,
)
from havenflow.services._load import _aligned_levels, _has_data
from havenflow.universe import (
    PHASE_SERIES,
)

if TYPE_CHECKING:
    from havenflow.analytics.regime import MarkovPhaseResult, PhaseResult


@dataclass(frozen=True)
class RegimeOutcome:
    """Rule-based phases and (optionally) the point-in-time Markov-switching probabilities."""

    rules: PhaseResult
    markov: MarkovPhaseResult | None
    markov_error: str | None

    def to_dict(self, history: bool = False) -> dict[str, Any]:
        """JSON-ready (``havenflow regime --json``); ``history`` adds every week's HMM row."""
        out: dict[str, Any] = self.rules.to_dict()
        last = self.rules.asof
        if self.markov is not None:
            markov = self.markov.to_dict(history=history)
            out["probabilities"] = markov["probabilities"]
            out["markov"] = markov
            source = markov["asof"]
        else:
            out["probabilities"] = None
            out["markov"] = {"error": self.markov_error}
            source = "—"
        out["probabilities_source"] = (
            "Markov-switching (Gaussian HMM) filtered point-in-time probabilities, week ending "
            + source
        )
        out["rules_asof"] = last.date().isoformat()
        out["episodes"] = self.episodes()
        return out

    def episodes(self) -> list[dict[str, Any]]:
        """Dominant phase of each known episode by the rules and the HMM (shares of weeks)."""
        from havenflow.analytics.regime import episode_table

        rows = []
        for rec in episode_table(self.rules.phase, self.markov).to_dict(orient="records"):
            rows.append(
                {
                    "episode": rec["episode"],
                    "start": rec["start"],
                    "end": rec["end"],
                    "sensible": list(rec["sensible"]),
                    "weeks": int(rec["weeks"]),
                    "rules_phase": rec["rules_phase"],
                    "rules_share": rec["rules_share"],
                    "rules_shares": {str(k): v for k, v in rec["rules_shares"].items()},
                    "hmm_weeks": int(rec["hmm_weeks"]),
                    "hmm_phase": rec["hmm_phase"],
                    "hmm_share": rec["hmm_share"],
                    "hmm_shares": {str(k): v for k, v in rec["hmm_shares"].items()},
                }
            )
        return rows


def run_regime(
    repo: DataRepository,
    asof: str | pd.Timestamp | None = None,
    *,
    window: int = 63,
    confirm: int = 21,
    markov: bool = True,
    seed: int | None = 0,
) -> RegimeOutcome:
    """Phases of the cycle on the trading-day calendar, point-in-time (claim C8).

    The rules classify every trading day from indicators known on that day; the HMM is
    re-estimated at every month end on the weeks known then and filters the following month
    (see :class:`~havenflow.analytics.regime.MarkovPhaseModel`), so every past date's phase
    and probability is what this function returns when run as of that date.
    """
    from havenflow.analytics.regime import (
        OPTIONAL,
        MarkovPhaseModel,
        PhaseClassifier,
        PhaseSpec,
    )

    available = [sid for sid in PHASE_SERIES if sid not in OPTIONAL or _has_data(repo, sid, asof)]
    levels, _, _ = _aligned_levels(repo, available, "B", asof)
    rules = PhaseClassifier(levels, PhaseSpec(window=window, confirm=confirm)).fit()
    model = None
    error = None
    if markov:
        try:
            model = MarkovPhaseModel(rules.indicators, rules.phase).fit(seed=seed)
        except HavenflowError as exc:
            error = str(exc)
    return RegimeOutcome(rules, model, error)
