"""Where a series' values come from: user files, the store, or the bundled data.

:class:`DataRepository` is what the analytics, report and CLI ask for data. For each id it
looks, in order, at series from ``--data`` files, at the store, and at the bundled dataset, and
says which one answered (``origin``), so that nobody mistakes a stale bundled close for a fresh
one. ``asof`` truncates to what was known on that date.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import numpy as np
import pandas as pd

from havenflow.catalog import Kind, SeriesSpec, get_spec, load_catalog, user_spec
from havenflow.data.align import spec_known_dates
from havenflow.data.embedded import embedded_ids, embedded_series
from havenflow.data.store import Store
from havenflow.data.validate import parse_asof, read_series_file
from havenflow.exceptions import InsufficientDataError, UnknownSeriesError

__all__ = ["DataRepository", "LoadedSeries", "Origin"]

logger = logging.getLogger(__name__)

Origin = Literal["user", "store", "embedded"]


@dataclass(frozen=True)
class LoadedSeries:
    """A series' values with their spec and where they came from."""

    spec: SeriesSpec
    values: pd.Series
    origin: Origin
    detail: str
    #: Each value's publication date where the store has ALFRED's vintages (else the spec's
    #: release schedule decides: :meth:`known_dates`).
    known: np.ndarray | None = field(default=None, repr=False)
    #: ALFRED's vintages of the series (the store's ``vintages`` rows), or None.
    vintages: pd.DataFrame | None = field(default=None, repr=False)
    #: With vintages: the latest observation's value as published at each publication time
    #: (indexed by that time), for anything reported date by date.
    realtime: pd.Series | None = field(default=None, repr=False)

    def as_known(self) -> tuple[np.ndarray, pd.Series]:
        """Publication times and the values to carry from them, for date-by-date use.

        With vintages, the real-time series (no revision before it was published); otherwise
        each value from its known date.
        """
        if self.realtime is not None:
            return self.realtime.index.to_numpy(dtype="datetime64[ns]"), self.realtime
        return self.known_dates(), self.values

    def known_dates(self) -> np.ndarray:
        """The date each value became public (``datetime64[ns]``, one per value)."""
        if self.known is not None:
            return self.known
        return spec_known_dates(self.spec, pd.DatetimeIndex(self.values.index))

    @property
    def first(self) -> pd.Timestamp:
        """First date."""
        return pd.Timestamp(self.values.index[0])

    @property
    def last(self) -> pd.Timestamp:
        """Last date."""
        return pd.Timestamp(self.values.index[-1])


@dataclass
class DataRepository:
    """Loads series by id from user files, the store and the bundled data, in that order.

    Parameters
    ----------
    store
        The DuckDB store, or ``None`` to use bundled (and user) data only.
    user_files
        Files given with ``--data``: each value column becomes a series named after it.
    """

    store: Store | None = None
    user_files: Sequence[Path] = ()
    _user: dict[str, LoadedSeries] = field(default_factory=dict, init=False, repr=False)
    # Memo of whole series and of the store's metadata: a command (or a report, or one web
    # request) reads each series from disk once, however many analyses use it. A repository
    # lives as long as one command or request, so the memo never outlives a store update.
    _loaded: dict[str, LoadedSeries] = field(default_factory=dict, init=False, repr=False)
    _meta: dict[str, dict[str, object]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        for path in self.user_files:
            parsed = read_series_file(path, positive=False)
            for column, values in parsed.series.items():
                spec = user_spec(column, name=f"{column} from {path.name}")
                self._user[column] = LoadedSeries(spec, values, "user", str(path))

    def spec(self, series_id: str) -> SeriesSpec:
        """The spec of ``series_id``: user file, catalog, or the store's metadata."""
        if series_id in self._user:
            return self._user[series_id].spec
        try:
            return get_spec(series_id)
        except UnknownSeriesError:
            meta = self._store_metadata().get(series_id)
            if meta is None:
                raise
            return user_spec(
                series_id,
                kind=cast(Kind, meta.get("kind") or "price"),
                name=str(meta.get("name") or series_id),
            )

    def _store_metadata(self) -> dict[str, dict[str, object]]:
        if self._meta is None:
            self._meta = self.store.metadata() if self.store is not None else {}
        return self._meta

    def user_ids(self) -> list[str]:
        """Ids of the series read from ``--data`` files."""
        return list(self._user)

    def ids(self) -> list[str]:
        """Every id that can be loaded: catalog, stored and user series."""
        out = list(load_catalog())
        if self.store is not None:
            out += [s for s in self._store_metadata() if s not in out]
        out += [s for s in self._user if s not in out]
        return out

    def load(self, series_id: str, asof: str | pd.Timestamp | None = None) -> LoadedSeries:
        """Load one series, truncated to what was known on ``asof`` (if given).

        Raises
        ------
        UnknownSeriesError
            If no source has the id.
        InsufficientDataError
            If the series has no value known on or before ``asof``.
        """
        loaded = self._load_full(series_id)
        if asof is None:
            return loaded
        cutoff = parse_asof(asof, "asof")
        if loaded.vintages is not None:
            loaded = _as_published(loaded, cutoff)
        known = loaded.known_dates()
        mask = known <= cutoff.to_datetime64()
        if not mask.any():
            raise InsufficientDataError(
                f"series {series_id!r} has no value known on or before {cutoff.date()} "
                f"(it starts {loaded.first.date()})"
            )
        return LoadedSeries(
            loaded.spec,
            loaded.values[mask],
            loaded.origin,
            loaded.detail,
            known[mask],
            loaded.vintages,
            loaded.realtime,
        )

    def load_many(
        self, series_ids: Iterable[str], asof: str | pd.Timestamp | None = None
    ) -> dict[str, LoadedSeries]:
        """Load several series (see :meth:`load`); the store is read once for all of them."""
        ids = list(series_ids)
        self._prefetch(ids)
        return {sid: self.load(sid, asof) for sid in ids}

    def _prefetch(self, series_ids: list[str]) -> None:
        """Read every id not yet loaded (and not a user file) from the store in one go."""
        if self.store is None:
            return
        todo = [s for s in series_ids if s not in self._loaded and s not in self._user]
        if len(todo) < 2:
            return
        for sid, values in self.store.read_many(todo).items():
            self._loaded[sid] = self._with_vintages(
                self._with_bundled_past(self.spec(sid), values, str(self.store.path))
            )

    def _with_vintages(self, loaded: LoadedSeries) -> LoadedSeries:
        """The stored series with ALFRED's vintages attached, when the store has them."""
        meta = self._store_metadata().get(loaded.spec.id, {})
        # A series the user imported (even under a catalog id) is not ALFRED's.
        if self.store is None or not meta.get("vintages") or meta.get("origin") == "user":
            return loaded
        vintages = self.store.read_vintages(loaded.spec.id)
        if vintages is None:
            return loaded
        current = LoadedSeries(
            loaded.spec,
            loaded.values,
            loaded.origin,
            f"{loaded.detail} (ALFRED vintages)",
            vintages=vintages,
        )
        return _as_published(current, None)

    def _with_bundled_past(self, spec: SeriesSpec, stored: pd.Series, where: str) -> LoadedSeries:
        """The stored series, preceded by the bundled values before its first date.

        A live source's history can start later than the bundled one (Coinbase's Bitcoin in
        2015, the bundle in 2014): an update must never shorten what havenflow knows. A series
        the user imported stands alone (never mixed with bundled values).
        """
        live = self._store_metadata().get(spec.id, {}).get("origin") == "live"
        if live and spec.id in embedded_ids():
            bundled = embedded_series(spec.id)
            earlier = bundled[bundled.index < stored.index[0]] if len(stored) else bundled
            if len(earlier):
                values = pd.concat([earlier, stored]).rename(stored.name)
                detail = f"{where} (before {stored.index[0].date()}: the bundled data)"
                return LoadedSeries(spec, values, "store", detail)
        return LoadedSeries(spec, stored, "store", where)

    def _load_full(self, series_id: str) -> LoadedSeries:
        if series_id not in self._loaded:
            self._loaded[series_id] = self._read_full(series_id)
        return self._loaded[series_id]

    def _read_full(self, series_id: str) -> LoadedSeries:
        if series_id in self._user:
            return self._user[series_id]
        spec = self.spec(series_id)
        if self.store is not None:
            stored = self.store.read(series_id)
            if stored is not None:
                return self._with_vintages(
                    self._with_bundled_past(spec, stored, str(self.store.path))
                )
        if series_id in embedded_ids():
            logger.info("%s: not in the store; using the bundled data", series_id)
            return LoadedSeries(
                spec, embedded_series(series_id), "embedded", "bundled with havenflow"
            )
        raise UnknownSeriesError(
            f"series {series_id!r} has no data: it is not in the store and not bundled; "
            f"run `havenflow data update {series_id}`"
        )


def _as_published(loaded: LoadedSeries, cutoff: pd.Timestamp | None) -> LoadedSeries:
    """The series as published on ``cutoff`` (``None``: the latest vintage), from its vintages.

    ``values``: each observation as the vintage in effect on ``cutoff`` gives it, known from
    its first vintage's ``realtime_start`` (for statistics estimated as of ``cutoff``).
    ``realtime``: the series as it was seen date by date: at each publication (a first release
    or a revision), the latest observation's value as published then, so nothing reported for
    a date before ``cutoff`` uses a revision published after it.

    ALFRED's archive starts at some date: observations already in its first vintage were
    published before it, on a day the archive does not give, so they are known from the
    series' release schedule, with the first vintage's value (the earliest on record). Values
    the vintages do not cover (the bundled past, dates fetched later without a key) are known
    from the release schedule too.
    """
    vintages = loaded.vintages
    assert vintages is not None
    spec = loaded.spec
    archive_start = vintages["realtime_start"].min()
    when = vintages["realtime_end"].max() if cutoff is None else max(cutoff, archive_start)
    live = vintages[(vintages["realtime_start"] <= when) & (vintages["realtime_end"] >= when)]
    live = live.drop_duplicates("date", keep="last").set_index("date")
    first = vintages.groupby("date")["realtime_start"].min().loc[live.index]
    index = pd.DatetimeIndex(live.index).as_unit("ns")
    published = first.to_numpy(dtype="datetime64[ns]")
    archived = published <= np.datetime64(archive_start, "ns")
    known = np.where(archived, spec_known_dates(spec, index), published)
    covered = (vintages["date"].min(), vintages["date"].max())
    early = loaded.values[loaded.values.index < covered[0]]
    late = loaded.values[loaded.values.index > covered[1]]
    values = pd.concat(
        [early, pd.Series(live["value"].to_numpy(dtype=float), index=index), late]
    ).rename(loaded.values.name)
    values.index = pd.DatetimeIndex(values.index, name=loaded.values.index.name).as_unit("ns")
    all_known = np.concatenate(
        [
            spec_known_dates(spec, pd.DatetimeIndex(early.index)),
            known,
            spec_known_dates(spec, pd.DatetimeIndex(late.index)),
        ]
    ).astype("datetime64[ns]")
    realtime = _realtime(spec, vintages, early, late, archive_start, cutoff)
    return LoadedSeries(spec, values, loaded.origin, loaded.detail, all_known, vintages, realtime)


def _realtime(
    spec: SeriesSpec,
    vintages: pd.DataFrame,
    early: pd.Series,
    late: pd.Series,
    archive_start: pd.Timestamp,
    cutoff: pd.Timestamp | None,
) -> pd.Series:
    """The latest observation's value as published at each publication time, up to ``cutoff``."""
    dates = pd.DatetimeIndex(vintages["date"]).as_unit("ns")
    starts = vintages["realtime_start"].to_numpy(dtype="datetime64[ns]")
    first_row = ~pd.Series(dates).duplicated().to_numpy()
    archived = starts <= np.datetime64(archive_start, "ns")
    # A first vintage at the archive's start: published on the schedule's day instead.
    pub = np.where(archived & first_row, spec_known_dates(spec, dates), starts)
    later_archived = archived & ~first_row  # other rows that claim the archive's first day
    pub = np.where(later_archived, np.maximum(pub, starts), pub)
    extra = pd.concat([early, late])
    table = pd.DataFrame(
        {
            "pub": np.concatenate(
                [pub, spec_known_dates(spec, pd.DatetimeIndex(extra.index))]
            ).astype("datetime64[ns]"),
            "obs": np.concatenate(
                [dates.to_numpy(), pd.DatetimeIndex(extra.index).as_unit("ns").to_numpy()]
            ),
            "value": np.concatenate(
                [vintages["value"].to_numpy(dtype=float), extra.to_numpy(dtype=float)]
            ),
        }
    ).sort_values(["pub", "obs"], kind="stable")
    if cutoff is not None:
        table = table[table["pub"] <= np.datetime64(cutoff, "ns")]
    current: dict[np.datetime64, float] = {}
    latest: np.datetime64 | None = None
    times: list[np.datetime64] = []
    seen: list[float] = []
    for when, group in table.groupby("pub", sort=True):
        for obs, value in zip(group["obs"].to_numpy(), group["value"].to_numpy(), strict=True):
            current[obs] = float(value)
            latest = obs if latest is None or obs > latest else latest
        assert latest is not None
        value_now = current[latest]
        if seen and seen[-1] == value_now and times:
            continue  # a revision of an older observation: the latest value is unchanged
        times.append(np.datetime64(pd.Timestamp(str(when)), "ns"))
        seen.append(value_now)
    index = pd.DatetimeIndex(times, name="published").as_unit("ns")
    return pd.Series(seen, index=index, name=spec.id, dtype=float)
