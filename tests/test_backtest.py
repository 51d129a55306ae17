"""Backtests: the timing cannot be gamed, calendars and cash are right, metrics equal peers'."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.test_cli import run

from havenflow.analytics.backtest import Backtest, BacktestSpec, Market, bond_total_return_index
from havenflow.analytics.backtest.engine import (
    execution_targets,
    simulate,
    simulate_python,
    simulate_sweep,
)
from havenflow.analytics.backtest.metrics import (
    bars_per_year,
    cagr,
    deflated_sharpe,
    expected_max_sharpe,
    max_drawdown,
    pbo_cscv,
    sharpe,
    sortino,
    volatility,
)
from havenflow.analytics.backtest.strategies import (
    fixed_weights,
    rebalance_dates,
    sample_signal,
    trigger_hold,
)
from havenflow.data.repository import DataRepository
from havenflow.exceptions import DataValidationError
from havenflow.services.backtest import (
    builtin_strategy,
    load_strategy_file,
    run_backtest,
    strategy_decisions,
)

REFERENCE = Path(__file__).parent / "reference" / "backtest_peers.json"


def _walk(index: pd.DatetimeIndex, seed: int, vol: float = 0.02) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0, vol, len(index)))), index=index)


def _spec(name: str, index: pd.DatetimeIndex, cost: float = 0.0) -> BacktestSpec:
    return BacktestSpec(name, index[0], index[-1], cost_bps=cost)


# ---- the engine -----------------------------------------------------------------------------


def test_compiled_kernel_equals_its_python_oracle() -> None:
    rng = np.random.default_rng(4)
    n, k = 400, 3
    returns = rng.normal(0.0005, 0.02, (n, k))
    traded = rng.random((n, k)) > 0.25
    returns[~traded] = 0.0
    cash = np.full(n, 0.0001)
    targets = np.full((n, k), np.nan)
    when = rng.random(n) < 0.1
    w = rng.dirichlet(np.ones(k + 1), size=n)[:, :k]  # a cash share too
    targets[when] = w[when]
    targets[rng.random((n, k)) < 0.05] = np.nan  # some decisions name one asset only
    for cost in (0.0, 0.0015):
        fast = simulate(returns, traded, cash, targets, cost)
        slow = simulate_python(returns, traded, cash, targets, cost)
        for a, b in zip(fast, slow, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    # The sweep kernel runs the same simulation per configuration.
    many = np.stack([targets, np.roll(targets, 7, axis=0)])
    paths = simulate_sweep(returns, traded, cash, many, 0.0015)
    np.testing.assert_array_equal(paths[0], fast[0])
    again = simulate(returns, traded, cash, many[1], 0.0015)[0]
    np.testing.assert_array_equal(paths[1], again)
    # Never leveraged: weights are non-negative and add up to at most 1 after every close.
    held = fast[1]
    assert held.min() >= -1e-12
    assert held.sum(axis=1).max() <= 1 + 1e-9


def test_a_look_ahead_signal_cannot_profit() -> None:
    # A planted signal decided at the close of t that knows the return of bar t+1 (the
    # future) trades at t+1 and so earns bar t+2's return: nothing. The same signal knowing
    # bar t+2 would make a fortune, so the test can tell (the timing is exactly one bar).
    days = pd.bdate_range("2010-01-01", periods=3000)
    prices = _walk(days, seed=1)
    market = Market.from_series({"x": prices})
    r = prices.pct_change()
    results = {}
    for ahead in (1, 2):
        knows = (r.shift(-ahead) > 0).astype(float).rename("x").to_frame()
        res = Backtest(market, knows.iloc[:-ahead], _spec(f"+{ahead}", days)).fit(replicates=99)
        results[ahead] = res
    honest = results[1]
    t_stat = honest.sharpe / math.sqrt(252) * math.sqrt(honest.nobs)
    assert abs(t_stat) < 3.0, honest.sharpe
    assert results[2].sharpe > 10


def test_trades_wait_for_each_assets_session_and_for_cash() -> None:
    # Gold trades on weekdays, Bitcoin every day. Decided on Friday 2024-01-05: sell gold,
    # buy Bitcoin. Gold is sold at Monday's close (its next session); Bitcoin cannot be
    # bought on Saturday or Sunday with money still in gold, so it is bought on Monday too.
    cal = pd.date_range("2024-01-01", "2024-01-14", freq="D")
    wk = pd.bdate_range(cal[0], cal[-1])
    gold = pd.Series(np.linspace(100, 110, len(wk)), index=wk)
    btc = pd.Series(np.linspace(40_000, 44_000, len(cal)), index=cal)
    market = Market.from_series({"gold": gold, "bitcoin": btc})
    decisions = pd.DataFrame(
        {"gold": [1.0, 0.0], "bitcoin": [0.0, 1.0]},
        index=pd.DatetimeIndex(["2023-12-31", "2024-01-05"]),
    )
    bt = Backtest(market, decisions, _spec("switch", cal))
    _, weights, trade, _ = bt.simulate()
    assert weights.loc["2024-01-01", "gold"] == 1.0  # bought at the first close
    assert weights.loc["2024-01-06", "bitcoin"] == 0.0  # Saturday: no cash yet
    assert weights.loc["2024-01-07", "gold"] > 0.99  # Sunday: still in gold
    assert weights.loc["2024-01-08", "bitcoin"] == pytest.approx(1.0)
    assert weights.loc["2024-01-08", "gold"] == 0.0
    assert trade.loc["2024-01-08"] == pytest.approx(2.0)  # sold 1, bought 1
    assert trade.loc["2024-01-06"] == 0.0


def test_execution_is_strictly_after_the_decision() -> None:
    idx = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"])
    d = pd.DataFrame(
        {"a": [0.5, 1.0, 0.2]}, index=pd.DatetimeIndex(["2023-12-01", "2024-01-02", "2024-01-04"])
    )
    t = execution_targets(d, idx, ["a"])
    # Before the start: executes at the first bar; on 01-02: at 01-03; on the last bar: never.
    assert t[:, 0].tolist()[:2] == [0.5, 1.0]
    assert math.isnan(t[2, 0])
    with pytest.raises(DataValidationError, match="add up to over 1"):
        execution_targets(pd.DataFrame({"a": [0.7], "b": [0.7]}, index=idx[:1]), idx, ["a", "b"])
    with pytest.raises(DataValidationError, match="no prices: c"):
        execution_targets(pd.DataFrame({"c": [1.0]}, index=idx[:1]), idx, ["a"])


def test_cash_earns_the_policy_rate_known_the_day_before() -> None:
    # 5% a year, ACT/360: Monday's bar covers three nights at Friday's rate. Nothing held.
    wk = pd.bdate_range("2024-01-01", "2024-03-29")
    rate = pd.Series(5.0, index=pd.date_range("2023-12-01", "2024-03-29"))
    rate.loc["2024-02-01":] = 6.0
    market = Market.from_series({"gold": _walk(wk, 3)}, rate)
    res = Backtest(market, fixed_weights({"gold": 0.0}, wk[0]), _spec("cash", wk))
    values, _, _, cash = res.simulate()
    assert cash.loc["2024-01-08"] == pytest.approx(0.05 * 3 / 360)
    assert cash.loc["2024-01-03"] == pytest.approx(0.05 / 360)
    assert cash.loc["2024-02-01"] == pytest.approx(0.05 / 360)  # Jan 31's rate
    assert cash.loc["2024-02-02"] == pytest.approx(0.06 / 360)
    assert values.iloc[-1] == pytest.approx(np.prod(1 + cash.to_numpy()[1:]))


def test_costs_are_charged_per_unit_traded() -> None:
    days = pd.bdate_range("2020-01-01", periods=60)
    flat = pd.Series(100.0, index=days)
    market = Market.from_series({"x": flat})
    # In, out, in: 3 units traded at 25 bp each (20 commission + 5 slippage).
    d = pd.DataFrame({"x": [1.0, 0.0, 1.0]}, index=days[[5, 10, 20]])
    spec = BacktestSpec("churn", days[0], days[-1], cost_bps=20, slippage_bps=5)
    res = Backtest(market, d, spec).fit(replicates=99)
    assert res.equity.iloc[-1] == pytest.approx((1 - 0.0025) ** 3)
    assert res.n_trades == 3


def test_bond_proxy_carries_and_has_a_ten_year_duration() -> None:
    days = pd.bdate_range("2024-01-01", periods=3)
    flat = bond_total_return_index(pd.Series([4.0, 4.0, 4.0], index=days))
    # Unchanged yield: the return is the coupon accrued plus the roll-down (tiny).
    assert flat.iloc[1] / flat.iloc[0] - 1 == pytest.approx(0.04 / 365.25, rel=0.01)
    up = bond_total_return_index(pd.Series([4.0, 4.01, 4.01], index=days))
    move = up.iloc[1] / up.iloc[0] - 1 - 0.04 / 365.25
    # A 10-year par bond at 4% (semi-annual) has a modified duration of about 8.18.
    assert move == pytest.approx(-8.18 * 0.0001, rel=0.01)


def test_rebalance_dates_and_signal_sampling() -> None:
    days = pd.date_range("2024-01-01", "2024-03-31", freq="D")
    assert list(rebalance_dates(days, "M").strftime("%m-%d")) == ["01-31", "02-29", "03-31"]
    assert rebalance_dates(days, "W")[0] == pd.Timestamp("2024-01-07")  # a Sunday
    sig = pd.DataFrame({"a": [1.0] * 40 + [0.0] * 51}, index=days)
    sampled = sample_signal(sig, rebalance_dates(days, "W"))
    # Only the changes are decisions: the first look, and the first Sunday after the flip.
    assert sampled["a"].tolist() == [1.0, 0.0]
    assert sampled.index[1] == pd.Timestamp("2024-02-11")
    held = trigger_hold(pd.DatetimeIndex(["2024-01-10"]), days, "a", 14)
    assert held["a"].sum() == 14
    assert held.loc["2024-01-09", "a"] == 0.0
    assert held.loc["2024-01-23", "a"] == 1.0


# ---- metrics --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["buy_and_hold", "phase_rotation"])
def test_metrics_equal_empyrical_and_quantstats(case: str) -> None:
    ref = json.loads(REFERENCE.read_text())[case]
    dates = pd.DatetimeIndex(ref["dates"])
    r = np.array(ref["returns"])
    cash = np.array(ref["cash"])
    # Recover the value path (first bar one day before the first return).
    start = dates[0] - pd.Timedelta(days=1)
    values = pd.Series(np.concatenate([[1.0], np.cumprod(1 + r)]), index=dates.insert(0, start))
    ann = ref["bars_per_year"]
    assert bars_per_year(pd.DatetimeIndex(values.index)) == pytest.approx(ann, rel=1e-12)
    e, q = ref["empyrical"], ref["quantstats"]
    dd = max_drawdown(values).depth
    ours = {
        "cagr": cagr(values),
        "volatility": volatility(r, ann),
        "sharpe": sharpe(r - cash, ann),
        "sortino": sortino(r - cash, ann),
        "max_drawdown": dd,
        "calmar": cagr(values) / abs(dd),
    }
    for key, value in e.items():
        assert value == pytest.approx(ours[key], abs=1e-8), key
    for key, value in q.items():
        assert value == pytest.approx(ours[key], abs=1e-8), key


def test_bitcoin_buy_and_hold_matches_a_hand_computation(home: Path) -> None:
    out = run_backtest(
        DataRepository(),
        builtin_strategy("buy_and_hold", "bitcoin"),
        start="2020-01-01",
        end="2025-12-31",
        replicates=199,
    )
    r = out.strategy
    closes = DataRepository().load("bitcoin").values.loc["2020-01-01":"2025-12-31"]
    years = (closes.index[-1] - closes.index[0]).days / 365.25
    assert r.cagr == pytest.approx((closes.iloc[-1] / closes.iloc[0]) ** (1 / years) - 1, rel=1e-12)
    dd = closes / closes.cummax() - 1
    assert r.max_drawdown == pytest.approx(dd.min(), rel=1e-12)
    assert r.drawdown_trough == dd.idxmin()
    assert r.drawdown_peak == closes.loc[: dd.idxmin()].idxmax()
    assert r.bars_per_year == pytest.approx(365.2, abs=0.3)  # Bitcoin's own calendar
    lo, hi = r.sharpe_ci
    assert lo < r.sharpe < hi
    gold = next(b for b in out.benchmarks if b.name == "buy and hold gold")
    assert gold.bars_per_year == pytest.approx(251, abs=3)  # trading days for gold
    assert [b.name for b in out.benchmarks].count("buy and hold bitcoin") == 0


def test_deflated_sharpe_under_the_null_and_with_an_edge() -> None:
    # N skill-less strategies: the best one's Sharpe ratio sits near the expected maximum,
    # so its DSR is about one half on average, and the test is conservative (it exceeds
    # 0.95 less than 5% of the time: the maximum of N varies less than one Sharpe ratio).
    rng = np.random.default_rng(11)
    n_trials, n_bars, sims = 20, 500, 300
    dsrs = []
    for _ in range(sims):
        m = rng.normal(0, 0.01, (n_bars, n_trials))
        sr = m.mean(axis=0) / m.std(axis=0, ddof=1)
        k = int(np.argmax(sr))
        dsrs.append(deflated_sharpe(m[:, k], n_trials, float(np.var(sr, ddof=1)))[0])
    assert 0.3 < float(np.median(dsrs)) < 0.7
    assert float(np.mean(np.array(dsrs) > 0.95)) <= 0.05
    # Ignoring the search (one trial: the probabilistic Sharpe ratio) the same best ones
    # look significant far more often: that is what deflating corrects.
    psr = [deflated_sharpe(rng.normal(0.0009, 0.01, n_bars), 1, 0.0)[0] for _ in range(50)]
    assert float(np.mean(np.array(psr) > 0.95)) > 0.5
    # A real edge is found after deflating: 0.25 per-bar Sharpe over 500 bars.
    edge = rng.normal(0.0025, 0.01, n_bars)
    assert deflated_sharpe(edge, n_trials, 0.045**2)[0] > 0.95


def test_expected_max_sharpe_matches_the_monte_carlo_maximum() -> None:
    rng = np.random.default_rng(5)
    for n in (10, 100, 1000):
        mc = rng.standard_normal((4000, n)).max(axis=1).mean()
        assert expected_max_sharpe(n, 1.0) == pytest.approx(mc, rel=0.03)
    assert expected_max_sharpe(1, 1.0) == 0.0


def test_pbo_is_a_half_for_noise_and_near_zero_for_a_real_edge() -> None:
    rng = np.random.default_rng(2)
    noise = rng.normal(0, 0.01, (1600, 12))
    pbo, logits = pbo_cscv(noise, 16)
    assert len(logits) == 12870  # C(16, 8) splits
    assert 0.25 < pbo < 0.75
    edge = noise.copy()
    edge[:, 3] += 0.004
    assert pbo_cscv(edge, 16)[0] < 0.05
    with pytest.raises(DataValidationError, match="even number"):
        pbo_cscv(noise, 15)
    # Trials that never invest tie (no Sharpe ratio): ties take their mid-rank, and a split
    # with nothing to choose on in sample is left out, so sparse sweeps are not "overfit".
    sparse = np.zeros((1600, 4))
    sparse[800:, :] = rng.normal(0.002, 0.01, (800, 4))
    assert pbo_cscv(sparse, 16)[0] < 0.9
    assert math.isnan(pbo_cscv(np.zeros((64, 3)), 4)[0])


# ---- services: point in time, sweeps, files, the command line ---------------------------------


def test_phase_rotation_decisions_are_point_in_time(home: Path) -> None:
    repo = DataRepository()
    cfg = builtin_strategy("phase_rotation")
    from havenflow.services.backtest import _market

    start = pd.Timestamp("2018-01-01")
    mid, end = pd.Timestamp("2021-06-30"), pd.Timestamp("2025-12-31")
    assets = cfg.assets()
    early = strategy_decisions(repo, cfg, _market(repo, assets, mid), start, mid)
    late = strategy_decisions(repo, cfg, _market(repo, assets, end), start, end)
    # What was decided up to mid-2021 with data up to then is what the full run decided.
    pd.testing.assert_frame_equal(early, late.loc[late.index <= mid], check_freq=False)
    assert len(late) > len(early) > 5


def test_phase_rotation_since_2018_with_deflated_sharpe(home: Path) -> None:
    out = run_backtest(
        DataRepository(), builtin_strategy("phase_rotation"), end="2025-12-31", replicates=199
    )
    s = out.sweep
    assert s is not None
    assert s.n_trials == 9
    assert 0.0 <= s.deflated_sharpe <= 1.0
    assert 0.0 <= s.pbo <= 1.0
    assert s.walk_forward is not None
    # The walk-forward choice never looks past its refit date: run with data to mid-2022
    # only, it made the same choices up to then.
    assert s.walk_forward_choices[0]["from"] == "2019-01-01"
    short = run_backtest(
        DataRepository(),
        builtin_strategy("phase_rotation"),
        end="2022-06-30",
        benchmarks=False,
        replicates=99,
    ).sweep
    assert short is not None
    n = len(short.walk_forward_choices)
    assert n == 4
    assert short.walk_forward_choices == s.walk_forward_choices[:n]
    assert s.walk_forward.exposure < 1.0
    doc = out.to_dict()
    assert set(doc["metrics"]) == {
        "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar", "turnover",
        "exposure",
    }  # fmt: skip
    assert doc["equity"][0]["date"] == "2018-01-01"
    assert doc["sweep"]["kind"] == "backtest_sweep"
    assert len(doc["sweep"]["trials"]) == 9
    assert "deflated Sharpe" in out.summary().text


def test_strategy_files_and_their_errors(tmp_path: Path) -> None:
    good = tmp_path / "rot.toml"
    good.write_text(
        '[strategy]\nname = "metals then bitcoin"\nkind = "phase_rotation"\nrebalance = "M"\n'
        "holdings = { 1 = { gold = 1.0 }, 2 = { bitcoin = 0.8 } }\n"
        "otherwise = { bond_10y = 1.0 }\n[strategy.sweep]\nwindow = [42, 63]\n"
    )
    cfg = load_strategy_file(good)
    assert cfg.holdings == {1: {"gold": 1.0}, 2: {"bitcoin": 0.8}}
    assert cfg.assets() == ["gold", "bitcoin", "bond_10y"]
    cases = {
        '[strategy]\nkind = "phase_rotation"\nholdings = { 5 = { gold = 1.0 } }\n': "holdings.5",
        '[strategy]\nkind = "weights"\nweights = { gold = 0.7, silver = 0.7 }\n': "over 1",
        '[strategy]\nkind = "trigger"\ntrigger = "silver:up"\n': "strategy.trigger",
        '[strategy]\nkind = "trigger"\nsweep = { window = [1] }\n': "sweep.window",
        '[strategy]\nkind = "momentum"\n': "strategy.kind",
        '[strategy]\nkind = "weights"\nweights = { gold = 1 }\nleverage = 2\n': "leverage",
        "[strategy\n": "not valid TOML",
    }
    for text, where in cases.items():
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(DataValidationError, match=where) as err:
            load_strategy_file(bad)
        assert str(bad) in str(err.value)
        assert "\n" not in str(err.value)


def test_cli_backtest_json_and_errors(home: Path, tmp_path: Path) -> None:
    code, out = run(
        "backtest", "--strategy", "trigger", "--start", "2019-01-01", "--end", "2025-06-30",
        "--cost-bps", "10", "--replicates", "99", "--no-benchmarks", "--json",
    )  # fmt: skip
    assert code == 0, out
    doc = json.loads(out)
    assert doc["metrics"]["turnover"] > 0
    assert doc["strategy"]["cost_bps"] == 10
    assert doc["sweep"]["n_trials"] == 12
    assert doc["benchmarks"] == []
    for args, msg in [
        (["backtest"], "one of --strategy"),
        (["backtest", "--strategy", "buy_and_hold", "--asset", "nope"], "nope"),
        (["backtest", "--strategy", "buy_and_hold", "--start", "2030-01-01"], "--start 2030"),
        (["backtest", "--strategy", "buy_and_hold", "--start", "2026-08-21"], "not before"),
        (["backtest", "--strategy", "buy_and_hold", "--asset", "real_yield_10y"], "not a price"),
        (["backtest", "--file", str(tmp_path / "missing.toml")], "missing.toml"),
    ]:
        code, out = run(*args)
        assert code == 2, (args, out)
        assert msg in out
        assert "Traceback" not in out
    code, out = run("backtest", "--strategy", "trigger", "--replicates", "99", "--format", "csv")
    assert code == 0, out
    import io

    rows = pd.read_csv(io.StringIO(out))  # the rows alone: prose goes to stderr
    assert {"sharpe_lo_95", "sharpe_hi_95"} <= set(rows.columns)
    assert (rows["sharpe_lo_95"] < rows["sharpe_hi_95"]).all()
    code, out = run(
        "backtest", "--strategy", "buy_and_hold", "--asset", "gold", "--replicates", "99"
    )
    assert code == 0, out
    assert "60/40" in out
    assert "buy and hold gold" in out


def test_the_dashboard_draws_the_backtest() -> None:
    from fastapi.testclient import TestClient

    from havenflow.web import models
    from havenflow.web.app import create_app

    client = TestClient(
        create_app(lambda: DataRepository(store=None), allowed_hosts=["testserver"])
    )
    params = {"strategy": "trigger", "start": "2019-01-01", "end": "2025-06-30", "cost_bps": 5}
    body = client.get("/api/backtest", params=params).json()
    doc = models.Backtest.model_validate(body)
    assert doc.strategy.metrics.turnover is not None
    assert [b["name"] for b in body["benchmarks"]][:2] == [
        "buy and hold bitcoin",
        "buy and hold gold",
    ]
    assert body["equity"][-1]["rolling_sharpe"] is not None
    page = client.get("/backtest", params=params)
    assert page.status_code == 200
    assert page.text.count("plotly-graph-div") == 3  # growth, drawdown, rolling Sharpe
    assert "deflated Sharpe" in page.text
    for bad in (
        {"strategy": "momentum"},
        {"rebalance": "Q"},
        {"cost_bps": -1},
        {"start": "2019-02-30"},
        {"asset": "no such"},
    ):
        res = client.get("/api/backtest", params=bad)
        assert res.status_code == 400, (bad, res.text)
        assert res.json()["detail"]
    unknown = {"strategy": "buy_and_hold", "asset": "no_such_series"}
    assert client.get("/api/backtest", params=unknown).status_code == 404
    # The rotation holds what its phases say: an asset is refused, not ignored.
    assert client.get("/api/backtest", params={"asset": "gold"}).status_code == 400


def test_cash_has_no_sharpe_and_a_first_purchase_pays_its_cost() -> None:
    days = pd.bdate_range("2020-01-01", periods=300)
    rate = pd.Series(4.33, index=pd.date_range("2019-12-01", days[-1]))
    rate.loc["2020-06-01":] = 1.58
    prices = _walk(days, 8, vol=0.01)
    market = Market.from_series({"x": prices}, rate)
    idle = Backtest(market, fixed_weights({"x": 0.0}, days[0]), _spec("cash", days)).fit(
        replicates=99
    )
    # Rounding of (value return - cash return) is not a Sharpe ratio.
    assert math.isnan(idle.sharpe)
    assert np.all(idle.excess.to_numpy() == 0.0)
    held = Backtest(market, fixed_weights({"x": 1.0}, days[0]), _spec("x", days, 100.0))
    res = held.fit(replicates=99)
    assert res.total_return == pytest.approx(prices.iloc[-1] / prices.iloc[0] * 0.99 - 1)
    assert res.equity.iloc[0] == 1.0
    # A sweep never prefers cash for its rounding.
    from havenflow.analytics.backtest import sweep

    s = sweep(
        "pick",
        market,
        [{"w": 0.0}, {"w": 1.0}],
        [fixed_weights({"x": 0.0}, days[0]), fixed_weights({"x": 1.0}, days[0])],
        _spec("pick", days),
        replicates=99,
        pbo_blocks=4,
        min_history_days=100,
    )
    assert math.isnan(s.trials["sharpe"].iloc[0])
    assert s.best == {"w": 1.0}


def test_hit_rate_counts_only_bars_when_a_held_market_was_open() -> None:
    cal = pd.date_range("2021-01-01", "2022-12-31", freq="D")
    wk = pd.bdate_range(cal[0], cal[-1])
    gold = _walk(wk, 9, vol=0.01)
    alone = Market.from_series({"gold": gold})
    mixed = Market.from_series({"gold": gold, "bitcoin": _walk(cal, 10)})
    d = fixed_weights({"gold": 1.0}, cal[0])
    a = Backtest(alone, d, _spec("a", cal)).fit(replicates=99)
    b = Backtest(mixed, d.assign(bitcoin=0.0), _spec("b", cal)).fit(replicates=99)
    assert a.hit_rate == pytest.approx(b.hit_rate)  # weekends are not misses
    assert a.total_return == pytest.approx(b.total_return, rel=1e-12)


def test_every_benchmark_shares_the_window_or_is_not_run(home: Path) -> None:
    repo = DataRepository()
    # Bitcoin's data runs past gold's, silver's and the S&P 500's: those benchmarks would be
    # frozen at their last price; they are left out, with the reason.
    out = run_backtest(repo, builtin_strategy("buy_and_hold", "bitcoin"), replicates=99)
    end = out.strategy.end
    assert all(b.end == end for b in out.benchmarks)
    assert any("buy and hold gold not run: gold ends" in n for n in out.notes)
    # The trigger's window ends when its signal's data (silver) ends, not Bitcoin's.
    trig = run_backtest(repo, builtin_strategy("trigger"), replicates=99, benchmarks=False)
    assert trig.strategy.end == repo.load("silver").values.index[-1]
    assert trig.sweep is not None
    wf = trig.sweep.walk_forward
    assert wf is not None
    assert wf.start >= pd.Timestamp("2019-01-01")  # measured from its first choice
    assert 0.0 <= trig.deflated_sharpe <= 1.0
