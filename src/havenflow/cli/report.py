"""``havenflow report``: every claim C1-C11 with numbers, charts and a verdict."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from havenflow.cli._common import (
    AsOf,
    ReportFormat,
    announce,
    console,
    iso,
    progress,
    resolve_asof,
    state,
)


def report(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option(help="Output file ('-' for stdout); default report.<format>.")
    ] = None,
    how: Annotated[
        ReportFormat, typer.Option("--format", help="HTML, Markdown or JSON.")
    ] = ReportFormat.html,
    seed: Annotated[int, typer.Option(help="Seed of every bootstrap.", min=0)] = 0,
    replicates: Annotated[
        int, typer.Option(help="Bootstrap replicates.", min=19, max=1_000_000)
    ] = 999,
    asof: AsOf = None,
) -> None:
    """Answer every claim C1-C11 with numbers, charts and a verdict (HTML, Markdown or JSON)."""
    from havenflow.report import (
        ReportOptions,
        build_report,
        render_html,
        render_markdown,
        summary_box,
    )
    from havenflow.services import CORE_IDS, SNAPSHOT_IDS

    repo = state(ctx).repository()
    choice = resolve_asof(repo, CORE_IDS, asof, context=SNAPSHOT_IDS)
    to_stdout = out is not None and str(out) == "-"
    with progress(f"building the report as of {iso(choice)}", enabled=not to_stdout):
        payload = build_report(
            repo, ReportOptions(asof=iso(choice), seed=seed, replicates=replicates)
        )
        if how is ReportFormat.json:
            text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
        elif how is ReportFormat.md:
            text = render_markdown(payload)
        else:
            text = render_html(payload)
    announce(choice, asof)
    if to_stdout:
        sys.stdout.write(text)
        return
    target = out if out is not None else Path(f"report.{how.value}")
    target.write_text(text, encoding="utf-8")
    console.print(summary_box(payload), highlight=False, soft_wrap=True)
    console.print(f"wrote {target} ({len(text.encode()) / 1e6:.1f} MB)", highlight=False)
