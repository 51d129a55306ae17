"""``havenflow leadlag`` on the bundled data: JSON fields, seeds, errors, point-in-time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.test_cli import run

from havenflow.catalog import get_spec
from havenflow.data.embedded import embedded_series
from havenflow.data.store import ObservationBatch, Store
from havenflow.exceptions import DataWarning

WEEKLY = ("silver", "bitcoin", "--freq", "W", "--max-lag", "26", "--replicates", "199")


def test_xcorr_json_has_every_documented_field_and_is_reproducible(home: Path) -> None:
    code, out = run("leadlag", *WEEKLY, "--json", "--seed", "4")
    assert code == 0, out
    doc = json.loads(out)
    for key in (
        "leader",
        "follower",
        "method",
        "frequency",
        "lag_unit",
        "lag",
        "correlation",
        "pvalue",
        "lag_conf_int",
        "nobs",
        "profile",
    ):
        assert key in doc
    assert (doc["leader"], doc["follower"], doc["method"]) == ("silver", "bitcoin", "xcorr")
    assert doc["frequency"] == "W"
    assert doc["lag_unit"] == "weeks"
    assert len(doc["profile"]) == 53
    assert doc["profile"][0]["lag"] == -26
    assert set(doc["profile"][0]) == {"lag", "correlation", "lower", "upper"}
    assert doc["lag_conf_int"][0] <= doc["lag"] <= doc["lag_conf_int"][1]
    assert 0 < doc["pvalue"] <= 1
    assert doc["nobs"] > 500  # weekly returns since bitcoin starts (2014)
    _, again = run("leadlag", *WEEKLY, "--json", "--seed", "4")
    assert json.loads(again) == doc
    _, other = run("leadlag", *WEEKLY, "--json", "--seed", "5")
    assert json.loads(other)["pvalue"] != doc["pvalue"] or doc["pvalue"] < 0.01


def test_granger_rolling_and_hy_answer(home: Path) -> None:
    code, out = run("leadlag", *WEEKLY, "--method", "granger", "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["direction"] == "silver -> bitcoin"
    assert len(doc["df"]) == 2
    assert doc["stat"] >= 0
    assert {t["direction"] for t in doc["tests"]} == {"silver -> bitcoin", "bitcoin -> silver"}

    code, out = run("leadlag", *WEEKLY, "--rolling", "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["n_windows"] == len(doc["windows"]) > 100
    assert doc["window"] >= 52

    code, out = run("leadlag", "silver", "bitcoin", "--method", "hy", "--max-lag", "10", "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["lag_unit"] == "days"
    assert len(doc["profile"]) == 21
    assert doc["pvalue"] is None

    code, out = run("leadlag", *WEEKLY)
    assert code == 0
    assert "scan-adjusted p-value" in out
    assert "positive lag = leader first" in out


def test_several_pairs_get_q_values(home: Path) -> None:
    code, out = run("leadlag", "silver,gold", "bitcoin,sp500", *WEEKLY[2:], "--json")
    assert code == 0, out
    pairs = json.loads(out)["pairs"]
    assert [(p["leader"], p["follower"]) for p in pairs] == [
        ("silver", "bitcoin"),
        ("silver", "sp500"),
        ("gold", "bitcoin"),
        ("gold", "sp500"),
    ]
    for p in pairs:
        assert p["pvalue"] <= p["qvalue"] <= 1


def test_levels_are_refused_unless_forced_with_a_warning(home: Path) -> None:
    with pytest.warns(DataWarning, match="spurious"):
        code, _ = run("leadlag", *WEEKLY, "--levels", "--json")
    assert code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("silver", "unobtainium"), "unobtainium"),
        (("silver", "silver"), "same series"),
        (("silver", "bitcoin", "--freq", "Q"), "'Q' is not one of 'D', 'W', 'M'"),
        (("silver", "bitcoin", "--freq", "M", "--max-lag", "400"), "too few to scan"),
        (("silver", "bitcoin", "--asof", "2010-01-01"), "bitcoin"),
        (("silver", "bitcoin", "--method", "granger", "--rolling"), "--rolling"),
        (("silver", "bitcoin", "--method", "magic"), "'magic' is not one of 'xcorr'"),
    ],
)
def test_bad_requests_get_a_clear_error(home: Path, args: tuple[str, ...], message: str) -> None:
    code, out = run("leadlag", *args)
    assert code == 2
    assert message in out


def test_asof_result_does_not_change_when_later_data_exists(home: Path) -> None:
    asof = "2024-06-28"
    args = ("leadlag", *WEEKLY, "--asof", asof, "--json", "--seed", "1")
    _, full = run(*args)
    # The same question with only the data known by then: a store holding truncated series.
    store = Store(home / "truncated.duckdb")
    store.write(
        [
            ObservationBatch(get_spec(sid), embedded_series(sid)[:asof], "test", sid)
            for sid in ("silver", "bitcoin")
        ]
    )
    _, cut = run("--store", str(home / "truncated.duckdb"), *args)
    assert json.loads(cut) == json.loads(full)
    for extra in (("--method", "granger"), ("--rolling",)):
        _, a = run(*args, *extra)
        _, b = run("--store", str(home / "truncated.duckdb"), *args, *extra)
        assert json.loads(a) == json.loads(b)
