"""The ``havenflow`` command line: thin shells over the data layer and the analytics.

Every command prints a rich table, or a JSON document with ``--json``; tabular commands also
print CSV/TSV rows with ``--format``. Global options (``--data``, ``--store``, ``-v``) go before
or after the subcommand. Errors (havenflow's own, bad usage, unreadable files) print one line
starting ``error:`` on stderr and exit with status 2; anything else is a bug, reported in one
line with exit status 1 (``HAVENFLOW_DEBUG=1`` shows the traceback).

One module per family of commands: :mod:`~havenflow.cli.data`, :mod:`~havenflow.cli.market`
(summary, snapshot, divergence, drivers, safehaven), :mod:`~havenflow.cli.leadlag`,
:mod:`~havenflow.cli.events`, :mod:`~havenflow.cli.regime`, :mod:`~havenflow.cli.outlook`,
:mod:`~havenflow.cli.report`, :mod:`~havenflow.cli.serve`; shared pieces in ``_common``.
"""

from __future__ import annotations

import logging
import sys
import traceback
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.logging import RichHandler

from havenflow import __version__
from havenflow.cli import backtest, events, leadlag, market, network, outlook, regime, report, serve
from havenflow.cli._common import (
    GlobalOptionsGroup,
    State,
    configure_output,
    console,
    env_flag,
    err_console,
    fail,
)
from havenflow.cli.data import data_app
from havenflow.cli.watch import watch_app
from havenflow.exceptions import DataWarning

__all__ = ["app", "main"]

app = typer.Typer(
    cls=GlobalOptionsGroup,
    help="havenflow: test and monitor cross-asset rotation claims with data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
app.add_typer(watch_app, name="watch")
for command in (
    market.summary,
    leadlag.leadlag,
    network.network,
    market.snapshot,
    market.divergence,
    market.drivers,
    market.safehaven,
    events.events,
    regime.regime,
    outlook.outlook,
    backtest.backtest,
    report.check,
    report.report,
    report.kinds,
    serve.serve,
):
    app.command()(command)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"havenflow {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data", help="CSV/Parquet file of your own series (date + value columns); repeatable."
        ),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store", help="DuckDB store file (default: $HAVENFLOW_HOME or the user data dir)."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Havenflow: test and monitor cross-asset rotation claims with data.

    Global options may also follow the subcommand (havenflow leadlag silver bitcoin --store X).
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )
    configure_output()
    ctx.obj = State(data_files=list(data or []), store_path=store)


@app.command("version")
def version_command() -> None:
    """Print the version."""
    console.print(f"havenflow {__version__}", highlight=False)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    sys.stderr.write(f"warning: {' '.join(str(message).split())}\n")


def main(args: list[str] | None = None) -> None:
    """Entry point of the console script: never a traceback for a user's mistake.

    Usage errors, bad files and havenflow's errors print one line and exit 2 (see
    :class:`~havenflow.cli._common.GlobalOptionsGroup`); a bug prints one line and exits 1.
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("default", category=DataWarning)
            warnings.showwarning = _show_warning
            app(args=args, prog_name="havenflow")
    except Exception as exc:  # noqa: BLE001 (a bug: one line, the traceback on request)
        if env_flag("HAVENFLOW_DEBUG"):
            traceback.print_exc()
        fail(
            f"unexpected {type(exc).__name__}: {exc} (a bug in havenflow; rerun with "
            "HAVENFLOW_DEBUG=1 for the traceback and please report it)",
            1,
        )


if __name__ == "__main__":
    main()
