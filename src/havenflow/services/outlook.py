"""The conditional outlook with its walk-forward record."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from havenflow.data.repository import DataRepository
from havenflow.exceptions import (
    DataValidationError,
)
from havenflow.services._load import _aligned_levels, _has_data
from havenflow.universe import (
    PHASE_SERIES,
)

if TYPE_CHECKING:
    from havenflow.analytics.outlook import OutlookResult
    from havenflow.analytics.regime import PhaseResult

# ---- outlook -----------------------------------------------------------------------------------


def outlook_ids(
    repo: DataRepository, target: str, asof: str | pd.Timestamp | None = None
) -> list[str]:
    """The series the outlook of ``target`` aligns (its trading days are their common sessions)."""
    from havenflow.analytics.regime import OPTIONAL

    ids = [sid for sid in PHASE_SERIES if sid not in OPTIONAL or _has_data(repo, sid, asof)]
    return list(dict.fromkeys([*ids, target]))


def run_outlook(
    repo: DataRepository,
    target: str = "bitcoin",
    asof: str | pd.Timestamp | None = None,
    *,
    horizons: tuple[int, ...] = (21, 63, 126),
    k_analogues: int = 30,
    rules: PhaseResult | None = None,
) -> OutlookResult:
    """Conditional outlook of ``target`` with its walk-forward record (claim C11).

    ``rules``: the phases already classified on the same date (the report passes the regime
    claim's), so they are not fitted twice; they must cover the same trading days.
    """
    from havenflow.analytics.outlook import ConditionalOutlook, OutlookSpec

    ids = outlook_ids(repo, target, asof)
    levels, specs, _ = _aligned_levels(repo, ids, "B", asof)
    if specs[target].is_differenced:
        raise DataValidationError(f"{target} is a {specs[target].kind}: the outlook needs a price")
    if "bitcoin" not in levels:
        raise DataValidationError("the outlook's state needs bitcoin (the divergence)")
    spec = OutlookSpec(horizons=horizons, k_analogues=k_analogues)
    if rules is not None and (
        rules.phase.index[-1] != levels.index[-1] or not rules.phase.index.isin(levels.index).all()
    ):
        raise DataValidationError("the phases given to the outlook end on another date")
    return ConditionalOutlook.from_levels(levels, target, spec, rules=rules).fit()
