"""The public Python API: what `import havenflow` exports, the notebook path, the contract."""

from __future__ import annotations

import dataclasses
import runpy
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import havenflow as hf
from havenflow.analytics.results import SCHEMA_VERSION, Result, jsonable
from havenflow.exceptions import DataValidationError

ROOT = Path(__file__).resolve().parents[1]


def test_exported_members() -> None:
    # Every public name of the package is in __all__ and every name in __all__ exists
    # (httpx's habit): the API is what __all__ says, no more, no less.
    exported = set(hf.__all__)
    public = {
        name
        for name, value in vars(hf).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - {"annotations"} == exported - {"__version__"}
    for name in hf.__all__:
        assert hasattr(hf, name), name
    assert {"load", "leadlag", "granger", "rolling_leadlag", "var"} <= exported


def test_notebook_path(home: Path) -> None:
    df = hf.load(["silver", "bitcoin"], asof="2026-01-23", freq="W")
    assert list(df.columns) == ["silver", "bitcoin"]
    assert df.index[-1] == pd.Timestamp("2026-01-23")
    assert df.attrs["lag_unit"] == "weeks"
    res = hf.leadlag(df.silver, df.bitcoin, max_lag=26)
    html = res._repr_html_()
    assert "leader silver" in html
    assert "follower bitcoin" in html
    doc = res.to_dict()
    assert doc["kind"] == "xcorr"
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["lag"] == res.lag
    assert 0 < doc["pvalue"] <= 1
    assert doc["lag_unit"] == "weeks"
    assert "positive lag" in doc["lag_convention"]
    lo, hi = res.conf_int(0.05)
    assert (lo, hi) == tuple(doc["lag_conf_int"])
    assert res.conf_int(0.5)[0] >= lo
    fig = res.plot()
    names = {trace.name for trace in fig.data}
    assert {"correlation", "95% null band"} <= names
    bars = next(t for t in fig.data if t.name == "correlation")
    assert len(bars.x) == 53
    # The same numbers as the command line's engine on the same data.
    from havenflow.analytics.leadlag import CrossCorrelation
    from havenflow.data.align import transform

    moves = transform(df).dropna()
    direct = CrossCorrelation(moves.silver, moves.bitcoin, 26).fit(999, seed=0)
    assert direct.pvalue == res.pvalue
    assert direct.lag == res.lag


def test_levels_or_moves_are_declared(home: Path) -> None:
    df = hf.load(["silver", "real_yield_10y"], asof="2024-06-28", freq="W")
    # A yield's move is its change in points, a price's its log return (by the catalog).
    a = hf.leadlag(df.real_yield_10y, df.silver, max_lag=4)
    moves = pd.DataFrame(
        {"real_yield_10y": df.real_yield_10y.diff(), "silver": np.log(df.silver).diff()}
    ).dropna()
    b = hf.leadlag(moves.real_yield_10y, moves.silver, max_lag=4, input="moves")
    assert a.correlation == pytest.approx(b.correlation, rel=1e-12)
    with pytest.raises(DataValidationError, match="input must be"):
        hf.leadlag(df.silver, df.real_yield_10y, input="prices")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="freq must be"):
        hf.load(["silver"], freq="Q")
    with pytest.raises(DataValidationError, match="not a calendar day"):
        hf.load(["silver"], asof="2026-02-30")


def test_results_are_read_only_and_derive_their_json() -> None:
    rng = np.random.default_rng(1)
    idx = pd.date_range("2015-01-02", periods=400, freq="W-FRI")
    x = pd.Series(rng.standard_normal(400), idx, name="a")
    y = pd.Series(rng.standard_normal(400), idx, name="b")
    res = hf.leadlag(x, y, max_lag=10, input="moves", replicates=99)
    assert isinstance(res, Result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.lag = 3  # type: ignore[misc]
    doc = res.to_dict()
    # every JSON field is a dataclass field or a declared derived property; arrays stay out
    fields = {f.name for f in dataclasses.fields(res) if f.metadata.get("json", True)}
    assert set(doc) == fields | set(res._derived) | {"kind", "schema_version"}
    assert "profile_correlation" not in doc
    assert len(doc["profile"]) == 21
    assert jsonable(np.float64("nan")) is None
    assert jsonable(pd.Timestamp("2026-01-23")) == "2026-01-23"
    gr = hf.granger(x, y, max_lag=4, input="moves")
    gdoc = gr.to_dict()
    assert gdoc["lag_order"] == gr.lag_order
    assert gdoc["pvalue"] == gr.pvalue
    assert {"lag_order", "stat", "pvalue", "df_num", "df_denom", "nobs"} <= set(gdoc["tests"][0])


def test_example_script_runs(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(ROOT / "docs" / "example.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "leader silver -> follower bitcoin" in out
    assert "{gold, silver} -> bitcoin" in out


def test_a_missing_field_fails_the_report_instead_of_changing_a_verdict(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A renamed key in a result's JSON must fail the build, never turn C10 "inconclusive".
    from havenflow.analytics import leadlag
    from havenflow.data.repository import DataRepository
    from havenflow.report.build import ReportOptions, build_report

    original = leadlag.CrossCorrelationResult.to_dict

    def renamed(self: leadlag.CrossCorrelationResult) -> dict[str, object]:
        doc = original(self)
        doc["p_value"] = doc.pop("pvalue")
        return doc

    monkeypatch.setattr(leadlag.CrossCorrelationResult, "to_dict", renamed)
    with pytest.raises(KeyError, match="pvalue"):
        build_report(DataRepository(), ReportOptions(asof="2026-01-23"))


def test_the_other_families_from_pandas(home: Path) -> None:
    from havenflow.catalog import get_spec
    from havenflow.data.align import transform
    from havenflow.data.repository import DataRepository
    from havenflow.services import run_events

    df = hf.load(["silver", "bitcoin"], asof="2026-01-23")
    ev = hf.events(df, "silver:high(252)", "bitcoin", horizons=[21, 63], replicates=199)
    same = run_events(
        DataRepository(),
        "silver:high(252)",
        "bitcoin",
        horizons=(21, 63),
        asof="2026-01-23",
        replicates=199,
    )
    assert ev.to_dict()["horizons"] == same.to_dict()["horizons"]
    assert ev.to_dict()["kind"] == "event_study"
    assert "log points" in ev.summary().text
    with pytest.raises(DataValidationError, match="no column 'gold'"):
        hf.events(df, "gold:high(252)", "bitcoin")
    snap = hf.snapshot(df, asof="2026-01-23")
    silver = next(a for a in snap.to_dict()["assets"] if a["id"] == "silver")
    assert silver["is_ath"] is True
    assert snap.to_dict()["kind"] == "snapshot"
    assert "silver" in snap.summary().text
    assert isinstance(snap, Result)
    moves = hf.load(["silver", "usd_broad", "real_yield_10y"], asof="2026-01-23")
    m = transform(moves, {c: get_spec(c) for c in moves.columns}).dropna()
    fit = hf.drivers(m, "silver", ["usd_broad", "real_yield_10y"])
    assert fit.to_dict()["kind"] == "drivers"
    assert fit.nobs == len(m)


def test_timeline_from_python(tmp_path: Path) -> None:
    note = tmp_path / "gold.toml"
    note.write_text(
        '[note]\ntitle = "g"\ndate = "2025-06-30"\n\n[[claim]]\nid = "G"\ntext = "Gold at a '
        'record."\nkind = "all_time_high"\nasset = "gold"\n'
    )
    out = hf.timeline(note, "2025-01-01", "2025-06-30", "Q")
    assert [s["asof"] for s in out["timeline"]] == ["2025-03-31", "2025-06-30"]
    one = hf.check(note, asof="2025-03-31", sensitivity=False, hindsight=False)
    assert out["timeline"][0]["verdicts"] == {"G": one["claims"][0]["verdict"]}
    assert "hindsight" not in one


def test_safe_haven_and_regime_from_pandas(home: Path) -> None:
    from havenflow.data.repository import DataRepository
    from havenflow.services import PHASE_SERIES, run_regime, run_safehaven

    df = hf.load(["gold", "sp500"], asof="2026-01-23", freq="B")
    sh = hf.safe_haven(df.gold, df.sp500)
    same = next(r for r in run_safehaven(DataRepository(), "2026-01-23").regressions)
    assert same.asset == "gold"
    # The same regression as the command line's (same days, same slopes, same errors).
    assert sh.nobs == same.nobs
    assert sh.hedge.slope == pytest.approx(same.hedge.slope, rel=1e-12)
    assert sh.tail(0.05).std_err == pytest.approx(same.tail(0.05).std_err, rel=1e-12)
    doc = sh.to_dict()
    assert doc["kind"] == "safe_haven_regression"
    assert [t["quantile"] for t in doc["safe_haven"]] == [0.10, 0.05, 0.01]
    assert "gold" in sh.summary().text
    with pytest.raises(dataclasses.FrozenInstanceError):
        sh.nobs = 1  # type: ignore[misc]

    levels = hf.load(list(PHASE_SERIES), asof="2019-12-31", freq="B")
    reg = hf.regime(levels)
    cli = run_regime(DataRepository(), "2019-12-31").markov
    assert cli is not None
    assert reg.to_dict()["kind"] == cli.to_dict()["kind"]
    pd.testing.assert_frame_equal(reg.probabilities, cli.probabilities)


def test_backtest_from_python(home: Path, tmp_path: Path) -> None:
    out = hf.backtest(
        "buy_and_hold",
        asset="gold",
        start="2020-01-01",
        end="2024-12-31",
        replicates=99,
        benchmarks=False,
    )
    assert out.strategy.name == "buy and hold gold"
    assert out.to_dict()["metrics"]["max_drawdown"] < 0
    assert len(out.plot().data) == 1
    f = tmp_path / "s.toml"
    f.write_text('[strategy]\nkind = "weights"\nweights = { gold = 0.5, sp500 = 0.5 }\n')
    mixed = hf.backtest(
        file=f, start="2020-01-01", end="2024-12-31", rebalance="M", replicates=99, benchmarks=False
    )
    assert mixed.strategy.turnover > 0.1  # monthly rebalancing trades
    with pytest.raises(DataValidationError, match="strategy name or a file"):
        hf.backtest(None)


def test_more_kinds_plot(home: Path) -> None:
    df = hf.load(["silver", "bitcoin", "gold", "sp500"], asof="2026-01-23")
    ev = hf.events(df, "silver:high(252)", "bitcoin", horizons=[21], replicates=99)
    assert len(ev.plot().data) >= 2  # the average path and the baseline
    sh = hf.safe_haven(df.gold.dropna(), df.sp500.dropna())
    fig = sh.plot()
    assert [t.name for t in fig.data][:1] == ["gold"]
    weekly = hf.load(["gold", "silver", "bitcoin"], asof="2026-01-23", freq="W")
    v = hf.var(weekly[["gold", "silver"]], weekly.bitcoin, max_lag=4)
    assert "response of bitcoin" in v.summary().text
    assert v.to_dict()["kind"] == "var"
    assert set(v.to_frame()["impulse"]) == {"gold", "silver"}
    assert len(v.plot().data) >= 2
    with pytest.raises(NotImplementedError, match="no figure"):
        hf.drivers(np.log(df[["gold", "sp500"]].dropna()).diff().dropna(), "gold", ["sp500"]).plot()
