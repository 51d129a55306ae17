"""Snapshot, divergence, drivers and safe-haven tests: hand-checkable numbers and known truths."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.datasets import macrodata
from tests.conftest import RAW_DIR
from tests.test_cli import run

from havenflow.analytics.divergence import Divergence
from havenflow.analytics.drivers import DriverModel, attribute, implied_move
from havenflow.analytics.safehaven import SafeHavenRegression, conditional_correlation
from havenflow.catalog import get_spec
from havenflow.data.embedded import embedded_series
from havenflow.data.repository import DataRepository
from havenflow.data.store import ObservationBatch, Store
from havenflow.exceptions import DataValidationError, InsufficientDataError
from havenflow.services import run_divergence, run_drivers, run_snapshot

ASOF = "2026-01-23"


def raw_close(name: str) -> pd.Series:
    frame = pd.read_csv(RAW_DIR / name, parse_dates=["date"]).set_index("date")
    col = "close" if "close" in frame else "value"
    return frame[col].astype(float)


# ---- snapshot: recomputed by hand from the raw files with plain pandas ----------------------


def test_snapshot_numbers_match_a_plain_pandas_recomputation() -> None:
    snap = run_snapshot(DataRepository(store=None), asof=ASOF)
    silver = raw_close("silver_futures_usd_daily.csv")[:ASOF]
    gold = raw_close("gold_futures_usd_daily.csv")[:ASOF]
    btc = raw_close("btc_usd_daily.csv")[:ASOF]
    s = snap.asset("silver")
    assert s.last == pytest.approx(silver.iloc[-1]) == pytest.approx(100.925)
    assert s.ath == pytest.approx(silver.max())
    assert s.is_ath
    assert s.ath_date == ASOF
    # 1M: from the last close on or before 2025-12-23.
    one_month = silver.iloc[-1] / silver[:"2025-12-23"].iloc[-1] - 1
    assert s.windows["1M"].ret == pytest.approx(one_month, rel=1e-12)
    ytd = silver.iloc[-1] / silver[:"2025-12-31"].iloc[-1] - 1
    assert s.windows["YTD"].ret == pytest.approx(ytd, rel=1e-12)
    g3 = gold.iloc[-1] / gold[:"2025-10-23"].iloc[-1] - 1
    assert snap.asset("gold").windows["3M"].ret == pytest.approx(g3, rel=1e-12)
    # Bitcoin's 1Y volatility: daily log returns in the window, annualised by 365 days.
    window = btc["2025-01-23":]
    vol = np.log(window).diff().dropna().std() * np.sqrt(365)
    assert snap.asset("bitcoin").windows["1Y"].volatility == pytest.approx(vol, rel=1e-10)
    b = snap.asset("bitcoin")
    assert b.drawdown_from_ath == pytest.approx(btc.iloc[-1] / btc.max() - 1)
    # 20-bar breakout: today's close above the highest of the 20 closes before it.
    assert s.breakouts[0].is_new_high == bool(silver.iloc[-1] > silver.iloc[-21:-1].max())
    assert s.breakouts[0].prior_high == pytest.approx(silver.iloc[-21:-1].max())
    # Ranks: silver beat every asset over every window on that day (claim C2).
    payload = snap.to_dict()
    assert set(payload["best_performer"].values()) == {"silver"}
    rets = {a["id"]: a["returns"]["3M"] for a in payload["assets"]}
    order = sorted(rets, key=lambda k: -rets[k])
    assert [
        payload["assets"][[a["id"] for a in payload["assets"]].index(k)]["rank"]["3M"]
        for k in order
    ] == list(range(1, len(order) + 1))
    assert s.acceleration["accelerating"] is True
    assert payload["deflator"] is None
    assert any("deflator" in n for n in payload["notes"])


def test_snapshot_json_fields_and_missing_windows(home: Path, tmp_path: Path) -> None:
    code, out = run("snapshot", "--asof", ASOF, "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["asof"] == ASOF
    a = doc["assets"][0]
    for key in ("id", "last", "ath", "ath_date", "is_ath", "drawdown_from_ath", "returns", "rank"):
        assert key in a
    assert set(a["returns"]) == {"1W", "1M", "3M", "6M", "YTD", "1Y"}
    # A user series shorter than a window: that window is null, not a guess.
    path = tmp_path / "short.csv"
    dates = pd.bdate_range("2025-11-03", ASOF)
    pd.DataFrame(
        {"date": dates.strftime("%Y-%m-%d"), "short": np.linspace(10, 12, len(dates))}
    ).to_csv(path, index=False)
    code, out = run("--data", str(path), "snapshot", "silver", "short", "--asof", ASOF, "--json")
    assert code == 0, out
    short = json.loads(out)["assets"][1]
    assert short["returns"]["1Y"] is None
    assert short["rank"]["1Y"] is None
    assert short["returns"]["1M"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("snapshot", "silver", "unobtainium"), "unobtainium"),
        (("snapshot", "bitcoin", "--asof", "2010-01-01"), "bitcoin"),
        (("snapshot", "real_yield_10y"), "yields belong in"),
        (("divergence", "silver", "silver"), "itself"),
        (("divergence", "silver", "bitcoin", "--asof", "2015-03-01"), "need at least"),
        (("drivers", "silver", "--window", "10Y"), "'10Y' is not one of"),
        (("drivers", "silver", "--freq", "M"), "is not one of 'D', 'W'"),
        (("drivers", "bitcoin", "--asof", "2014-10-01"), "at least"),
    ],
)
def test_bad_requests_get_clear_errors(home: Path, args: tuple[str, ...], message: str) -> None:
    code, out = run(*args)
    assert code == 2
    assert message in out


def test_constant_user_series_is_refused(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "flat.csv"
    dates = pd.bdate_range("2024-01-01", ASOF)
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "flat": 5.0}).to_csv(path, index=False)
    code, out = run("--data", str(path), "snapshot", "flat", "--asof", ASOF)
    assert code == 2
    assert "flat is constant" in out
    code, out = run("--data", str(path), "divergence", "silver", "flat", "--asof", ASOF)
    assert code == 2
    assert "flat is constant" in out


def test_every_command_is_point_in_time(home: Path) -> None:
    asof = "2025-06-30"
    ids = ["silver", "gold", "bitcoin", "sp500", "nasdaq100", "copper", "dxy", "usd_broad"]
    ids += ["vix", "real_yield_10y", "ust_2y", "fed_funds"]
    store = Store(home / "cut.duckdb")
    store.write([ObservationBatch(get_spec(s), embedded_series(s)[:asof], "test", s) for s in ids])
    for cmd in (
        ("snapshot",),
        ("divergence",),
        ("drivers", "bitcoin", "--implied-by", "silver"),
        ("safehaven",),
    ):
        _, full = run(*cmd, "--asof", asof, "--json")
        _, cut = run("--store", str(home / "cut.duckdb"), *cmd, "--asof", asof, "--json")
        assert json.loads(full) == json.loads(cut), cmd


# ---- divergence ------------------------------------------------------------------------------


def test_divergence_matches_pandas_and_flags_a_breakdown() -> None:
    rng = np.random.default_rng(0)
    n = 1200
    idx = pd.bdate_range("2020-01-01", periods=n)
    common = rng.standard_normal(n)
    ra = 0.01 * (common + 0.5 * rng.standard_normal(n))
    rb = 0.01 * (common + 0.5 * rng.standard_normal(n))
    rb[-60:] = 0.01 * rng.standard_normal(60)  # the last 60 days: B decouples from A
    levels = pd.DataFrame(
        {"a": 100 * np.exp(np.cumsum(ra)), "b": 50 * np.exp(np.cumsum(rb))}, index=idx
    )
    res = Divergence(levels, "a", "b").fit()
    lr = np.log(levels["a"] / levels["b"])
    z = (lr.iloc[-1] - lr.iloc[-252:].mean()) / lr.iloc[-252:].std()
    assert res.latest["relative_strength_z"] == pytest.approx(z, rel=1e-9)
    c60 = np.corrcoef(np.diff(np.log(levels["a"]))[-60:], np.diff(np.log(levels["b"]))[-60:])[0, 1]
    corr = {c["window"]: c for c in res.latest["correlations"]}
    assert corr[60]["correlation"] == pytest.approx(c60, rel=1e-9)
    assert corr[60]["breakdown"] is True
    assert corr[60]["percentile"] < 5
    spread = np.log(levels["a"]).diff(21) - np.log(levels["b"]).diff(21)
    assert res.latest["spreads"][0]["spread"] == pytest.approx(spread.iloc[-1], rel=1e-9)
    doc = res.to_dict(history=True)
    assert doc["history"][-1]["date"] == idx[-1].date().isoformat()
    with pytest.raises(InsufficientDataError, match="need at least"):
        Divergence(levels.iloc[:100], "a", "b").fit()


def test_real_divergence_c3() -> None:
    res = run_divergence(DataRepository(store=None), asof=ASOF)
    # Silver/bitcoin relative strength far above its trailing year on the commentary's day.
    assert res.latest["relative_strength_z"] > 2
    assert res.latest["spreads"][1]["spread"] > 0.5


# ---- drivers ---------------------------------------------------------------------------------


def test_hac_errors_equal_r_sandwich_neweywest_on_macrodata() -> None:
    # R: NeweyWest(lm(g_inv ~ g_gdp + realint_lag), lag = 4, prewhite = FALSE, adjust = FALSE),
    # the reference values statsmodels' own test suite (test_hac_simple) checks against.
    cov_r = np.array(
        [
            [1.3855512908840137, -0.3133096102522685, -0.05972079768357048],
            [-0.3133096102522685, 0.10810116903513062, 0.000389440793564339],
            [-0.0597207976835705, 0.000389440793564336, 0.08621185274050362],
        ]
    )
    d = macrodata.load_pandas().data
    frame = pd.DataFrame(
        {
            "inv": 400 * np.diff(np.log(d["realinv"].to_numpy())),
            "gdp": 400 * np.diff(np.log(d["realgdp"].to_numpy())),
            "realint": d["realint"].to_numpy()[:-1],
        },
        index=pd.date_range("1959-06-30", periods=len(d) - 1, freq="QE"),
    )
    res = DriverModel(frame, "inv", ("gdp", "realint")).fit(hac_lags=4)
    np.testing.assert_allclose(res.cov.to_numpy(), cov_r, rtol=1e-10)
    np.testing.assert_allclose(res.bse.to_numpy(), np.sqrt(np.diag(cov_r)), rtol=1e-10)


def test_attribution_and_implied_move_recover_known_betas() -> None:
    rng = np.random.default_rng(3)
    n = 900
    idx = pd.bdate_range("2022-01-03", periods=n)
    x1, x2 = 0.01 * rng.standard_normal(n), 0.02 * rng.standard_normal(n)
    y = 2.0 * x1 - 0.5 * x2 + 0.002 * rng.standard_normal(n)
    moves = pd.DataFrame({"asset": y, "d1": x1, "d2": x2}, index=idx)
    res = DriverModel(moves, "asset", ("d1", "d2")).fit(rolling_window=120)
    assert res.params["d1"] == pytest.approx(2.0, abs=0.05)
    assert res.rolling_betas is not None
    assert res.rolling_betas["d1"].between(1.8, 2.2).all()
    start, end = idx[-64], idx[-1]
    att = attribute(res, moves, start, end)
    parts = sum(p["contribution"] for p in att["contributions"])
    assert parts + att["drift"] + att["unexplained"] == pytest.approx(att["actual"], abs=1e-14)
    assert abs(att["unexplained"]) < 0.03
    imp = implied_move(res, moves, start, end)
    assert imp["prediction_low"] <= imp["actual"] <= imp["prediction_high"]
    assert imp["ci_low"] < imp["implied"] < imp["ci_high"]
    truth = 2.0 * x1[-63:].sum() - 0.5 * x2[-63:].sum()
    assert imp["ci_low"] - 0.01 < truth < imp["ci_high"] + 0.01


def test_real_drivers_c5_c9() -> None:
    out = run_drivers(
        DataRepository(store=None), "bitcoin", asof=ASOF, implied_by="silver"
    ).to_dict()
    imp = out["implied_by"]["target"]
    assert out["implied_by"]["reference_simple_return"] > 1.0  # silver +108% in 3M
    # Bitcoin fell 21 log points where its drivers' moves (the dollar as published by the
    # H.10, through 2026-01-16) implied about nothing: below the drivers' whole interval.
    assert imp["actual"] < -0.15
    assert imp["actual"] < imp["ci_low"] < imp["implied"] < imp["ci_high"]
    assert abs(imp["implied"]) < 0.05
    assert out["regression"]["nobs"] > 700
    assert {c["name"] for c in out["regression"]["coefficients"]} == {
        "const",
        "real_yield",
        "dollar",
        "rate_expectations",
        "equities",
        "vix",
    }


# ---- safe haven ------------------------------------------------------------------------------


def test_safe_haven_verdicts_on_known_truths() -> None:
    rng = np.random.default_rng(9)
    n = 3000
    idx = pd.bdate_range("2012-01-02", periods=n)
    eq = pd.Series(0.01 * rng.standard_t(4, n), index=idx)
    tail = eq <= eq.quantile(0.10)
    haven = pd.Series(
        -0.6 * eq * tail + 0.1 * eq * ~tail + 0.005 * rng.standard_normal(n), index=idx
    )
    risky = pd.Series(1.2 * eq + 0.005 * rng.standard_normal(n), index=idx)
    h = SafeHavenRegression(haven, eq, "haven", "eq").fit()
    assert h.tail(0.10).verdict == "strong"
    assert h.tail(0.10).total_slope == pytest.approx(-0.6, abs=0.1)
    assert h.tail(0.10).pvalue < 0.05
    r = SafeHavenRegression(risky, eq, "risky", "eq").fit()
    assert r.hedge.verdict == "no"
    assert r.hedge.pvalue > 0.95  # one-sided against a negative slope
    assert all(t.verdict == "no" for t in r.safe_haven)
    # The contract: read-only fields, JSON from the fields, a table, a summary naming both.
    doc = r.to_dict()
    assert doc["kind"] == "safe_haven_regression"
    assert doc["hedge"]["verdict"] == "no"
    assert [t["quantile"] for t in doc["safe_haven"]] == [0.10, 0.05, 0.01]
    assert list(r.to_frame()["verdict"]) == ["no"] * 4
    assert "risky on eq" in str(r.summary())
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.nobs = 3  # type: ignore[misc]
    with pytest.raises(DataValidationError, match=r"no safe-haven test at the 0\.2 tail"):
        r.tail(0.2)
    with pytest.raises(InsufficientDataError, match="at least 250"):
        SafeHavenRegression(risky[:100], eq[:100]).fit()
    with pytest.raises(DataValidationError, match="constant"):
        SafeHavenRegression(pd.Series(0.0, index=idx), eq).fit()


def test_conditional_correlation_interval_sees_a_stress_only_link() -> None:
    rng = np.random.default_rng(12)
    n = 2000
    idx = pd.bdate_range("2015-01-01", periods=n)
    stress = pd.Series(np.zeros(n, dtype=bool), index=idx)
    for start in range(100, n, 400):
        stress.iloc[start : start + 80] = True
    eq = rng.standard_normal(n)
    btc = np.where(stress, 0.7 * eq + 0.7 * rng.standard_normal(n), rng.standard_normal(n))
    moves = pd.DataFrame({"btc": btc, "eq": eq, "gold": rng.standard_normal(n)}, index=idx)
    out = conditional_correlation(moves, "btc", ["eq", "gold"], stress, replicates=299, seed=1)
    c_eq, c_gold = out["correlations"]
    assert c_eq["stress"] > 0.5
    assert c_eq["difference_ci"][0] > 0.3
    assert c_gold["difference_ci"][0] < 0 < c_gold["difference_ci"][1]


def test_batched_masked_correlation_equals_the_loop() -> None:
    from havenflow.analytics.safehaven import _corr, _masked_corr

    rng = np.random.default_rng(31)
    a, b = rng.standard_normal((50, 200)), rng.standard_normal((50, 200))
    mask = rng.random((50, 200)) < 0.3
    mask[0] = False  # nothing kept: NaN
    mask[1, :] = False
    mask[1, :2] = True  # two days: NaN
    b[2] = 1.0  # constant: NaN
    got = _masked_corr(a, b, mask)
    want = np.array([_corr(a[r][mask[r]], b[r][mask[r]]) for r in range(50)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert np.isnan(got[:3]).all()
