"""The VAR against statsmodels and R (committed numbers), slow oracles, and known truths.

The peers' numbers are in ``tests/reference/``: ``var_macrodata_statsmodels.json`` from
``make_var_reference.py`` and ``var_macrodata_r.json`` from ``var_macrodata.R`` (base R
re-implementing vars' formulas, plus sandwich). No test needs R.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.tsa.api import VAR

from havenflow.analytics.drivers import DriverModel
from havenflow.analytics.leadlag import GrangerCausality
from havenflow.analytics.leadlag.var import (
    VectorAutoregression,
    _bootstrap_draws,
    var_leadlag,
)
from havenflow.exceptions import DataValidationError, InsufficientDataError

REF = Path(__file__).resolve().parent / "reference"
NAMES = ["realgdp", "realcons", "realinv"]
FITS = {"c_2": ("c", 2), "ct_2": ("ct", 2), "n_2": ("n", 2), "c_3": ("c", 3)}
REL = 1e-8


@cache
def statsmodels_ref() -> dict[str, Any]:
    return dict(json.loads((REF / "var_macrodata_statsmodels.json").read_text()))


@cache
def r_ref() -> dict[str, Any]:
    return dict(json.loads((REF / "var_macrodata_r.json").read_text()))


def macro() -> pd.DataFrame:
    """The log differences both peers used, from the committed CSV."""
    levels = pd.read_csv(REF / "macrodata.csv")[NAMES]
    return np.log(levels).diff().dropna().reset_index(drop=True)


def close(ours: Any, ref: Any, rel: float = REL, abs_: float = 1e-12) -> None:
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(ref), rtol=rel, atol=abs_)


# ---- statsmodels ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(FITS))
def test_fit_equals_statsmodels(key: str) -> None:
    trend, lags = FITS[key]
    ref = statsmodels_ref()["fits"][key]
    res = VectorAutoregression(macro(), max_lags=8).fit(lags, trend=trend)  # type: ignore[arg-type]
    assert list(res.params.index) == ref["param_names"]
    assert res.nobs == ref["nobs"]
    close(res.params, ref["params"])
    close(res.std_err, ref["stderr"])
    close(res.sigma_u, ref["sigma_u"], abs_=1e-16)
    close(res.sigma_u_mle, ref["sigma_u_mle"], abs_=1e-16)
    for name in ("llf", "aic", "bic", "hqic", "fpe"):
        assert getattr(res, name) == pytest.approx(ref[name], rel=REL), name
    for test in ref["causality"]:
        g = res.granger(test["causing"], test["caused"])
        assert g.stat == pytest.approx(test["statistic"], rel=REL)
        assert g.pvalue == pytest.approx(test["pvalue"], rel=1e-7, abs=1e-300)
        assert [g.df_num, g.df_denom] == test["df"]
    irf = res.irf(max(ref["irf_horizons"]), replicates=0)
    close(irf.irfs[ref["irf_horizons"]], ref["orth_irfs"], abs_=1e-15)
    plain = res.irf(max(ref["irf_horizons"]), orth=False, replicates=0)
    close(plain.irfs[ref["irf_horizons"]], ref["irfs"], abs_=1e-14)


def test_lag_order_table_equals_statsmodels_select_order() -> None:
    ref = statsmodels_ref()["select_order"]
    sel = VectorAutoregression(macro(), max_lags=ref["maxlags"]).select_order()
    assert list(sel.table.index) == ref["lags"][1:]
    for crit in ("aic", "bic", "hqic", "fpe"):
        close(sel.table[crit], ref["table"][crit][1:])  # statsmodels also fits order 0
        assert sel.selected[crit] == int(np.argmin(ref["table"][crit][1:])) + 1
        if ref["selected_orders"][crit] > 0:
            assert sel.selected[crit] == ref["selected_orders"][crit]
    res = VectorAutoregression(macro(), max_lags=8).fit(ic="bic")
    assert res.lag_order == sel.selected["bic"]
    assert res.ic == "bic"


# ---- R (vars' formulas in base R, sandwich) ---------------------------------------------------


@pytest.mark.parametrize("key", list(FITS))
def test_fit_equals_r_vars_formulas(key: str) -> None:
    trend, lags = FITS[key]
    ref = r_ref()["fits"][key]
    res = VectorAutoregression(macro(), max_lags=8).fit(lags, trend=trend)  # type: ignore[arg-type]
    assert list(res.params.index) == ref["params_rownames"]
    assert res.nobs == ref["obs"]
    close(res.params, ref["params"])
    close(res.sigma_u, ref["sigma_u"], abs_=1e-16)
    close(res.sigma_u_mle, ref["sigma_u_mle"], abs_=1e-16)
    assert res.llf == pytest.approx(ref["llf"], rel=REL)
    assert res.aic == pytest.approx(ref["aic"], rel=REL)
    assert res.bic == pytest.approx(ref["sc"], rel=REL)
    assert res.hqic == pytest.approx(ref["hq"], rel=REL)
    assert res.fpe == pytest.approx(ref["fpe"], rel=REL)
    for test in ref["causality"]:
        g = res.granger(test["cause"], test["caused"])
        assert g.wald == pytest.approx(test["wald"], rel=REL)
        assert g.stat == pytest.approx(test["statistic"], rel=REL)
        assert g.pvalue == pytest.approx(test["pvalue"], rel=1e-7, abs=1e-300)
        assert [g.df_num, g.df_denom] == test["df"]
    irf = res.irf(max(ref["irf_horizons"]), replicates=0)
    close(irf.irfs[ref["irf_horizons"]], ref["orth_irfs"], abs_=1e-15)


def test_varselect_equals_r() -> None:
    ref = r_ref()["varselect"]
    sel = VectorAutoregression(macro(), max_lags=ref["lag_max"]).select_order()
    assert sel.nobs == ref["sample"]
    for ours, theirs in (("aic", "AIC"), ("hqic", "HQ"), ("bic", "SC"), ("fpe", "FPE")):
        close(sel.table[ours], ref[theirs])
        assert sel.selected[ours] == ref["selection"][theirs]


def test_vars_causality_is_the_caused_by_all_others_test() -> None:
    res = VectorAutoregression(macro(), max_lags=8).fit(2)
    for test in r_ref()["vars_causality"]:
        g = res.granger(test["cause"], None)  # caused: every other series, as vars does
        assert list(g.caused) == test["caused"]
        assert g.stat == pytest.approx(test["statistic"], rel=REL)
        assert g.pvalue == pytest.approx(test["pvalue"], rel=1e-7, abs=1e-300)
        assert [g.df_num, g.df_denom] == test["df"]


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC3", "HAC"])
def test_robust_block_tests_equal_vars_causality_with_sandwich(cov_type: str) -> None:
    ref = r_ref()
    res = VectorAutoregression(macro(), max_lags=8).fit(2)
    for test in ref["robust"][cov_type]:
        g = res.granger(test["cause"], test["caused"], cov_type, hac_maxlags=ref["hac_lag"])  # type: ignore[arg-type]
        assert g.wald == pytest.approx(test["wald"], rel=REL)
        assert g.pvalue == pytest.approx(test["pvalue"], rel=1e-7, abs=1e-300)
        assert [g.df_num, g.df_denom] == test["df"]


def test_hac_adjust_equals_newey_west_adjust_per_equation() -> None:
    ref = r_ref()
    res = VectorAutoregression(macro(), max_lags=8).fit(2)
    for test in ref["equation_hac"]:
        g = res.granger(
            test["cause"],
            test["caused"],
            "HAC",
            hac_maxlags=ref["hac_lag"],
            hac_adjust=test["adjust"],
        )
        assert g.wald == pytest.approx(test["wald"], rel=REL)
    # On R's multivariate lm, NeweyWest(adjust = TRUE) counts every equation's coefficients.
    n, m, k = res.nobs, res.df_model, len(res.names)
    for test in ref["robust"]["HAC_adjust_mlm"]:
        plain = res.granger(test["cause"], test["caused"], "HAC", hac_maxlags=ref["hac_lag"])
        assert plain.wald * (n - k * m) / n == pytest.approx(test["wald"], rel=REL)


def test_granger_and_drivers_hac_adjust_equal_r_newey_west() -> None:
    d = macro()
    gdp, cons = d["realgdp"].to_numpy(), d["realcons"].to_numpy()
    frame = pd.DataFrame(
        {
            "cons": cons[2:],
            "cons_l1": cons[1:-1],
            "cons_l2": cons[:-2],
            "gdp_l1": gdp[1:-1],
            "gdp_l2": gdp[:-2],
        },
        index=pd.date_range("1959-09-30", periods=len(cons) - 2, freq="QE"),
    )
    for ref in r_ref()["granger_newey_west"]:
        ours = (
            GrangerCausality(gdp, cons, [2])
            .fit("HAC", hac_maxlags=ref["lag"], hac_adjust=ref["adjust"])
            .to_frame()
            .iloc[0]
        )
        assert ours["stat"] == pytest.approx(ref["statistic"], rel=REL)
        assert ours["pvalue"] == pytest.approx(ref["pvalue"], rel=1e-7)
        assert [ours["df_num"], ours["df_denom"]] == ref["df"]
        drv = DriverModel(frame, "cons", ("cons_l1", "cons_l2", "gdp_l1", "gdp_l2")).fit(
            hac_lags=ref["lag"], hac_adjust=ref["adjust"]
        )
        close(drv.params, ref["coef"])
        close(drv.cov, ref["vcov"], abs_=1e-18)
        assert ("small-sample" in drv.to_dict()["cov_type"]) == ref["adjust"]
    # the default keeps the old, unadjusted numbers
    default = GrangerCausality(gdp, cons, [2]).fit("HAC", hac_maxlags=4).to_frame().iloc[0]
    assert default["stat"] == pytest.approx(r_ref()["granger_newey_west"][0]["statistic"])


# ---- slow oracles -----------------------------------------------------------------------------


def slow_block_wald(
    res: Any, causing: list[str], caused: list[str], cov_type: str, maxlags: int = 0
) -> float:
    """Restriction matrix on vec(params) (equation by equation) and the full covariance."""
    z, u = res._design, res.resid.to_numpy()
    n, m = z.shape
    k, p, kt = len(res.names), res.lag_order, res.k_trend
    ginv = np.linalg.inv(z.T @ z)
    if cov_type == "classical":
        cov = np.kron(res.sigma_u.to_numpy(), ginv)
    else:
        scores = np.stack([np.kron(u[t], z[t]) for t in range(n)])
        if cov_type == "HC3":
            h = np.array([z[t] @ ginv @ z[t] for t in range(n)])
            scores = scores / (1 - h)[:, None]
        meat = scores.T @ scores
        for lag in range(1, maxlags + 1):
            w = 1 - lag / (maxlags + 1)
            g = sum(np.outer(scores[t], scores[t - lag]) for t in range(lag, n))
            meat = meat + w * (g + g.T)
        if cov_type == "HC1":
            meat = meat * n / (n - m)
        bread = np.kron(np.eye(k), ginv)
        cov = bread @ meat @ bread
    restr = []
    for e in caused:
        for j in range(1, p + 1):
            for c in causing:
                row = np.zeros(m * k)
                row[res.names.index(e) * m + kt + (j - 1) * k + res.names.index(c)] = 1
                restr.append(row)
    r = np.array(restr)
    b = res.params.to_numpy().T.ravel()  # vec by equation
    rb = r @ b
    return float(rb @ np.linalg.solve(r @ cov @ r.T, rb))


def simulate_var(
    n: int, coefs: np.ndarray, chol: np.ndarray, rng: np.random.Generator, burn: int = 100
) -> np.ndarray:
    """Gaussian VAR(1) draws (rows: time)."""
    k = coefs.shape[0]
    e = rng.standard_normal((n + burn, k)) @ chol.T
    y = np.zeros((n + burn, k))
    for t in range(1, n + burn):
        y[t] = coefs @ y[t - 1] + e[t]
    return y[burn:]


WEEKS = pd.date_range("2015-01-02", periods=1000, freq="W-FRI")


def frame(y: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(y, columns=["gold", "silver", "bitcoin"], index=WEEKS[: len(y)])


@pytest.mark.parametrize(
    ("cov_type", "maxlags"), [("classical", 0), ("HC0", 0), ("HC1", 0), ("HC3", 0), ("HAC", 3)]
)
def test_fast_block_test_equals_slow_kronecker_oracle(cov_type: str, maxlags: int) -> None:
    rng = np.random.default_rng(7)
    y = rng.standard_t(5, size=(150, 3)) * 0.02
    res = VectorAutoregression(frame(y), max_lags=3).fit(2)
    for causing, caused in ((["gold", "silver"], ["bitcoin"]), (["bitcoin"], ["gold", "silver"])):
        g = res.granger(causing, caused, cov_type, hac_maxlags=maxlags)  # type: ignore[arg-type]
        assert g.wald == pytest.approx(slow_block_wald(res, causing, caused, cov_type, maxlags))


def test_bootstrap_kernel_equals_statsmodels_refit_of_rebuilt_series() -> None:
    res = VectorAutoregression(macro(), max_lags=4).fit(2)
    rng = np.random.default_rng(3)
    idx = rng.integers(0, res.nobs, size=(3, res.nobs))
    fast = _bootstrap_draws(res, idx, 6, orth=True)
    y = macro().to_numpy()
    u = res.resid.to_numpy() - res.resid.to_numpy().mean(axis=0)
    params = res.params.to_numpy()
    for b in range(3):
        sim = y.copy()
        for t in range(2, len(y)):
            sim[t] = params[0] + sim[t - 1] @ params[1:4] + sim[t - 2] @ params[4:7]
            sim[t] += u[idx[b, t - 2]]
        ref = VAR(sim).fit(2).irf(6).orth_irfs
        close(fast[b], ref, rel=1e-7, abs_=1e-12)


def test_irf_bands_are_reproducible_and_bracket_the_estimate() -> None:
    res = VectorAutoregression(macro(), max_lags=4).fit(2)
    a = res.irf(8, replicates=199, seed=4)
    b = res.irf(8, replicates=199, seed=np.random.default_rng(4))
    c = res.irf(8, replicates=199, seed=5)
    np.testing.assert_array_equal(a.lower, b.lower)
    assert not np.array_equal(a.upper, c.upper)
    assert a.seed == 4
    assert b.seed is None
    assert a.irfs.shape == a.lower.shape == (9, 3, 3)
    assert (a.lower <= a.upper).all()
    inside = (a.lower <= a.irfs) & (a.irfs <= a.upper)
    assert inside[1:].mean() > 0.9
    assert np.isnan(res.irf(3, replicates=0).lower).all()
    band = a.response("realcons", "realgdp")
    assert list(band.columns) == ["irf", "lower", "upper"]
    assert band.index.name == "horizon (bars)"
    assert len(a.to_frame()) == 9 * 9
    assert "realcons <- realgdp" in a.summary()


# ---- known truth --------------------------------------------------------------------------------

CHOL = np.linalg.cholesky(np.array([[1.0, 0.7, 0.2], [0.7, 1.0, 0.2], [0.2, 0.2, 1.0]]))


def test_planted_block_causality_is_found_and_only_that_way() -> None:
    # gold and silver move bitcoin one week later; bitcoin moves neither
    coefs = np.array([[0.1, 0.0, 0.0], [0.0, 0.1, 0.0], [0.25, 0.2, 0.05]])
    res = VectorAutoregression(frame(simulate_var(600, coefs, CHOL, np.random.default_rng(1))), 4)
    fit = res.fit(ic="bic")
    assert fit.lag_order == 1
    forward = fit.granger(["gold", "silver"], ["bitcoin"], "HAC")
    assert forward.pvalue < 1e-6
    assert forward.direction == "{gold, silver} -> bitcoin"
    assert fit.granger(["bitcoin"], ["gold", "silver"]).pvalue > 0.05
    irf = fit.irf(4, replicates=199, seed=0).response("bitcoin", "gold")
    assert irf["lower"].iloc[1] > 0  # the lag-1 response is there, with its band above zero


def test_no_block_causality_gives_a_high_p_value() -> None:
    # bitcoin follows only itself (the metals may follow bitcoin: the reverse is not tested)
    coefs = np.array([[0.1, 0.0, 0.15], [0.0, 0.1, 0.1], [0.0, 0.0, 0.05]])
    fit = VectorAutoregression(
        frame(simulate_var(600, coefs, CHOL, np.random.default_rng(5))), 4
    ).fit(ic="bic")
    assert fit.granger(["gold", "silver"], ["bitcoin"]).pvalue > 0.05
    assert fit.granger(["gold", "silver"], ["bitcoin"], "HAC").pvalue > 0.05


def test_block_test_size_under_the_null() -> None:
    coefs = np.array([[0.1, 0.0, 0.15], [0.0, 0.1, 0.1], [0.0, 0.0, 0.05]])
    rng = np.random.default_rng(2024)
    pvalues = {"classical": [], "HC1": []}
    for _ in range(200):
        fit = VectorAutoregression(frame(simulate_var(300, coefs, CHOL, rng)), 2).fit(1)
        for cov in pvalues:
            pvalues[cov].append(fit.granger(["gold", "silver"], ["bitcoin"], cov).pvalue)  # type: ignore[arg-type]
    for cov, ps in pvalues.items():
        rate = float(np.mean(np.array(ps) < 0.05))
        assert 0.01 <= rate <= 0.10, (cov, rate)
    # and the p-values are about uniform
    assert stats.kstest(pvalues["classical"], "uniform").pvalue > 0.01


@settings(max_examples=20, deadline=None)
@given(
    scales=st.tuples(*[st.floats(0.01, 100.0) for _ in range(3)]),
    cov_type=st.sampled_from(["classical", "HC1", "HAC"]),
)
def test_block_test_is_invariant_to_scaling_each_series(
    scales: tuple[float, float, float], cov_type: str
) -> None:
    y = simulate_var(200, np.diag([0.2, 0.1, 0.0]), CHOL, np.random.default_rng(9))
    base = VectorAutoregression(frame(y), 2).fit(2)
    scaled = VectorAutoregression(frame(y * np.array(scales)), 2).fit(2)
    for causing, caused in ((["gold", "silver"], ["bitcoin"]), (["bitcoin"], ["gold"])):
        a = base.granger(causing, caused, cov_type, hac_maxlags=2)  # type: ignore[arg-type]
        b = scaled.granger(causing, caused, cov_type, hac_maxlags=2)  # type: ignore[arg-type]
        assert b.stat == pytest.approx(a.stat, rel=1e-6)


# ---- results and errors -------------------------------------------------------------------------


def test_results_name_the_lag_direction_and_unit() -> None:
    y = simulate_var(300, np.diag([0.2, 0.1, 0.0]), CHOL, np.random.default_rng(9))
    out = var_leadlag(
        frame(y),
        ["gold", "silver"],
        ["bitcoin"],
        max_lags=3,
        replicates=49,
        seed=1,
        lag_unit="weeks",
    )
    p = out.var.lag_order
    expected = "lags in weeks; causing series' values up to " + (
        "t-1 enter" if p == 1 else f"t-1..t-{p} enter"
    )
    assert out.var.lag_convention == expected
    assert out.forward.lag_convention == expected
    assert "gold, silver do not Granger-cause bitcoin" in out.forward.null_hypothesis
    assert out.backward.direction == "bitcoin -> {gold, silver}"
    doc = out.to_dict()
    assert doc["method"] == "var"
    assert doc["lag_convention"] == expected
    assert {t["direction"] for t in doc["tests"]} == {
        "{gold, silver} -> bitcoin",
        "bitcoin -> {gold, silver}",
    }
    assert [(r["response"], r["impulse"]) for r in doc["irf"]["responses"]] == [
        ("bitcoin", "gold"),
        ("bitcoin", "silver"),
    ]
    json.dumps(doc, allow_nan=False)
    text = out.summary().text
    assert "lags in weeks" in text
    assert "{gold, silver} -> bitcoin" in text
    assert "response of bitcoin" in text
    assert out.var.summary().startswith(f"VAR({p}) of gold, silver, bitcoin")
    assert "<pre>" in out.var._repr_html_()
    assert out.var.to_frame().shape == (1 + 3 * p, 3)
    sel = out.var.selection
    assert sel.to_frame().index.name == "lags"
    assert sel.to_dict()["selected"] == sel.selected


def test_bad_input_gets_a_clear_error() -> None:
    y = frame(simulate_var(120, np.diag([0.2, 0.1, 0.0]), CHOL, np.random.default_rng(9)))
    with pytest.raises(DataValidationError, match="at least two series, got 1 \\(gold\\)"):
        VectorAutoregression(y[["gold"]])
    with pytest.raises(DataValidationError, match="max_lags must be a positive int, got 0"):
        VectorAutoregression(y, max_lags=0)
    with pytest.raises(InsufficientDataError, match="too few for a VAR of 3 series with up to 40"):
        VectorAutoregression(y, max_lags=40)
    gap = y.copy()
    gap.iloc[5, 1] = np.nan
    with pytest.raises(
        DataValidationError, match="silver has a missing or infinite value on 2015-02-06"
    ):
        VectorAutoregression(gap)
    flat = y.assign(silver=1.0)
    with pytest.raises(DataValidationError, match="silver does not move"):
        VectorAutoregression(flat)
    fit = VectorAutoregression(y, max_lags=2).fit(1)
    with pytest.raises(DataValidationError, match="no series 'platinum'"):
        fit.granger(["platinum"], ["bitcoin"])
    with pytest.raises(DataValidationError, match="gold cannot be both causing and caused"):
        fit.granger(["gold"], ["gold", "bitcoin"])
    with pytest.raises(DataValidationError, match="cov_type must be one of"):
        fit.granger(["gold"], ["bitcoin"], "HC9")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="ic must be one of"):
        VectorAutoregression(y, max_lags=2).fit(ic="sic")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="trend must be n, c or ct"):
        VectorAutoregression(y, max_lags=2).fit(trend="t")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="gold is both a leader and a follower"):
        var_leadlag(y, ["gold"], ["gold", "bitcoin"], max_lags=2)
    with pytest.raises(DataValidationError, match="replicates must be a non-negative int"):
        fit.irf(4, replicates=-1)
