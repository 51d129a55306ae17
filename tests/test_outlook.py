"""The outlook (claim C11): the QR solver against peers, honest walk-forward skill, no look-ahead."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from scipy.optimize import linprog
from tests.conftest import truncated_store
from tests.test_cli import run

from havenflow.analytics.outlook import (
    ANALOGUE_GAP,
    CRPS_LEVELS,
    QUANTILE_LEVELS,
    ConditionalOutlook,
    OutlookSpec,
    _declustered,
    _quantile_regression_numpy,
    crps_from_quantiles,
    quantile_regression,
)
from havenflow.exceptions import DataValidationError
from havenflow.services import PHASE_SERIES


def _check_loss(y: np.ndarray, x: np.ndarray, beta: np.ndarray, q: float) -> float:
    u = y - x @ beta
    return float(np.sum(u * (q - (u < 0))))


@pytest.mark.parametrize("seed", [0, 1])
def test_quantile_regression_equals_the_lp_optimum_and_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    x = np.column_stack([np.ones(n), rng.standard_normal((n, 5)), rng.integers(0, 2, n)])
    y = x @ rng.standard_normal(7) * 0.1 + rng.standard_t(3, n) * 0.2 * (1 + np.abs(x[:, 1]))
    beta, iterations = quantile_regression(x, y, QUANTILE_LEVELS)
    assert iterations < 60
    for i, q in enumerate(QUANTILE_LEVELS):
        lp = linprog(-y, A_eq=x.T, b_eq=(1 - q) * x.sum(axis=0), bounds=(0, 1), method="highs")
        exact = _check_loss(y, x, -lp.eqlin.marginals, q)
        assert _check_loss(y, x, beta[i], q) == pytest.approx(exact, rel=1e-9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = sm.QuantReg(y, x).fit(q=q)
        # statsmodels' IRLS stops near the optimum: never below it, and close to our answer.
        assert _check_loss(y, x, beta[i], q) <= _check_loss(y, x, ref.params, q) + 1e-9
        np.testing.assert_allclose(beta[i], ref.params, atol=1e-2)
    with pytest.raises(DataValidationError, match="strictly"):
        quantile_regression(x, y, np.array([0.0, 0.5]))


def _design(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A design, outcomes and levels: continuous of several sizes, or tied and discrete."""
    rng = np.random.default_rng(seed)
    if kind == "ties":
        # Dummies and an outcome rounded to one decimal: many tied residuals.
        n = 300
        x = np.column_stack(
            [np.ones(n), rng.integers(0, 2, n), rng.integers(0, 2, n), rng.standard_normal(n)]
        )
        y = np.round(x @ np.array([0.1, 0.5, -0.3, 0.2]) + rng.standard_normal(n), 1)
        return x, y, QUANTILE_LEVELS
    if kind == "discrete":
        # Every column and the outcome take a few values: the optimum is often not a vertex.
        n = 300
        x = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.integers(0, 3, n)])
        return x.astype(float), np.round(rng.standard_normal(n)), QUANTILE_LEVELS
    n, p = {"small": (50, 2), "medium": (200, 4), "report": (600, 9), "wide": (1000, 12)}[kind]
    x = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    y = x @ rng.standard_normal(p) * 0.1 + rng.standard_t(3, n) * 0.2
    levels = np.sort(rng.uniform(0.02, 0.98, int(rng.integers(1, 12))))
    return x, y, levels


@pytest.mark.parametrize("kind", ["small", "medium", "report", "wide", "ties", "discrete"])
@pytest.mark.parametrize("seed", [0, 1])
def test_quantile_regression_kernel_equals_the_numpy_oracle_and_the_lp(
    kind: str, seed: int
) -> None:
    x, y, levels = _design(kind, seed)
    beta, iterations = quantile_regression(x, y, levels)
    slow, slow_iterations = _quantile_regression_numpy(x, y, levels)
    assert iterations == slow_iterations
    np.testing.assert_allclose(beta, slow, rtol=1e-9, atol=1e-9 * np.abs(slow).max())
    # The stopping rule: a duality gap below 1e-9 times the scale of y bounds the excess loss.
    gap = 1e-9 * (1.0 + np.abs(y).sum())
    for i, q in enumerate(levels):
        lp = linprog(-y, A_eq=x.T, b_eq=(1 - q) * x.sum(axis=0), bounds=(0, 1), method="highs")
        exact = _check_loss(y, x, -lp.eqlin.marginals, q)
        assert _check_loss(y, x, beta[i], q) == pytest.approx(exact, rel=1e-9, abs=gap)


def test_quantile_regression_kernel_keeps_the_oracle_iteration_cap() -> None:
    x, y, levels = _design("report", 2)
    beta, iterations = quantile_regression(x, y, levels, max_iter=3)
    slow, slow_iterations = _quantile_regression_numpy(x, y, levels, max_iter=3)
    assert iterations == slow_iterations == 3
    np.testing.assert_allclose(beta, slow, rtol=1e-9, atol=1e-9 * np.abs(slow).max())


def _declustered_oracle(order: np.ndarray, positions: np.ndarray, k: int) -> list[int]:
    kept: list[int] = []
    for i in order:
        if all(abs(int(positions[i]) - int(positions[j])) >= ANALOGUE_GAP for j in kept):
            kept.append(int(i))
            if len(kept) == k:
                break
    return kept


def test_declustered_analogues_equal_the_pairwise_rule() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 200))
        positions = np.sort(rng.choice(int(rng.integers(n, 5 * n + 50)), n, replace=False))
        positions = (positions + int(rng.integers(0, 1000))).astype(np.intp)
        order = rng.permutation(n).astype(np.intp)
        k = int(rng.integers(1, 40))
        got = _declustered(order, positions, k)
        assert got.tolist() == _declustered_oracle(order, positions, k)


def test_crps_from_quantiles_matches_the_normal_closed_form() -> None:
    z = stats.norm.ppf(CRPS_LEVELS)
    for y in (-1.5, 0.0, 0.7, 2.5):
        closed = y * (2 * stats.norm.cdf(y) - 1) + 2 * stats.norm.pdf(y) - 1 / math.sqrt(math.pi)
        assert crps_from_quantiles(y, z, CRPS_LEVELS) == pytest.approx(closed, rel=0.05, abs=0.01)


def _world(seed: int, signal: float, n: int = 2600) -> tuple[pd.Series, pd.DataFrame]:
    """Daily prices whose next-month drift follows a persistent observable state."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2012-01-02", periods=n)
    state = np.zeros(n)
    for t in range(1, n):
        state[t] = 0.995 * state[t - 1] + 0.1 * rng.standard_normal()
    state /= state.std()
    ret = signal * 0.004 * state + 0.02 * rng.standard_normal(n)
    # The state known at t drives returns from t+1 on.
    prices = 100 * np.exp(np.cumsum(np.r_[0.0, ret[:-1]]))
    noise = rng.standard_normal((n, 2))
    feats = pd.DataFrame(
        {"state": state, "noise_a": noise[:, 0], "noise_b": noise[:, 1]}, index=idx
    )
    return pd.Series(prices, index=idx), feats


def test_walk_forward_finds_a_planted_signal_and_says_no_edge_without_one() -> None:
    spec = OutlookSpec(horizons=(21, 63), k_analogues=30)
    target, feats = _world(1, signal=1.0)
    res = ConditionalOutlook(target, feats, spec, "sim").fit()
    d = res.to_dict()
    assert all(h["edge"] for h in d["horizons"]), d["verdict"]
    assert d["skill"]["63"]["methods"][d["horizons"][1]["method"]]["crps_skill"] > 0.05
    target0, feats0 = _world(2, signal=0.0)
    res0 = ConditionalOutlook(target0, feats0, spec, "sim").fit()
    d0 = res0.to_dict()
    assert not any(h["edge"] for h in d0["horizons"]), d0["verdict"]
    assert "no edge" in d0["verdict"]
    h0 = d0["horizons"][0]
    assert h0["method"] == "baseline"
    assert h0["p_up"] == h0["baseline_p_up"]
    assert d0["horizons"][0]["quantiles"]["5"] < d0["horizons"][0]["quantiles"]["95"]
    rel = d0["reliability"]["21"]
    assert sum(r["n"] for r in rel if r["method"] == "baseline") == d0["skill"]["21"]["n_forecasts"]


def test_walk_forward_never_sees_the_future() -> None:
    target, feats = _world(3, signal=1.0, n=2200)
    spec = OutlookSpec(horizons=(21, 63))
    clean = ConditionalOutlook(target, feats, spec, "sim").fit().to_frame()
    cutoff = target.index[1700]
    poisoned_t = target.copy()
    poisoned_f = feats.copy()
    poisoned_t[poisoned_t.index > cutoff] = 1e12
    poisoned_f[poisoned_f.index > cutoff] = 1e9
    poisoned_f.iloc[1750:1800] = np.nan
    dirty = ConditionalOutlook(poisoned_t, poisoned_f, spec, "sim").fit().to_frame()
    qcols = [c for c in clean.columns if c.startswith(("q", "p_"))]
    before = clean[clean["origin"] <= cutoff]
    assert len(before) > 100
    pd.testing.assert_frame_equal(
        before[["origin", "horizon", "method", *qcols]].reset_index(drop=True),
        dirty[dirty["origin"] <= cutoff][["origin", "horizon", "method", *qcols]].reset_index(
            drop=True
        ),
    )
    # Outcomes are scored only once known: the last origins have none.
    last = clean[clean["origin"] == clean["origin"].max()]
    assert last["outcome"].isna().all()


def test_outlook_cli_on_real_data_is_point_in_time(home: Path) -> None:
    args = ("outlook", "bitcoin", "--asof", "2026-01-23", "--json")
    code, full = run(*args)
    assert code == 0, full
    d = json.loads(full)
    assert d["asof"] == "2026-01-23"
    assert d["target"] == "bitcoin"
    assert [h["horizon"] for h in d["horizons"]] == [21, 63, 126]
    for h in d["horizons"]:
        for key in ("p_up", "quantiles", "baseline_p_up", "p_up_10", "p_down_10"):
            assert key in h
        assert 0.0 <= h["p_up"] <= 1.0
        q = h["quantiles"]
        assert q["5"] <= q["25"] <= q["50"] <= q["75"] <= q["95"]
    assert set(d["skill"]) == {"21", "63", "126"}
    assert all(d["skill"][k]["n_forecasts"] > 60 for k in d["skill"])
    assert d["state"]["silver_breakout"] == 1.0  # silver made 252-day highs in January 2026
    cut_store = truncated_store(home / "cut.duckdb", PHASE_SERIES, "2026-01-23")
    _, cut = run("--store", str(cut_store), *args)
    assert json.loads(cut) == d
    code, out = run("outlook", "real_yield_10y", "--asof", "2026-01-23")
    assert code == 2
    assert "price" in out
