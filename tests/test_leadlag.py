"""Lead-lag estimators against statsmodels/R and simulations with a known truth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.datasets import macrodata
from statsmodels.tsa.stattools import ccf, grangercausalitytests

from havenflow.analytics.leadlag import (
    CrossCorrelation,
    GrangerCausality,
    cross_correlation,
    stationary_bootstrap_indices,
)
from havenflow.exceptions import DataValidationError, InsufficientDataError


def garch_t(
    n: int,
    rng: np.random.Generator,
    omega: float = 0.05,
    alpha: float = 0.1,
    beta: float = 0.85,
    nu: float = 5.0,
) -> np.ndarray:
    """GARCH(1,1) with unit-variance Student-t shocks: heavy tails and volatility clustering."""
    z = rng.standard_t(nu, size=n + 200) / np.sqrt(nu / (nu - 2))
    out = np.empty(n + 200)
    var = omega / (1 - alpha - beta)
    for t in range(n + 200):
        out[t] = np.sqrt(var) * z[t]
        var = omega + alpha * out[t] ** 2 + beta * var
    return out[200:]


# ---- Granger -------------------------------------------------------------------------------


def macro() -> np.ndarray:
    data = macrodata.load_pandas().data[["realgdp", "realcons"]].to_numpy(dtype=float)
    return np.diff(np.log(data), axis=0)


def test_granger_reproduces_r_lmtest_grangertest() -> None:
    d = macro()
    # R: grangertest(realcons ~ realgdp, order = 2) on log differences: F = 0.243097, p = 0.7844328
    row = GrangerCausality(d[:, 0], d[:, 1], [2]).fit().to_frame().iloc[0]
    assert row["statistic"] == pytest.approx(0.243097, abs=1e-6)
    assert row["pvalue"] == pytest.approx(0.7844328, abs=1e-7)
    assert (row["df_num"], row["df_denom"]) == (2, 195)


def _sm_granger(
    caused: np.ndarray, causing: np.ndarray, maxlag: int
) -> dict[int, tuple[float, float, int, int]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = grangercausalitytests(np.column_stack([caused, causing]), maxlag)
    return {k: res[k][0]["ssr_ftest"] for k in res}


def test_granger_equals_statsmodels_to_1e8_both_directions() -> None:
    rng = np.random.default_rng(3)
    x = garch_t(800, rng)
    y = 0.3 * np.roll(x, 2) + garch_t(800, rng)
    result = GrangerCausality(x, y, 6).fit().to_frame()
    for direction, (caused, causing) in {
        "leader -> follower": (y, x),
        "follower -> leader": (x, y),
    }.items():
        ref = _sm_granger(caused, causing, 6)
        ours = result[result["direction"] == direction].set_index("lag")
        for k, (f, p, df_denom, df_num) in ref.items():
            assert ours.loc[k, "statistic"] == pytest.approx(f, rel=1e-8, abs=1e-8)
            assert ours.loc[k, "pvalue"] == pytest.approx(p, rel=1e-8, abs=1e-12)
            assert (ours.loc[k, "df_num"], ours.loc[k, "df_denom"]) == (df_num, df_denom)
    assert result.set_index(["direction", "lag"]).loc[("leader -> follower", 2), "pvalue"] < 1e-6


@pytest.mark.parametrize(
    ("cov_type", "kwds"),
    [("HC0", {}), ("HC1", {}), ("HC3", {}), ("HAC", {"maxlags": 5, "use_correction": False})],
)
def test_robust_granger_equals_statsmodels_wald(cov_type: str, kwds: dict[str, object]) -> None:
    rng = np.random.default_rng(11)
    x, y = garch_t(600, rng), garch_t(600, rng)
    k = 3
    ours = GrangerCausality(x, y, [k]).fit(cov_type, hac_maxlags=5).to_frame().iloc[0]  # type: ignore[arg-type]
    yv = y[k:]
    cols = [y[k - j : len(y) - j] for j in range(1, k + 1)] + [
        x[k - j : len(x) - j] for j in range(1, k + 1)
    ]
    xm = sm.add_constant(np.column_stack(cols))
    fit = sm.OLS(yv, xm).fit(cov_type=cov_type, cov_kwds=kwds or None)
    restriction = np.zeros((k, xm.shape[1]))
    restriction[:, -k:] = np.eye(k)
    ref = fit.wald_test(restriction, use_f=True, scalar=True)
    assert ours["statistic"] == pytest.approx(float(ref.statistic), rel=1e-8)
    assert ours["pvalue"] == pytest.approx(float(ref.pvalue), rel=1e-6)


def test_granger_lag_selection_and_bad_lags() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(3000)
    y = 0.4 * np.roll(x, 3) + 0.3 * np.roll(x, 1) + rng.standard_normal(3000)
    res = GrangerCausality(x, y, 8).fit(select="bic")
    assert res.selected_lag == 3
    assert len(res.rows) == 2
    with pytest.raises(DataValidationError, match="lags must be a positive int"):
        GrangerCausality(x, y, [0, 2]).fit()
    with pytest.raises(InsufficientDataError, match="too few"):
        GrangerCausality(x[:20], y[:20], 8).fit()


# ---- cross-correlation ----------------------------------------------------------------------


def slow_ccf(x: np.ndarray, y: np.ndarray, max_lag: int) -> np.ndarray:
    """Oracle: corr(x_t, y_{t+k}) with full-sample moments, sum over overlap / (n - |k|)."""
    n = len(x)
    xs, ys = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    out = []
    for k in range(-max_lag, max_lag + 1):
        total = sum(xs[t] * ys[t + k] for t in range(n) if 0 <= t + k < n)
        out.append(total / (n - abs(k)))
    return np.array(out)


def test_fft_profile_equals_slow_oracle_and_statsmodels_ccf() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(300), rng.standard_normal(300)
    res = CrossCorrelation(x, y, 20).fit(replicates=49, seed=1)
    np.testing.assert_allclose(res.correlation, slow_ccf(x, y, 20), atol=1e-12)
    # statsmodels ccf(a, b)[k] = corr(a_{t+k}, b_t): our positive side is ccf(y, x), negative ccf(x, y).
    np.testing.assert_allclose(res.correlation[20:], ccf(y, x, adjusted=True)[:21], atol=1e-12)
    np.testing.assert_allclose(
        res.correlation[:21][::-1], ccf(x, y, adjusted=True)[:21], atol=1e-12
    )


def test_stationary_bootstrap_indices_have_the_mean_block_length() -> None:
    rng = np.random.default_rng(2)
    idx = stationary_bootstrap_indices(5000, 20, 10.0, rng)
    assert idx.min() >= 0
    assert idx.max() < 5000
    continues = np.diff(idx, axis=1) == 1
    mean_block = 1.0 / (1.0 - continues.mean())
    assert 9.0 < mean_block < 11.0


def test_planted_lag_is_found_with_its_interval() -> None:
    rng = np.random.default_rng(42)
    hits = 0
    for _ in range(20):
        x = garch_t(1500, rng)
        noise = garch_t(1500, rng)
        y = np.empty(1500)
        y[5:] = 0.35 * x[:-5]
        y[:5] = 0.0
        y += noise
        res = CrossCorrelation(x, y, 20).fit(replicates=199, seed=int(rng.integers(1 << 30)))
        assert res.best_lag == 5
        assert res.pvalue < 0.01
        hits += res.lag_ci[0] <= 5 <= res.lag_ci[1]
    assert hits >= 18  # at least 90% coverage


def test_null_rejection_rate_is_near_nominal_fast() -> None:
    # Independent GARCH-t series: the scan-adjusted 5% test must reject rarely; the naive one often.
    rng = np.random.default_rng(7)
    reps = 120
    adjusted = naive = 0
    for _ in range(reps):
        x, y = garch_t(500, rng), garch_t(500, rng)
        res = CrossCorrelation(x, y, 25).fit(replicates=199, seed=int(rng.integers(1 << 30)))
        adjusted += res.pvalue < 0.05
        naive += res.naive_pvalue < 0.05
    # Binomial(120, 0.05): mean 6, 99.9% of the mass below 16.
    assert adjusted <= 15
    assert naive >= 5 * max(adjusted, 4)  # the naive best-lag test rejects far too often


def test_series_input_joins_and_refuses_interior_gaps() -> None:
    idx = pd.date_range("2020-01-01", periods=200, freq="B")
    rng = np.random.default_rng(1)
    x = pd.Series(rng.standard_normal(200), index=idx, name="silver")
    y = pd.Series(rng.standard_normal(200), index=idx, name="bitcoin")
    res = cross_correlation(x, y, 5, replicates=19, seed=3)
    assert res.leader == "silver"
    assert res.to_dict()["follower"] == "bitcoin"
    again = cross_correlation(x, y, 5, replicates=19, seed=3)
    assert again.pvalue == res.pvalue  # reproducible for a seed
    assert again.lag_ci == res.lag_ci
    y.iloc[100] = np.nan
    with pytest.raises(DataValidationError, match="missing value inside the sample on 2020-05-20"):
        cross_correlation(x, y, 5)
    with pytest.raises(DataValidationError, match="follower is constant"):
        CrossCorrelation(x.to_numpy(), np.ones(200), 5).fit()
    with pytest.raises(InsufficientDataError, match="too few to scan"):
        CrossCorrelation(x.to_numpy()[:30], x.to_numpy()[:30], 5).fit()
