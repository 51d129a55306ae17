"""``havenflow data import``: put a user's CSV or Parquet series into the store."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from havenflow.catalog import KINDS, Kind, load_catalog, user_spec
from havenflow.data.store import ObservationBatch, Store
from havenflow.data.validate import read_series_file
from havenflow.exceptions import DataValidationError

__all__ = ["ImportResult", "import_file"]

_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    series_id: str
    rows: int
    first: str
    last: str
    dropped_missing: int


def import_file(
    store: Store,
    path: str | Path,
    *,
    name: str | None = None,
    column: str | None = None,
    kind: str = "price",
    replace_catalog: bool = False,
) -> list[ImportResult]:
    """Validate a file and write its series to the store in one transaction.

    Parameters
    ----------
    store
        Target store.
    path
        CSV or Parquet file with a date column and value columns.
    name
        Series id for a file with one value column (or with ``column``); by default each
        value column's own name.
    column
        The value column to import, when the file has several.
    kind
        ``price`` (values must be > 0), ``index_level``, ``yield_pct``, ``rate_pct``,
        ``spread_pct`` or ``money_stock``.
    replace_catalog
        Allow an id that the catalog already uses (the stored user series then takes
        precedence over live and bundled data).

    Raises
    ------
    DataValidationError
        For a bad file, id or kind; nothing is written.
    """
    if kind not in KINDS:
        raise DataValidationError(f"kind must be one of {KINDS}, got {kind!r}")
    path = Path(path)
    spec_kind: Kind = kind  # type: ignore[assignment]
    positive = kind in {"price", "index_level"}
    parsed = read_series_file(path, columns=[column] if column else None, positive=positive)
    if name is not None and len(parsed.series) != 1:
        raise DataValidationError(
            f"{path}: --name needs exactly one value column, found {list(parsed.series)}; "
            "pick one with --column"
        )
    batches: list[ObservationBatch] = []
    results: list[ImportResult] = []
    for col, values in parsed.series.items():
        series_id = name or col.strip().lower().replace(" ", "_")
        if not _ID_PATTERN.match(series_id):
            raise DataValidationError(
                f"{path}, column {col!r}: {series_id!r} is not a valid series id "
                "(lowercase letters, digits and _, starting with a letter); use --name"
            )
        if series_id in load_catalog() and not replace_catalog:
            raise DataValidationError(
                f"{path}: {series_id!r} is a catalog series; choose another --name "
                "(or pass --replace-catalog to override it)"
            )
        spec = user_spec(series_id, kind=spec_kind, name=f"{col} from {path.name}")
        batches.append(ObservationBatch(spec, values, f"user:{path.name}", col))
        results.append(
            ImportResult(
                series_id,
                len(values),
                values.index[0].date().isoformat(),
                values.index[-1].date().isoformat(),
                parsed.dropped_missing[col],
            )
        )
    store.write(batches)
    return results
