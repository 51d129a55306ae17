"""``havenflow regime``: the phase of the cycle, by rules and by Markov switching."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from havenflow.cli._common import (
    AsJson,
    AsOf,
    announce,
    console,
    iso,
    print_json,
    progress,
    resolve_asof,
    say,
    state,
)


def regime(
    ctx: typer.Context,
    window: Annotated[
        int, typer.Option(help="Bars for changes and relative returns.", min=2, max=5000)
    ] = 63,
    confirm: Annotated[
        int, typer.Option(help="Bars over which phase scores are averaged.", min=1, max=5000)
    ] = 21,
    markov: Annotated[
        bool, typer.Option("--markov/--no-markov", help="Also fit the Markov-switching model.")
    ] = True,
    history: Annotated[
        bool,
        typer.Option(
            help="Print the timeline of phases and the HMM's point-in-time weeks (JSON: "
            "markov.history)."
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the EM start jitter.", min=0)] = 0,
    asof: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Which phase of the cycle is it? Rules with evidence, Markov probabilities (claim C8)."""
    from havenflow.analytics.regime import OPTIONAL, PHASE_NAMES
    from havenflow.services import PHASE_SERIES, run_regime

    repo = state(ctx).repository()
    needed = [s for s in PHASE_SERIES if s not in OPTIONAL]
    choice = resolve_asof(repo, needed, asof, context=PHASE_SERIES)
    with progress(
        "phases" + (" and the Markov-switching fit" if markov else ""), enabled=not as_json
    ):
        out = run_regime(
            repo, iso(choice), window=window, confirm=confirm, markov=markov, seed=seed
        )
    announce(choice, asof)
    payload = out.to_dict(history=history)
    if as_json:
        print_json(payload)
        return
    say(out.rules.summary().text)
    if out.markov is not None:
        say(out.markov.summary().text)
    elif markov:
        say(f"Markov switching not fitted: {out.markov_error}")
    table = Table(title="What followed each phase (completed spells)")
    for col in ["from", "spells", "-> 1", "-> 2", "-> 3", "-> 4", "median bars"]:
        table.add_column(col, justify="right")
    for row in payload["transitions"]:
        med = row["median_bars_before_switch"]
        table.add_row(
            f"{row['from_phase']} {PHASE_NAMES[row['from_phase']]}",
            str(row["completed"]),
            *(str(row[f"to_{k}"]) for k in (1, 2, 3, 4)),
            "—" if med is None else f"{med:.0f}",
        )
    console.print(table)
    if history:
        say("Rules, trading days:")
        for spell in payload["timeline"]:
            say(
                f"{spell['start']} .. {spell['end']}  {spell['phase']} "
                f"{PHASE_NAMES[spell['phase']]} ({spell['bars']} bars)"
            )
        if out.markov is not None:
            say(
                "Markov switching, most likely phase, point-in-time (none before "
                f"{payload['markov']['first_probability']}):"
            )
            for _, sp in out.markov.spells().iterrows():
                weeks = int(sp["weeks"])
                say(
                    f"{sp['start'].date()} .. {sp['end'].date()}  {sp['phase']} "
                    f"{PHASE_NAMES[int(sp['phase'])]} ({weeks} week{'s' if weeks != 1 else ''})"
                )
