"""``havenflow check NOTE``: judge any note; ``report``: the seed note; ``kinds``: the kinds."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from havenflow.cli._common import (
    AsOf,
    ReportFormat,
    console,
    err_console,
    progress,
    state,
)

OutOption = Annotated[
    Path | None, typer.Option(help="Output file ('-' for stdout); default report.<format>.")
]
FormatOption = Annotated[ReportFormat, typer.Option("--format", help="HTML, Markdown or JSON.")]
SeedOption = Annotated[int, typer.Option(help="Seed of every bootstrap.", min=0)]
ReplicatesOption = Annotated[int, typer.Option(help="Bootstrap replicates.", min=19, max=1_000_000)]
SensitivityOption = Annotated[
    bool,
    typer.Option(
        "--sensitivity/--no-sensitivity",
        help="Re-judge each claim under alternative parameters (robust or fragile).",
    ),
]


BacktestOption = Annotated[
    bool,
    typer.Option(
        "--backtest/--no-backtest",
        help="Backtest the note's [strategy] (if it has one) up to the as-of date, against "
        "buy-and-hold Bitcoin, gold, 60/40 and equal weight.",
    ),
]
HindsightOption = Annotated[
    bool,
    typer.Option(
        "--hindsight/--no-hindsight",
        help="Where the data runs past the as-of date, score the forward-looking claims "
        "against what followed (never changes a verdict).",
    ),
]
HistoryOption = Annotated[
    str | None,
    typer.Option(
        help="Also judge the note at every step from START to END (START..END, ISO dates): a "
        "verdict timeline, each step equal to `check --asof` that date, with the tool's track "
        "record.",
    ),
]


class Step(StrEnum):
    """Timeline steps."""

    W = "W"
    M = "M"
    Q = "Q"


StepOption = Annotated[
    Step, typer.Option(help="Timeline step: W (Fridays), M (month ends), Q (quarter ends).")
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        help="Worker processes for the timeline's steps (default: 2 where there are 2 cores).",
        min=1,
        max=64,
    ),
]


def _write(
    ctx: typer.Context,
    note: str,
    out: Path | None,
    how: ReportFormat,
    seed: int,
    replicates: int,
    asof: str | None,
    sensitivity: bool,
    history: str | None = None,
    step: Step = Step.M,
    workers: int | None = None,
    hindsight: bool = True,
    backtest: bool = True,
) -> None:
    from havenflow.claims import resolve_note
    from havenflow.report import (
        ReportOptions,
        build_report,
        render_html,
        render_markdown,
        summary_box,
    )

    parsed = resolve_note(note)  # a malformed note fails here, before any data is read
    repo = state(ctx).repository()
    to_stdout = out is not None and str(out) == "-"
    what = f"judging {len(parsed.claims)} claims of {parsed.path}" + (
        f", and at every {step.value} step of {history}" if history else ""
    )
    with progress(what, enabled=not to_stdout):
        payload = build_report(
            repo,
            ReportOptions(
                asof=asof,
                seed=seed,
                replicates=replicates,
                note=note,
                sensitivity=sensitivity,
                hindsight=hindsight,
                backtest=backtest,
                history=history,
                step=step.value,
                workers=workers if workers is not None else min(2, os.cpu_count() or 1),
            ),
        )
        if how is ReportFormat.json:
            text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
        elif how is ReportFormat.md:
            text = render_markdown(payload)
        else:
            text = render_html(payload)
    if asof is None:
        err_console.print(
            f"as of {payload['asof']}: {payload['asof_reason']}", highlight=False, soft_wrap=True
        )
    if to_stdout:
        sys.stdout.write(text)
        return
    target = out if out is not None else Path(f"report.{how.value}")
    target.write_text(text, encoding="utf-8")
    console.print(summary_box(payload), highlight=False, soft_wrap=True)
    for line in payload["bottom_line"]["text"]:
        console.print(f"- {line}", highlight=False, soft_wrap=True)
    later = payload.get("hindsight_info") or {}
    tallies = later.get("tallies") or []
    if tallies:
        console.print(f"What happened next (data to {later['end']}):", highlight=False)
        for line in tallies:
            console.print(f"- {line}", highlight=False, soft_wrap=True)
    record = (payload.get("timeline_info") or {}).get("track_record") or {}
    for entry in (record.get("claims") or {}).values():
        console.print(f"- track record: {entry['text']}", highlight=False, soft_wrap=True)
    bt = payload.get("backtest") or {}
    if bt.get("error"):
        console.print(f"- backtest of {bt['name']}: not run ({bt['error']})", highlight=False)
    elif bt:
        m, sweep = bt["metrics"], bt.get("sweep") or {}
        deflated = (
            f", deflated Sharpe {bt['deflated_sharpe']:.2f} for the {sweep['n_trials']} "
            f"configurations of its sweep, PBO {sweep['pbo']:.2f}"
            if sweep and bt.get("deflated_sharpe") is not None
            else ""
        )
        console.print(
            f"- backtest of {bt['name']} {bt['strategy']['start']}..{bt['strategy']['end']}: "
            f"CAGR {m['cagr']:+.1%}, Sharpe {m['sharpe']:.2f}, max drawdown "
            f"{m['max_drawdown']:.1%}{deflated}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"wrote {target} ({len(text.encode()) / 1e6:.1f} MB)", highlight=False)


def check(
    ctx: typer.Context,
    note: Annotated[
        str,
        typer.Argument(
            help="A note file (TOML) or a bundled note's name (havenflow kinds --notes)."
        ),
    ],
    out: OutOption = None,
    how: FormatOption = ReportFormat.html,
    seed: SeedOption = 0,
    replicates: ReplicatesOption = 999,
    sensitivity: SensitivityOption = True,
    asof: AsOf = None,
    hindsight: HindsightOption = True,
    history: HistoryOption = None,
    step: StepOption = Step.M,
    workers: WorkersOption = None,
    backtest: BacktestOption = True,
) -> None:
    """Judge every claim of a note: verdicts, numbers, charts, sensitivity and a bottom line.

    With no --asof the note is judged on its date, or on the last date its series share if
    that is earlier; a claim with ``on = "..."`` is judged on that date. Where the data runs
    past that date, "what happened next" scores its forward-looking claims. --history adds a
    verdict timeline and the tool's own track record.
    """
    _write(
        ctx,
        note,
        out,
        how,
        seed,
        replicates,
        asof,
        sensitivity,
        history,
        step,
        workers,
        hindsight,
        backtest,
    )


def report(
    ctx: typer.Context,
    out: OutOption = None,
    how: FormatOption = ReportFormat.html,
    seed: SeedOption = 0,
    replicates: ReplicatesOption = 999,
    sensitivity: SensitivityOption = True,
    asof: AsOf = None,
    backtest: BacktestOption = True,
) -> None:
    """Answer every claim C1-C11 of the seed note (``check silver-bitcoin-2026-01``)."""
    from havenflow.report import SEED_NOTE

    _write(ctx, SEED_NOTE, out, how, seed, replicates, asof, sensitivity, backtest=backtest)


def kinds(
    notes: Annotated[bool, typer.Option("--notes", help="List the bundled notes instead.")] = False,
) -> None:
    """List the claim kinds a note may use, with their parameters (or the bundled notes)."""
    from rich.table import Table

    from havenflow.claims import KINDS, bundled_notes, parse_note

    if notes:
        table = Table("note", "title", "date", "claims")
        for name, text in bundled_notes().items():
            n = parse_note(text, name)
            table.add_row(name, n.title, n.date.date().isoformat(), str(len(n.claims)))
        console.print(table)
        return
    table = Table("kind", "what it tests", "parameters (default)")
    for name, kind in KINDS.items():
        params = []
        for field, info in kind.params.model_fields.items():
            shown = "required" if info.is_required() else repr(info.default)
            params.append(f"{field}={shown}")
        table.add_row(name, kind.summary, ", ".join(params))
    console.print(table)
