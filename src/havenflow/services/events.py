"""Event studies after a trigger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from havenflow.data.repository import DataRepository
from havenflow.exceptions import (
    DataValidationError,
)
from havenflow.services._load import _aligned_levels
from havenflow.services.regime import run_regime

if TYPE_CHECKING:
    from havenflow.analytics.events import EventStudyResult

# ---- event studies --------------------------------------------------------------------------


def run_events(
    repo: DataRepository,
    trigger: str,
    target: str = "bitcoin",
    *,
    horizons: tuple[int, ...] | None = None,
    asof: str | None = None,
    min_gap: int = 21,
    replicates: int = 999,
    seed: int | None = 0,
) -> EventStudyResult:
    """Event study of ``target`` after ``trigger`` on the trading-day calendar, point-in-time."""
    from havenflow.analytics.events import EventStudy, parse_trigger

    parsed = parse_trigger(trigger)
    ids = list(dict.fromkeys([*parsed.series, target]))
    levels, specs, _ = _aligned_levels(repo, ids, "B", asof)
    if parsed.kind == "phase":
        # The phase of every date, from indicators known on that date (rule-based).
        phases = run_regime(repo, asof, markov=False).rules.phase
        levels = levels.join(phases.astype("float").rename("phase"), how="left")
    for sid in ids:
        if specs[sid].is_differenced:
            raise DataValidationError(
                f"{sid} is a {specs[sid].kind}: triggers and targets are prices"
            )
    study = EventStudy.from_trigger(levels, parsed, target, horizons, min_gap)
    return study.fit(replicates, seed=seed)
