"""Granger causality in both directions (classical F and HC/HAC Wald), nested least squares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from havenflow.analytics.leadlag._common import _pair
from havenflow.analytics.results import Result
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = ["CovType", "GrangerCausality", "GrangerResult"]

CovType = Literal["classical", "HC0", "HC1", "HC3", "HAC"]


@dataclass(frozen=True)
class GrangerResult(Result):
    """Granger-causality tests in both directions.

    ``to_frame()`` has one row per (direction, lag order): ``stat`` (F), ``df_num``,
    ``df_denom``, ``pvalue``, ``nobs``. Classical F equals statsmodels' ``ssr_ftest``; robust
    versions are Wald tests with an HC or HAC covariance, reported as F = W / df_num.

    The headline (``stat``, ``pvalue``, ``lag_order``, ``df``, ``nobs``) is the
    ``leader -> follower`` test at the selected lag order, or at the order with the smallest
    p-value when several were tested (that minimum is not adjusted for the choice: read every
    row in ``tests``).
    """

    leader: str
    follower: str
    lag_unit: str
    cov_type: str
    tests: tuple[dict[str, Any], ...]
    selected_lag_order: int | None = None
    criterion: str | None = None

    kind = "granger"
    method = "granger"
    null_hypothesis = "the causing series' lags add nothing to the caused series' own lags"
    _derived = (
        "method",
        "lag_convention",
        "null_hypothesis",
        "direction",
        "lag_order",
        "stat",
        "df",
        "pvalue",
        "nobs",
        "profile",
    )

    @property
    def lag_convention(self) -> str:
        """How to read ``lag_order``."""
        return (
            f"lag order p ({self.lag_unit}): the causing series' values at t-1..t-p enter the "
            "regression"
        )

    @property
    def direction(self) -> str:
        """The headline direction."""
        return f"{self.leader} -> {self.follower}"

    @property
    def _forward(self) -> list[dict[str, Any]]:
        return [r for r in self.tests if r["direction"] == self.direction]

    @property
    def _head(self) -> dict[str, Any]:
        return min(self._forward, key=lambda r: r["pvalue"])

    @property
    def lag_order(self) -> int:
        """Lag order of the headline test."""
        return int(self._head["lag_order"])

    @property
    def stat(self) -> float:
        """F statistic of the headline test."""
        return float(self._head["stat"])

    @property
    def df(self) -> tuple[int, int]:
        """Degrees of freedom (numerator, denominator) of the headline test."""
        return int(self._head["df_num"]), int(self._head["df_denom"])

    @property
    def pvalue(self) -> float:
        """P-value of the headline test."""
        return float(self._head["pvalue"])

    @property
    def nobs(self) -> int:
        """Observations of the headline test."""
        return int(self._head["nobs"])

    @property
    def profile(self) -> list[dict[str, Any]]:
        """The ``leader -> follower`` tests by lag order."""
        return [
            {"lag_order": r["lag_order"], "stat": r["stat"], "pvalue": r["pvalue"]}
            for r in self._forward
        ]

    def to_frame(self) -> pd.DataFrame:
        """One row per direction and lag order."""
        return pd.DataFrame(list(self.tests))

    def _summary_text(self) -> str:
        lines = [f"Granger causality ({self.cov_type} covariance; lag orders in {self.lag_unit})"]
        for r in self.tests:
            lines.append(
                f"  {r['direction']:<32} lag order {r['lag_order']:>3}  F = {r['stat']:.4f}  "
                f"df = ({r['df_num']}, {r['df_denom']})  p = {r['pvalue']:.4g}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class GrangerCausality:
    """Granger causality between a leader and a follower, both directions.

    Parameters
    ----------
    leader, follower
        Returns on one calendar.
    lags
        A maximum lag (every lag 1..max is tested), or an explicit set of lags.
    """

    leader: pd.Series | np.ndarray
    follower: pd.Series | np.ndarray
    lags: int | Sequence[int]
    lag_unit: str = "bars"
    leader_name: str = "leader"
    follower_name: str = "follower"

    def _lag_list(self) -> list[int]:
        lags = (
            list(range(1, self.lags + 1))
            if isinstance(self.lags, int | np.integer)
            else list(self.lags)
        )
        if not lags or any((not isinstance(k, int | np.integer)) or k < 1 for k in lags):
            raise DataValidationError(
                f"lags must be a positive int or a list of positive ints, got {self.lags!r}"
            )
        return sorted({int(k) for k in lags})

    def fit(
        self,
        cov_type: CovType = "classical",
        *,
        select: Literal["aic", "bic"] | None = None,
        hac_maxlags: int | None = None,
        hac_adjust: bool = False,
    ) -> GrangerResult:
        """Run the tests.

        Parameters
        ----------
        cov_type
            ``classical`` (the textbook F test, as statsmodels and R's ``lmtest::grangertest``),
            ``HC0``/``HC1``/``HC3`` (heteroskedasticity-robust Wald) or ``HAC`` (Newey-West).
        select
            Choose one lag by ``aic`` or ``bic`` of the unrestricted regression, on a common
            sample, and test only that lag.
        hac_maxlags
            Newey-West truncation for ``HAC`` (default ``floor(4 (n/100)^(2/9))``).
        hac_adjust
            Scale the ``HAC`` covariance by ``n / (n - k)`` (``k`` regressors): R's
            ``sandwich::NeweyWest(adjust = TRUE)``, statsmodels' ``use_correction=True``.
        """
        x, y = _pair(self.leader, self.follower)
        lags = self._lag_list()
        max_lag = max(lags)
        n = len(x)
        if n < 3 * max_lag + 10:
            raise InsufficientDataError(f"{n} observations are too few for {max_lag} lags")
        chosen: dict[str, int] = {}
        if select is not None:
            for direction, (caused, causing) in self._directions(x, y).items():
                chosen[direction] = _select_lag(caused, causing, lags, select)
        rows: list[dict[str, Any]] = []
        for direction, (caused, causing) in self._directions(x, y).items():
            test_lags = [chosen[direction]] if select is not None else lags
            for row in _granger_direction(
                caused, causing, test_lags, cov_type, hac_maxlags, hac_adjust
            ):
                rows.append({"direction": direction, **row})
        return GrangerResult(
            leader=self.leader_name,
            follower=self.follower_name,
            lag_unit=self.lag_unit,
            cov_type=cov_type,
            tests=tuple(rows),
            selected_lag_order=None
            if select is None
            else chosen[f"{self.leader_name} -> {self.follower_name}"],
            criterion=select,
        )

    def _directions(self, x: np.ndarray, y: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {
            f"{self.leader_name} -> {self.follower_name}": (y, x),
            f"{self.follower_name} -> {self.leader_name}": (x, y),
        }


def _design(caused: np.ndarray, causing: np.ndarray, max_lag: int) -> np.ndarray:
    """Columns: 1, caused lags 1..L, causing lags 1..L, caused (the target); rows are dates t.

    Lags not yet defined (t < j) are zero: a lag-k regression uses only rows t >= k and
    columns j <= k, where every value is defined.
    """
    n = len(caused)
    out = np.zeros((n, 2 * max_lag + 2))
    out[:, 0] = 1.0
    for j in range(1, max_lag + 1):
        out[j:, j] = caused[:-j]
        out[j:, max_lag + j] = causing[:-j]
    out[:, -1] = caused
    return out


def _granger_direction(
    caused: np.ndarray,
    causing: np.ndarray,
    lags: list[int],
    cov_type: str,
    hac_maxlags: int | None,
    hac_adjust: bool = False,
) -> list[dict[str, Any]]:
    """Granger tests of ``causing -> caused`` at each lag, from one design matrix.

    statsmodels' convention is kept: the test at lag k uses rows k..n-1 (its own sample). The
    cross-product matrix of rows k..n-1 is that of rows L..n-1 plus rows k..L-1, so every lag's
    restricted and unrestricted fits come from one Gram matrix updated row by row (nested least
    squares on the normal equations; the inputs are standardised first, which leaves every
    statistic unchanged and keeps the normal equations well conditioned).
    """
    caused = (caused - caused.mean()) / caused.std()
    causing = (causing - causing.mean()) / causing.std()
    max_lag = max(lags)
    z = _design(caused, causing, max_lag)
    gram = z[max_lag:].T @ z[max_lag:]
    grams: dict[int, np.ndarray] = {}
    for k in range(max_lag, 0, -1):
        if k < max_lag:
            gram = gram + np.outer(z[k], z[k])
        if k in lags:
            grams[k] = gram.copy()
    rows: list[dict[str, Any]] = []
    target = z.shape[1] - 1
    for k in lags:
        g = grams[k]
        nobs = len(caused) - k
        restricted = list(range(k + 1))
        unrestricted = restricted + list(range(max_lag + 1, max_lag + k + 1))
        df_denom = nobs - len(unrestricted)
        beta_u, ssr_u = _normal_equations(g, unrestricted, target)
        if cov_type == "classical":
            _, ssr_r = _normal_equations(g, restricted, target)
            fstat = (ssr_r - ssr_u) / ssr_u * df_denom / k
        else:
            xm = z[k:, unrestricted]
            resid = z[k:, target] - xm @ beta_u
            cov = _robust_cov(xm, resid, cov_type, hac_maxlags, hac_adjust=hac_adjust)
            b, v = beta_u[-k:], cov[-k:, -k:]
            fstat = float(b @ np.linalg.solve(v, b)) / k
        rows.append(
            {
                "lag_order": k,
                "stat": float(fstat),
                "df_num": k,
                "df_denom": int(df_denom),
                "pvalue": float(stats.f.sf(fstat, k, df_denom)),
                "nobs": nobs,
            }
        )
    return rows


def _normal_equations(gram: np.ndarray, cols: list[int], target: int) -> tuple[np.ndarray, float]:
    """Least-squares coefficients and residual sum of squares from a cross-product matrix."""
    xtx = gram[np.ix_(cols, cols)]
    xty = gram[cols, target]
    beta = np.linalg.solve(xtx, xty)
    return beta, float(gram[target, target] - xty @ beta)


def _robust_cov(
    xm: np.ndarray,
    resid: np.ndarray,
    cov_type: str,
    hac_maxlags: int | None,
    *,
    hac_adjust: bool = False,
) -> np.ndarray:
    n, p = xm.shape
    bread = np.linalg.inv(xm.T @ xm)
    if cov_type in {"HC0", "HC1"}:
        meat = (xm * resid[:, None] ** 2).T @ xm
        scale = n / (n - p) if cov_type == "HC1" else 1.0
        return np.asarray(scale * bread @ meat @ bread, dtype=float)
    if cov_type == "HC3":
        h = np.einsum("ij,jk,ik->i", xm, bread, xm)
        u = resid / (1.0 - h)
        return np.asarray(bread @ ((xm * u[:, None] ** 2).T @ xm) @ bread, dtype=float)
    if cov_type == "HAC":
        maxlags = (
            hac_maxlags if hac_maxlags is not None else int(np.floor(4 * (n / 100) ** (2 / 9)))
        )
        scores = xm * resid[:, None]
        meat = scores.T @ scores
        for lag in range(1, maxlags + 1):
            w = 1.0 - lag / (maxlags + 1.0)  # Bartlett kernel
            gamma = scores[lag:].T @ scores[:-lag]
            meat += w * (gamma + gamma.T)
        if hac_adjust:  # sandwich::NeweyWest(adjust = TRUE): n / (n - k)
            meat *= n / (n - p)
        return np.asarray(bread @ meat @ bread, dtype=float)
    raise DataValidationError(f"cov_type must be classical, HC0, HC1, HC3 or HAC, got {cov_type!r}")


def _select_lag(caused: np.ndarray, causing: np.ndarray, lags: list[int], criterion: str) -> int:
    """The lag minimising AIC or BIC of the unrestricted regression on a common sample."""
    max_lag = max(lags)
    z = _design(caused, causing, max_lag)[max_lag:]
    gram = z.T @ z
    nobs = len(z)
    target = z.shape[1] - 1
    penalty = 2.0 if criterion == "aic" else float(np.log(nobs))
    best, best_ic = lags[0], np.inf
    for k in lags:
        cols = list(range(k + 1)) + list(range(max_lag + 1, max_lag + k + 1))
        _, ssr = _normal_equations(gram, cols, target)
        ic = nobs * np.log(ssr / nobs) + penalty * len(cols)
        if ic < best_ic:
            best, best_ic = k, ic
    return best
