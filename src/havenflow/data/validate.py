"""Reading and validating tabular series files (CSV or Parquet).

Used for user imports (``havenflow data import``, ``--data``) and for building the bundled
dataset, so that both apply the same rules. A file is a date column and one or more value
columns. The rules, each failing with a :class:`DataValidationError` that names the file, the
line (CSV; "row" for Parquet) and the column:

- the file exists, is not empty, and is UTF-8 (a UTF-8 or UTF-16 byte-order mark is accepted);
- the date column holds full dates (``YYYY-MM-DD``, optionally with a midnight time and one
  time-zone offset for the whole column: the date is read as written in that zone); a year or
  a month alone, mixed offsets, and dates before 1800 or after tomorrow are refused;
- no date appears twice;
- every value is a finite number (empty cells are missing values and are dropped, and counted);
- prices, index levels and money stocks are strictly positive.

Rows that are not in date order are sorted, with a :class:`DataWarning` (exports from many
sites are newest-first); nothing else is repaired.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from havenflow.exceptions import DataValidationError, DataWarning

__all__ = ["EARLIEST_DATE", "ParsedFile", "parse_asof", "read_series_file", "validate_series"]

logger = logging.getLogger(__name__)

_DATE_NAMES = ("date", "observation_date", "time", "timestamp", "day")
_MISSING_TOKENS = frozenset({"", ".", "na", "nan", "null", "n/a", "#n/a"})


#: The earliest as-of date accepted: no series havenflow reads starts before it.
EARLIEST_DATE = pd.Timestamp("1800-01-01")
#: No value of a real series reaches this magnitude (prices, levels, rates, money in USD bn).
MAX_MAGNITUDE = 1e12


def _name(column: str) -> str:
    """A column or id as it appears in a message: quoted, escaped, at most 60 characters."""
    shown = repr(column)
    return shown if len(shown) <= 60 else shown[:57] + "...'"


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_asof(value: str | pd.Timestamp | dt.date, what: str = "--asof") -> pd.Timestamp:
    """A user's as-of date, checked: ``YYYY-MM-DD``, a real calendar day, 1800-01-01..today.

    Parameters
    ----------
    value
        The date as typed (or a Timestamp/date from Python code).
    what
        How the message names the input (``--asof``, ``asof``, a claim's ``on``...).

    Raises
    ------
    DataValidationError
        One line naming the input and the value, for a malformed day (``2026-13-01``,
        ``2026-02-30``, ``notadate``) or a date outside the range (a future as-of would report
        today's data as if it were known then).
    """
    if isinstance(value, pd.Timestamp | dt.date):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            raise DataValidationError(f"{what} must be a date, got NaT")
    else:
        text = str(value).strip()
        shown = text if len(text) <= 40 else text[:40] + "..."
        if not _ISO_DAY.fullmatch(text):
            raise DataValidationError(f"{what} must be a date as YYYY-MM-DD, got {shown!r}")
        try:
            stamp = pd.Timestamp(dt.date.fromisoformat(text))
        except ValueError as exc:
            raise DataValidationError(f"{what} {text} is not a calendar day ({exc})") from exc
    stamp = stamp.normalize() if stamp.tzinfo is None else stamp.tz_localize(None).normalize()
    today = pd.Timestamp(dt.date.today())
    if stamp < EARLIEST_DATE or stamp > today:
        raise DataValidationError(
            f"{what} {stamp.date()} is outside {EARLIEST_DATE.date()}..{today.date()} (today)"
        )
    return stamp


@dataclass(frozen=True)
class ParsedFile:
    """The validated content of a series file.

    Attributes
    ----------
    path
        The file that was read.
    series
        One float Series per value column, indexed by a sorted, unique DatetimeIndex named ``date``.
    dropped_missing
        Per column, how many empty cells were dropped.
    """

    path: Path
    series: dict[str, pd.Series]
    dropped_missing: dict[str, int]


def _decode(path: Path, raw: bytes) -> str:
    if not raw.strip():
        raise DataValidationError(f"{path}: the file is empty")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataValidationError(
                f"{path}: the file starts as UTF-16 text but is not (bad bytes at offset "
                f"{exc.start}: {exc.reason}); save it as UTF-8 and try again"
            ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataValidationError(
            f"{path}, line {line}: the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
            f"offset {exc.start}); save it as UTF-8 and try again"
        ) from exc


def _read_raw_frame(path: Path) -> tuple[pd.DataFrame, str]:
    """Read every cell as text; return the frame and the word for a row ("line" or "row")."""
    if not path.exists():
        raise DataValidationError(f"{path}: no such file")
    if path.is_dir():
        raise DataValidationError(f"{path}: is a directory, expected a CSV or Parquet file")
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:
            raise DataValidationError(f"{path}: not a readable Parquet file ({exc})") from exc
        if frame.empty:
            raise DataValidationError(f"{path}: the file has no rows")
        if not isinstance(frame.index, pd.RangeIndex):
            frame = frame.reset_index()
        return frame, "row"
    text = _decode(path, path.read_bytes())
    try:
        with warnings.catch_warnings():
            # index_col=False: a row longer than the header must not silently become an index.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                index_col=False,
            )
    except pd.errors.ParserWarning:
        raise DataValidationError(
            f"{path}, {_long_row(text)}: more fields than the header"
        ) from None
    except pd.errors.ParserError as exc:
        raise DataValidationError(f"{path}: not a well-formed CSV file ({exc})") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataValidationError(f"{path}: the file is empty") from exc
    if frame.empty:
        raise DataValidationError(f"{path}: the file has a header but no data rows")
    return frame, "line"


def _long_row(text: str) -> str:
    """The first line with more fields than the header ("line N")."""
    import csv

    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    for row in rows:
        if len(row) > len(header):
            return f"line {rows.line_num}"
    return "a line"


def _row_label(word: str, position: int) -> str:
    # CSV: line 1 is the header, so data row i (0-based) is on line i + 2.
    return f"line {position + 2}" if word == "line" else f"row {position + 1}"


def _find_date_column(path: Path, frame: pd.DataFrame, date_column: str | None) -> str:
    if date_column is not None:
        if date_column not in frame.columns:
            raise DataValidationError(
                f"{path}: no column {date_column!r}; columns are {list(frame.columns)}"
            )
        return date_column
    for col in frame.columns:
        if str(col).strip().lower() in _DATE_NAMES:
            return str(col)
    raise DataValidationError(
        f"{path}: no date column; expected one named one of {_DATE_NAMES}, "
        f"got columns {list(frame.columns)}"
    )


#: A full date, optionally a time and an offset (Z or +hh:mm): the groups are the date, the
#: time and the offset.
_DATE_TEXT = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)


def _date_bounds() -> tuple[pd.Timestamp, pd.Timestamp]:
    return EARLIEST_DATE, pd.Timestamp.today().normalize() + pd.Timedelta(days=1)


def _parse_date_text(path: Path, text: pd.Series, column: str, word: str) -> pd.DatetimeIndex:
    """Full ISO dates only; one offset for the column at most (the dates as written there)."""
    where = f"{path}, {{row}}, column {_name(column)}"
    parts = text.str.fullmatch(_DATE_TEXT.pattern)
    if not parts.all():
        i = int(np.flatnonzero(~parts.to_numpy())[0])
        value = text.iloc[i]
        partial = re.fullmatch(r"\d{4}(-\d{2})?", value) is not None
        why = (
            "a year or a month alone is not a date (which day?); write YYYY-MM-DD"
            if partial
            else "expected YYYY-MM-DD"
        )
        raise DataValidationError(
            where.format(row=_row_label(word, i)) + f": cannot parse date {_name(value)} ({why})"
        )
    found = text.str.extract(_DATE_TEXT.pattern)
    days, times, offsets = found[0], found[1].fillna(""), found[2].fillna("")
    # Bounds on the year before any conversion: 1000-01-01 or 9999-12-31 must be a clear
    # refusal, not an overflow of pandas' nanosecond timestamps.
    lo, hi = _date_bounds()
    years = days.str.slice(0, 4).astype(int).to_numpy()
    outside = (years < lo.year) | (years > hi.year)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise DataValidationError(
            where.format(row=_row_label(word, i))
            + f": date {days.iloc[i]} is outside {lo.date()}..{hi.date()}"
        )
    with_offset = (offsets != "").to_numpy()
    if with_offset.any():
        if not with_offset.all():
            i, j = int(np.flatnonzero(with_offset)[0]), int(np.flatnonzero(~with_offset)[0])
            raise DataValidationError(
                f"{path}, column {_name(column)}: {_row_label(word, i)} has a time-zone offset "
                f"({offsets.iloc[i]}) and {_row_label(word, j)} has none; use one convention"
            )
        canonical = offsets.str.replace("Z", "+00:00").str.replace(
            r"^([+-]\d{2})(\d{2})$", r"\1:\2", regex=True
        )
        hours = canonical.str.slice(1, 3).astype(int)
        minutes = canonical.str.slice(4, 6).astype(int)
        impossible = ((hours > 14) | (minutes > 59)).to_numpy()
        if impossible.any():
            i = int(np.flatnonzero(impossible)[0])
            raise DataValidationError(
                where.format(row=_row_label(word, i))
                + f": {_name(text.iloc[i])} has no such time-zone offset"
            )
        distinct = canonical.unique()
        if len(distinct) > 1:
            i = int(np.flatnonzero((canonical != distinct[0]).to_numpy())[0])
            raise DataValidationError(
                f"{path}, column {_name(column)}: mixed time-zone offsets ({distinct[0]} on "
                f"{_row_label(word, 0)}, {canonical.iloc[i]} on {_row_label(word, i)}); "
                "give the dates in one zone"
            )
    late = ~times.isin(["", "00:00", "00:00:00"]) & ~times.str.fullmatch(r"00:00:00\.0+")
    if late.any():
        i = int(np.flatnonzero(late.to_numpy())[0])
        raise DataValidationError(
            where.format(row=_row_label(word, i))
            + f": {_name(text.iloc[i])} has a time of day; havenflow series are daily or "
            "coarser, one value per date"
        )
    parsed = pd.to_datetime(days, errors="coerce", format="%Y-%m-%d")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            where.format(row=_row_label(word, i))
            + f": cannot parse date {_name(text.iloc[i])} (no such day)"
        )
    return pd.DatetimeIndex(parsed)


def _parse_dates(path: Path, values: pd.Series, column: str, word: str) -> pd.DatetimeIndex:
    missing = values.isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise DataValidationError(
            f"{path}, {_row_label(word, i)}, column {_name(column)}: the date is missing"
        )
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.Series(pd.to_datetime(values))
        if getattr(parsed.dt, "tz", None) is not None:
            # A zone-aware timestamp: its date as written in its zone.
            parsed = parsed.dt.tz_localize(None)
        lo, hi = _date_bounds()
        outside = ((parsed < lo) | (parsed > hi)).to_numpy()
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            raise DataValidationError(
                f"{path}, {_row_label(word, i)}, column {_name(column)}: date "
                f"{parsed.iloc[i]} is outside {lo.date()}..{hi.date()}"
            )
    else:
        text = values.astype(str).str.strip()
        parsed = pd.Series(_parse_date_text(path, text, column, word))
    index = pd.DatetimeIndex(parsed)
    not_midnight = index != index.normalize()
    if not_midnight.any():
        i = int(np.flatnonzero(not_midnight)[0])
        raise DataValidationError(
            f"{path}, {_row_label(word, i)}, column {column!r}: {index[i]} has a time of day; "
            "havenflow series are daily or coarser, one value per date"
        )
    return index.as_unit("ns")


def _parse_values(
    path: Path, values: pd.Series, column: str, word: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return float values (NaN for missing cells) and the mask of missing cells."""
    if pd.api.types.is_bool_dtype(values):
        # True/False are not measurements: storing them as 1.0/0.0 would invent a series.
        raise DataValidationError(
            f"{path}, column {_name(column)}: holds true/false values, not numbers"
        )
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(numbers)
    else:
        text = values.astype(str).str.strip()
        missing = text.str.lower().isin(_MISSING_TOKENS).to_numpy()
        numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(numbers) & ~missing
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{path}, {_row_label(word, i)}, column {column!r}: "
                f"{text.iloc[i]!r} is not a number"
            )
    infinite = np.isinf(numbers)
    if infinite.any():
        i = int(np.flatnonzero(infinite)[0])
        raise DataValidationError(
            f"{path}, {_row_label(word, i)}, column {column!r}: value is infinite"
        )
    return numbers, missing


def validate_series(
    dates: pd.DatetimeIndex,
    values: np.ndarray,
    *,
    where: str,
    column: str,
    positive: bool,
    row_label: str = "line",
) -> pd.Series:
    """Check one already-parsed column and return it as a sorted float Series.

    Parameters
    ----------
    dates
        Observation dates, one per value, in file order.
    values
        Float values in file order; NaN marks a missing cell, which is dropped.
    where
        The file (or source) name used in messages.
    column
        The column name used in messages.
    positive
        Whether values must be strictly positive.
    row_label
        ``"line"`` (CSV, 1-based with a header line) or ``"row"``.

    Returns
    -------
    pandas.Series
        Float values indexed by a sorted, unique DatetimeIndex named ``date``.
    """
    keep = ~np.isnan(values)
    if not keep.any():
        raise DataValidationError(
            f"{where}, column {_name(column)}: no values (every cell is empty)"
        )
    positions = np.flatnonzero(keep)
    kept_dates = dates[keep]
    kept_values = values[keep]
    # Bounds no real series crosses: finite, |value| < 1e12, dated 1800-01-01..tomorrow.
    absurd = ~np.isfinite(kept_values) | (np.abs(kept_values) >= MAX_MAGNITUDE)
    if absurd.any():
        j = int(np.flatnonzero(absurd)[0])
        raise DataValidationError(
            f"{where}, {_row_label(row_label, int(positions[j]))}, column {_name(column)}: "
            f"value {float(kept_values[j])!r} is not finite or not below {MAX_MAGNITUDE:.0e}"
        )
    latest = pd.Timestamp.today().normalize() + pd.Timedelta(days=1)
    outside = (kept_dates < EARLIEST_DATE) | (kept_dates > latest)
    if outside.any():
        j = int(np.flatnonzero(outside)[0])
        raise DataValidationError(
            f"{where}, {_row_label(row_label, int(positions[j]))}, column {_name(column)}: "
            f"date {kept_dates[j].date()} is outside {EARLIEST_DATE.date()}..{latest.date()}"
        )
    duplicated = kept_dates.duplicated(keep="first")
    if duplicated.any():
        j = int(np.flatnonzero(duplicated)[0])
        first = int(np.flatnonzero(kept_dates == kept_dates[j])[0])
        raise DataValidationError(
            f"{where}, {_row_label(row_label, int(positions[j]))}, column {column!r}: duplicate "
            f"date {kept_dates[j].date()} (first seen on "
            f"{_row_label(row_label, int(positions[first]))})"
        )
    if positive:
        bad = kept_values <= 0
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{where}, {_row_label(row_label, int(positions[j]))}, column {column!r}: "
                f"non-positive value {float(kept_values[j])!r} on {kept_dates[j].date()}; "
                "prices must be > 0"
            )
    series = pd.Series(kept_values, index=kept_dates, name=column, dtype=float)
    series.index.name = "date"
    if not series.index.is_monotonic_increasing:
        warnings.warn(
            f"{where}: rows of column {column!r} are not in date order; sorted them",
            DataWarning,
            stacklevel=3,
        )
        series = series.sort_index()
    return series


def read_series_file(
    path: str | Path,
    *,
    date_column: str | None = None,
    columns: list[str] | None = None,
    positive: bool = True,
) -> ParsedFile:
    """Read and validate a CSV or Parquet file of dated values.

    Parameters
    ----------
    path
        The file. ``.parquet``/``.pq`` is read as Parquet, anything else as CSV.
    date_column
        Name of the date column; by default the first column named like a date.
    columns
        Value columns to read; by default every other column.
    positive
        Whether values must be strictly positive (prices). Pass ``False`` for yields.

    Returns
    -------
    ParsedFile
        The validated series, one per value column.

    Raises
    ------
    DataValidationError
        With the file, line and column of the first problem found.
    """
    path = Path(path)
    frame, word = _read_raw_frame(path)
    date_col = _find_date_column(path, frame, date_column)
    value_cols = [str(c) for c in frame.columns if str(c) != date_col]
    if columns is not None:
        missing_cols = [c for c in columns if c not in value_cols]
        if missing_cols:
            raise DataValidationError(
                f"{path}: no column(s) {missing_cols}; value columns are {value_cols}"
            )
        value_cols = list(columns)
    if not value_cols:
        raise DataValidationError(f"{path}: only a date column {date_col!r}; no value columns")
    dates = _parse_dates(path, frame[date_col], date_col, word)
    series: dict[str, pd.Series] = {}
    dropped: dict[str, int] = {}
    for col in value_cols:
        numbers, missing = _parse_values(path, frame[col], col, word)
        series[col] = validate_series(
            dates, numbers, where=str(path), column=col, positive=positive, row_label=word
        )
        dropped[col] = int(missing.sum())
        if dropped[col]:
            logger.info("%s: dropped %d empty cells in column %r", path, dropped[col], col)
    return ParsedFile(path=path, series=series, dropped_missing=dropped)
