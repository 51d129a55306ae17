"""``havenflow leadlag A,B C --method var`` on the bundled data: the block is one VAR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from havenflow.catalog import get_spec
from havenflow.cli import app
from havenflow.data.embedded import embedded_series
from havenflow.data.store import ObservationBatch, Store
from havenflow.exceptions import HavenflowError


def run(*args: str) -> tuple[int, str]:
    """The command's exit code and output; a HavenflowError is the CLI's exit 2 and its line."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    if result.exception and not isinstance(result.exception, SystemExit):
        if isinstance(result.exception, HavenflowError):
            return 2, str(result.exception)
        raise result.exception
    # On success, stdout alone (JSON stays parseable; the as-of note goes to stderr).
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


VAR = ("gold,silver", "bitcoin", "--method", "var", "--freq", "W", "--replicates", "99")


def test_var_json_has_both_block_tests_the_order_table_and_the_irf(home: Path) -> None:
    code, out = run("leadlag", *VAR, "--json", "--seed", "3")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["method"] == "var"
    assert doc["frequency"] == "W"
    assert (doc["leaders"], doc["followers"]) == (["gold", "silver"], ["bitcoin"])
    assert doc["lag_unit"] == "weeks"
    assert doc["lag_convention"].startswith("lags in weeks; causing series' values up to t-1")
    assert doc["criterion"] == "bic"
    table = doc["selection"]["table"]
    assert [r["lags"] for r in table] == list(range(1, 9))  # default: up to 8 weeks
    best = min(table, key=lambda r: r["bic"])["lags"]
    assert doc["lag_order"] == best == doc["selection"]["selected"]["bic"]
    forward, backward = doc["tests"]
    assert forward["direction"] == "{gold, silver} -> bitcoin" == doc["direction"]
    assert backward["direction"] == "bitcoin -> {gold, silver}"
    for t in (forward, backward):
        assert t["df"] == [2 * doc["lag_order"], 3 * (doc["nobs"] - 1 - 3 * doc["lag_order"])]
        assert 0 < t["pvalue"] <= 1
        assert t["cov_type"] == "HAC"
    assert doc["pvalue"] == forward["pvalue"]
    assert doc["nobs"] > 500  # weekly returns since bitcoin starts (2014)
    responses = doc["irf"]["responses"]
    assert [(r["response"], r["impulse"]) for r in responses] == [
        ("bitcoin", "gold"),
        ("bitcoin", "silver"),
    ]
    for r in responses:
        assert len(r["irf"]) == len(r["lower"]) == len(r["upper"]) == 13
        assert all(lo <= hi for lo, hi in zip(r["lower"], r["upper"], strict=True))
    _, again = run("leadlag", *VAR, "--json", "--seed", "3")
    assert json.loads(again) == doc


def test_var_options_reach_the_model(home: Path) -> None:
    code, out = run(
        "leadlag", *VAR, "--max-lag", "4", "--ic", "aic", "--cov-type", "classical", "--json"
    )
    assert code == 0, out
    doc = json.loads(out)
    assert doc["criterion"] == "aic"
    assert len(doc["selection"]["table"]) == 4
    assert doc["lag_order"] == doc["selection"]["selected"]["aic"]
    assert {t["cov_type"] for t in doc["tests"]} == {"classical"}


def test_var_text_output(home: Path) -> None:
    code, out = run("leadlag", *VAR)
    assert code == 0, out
    for text in (
        "lag order selection, 1..8 weeks",
        "BIC",
        "{gold, silver} -> bitcoin",
        "bitcoin -> {gold, silver}",
        "response of bitcoin",
        "gold shock",
        "silver shock",
        "lags in weeks",
    ):
        assert text in out, text


def test_other_methods_still_scan_every_pair(home: Path) -> None:
    code, out = run(
        "leadlag", "gold,silver", "bitcoin", "--method", "granger", "--freq", "W", "--json"
    )
    assert code == 0, out
    pairs = json.loads(out)["pairs"]
    assert [(p["leader"], p["follower"]) for p in pairs] == [
        ("gold", "bitcoin"),
        ("silver", "bitcoin"),
    ]


def test_var_is_point_in_time(home: Path) -> None:
    asof = "2024-06-28"
    args = ("leadlag", *VAR, "--asof", asof, "--json")
    _, full = run(*args)
    cut = home / "cut.duckdb"
    Store(cut).write(
        [
            ObservationBatch(get_spec(s), embedded_series(s)[:asof], "test", s)
            for s in ("gold", "silver", "bitcoin")
        ]
    )
    _, truncated = run("--store", str(cut), *args)
    assert json.loads(truncated) == json.loads(full)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gold,unobtainium", "bitcoin"), "unobtainium"),
        (("gold", "gold"), "same series"),
        (("gold,gold", "gold"), "at least two distinct series, got only gold"),
        (("gold,silver", "silver"), "silver is both a leader and a follower"),
        (("gold,silver", "bitcoin", "--ic", "magic"), "'magic' is not one of 'aic', 'bic'"),
        (("gold,silver", "bitcoin", "--cov-type", "HC9"), "'HC9' is not one of 'classical'"),
        (("gold,silver", "bitcoin", "--rolling"), "--rolling"),
        (("gold,silver", "bitcoin", "--freq", "M", "--max-lag", "60"), "too few for a VAR"),
    ],
)
def test_bad_var_requests_get_a_one_line_error(
    home: Path, args: tuple[str, ...], message: str
) -> None:
    code, out = run("leadlag", *args, "--method", "var", "--replicates", "19")
    assert code == 2
    assert message in out
    assert "\n" not in out.strip()
