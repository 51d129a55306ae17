"""``havenflow network``: who leads whom across a whole universe (on Dask)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from havenflow.cli._common import AsJson, Freq, console, err_console, print_json, say, state
from havenflow.data.validate import parse_asof


def network(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Series ids (default: the catalog's daily series)."),
    ] = None,
    universe: Annotated[
        Path | None,
        typer.Option(help="A file of series ids (one per line, or a CSV's first column)."),
    ] = None,
    freq: Annotated[Freq, typer.Option(help="D (trading days), W or M.")] = Freq.D,
    max_lag: Annotated[int, typer.Option(help="Lags scanned, -N..N bars.", min=1, max=260)] = 20,
    method: Annotated[str, typer.Option(help="xcorr (the scan of `havenflow leadlag`).")] = "xcorr",
    asof: Annotated[str | None, typer.Option(help="Only data known on this date.")] = None,
    replicates: Annotated[
        int, typer.Option(help="Sign-flip draws per pair.", min=19, max=19_999)
    ] = 499,
    seed: Annotated[int, typer.Option(help="Seed: the same seed, the same network.")] = 0,
    scheduler: Annotated[
        str,
        typer.Option(
            help="sync (this process), local (a Dask LocalCluster sized to the machine) or "
            "tcp://HOST:PORT (an existing Dask cluster)."
        ),
    ] = "local",
    clusters: Annotated[
        int, typer.Option(help="Groups of the Hermitian clustering.", min=2, max=20)
    ] = 2,
    mode: Annotated[
        str,
        typer.Option(
            help="flow: leader and follower groups (Hermitian clustering); groups: one group "
            "per separate leader and the assets it leads."
        ),
    ] = "flow",
    top: Annotated[int, typer.Option(help="Pairs shown (by q-value).", min=1)] = 15,
    as_json: AsJson = False,
) -> None:
    """Scan every pair of a universe for lead-lag; score, rank and cluster the assets.

    Each pair gets the scan-adjusted p-value of `havenflow leadlag --method xcorr` and a
    Benjamini-Hochberg q-value across pairs; lags are signed with the leader first.
    """
    from havenflow.services.network import default_universe, read_universe, run_network

    if method != "xcorr":
        raise typer.BadParameter(
            f"{method!r}: the network scans with xcorr only (granger over a universe is not "
            "implemented)",
            param_hint="--method",
        )
    if mode not in ("flow", "groups"):
        raise typer.BadParameter(f"{mode!r}: flow or groups", param_hint="--mode")
    if asof is not None:
        parse_asof(asof)
    repo = state(ctx).repository()
    chosen = list(ids or [])
    if universe is not None:
        chosen += read_universe(universe)
    if not chosen:
        chosen = default_universe(repo, asof)
    for sid in chosen:
        repo.spec(sid)  # an unknown id: one line naming it, before any work

    def tick(done: int, total: int) -> None:
        if not as_json:
            err_console.print(f"chunks {done}/{total}", highlight=False)

    result = run_network(
        repo,
        chosen,
        freq=freq.value,
        max_lag=max_lag,
        asof=asof,
        replicates=replicates,
        seed=seed,
        scheduler=scheduler,
        clusters=clusters,
        mode=mode,
        progress=tick,
    )
    if as_json:
        print_json(result.to_dict())
        return
    say(result._summary_text())
    pairs = result.pairs.sort_values(["qvalue", "pvalue"]).head(top)
    table = Table(title=f"Pairs (lag in {result.lag_unit}; positive: the leader moves first)")
    for column in ("leader", "follower", "lag", "correlation", "p", "q"):
        table.add_column(column)
    for r in pairs.to_dict(orient="records"):
        table.add_row(
            r["leader"],
            r["follower"],
            f"{r['lag']:+d}",
            f"{r['correlation']:+.3f}",
            f"{r['pvalue']:.4f}",
            f"{r['qvalue']:.4f}",
        )
    console.print(table)
    scores = Table(title="Net lead score (significant pairs led - followed) / (N - 1)")
    for column in ("rank", "id", "score", "leads", "follows", "cluster"):
        scores.add_column(column)
    for r in result.scores.sort_values("rank").to_dict(orient="records"):
        scores.add_row(
            str(r["rank"]),
            r["id"],
            f"{r['score']:+.3f}",
            str(r["leads"]),
            str(r["follows"]),
            str(r["cluster"]),
        )
    console.print(scores)
    for c in result.to_dict()["clusters"]:
        flows = ", ".join(f"to group {d}: {v:+.3f}" for d, v in c["flow"].items())
        say(f"group {c['cluster']}: {', '.join(c['members'])} (flow {flows})")
