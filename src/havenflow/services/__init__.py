"""Load, align and transform series from a repository, then run an analysis.

The glue between the data layer and the pure analytics, shared by the CLI, the report and the
dashboard so that each one computes a number the same way: load -> align -> fit, nothing else.
Every function takes an ``asof``: only values known on or before it are used. One module per
family; the id lists and frequency tables live in :mod:`havenflow.universe`.
"""

from __future__ import annotations

from havenflow.services._load import _aligned_levels, _has_data, aligned_moves
from havenflow.services.asof import CommonAsOf, common_asof, resolve_asof
from havenflow.services.events import run_events
from havenflow.services.leadlag import (
    LeadLagRequest,
    LeadLagResult,
    PairScan,
    run_leadlag,
    scan_pairs,
)
from havenflow.services.market import (
    driver_moves,
    run_divergence,
    run_drivers,
    run_safehaven,
    run_snapshot,
)
from havenflow.services.outlook import run_outlook
from havenflow.services.regime import RegimeOutcome, run_regime
from havenflow.universe import (
    BARS_PER_YEAR,
    CORE_IDS,
    DEFAULT_MAX_LAG,
    DEFAULT_VAR_MAX_LAG,
    DRIVER_IDS,
    DRIVER_LABELS,
    LAG_UNITS,
    PHASE_SERIES,
    SNAPSHOT_IDS,
    VAR_IRF_PERIODS,
)

__all__ = [
    "BARS_PER_YEAR",
    "CORE_IDS",
    "DEFAULT_MAX_LAG",
    "DEFAULT_VAR_MAX_LAG",
    "DRIVER_IDS",
    "DRIVER_LABELS",
    "LAG_UNITS",
    "PHASE_SERIES",
    "SNAPSHOT_IDS",
    "VAR_IRF_PERIODS",
    "CommonAsOf",
    "LeadLagRequest",
    "LeadLagResult",
    "PairScan",
    "RegimeOutcome",
    "_aligned_levels",
    "_has_data",
    "aligned_moves",
    "common_asof",
    "driver_moves",
    "resolve_asof",
    "run_divergence",
    "run_drivers",
    "run_events",
    "run_leadlag",
    "run_outlook",
    "run_regime",
    "run_safehaven",
    "run_snapshot",
    "scan_pairs",
]
