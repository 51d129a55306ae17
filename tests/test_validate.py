from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from havenflow.data.validate import read_series_file
from havenflow.exceptions import DataValidationError, DataWarning


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_clean_csv_with_missing_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "date,a,b\n2024-01-02,1.5,.\n2024-01-03,2.5,3\n")
    parsed = read_series_file(path)
    assert list(parsed.series) == ["a", "b"]
    assert parsed.series["a"].tolist() == [1.5, 2.5]
    assert parsed.series["b"].index.tolist() == [pd.Timestamp("2024-01-03")]
    assert parsed.dropped_missing == {"a": 0, "b": 1}


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            "date,v\n2024-01-02,1\n2024-13-45,2\n",
            r"in.csv, line 3, column 'date': cannot parse date '2024-13-45'",
        ),
        (
            "date,v\n2024-01-02,1\n2024-01-02,2\n",
            r"line 3, column 'v': duplicate date 2024-01-02 \(first seen on line 2\)",
        ),
        ("date,v\n2024-01-02,1\n2024-01-03,abc\n", r"line 3, column 'v': 'abc' is not a number"),
        (
            "date,v\n2024-01-02,1\n2024-01-03,-4\n",
            r"line 3, column 'v': non-positive value -4.0 on 2024-01-03",
        ),
        ("date,v\n2024-01-02,0\n", r"line 2, column 'v': non-positive value 0.0"),
        ("date,v\n2024-01-02,inf\n", r"line 2, column 'v': value is infinite"),
        ("date,v\n", r"header but no data rows"),
        ("when,v\n2024-01-02,1\n", r"no date column"),
        ("date\n2024-01-02\n", r"no value columns"),
        ("date,v\n2024-01-02 13:00,1\n", r"has a time of day"),
        ("date,v\n2024-01-02,.\n", r"no values \(every cell is empty\)"),
    ],
)
def test_bad_csv_names_file_line_and_column(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(DataValidationError, match=pattern):
        read_series_file(write(tmp_path, text))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"in.csv: the file is empty"):
        read_series_file(write(tmp_path, ""))


def test_wrong_encoding_names_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("date,v\n2024-01-02,1\n2024-01-03,2 \xe9\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"latin.csv, line 3: the file is not UTF-8"):
        read_series_file(path)


def test_utf16_and_bom_are_accepted(tmp_path: Path) -> None:
    p16 = tmp_path / "u16.csv"
    p16.write_bytes("date,v\n2024-01-02,1\n".encode("utf-16"))
    assert read_series_file(p16).series["v"].iloc[0] == 1.0
    pbom = tmp_path / "bom.csv"
    pbom.write_bytes(b"\xef\xbb\xbfdate,v\n2024-01-02,3\n")
    assert read_series_file(pbom).series["v"].iloc[0] == 3.0


def test_unsorted_rows_are_sorted_with_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "Date,v\n2024-01-04,3\n2024-01-02,1\n2024-01-03,2\n")
    with pytest.warns(DataWarning, match="not in date order; sorted"):
        parsed = read_series_file(path)
    assert parsed.series["v"].tolist() == [1.0, 2.0, 3.0]
    assert parsed.series["v"].index.is_monotonic_increasing


def test_yields_may_be_negative_when_not_prices(tmp_path: Path) -> None:
    parsed = read_series_file(write(tmp_path, "date,y\n2020-08-06,-1.08\n"), positive=False)
    assert parsed.series["y"].iloc[0] == -1.08


def test_parquet_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-02", "2024-01-02"]), "v": [1.0, 2.0]}
    ).to_parquet(path)
    with pytest.raises(DataValidationError, match=r"x.parquet, row 2, column 'v': duplicate date"):
        read_series_file(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="no such file"):
        read_series_file(tmp_path / "nope.csv")
    with pytest.raises(DataValidationError, match="is a directory"):
        read_series_file(tmp_path)
