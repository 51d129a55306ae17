"""``havenflow backtest``: would acting on the note have paid, after costs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from havenflow.cli._common import (
    AsJson,
    Column,
    Format,
    TableFormat,
    console,
    emit_table,
    err_console,
    fmt,
    print_json,
    progress,
    state,
)


class Rebalance(StrEnum):
    """How often a signal is looked at: every session, each week's last, each month's last."""

    D = "D"
    W = "W"
    M = "M"


class Strategy(StrEnum):
    """Built-in strategies (or give a TOML file with --file)."""

    buy_and_hold = "buy_and_hold"
    phase_rotation = "phase_rotation"
    trigger = "trigger"


def backtest(
    ctx: typer.Context,
    strategy: Annotated[
        Strategy | None, typer.Option(help="A built-in strategy (or --file).")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A TOML strategy file (a \\[strategy] table).")
    ] = None,
    asset: Annotated[
        str | None, typer.Option(help="The asset of buy_and_hold and trigger (default bitcoin).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First date (default 2018-01-01).")] = None,
    end: Annotated[
        str | None,
        typer.Option(help="Last date (default: the last date the strategy's assets share)."),
    ] = None,
    cost_bps: Annotated[
        float | None,
        typer.Option(
            help="Commission per unit of weight traded, basis points (default: the strategy "
            "file's cost_bps, else 0).",
            min=0,
            max=1000,
        ),
    ] = None,
    slippage_bps: Annotated[
        float,
        typer.Option(help="Slippage per unit of weight traded, basis points.", min=0, max=1000),
    ] = 0.0,
    rebalance: Annotated[
        Rebalance | None,
        typer.Option(help="How often the signal is looked at: D, W or M (default: strategy's)."),
    ] = None,
    benchmarks: Annotated[
        bool, typer.Option(help="Run the benchmarks (BTC, gold, 60/40, equal weight).")
    ] = True,
    search: Annotated[
        bool,
        typer.Option(
            help="Run the strategy's parameter sweep: deflated Sharpe, PBO, walk-forward."
        ),
    ] = True,
    replicates: Annotated[
        int, typer.Option(help="Block-bootstrap replicates for the Sharpe interval.", min=99)
    ] = 999,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.", min=0)] = 0,
    how: Format = TableFormat.table,
    as_json: AsJson = False,
) -> None:
    """Backtest a rotation: signals at a close trade at the next session, costs charged."""
    from havenflow.exceptions import DataValidationError
    from havenflow.services.backtest import run_backtest, strategy_config

    if (strategy is None) == (file is None):
        raise DataValidationError("give one of --strategy NAME or --file strategy.toml")
    cfg = strategy_config(
        None if strategy is None else strategy.value,
        file,
        asset,
        None if rebalance is None else rebalance.value,
    )
    repo = state(ctx).repository()
    with progress(f"backtest of {cfg.name}", enabled=not as_json):
        out = run_backtest(
            repo,
            cfg,
            start=start,
            end=end,
            cost_bps=cost_bps,
            slippage_bps=slippage_bps,
            benchmarks=benchmarks,
            search=search,
            replicates=replicates,
            seed=seed,
        )
    if as_json:
        print_json(out.to_dict())
        return
    r = out.strategy
    machine = how is not TableFormat.table

    def say(text: str, *, dim: bool = False) -> None:
        # With --format csv/tsv, stdout is the rows alone; the prose goes to stderr.
        (err_console if machine else console).print(
            Text(text, style="dim" if dim else ""), highlight=False
        )

    say(f"{r.name}: {out.description}")
    say(
        f"{r.start.date()} to {r.end.date()}; {out.timing}; costs "
        f"{r.cost_bps + r.slippage_bps:g} bp per unit traded; returns are simple (%), "
        "Sharpe and Sortino on returns over cash (the fed funds rate)",
        dim=True,
    )
    frame = out.to_frame()
    rows = [
        [
            name,
            row.cagr,
            row.volatility,
            row.sharpe,
            *(
                [row.sharpe_lo, row.sharpe_hi]
                if machine
                else [f"[{row.sharpe_lo:.2f}, {row.sharpe_hi:.2f}]"]
            ),
            row.sortino,
            row.max_drawdown,
            row.calmar,
            row.turnover,
            row.exposure,
        ]
        for name, row in frame.iterrows()
    ]
    pct = Column("", lambda v: fmt(v, pct=True))
    size = Column("", lambda v: fmt(100 * v, digits=1) + "%")
    num = Column("", fmt)
    cols = [
        Column("strategy", justify="left"),
        Column("CAGR", pct.show),
        Column("volatility", size.show),
        Column("Sharpe", num.show),
        *(
            [Column("sharpe_lo_95"), Column("sharpe_hi_95")]
            if machine
            else [Column("95% CI (block bootstrap)")]
        ),
        Column("Sortino", num.show),
        Column("max drawdown", pct.show),
        Column("Calmar", num.show),
        Column("turnover/yr", num.show),
        Column("exposure", size.show),
    ]
    emit_table("backtest (annualised on each strategy's own calendar)", cols, rows, how)
    if r.drawdown_peak is not None:
        rec = "not yet" if r.drawdown_recovery is None else r.drawdown_recovery.date()
        say(
            f"deepest drawdown {r.max_drawdown:.1%}: peak {r.drawdown_peak.date()}, trough "
            f"{r.drawdown_trough.date() if r.drawdown_trough is not None else '—'}, "
            f"recovered {rec}"
        )
    if out.sweep is not None:
        s = out.sweep
        say(
            f"{r.name} as configured: deflated Sharpe {out.deflated_sharpe:.2f} for the "
            f"{s.n_trials} configurations of its sweep"
        )
        say(s._summary_text())
        say(
            "deflated Sharpe: probability the best configuration's true Sharpe ratio beats the "
            f"best of {s.n_trials} skill-less ones (Bailey & Lopez de Prado); PBO: share of "
            f"{s.pbo_blocks}-block CSCV splits where the in-sample best ranks in the bottom "
            "half out of sample",
            dim=True,
        )
    for note in out.notes:
        say(note, dim=True)
