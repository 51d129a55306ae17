"""``havenflow data``: list, show, export, import and update series."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from havenflow.catalog import load_catalog
from havenflow.cli._common import (
    AsJson,
    Column,
    ExportFreq,
    Format,
    SeriesKind,
    TableFormat,
    console,
    emit_table,
    err_console,
    print_json,
    resolve_asof,
    state,
)
from havenflow.data.align import align
from havenflow.data.embedded import embedded_ids, embedded_series
from havenflow.data.importer import import_file
from havenflow.data.update import update_store
from havenflow.exceptions import DataValidationError

data_app = typer.Typer(help="List, show, import, export and update series.", no_args_is_help=True)

DataAsOf = Annotated[str | None, typer.Option(help="Only values known on or before this date.")]


@data_app.command("list")
def data_list(ctx: typer.Context, as_json: AsJson = False, how: Format = TableFormat.table) -> None:
    """List every series: id, name, source, first and last date, rows, and where it came from."""
    repo = state(ctx).repository()
    stored = repo.store.summary().set_index("series_id") if repo.store is not None else None
    rows: list[dict[str, Any]] = []
    for sid in repo.ids():
        spec = repo.spec(sid)
        source = ", ".join(f"{s.source}:{s.symbol}" for s in spec.sources) or "bundled only"
        row: dict[str, Any] = {
            "id": sid,
            "name": spec.name,
            "kind": spec.kind,
            "calendar": spec.calendar,
            "live_source": source,
            "licence": spec.licence,
        }
        if stored is not None and sid in stored.index:
            rec = stored.loc[sid].to_dict()
            row.update(
                origin="store",
                first=pd.Timestamp(rec["first"]).date().isoformat(),
                last=pd.Timestamp(rec["last"]).date().isoformat(),
                rows=int(rec["rows"]),
            )
        elif sid in embedded_ids():
            values = embedded_series(sid)
            row.update(
                origin="embedded",
                first=values.index[0].date().isoformat(),
                last=values.index[-1].date().isoformat(),
                rows=len(values),
            )
        else:
            row.update(origin="missing", first=None, last=None, rows=0)
        rows.append(row)
    for sid in repo.user_ids():  # series from --data files come last, marked as such
        loaded = repo.load(sid)
        rows = [r for r in rows if r["id"] != sid]
        rows.append(
            {
                "id": sid,
                "name": loaded.spec.name,
                "kind": loaded.spec.kind,
                "calendar": loaded.spec.calendar,
                "live_source": "user file",
                "licence": "user",
                "origin": "user",
                "first": loaded.first.date().isoformat(),
                "last": loaded.last.date().isoformat(),
                "rows": len(loaded.values),
            }
        )
    if as_json:
        print_json({"series": rows})
        return
    colour = {"missing": "[red]missing[/]", "store": "[green]store[/]"}
    columns = [
        Column("id", justify="left"),
        Column("live source", justify="left"),
        Column("first", lambda v: v or "—"),
        Column("last", lambda v: v or "—"),
        Column("rows"),
        Column("origin", lambda v: colour.get(v, v), justify="left"),
    ]
    keys = ("id", "live_source", "first", "last", "rows", "origin")
    emit_table("havenflow series", columns, [[r[k] for k in keys] for r in rows], how)
    if how is TableFormat.table:
        console.print(
            "[dim]origin: store = fetched or imported; embedded = bundled sample "
            "(see DATA-NOTICE.md; refresh with `havenflow data update`)[/]"
        )


@data_app.command("show")
def data_show(
    ctx: typer.Context,
    series_id: Annotated[str, typer.Argument(help="Series id.")],
    asof: DataAsOf = None,
    tail: Annotated[int, typer.Option(help="How many last values to print.", min=0)] = 10,
    as_json: AsJson = False,
) -> None:
    """Show one series: its spec, its range and its last values."""
    repo = state(ctx).repository()
    if asof is not None:
        resolve_asof(repo, [series_id], asof)
    loaded = repo.load(series_id, asof)
    spec = loaded.spec
    last_values = loaded.values.tail(tail) if tail else loaded.values.iloc[:0]
    info = {
        "id": spec.id,
        "name": spec.name,
        "kind": spec.kind,
        "unit": spec.unit,
        "calendar": spec.calendar,
        "known_lag_days": spec.known_lag_days,
        "release": spec.release,
        "origin": loaded.origin,
        "detail": loaded.detail,
        "first": loaded.first.date().isoformat(),
        "last": loaded.last.date().isoformat(),
        "rows": len(loaded.values),
        "attribution": spec.attribution,
        "values": [
            {"date": d.date().isoformat(), "value": float(v)}
            for d, v in zip(last_values.index, last_values.to_numpy(), strict=True)
        ],
    }
    if as_json:
        print_json(info)
        return
    table = Table(title=f"{spec.id}: {spec.name}", show_header=False)
    for key in (
        "kind",
        "unit",
        "calendar",
        "known_lag_days",
        "release",
        "origin",
        "detail",
        "first",
        "last",
        "rows",
        "attribution",
    ):
        table.add_row(key, str(info[key]))
    console.print(table)
    values = Table(header_style="bold")
    values.add_column("date")
    values.add_column("value", justify="right")
    for d, v in zip(last_values.index, last_values.to_numpy(), strict=True):
        values.add_row(d.date().isoformat(), f"{v:,.4f}")
    console.print(values)


@data_app.command("export")
def data_export(
    ctx: typer.Context,
    series_ids: Annotated[list[str], typer.Argument(help="Series ids.")],
    out: Annotated[Path, typer.Option("--out", help="Output file (.csv or .parquet).")],
    freq: Annotated[
        ExportFreq | None,
        typer.Option(help="Align onto D, B, W or M (point-in-time); default: raw long format."),
    ] = None,
    asof: DataAsOf = None,
    sessions: Annotated[
        str | None,
        typer.Option(
            help="With --freq B: the trading calendar (XNYS, XLON, us_federal, 24/7, "
            "weekdays, or any exchange_calendars name); default: the sessions common to the "
            "series' markets.",
        ),
    ] = None,
) -> None:
    """Export series: raw (long format) or aligned onto one calendar (wide)."""
    repo = state(ctx).repository()
    if asof is not None:
        resolve_asof(repo, series_ids, asof)
    loaded = repo.load_many(series_ids, asof)
    if freq is not None:
        from havenflow.services._load import _placed

        series, known = _placed(dict(loaded), "known")
        frame = align(
            series,
            freq.value,
            specs={k: v.spec for k, v in loaded.items()},
            end=asof,
            sessions=sessions,
            known=known,
        )
        frame = frame.reset_index()
    else:
        frame = pd.concat(
            [
                pd.DataFrame(
                    {
                        "series_id": k,
                        "date": v.values.index,
                        "value": v.values.to_numpy(),
                        "origin": v.origin,
                    }
                )
                for k, v in loaded.items()
            ],
            ignore_index=True,
        )
    if out.suffix.lower() in {".parquet", ".pq"}:
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False, date_format="%Y-%m-%d")
    console.print(f"wrote {len(frame)} rows to {out}", highlight=False)


@data_app.command("import")
def data_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV or Parquet file: a date column and value columns.")
    ],
    name: Annotated[str | None, typer.Option(help="Series id (for one value column).")] = None,
    column: Annotated[str | None, typer.Option(help="Value column to import.")] = None,
    kind: Annotated[SeriesKind, typer.Option(help="What the values are.")] = SeriesKind.price,
    replace_catalog: Annotated[bool, typer.Option(help="Allow overriding a catalog id.")] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a stored series of the same id.")
    ] = False,
    append: Annotated[
        bool, typer.Option("--append", help="Add to a stored series of the same id and kind.")
    ] = False,
) -> None:
    """Import your own series into the store (all or nothing)."""
    if replace and append:
        raise DataValidationError("--replace and --append exclude each other")
    results = import_file(
        state(ctx).store(),
        file,
        name=name,
        column=column,
        kind=kind.value,
        replace_catalog=replace_catalog,
        existing="replace" if replace else "append" if append else "refuse",
    )
    for r in results:
        console.print(
            f"imported [bold]{r.series_id}[/]: {r.rows} rows, {r.first} .. {r.last}"
            + (f" ({r.dropped_missing} empty cells dropped)" if r.dropped_missing else ""),
            highlight=False,
        )


@data_app.command("update")
def data_update(
    ctx: typer.Context,
    series_ids: Annotated[
        list[str] | None, typer.Argument(help="Ids (default: every live series).")
    ] = None,
    full: Annotated[bool, typer.Option(help="Re-fetch whole histories.")] = False,
    as_json: AsJson = False,
) -> None:
    """Fetch what is new from the live sources; write everything in one transaction."""
    store = state(ctx).store()
    ids = series_ids or [s.id for s in load_catalog().values() if s.sources]
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json or not err_console.is_terminal,
    ) as bar:
        tasks = {sid: bar.add_task(f"{sid}: waiting", total=1) for sid in ids}

        def on_progress(sid: str, stage: str) -> None:
            done = stage in {"done", "failed"}
            colour = {"failed": "[red]failed[/]", "done": "[green]done[/]"}.get(stage, stage)
            bar.update(tasks[sid], description=f"{sid}: {colour}", completed=1 if done else 0)

        outcomes = update_store(store, ids, full=full, on_progress=on_progress)
    if as_json:
        print_json({"store": str(store.path), "series": [o.__dict__ for o in outcomes]})
    else:
        table = Table(title=f"update of {store.path}", header_style="bold")
        for col in ("id", "status", "new rows", "source", "message"):
            table.add_column(col, overflow="fold")
        for o in outcomes:
            table.add_row(o.series_id, o.status, str(o.new_rows), o.source or "—", o.message)
        console.print(table)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)
