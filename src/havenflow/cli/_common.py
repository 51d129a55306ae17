"""What every command shares: the global state, consoles, option types, tables and JSON.

Global options (``--data``, ``--store``, ``-v``) are accepted before or after the subcommand:
:class:`GlobalOptionsGroup` moves them to the front before click parses the line.
"""

from __future__ import annotations

import csv
import errno
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import pandas as pd
import typer
import typer.core
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer import _click
from typer._click import exceptions as click_errors  # typer 0.29 vendors click

from havenflow.data.repository import DataRepository
from havenflow.data.store import Store
from havenflow.exceptions import HavenflowError

if TYPE_CHECKING:
    from havenflow.services import CommonAsOf

console = Console()
err_console = Console(stderr=True)
_TTY_WIDTH = console._width  # what rich read from $COLUMNS (None: ask the terminal)

#: Options of the root command, with whether each takes a value.
GLOBAL_OPTIONS = {"--data": True, "--store": True, "-v": False, "--verbose": False}


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` as one line on stderr and exit with ``code``."""
    line = " ".join(str(message).split())
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()
    sys.exit(code)


class GlobalOptionsGroup(typer.core.TyperGroup):
    """The root group: global options anywhere on the line; every error in one line."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        """Move ``--data X``, ``--store X``, ``-v`` found after the subcommand to the front."""
        return super().parse_args(ctx, hoist_global_options(args))

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; a usage error, a bad file or a havenflow error: one line, exit 2."""

        def run(standalone: bool) -> Any:
            return super(GlobalOptionsGroup, self).main(
                args, prog_name, complete_var, standalone, windows_expand_args, **extra
            )

        if not standalone_mode:
            return run(False)
        try:
            code = run(False)
        except click_errors.NoArgsIsHelpError as exc:
            text = exc.ctx.get_help() if exc.ctx is not None else ""
            if text:
                sys.stdout.write(text + "\n")
            sys.exit(0)
        except click_errors.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            fail(exc.format_message().replace("Value error, ", "") + hint)
        except click_errors.ClickException as exc:
            fail(exc.format_message())
        except typer.Abort:
            fail("aborted", 1)
        except HavenflowError as exc:
            fail(str(exc))
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                sys.exit(1)
            fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        sys.exit(code if isinstance(code, int) else 0)


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """``args`` with every global option (and its value) moved before the subcommand."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        name = arg.split("=", 1)[0]
        takes_value = GLOBAL_OPTIONS.get(name)
        if takes_value is None:
            rest.append(arg)
        elif not takes_value or "=" in arg:
            front.append(arg)
        elif i + 1 < len(args):
            front += [arg, args[i + 1]]
            i += 1
        else:
            rest.append(arg)  # no value: left where it is, for click to refuse
        i += 1
    return front + rest


def configure_output() -> None:
    """Full-width tables and no wrapping when stdout is not a terminal (piped, redirected)."""
    if console.is_terminal:
        console.width = _TTY_WIDTH  # type: ignore[assignment]
        console.soft_wrap = False
    else:
        console.width = max(_TTY_WIDTH or 0, 400)
        console.soft_wrap = True


@dataclass
class State:
    """Options shared by every command."""

    data_files: list[Path] = field(default_factory=list)
    store_path: Path | None = None

    def store(self) -> Store:
        """The store (default location unless ``--store`` was given)."""
        return Store(self.store_path)

    def repository(self) -> DataRepository:
        """A repository over user files, the store and the bundled data."""
        return DataRepository(store=self.store(), user_files=self.data_files)


def state(ctx: typer.Context) -> State:
    """The root command's :class:`State`."""
    obj = ctx.find_root().obj
    if not isinstance(obj, State):  # a command invoked without the root callback
        obj = State()
        ctx.find_root().obj = obj
    return obj


# ---- choices -------------------------------------------------------------------------------


class Freq(StrEnum):
    """Bars of the analysis: trading days, weeks ending Friday, month ends."""

    D = "D"
    W = "W"
    M = "M"


class ExportFreq(StrEnum):
    """Calendars an export can align onto."""

    D = "D"
    B = "B"
    W = "W"
    M = "M"


class DriverFreq(StrEnum):
    """Bars of a driver regression."""

    D = "D"
    W = "W"


class Window(StrEnum):
    """Calendar windows of the attribution."""

    W1 = "1W"
    M1 = "1M"
    M3 = "3M"
    M6 = "6M"
    YTD = "YTD"
    Y1 = "1Y"


class Method(StrEnum):
    """Lead-lag methods."""

    xcorr = "xcorr"
    granger = "granger"
    hy = "hy"
    var = "var"


class NullMethod(StrEnum):
    """Bootstrap nulls of the cross-correlation scan."""

    multiplier = "multiplier"
    stationary = "stationary"


class CovType(StrEnum):
    """Covariance estimators of the Granger tests."""

    classical = "classical"
    HC0 = "HC0"
    HC1 = "HC1"
    HC3 = "HC3"
    HAC = "HAC"


class InfoCriterion(StrEnum):
    """Criteria choosing the VAR lag order."""

    aic = "aic"
    bic = "bic"
    hqic = "hqic"
    fpe = "fpe"


class ReportFormat(StrEnum):
    """Report outputs."""

    html = "html"
    md = "md"
    json = "json"


class SeriesKind(StrEnum):
    """Kinds of an imported series."""

    price = "price"
    index_level = "index_level"
    yield_pct = "yield_pct"
    rate_pct = "rate_pct"
    spread_pct = "spread_pct"
    money_stock = "money_stock"


class TableFormat(StrEnum):
    """How tables are printed: a rich table, or CSV/TSV rows for other programs."""

    table = "table"
    csv = "csv"
    tsv = "tsv"


AsOf = Annotated[
    str | None,
    typer.Option(
        help="As of this date (YYYY-MM-DD, point-in-time); default: the last date that every "
        "series the command needs shares."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (no progress indicator).")]
Format = Annotated[
    TableFormat,
    typer.Option("--format", help="table, or csv/tsv rows (machine-readable, full precision)."),
]


# ---- output ----------------------------------------------------------------------------------


def _json_default(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def print_json(payload: Any) -> None:
    """Print ``payload`` as JSON (NaN becomes null)."""
    sys.stdout.write(json.dumps(payload, default=_json_default, indent=2, allow_nan=False) + "\n")


def fmt(value: float | None, *, pct: bool = False, digits: int = 2) -> str:
    """A number for a table: ``—`` when missing, ``+1.2%`` with ``pct``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:+.1%}" if pct else f"{value:,.{digits}f}"


def fmt_points(value: float | None, unit: str) -> str:
    """A fraction as ``+1.2 unit`` (``%`` for simple returns, ``log points`` for log returns)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{100 * value:+.1f}{'%' if unit == '%' else ' ' + unit}"


@dataclass(frozen=True)
class Column:
    """A column of :func:`emit_table`: its header, how a value is shown, its alignment."""

    name: str
    show: Callable[[Any], str] = str
    justify: Literal["left", "right"] = "right"


def _raw(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, str):
        return Text.from_markup(value).plain if "[" in value else value
    return str(value)


def emit_table(
    title: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], how: TableFormat
) -> None:
    """Print ``rows`` as a rich table, or as CSV/TSV rows (header first, raw values)."""
    if how is TableFormat.table:
        table = Table(title=title, header_style="bold")
        for col in columns:
            table.add_column(col.name, justify=col.justify, overflow="fold")
        for row in rows:
            table.add_row(*(col.show(v) for col, v in zip(columns, row, strict=True)))
        console.print(table)
        return
    writer = csv.writer(
        sys.stdout, delimiter="," if how is TableFormat.csv else "\t", lineterminator="\n"
    )
    writer.writerow([c.name for c in columns])
    writer.writerows([_raw(v) for v in row] for row in rows)


def say(text: str, *, dim: bool = False) -> None:
    """Print a line of text (no markup read from ``text``) to stdout."""
    console.print(Text(text, style="dim" if dim else ""), highlight=False)


@contextmanager
def progress(message: str, *, enabled: bool = True) -> Iterator[None]:
    """A spinner on stderr while the block runs (only on a terminal, and when ``enabled``)."""
    if enabled and err_console.is_terminal:
        with err_console.status(message, spinner="dots"):
            yield
    else:
        yield


def int_list(text: str, option: str) -> tuple[int, ...]:
    """Parse '5,10,21' (a bad item is a usage error naming the option)."""
    try:
        return tuple(int(h) for h in text.split(",") if h.strip())
    except ValueError as exc:
        raise typer.BadParameter(
            f"{option} must be integers separated by commas, got {text[:40]!r}"
        ) from exc


def horizon_list(text: str) -> tuple[int, ...]:
    """``--horizons``: bar counts between 1 and 5000, separated by commas."""
    hs = int_list(text, "--horizons")
    if not hs or min(hs) < 1 or max(hs) > 5000:
        raise typer.BadParameter(
            f"--horizons must be bar counts between 1 and 5000, got {text[:40]!r}"
        )
    return hs


def id_list(value: str) -> list[str]:
    """Ids separated by commas."""
    return [v.strip() for v in value.split(",") if v.strip()]


def resolve_asof(
    repo: DataRepository,
    ids: Sequence[str],
    asof: str | None,
    *,
    context: Sequence[str] = (),
) -> CommonAsOf:
    """The command's as-of: ``asof`` (refused after the needed series' last shared date) or it."""
    from havenflow.services import resolve_asof as resolve

    return resolve(repo, tuple(ids), asof, context=tuple(context))


def announce(choice: CommonAsOf, asof: str | None) -> None:
    """Say on stderr which date a command defaulted to (nothing when ``--asof`` was given)."""
    if asof is None:
        err_console.print(Text(choice.message), highlight=False, soft_wrap=True)


def iso(choice: CommonAsOf) -> str:
    """The as-of date as ``YYYY-MM-DD``."""
    return choice.asof.date().isoformat()


def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to a true value."""
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}
