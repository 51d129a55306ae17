"""Event studies: the trigger grammar, declustering, known truths, calibration, point-in-time."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.test_cli import run
from tests.test_leadlag import garch_t

from havenflow.analytics.events import (
    EventStudy,
    decluster,
    parse_trigger,
    trigger_onsets,
)
from havenflow.catalog import get_spec
from havenflow.data.embedded import embedded_series
from havenflow.data.repository import DataRepository
from havenflow.data.store import ObservationBatch, Store
from havenflow.exceptions import DataValidationError
from havenflow.services import run_events


def test_grammar() -> None:
    assert parse_trigger("silver:ath").kind == "ath"
    t = parse_trigger("silver:high(252)")
    assert (t.kind, t.bars) == ("high", 252)
    t = parse_trigger("silver:ret(63)>0.2")
    assert (t.series, t.bars, t.op, t.threshold) == (("silver",), 63, ">", 0.2)
    t = parse_trigger("silver/bitcoin:ret(63) > 0.3")
    assert t.series == ("silver", "bitcoin")
    assert parse_trigger("gold:ret(21)<-0.1").threshold == -0.1
    assert parse_trigger("phase:1->2").op == "1->2"
    for bad in ("silver", "silver:high()", "silver:ret(63)", "silver:high(1)", "phase:0->5"):
        with pytest.raises(DataValidationError, match="trigger"):
            parse_trigger(bad)


def test_onsets_and_declustering_by_hand() -> None:
    idx = pd.bdate_range("2024-01-01", periods=12)
    prices = [10, 11, 12, 11, 13, 13, 12, 14, 15, 9, 16, 17]
    levels = pd.DataFrame({"x": prices}, index=idx, dtype=float)
    # New all-time highs on bars 1, 2, 4, 7, 8, 10, 11; onsets where the bar before was not one.
    onsets = trigger_onsets(parse_trigger("x:ath"), levels)
    assert list(onsets) == [idx[1], idx[4], idx[7], idx[10]]
    assert list(decluster(onsets, idx, 4)) == [idx[1], idx[7]]
    assert list(decluster(onsets, idx, 0)) == list(onsets)
    high3 = trigger_onsets(parse_trigger("x:high(3)"), levels)
    assert idx[4] in high3  # 13 > max(12, 11, 12)
    assert idx[3] not in high3


def _random_walk(n: int, rng: np.random.Generator, idx: pd.DatetimeIndex) -> pd.Series:
    return pd.Series(100 * np.exp(np.cumsum(0.01 * garch_t(n, rng))), index=idx)


def test_planted_response_is_found_with_its_interval() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    idx = pd.bdate_range("2010-01-01", periods=n)
    r = 0.01 * garch_t(n, rng)
    events = idx[np.arange(100, n - 200, 130)]
    for e in idx.get_indexer(events):
        r[e + 1 : e + 11] += 0.01  # +10 log points over the 10 bars after each event
    target = pd.Series(100 * np.exp(np.concatenate([[0.0], np.cumsum(r[1:])])), index=idx)
    res = EventStudy(target, events, (5, 10, 21), target_name="t").fit(499, seed=2)
    h10 = res.to_frame().loc[10]
    assert h10["n"] == len(events) >= 20
    assert h10["pvalue"] < 0.01
    assert h10["ci_low"] < 0.10 < h10["ci_high"]
    assert h10["verdict"] == "higher than baseline"
    # The average path rises over the first ten bars.
    assert res.path.loc[10, "mean"] - res.path.loc[0, "mean"] > 0.07


def test_null_rejection_rate_is_controlled() -> None:
    rng = np.random.default_rng(5)
    n, sims, rejections = 1500, 80, 0
    idx = pd.bdate_range("2012-01-02", periods=n)
    for _ in range(sims):
        target = _random_walk(n, rng, idx)
        events = idx[np.sort(rng.choice(np.arange(50, n - 80), size=15, replace=False))]
        res = EventStudy(target, events, (21,)).fit(199, seed=int(rng.integers(1 << 30)))
        rejections += res.horizons[0]["pvalue"] < 0.05
    assert rejections <= 10  # Binomial(80, 0.05): mean 4; 10 or more has probability < 1%


def test_few_events_are_inconclusive() -> None:
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2015-01-01", periods=800)
    target = _random_walk(800, rng, idx)
    res = EventStudy(target, idx[[100, 300, 500]], (10,)).fit(199, seed=1)
    assert res.horizons[0]["verdict"] == "inconclusive"


def test_real_event_study_recomputed_with_pandas() -> None:
    res = run_events(DataRepository(store=None), "silver:high(252)", asof="2026-01-23")
    doc = res.to_dict()
    for key in ("trigger", "target", "n_events", "event_dates", "horizons"):
        assert key in doc
    for key in (
        "horizon",
        "mean",
        "median",
        "hit_rate",
        "baseline_mean",
        "excess_mean",
        "ci_low",
        "ci_high",
        "pvalue",
    ):
        assert key in doc["horizons"][0]
    assert doc["n_events"] >= 10
    # Recompute the 21-day mean with plain pandas: bitcoin on the trading days of the trigger's
    # series (the bundled COMEX closes follow the NYSE's sessions; bitcoin trades every day),
    # last close known on each day, log return from each event's close to the close 21
    # sessions later.
    import exchange_calendars as xc

    btc = embedded_series("bitcoin")[:"2026-01-23"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the library's own pandas deprecation warnings
        days = xc.get_calendar("XNYS", start="2000-01-03").sessions_in_range(
            btc.index[0], "2026-01-23"
        )
    days = pd.DatetimeIndex(days).tz_localize(None) if days.tz is not None else days
    on_days = btc.reindex(days, method="ffill", tolerance=pd.Timedelta(days=3)).dropna()
    logp = np.log(on_days)
    fwd = [
        logp.iloc[logp.index.get_loc(pd.Timestamp(d)) + 21] - logp.loc[pd.Timestamp(d)]
        for d in doc["event_dates"]
        if logp.index.get_loc(pd.Timestamp(d)) + 21 < len(logp)
    ]
    h21 = next(h for h in doc["horizons"] if h["horizon"] == 21)
    assert h21["n"] == len(fwd)
    assert h21["mean"] == pytest.approx(float(np.mean(fwd)), rel=1e-10)


def test_events_cli_json_errors_and_point_in_time(home: Path) -> None:
    args = ("events", "--trigger", "silver:ret(63)>0.2", "--asof", "2024-06-28", "--json")
    code, full = run(*args, "--replicates", "199")
    assert code == 0, full
    ids = ("silver", "bitcoin")
    store = Store(home / "cut.duckdb")
    store.write(
        [ObservationBatch(get_spec(s), embedded_series(s)[:"2024-06-28"], "t", s) for s in ids]
    )
    _, cut = run("--store", str(home / "cut.duckdb"), *args, "--replicates", "199")
    assert json.loads(full) == json.loads(cut)
    code, out = run("events", "--trigger", "silver:moon")
    assert code == 2
    assert "cannot read trigger" in out
    code, out = run("events", "--trigger", "phase:2->2")
    assert code == 2
    assert "two phases" in out
    code, out = run("events", "--trigger", "silver:ath", "--target", "real_yield_10y")
    assert code == 2
    assert "prices" in out
