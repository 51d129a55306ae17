"""``havenflow data import``: put a user's CSV or Parquet series into the store."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from havenflow.catalog import KINDS, Kind, load_catalog, user_spec
from havenflow.data.store import ObservationBatch, Store
from havenflow.data.validate import _name, read_series_file
from havenflow.exceptions import DataValidationError

__all__ = ["ImportResult", "import_file"]

_ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")


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
    existing: Literal["refuse", "replace", "append"] = "refuse",
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
    existing
        What to do when the store already has the id: ``refuse`` (default), ``replace`` its
        values, or ``append`` (add and revise dates; the kind must be the same).

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
    if name is not None and not name.strip():
        raise DataValidationError(f"{path}: --name is empty")
    if name is not None and len(parsed.series) != 1:
        raise DataValidationError(
            f"{path}: --name needs exactly one value column, found {list(parsed.series)}; "
            "pick one with --column"
        )
    batches: list[ObservationBatch] = []
    results: list[ImportResult] = []
    stored_meta = store.metadata()  # one read for every column
    seen: dict[str, str] = {}
    for col, values in parsed.series.items():
        series_id = name if name is not None else col.strip().lower().replace(" ", "_")
        # fullmatch: "$" alone would accept an id ending in a newline.
        if not _ID_PATTERN.fullmatch(series_id):
            raise DataValidationError(
                f"{path}, column {_name(col)}: {_name(series_id)} is not a valid series id "
                "(lowercase letters, digits and _, starting with a letter, at most 64); use --name"
            )
        if series_id in seen:
            raise DataValidationError(
                f"{path}: columns {_name(seen[series_id])} and {_name(col)} both become "
                f"{series_id!r}; import them one at a time with --column and --name"
            )
        seen[series_id] = col
        stored = stored_meta.get(series_id)
        if stored is not None:
            if existing == "refuse":
                raise DataValidationError(
                    f"{path}: the store already has {series_id!r}; pass --replace to replace "
                    "its values or --append to add to them"
                )
            if existing == "append" and stored.get("kind") != kind:
                raise DataValidationError(
                    f"{path}: {series_id!r} is stored as a {stored.get('kind')}; appending "
                    f"{kind} values to it would mix kinds (use --replace)"
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
    # A replace happens inside the write's transaction: a failed write loses nothing.
    store.write(batches, replace_ids=[b.spec.id for b in batches] if existing == "replace" else ())
    return results
