from __future__ import annotations

import hashlib
import importlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from havenflow.catalog import get_spec, load_catalog
from havenflow.data.embedded import embedded_ids, embedded_manifest, embedded_series
from havenflow.exceptions import UnknownSeriesError

RAW_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"

REQUIRED = [
    "silver",
    "gold",
    "bitcoin",
    "sp500",
    "nasdaq100",
    "dxy",
    "usd_broad",
    "vix",
    "copper",
    "platinum",
    "real_yield_10y",
    "breakeven_10y",
    "nominal_10y",
    "ust_2y",
    "fed_funds",
    "curve_10y2y",
    "m2",
    "fed_balance_sheet",
    "reverse_repo",
    "ethereum",
]


def test_catalog_has_required_ids_with_complete_specs() -> None:
    catalog = load_catalog()
    assert set(REQUIRED) <= set(catalog)
    for spec in catalog.values():
        assert spec.sources or spec.embedded_file, spec.id
        assert spec.attribution
        assert spec.unit
        assert spec.name
    assert get_spec("real_yield_10y").is_differenced
    assert not get_spec("gold").is_differenced
    assert get_spec("bitcoin").sources[0].source == "coinbase"


def test_unknown_id_lists_known_ids() -> None:
    with pytest.raises(
        UnknownSeriesError, match=r"unknown series 'silverr'; the catalog knows: silver, gold"
    ):
        get_spec("silverr")


def test_live_only_series_is_reported_missing_not_invented() -> None:
    with pytest.raises(UnknownSeriesError, match=r"'cpi' has no bundled data \(live only"):
        embedded_series("cpi")


def test_every_series_with_an_embedded_file_is_bundled() -> None:
    expected = [s.id for s in load_catalog().values() if s.embedded_file]
    assert embedded_ids() == expected


@pytest.mark.skipif(not RAW_DIR.exists(), reason="shared/data/raw is not beside this checkout")
@pytest.mark.parametrize("series_id", [s.id for s in load_catalog().values() if s.embedded_file])
def test_bundled_values_equal_the_raw_files(series_id: str) -> None:
    spec = get_spec(series_id)
    raw_path = RAW_DIR / str(spec.embedded_file)
    manifest = embedded_manifest()["series"][series_id]
    assert manifest["sha256"] == hashlib.sha256(raw_path.read_bytes()).hexdigest()
    raw = pd.read_csv(raw_path, parse_dates=["date"]).set_index("date")[str(spec.embedded_column)]
    bundled = embedded_series(series_id)
    assert len(bundled) == len(raw) == manifest["rows"]
    assert (bundled.index == raw.index).all()
    assert (bundled.to_numpy() == raw.to_numpy()).all()  # exact: nothing generated or rounded


def test_known_values_from_provenance_spot_checks() -> None:
    assert embedded_series("nominal_10y").loc["1981-09-30"] == 15.84
    assert embedded_series("sp500").loc["1987-10-19"] == 224.84
    assert embedded_series("silver").loc["2026-01-23"] == pytest.approx(100.925)


def test_import_touches_neither_disk_nor_network() -> None:
    code = (
        "import sys, builtins, socket\n"
        "opened = []\n"
        "real_open = builtins.open\n"
        "def spy(f, *a, **k):\n"
        "    opened.append(str(f)); return real_open(f, *a, **k)\n"
        "builtins.open = spy\n"
        "socket.socket.connect = lambda *a: (_ for _ in ()).throw(RuntimeError('net'))\n"
        "import havenflow, havenflow.cli, havenflow.data.store, havenflow.data.align\n"
        "bad = [f for f in opened if 'parquet' in f or 'duckdb' in f or 'catalog.toml' in f]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert importlib.import_module("havenflow").__version__
