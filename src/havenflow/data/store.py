"""The embedded DuckDB store: observations and series metadata, written atomically.

One file (``store.duckdb``) under the user's data directory (``platformdirs``), or under
``$HAVENFLOW_HOME`` when set. Tables:

- ``observations(series_id, date, value, source, fetched_at)``, one row per series and date;
- ``revisions``: every value a later fetch superseded, with its fetch and supersede times;
- ``vintages(series_id, date, value, realtime_start, realtime_end, fetched_at)``: ALFRED's
  vintages of a FRED series (fetched with ``FRED_API_KEY``): the value of each observation as
  published from ``realtime_start`` to ``realtime_end`` inclusive;
- ``series_meta(series_id, name, kind, unit, calendar, source, symbol, licence, attribution,
  origin, updated_at)``.

Every :meth:`Store.write` is one transaction: a write that fails, or a process killed half-way,
leaves the store exactly as it was. DuckDB lets one process write at a time; a second writer
waits up to ``busy_timeout`` seconds and then gets :class:`StoreBusyError`. Connections are
opened per operation so that the lock is held only while writing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import platformdirs

from havenflow.catalog import SeriesSpec
from havenflow.exceptions import DataValidationError, StoreBusyError, StoreError

__all__ = ["ObservationBatch", "Store", "default_home"]

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    series_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    value DOUBLE NOT NULL,
    source VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS revisions (
    series_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    value DOUBLE NOT NULL,
    source VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    superseded_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS vintages (
    series_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    value DOUBLE NOT NULL,
    realtime_start DATE NOT NULL,
    realtime_end DATE NOT NULL,
    fetched_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS series_meta (
    series_id VARCHAR PRIMARY KEY,
    name VARCHAR, kind VARCHAR, unit VARCHAR, calendar VARCHAR,
    source VARCHAR, symbol VARCHAR, licence VARCHAR, attribution VARCHAR,
    origin VARCHAR, known_lag_days INTEGER, updated_at TIMESTAMP
);
"""


def default_home() -> Path:
    """The data directory: ``$HAVENFLOW_HOME`` or the platform's user data directory."""
    env = os.environ.get("HAVENFLOW_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("havenflow", appauthor=False))


@dataclass(frozen=True)
class ObservationBatch:
    """Values of one series to write, with where they came from.

    Attributes
    ----------
    spec
        The series' catalog (or user) entry, stored as its metadata.
    values
        Float values on a sorted unique DatetimeIndex.
    source
        ``fred``, ``yahoo``, ``coinbase``, ``stooq`` or ``user:<file>``.
    symbol
        The provider's symbol (or the column of a user file).
    """

    spec: SeriesSpec
    values: pd.Series
    source: str
    symbol: str
    #: ALFRED's vintages of the fetched window (``date``, ``value``, ``realtime_start``,
    #: ``realtime_end``), or None.
    vintages: pd.DataFrame | None = None


VINTAGE_COLUMNS = ["date", "value", "realtime_start", "realtime_end"]


class Store:
    """The DuckDB store at ``path`` (default: ``default_home() / "store.duckdb"``).

    Parameters
    ----------
    path
        Database file; created, with its directory, on the first write.
    busy_timeout
        Seconds to wait for another process's write lock before :class:`StoreBusyError`.
    """

    def __init__(self, path: str | Path | None = None, *, busy_timeout: float = 10.0) -> None:
        self.path = Path(path) if path is not None else default_home() / "store.duckdb"
        self.busy_timeout = busy_timeout

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        """Whether the database file exists yet."""
        return self.path.exists()

    @contextlib.contextmanager
    def _connect(self, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.05
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise StoreError(f"cannot open store {self.path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"store busy: another process is writing to {self.path}; "
                        "try again when it has finished"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except duckdb.Error as exc:
                raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        try:
            if not read_only:
                con.execute(SCHEMA)
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def connect(self, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the store file, for tables of other layers (the monitor's state).

        Same rules as the store's own: opened for one operation, a writer waits for the lock
        up to ``busy_timeout`` and then gets :class:`StoreBusyError`; the store's own tables
        are created first.
        """
        with self._connect(read_only=read_only) as con:
            yield con

    def _has_tables(self, con: duckdb.DuckDBPyConnection) -> bool:
        row = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'observations'"
        ).fetchone()
        return bool(row and row[0])

    def read(
        self,
        series_id: str,
        start: str | pd.Timestamp | None = None,
        end: str | pd.Timestamp | None = None,
        *,
        known_at: str | pd.Timestamp | None = None,
    ) -> pd.Series | None:
        """Return the stored values of ``series_id`` (``None`` if the store has none).

        ``known_at``: the values as the store knew them at that time (UTC): every value
        fetched by then, each as it stood before any later revision.
        """
        if not self.exists:
            return None
        if known_at is None:
            query = "SELECT date, value FROM observations WHERE series_id = ?"
            params: list[object] = [series_id]
        else:
            when = pd.Timestamp(known_at)
            when = when.tz_convert(None) if when.tz is not None else when
            current = "SELECT date, value FROM observations WHERE series_id = ? AND fetched_at <= ?"
            past = (
                "SELECT date, value FROM revisions"
                " WHERE series_id = ? AND fetched_at <= ? AND superseded_at > ?"
            )
            query = f"SELECT date, value FROM ({current} UNION ALL {past}) WHERE TRUE"
            params = [series_id, when, series_id, when, when]
        if start is not None:
            query += " AND date >= ?"
            params.append(pd.Timestamp(start).date())
        if end is not None:
            query += " AND date <= ?"
            params.append(pd.Timestamp(end).date())
        query += " ORDER BY date"
        with self._connect(read_only=True) as con:
            if not self._has_tables(con):
                return None
            if known_at is not None and not self._has_revisions(con):
                # A store written before revisions were kept: its current values, by fetch time.
                query = query.replace(f" UNION ALL {past}", "")
                params = params[:2] + params[5:]
            frame = con.execute(query, params).df()
        if frame.empty:
            return None
        index = pd.DatetimeIndex(pd.to_datetime(frame["date"]), name="date").as_unit("ns")
        return pd.Series(frame["value"].to_numpy(dtype=float), index=index, name=series_id)

    def _has_revisions(self, con: duckdb.DuckDBPyConnection) -> bool:
        row = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'revisions'"
        ).fetchone()
        return bool(row and row[0])

    def revisions(self, series_id: str) -> pd.DataFrame:
        """Every superseded value of ``series_id``: date, value, source, fetched and superseded."""
        columns = ["date", "value", "source", "fetched_at", "superseded_at"]
        if not self.exists:
            return pd.DataFrame(columns=columns)
        with self._connect(read_only=True) as con:
            if not self._has_revisions(con):
                return pd.DataFrame(columns=columns)
            return con.execute(
                "SELECT date, value, source, fetched_at, superseded_at FROM revisions "
                "WHERE series_id = ? ORDER BY date, fetched_at",
                [series_id],
            ).df()

    def vintage_ids(self) -> list[str]:
        """The series with ALFRED vintages in the store."""
        if not self.exists:
            return []
        with self._connect(read_only=True) as con:
            return self._vintage_ids(con)

    def _vintage_ids(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        row = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'vintages'"
        ).fetchone()
        if not (row and row[0]):
            return []
        return [
            str(r[0]) for r in con.execute("SELECT DISTINCT series_id FROM vintages").fetchall()
        ]

    def read_vintages(self, series_id: str) -> pd.DataFrame | None:
        """ALFRED's vintages of ``series_id`` (``None`` when none were stored).

        Columns ``date``, ``value``, ``realtime_start``, ``realtime_end`` (each a day; the
        current vintage ends 9999-12-31), sorted by date and ``realtime_start``.
        """
        if not self.exists:
            return None
        with self._connect(read_only=True) as con:
            row = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'vintages'"
            ).fetchone()
            if not (row and row[0]):
                return None
            frame = con.execute(
                "SELECT date, value, CAST(realtime_start AS VARCHAR) AS realtime_start,"
                " CAST(realtime_end AS VARCHAR) AS realtime_end FROM vintages"
                " WHERE series_id = ? ORDER BY date, realtime_start",
                [series_id],
            ).df()
        if frame.empty:
            return None
        return _vintage_frame(frame)

    def read_many(self, series_ids: Iterable[str]) -> dict[str, pd.Series]:
        """The stored values of each of ``series_ids`` that the store has, in ONE connection."""
        ids = list(dict.fromkeys(series_ids))
        if not ids or not self.exists:
            return {}
        with self._connect(read_only=True) as con:
            if not self._has_tables(con):
                return {}
            frame = con.execute(
                "SELECT series_id, date, value FROM observations "
                "WHERE list_contains(?, series_id) ORDER BY series_id, date",
                [ids],
            ).df()
        out: dict[str, pd.Series] = {}
        for sid, part in frame.groupby("series_id", sort=False):
            index = pd.DatetimeIndex(pd.to_datetime(part["date"]), name="date").as_unit("ns")
            out[str(sid)] = pd.Series(
                part["value"].to_numpy(dtype=float), index=index, name=str(sid)
            )
        return out

    def last_dates(self) -> dict[str, pd.Timestamp]:
        """The last stored date of every series."""
        if not self.exists:
            return {}
        with self._connect(read_only=True) as con:
            if not self._has_tables(con):
                return {}
            rows = con.execute(
                "SELECT series_id, max(date) FROM observations GROUP BY series_id"
            ).fetchall()
        return {str(sid): pd.Timestamp(last) for sid, last in rows}

    def summary(self) -> pd.DataFrame:
        """Per stored series: first and last date, rows, source, origin and update time."""
        columns = ["series_id", "first", "last", "rows", "source", "origin", "updated_at"]
        if not self.exists:
            return pd.DataFrame(columns=columns)
        with self._connect(read_only=True) as con:
            if not self._has_tables(con):
                return pd.DataFrame(columns=columns)
            return con.execute(
                """
                SELECT o.series_id, min(o.date) AS first, max(o.date) AS last,
                       count(*) AS rows, any_value(m.source) AS source,
                       any_value(m.origin) AS origin, any_value(m.updated_at) AS updated_at
                FROM observations o LEFT JOIN series_meta m USING (series_id)
                GROUP BY o.series_id ORDER BY o.series_id
                """
            ).df()

    def metadata(self) -> dict[str, dict[str, object]]:
        """Stored metadata rows by series id (user-imported series live only here).

        Each row has a ``vintages`` flag: whether ALFRED vintages of the series are stored.
        """
        if not self.exists:
            return {}
        with self._connect(read_only=True) as con:
            if not self._has_tables(con):
                return {}
            frame = con.execute("SELECT * FROM series_meta").df()
            vintaged = set(self._vintage_ids(con))
        return {
            str(r["series_id"]): {str(k): v for k, v in r.items()}
            | {"vintages": r["series_id"] in vintaged}
            for r in frame.to_dict(orient="records")
        }

    def write(
        self,
        batches: Mapping[str, ObservationBatch] | list[ObservationBatch],
        *,
        replace_ids: Iterable[str] = (),
    ) -> int:
        """Upsert every batch in ONE transaction; return the number of rows written.

        A stored value a batch revises moves to ``revisions`` (with the time it was
        superseded); other dates are kept. The series of ``replace_ids`` lose every stored
        value first, in the same transaction (kept in ``revisions``).

        Raises
        ------
        DataValidationError
            If a batch has duplicate, unsorted or missing values (nothing is written).
        StoreBusyError
            If another process holds the write lock for longer than ``busy_timeout``.
        """
        items = list(batches.values()) if isinstance(batches, Mapping) else list(batches)
        ids = [b.spec.id for b in items]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise DataValidationError(f"two batches write {dup!r}: one per series and write")
        replaced = list(dict.fromkeys(replace_ids))
        staged = []
        now = datetime.now(UTC).replace(tzinfo=None)
        for batch in items:
            values = batch.values
            if not isinstance(values.index, pd.DatetimeIndex):
                raise DataValidationError(f"{batch.spec.id}: index must be a DatetimeIndex")
            if values.index.has_duplicates or not values.index.is_monotonic_increasing:
                raise DataValidationError(f"{batch.spec.id}: dates must be sorted and unique")
            if values.isna().any():
                raise DataValidationError(
                    f"{batch.spec.id}: missing value on {values.index[values.isna()][0].date()}"
                )
            staged.append(
                pd.DataFrame(
                    {
                        "series_id": batch.spec.id,
                        "date": values.index.as_unit("us").normalize(),
                        "value": values.to_numpy(dtype=float),
                        "source": batch.source,
                        "fetched_at": now,
                    }
                )
            )
        if not staged:
            return 0
        frame = pd.concat(staged, ignore_index=True)
        vintage_parts = [
            _vintage_frame(b.vintages).assign(series_id=b.spec.id, fetched_at=now)
            for b in items
            if b.vintages is not None and len(b.vintages)
        ]
        vintages = (
            pd.concat(vintage_parts, ignore_index=True)[
                ["series_id", *VINTAGE_COLUMNS, "fetched_at"]
            ]
            if vintage_parts
            else None
        )
        meta = pd.DataFrame(
            [
                {
                    "series_id": b.spec.id,
                    "name": b.spec.name,
                    "kind": b.spec.kind,
                    "unit": b.spec.unit,
                    "calendar": b.spec.calendar,
                    "source": b.source,
                    "symbol": b.symbol,
                    "licence": b.spec.licence,
                    "attribution": b.spec.attribution,
                    "origin": "user" if b.spec.licence == "user" else "live",
                    "known_lag_days": b.spec.known_lag_days,
                    "updated_at": now,
                }
                for b in items
            ]
        )
        with self._connect(read_only=False) as con:
            con.register("staged", frame)
            con.register("staged_meta", meta)
            con.execute("BEGIN TRANSACTION")
            try:
                if replaced:
                    con.execute(
                        "INSERT INTO revisions SELECT series_id, date, value, source, fetched_at,"
                        " ? FROM observations WHERE list_contains(?, series_id)",
                        [now, replaced],
                    )
                    con.execute(
                        "DELETE FROM observations WHERE list_contains(?, series_id)", [replaced]
                    )
                    # A replaced series (a user's import under that id) is no longer ALFRED's.
                    con.execute(
                        "DELETE FROM vintages WHERE list_contains(?, series_id)", [replaced]
                    )
                # History is never overwritten: a value a new fetch revises moves to
                # `revisions`, with the time it was superseded ("the store as it knew X").
                con.execute(
                    """
                    INSERT INTO revisions
                    SELECT o.series_id, o.date, o.value, o.source, o.fetched_at, s.fetched_at
                    FROM observations AS o JOIN staged AS s
                      ON o.series_id = s.series_id AND o.date = CAST(s.date AS DATE)
                    WHERE o.value <> s.value
                    """
                )
                con.execute(
                    """
                    DELETE FROM observations AS o USING staged AS s
                    WHERE o.series_id = s.series_id AND o.date = CAST(s.date AS DATE)
                      AND o.value <> s.value
                    """
                )
                # An unchanged value keeps its first fetch time (it was known since then).
                con.execute(
                    """
                    INSERT INTO observations
                    SELECT s.series_id, CAST(s.date AS DATE), s.value, s.source, s.fetched_at
                    FROM staged AS s
                    WHERE NOT EXISTS (
                        SELECT 1 FROM observations AS o
                        WHERE o.series_id = s.series_id AND o.date = CAST(s.date AS DATE)
                    )
                    """
                )
                if vintages is not None:
                    # ALFRED's record of the fetched window replaces ours of it: its vintages
                    # are themselves the history (a revision closes the old vintage's
                    # realtime_end, it does not erase it).
                    con.register("staged_vintages", vintages)
                    con.execute(
                        """
                        DELETE FROM vintages AS v USING (
                            SELECT series_id, min(date) AS first FROM staged_vintages
                            GROUP BY series_id
                        ) AS w
                        WHERE v.series_id = w.series_id AND v.date >= CAST(w.first AS DATE)
                        """
                    )
                    con.execute(
                        "INSERT INTO vintages SELECT series_id, CAST(date AS DATE), value,"
                        " CAST(realtime_start AS DATE), CAST(realtime_end AS DATE), fetched_at"
                        " FROM staged_vintages"
                    )
                con.execute("INSERT OR REPLACE INTO series_meta SELECT * FROM staged_meta")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        logger.info("wrote %d observations of %d series to %s", len(frame), len(items), self.path)
        return len(frame)

    def delete(self, series_id: str) -> int:
        """Remove a series and its metadata in one transaction; return rows removed."""
        if not self.exists:
            return 0
        with self._connect(read_only=False) as con:
            con.execute("BEGIN TRANSACTION")
            row = con.execute(
                "SELECT count(*) FROM observations WHERE series_id = ?", [series_id]
            ).fetchone()
            con.execute("DELETE FROM observations WHERE series_id = ?", [series_id])
            # An explicit delete removes the series' past values too (nothing left behind).
            con.execute("DELETE FROM revisions WHERE series_id = ?", [series_id])
            con.execute("DELETE FROM vintages WHERE series_id = ?", [series_id])
            con.execute("DELETE FROM series_meta WHERE series_id = ?", [series_id])
            con.execute("COMMIT")
        return int(row[0]) if row else 0


#: ALFRED's "still current" end of a vintage.
OPEN_END = pd.Timestamp("2262-04-11")  # the latest day a datetime64[ns] holds; 9999-12-31 maps here


def _vintage_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Vintage rows with day-resolution dates; ALFRED's 9999-12-31 becomes :data:`OPEN_END`."""

    def days(column: pd.Series) -> pd.Series:
        text = column.astype(str).str.slice(0, 10)
        text = text.where(text < OPEN_END.date().isoformat(), OPEN_END.date().isoformat())
        return pd.to_datetime(text, format="%Y-%m-%d").astype("datetime64[ns]")

    out = pd.DataFrame(
        {
            "date": pd.to_datetime(raw["date"]).astype("datetime64[ns]").dt.normalize(),
            "value": raw["value"].to_numpy(dtype=float),
            "realtime_start": days(raw["realtime_start"]),
            "realtime_end": days(raw["realtime_end"]),
        }
    )
    return out.sort_values(["date", "realtime_start"], kind="stable").reset_index(drop=True)
