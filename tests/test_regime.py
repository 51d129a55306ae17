"""Phases (claim C8): the HMM against statsmodels/Stata, the rules on known paths, point-in-time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from tests.conftest import truncated_store
from tests.test_cli import run

from havenflow.analytics.events import parse_trigger, trigger_onsets
from havenflow.analytics.hmm import GaussianHMM, hamilton_filter, steady_state
from havenflow.analytics.regime import (
    CONDITIONS,
    MarkovPhaseModel,
    PhaseClassifier,
    PhaseSpec,
    phase_indicators,
)
from havenflow.exceptions import DataValidationError, InsufficientDataError
from havenflow.services import PHASE_SERIES

FEDFUNDS = json.loads((Path(__file__).parent / "data" / "fedfunds_mswitch.json").read_text())


def _stata_model() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    p = FEDFUNDS["stata_params"]
    y = np.asarray(FEDFUNDS["values"])
    transition = np.array([[p["p00"], 1 - p["p00"]], [p["p10"], 1 - p["p10"]]])
    means = np.array([[p["mu0"]], [p["mu1"]]])
    variances = np.array([[p["sigma"] ** 2]])
    return y, means, variances, transition


def test_filter_equals_stata_mswitch_and_statsmodels_on_fed_funds() -> None:
    y, means, variances, transition = _stata_model()
    model = GaussianHMM(y, 2, "tied")
    assert model.loglike(means, variances, transition) == pytest.approx(
        FEDFUNDS["stata_llf"], abs=1e-4
    )
    p = FEDFUNDS["stata_params"]
    ref = sm.tsa.MarkovRegression(y, k_regimes=2).filter(
        np.r_[p["p00"], p["p10"], p["mu0"], p["mu1"], p["sigma"] ** 2]
    )
    ours = model.filter(means, variances, transition)
    np.testing.assert_allclose(ours.filtered, ref.filtered_marginal_probabilities, atol=1e-10)
    assert ours.llf == pytest.approx(ref.llf, abs=1e-8)


def test_fit_reaches_the_statsmodels_maximum_likelihood() -> None:
    y, _, _, _ = _stata_model()
    ours = GaussianHMM(y, 2, "tied").fit()
    ref = sm.tsa.MarkovRegression(y, k_regimes=2).fit(disp=False)
    assert ours.llf == pytest.approx(ref.llf, abs=1e-4)
    assert ours.llf == pytest.approx(FEDFUNDS["stata_llf"], abs=1e-3)
    order = np.argsort(ours.means[:, 0])
    np.testing.assert_allclose(ours.means[order, 0], ref.params[2:4], atol=5e-3)
    np.testing.assert_allclose(ours.variances[0, 0], ref.params[4], rtol=1e-3)
    np.testing.assert_allclose(ours.transition[order[0], order[0]], ref.params[0], atol=1e-3)


def test_steady_state_and_filter_basics() -> None:
    p = np.array([[0.9, 0.1], [0.3, 0.7]])
    np.testing.assert_allclose(steady_state(p), [0.75, 0.25])
    filt, pred, llf = hamilton_filter(np.log(np.array([[1.0, 1e-300], [1.0, 1.0]])), p)
    np.testing.assert_allclose(pred[0], [0.75, 0.25])
    np.testing.assert_allclose(filt[0], [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(pred[1], [0.9, 0.1])
    assert np.isfinite(llf)


def test_hmm_recovers_a_simulated_three_regime_process() -> None:
    rng = np.random.default_rng(3)
    truth_means = np.array([[-2.0, 0.0], [0.0, 2.0], [2.0, -1.0]])
    p = np.full((3, 3), 0.02)
    np.fill_diagonal(p, 0.96)
    states = [0]
    for _ in range(1499):
        states.append(int(rng.choice(3, p=p[states[-1]])))
    s = np.array(states)
    y = truth_means[s] + rng.standard_normal((1500, 2)) * 0.7
    res = GaussianHMM(y, 3, "diag").fit(seed=1)
    # Match regimes to the truth by their means, then check the filtered path and parameters.
    match = [int(np.argmin(np.linalg.norm(res.means - m, axis=1))) for m in truth_means]
    assert sorted(match) == [0, 1, 2]
    np.testing.assert_allclose(res.means[match], truth_means, atol=0.15)
    np.testing.assert_allclose(np.diag(res.transition)[match], 0.96, atol=0.03)
    inferred = np.asarray(match)[None, :] == res.filtered.argmax(axis=1)[:, None]
    accuracy = np.mean(np.argmax(inferred, axis=1) == s)
    assert accuracy > 0.9
    # Filtered probabilities use the past only: the first 500 rows do not move when the rest do.
    y2 = y.copy()
    y2[500:] = rng.standard_normal((1000, 2)) * 50
    again = GaussianHMM(y2, 3, "diag").filter(res.means, res.variances, res.transition)
    np.testing.assert_allclose(again.filtered[:500], res.filtered[:500], atol=1e-12)


def _backward_oracle(transition: np.ndarray, filtered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kim smoother written plainly (the slow reference for the compiled one)."""
    t_len, k = filtered.shape
    smoothed = np.empty_like(filtered)
    smoothed[-1] = filtered[-1]
    xi_sum = np.zeros((k, k))
    for t in range(t_len - 2, -1, -1):
        pred = filtered[t] @ transition
        ratio = np.divide(smoothed[t + 1], pred, out=np.zeros(k), where=pred > 0)
        joint = filtered[t][:, None] * transition * ratio[None, :]
        xi_sum += joint
        smoothed[t] = joint.sum(axis=1)
    return smoothed, xi_sum


def test_compiled_smoother_equals_the_plain_one_and_warm_starts_resume() -> None:
    from havenflow.analytics.hmm import _backward

    rng = np.random.default_rng(4)
    y = np.concatenate([rng.normal(-2, 1, 200), rng.normal(2, 1, 200), rng.normal(-2, 1, 200)])
    cold = GaussianHMM(y, 2, "diag").fit(polish=False)
    p = cold.transition
    p_zero = np.array([[1.0, 0.0], [0.3, 0.7]])  # a zero predicted probability on the way
    for trans in (p, p_zero):
        filt = GaussianHMM(y, 2, "diag").filter(cold.means, cold.variances, trans).filtered
        got = _backward(np.ascontiguousarray(trans), filt)
        want = _backward_oracle(trans, filt)
        np.testing.assert_allclose(got[0], want[0], atol=1e-13)
        np.testing.assert_allclose(got[1], want[1], atol=1e-10)
    # A warm start at the optimum stays there.
    warm = GaussianHMM(y, 2, "diag").fit(
        init_params=(cold.means, cold.variances, cold.transition), polish=False
    )
    assert warm.iterations <= 3
    assert warm.llf == pytest.approx(cold.llf, abs=1e-6)
    with pytest.raises(DataValidationError, match="not both"):
        GaussianHMM(y, 2).fit(init_labels=np.zeros(600, int), init_params=(p, p, p))
    with pytest.raises(DataValidationError, match=r"means \(2, 1\)"):
        GaussianHMM(y, 2).fit(init_params=(np.zeros((3, 1)), np.ones((3, 1)), p))
    with pytest.raises(DataValidationError, match="row-stochastic"):
        GaussianHMM(y, 2).fit(init_params=(cold.means, cold.variances, p * 2))
    # A reducible chain has no unique steady state: the least-squares answer is still one.
    np.testing.assert_allclose(steady_state(np.eye(2)).sum(), 1.0)


def test_hmm_rejects_bad_input() -> None:
    with pytest.raises(DataValidationError, match="NaN"):
        GaussianHMM(np.array([1.0, np.nan] * 30), 2).fit()
    with pytest.raises(InsufficientDataError, match="observations"):
        GaussianHMM(np.arange(5.0), 2).fit()
    with pytest.raises(DataValidationError, match="init_labels"):
        GaussianHMM(np.arange(50.0), 2).fit(init_labels=np.full(50, 7))


def _scenario() -> pd.DataFrame:
    """Two years of calm, then a defensive half-year, then a debasement half-year."""
    idx = pd.bdate_range("2010-01-01", periods=900)
    n = len(idx)
    t = np.arange(n, dtype=float)
    calm, fear, debase = t < 500, (t >= 500) & (t < 700), t >= 700
    drift = {
        "gold": np.where(fear, 0.003, np.where(debase, 0.0005, 0.0)),
        "silver": np.where(fear, 0.004, np.where(debase, 0.0005, 0.0)),
        "bitcoin": np.where(fear, -0.002, np.where(debase, 0.006, 0.001)),
        "sp500": np.where(fear, -0.002, np.where(debase, 0.001, 0.0008)),
    }
    frame = {k: 100 * np.exp(np.cumsum(v)) for k, v in drift.items()}
    frame["vix"] = np.where(calm, 14.0 + 0.001 * t, np.where(fear, 14 + 0.1 * (t - 500), 20.0))
    frame["vix"] = np.where(debase, 34.0 - 0.05 * (t - 700), frame["vix"])
    frame["real_yield_10y"] = np.where(debase, 1.0 - 0.01 * (t - 700), 1.0)
    frame["usd_broad"] = np.where(debase, 100 * np.exp(-0.0005 * (t - 700)), 100.0)
    frame["fed_balance_sheet"] = np.where(debase, 4e6 * np.exp(0.001 * (t - 700)), 4e6)
    return pd.DataFrame(frame, index=idx)


def test_rules_classify_a_known_path_with_evidence() -> None:
    res = PhaseClassifier(_scenario()).fit()
    assert int(res.phase.loc["2012-06-29"]) == 1  # deep in the defensive stretch
    assert int(res.phase.iloc[-1]) == 2  # Bitcoin leads while yields and dollar fall
    ev = res.evidence()
    assert len(ev) == len(CONDITIONS)
    by_text = {(e["phase"], e["indicator"]): e for e in ev}
    assert by_text[(2, "real_yield_change")]["met"] is True
    assert by_text[(2, "metals_minus_bitcoin")]["met"] is True
    assert by_text[(1, "metals_minus_bitcoin")]["met"] is False
    d = res.to_dict()
    assert d["phase"] == 2
    assert d["phase_name"].startswith("debasement")
    assert d["timeline"][-1]["ongoing"] is True
    assert sum(r["completed"] for r in d["transitions"]) == len(d["timeline"]) - 1
    # The classification of a date never changes when later data arrive.
    cut = PhaseClassifier(_scenario().loc[:"2012-06-29"]).fit()
    pd.testing.assert_series_equal(cut.phase, res.phase.loc[:"2012-06-29"])
    pd.testing.assert_frame_equal(cut.indicators, res.indicators.loc[:"2012-06-29"])


def test_indicators_by_hand_and_missing_inputs() -> None:
    lv = _scenario()
    ind = phase_indicators(lv, PhaseSpec(window=21))
    t = lv.index[650]
    metals = 0.5 * (np.log(lv["gold"]) + np.log(lv["silver"]))
    by_hand = (metals.iloc[650] - metals.iloc[629]) - np.log(
        lv["bitcoin"].iloc[650] / lv["bitcoin"].iloc[629]
    )
    assert ind.loc[t, "metals_minus_bitcoin"] == pytest.approx(by_hand)
    window = lv["vix"].iloc[:651][-756:]
    assert ind.loc[t, "vix_percentile"] == pytest.approx((window <= window.iloc[-1]).mean())
    with pytest.raises(DataValidationError, match="usd_broad"):
        phase_indicators(lv.drop(columns="usd_broad"))
    with pytest.raises(DataValidationError, match="margin"):
        PhaseSpec(margin=2.0)


def _prototype_world(seed: int) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Daily indicators drawn around each phase's sign prototype, phases from a Markov chain."""
    from havenflow.analytics.regime import _PROTOTYPES, HMM_FEATURES

    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2010-01-01", periods=3000)
    weeks = len(pd.date_range(idx[0], idx[-1], freq="W-FRI")) + 2
    p = np.full((4, 4), 0.03)
    np.fill_diagonal(p, 0.91)
    state = [0]
    for _ in range(weeks - 1):
        state.append(int(rng.choice(4, p=p[state[-1]])))
    week_of_day = np.asarray((idx - idx[0]).days // 7)
    truth = np.asarray(state)[week_of_day]
    feats = _PROTOTYPES[truth] + rng.normal(0, 0.6, (len(idx), len(HMM_FEATURES)))
    ind = pd.DataFrame(feats, index=idx, columns=list(HMM_FEATURES))
    # The rules see the truth with 30% of days mislabelled at random.
    noisy = np.where(rng.random(len(idx)) < 0.3, rng.integers(0, 4, len(idx)), truth)
    return ind, pd.Series(noisy + 1, index=idx).astype("Int64"), truth + 1


def test_markov_is_point_in_time_and_names_regimes_by_meaning() -> None:
    ind, rules, truth = _prototype_world(5)
    a = MarkovPhaseModel(ind, rules).fit()
    # No probability before the first estimate (104 complete weeks before a month end), and
    # every week's parameters come from the end of an earlier month.
    first = a.fits[0]
    assert first.nobs >= 104
    assert a.probabilities.index[0] > first.date
    asof = pd.DatetimeIndex(a.parameters_asof)
    assert (asof < a.probabilities.index).all()
    assert (asof.to_period("M") == (a.probabilities.index.to_period("M") - 1)).all()
    assert len({f.date for f in a.fits}) == len(a.fits)
    np.testing.assert_allclose(a.probabilities.sum(axis=1), 1.0)
    # Out of sample, the named regimes recover the planted phases.
    weekly_truth = pd.Series(truth, index=ind.index).reindex(a.probabilities.index)
    assert np.mean(a.most_likely.to_numpy() == weekly_truth.to_numpy()) > 0.85
    assert a.agreement_weeks == len(a.probabilities)
    assert a.agreement == pytest.approx(np.mean(a.most_likely == a.rule_phase))
    # Relabel the starting phases (1<->3, 2<->4): EM starts from permuted regimes, and the
    # prototype matching still names every regime the same way.
    swapped = rules.map({1: 3, 2: 4, 3: 1, 4: 2}).astype("Int64")
    b = MarkovPhaseModel(ind, swapped).fit()
    pd.testing.assert_frame_equal(a.probabilities, b.probabilities, atol=1e-6)


def test_markov_probabilities_never_use_the_future() -> None:
    ind, rules, _ = _prototype_world(7)
    full = MarkovPhaseModel(ind, rules).fit()
    cut = ind.index[2498]  # a Wednesday
    assert cut.day_name() == "Wednesday"
    # Poison every indicator after the cut: the weeks before it must not move at all.
    rng = np.random.default_rng(0)
    poisoned = ind.copy()
    poisoned.loc[poisoned.index > cut] = rng.normal(0, 50, (int((ind.index > cut).sum()), 7))
    wild = rules.copy()
    wild.loc[wild.index > cut] = 1
    p = MarkovPhaseModel(poisoned, wild).fit()
    before = full.probabilities.index[full.probabilities.index < cut]
    pd.testing.assert_frame_equal(p.probabilities.loc[before], full.probabilities.loc[before])
    assert (p.probabilities.loc[p.probabilities.index > cut].round(6) != 0).any().any()
    # Run as of the cut: the same past, and the cut week is labelled by its last bar.
    trunc = MarkovPhaseModel(ind.loc[:cut], rules.loc[:cut]).fit()
    assert trunc.asof == cut
    pd.testing.assert_frame_equal(trunc.probabilities.iloc[:-1], full.probabilities.loc[before])
    pd.testing.assert_series_equal(trunc.parameters_asof.iloc[:-1], full.parameters_asof[before])
    assert [f.date for f in trunc.fits] == [f.date for f in full.fits if f.date < cut]
    for f, g in zip(trunc.fits, full.fits, strict=False):
        assert f.nobs == g.nobs
        np.testing.assert_array_equal(f.means, g.means)
        np.testing.assert_array_equal(f.transition, g.transition)
    with pytest.raises(InsufficientDataError, match="104 complete weeks"):
        MarkovPhaseModel(ind.iloc[:500], rules.iloc[:500]).fit()
    with pytest.raises(DataValidationError, match="min_weeks"):
        MarkovPhaseModel(ind, rules, min_weeks=10)


def test_phase_trigger_onsets() -> None:
    idx = pd.bdate_range("2020-01-01", periods=8)
    levels = pd.DataFrame({"phase": [1, 1, 2, 2, 1, 2, 3, 2.0]}, index=idx)
    got = trigger_onsets(parse_trigger("phase:1->2"), levels)
    assert list(got) == [idx[2], idx[5]]
    with pytest.raises(DataValidationError, match="phase"):
        trigger_onsets(parse_trigger("phase:1->2"), levels.rename(columns={"phase": "x"}))


def test_regime_cli_on_real_data_is_point_in_time(home: Path) -> None:
    args = ("regime", "--asof", "2026-01-23", "--json")
    code, full = run(*args)
    assert code == 0, full
    d = json.loads(full)
    for key in ("asof", "phase", "phase_name", "probabilities", "evidence", "timeline"):
        assert key in d
    assert d["asof"] == "2026-01-23"
    assert d["phase"] in (1, 2, 3, 4)
    assert sum(d["probabilities"].values()) == pytest.approx(1.0)
    assert d["timeline"][0]["start"] < "2007-01-01"  # the timeline covers 2006 onwards
    cut_store = truncated_store(home / "cut.duckdb", PHASE_SERIES, "2026-01-23")
    _, cut = run("--store", str(cut_store), *args)
    assert json.loads(cut) == d
    code, text = run("regime", "--asof", "2026-01-23", "--no-markov")
    assert code == 0
    assert "Phase on 2026-01-23" in text
    code, out = run("regime", "--asof", "1990-01-01")
    assert code == 2
    assert "1990" in out or "no date" in out or "no data" in out


CUT = "2022-06-15"  # a Wednesday: the run as of the cut ends on a partial week


def _poisoned_store(path: Path, cut: str) -> Path:
    """The bundled phase series, every value after ``cut`` scrambled (a wrong future)."""
    from havenflow.catalog import get_spec
    from havenflow.data.embedded import embedded_series
    from havenflow.data.store import ObservationBatch, Store

    rng = np.random.default_rng(0)
    batches = []
    for sid in PHASE_SERIES:
        values = embedded_series(sid)
        after = values.index > cut
        values[after] = values[after].to_numpy() * np.exp(rng.normal(0.0, 0.5, int(after.sum())))
        batches.append(ObservationBatch(get_spec(sid), values, "t", sid))
    Store(path).write(batches)
    return path


def test_regime_history_is_point_in_time_with_a_poisoned_future(home: Path) -> None:
    from havenflow.data.repository import DataRepository
    from havenflow.data.store import Store
    from havenflow.services import run_regime

    clean = run_regime(DataRepository(), CUT)
    assert clean.markov is not None
    poisoned = DataRepository(Store(_poisoned_store(home / "poisoned.duckdb", CUT)))
    # As of the cut, the scrambled future is invisible.
    assert run_regime(poisoned, CUT).to_dict(history=True) == clean.to_dict(history=True)
    # As of today (on the scrambled future), every past date keeps its phase and probability.
    today = run_regime(poisoned)
    assert today.markov is not None
    assert today.rules.asof > pd.Timestamp("2026-01-01")
    from havenflow.data.embedded import embedded_series

    vix_today = today.rules.indicators.loc["2024-01-02", "vix_level"]
    assert vix_today != pytest.approx(embedded_series("vix").loc["2024-01-02"])  # poisoned
    pd.testing.assert_series_equal(today.rules.phase.loc[:CUT], clean.rules.phase)
    past = clean.markov.probabilities.iloc[:-1]  # the partial week of the cut is labelled CUT
    assert clean.markov.asof == pd.Timestamp(CUT)
    assert CUT not in today.markov.probabilities.index
    pd.testing.assert_frame_equal(today.markov.probabilities.loc[past.index], past)
    assert today.markov.probabilities.index[len(past)] > pd.Timestamp(CUT)
    # The same through the CLI: --history --json as of today and as of the cut.
    code, now = run("--store", str(home / "poisoned.duckdb"), "regime", "--history", "--json")
    assert code == 0, now
    code, then = run("regime", "--history", "--json", "--asof", CUT)
    assert code == 0, then
    rows_now = {r["date"]: r for r in json.loads(now)["markov"]["history"]}
    rows_then = json.loads(then)["markov"]["history"]
    assert rows_then[-1]["date"] == CUT
    assert [rows_now[r["date"]] for r in rows_then[:-1]] == rows_then[:-1]
    assert json.loads(then)["markov"]["first_probability"] == "2017-01-06"


def test_a_partial_week_is_labelled_by_its_last_bar(home: Path) -> None:
    code, out = run("regime", "--asof", "2018-12-31", "--history", "--json")
    assert code == 0, out
    d = json.loads(out)
    assert d["asof"] == "2018-12-31"
    assert d["markov"]["asof"] == "2018-12-31"
    assert "2018-12-31" in d["probabilities_source"]
    last = d["markov"]["history"][-1]
    assert last["date"] == "2018-12-31"
    assert last["parameters_asof"] == "2018-11-30"  # December's weeks use November's estimate
    assert max(r["date"] for r in d["markov"]["history"]) == "2018-12-31"
    code, text = run("regime", "--asof", "2018-12-31", "--history")
    assert code == 0
    assert "2019-01-04" not in text
    assert "none before 2017-01-06" in text


def test_rules_give_sensible_labels_on_known_episodes(home: Path) -> None:
    from havenflow.analytics.regime import KNOWN_EPISODES, episode_table
    from havenflow.data.repository import DataRepository
    from havenflow.services import run_regime

    phase = run_regime(DataRepository(), "2026-01-30", markov=False).rules.phase
    # The COVID crash is a stress episode, never debasement/liquidity.
    covid = phase.loc["2020-02-24":"2020-03-16"]
    assert not (covid == 2).any()
    assert (covid == 1).mean() >= 0.9
    # Lehman: safety first, not tightening (a few days of tightening before the VIX spike).
    lehman = phase.loc["2008-09-01":"2008-11-30"]
    assert (lehman == 1).mean() > 0.9
    # (On the sessions NYSE and COMEX share, the last of them is 2008-09-10.)
    assert not (phase.loc["2008-09-11":"2008-11-30"] == 4).any()
    table = episode_table(phase).set_index("episode")
    assert len(table) == len(KNOWN_EPISODES)
    for name in (
        "Lehman to the March 2009 low",
        "Lehman, Sep-Nov 2008",
        "COVID crash, Feb-Apr 2020",
        "COVID crash core",
        "Pandemic stimulus, May 2020-Oct 2021",
    ):
        assert table.loc[name, "rules_phase"] in table.loc[name, "sensible"], name
    assert sum(table.loc["2022 tightening", "rules_shares"].values()) == pytest.approx(1.0)


def test_gates_rule_out_phases_at_once() -> None:
    from havenflow.analytics.regime import _confirm, _eligible, phase_gates

    ind = pd.DataFrame(
        {
            "vix_percentile": [0.5, 0.95, 0.95, 0.5],
            "equity_drawdown": [0.0, -0.02, -0.08, -0.08],
            "real_yield_change": [0.1, 0.1, 0.1, -0.1],
        },
        index=pd.bdate_range("2020-01-01", periods=4),
    )
    gates = phase_gates(ind, PhaseSpec())
    assert gates["fear_spike"].tolist() == [False, True, True, False]
    assert gates["acute_stress"].tolist() == [False, False, True, False]
    eligible = _eligible(gates)
    assert eligible.tolist() == [
        [True, True, True, True],
        [True, False, True, False],
        [True, False, False, False],
        [True, True, True, False],
    ]
    # Phase 2 leads by far, yet a fear spike ends it at once; acute stress leaves phase 1.
    smoothed = np.array([[0.1, 0.9, 0.5, 0.2]] * 4)
    got = _confirm(smoothed, eligible, np.ones(4, dtype=bool), 0.05)
    assert got.tolist() == [2, 3, 1, 2]
    with pytest.raises(DataValidationError, match="stress_drawdown"):
        PhaseSpec(stress_drawdown=0.1)
