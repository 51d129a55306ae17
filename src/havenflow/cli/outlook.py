"""``havenflow outlook``: forward-return odds with a walk-forward record."""

from __future__ import annotations

from typing import Annotated

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


def outlook(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="The series to forecast.")] = "bitcoin",
    horizons: Annotated[str, typer.Option(help="Horizons in trading days.")] = "21,63,126",
    k: Annotated[
        int, typer.Option("--analogues", help="Nearest past weeks used.", min=1, max=10_000)
    ] = 30,
    asof: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Where could TARGET head? Forward-return odds with walk-forward skill (claim C11)."""
    from havenflow.analytics.regime import OPTIONAL
    from havenflow.services import PHASE_SERIES, run_outlook

    hs = horizon_list(horizons)
    repo = state(ctx).repository()
    needed = [*(s for s in PHASE_SERIES if s not in OPTIONAL), "bitcoin", target]
    choice = resolve_asof(repo, needed, asof)
    with progress(f"outlook of {target}: walk-forward fits", enabled=not as_json):
        result = run_outlook(repo, target, iso(choice), horizons=hs, k_analogues=k)
    announce(choice, asof)
    if as_json:
        print_json(result.to_dict())
        return
    say(result.summary().text)
    say(
        "returns: simple returns in % (the model works on log returns; medians and bands are "
        "converted)",
        dim=True,
    )
