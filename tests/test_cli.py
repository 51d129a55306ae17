from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from havenflow.catalog import load_catalog
from havenflow.cli import app
from havenflow.data.embedded import embedded_series

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=True)
    if result.exception and not isinstance(result.exception, SystemExit):
        from havenflow.exceptions import HavenflowError

        if isinstance(result.exception, HavenflowError):
            return 2, str(result.exception)
        raise result.exception
    # On success, stdout alone (JSON stays parseable; the as-of note goes to stderr).
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def test_data_list_json_lists_every_catalog_series_with_real_ranges(home: Path) -> None:
    code, out = run("data", "list", "--json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)["series"]}
    assert set(load_catalog()) <= set(rows)
    silver = rows["silver"]
    values = embedded_series("silver")
    assert silver["origin"] == "embedded"
    assert silver["first"] == values.index[0].date().isoformat() == "2000-08-30"
    assert silver["last"] == "2026-07-10"
    assert silver["rows"] == len(values)
    assert rows["cpi"]["origin"] == "missing"
    assert rows["cpi"]["rows"] == 0


def test_data_list_table(home: Path) -> None:
    code, out = run("data", "list")
    assert code == 0
    assert "real_yield_10y" in out
    assert "embedded" in out


def test_data_show_asof(home: Path) -> None:
    code, out = run("data", "show", "silver", "--asof", "2026-01-23", "--json", "--tail", "2")
    assert code == 0
    doc = json.loads(out)
    assert doc["last"] == "2026-01-23"
    assert doc["values"][-1] == {"date": "2026-01-23", "value": pytest.approx(100.925)}


def test_data_show_before_series_starts(home: Path) -> None:
    code, out = run("data", "show", "bitcoin", "--asof", "2010-01-01")
    assert code == 2
    assert "no value known on or before 2010-01-01" in out


def test_import_then_list_and_bad_import_writes_nothing(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "deficit.csv"
    good.write_text("date,value\n2023-12-31,-184\n2024-12-31,-149\n")
    code, out = run(
        "data", "import", str(good), "--name", "silver_deficit", "--kind", "money_stock"
    )
    assert code == 0, out
    assert "imported silver_deficit: 2 rows" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("date,value\n2024-01-01,1\n2024-01-01,2\n")
    code, out = run("data", "import", str(bad), "--name", "other")
    assert code == 2
    assert "bad.csv, line 3, column 'value': duplicate date 2024-01-01" in out
    code, out = run("data", "list", "--json")
    ids = {r["id"]: r for r in json.loads(out)["series"]}
    assert ids["silver_deficit"]["origin"] == "store"
    assert "other" not in ids


def test_global_data_option_feeds_commands(home: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text("date,my_index\n2024-01-02,10\n2024-01-03,11\n")
    code, out = run("--data", str(mine), "data", "show", "my_index", "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["origin"] == "user"
    assert doc["rows"] == 2


def test_export_aligned_weekly(home: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "x.csv"
    code, out = run(
        "data",
        "export",
        "silver",
        "bitcoin",
        "--out",
        str(out_file),
        "--freq",
        "W",
        "--asof",
        "2026-01-23",
    )
    assert code == 0, out
    frame = pd.read_csv(out_file, parse_dates=["date"])
    assert frame["date"].iloc[-1] == pd.Timestamp("2026-01-23")
    assert frame["date"].dt.day_of_week.eq(4).all()
    assert frame["silver"].iloc[-1] == pytest.approx(100.925)


def test_summary_json_asof_is_point_in_time(home: Path) -> None:
    code, out = run("summary", "--asof", "2026-01-23", "--json")
    assert code == 0, out
    doc = json.loads(out)
    silver = next(a for a in doc["assets"] if a["id"] == "silver")
    assert silver["last_date"] == "2026-01-23"
    assert silver["high"] == pytest.approx(100.925)
    assert silver["from_high"] == pytest.approx(0.0)
    # Recompute the 1M move by hand from the data: last close on or before 2025-12-23.
    values = embedded_series("silver")
    base = values[:"2025-12-23"].iloc[-1]
    assert silver["moves"]["1M"] == pytest.approx(100.925 / base - 1)
    real = next(a for a in doc["assets"] if a["id"] == "real_yield_10y")
    assert real["move_unit"] == "pp"


def test_summary_gives_no_move_for_a_series_that_ended_before_the_window(home: Path) -> None:
    # Default asof: the last date silver, gold, sp500 and bitcoin share (2026-07-10); copper
    # ends 2026-02-20, inside the 1Y window but before the 1M one.
    code, out = run("summary", "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["asof"] == "2026-07-10"
    copper = next(a for a in doc["assets"] if a["id"] == "copper")
    assert copper["moves"]["1M"] is None  # not 0.0: the series has no value in the window
    assert copper["moves"]["1Y"] is not None
    for sid in ("silver", "bitcoin"):
        asset = next(a for a in doc["assets"] if a["id"] == sid)
        assert asset["moves"]["1M"] is not None
