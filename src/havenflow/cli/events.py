"""``havenflow events``: the forward returns of a target after a trigger."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from havenflow.cli._common import (
    AsJson,
    AsOf,
    announce,
    horizon_list,
    iso,
    print_json,
    progress,
    resolve_asof,
    say,
    state,
)


def _points(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:+.1f}"


def events(
    ctx: typer.Context,
    trigger: Annotated[
        str, typer.Option(help="silver:ath, silver:high(252), silver:ret(63)>0.2, a/b:ret(63)>0.3")
    ] = "silver:high(252)",
    target: Annotated[str, typer.Option(help="The series whose forward returns are studied.")] = (
        "bitcoin"
    ),
    horizons: Annotated[str, typer.Option(help="Forward horizons in trading days.")] = (
        "5,10,21,42,63,126"
    ),
    min_gap: Annotated[int, typer.Option(help="Minimum bars between two events.", min=0)] = 21,
    replicates: Annotated[
        int, typer.Option(help="Bootstrap replicates.", min=1, max=1_000_000)
    ] = 999,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.", min=0)] = 0,
    asof: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """What did TARGET do after TRIGGER? Forward log returns vs baseline (claim C10)."""
    from havenflow.analytics.events import parse_trigger
    from havenflow.analytics.regime import OPTIONAL
    from havenflow.services import PHASE_SERIES, run_events

    hs = horizon_list(horizons)
    parsed = parse_trigger(trigger)
    needed = [*parsed.series, target]
    if parsed.kind == "phase":
        needed += [s for s in PHASE_SERIES if s not in OPTIONAL]
    repo = state(ctx).repository()
    choice = resolve_asof(repo, needed, asof)
    with progress(f"event study of {target} after {trigger}", enabled=not as_json):
        result = run_events(
            repo,
            trigger,
            target,
            horizons=hs,
            asof=iso(choice),
            min_gap=min_gap,
            replicates=replicates,
            seed=seed,
        )
    announce(choice, asof)
    if as_json:
        print_json(result.to_dict())
        return
    doc: dict[str, Any] = result.to_dict()
    say(
        f"Event study: {doc['target']} after '{doc['trigger']}' ({doc['description']}); "
        f"{doc['n_events']} events {doc['sample_start']}..{doc['sample_end']}"
    )
    say("forward returns are log returns, in log points (100 x log change)", dim=True)
    for h in doc["horizons"]:
        p = h["pvalue"]
        hit = h["hit_rate"]
        say(
            f"  {h['horizon']:>4} bars: n={h['n']:<3} mean {_points(h['mean'])} vs baseline "
            f"{_points(h['baseline_mean'])}, excess {_points(h['excess_mean'])} "
            f"[{_points(h['ci_low'])}, {_points(h['ci_high'])}] log points, "
            f"p={'—' if p is None else f'{p:.3f}'} "
            f"hit {'—' if hit is None else f'{100 * hit:.0f}%'} -> {h['verdict']}"
        )
