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


def test_markov_names_regimes_by_meaning_whatever_the_starting_labels() -> None:
    ind, rules, truth = _prototype_world(5)
    a = MarkovPhaseModel(ind, rules).fit()
    weekly_truth = pd.Series(truth, index=ind.index).resample("W-FRI").last()
    weekly_truth = weekly_truth.reindex(a.probabilities.index)
    named = a.probabilities.to_numpy().argmax(axis=1) + 1
    assert np.mean(named == weekly_truth.to_numpy()) > 0.85
    # Relabel the starting phases (1<->3, 2<->4): EM starts from permuted regimes, and the
    # prototype matching still names every regime the same way.
    swapped = rules.map({1: 3, 2: 4, 3: 1, 4: 2}).astype("Int64")
    b = MarkovPhaseModel(ind, swapped).fit()
    pd.testing.assert_frame_equal(a.probabilities, b.probabilities, atol=2e-3)
    np.testing.assert_allclose(a.probabilities.sum(axis=1), 1.0)
    # Refitting on a shorter sample (a different optimum) keeps the names on shared weeks.
    c = MarkovPhaseModel(ind.iloc[:2500], rules.iloc[:2500]).fit()
    shared = c.probabilities.index
    agree = np.mean(
        c.probabilities.to_numpy().argmax(axis=1)
        == a.probabilities.loc[shared].to_numpy().argmax(axis=1)
    )
    assert agree > 0.9


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
