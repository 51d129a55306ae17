"""Market state: ``summary``, ``snapshot``, ``divergence``, ``drivers``, ``safehaven``."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from havenflow.cli._common import (
    AsJson,
    AsOf,
    Column,
    DriverFreq,
    Format,
    TableFormat,
    Window,
    announce,
    console,
    emit_table,
    fmt,
    fmt_points,
    iso,
    print_json,
    resolve_asof,
    say,
    state,
)
from havenflow.universe import SUMMARY_IDS


def _pct(value: float | None) -> float | None:
    return None if value is None else 100 * value


def _show_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}"


def summary(ctx: typer.Context, asof: AsOf = None, as_json: AsJson = False) -> None:
    """Summarise the universe as of a date: last value, 1M/3M/1Y moves, all-time high."""
    from havenflow.analytics.overview import WINDOWS, overview
    from havenflow.services import CORE_IDS

    repo = state(ctx).repository()
    choice = resolve_asof(repo, CORE_IDS, asof, context=SUMMARY_IDS)
    when = choice.asof
    loaded = repo.load_many(SUMMARY_IDS, when)
    result = overview(
        {k: v.values for k, v in loaded.items()}, {k: v.spec for k, v in loaded.items()}, when
    )
    announce(choice, asof)
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
        *(f"{w} (simple %, or pp)" for w in WINDOWS),
        "all-time high",
        "high date",
        "from high (simple %)",
        "origin",
    ):
        table.add_column(col, justify="left" if col in {"id", "origin"} else "right")
    for a in result.assets:
        pct = a.move_unit == "return"
        moves = [_show_pct(_pct(a.moves[w])) if pct else fmt(a.moves[w]) + " pp" for w in WINDOWS]
        table.add_row(
            a.id,
            a.last_date,
            fmt(a.last),
            *moves,
            fmt(a.high),
            a.high_date,
            _show_pct(_pct(a.from_high)),
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
    say(
        "moves: simple returns in % for prices; changes in percentage points (pp) for yields. "
        "Bundled market closes are sample data: see DATA-NOTICE.md.",
        dim=True,
    )


def snapshot(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None, typer.Argument(help="Series ids (default: the claim's universe).")
    ] = None,
    asof: AsOf = None,
    as_json: AsJson = False,
    how: Format = TableFormat.table,
) -> None:
    """Returns, volatility, drawdowns, ranks, all-time highs and breakouts (claims C1, C2)."""
    from havenflow.services import CORE_IDS, SNAPSHOT_IDS, run_snapshot

    repo = state(ctx).repository()
    if ids:
        choice = resolve_asof(repo, ids, asof)
    else:
        choice = resolve_asof(repo, CORE_IDS, asof, context=SNAPSHOT_IDS)
    result = run_snapshot(repo, ids or None, iso(choice))
    announce(choice, asof)
    if as_json:
        print_json(result.to_dict())
        return
    columns = [
        Column("id", justify="left"),
        Column("last", fmt),
        *(Column(f"{w} (simple %)", _show_pct) for w in result.windows),
        Column("vol 1Y (ann. %)", lambda v: "—" if v is None else f"{v:.0f}"),
        Column("ATH", fmt),
        Column("ATH date"),
        Column("from ATH (simple %)", _show_pct),
        Column("new highs (bars)", lambda v: v or "—"),
    ]
    rows = []
    for a in result.assets:
        vol = a.windows["1Y"].volatility if "1Y" in a.windows else None
        rows.append(
            [
                a.id,
                a.last,
                *(_pct(a.windows[w].ret) for w in result.windows),
                _pct(vol),
                a.ath,
                a.ath_date,
                _pct(a.drawdown_from_ath),
                ",".join(str(b.bars) for b in a.breakouts if b.is_new_high),
            ]
        )
    title = f"havenflow snapshot as of {result.asof} (returns: simple, in %)"
    emit_table(title, columns, rows, how)
    if how is not TableFormat.table:
        return
    best = ", ".join(f"{w} {k}" for w, k in result.best_performer.items() if k)
    say(f"best performer: {best}  (new highs: N-bar closing highs; ranks in --json)")
    for note in result.notes:
        say(note, dim=True)


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

    repo = state(ctx).repository()
    choice = resolve_asof(repo, [a, b], asof)
    result = run_divergence(repo, a, b, iso(choice))
    announce(choice, asof)
    if as_json:
        print_json(result.to_dict(history=history))
        return
    lat = result.latest
    say(f"Divergence {a} vs {b} as of {result.asof}")
    say(
        f"relative strength {a}/{b}: {lat['relative_strength']:.4g} "
        f"(z {fmt(lat['relative_strength_z'])} vs trailing {result.spec.zscore_window} bars)"
    )
    for s in lat["spreads"]:
        say(
            f"{s['bars']}-bar return spread (log return of {a} minus {b}): "
            f"{fmt_points(s['spread'], 'log points')} (z {fmt(s['spread_z'])})"
        )
    for c in lat["correlations"]:
        flag = " BREAKDOWN" if c["breakdown"] else ""
        say(
            f"{c['window']}-bar correlation {fmt(c['correlation'])} "
            f"(percentile {fmt(c['percentile'], digits=0)} of its history){flag}"
        )


def drivers(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="The asset to explain.")] = "silver",
    freq: Annotated[DriverFreq, typer.Option(help="D (trading days) or W.")] = DriverFreq.D,
    window: Annotated[Window, typer.Option(help="Attribution window.")] = Window.M3,
    years: Annotated[
        float, typer.Option(help="Years of data for the betas.", min=0.01, max=30.0)
    ] = 3.0,
    implied_by: Annotated[
        str | None, typer.Option(help="Claim C9: ASSET's factor-implied move in this rally.")
    ] = None,
    asof: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Regress ASSET on real yields, dollar, rate expectations, equities, VIX (claims C5, C9)."""
    from havenflow.services import DRIVER_IDS, run_drivers

    repo = state(ctx).repository()
    needed = [asset, *([implied_by] if implied_by else []), *DRIVER_IDS.values(), "ust_2y"]
    choice = resolve_asof(repo, needed, asof)
    out = run_drivers(
        repo,
        asset,
        freq=freq.value,
        asof=iso(choice),
        window=window.value,
        years=years,
        implied_by=implied_by,
    ).to_dict()
    announce(choice, asof)
    if as_json:
        print_json(out)
        return
    reg = out["regression"]
    table = Table(
        title=f"{asset}: {reg['frequency']} log returns on drivers, {reg['start']}..{reg['end']} "
        f"(n={reg['nobs']}, R² {reg['rsquared']:.2f}, {reg['cov_type']})",
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
            f"{c['pvalue']:.3g}",
        )
    console.print(table)
    att = out["attribution"]
    say(
        f"{asset} {att['start']}..{att['end']}: {100 * att['actual']:+.1f} log points "
        f"({100 * att['actual_simple_return']:+.1f}% simple); drivers explain "
        f"{100 * att['explained']:+.1f}, drift {100 * att['drift']:+.1f}, "
        f"unexplained {100 * att['unexplained']:+.1f} (log points)"
    )
    for p in att["contributions"]:
        say(
            f"  {out['driver_labels'][p['driver']]:<38} {100 * p['contribution']:+6.1f} "
            f"[{100 * p['ci_low']:+.1f}, {100 * p['ci_high']:+.1f}] log points"
        )
    if out["implied_by"] is not None:
        t = out["implied_by"]["target"]
        say(
            f"if {asset} had reacted only to the drivers of {implied_by}'s move "
            f"({100 * out['implied_by']['reference_simple_return']:+.1f}% simple): implied "
            f"{100 * t['implied']:+.1f} log points (95% CI {100 * t['ci_low']:+.1f}.."
            f"{100 * t['ci_high']:+.1f}; with residual noise {100 * t['prediction_low']:+.1f}.."
            f"{100 * t['prediction_high']:+.1f}), actual {100 * t['actual']:+.1f} log points"
        )
    for note in out["notes"]:
        say(note, dim=True)


def safehaven(
    ctx: typer.Context,
    asof: AsOf = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.", min=0)] = 0,
    as_json: AsJson = False,
) -> None:
    """Hedge and safe-haven tests for gold, silver, bitcoin; BTC in stress (claims C4, C7)."""
    from havenflow.services import run_safehaven

    repo = state(ctx).repository()
    choice = resolve_asof(repo, ["gold", "silver", "bitcoin", "sp500", "vix"], asof)
    out = run_safehaven(repo, iso(choice), seed).to_dict()
    announce(choice, asof)
    if as_json:
        print_json(out)
        return
    table = Table(
        title=f"hedge / safe haven against the S&P 500 as of {out['asof']} (daily log returns)",
        header_style="bold",
    )
    for col in ("asset", "hedge slope", "verdict", "10% tail", "5% tail", "1% tail"):
        table.add_column(col, justify="left" if col == "asset" else "right")
    for r in out["regressions"]:
        tails = [f"{t['total_slope']:+.2f} ({t['verdict']})" for t in r["safe_haven"]]
        table.add_row(r["asset"], f"{r['hedge']['slope']:+.2f}", r["hedge"]["verdict"], *tails)
    console.print(table)
    cc = out["conditional_correlation"]
    for c in cc["correlations"]:
        say(
            f"bitcoin vs {c['partner']}: stress {c['stress']:+.2f} "
            f"[{c['stress_ci'][0]:+.2f}, {c['stress_ci'][1]:+.2f}], calm {c['calm']:+.2f} "
            f"[{c['calm_ci'][0]:+.2f}, {c['calm_ci'][1]:+.2f}] "
            f"({cc['n_stress_days']} stress / {cc['n_calm_days']} calm days)"
        )
    say(out["stress_definition"], dim=True)
