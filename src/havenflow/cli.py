"""The ``havenflow`` command line: a thin shell over the data layer and the analytics.

Every command prints a rich table, or a JSON document with ``--json``. Errors that havenflow
raises on purpose print one clear line and exit with status 2; anything else is a bug.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from havenflow import __version__
from havenflow.analytics.overview import WINDOWS, overview
from havenflow.catalog import load_catalog
from havenflow.data.align import FREQUENCIES, align
from havenflow.data.embedded import embedded_ids, embedded_series
from havenflow.data.importer import import_file
from havenflow.data.repository import DataRepository
from havenflow.data.store import Store
from havenflow.data.update import update_store
from havenflow.exceptions import HavenflowError

app = typer.Typer(
    help="havenflow: test and monitor cross-asset rotation claims with data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="List, show, import, export and update series.", no_args_is_help=True)
app.add_typer(data_app, name="data")

console = Console()
err_console = Console(stderr=True)

#: The universe of the summary table.
SUMMARY_IDS = [
    "silver",
    "gold",
    "bitcoin",
    "sp500",
    "nasdaq100",
    "copper",
    "dxy",
    "usd_broad",
    "vix",
    "real_yield_10y",
    "nominal_10y",
    "ust_2y",
    "breakeven_10y",
]


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


def _state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def _json_default(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def print_json(payload: Any) -> None:
    """Print ``payload`` as JSON (NaN becomes null)."""
    sys.stdout.write(json.dumps(payload, default=_json_default, indent=2, allow_nan=False) + "\n")


def _fmt(value: float | None, *, pct: bool = False, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:+.1%}" if pct else f"{value:,.{digits}f}"


def _int_list(text: str, option: str) -> tuple[int, ...]:
    """Parse '5,10,21' (a bad item is a usage error naming the option)."""
    try:
        return tuple(int(h) for h in text.split(",") if h.strip())
    except ValueError as exc:
        raise typer.BadParameter(f"{option} must be integers separated by commas: {exc}") from exc


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
) -> None:
    """Havenflow: test and monitor cross-asset rotation claims with data."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )
    ctx.obj = State(data_files=list(data or []), store_path=store)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"havenflow {__version__}")


@data_app.command("list")
def data_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every series: id, name, source, first and last date, rows, and where it came from."""
    repo = _state(ctx).repository()
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
    table = Table(title="havenflow series", header_style="bold")
    table.add_column("id", no_wrap=True)
    table.add_column("live source", overflow="fold")
    table.add_column("first", no_wrap=True)
    table.add_column("last", no_wrap=True)
    table.add_column("rows", justify="right")
    table.add_column("origin", no_wrap=True)
    for r in rows:
        origin = {"missing": "[red]missing[/]", "store": "[green]store[/]"}.get(
            r["origin"], r["origin"]
        )
        table.add_row(
            r["id"], r["live_source"], r["first"] or "—", r["last"] or "—", str(r["rows"]), origin
        )
    console.print(table)
    console.print(
        "[dim]origin: store = fetched or imported; embedded = bundled sample "
        "(see DATA-NOTICE.md; refresh with `havenflow data update`)[/]"
    )


@data_app.command("show")
def data_show(
    ctx: typer.Context,
    series_id: Annotated[str, typer.Argument(help="Series id.")],
    asof: Annotated[
        str | None, typer.Option(help="Only values known on or before this date.")
    ] = None,
    tail: Annotated[int, typer.Option(help="How many last values to print.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one series: its spec, its range and its last values."""
    loaded = _state(ctx).repository().load(series_id, asof)
    spec = loaded.spec
    last_values = loaded.values.tail(tail)
    info = {
        "id": spec.id,
        "name": spec.name,
        "kind": spec.kind,
        "unit": spec.unit,
        "calendar": spec.calendar,
        "known_lag_days": spec.known_lag_days,
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
        str | None,
        typer.Option(help="Align onto D, B, W or M (point-in-time); default: raw long format."),
    ] = None,
    asof: Annotated[
        str | None, typer.Option(help="Only values known on or before this date.")
    ] = None,
) -> None:
    """Export series: raw (long format) or aligned onto one calendar (wide)."""
    repo = _state(ctx).repository()
    loaded = repo.load_many(series_ids, asof)
    if freq is not None:
        if freq not in FREQUENCIES:
            raise HavenflowError(f"--freq must be one of {list(FREQUENCIES)}, got {freq!r}")
        frame = align(
            {k: v.values for k, v in loaded.items()},
            freq,  # type: ignore[arg-type]
            specs={k: v.spec for k, v in loaded.items()},
            end=asof,
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
    console.print(f"wrote {len(frame)} rows to {out}")


@data_app.command("import")
def data_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV or Parquet file: a date column and value columns.")
    ],
    name: Annotated[str | None, typer.Option(help="Series id (for one value column).")] = None,
    column: Annotated[str | None, typer.Option(help="Value column to import.")] = None,
    kind: Annotated[
        str, typer.Option(help="price, index_level, yield_pct, rate_pct, spread_pct, money_stock.")
    ] = "price",
    replace_catalog: Annotated[bool, typer.Option(help="Allow overriding a catalog id.")] = False,
) -> None:
    """Import your own series into the store (all or nothing)."""
    results = import_file(
        _state(ctx).store(),
        file,
        name=name,
        column=column,
        kind=kind,
        replace_catalog=replace_catalog,
    )
    for r in results:
        console.print(
            f"imported [bold]{r.series_id}[/]: {r.rows} rows, {r.first} .. {r.last}"
            + (f" ({r.dropped_missing} empty cells dropped)" if r.dropped_missing else "")
        )


@data_app.command("update")
def data_update(
    ctx: typer.Context,
    series_ids: Annotated[
        list[str] | None, typer.Argument(help="Ids (default: every live series).")
    ] = None,
    full: Annotated[bool, typer.Option(help="Re-fetch whole histories.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fetch what is new from the live sources; write everything in one transaction."""
    store = _state(ctx).store()
    ids = series_ids or [s.id for s in load_catalog().values() if s.sources]
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
    ) as progress:
        tasks = {sid: progress.add_task(f"{sid}: waiting", total=1) for sid in ids}

        def on_progress(sid: str, stage: str) -> None:
            done = stage in {"done", "failed"}
            colour = {"failed": "[red]failed[/]", "done": "[green]done[/]"}.get(stage, stage)
            progress.update(tasks[sid], description=f"{sid}: {colour}", completed=1 if done else 0)

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


@app.command()
def summary(
    ctx: typer.Context,
    asof: Annotated[str | None, typer.Option(help="As of this date (point-in-time).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Summarise the universe as of a date: last value, 1M/3M/1Y moves, all-time high."""
    repo = _state(ctx).repository()
    loaded = repo.load_many(SUMMARY_IDS, asof)
    when = pd.Timestamp(asof) if asof else max(v.last for v in loaded.values())
    result = overview(
        {k: v.values for k, v in loaded.items()}, {k: v.spec for k, v in loaded.items()}, when
    )
    if as_json:
        payload = result.to_dict()
        for asset in payload["assets"]:
            asset["origin"] = loaded[asset["id"]].origin
        print_json(payload)
        return
    table = Table(title=f"havenflow summary as of {result.asof}", header_style="bold")
    for col in (
        "id",
        "last date",
        "last",
        *WINDOWS,
        "all-time high",
        "high date",
        "from high",
        "origin",
    ):
        table.add_column(col, justify="left" if col in {"id", "origin"} else "right")
    for a in result.assets:
        pct = a.move_unit == "return"
        moves = [_fmt(a.moves[w], pct=pct) + ("" if pct else " pp") for w in WINDOWS]
        table.add_row(
            a.id,
            a.last_date,
            _fmt(a.last),
            *moves,
            _fmt(a.high),
            a.high_date,
            _fmt(a.from_high, pct=True),
            loaded[a.id].origin,
        )
    console.print(table)
    stale = [
        f"{a.id} ({a.last_date})"
        for a in result.assets
        if pd.Timestamp(a.last_date) < when - pd.Timedelta(days=10)
    ]
    if stale:
        console.print(
            f"[yellow]stale: no value in the 10 days before {result.asof} for {', '.join(stale)}[/]"
        )
    console.print(
        "[dim]moves: simple returns; yields in percentage points (pp). "
        "Bundled market closes are sample data: see DATA-NOTICE.md.[/]"
    )


def _ids(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@app.command()
def leadlag(
    ctx: typer.Context,
    leader: Annotated[
        str,
        typer.Argument(
            help="Leader id, or several separated by commas (every pair is scanned; with "
            "--method var they are the causing block)."
        ),
    ],
    follower: Annotated[str, typer.Argument(help="Follower id, or several separated by commas.")],
    method: Annotated[
        str, typer.Option(help="xcorr, granger, hy or var (VAR with block Granger tests).")
    ] = "xcorr",
    max_lag: Annotated[
        int | None,
        typer.Option(
            help="Largest lag in bars (default D 120, W 26, M 12; --method var: the largest "
            "VAR order, default D 20, W 8, M 6)."
        ),
    ] = None,
    freq: Annotated[str, typer.Option(help="D (trading days), W or M.")] = "D",
    rolling: Annotated[
        bool,
        typer.Option(
            help="Scan in windows stepped monthly (a year of bars, or 4 x max-lag if longer), "
            "and judge the count of significant windows."
        ),
    ] = False,
    window: Annotated[
        int | None, typer.Option(help="Rolling window in bars (default one year).")
    ] = None,
    asof: Annotated[str | None, typer.Option(help="As of this date (point-in-time).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    replicates: Annotated[int, typer.Option(help="Bootstrap replicates.")] = 999,
    null: Annotated[str, typer.Option(help="multiplier or stationary bootstrap null.")] = (
        "multiplier"
    ),
    cov_type: Annotated[
        str, typer.Option(help="Granger covariance: classical, HC0, HC1, HC3 or HAC.")
    ] = "HAC",
    ic: Annotated[
        str, typer.Option(help="--method var: criterion for the lag order (aic, bic, hqic or fpe).")
    ] = "bic",
    levels: Annotated[
        bool, typer.Option(help="Force price levels instead of returns (spurious: warned).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Does LEADER lead FOLLOWER, by how much, how sure? (positive lag: the leader moves first)."""
    from havenflow.services import LAG_UNITS, LeadLagRequest, run_leadlag, scan_pairs

    repo = _state(ctx).repository()
    base = LeadLagRequest(
        leader=leader,
        follower=follower,
        method=method,  # type: ignore[arg-type]
        freq=freq,  # type: ignore[arg-type]
        max_lag=max_lag,
        rolling=rolling,
        window=window,
        asof=asof,
        seed=seed,
        replicates=replicates,
        null=null,  # type: ignore[arg-type]
        cov_type=cov_type,
        levels=levels,
        ic=ic,
    )
    leaders, followers = _ids(leader), _ids(follower)
    if method != "var" and len(leaders) * len(followers) > 1:
        scan = scan_pairs(repo, leaders, followers, base)
        if as_json:
            print_json({**scan.to_dict(), "asof": asof})
            return
        table = Table(
            title=f"lead-lag scan ({method}, {LAG_UNITS.get(freq, freq)}; "
            "q: Benjamini-Hochberg across the pairs)",
            header_style="bold",
        )
        for col in ("leader", "follower", "best lag", "correlation", "p-value", "q-value"):
            table.add_column(col, justify="right")
        for _, r in scan.to_frame().iterrows():
            table.add_row(
                r["leader"],
                r["follower"],
                f"{r['best_lag']:+d}",
                "" if r["correlation"] is None else f"{r['correlation']:+.3f}",
                f"{r['p_value']:.4f}",
                f"{r['q_value']:.4f}",
            )
        console.print(table)
        return
    result = run_leadlag(repo, base)
    payload = {"frequency": freq, "asof": asof, **result.to_dict()}
    if as_json:
        print_json(payload)
        return
    console.print(result.summary(), highlight=False)
    from havenflow.analytics.leadlag import CrossCorrelationResult, RollingLeadLagResult

    if isinstance(result, CrossCorrelationResult):
        frame = result.to_frame()
        top = frame.reindex(frame["correlation"].abs().sort_values(ascending=False).index)[:5]
        table = Table(title="strongest lags", header_style="bold")
        for col in (f"lag ({result.lag_unit})", "correlation", "null band 2.5%", "97.5%"):
            table.add_column(col, justify="right")
        for lag, r in top.iterrows():
            table.add_row(
                f"{lag:+d}", f"{r['correlation']:+.3f}", f"{r['lower']:+.3f}", f"{r['upper']:+.3f}"
            )
        console.print(table)
    elif isinstance(result, RollingLeadLagResult):
        table = Table(title="last 12 windows", header_style="bold")
        for col in ("window end", "best lag", "lag 95% CI", "correlation", "p-value"):
            table.add_column(col, justify="right")
        for end, r in result.to_frame().tail(12).iterrows():
            table.add_row(
                pd.Timestamp(str(end)).date().isoformat(),
                f"{int(r['best_lag']):+d}",
                f"{int(r['lag_low']):+d}..{int(r['lag_high']):+d}",
                f"{r['correlation']:+.3f}",
                f"{r['p_value']:.3f}",
            )
        console.print(table)


AsOf = Annotated[str | None, typer.Option(help="As of this date (point-in-time).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command()
def snapshot(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None, typer.Argument(help="Series ids (default: the claim's universe).")
    ] = None,
    asof: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Returns, volatility, drawdowns, ranks, all-time highs and breakouts (claims C1, C2)."""
    from havenflow.services import run_snapshot

    result = run_snapshot(_state(ctx).repository(), ids or None, asof)
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title=f"havenflow snapshot as of {result.asof}", header_style="bold")
    for col in (
        "id",
        "last",
        *result.windows,
        "vol 1Y",
        "ATH",
        "ATH date",
        "from ATH",
        "new highs",
    ):
        table.add_column(col, justify="left" if col == "id" else "right")
    for a in result.assets:
        rets = [_fmt(a.windows[w].ret, pct=True) for w in result.windows]
        vol = a.windows["1Y"].volatility
        highs = ",".join(str(b.bars) for b in a.breakouts if b.is_new_high) or "—"
        table.add_row(
            a.id,
            _fmt(a.last),
            *rets,
            "—" if vol is None else f"{100 * vol:.0f}%",
            _fmt(a.ath),
            a.ath_date,
            _fmt(a.drawdown_from_ath, pct=True),
            highs,
        )
    console.print(table)
    best = ", ".join(f"{w} {k}" for w, k in result.best_performer.items() if k)
    console.print(f"best performer: {best}  (new highs: N-bar closing highs; ranks in --json)")
    for note in result.notes:
        console.print(f"[dim]{note}[/]")


@app.command()
def divergence(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="Asset A.")] = "silver",
    b: Annotated[str, typer.Argument(help="Asset B.")] = "bitcoin",
    asof: AsOf = None,
    history: Annotated[bool, typer.Option(help="Add month-end chart series to JSON.")] = False,
    as_json: AsJson = False,
) -> None:
    """Relative strength, return spreads and correlation breakdown of A vs B (claim C3)."""
    from havenflow.services import run_divergence

    result = run_divergence(_state(ctx).repository(), a, b, asof)
    if as_json:
        print_json(result.to_dict(history=history))
        return
    console.print(result.summary(), highlight=False)


@app.command()
def drivers(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="The asset to explain.")] = "silver",
    freq: Annotated[str, typer.Option(help="D (trading days) or W.")] = "D",
    window: Annotated[str, typer.Option(help="Attribution window: 1W 1M 3M 6M YTD 1Y.")] = "3M",
    years: Annotated[float, typer.Option(help="Years of data for the betas.")] = 3.0,
    implied_by: Annotated[
        str | None, typer.Option(help="Claim C9: ASSET's factor-implied move in this rally.")
    ] = None,
    asof: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Regress ASSET on real yields, dollar, rate expectations, equities, VIX (claims C5, C9)."""
    from havenflow.services import run_drivers

    if years <= 0 or years > 30:
        raise typer.BadParameter(f"--years must be in (0, 30], got {years}")
    out = run_drivers(
        _state(ctx).repository(),
        asset,
        freq=freq,
        asof=asof,
        window=window,
        years=years,
        implied_by=implied_by,
    )
    if as_json:
        print_json(out)
        return
    reg = out["regression"]
    table = Table(
        title=f"{asset}: {reg['frequency']} moves on drivers, {reg['start']}..{reg['end']} "
        f"(n={reg['n_obs']}, R² {reg['rsquared']:.2f}, {reg['cov_type']})",
        header_style="bold",
    )
    for col in ("driver", "beta", "HAC s.e.", "t", "p"):
        table.add_column(col, justify="left" if col == "driver" else "right")
    for c in reg["coefficients"]:
        table.add_row(
            out["driver_labels"].get(c["name"], c["name"]),
            f"{c['coef']:+.4f}",
            f"{c['std_err']:.4f}",
            f"{c['t']:+.2f}",
            f"{c['p_value']:.3g}",
        )
    console.print(table)
    att = out["attribution"]
    console.print(
        f"{asset} {att['start']}..{att['end']}: {100 * att['actual']:+.1f} log points "
        f"({100 * att['actual_simple_return']:+.1f}%); drivers explain "
        f"{100 * att['explained']:+.1f}, drift {100 * att['drift']:+.1f}, "
        f"unexplained {100 * att['unexplained']:+.1f}"
    )
    for p in att["contributions"]:
        console.print(
            f"  {out['driver_labels'][p['driver']]:<38} {100 * p['contribution']:+6.1f} "
            f"[{100 * p['ci_low']:+.1f}, {100 * p['ci_high']:+.1f}]"
        )
    if "implied_by" in out:
        t = out["implied_by"]["target"]
        console.print(
            f"if {asset} had reacted only to the drivers of {implied_by}'s move "
            f"({100 * out['implied_by']['reference_simple_return']:+.1f}%): implied "
            f"{100 * t['implied']:+.1f} log points (95% CI {100 * t['ci_low']:+.1f}.."
            f"{100 * t['ci_high']:+.1f}; with residual noise {100 * t['prediction_low']:+.1f}.."
            f"{100 * t['prediction_high']:+.1f}), actual {100 * t['actual']:+.1f}"
        )
    for note in out["notes"]:
        console.print(f"[dim]{note}[/]")


@app.command()
def safehaven(
    ctx: typer.Context,
    asof: AsOf = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    as_json: AsJson = False,
) -> None:
    """Hedge and safe-haven tests for gold, silver, bitcoin; BTC in stress (claims C4, C7)."""
    from havenflow.services import run_safehaven

    out = run_safehaven(_state(ctx).repository(), asof, seed)
    if as_json:
        print_json(out)
        return
    table = Table(
        title=f"hedge / safe haven against the S&P 500 as of {out['asof']}", header_style="bold"
    )
    for col in ("asset", "hedge slope", "verdict", "10% tail", "5% tail", "1% tail"):
        table.add_column(col, justify="left" if col == "asset" else "right")
    for r in out["regressions"]:
        tails = [f"{t['total_slope']:+.2f} ({t['verdict']})" for t in r["safe_haven"]]
        table.add_row(r["asset"], f"{r['hedge']['slope']:+.2f}", r["hedge"]["verdict"], *tails)
    console.print(table)
    cc = out["conditional_correlation"]
    for c in cc["correlations"]:
        console.print(
            f"bitcoin vs {c['partner']}: stress {c['stress']:+.2f} "
            f"[{c['stress_ci'][0]:+.2f}, {c['stress_ci'][1]:+.2f}], calm {c['calm']:+.2f} "
            f"[{c['calm_ci'][0]:+.2f}, {c['calm_ci'][1]:+.2f}] "
            f"({cc['n_stress_days']} stress / {cc['n_calm_days']} calm days)"
        )
    console.print(f"[dim]{out['stress_definition']}[/]")


@app.command()
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
    min_gap: Annotated[int, typer.Option(help="Minimum bars between two events.")] = 21,
    replicates: Annotated[int, typer.Option(help="Bootstrap replicates.")] = 999,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    asof: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """What did TARGET do after TRIGGER? Forward returns vs baseline (claim C10)."""
    from havenflow.services import run_events

    hs = _int_list(horizons, "--horizons")
    result = run_events(
        _state(ctx).repository(),
        trigger,
        target,
        horizons=hs,
        asof=asof,
        min_gap=min_gap,
        replicates=replicates,
        seed=seed,
    )
    if as_json:
        print_json(result.to_dict())
        return
    console.print(result.summary(), highlight=False)


@app.command()
def regime(
    ctx: typer.Context,
    window: Annotated[int, typer.Option(help="Bars for changes and relative returns.")] = 63,
    confirm: Annotated[int, typer.Option(help="Bars over which phase scores are averaged.")] = 21,
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
    seed: Annotated[int, typer.Option(help="Seed of the EM start jitter.")] = 0,
    asof: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Which phase of the cycle is it? Rules with evidence, Markov probabilities (claim C8)."""
    from havenflow.analytics.regime import PHASE_NAMES
    from havenflow.services import run_regime

    out = run_regime(
        _state(ctx).repository(), asof, window=window, confirm=confirm, markov=markov, seed=seed
    )
    payload = out.to_dict(history=history)
    if as_json:
        print_json(payload)
        return
    console.print(out.rules.summary(), highlight=False)
    if out.markov is not None:
        console.print(out.markov.summary(), highlight=False)
    elif markov:
        console.print(f"Markov switching not fitted: {out.markov_error}", highlight=False)
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
        console.print("Rules, trading days:", highlight=False)
        for spell in payload["timeline"]:
            console.print(
                f"{spell['start']} .. {spell['end']}  {spell['phase']} "
                f"{PHASE_NAMES[spell['phase']]} ({spell['bars']} bars)",
                highlight=False,
            )
        if out.markov is not None:
            console.print(
                "Markov switching, most likely phase, point-in-time (none before "
                f"{payload['markov']['first_probability']}):",
                highlight=False,
            )
            for _, sp in out.markov.spells().iterrows():
                weeks = int(sp["weeks"])
                console.print(
                    f"{sp['start'].date()} .. {sp['end'].date()}  {sp['phase']} "
                    f"{PHASE_NAMES[int(sp['phase'])]} ({weeks} week{'s' if weeks != 1 else ''})",
                    highlight=False,
                )


@app.command()
def outlook(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="The series to forecast.")] = "bitcoin",
    horizons: Annotated[str, typer.Option(help="Horizons in trading days.")] = "21,63,126",
    k: Annotated[int, typer.Option("--analogues", help="Nearest past weeks used.")] = 30,
    asof: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Where could TARGET head? Forward-return odds with walk-forward skill (claim C11)."""
    from havenflow.services import run_outlook

    hs = _int_list(horizons, "--horizons")
    result = run_outlook(_state(ctx).repository(), target, asof, horizons=hs, k_analogues=k)
    if as_json:
        print_json(result.to_dict())
        return
    console.print(result.summary(), highlight=False)


@app.command()
def report(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option(help="Output file ('-' for stdout); default report.<format>.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="html, md or json.")] = "html",
    seed: Annotated[int, typer.Option(help="Seed of every bootstrap.")] = 0,
    replicates: Annotated[int, typer.Option(help="Bootstrap replicates.")] = 999,
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

    if fmt not in ("html", "md", "json"):
        raise typer.BadParameter(f"--format must be html, md or json, got {fmt!r}")
    payload = build_report(
        _state(ctx).repository(), ReportOptions(asof=asof, seed=seed, replicates=replicates)
    )
    if fmt == "json":
        text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
    elif fmt == "md":
        text = render_markdown(payload)
    else:
        text = render_html(payload)
    target = out if out is not None else Path(f"report.{fmt}")
    if str(target) == "-":
        sys.stdout.write(text)
        return
    target.write_text(text, encoding="utf-8")
    console.print(summary_box(payload), highlight=False, soft_wrap=True)
    console.print(f"wrote {target} ({len(text.encode()) / 1e6:.1f} MB)", highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port.")] = 8050,
) -> None:
    """Start the web dashboard (FastAPI) on HOST:PORT."""
    from havenflow.web import serve as run_server

    run_server(host, port)


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except HavenflowError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
