"""``havenflow leadlag``: whether one series leads another, by how much, how surely."""

from __future__ import annotations

import math
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from havenflow.cli._common import (
    AsJson,
    AsOf,
    Column,
    CovType,
    Format,
    Freq,
    InfoCriterion,
    Method,
    NullMethod,
    TableFormat,
    announce,
    console,
    emit_table,
    id_list,
    iso,
    print_json,
    progress,
    resolve_asof,
    state,
)
from havenflow.exceptions import HavenflowError


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _signed(v: Any) -> str:
    return "—" if _missing(v) else f"{int(v):+d}"


def _corr(v: Any) -> str:
    return "—" if _missing(v) else f"{float(v):+.3f}"


def _p(v: Any) -> str:
    return "—" if _missing(v) else f"{float(v):.4f}"


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
        Method, typer.Option(help="xcorr, granger, hy or var (VAR with block Granger tests).")
    ] = Method.xcorr,
    max_lag: Annotated[
        int | None,
        typer.Option(
            help="Largest lag in bars (default D 120, W 26, M 12; --method var: the largest "
            "VAR order, default D 20, W 8, M 6).",
            min=1,
            max=10_000,
        ),
    ] = None,
    freq: Annotated[Freq, typer.Option(help="D (trading days), W or M.")] = Freq.D,
    rolling: Annotated[
        bool,
        typer.Option(
            help="Scan in windows stepped monthly (a year of bars, or 4 x max-lag if longer), "
            "and judge the count of significant windows."
        ),
    ] = False,
    window: Annotated[
        int | None,
        typer.Option(
            help="Rolling window in bars (default a year, or 4 x max-lag if longer).", min=2
        ),
    ] = None,
    asof: AsOf = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.", min=0)] = 0,
    replicates: Annotated[
        int, typer.Option(help="Bootstrap replicates.", min=1, max=1_000_000)
    ] = 999,
    null: Annotated[
        NullMethod, typer.Option(help="Bootstrap null of the scan.")
    ] = NullMethod.multiplier,
    cov_type: Annotated[CovType, typer.Option(help="Granger covariance.")] = CovType.HAC,
    ic: Annotated[
        InfoCriterion, typer.Option(help="--method var: criterion for the lag order.")
    ] = InfoCriterion.bic,
    levels: Annotated[
        bool, typer.Option(help="Force price levels instead of returns (spurious: warned).")
    ] = False,
    as_json: AsJson = False,
    how: Format = TableFormat.table,
) -> None:
    """Does LEADER lead FOLLOWER, by how much, how sure? (positive lag: the leader moves first)."""
    from havenflow.analytics.leadlag import CrossCorrelationResult, RollingLeadLagResult
    from havenflow.services import LAG_UNITS, LeadLagRequest, run_leadlag, scan_pairs

    repo = state(ctx).repository()
    leaders, followers = id_list(leader), id_list(follower)
    choice = resolve_asof(repo, [*leaders, *followers] or [leader, follower], asof)
    base = LeadLagRequest(
        leader=leader,
        follower=follower,
        method=method.value,
        freq=freq.value,
        max_lag=max_lag,
        rolling=rolling,
        window=window,
        asof=iso(choice),
        seed=seed,
        replicates=replicates,
        null=null.value,
        cov_type=cov_type.value,
        levels=levels,
        ic=ic.value,
    )
    if method is not Method.var and len(leaders) * len(followers) > 1:
        with progress(f"scanning {len(leaders) * len(followers)} pairs", enabled=not as_json):
            scan = scan_pairs(repo, leaders, followers, base)
        announce(choice, asof)
        if as_json:
            print_json({**scan.to_dict(), "asof": iso(choice)})
            return
        frame = scan.to_frame()
        emit_table(
            f"lead-lag scan ({method.value}, {LAG_UNITS.get(freq.value, freq.value)}; "
            "q: Benjamini-Hochberg across the pairs)",
            [
                Column("leader", justify="left"),
                Column("follower", justify="left"),
                Column("best lag" if method is Method.xcorr else "lag order", _signed),
                Column("correlation", _corr),
                Column("p-value", _p),
                Column("q-value", _p),
            ],
            [
                [
                    r["leader"],
                    r["follower"],
                    r["lag"] if method is Method.xcorr else r["lag_order"],
                    r["correlation"],
                    r["pvalue"],
                    r["qvalue"],
                ]
                for _, r in frame.iterrows()
            ],
            how,
        )
        return
    if method is Method.var and not rolling and how is not TableFormat.table:
        raise HavenflowError(
            "--format csv/tsv prints tables: use --json for the VAR's tests and responses"
        )
    slow = rolling or method is Method.var or freq is Freq.D
    with progress(
        f"{'rolling ' if rolling else ''}{method.value} {leader} -> {follower}",
        enabled=slow and not as_json,
    ):
        result = run_leadlag(repo, base)
    announce(choice, asof)
    payload = {"frequency": freq.value, "asof": iso(choice), **result.to_dict()}
    if as_json:
        print_json(payload)
        return
    if isinstance(result, RollingLeadLagResult):
        if how is TableFormat.table:
            console.print(result.summary(), highlight=False)
        rows = [
            [
                pd.Timestamp(str(end)).date().isoformat(),
                r["lag"],
                r["lag_conf_low"],
                r["lag_conf_high"],
                r["correlation"],
                r["pvalue"],
            ]
            for end, r in result.to_frame().iterrows()
        ]
        if how is TableFormat.table:
            rows = rows[-12:]
        emit_table(
            "last 12 windows" if how is TableFormat.table else "windows",
            [
                Column("window end", justify="left"),
                Column(f"best lag ({result.lag_unit})", _signed),
                Column("lag 95% CI low", _signed),
                Column("lag 95% CI high", _signed),
                Column("correlation", _corr),
                Column("p-value", lambda v: "—" if v is None else f"{float(v):.3f}"),
            ],
            rows,
            how,
        )
        return
    if how is not TableFormat.table:
        _emit_rows(result, how)
        return
    console.print(result.summary(), highlight=False)
    if isinstance(result, CrossCorrelationResult):
        frame = result.to_frame()
        top = frame.reindex(frame["correlation"].abs().sort_values(ascending=False).index)[:5]
        table = Table(title="strongest lags", header_style="bold")
        for col in (f"lag ({result.lag_unit})", "correlation", "null band 2.5%", "97.5%"):
            table.add_column(col, justify="right")
        for lag, r in top.iterrows():
            table.add_row(
                f"{lag:+d}",
                _corr(r["correlation"]),
                _corr(r["null_lower"]),
                _corr(r["null_upper"]),
            )
        console.print(table)


def _emit_rows(result: object, how: TableFormat) -> None:
    """One pair's main table as CSV/TSV rows: the profile (xcorr, HY) or the tests (Granger)."""
    from havenflow.analytics.leadlag import (
        CrossCorrelationResult,
        GrangerResult,
        HayashiYoshidaResult,
    )
    from havenflow.exceptions import HavenflowError

    if isinstance(result, CrossCorrelationResult):
        frame = result.to_frame()
        emit_table(
            "profile",
            [
                Column(f"lag ({result.lag_unit})", _signed),
                Column("correlation", _corr),
                Column("null band 2.5%", _corr),
                Column("null band 97.5%", _corr),
            ],
            [
                [lag, r["correlation"], r["null_lower"], r["null_upper"]]
                for lag, r in frame.iterrows()
            ],
            how,
        )
    elif isinstance(result, GrangerResult):
        emit_table(
            "tests",
            [
                Column("direction", justify="left"),
                Column(f"lag order ({result.lag_unit})", _signed),
                Column("F", _corr),
                Column("df_num", _signed),
                Column("df_denom", _signed),
                Column("p-value", _p),
            ],
            [
                [t["direction"], t["lag_order"], t["stat"], t["df_num"], t["df_denom"], t["pvalue"]]
                for t in result.tests
            ],
            how,
        )
    elif isinstance(result, HayashiYoshidaResult):
        emit_table(
            "profile",
            [Column(f"lag ({result.lag_unit})"), Column("contrast", _corr)],
            [[row["lag"], row["contrast"]] for row in result.profile],
            how,
        )
    else:
        raise HavenflowError(
            "--format csv/tsv prints tables: use --json for the VAR's tests and responses"
        )
