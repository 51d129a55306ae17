"""The lead-lag network of a universe, point-in-time: load, align, scan on Dask."""

from __future__ import annotations

from pathlib import Path

from havenflow.analytics.network import LeadLagNetwork, NetworkResult, ProgressCallback
from havenflow.catalog import load_catalog
from havenflow.data.repository import DataRepository
from havenflow.exceptions import DataValidationError
from havenflow.services._load import _has_data, aligned_moves

__all__ = ["default_universe", "read_universe", "run_network"]

_UNIT = {"D": "trading days", "W": "weeks", "M": "months"}


def default_universe(repo: DataRepository, asof: str | None = None) -> list[str]:
    """The catalog's daily market series with data by ``asof``, and the store's own series.

    Markets, yields, rates and the dollar; money stocks are left out (the reverse-repo
    facility sat at zero for months: no log return).
    """
    daily = {"exchange", "crypto", "business"}
    ids = [s.id for s in load_catalog().values() if s.calendar in daily and s.kind != "money_stock"]
    ids += [s for s in repo.ids() if s not in load_catalog() and s not in ids]
    return [s for s in ids if _has_data(repo, s, asof)]


def read_universe(path: Path) -> list[str]:
    """Series ids from a file: one per line, or a CSV whose first column (or ``id``) holds them."""
    import pandas as pd

    if not path.exists():
        raise DataValidationError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, dtype=str, header=None, comment="#", skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path}: not a readable list of ids ({exc})") from None
    column = frame.iloc[:, 0].str.strip()
    if len(column) and column.iloc[0] == "id":
        column = column.iloc[1:]
    ids = [i for i in column if i]
    if not ids:
        raise DataValidationError(f"{path}: no series id in it")
    return list(dict.fromkeys(ids))


def run_network(
    repo: DataRepository,
    ids: list[str],
    *,
    freq: str = "D",
    max_lag: int = 20,
    asof: str | None = None,
    replicates: int = 499,
    seed: int | None = 0,
    scheduler: str = "local",
    clusters: int = 2,
    mode: str = "flow",
    progress: ProgressCallback | None = None,
) -> NetworkResult:
    """Every pair of ``ids``: moves aligned point-in-time on one calendar (dates all share)."""
    ids = list(dict.fromkeys(ids))
    if len(ids) < 3:
        raise DataValidationError(f"a network needs at least 3 series, got {len(ids)}")
    moves, _ = aligned_moves(repo, ids, freq, asof)
    moves = moves.dropna(how="any")
    return LeadLagNetwork(moves, max_lag=max_lag, lag_unit=_UNIT.get(freq, "bars")).fit(
        replicates,
        seed=seed,
        scheduler=scheduler,
        clusters=clusters,
        mode=mode,
        progress=progress,
    )
