"""The registry of claim kinds: ``kind = "..."`` in a note names one of these."""

from __future__ import annotations

from typing import Any

from havenflow.claims.base import ClaimKind
from havenflow.claims.kinds import (
    all_time_high,
    best_performer,
    divergence,
    drivers,
    event_study,
    implied_move,
    leadlag,
    outlook,
    phase,
    safe_haven,
    series,
    stress_correlation,
)

__all__ = ["KINDS", "get_kind", "register"]

KINDS: dict[str, ClaimKind[Any]] = {}


def register(kind: ClaimKind[Any]) -> ClaimKind[Any]:
    """Add a kind (a plug-in may register its own); its name must be new."""
    if kind.name in KINDS:
        raise ValueError(f"claim kind {kind.name!r} is already registered")
    KINDS[kind.name] = kind
    return kind


for _module in (
    all_time_high,
    best_performer,
    divergence,
    drivers,
    safe_haven,
    stress_correlation,
    phase,
    leadlag,
    event_study,
    outlook,
    implied_move,
    series,
):
    register(_module.KIND)


def get_kind(name: str) -> ClaimKind[Any]:
    """The registered kind called ``name``.

    Raises
    ------
    KeyError
        With the list of registered kinds.
    """
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown kind {name!r} (kinds: {', '.join(sorted(KINDS))})") from None
