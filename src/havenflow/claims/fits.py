"""The service calls the kinds make, memoised per note: each load and each fit runs once.

Every key carries the as-of date and every argument, so a dated claim and the sensitivity
block share fits only where they are the same fit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from havenflow.claims.base import Context

if TYPE_CHECKING:
    from havenflow.analytics.divergence import DivergenceResult
    from havenflow.analytics.events import EventStudyResult
    from havenflow.analytics.outlook import OutlookResult
    from havenflow.analytics.performance import Snapshot
    from havenflow.services import LeadLagRequest, LeadLagResult, RegimeOutcome
    from havenflow.services.market import DriversOutcome, SafeHavenOutcome

__all__ = [
    "divergence",
    "drivers",
    "events",
    "leadlag",
    "levels",
    "outlook",
    "regime",
    "safehaven",
    "snapshot",
]


def snapshot(ctx: Context, ids: tuple[str, ...]) -> Snapshot:
    """Performance snapshot of ``ids`` as of the context's date."""
    from havenflow.services import run_snapshot

    return ctx.memo(("snapshot", ids, ctx.day), lambda: run_snapshot(ctx.repo, list(ids), ctx.day))  # type: ignore[no-any-return]


def levels(ctx: Context, ids: tuple[str, ...], calendar: str = "B") -> pd.DataFrame:
    """Levels of ``ids`` aligned on ``calendar``, known by the context's date."""
    from havenflow.services import _aligned_levels

    def compute() -> pd.DataFrame:
        frame, _, _ = _aligned_levels(ctx.repo, list(ids), calendar, ctx.day)
        return frame

    return ctx.memo(("levels", ids, calendar, ctx.day), compute)  # type: ignore[no-any-return]


def regime(ctx: Context, markov: bool = True) -> RegimeOutcome:
    """The phases (rules and, with ``markov``, the point-in-time HMM)."""
    from havenflow.services import run_regime

    key = ("regime", markov, ctx.seed, ctx.day)
    return ctx.memo(key, lambda: run_regime(ctx.repo, ctx.day, seed=ctx.seed, markov=markov))  # type: ignore[no-any-return]


def safehaven(
    ctx: Context,
    assets: tuple[str, ...],
    partners: tuple[str, ...] = (),
    target: str | None = None,
    years: float | None = None,
) -> SafeHavenOutcome:
    """Safe-haven regressions of ``assets``; ``target``'s stress correlations with ``partners``."""
    from havenflow.services import run_safehaven

    key = ("safehaven", assets, partners, target, years, ctx.seed, ctx.day)
    return ctx.memo(  # type: ignore[no-any-return]
        key,
        lambda: run_safehaven(
            ctx.repo,
            ctx.day,
            ctx.seed,
            assets=assets,
            target=target,
            partners=partners,
            years=years,
        ),
    )


def drivers(
    ctx: Context, asset: str, window: str, implied_by: str | None = None, years: float = 3.0
) -> DriversOutcome:
    """Driver regression of ``asset``, attribution over ``window``, optional implied move."""
    from havenflow.services import run_drivers

    key = ("drivers", asset, window, implied_by, years, ctx.day)
    return ctx.memo(  # type: ignore[no-any-return]
        key,
        lambda: run_drivers(
            ctx.repo, asset, asof=ctx.day, window=window, implied_by=implied_by, years=years
        ),
    )


def divergence(ctx: Context, a: str, b: str) -> DivergenceResult:
    """Divergence of ``a`` against ``b``."""
    from havenflow.services import run_divergence

    return ctx.memo(("divergence", a, b, ctx.day), lambda: run_divergence(ctx.repo, a, b, ctx.day))  # type: ignore[no-any-return]


def leadlag(ctx: Context, req: LeadLagRequest) -> LeadLagResult:
    """A lead-lag analysis (the request carries the date, seed and replicates)."""
    from havenflow.services import run_leadlag

    return ctx.memo(("leadlag", req), lambda: run_leadlag(ctx.repo, req))  # type: ignore[no-any-return]


def events(
    ctx: Context, trigger: str, target: str, horizons: tuple[int, ...] | None, min_gap: int = 21
) -> EventStudyResult:
    """Event study of ``target`` after ``trigger``."""
    from havenflow.services import run_events

    key = ("events", trigger, target, horizons, min_gap, ctx.replicates, ctx.seed, ctx.day)
    return ctx.memo(  # type: ignore[no-any-return]
        key,
        lambda: run_events(
            ctx.repo,
            trigger,
            target,
            horizons=horizons,
            asof=ctx.day,
            min_gap=min_gap,
            replicates=ctx.replicates,
            seed=ctx.seed,
        ),
    )


def outlook(ctx: Context, asset: str, horizons: tuple[int, ...]) -> OutlookResult:
    """Conditional outlook of ``asset`` with its walk-forward record."""
    from havenflow.services import run_outlook

    def compute() -> Any:
        rules = regime(ctx).rules
        return run_outlook(ctx.repo, asset, ctx.day, horizons=horizons, rules=rules)

    return ctx.memo(("outlook", asset, horizons, ctx.day), compute)  # type: ignore[no-any-return]
