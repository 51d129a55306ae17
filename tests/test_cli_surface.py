"""The CLI's surface: global options anywhere, ``--version``, choices, piped output, as-of."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import run_main, truncated_store
from tests.test_cli import run

from havenflow import __version__
from havenflow.cli._common import hoist_global_options
from havenflow.data.embedded import embedded_series
from havenflow.data.repository import DataRepository
from havenflow.data.store import Store
from havenflow.exceptions import DataValidationError
from havenflow.services import CORE_IDS, common_asof, resolve_asof

DEFAULT_NOTE = (
    "as of 2026-07-10, the last date silver, gold, sp500 and bitcoin share "
    "(bitcoin runs to 2026-08-21; copper and dxy end 2026-02-20)"
)


def test_hoist_moves_global_options_and_their_values_first() -> None:
    args = ["leadlag", "silver", "bitcoin", "--store", "s.db", "-v", "--data=x.csv", "--json"]
    assert hoist_global_options(args) == [
        "--store",
        "s.db",
        "-v",
        "--data=x.csv",
        "leadlag",
        "silver",
        "bitcoin",
        "--json",
    ]
    # After "--" nothing moves; a value option without its value is left for click to refuse.
    assert hoist_global_options(["show", "--", "--store", "x"]) == ["show", "--", "--store", "x"]
    assert hoist_global_options(["data", "show", "--store"]) == ["data", "show", "--store"]


def test_global_options_work_after_the_subcommand(home: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text("date,my_index\n2024-01-02,10\n2024-01-03,11\n")
    code, out = run("data", "show", "my_index", "--json", "--data", str(mine), "-v")
    assert code == 0, out
    assert json.loads(out)["origin"] == "user"
    store = tmp_path / "cut.duckdb"
    truncated_store(store, ["silver", "bitcoin"], "2024-06-28")
    code, out = run("data", "show", "silver", "--json", "--store", str(store))
    assert code == 0, out
    assert json.loads(out)["last"] == "2024-06-28"
    code, before = run("--store", str(store), "data", "show", "silver", "--json")
    assert json.loads(before) == json.loads(out)


def test_version_option_and_command(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (["--version"], ["version"]):
        code, out, err = run_main(args, monkeypatch, capsys)
        assert (code, out.strip(), err) == (0, f"havenflow {__version__}", "")


def test_help_lists_the_choices_and_exits_0(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run_main(["leadlag", "--help"], monkeypatch, capsys)
    assert code == 0
    for choices in ("D|W|M", "xcorr|granger|hy|var", "multiplier|stationary", "aic|bic|hqic|fpe"):
        assert choices in out, choices
    assert "classical|HC0|HC1|HC3|HAC" in out
    code, out, _ = run_main(["report", "--help"], monkeypatch, capsys)
    assert "html|md|json" in out
    code, out, _ = run_main([], monkeypatch, capsys)
    assert code == 0
    assert "leadlag" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["leadlag", "silver", "bitcoin", "--freq", "Q"], "Invalid value for '--freq': 'Q'"),
        (["leadlag", "silver"], "Missing argument 'follower'"),
        (["leadlag", "silver", "bitcoin", "--max-lag", "x"], "Invalid value for '--max-lag'"),
        (["snapshot", "--nope"], "No such option: --nope"),
        (["report", "--format", "pdf"], "'pdf' is not one of 'html', 'md', 'json'"),
        (["snapshot", "--format", "xml"], "'xml' is not one of 'table', 'csv', 'tsv'"),
        (["events", "--horizons", "5,x"], "--horizons must be integers"),
        (["events", "--trigger", "x:y("], "cannot read trigger 'x:y('"),
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
        (["snapshot", "unobtainium"], "unknown series 'unobtainium'"),
        (["data", "import", "/nonexistent/file.csv"], "no such file"),
        (["--store", "/", "snapshot"], "cannot open store"),
        (["snapshot", "--data", "/nonexistent.csv"], "no such file"),
    ],
)
def test_every_bad_input_is_one_error_line_and_exit_2(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    code, out, err = run_main(args, monkeypatch, capsys)
    assert code == 2, (out, err)
    assert err.startswith("error: ")
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert "Traceback" not in out + err


def test_snapshot_csv_rows_carry_full_precision_in_labelled_units(home: Path) -> None:
    code, out = run("snapshot", "--asof", "2026-01-23", "--format", "csv")
    assert code == 0, out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["id"] == "silver"
    assert "1M (simple %)" in rows[0]
    _, doc = run("snapshot", "--asof", "2026-01-23", "--json")
    silver = next(a for a in json.loads(doc)["assets"] if a["id"] == "silver")
    assert float(rows[0]["1M (simple %)"]) == pytest.approx(100 * silver["returns"]["1M"])


def test_data_list_tsv_and_wide_tables_when_piped(home: Path) -> None:
    code, out = run("data", "list", "--format", "tsv")
    assert code == 0, out
    header = out.splitlines()[0]
    assert header.split("\t") == ["id", "live source", "first", "last", "rows", "origin"]
    assert "silver\tyahoo:SI=F, stooq:si.f\t2000-08-30\t2026-07-10\t" in out
    # A rich table on a pipe is not cut at 80 columns: every row stays on one line.
    code, out = run("data", "list")
    silver = next(line for line in out.splitlines() if "silver " in line and "SI=F" in line)
    assert "2026-07-10" in silver
    assert "embedded" in silver
    assert len(silver) > 80


def test_rolling_leadlag_csv_has_one_row_per_window(home: Path) -> None:
    args = ("leadlag", "silver", "bitcoin", "--freq", "W", "--max-lag", "8", "--rolling")
    code, out = run(*args, "--replicates", "19", "--asof", "2024-06-28", "--format", "csv")
    assert code == 0, out
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:2] == ["window end", "best lag (weeks)"]
    _, doc = run(*args, "--replicates", "19", "--asof", "2024-06-28", "--json")
    assert len(rows) - 1 == json.loads(doc)["n_windows"]


def test_default_asof_is_the_last_shared_date_and_says_so(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["snapshot", "--json"], monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["asof"] == "2026-07-10"
    assert err.strip() == DEFAULT_NOTE
    code, out, err = run_main(["divergence", "silver", "bitcoin", "--json"], monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["asof"] == "2026-07-10"
    assert err.strip() == (
        "as of 2026-07-10, the last date silver and bitcoin share (bitcoin runs to 2026-08-21)"
    )
    # With --asof there is nothing to announce.
    code, _, err = run_main(["snapshot", "--json", "--asof", "2026-01-23"], monkeypatch, capsys)
    assert (code, err) == (0, "")


@pytest.mark.parametrize(
    "command",
    [
        ["snapshot"],
        ["summary"],
        ["divergence"],
        ["leadlag", "silver", "bitcoin"],
        ["events"],
        ["report"],
        ["data", "show", "silver"],
    ],
    ids=lambda c: "-".join(c[:2]),
)
def test_asof_after_the_last_shared_date_is_refused(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    code, out, err = run_main([*command, "--asof", "2026-08-01"], monkeypatch, capsys)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: --asof 2026-08-01 is after 2026-07-10, the last date with data")


def test_common_asof_follows_the_store_and_publication_lags(tmp_path: Path) -> None:
    store = truncated_store(tmp_path / "cut.duckdb", ["silver"], "2024-06-28")
    repo = DataRepository(store=Store(store))
    choice = common_asof(repo, ["silver", "bitcoin"], context=("copper",))
    assert choice.asof == pd.Timestamp("2024-06-28")
    assert choice.message == (
        "as of 2024-06-28, the last date silver and bitcoin share (bitcoin runs to 2026-08-21)"
    )
    # A monthly series is known after its month ends plus its publication lag.
    m2 = embedded_series("m2")
    known = (m2.index[-1] + pd.offsets.MonthEnd(0) + pd.Timedelta(days=28)).normalize()
    assert common_asof(DataRepository(), ["m2"]).asof == known
    assert resolve_asof(repo, ["silver"], "2024-06-28").asof == pd.Timestamp("2024-06-28")
    with pytest.raises(DataValidationError, match=r"is after 2024-06-28, .*silver ends 2024-06"):
        resolve_asof(repo, ["silver", "bitcoin"], "2024-07-01")


def test_report_defaults_to_the_note_date_or_the_shared_date() -> None:
    from havenflow.claims import default_asof, parse_note, resolve_note

    repo = DataRepository()
    seed = resolve_note("silver-bitcoin-2026-01")
    day, why = default_asof(seed, repo)
    assert day == pd.Timestamp("2026-01-23")
    assert "the note's date" in why
    # A note dated after its series end is judged on the last date they share, and says so.
    late = parse_note(seed.text.replace('date = "2026-01-23"', 'date = "2026-08-21"'), "late")
    day, why = default_asof(late, repo)
    assert day == common_asof(DataRepository(), CORE_IDS).asof == pd.Timestamp("2026-07-10")
    assert "the note is dated 2026-08-21" in why
    assert "bitcoin runs to 2026-08-21" in why


def test_single_pair_tables_as_csv(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_main(
        ["leadlag", "silver", "bitcoin", "--freq", "W", "--format", "csv", "--replicates", "99"],
        monkeypatch,
        capsys,
    )
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "lag (weeks),correlation,null band 2.5%,null band 97.5%"
    assert len(lines) == 1 + 53
    code, out, _ = run_main(
        ["leadlag", "silver", "bitcoin", "--freq", "W", "--method", "granger", "--format", "tsv"],
        monkeypatch,
        capsys,
    )
    assert code == 0
    assert out.splitlines()[0].split("\t")[:2] == ["direction", "lag order (weeks)"]
    code, _, err = run_main(
        ["leadlag", "gold,silver", "bitcoin", "--method", "var", "--format", "csv"],
        monkeypatch,
        capsys,
    )
    assert code == 2
    assert err.strip().startswith("error: --format csv/tsv prints tables")
