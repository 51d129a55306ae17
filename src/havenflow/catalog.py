"""The series catalog: which series exist, where they come from, their calendar and unit.

The catalog is data (``catalog.toml`` inside the package); this module reads and validates it
lazily, on first use, never at import time.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, cast, get_args

from havenflow.exceptions import DataValidationError, UnknownSeriesError

__all__ = [
    "CALENDARS",
    "KINDS",
    "Calendar",
    "Kind",
    "SeriesSpec",
    "SourceRef",
    "get_spec",
    "load_catalog",
    "user_spec",
]

Kind = Literal["price", "index_level", "yield_pct", "rate_pct", "spread_pct", "money_stock"]
Calendar = Literal["crypto", "exchange", "business", "weekly", "monthly"]
Licence = Literal["open", "caution", "sample", "user"]
KINDS: tuple[str, ...] = get_args(Kind)
CALENDARS: tuple[str, ...] = get_args(Calendar)

#: Kinds whose values move in percentage points: their "return" is a first difference.
DIFFERENCED_KINDS = frozenset({"yield_pct", "rate_pct", "spread_pct"})


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A live source and the provider's symbol for one series."""

    source: str
    symbol: str


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    """Everything havenflow knows about a series, except its values.

    Attributes
    ----------
    id
        Short stable identifier used everywhere (``silver``, ``real_yield_10y``).
    name
        Human-readable description.
    kind
        ``price``, ``index_level``, ``yield_pct``, ``rate_pct``, ``spread_pct`` or ``money_stock``.
    unit
        Unit of the values.
    calendar
        ``crypto`` (every day), ``exchange``, ``business``, ``weekly`` or ``monthly``.
    known_lag_days
        Days after the end of an observation's period before its value was public.
    sources
        Live sources, primary first.
    embedded_file, embedded_column
        Where the bundled values come from, or ``None`` for live-only series.
    licence
        ``open``, ``caution``, ``sample`` or ``user``.
    attribution
        The attribution to print next to the data.
    sessions
        The days its market is open (holidays excluded), for aligning onto trading days.
    release
        Its release schedule (``h10``, ``h41``, ``h6``, ``cpi``, ``next_session``), if any.
    """

    id: str
    name: str
    kind: Kind
    unit: str
    calendar: Calendar
    known_lag_days: int
    sources: tuple[SourceRef, ...]
    embedded_file: str | None
    embedded_column: str | None
    licence: Licence
    attribution: str
    #: The market's sessions (:mod:`havenflow.data.calendars`): an exchange_calendars name,
    #: ``us_federal``, ``24/7`` or ``weekdays``; None for weekly and monthly series.
    sessions: str | None = None
    #: The release schedule deciding when a value became public (:mod:`havenflow.data.releases`);
    #: None: ``known_lag_days`` after the end of its period.
    release: str | None = None

    @property
    def is_differenced(self) -> bool:
        """Whether changes (not returns) are the natural transformation of this series."""
        return self.kind in DIFFERENCED_KINDS

    @property
    def must_be_positive(self) -> bool:
        """Whether a non-positive value is impossible (prices and index levels).

        Money stocks are excluded: the reverse-repo facility really was at zero in 2019-2020.
        """
        return self.kind in {"price", "index_level"}


#: A catalog entry's sessions when it names none, by its calendar.
DEFAULT_SESSIONS: dict[str, str | None] = {
    "crypto": "24/7",
    "exchange": "XNYS",
    "business": "us_federal",
    "weekly": None,
    "monthly": None,
}


def _parse_entry(raw: dict[str, Any], where: str) -> SeriesSpec:
    try:
        kind = raw["kind"]
        calendar = raw["calendar"]
        if kind not in KINDS:
            raise DataValidationError(f"{where}: kind must be one of {KINDS}, got {kind!r}")
        if calendar not in CALENDARS:
            raise DataValidationError(
                f"{where}: calendar must be one of {CALENDARS}, got {calendar!r}"
            )
        embedded = raw.get("embedded")
        release = raw.get("release")
        if release is not None:
            from havenflow.data.releases import RELEASES

            if release not in RELEASES:
                raise DataValidationError(
                    f"{where}: release must be one of {list(RELEASES)}, got {release!r}"
                )
        return SeriesSpec(
            id=str(raw["id"]),
            name=str(raw["name"]),
            kind=cast(Kind, kind),
            unit=str(raw["unit"]),
            calendar=cast(Calendar, calendar),
            known_lag_days=int(raw["known_lag_days"]),
            sources=tuple(SourceRef(str(s["source"]), str(s["symbol"])) for s in raw["sources"]),
            embedded_file=None if embedded is None else str(embedded["file"]),
            embedded_column=None if embedded is None else str(embedded["column"]),
            licence=cast(Licence, raw["licence"]),
            attribution=str(raw["attribution"]),
            sessions=raw.get("sessions", DEFAULT_SESSIONS[calendar]),
            release=release,
        )
    except KeyError as exc:
        raise DataValidationError(f"{where}: missing field {exc.args[0]!r}") from exc


@functools.cache
def load_catalog() -> dict[str, SeriesSpec]:
    """Read the packaged catalog.

    Returns
    -------
    dict
        Series id to :class:`SeriesSpec`, in catalog order.
    """
    text = resources.files("havenflow").joinpath("catalog.toml").read_text(encoding="utf-8")
    entries = tomllib.loads(text)["series"]
    specs: dict[str, SeriesSpec] = {}
    for i, raw in enumerate(entries):
        spec = _parse_entry(raw, f"catalog.toml series #{i + 1}")
        if spec.id in specs:
            raise DataValidationError(f"catalog.toml: duplicate series id {spec.id!r}")
        specs[spec.id] = spec
    return specs


def get_spec(series_id: str) -> SeriesSpec:
    """Return the catalog entry of ``series_id``.

    Raises
    ------
    UnknownSeriesError
        If the id is not in the catalog; the message lists the known ids.
    """
    catalog = load_catalog()
    try:
        return catalog[series_id]
    except KeyError:
        known = ", ".join(catalog)
        raise UnknownSeriesError(
            f"unknown series {series_id!r}; the catalog knows: {known}"
        ) from None


def user_spec(series_id: str, *, kind: Kind = "price", name: str | None = None) -> SeriesSpec:
    """Build the spec of a user-supplied series (imported file or ``--data``)."""
    return SeriesSpec(
        id=series_id,
        name=name or f"user series {series_id}",
        kind=kind,
        unit="as supplied",
        calendar="business",
        known_lag_days=0,
        sources=(),
        embedded_file=None,
        embedded_column=None,
        licence="user",
        attribution="supplied by the user",
        # Unknown market: it restricts no one's sessions (its own gaps are carried forward).
        sessions="weekdays",
    )
