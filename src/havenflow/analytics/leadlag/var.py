"""Vector autoregression: lag-order selection, block Granger causality, impulse responses.

A VAR(p) of ``K`` series is estimated by multivariate least squares (one QR of the common
design, every equation at once)::

    y_t = c + A_1 y_{t-1} + ... + A_p y_{t-p} + u_t

Definitions follow statsmodels' ``VAR`` (and R's vars, whose formulas are the same):
``sigma_u`` divides the residual cross-products by ``nobs - (K p + k_trend)``, ``sigma_u_mle``
by ``nobs``; the information criteria are Lütkepohl's (``log det sigma_u_mle`` plus a penalty on
``p K^2 + K k_trend`` free parameters); the lag-order table fits every order 1..max on one
common sample.

The block Granger test asks whether the lags 1..p of a set of *causing* series enter the
equations of a set of *caused* series: an F test (Wald statistic over the number of
restrictions, denominator degrees of freedom ``K (nobs - K p - k_trend)``) with the classical
covariance (statsmodels' ``test_causality(kind="f")``, vars' ``causality``) or a
heteroskedasticity (HC) or Newey-West (HAC) covariance of the stacked equations (vars'
``causality(vcov. = ...)`` with sandwich's estimators).

Lag convention, stated in every result: a lag ``j`` means the value at ``t - j`` enters the
equation for ``t``; the unit is bars of the calendar the series were aligned on. Inputs are
returns (or changes), never price levels.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from scipy import stats

from havenflow.analytics.results import Result, Summary
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "BlockGrangerResult",
    "ImpulseResponseResult",
    "LagOrderSelection",
    "VARLeadLagResult",
    "VARResult",
    "VectorAutoregression",
    "var_leadlag",
]

Seed = int | np.random.Generator | None
Trend = Literal["n", "c", "ct"]
Criterion = Literal["aic", "bic", "hqic", "fpe"]
VarCovType = Literal["classical", "HC0", "HC1", "HC3", "HAC"]

_TRENDS = {"n": 0, "c": 1, "ct": 2}
_CRITERIA = ("aic", "bic", "hqic", "fpe")
_COV_TYPES = ("classical", "HC0", "HC1", "HC3", "HAC")


def _braces(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else "{" + ", ".join(names) + "}"


def _lag_range(lags: int) -> str:
    return "lag 1" if lags == 1 else f"lags 1..{lags}"


def _default_horizons(periods: int) -> list[int]:
    return sorted({h for h in (0, 1, 2, periods // 4, periods // 2, periods) if h <= periods})


def _lag_convention(lag_unit: str, lags: int) -> str:
    last = "t-1" if lags == 1 else f"t-1..t-{lags}"
    return f"lags in {lag_unit}; causing series' values up to {last} enter"


def _newey_west_lags(nobs: int) -> int:
    return int(np.floor(4 * (nobs / 100) ** (2 / 9)))


def _design(y: np.ndarray, lags: int, k_trend: int, start: int) -> np.ndarray:
    """Regressors of rows ``start..n-1``: deterministic terms, then lag 1 of every series, ...

    The trend column is the row's 1-based position in the data, as statsmodels has it.
    """
    n, k = y.shape
    rows = n - start
    out = np.empty((rows, k_trend + k * lags))
    if k_trend >= 1:
        out[:, 0] = 1.0
    if k_trend == 2:
        out[:, 1] = np.arange(start + 1, n + 1, dtype=float)
    for j in range(1, lags + 1):
        out[:, k_trend + (j - 1) * k : k_trend + j * k] = y[start - j : n - j]
    return out


def _regressor_names(names: Sequence[str], lags: int, k_trend: int) -> list[str]:
    det = ["const", "trend"][:k_trend]
    return det + [f"L{j}.{v}" for j in range(1, lags + 1) for v in names]


def _criteria(logdet: float, nobs: int, k: int, lags: int, k_trend: int) -> dict[str, float]:
    """Lütkepohl's criteria as statsmodels' ``VARResults.info_criteria`` defines them."""
    free = lags * k**2 + k * k_trend
    df_model = k * lags + k_trend
    df_resid = nobs - df_model
    return {
        "aic": logdet + 2.0 / nobs * free,
        "bic": logdet + np.log(nobs) / nobs * free,
        "hqic": logdet + 2.0 * np.log(np.log(nobs)) / nobs * free,
        "fpe": ((nobs + df_model) / df_resid) ** k * float(np.exp(logdet)),
    }


def _logdet(sym: np.ndarray) -> float:
    sign, value = np.linalg.slogdet(sym)
    if sign <= 0:
        raise DataValidationError(
            "the residual covariance is singular: a series is a linear combination of the others"
        )
    return float(value)


# ---- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LagOrderSelection:
    """Information criteria of VAR(1)..VAR(max_lags) fitted on one common sample.

    Attributes
    ----------
    table
        One row per lag order (index ``lags``), columns ``aic``, ``bic``, ``hqic``, ``fpe``.
    selected
        The order each criterion picks (its minimum over 1..max_lags).
    nobs
        Observations of the common sample (the first ``max_lags`` are presample for every
        order).
    """

    table: pd.DataFrame
    selected: dict[str, int]
    nobs: int
    max_lags: int
    lag_unit: str
    trend: str

    def to_frame(self) -> pd.DataFrame:
        """The criteria table."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "max_lags": self.max_lags,
            "lag_unit": self.lag_unit,
            "nobs": self.nobs,
            "selected": dict(self.selected),
            "table": [
                {"lags": int(p), **dict(zip(_CRITERIA, map(float, row), strict=True))}
                for p, row in zip(
                    self.table.index, self.table[list(_CRITERIA)].to_numpy(), strict=True
                )
            ],
        }

    def summary(self) -> str:
        """The table as text, each criterion's minimum marked with ``*``."""
        lines = [
            f"lag order selection, 1..{self.max_lags} {self.lag_unit} on a common sample of "
            f"{self.nobs} observations (* = minimum)",
            f"  {'lags':>4}" + "".join(f"{c.upper():>14}" for c in _CRITERIA),
        ]
        for p, row in self.table.iterrows():
            cells = "".join(
                f"{row[c]:>13.5g}{'*' if self.selected[c] == p else ' '}" for c in _CRITERIA
            )
            lines.append(f"  {p:>4}{cells}")
        return "\n".join(lines)


@dataclass(frozen=True)
class BlockGrangerResult:
    """A block (joint) Granger-causality test in a VAR.

    Attributes
    ----------
    causing, caused
        The series whose lags are tested, and the equations they are tested in.
    stat
        F statistic: the Wald statistic over ``df_num`` restrictions.
    df_num, df_denom
        ``p * len(causing) * len(caused)`` and ``K * (nobs - K p - k_trend)``.
    pvalue
        From the F distribution with those degrees of freedom.
    wald
        The Wald statistic (chi-squared with ``df_num`` degrees of freedom asymptotically).
    """

    causing: tuple[str, ...]
    caused: tuple[str, ...]
    lag_order: int
    lag_unit: str
    cov_type: str
    hac_maxlags: int | None
    hac_adjust: bool
    stat: float
    df_num: int
    df_denom: int
    pvalue: float
    wald: float
    nobs: int

    @property
    def direction(self) -> str:
        """``{causing} -> {caused}``."""
        return f"{_braces(self.causing)} -> {_braces(self.caused)}"

    @property
    def lag_convention(self) -> str:
        """Which lags enter, in which unit."""
        return _lag_convention(self.lag_unit, self.lag_order)

    @property
    def null_hypothesis(self) -> str:
        """The null the p-value is computed under."""
        verb = "does" if len(self.causing) == 1 else "do"
        return (
            f"{', '.join(self.causing)} {verb} not Granger-cause {', '.join(self.caused)}: "
            f"{_lag_range(self.lag_order)} of {', '.join(self.causing)} "
            f"{'has' if self.lag_order == 1 and len(self.causing) == 1 else 'have'} zero "
            "coefficients in "
            f"the equation{'s' if len(self.caused) > 1 else ''} of {', '.join(self.caused)}"
        )

    @property
    def covariance(self) -> str:
        """The covariance estimator, in words."""
        if self.cov_type == "HAC":
            adj = ", small-sample n/(n-k)" if self.hac_adjust else ""
            return f"HAC (Newey-West, Bartlett, {self.hac_maxlags} lags{adj})"
        return self.cov_type

    def to_frame(self) -> pd.DataFrame:
        """One row."""
        return pd.DataFrame(
            [
                {
                    "direction": self.direction,
                    "stat": self.stat,
                    "df_num": self.df_num,
                    "df_denom": self.df_denom,
                    "pvalue": self.pvalue,
                }
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "direction": self.direction,
            "causing": list(self.causing),
            "caused": list(self.caused),
            "lag_order": self.lag_order,
            "lag_unit": self.lag_unit,
            "lag_convention": self.lag_convention,
            "cov_type": self.cov_type,
            "covariance": self.covariance,
            "stat": self.stat,
            "df": [self.df_num, self.df_denom],
            "pvalue": self.pvalue,
            "wald": self.wald,
            "nobs": self.nobs,
            "null_hypothesis": self.null_hypothesis,
        }

    def summary(self) -> str:
        """One line with the test, then its null."""
        return (
            f"{self.direction:<32} F = {self.stat:.4f}  df = ({self.df_num}, {self.df_denom})  "
            f"p = {self.pvalue:.4g}  [{self.covariance}; {self.lag_convention}]"
        )


@dataclass(frozen=True)
class ImpulseResponseResult:
    """Impulse responses of a VAR with residual-bootstrap percentile bands.

    ``irfs[h, i, j]`` is the response of series ``i`` at horizon ``h`` to a shock to series
    ``j`` at 0; ``lower`` and ``upper`` are the bootstrap percentiles (NaN without replicates).
    Orthogonalised shocks are one standard deviation of the Cholesky factor of ``sigma_u``
    in the column order of the data: a series is hit in the same bar by the shocks of the
    series before it, not by those after it.
    """

    names: tuple[str, ...]
    periods: int
    orth: bool
    lag_unit: str
    irfs: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    replicates: int
    seed: int | None

    @property
    def shock(self) -> str:
        """What a shock is."""
        if self.orth:
            return (
                "one-standard-deviation orthogonalised shock (Cholesky order "
                f"{', '.join(self.names)})"
            )
        return "unit shock (one unit of the impulse series, no orthogonalisation)"

    def response(self, response: str, impulse: str) -> pd.DataFrame:
        """One response to one impulse: ``irf``, ``lower``, ``upper`` by horizon."""
        for name in (response, impulse):
            if name not in self.names:
                raise DataValidationError(
                    f"no series {name!r} in the VAR (it has {', '.join(self.names)})"
                )
        i, j = self.names.index(response), self.names.index(impulse)
        return pd.DataFrame(
            {
                "irf": self.irfs[:, i, j],
                "lower": self.lower[:, i, j],
                "upper": self.upper[:, i, j],
            },
            index=pd.Index(np.arange(self.periods + 1), name=f"horizon ({self.lag_unit})"),
        )

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per (horizon, response, impulse)."""
        h, i, j = np.meshgrid(
            np.arange(self.periods + 1),
            np.arange(len(self.names)),
            np.arange(len(self.names)),
            indexing="ij",
        )
        names = np.array(self.names, dtype=object)
        return pd.DataFrame(
            {
                "horizon": h.ravel(),
                "response": names[i.ravel()],
                "impulse": names[j.ravel()],
                "irf": self.irfs.ravel(),
                "lower": self.lower.ravel(),
                "upper": self.upper.ravel(),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: every response path with its band."""
        paths = []
        for i, r in enumerate(self.names):
            for j, s in enumerate(self.names):
                paths.append(
                    {
                        "response": r,
                        "impulse": s,
                        "irf": self.irfs[:, i, j].tolist(),
                        "lower": self.lower[:, i, j].tolist(),
                        "upper": self.upper[:, i, j].tolist(),
                    }
                )
        return {
            "periods": self.periods,
            "horizon_unit": self.lag_unit,
            "orthogonalised": self.orth,
            "shock": self.shock,
            "level": self.level,
            "bands": f"{self.level:.0%} percentile bands of a residual bootstrap with "
            f"re-estimation ({self.replicates} replicates)",
            "replicates": self.replicates,
            "seed": self.seed,
            "responses": paths,
        }

    def summary(self, horizons: Sequence[int] | None = None) -> str:
        """Every response at a few horizons, with its band."""
        hs = [h for h in (horizons or _default_horizons(self.periods)) if h <= self.periods]
        lines = [
            f"impulse responses ({self.shock}; {self.level:.0%} bootstrap bands, "
            f"{self.replicates} replicates; horizons in {self.lag_unit})"
        ]
        for i, r in enumerate(self.names):
            for j, s in enumerate(self.names):
                cells = "  ".join(
                    f"h{h}: {self.irfs[h, i, j]:+.4f} [{self.lower[h, i, j]:+.4f}, "
                    f"{self.upper[h, i, j]:+.4f}]"
                    for h in hs
                )
                lines.append(f"  {r} <- {s}: {cells}")
        return "\n".join(lines)


@dataclass(frozen=True)
class VARResult:
    """A fitted VAR(p).

    Attributes
    ----------
    params
        Coefficients: one row per regressor (``const``, ``trend``, ``L1.<series>``, ...), one
        column per equation.
    sigma_u, sigma_u_mle
        Residual covariance, divided by ``nobs - df_model`` and by ``nobs``.
    llf, aic, bic, hqic, fpe
        Gaussian log-likelihood and the information criteria (statsmodels' definitions).
    selection
        The lag-order table (every order 1..max_lags on one common sample).
    ic
        The criterion that chose ``lag_order`` (``None`` when it was given).
    """

    names: tuple[str, ...]
    lag_unit: str
    trend: str
    lag_order: int
    nobs: int
    params: pd.DataFrame
    sigma_u: pd.DataFrame
    sigma_u_mle: pd.DataFrame
    llf: float
    aic: float
    bic: float
    hqic: float
    fpe: float
    df_model: int
    df_resid: int
    ic: str | None
    selection: LagOrderSelection
    resid: pd.DataFrame = field(repr=False)
    _endog: np.ndarray = field(repr=False)
    _design: np.ndarray = field(repr=False)
    _gram_inv: np.ndarray = field(repr=False)

    @property
    def k_trend(self) -> int:
        """Deterministic regressors per equation (0, 1 or 2)."""
        return _TRENDS[self.trend]

    @property
    def lag_convention(self) -> str:
        """Which lags enter, in which unit."""
        return _lag_convention(self.lag_unit, self.lag_order)

    @cached_property
    def std_err(self) -> pd.DataFrame:
        """Classical standard errors of ``params``."""
        se = np.sqrt(np.outer(np.diag(self._gram_inv), np.diag(self.sigma_u.to_numpy())))
        return pd.DataFrame(se, index=self.params.index, columns=self.params.columns)

    @property
    def coefs(self) -> np.ndarray:
        """Lag matrices ``A_1..A_p`` as an array ``(p, K, K)``: ``coefs[j-1][eq, series]``."""
        k = len(self.names)
        lagged = self.params.to_numpy()[self.k_trend :]
        return np.asarray(lagged.reshape(self.lag_order, k, k).transpose(0, 2, 1), dtype=float)

    # ---- block Granger causality

    def _members(self, names: str | Sequence[str] | None, role: str) -> list[str]:
        if names is None:
            return []
        items = [names] if isinstance(names, str) else list(names)
        if not items:
            raise DataValidationError(f"{role} must name at least one series, got none")
        unknown = [n for n in items if n not in self.names]
        if unknown:
            raise DataValidationError(
                f"{role}: no series {', '.join(map(repr, unknown))} in the VAR "
                f"(it has {', '.join(self.names)})"
            )
        if len(set(items)) != len(items):
            raise DataValidationError(f"{role} names a series twice: {items}")
        return items

    def granger(
        self,
        causing: str | Sequence[str] | None,
        caused: str | Sequence[str] | None,
        cov_type: VarCovType = "classical",
        *,
        hac_maxlags: int | None = None,
        hac_adjust: bool = False,
    ) -> BlockGrangerResult:
        """Test that lags 1..p of ``causing`` have zero coefficients in ``caused``'s equations.

        Parameters
        ----------
        causing, caused
            Series names (one or several). ``None`` for one of them means every other
            series of the VAR (``caused`` by all others: ``causing=None``).
        cov_type
            ``classical`` (``kron(sigma_u, (Z'Z)^-1)``: statsmodels' ``test_causality(kind=
            "f")`` and vars' ``causality``), ``HC0``/``HC1``/``HC3`` (heteroskedasticity-robust,
            as sandwich's ``vcovHC`` of the multivariate regression; HC1 scales by
            ``n / (n - k)`` with ``k`` regressors per equation) or ``HAC`` (Newey-West,
            Bartlett kernel, no prewhitening).
        hac_maxlags
            Newey-West truncation (default ``floor(4 (nobs / 100)^(2/9))``).
        hac_adjust
            Scale the HAC covariance by ``n / (n - k)``, ``k`` regressors per equation: for a
            single caused equation this is R's ``sandwich::NeweyWest(adjust = TRUE)`` on that
            equation's ``lm``. (On R's multivariate ``mlm``, ``NeweyWest(adjust = TRUE)`` counts
            the parameters of all equations, ``K k``.)

        Returns
        -------
        BlockGrangerResult
            F statistic with ``(p * |causing| * |caused|, K * df_resid)`` degrees of freedom.
        """
        cause = self._members(causing, "causing")
        effect = self._members(caused, "caused")
        if not cause and not effect:
            raise DataValidationError("name the causing or the caused series (or both)")
        if not cause:
            cause = [n for n in self.names if n not in effect]
        if not effect:
            effect = [n for n in self.names if n not in cause]
        both = [n for n in cause if n in effect]
        if both:
            raise DataValidationError(
                f"{', '.join(both)} cannot be both causing and caused (a series' own lags are "
                "never restricted)"
            )
        if not cause or not effect:
            raise DataValidationError("the causing and the caused sets must both be non-empty")
        if cov_type not in _COV_TYPES:
            raise DataValidationError(
                f"cov_type must be one of {', '.join(_COV_TYPES)}, got {cov_type!r}"
            )
        if hac_maxlags is not None and (
            not isinstance(hac_maxlags, int | np.integer) or hac_maxlags < 0
        ):
            raise DataValidationError(
                f"hac_maxlags must be a non-negative int, got {hac_maxlags!r}"
            )
        k, p, kt = len(self.names), self.lag_order, self.k_trend
        rows = np.array(
            [kt + (j - 1) * k + self.names.index(v) for j in range(1, p + 1) for v in cause]
        )
        cols = np.array([self.names.index(v) for v in effect])
        b = self.params.to_numpy()[np.ix_(rows, cols)]  # (restricted regressors, equations)
        n = self._design.shape[0]
        maxlags: int | None = None
        if cov_type == "classical":
            g = self._gram_inv[np.ix_(rows, rows)]
            s = self.sigma_u.to_numpy()[np.ix_(cols, cols)]
            # vec(B)' (S kron G)^-1 vec(B) = tr(B' G^-1 B S^-1)
            wald = float(np.trace(np.linalg.solve(s, b.T @ np.linalg.solve(g, b))))
        else:
            maxlags = (
                (hac_maxlags if hac_maxlags is not None else _newey_west_lags(n))
                if cov_type == "HAC"
                else None
            )
            cov = _robust_block_cov(
                self._design,
                self.resid.to_numpy(),
                self._gram_inv,
                rows,
                cols,
                cov_type,
                maxlags,
                hac_adjust,
            )
            vec = b.T.ravel()  # equation by equation, as the covariance's blocks
            wald = float(vec @ np.linalg.solve(cov, vec))
        df_num = len(rows) * len(cols)
        df_denom = k * self.df_resid
        stat = wald / df_num
        return BlockGrangerResult(
            causing=tuple(cause),
            caused=tuple(effect),
            lag_order=p,
            lag_unit=self.lag_unit,
            cov_type=cov_type,
            hac_maxlags=maxlags,
            hac_adjust=bool(hac_adjust) if cov_type == "HAC" else False,
            stat=stat,
            df_num=df_num,
            df_denom=df_denom,
            pvalue=float(stats.f.sf(stat, df_num, df_denom)),
            wald=wald,
            nobs=self.nobs,
        )

    # ---- impulse responses

    def irf(
        self,
        periods: int = 10,
        *,
        orth: bool = True,
        replicates: int = 999,
        seed: Seed = None,
        level: float = 0.95,
    ) -> ImpulseResponseResult:
        """Impulse responses with residual-bootstrap percentile bands.

        Parameters
        ----------
        periods
            Horizons 0..periods (bars).
        orth
            Orthogonalised responses (Cholesky factor of ``sigma_u``, column order of the
            data, as statsmodels' ``orth_irfs`` and vars' ``irf(ortho = TRUE)``) or responses
            to unit shocks.
        replicates
            Bootstrap replicates (0: no bands, NaN). Each resamples the centred residuals
            with replacement, rebuilds the series recursively from the first ``p`` observed
            values, re-estimates the VAR(p) and recomputes the responses (vars' ``irf(boot =
            TRUE)``); the bands are percentiles of those.
        seed
            Seed or generator; the same seed gives the same bands.
        level
            Coverage of the bands.
        """
        if not isinstance(periods, int | np.integer) or periods < 0:
            raise DataValidationError(f"periods must be a non-negative int, got {periods!r}")
        if not isinstance(replicates, int | np.integer) or replicates < 0:
            raise DataValidationError(f"replicates must be a non-negative int, got {replicates!r}")
        if not 0 < level < 1:
            raise DataValidationError(f"level must be in (0, 1), got {level!r}")
        point = _irfs(self.coefs[None], self.sigma_u.to_numpy()[None], int(periods), orth)[0]
        k = len(self.names)
        lower = np.full((periods + 1, k, k), np.nan)
        upper = np.full((periods + 1, k, k), np.nan)
        if replicates > 0:
            rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
            draws = _bootstrap_irfs(self, int(periods), orth, int(replicates), rng)
            alpha = 1.0 - level
            lower, upper = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
        return ImpulseResponseResult(
            names=self.names,
            periods=int(periods),
            orth=orth,
            lag_unit=self.lag_unit,
            irfs=point,
            lower=np.asarray(lower, dtype=float),
            upper=np.asarray(upper, dtype=float),
            level=level,
            replicates=int(replicates),
            seed=seed if isinstance(seed, int) else None,
        )

    # ---- presentation

    def to_frame(self) -> pd.DataFrame:
        """The coefficients: one row per regressor, one column per equation."""
        return self.params.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "names": list(self.names),
            "lag_order": self.lag_order,
            "lag_unit": self.lag_unit,
            "lag_convention": self.lag_convention,
            "criterion": self.ic,
            "trend": self.trend,
            "nobs": self.nobs,
            "start": _date(self.resid.index[0]),
            "end": _date(self.resid.index[-1]),
            "llf": self.llf,
            "aic": self.aic,
            "bic": self.bic,
            "hqic": self.hqic,
            "fpe": self.fpe,
            "params": {
                eq: {str(r): float(v) for r, v in self.params[eq].items()} for eq in self.names
            },
            "sigma_u": self.sigma_u.to_numpy().tolist(),
            "selection": self.selection.to_dict(),
        }

    def summary(self) -> str:
        """Text summary: order, fit, lag-order table and coefficients."""
        how = (
            f"chosen by {self.ic.upper()} from 1..{self.selection.max_lags}"
            if self.ic is not None
            else "given"
        )
        lines = [
            f"VAR({self.lag_order}) of {', '.join(self.names)} ({self.nobs} obs, "
            f"{_date(self.resid.index[0])}..{_date(self.resid.index[-1])}; trend {self.trend!r}; "
            f"{self.lag_convention})",
            f"lag order {self.lag_order} {how}; llf {self.llf:.2f}, AIC {self.aic:.4f}, "
            f"BIC {self.bic:.4f}, HQIC {self.hqic:.4f}, FPE {self.fpe:.4g}",
            self.selection.summary(),
            "coefficients (rows: regressors; columns: equations)",
            self.params.to_string(float_format=lambda v: f"{v:+.4f}"),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def _date(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


# ---- the model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VectorAutoregression:
    """A VAR of several series' returns on one calendar.

    Parameters
    ----------
    data
        One column per series (names are kept), one row per bar, no missing value.
    max_lags
        Largest lag order of the selection table (default statsmodels' ``round(12 (n /
        100)^(1/4))``, capped at the largest order the data can estimate).
    lag_unit
        The bars' unit, printed with every result (``business days``, ``weeks``...).
    """

    data: pd.DataFrame
    max_lags: int | None = None
    lag_unit: str = "bars"

    def __post_init__(self) -> None:
        if not isinstance(self.data, pd.DataFrame):
            raise DataValidationError(
                f"data must be a DataFrame with one column per series, got "
                f"{type(self.data).__name__}"
            )
        if self.data.shape[1] < 2:
            raise DataValidationError(
                f"a VAR needs at least two series, got {self.data.shape[1]} "
                f"({', '.join(map(str, self.data.columns)) or 'none'})"
            )
        names = [str(c) for c in self.data.columns]
        if len(set(names)) != len(names):
            raise DataValidationError(f"series names must be unique, got {names}")
        if self.max_lags is not None and (
            not isinstance(self.max_lags, int | np.integer) or self.max_lags < 1
        ):
            raise DataValidationError(f"max_lags must be a positive int, got {self.max_lags!r}")
        _ = self._y
        _ = self._max_lags

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The series, in the column order of the data."""
        return tuple(str(c) for c in self.data.columns)

    @cached_property
    def _y(self) -> np.ndarray:
        try:
            y = self.data.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(f"every column must be numeric: {exc}") from exc
        bad = np.isnan(y) | np.isinf(y)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise DataValidationError(
                f"{self.names[col]} has a missing or infinite value on "
                f"{_date(self.data.index[row])}: align the series first and decide how gaps "
                "are handled"
            )
        flat = [n for n, sd in zip(self.names, y.std(axis=0), strict=True) if sd == 0]
        if flat:
            raise DataValidationError(f"{', '.join(flat)} does not move in the sample")
        return y

    @cached_property
    def _max_lags(self) -> int:
        n, k = self._y.shape
        # the largest order with at least 10 residual degrees of freedom on the common sample
        largest = (n - 10 - 2 - k) // (k + 1)
        if self.max_lags is None:
            if largest < 1:
                raise InsufficientDataError(f"{n} observations are too few for a VAR of {k} series")
            return int(min(round(12 * (n / 100.0) ** 0.25), largest))
        if self.max_lags > max(largest, 0):
            need = (self.max_lags * (k + 1)) + 12 + k
            raise InsufficientDataError(
                f"{n} observations are too few for a VAR of {k} series with up to "
                f"{self.max_lags} lags (need at least {need})"
            )
        return int(self.max_lags)

    def select_order(self, trend: Trend = "c") -> LagOrderSelection:
        """Every criterion for orders 1..max_lags on the common sample (rows max_lags..n-1).

        One QR factorisation of ``[Z | Y]`` (Z with every lag up to max_lags, ordered by lag)
        gives every order's residual cross-products: those of Y on the first ``m`` columns
        are ``R[m:, Y]' R[m:, Y]``.
        """
        k_trend = _check_trend(trend)
        y = self._y
        k = y.shape[1]
        pmax = self._max_lags
        z = _design(y, pmax, k_trend, pmax)
        r = np.asarray(np.linalg.qr(np.hstack([z, y[pmax:]]), mode="r"))
        nobs = len(z)
        ycols = r[:, z.shape[1] :]
        records = {}
        for p in range(1, pmax + 1):
            m = k_trend + k * p
            tail = ycols[m:]
            sse = tail.T @ tail
            records[p] = _criteria(_logdet(sse / nobs), nobs, k, p, k_trend)
        table = pd.DataFrame.from_dict(records, orient="index")[list(_CRITERIA)]
        table.index.name = "lags"
        selected = {c: int(np.argmin(table[c].to_numpy())) + 1 for c in _CRITERIA}
        return LagOrderSelection(
            table=table,
            selected=selected,
            nobs=nobs,
            max_lags=pmax,
            lag_unit=self.lag_unit,
            trend=trend,
        )

    def fit(self, lags: int | None = None, ic: Criterion = "aic", trend: Trend = "c") -> VARResult:
        """Estimate the VAR by multivariate least squares.

        Parameters
        ----------
        lags
            The lag order; ``None`` picks it by ``ic`` from 1..max_lags on a common sample.
        ic
            ``aic``, ``bic``, ``hqic`` or ``fpe``.
        trend
            ``c`` (constant), ``ct`` (constant and linear trend) or ``n`` (none).
        """
        if ic not in _CRITERIA:
            raise DataValidationError(f"ic must be one of {', '.join(_CRITERIA)}, got {ic!r}")
        k_trend = _check_trend(trend)
        selection = self.select_order(trend)
        if lags is None:
            p = selection.selected[ic]
            chosen: str | None = ic
        else:
            if not isinstance(lags, int | np.integer) or lags < 1:
                raise DataValidationError(f"lags must be a positive int, got {lags!r}")
            p, chosen = int(lags), None
        y = self._y
        n, k = y.shape
        m = k_trend + k * p
        nobs = n - p
        if nobs - m < 1:
            raise InsufficientDataError(
                f"{n} observations are too few for a VAR({p}) of {k} series"
            )
        z = _design(y, p, k_trend, p)
        q, r = np.linalg.qr(z)
        if np.min(np.abs(np.diag(r))) <= 1e-12 * np.max(np.abs(np.diag(r))):
            raise DataValidationError("the regressors are collinear: a series repeats another")
        target = y[p:]
        params = np.linalg.solve(r, q.T @ target)  # r is upper triangular
        resid = target - z @ params
        r_inv = np.linalg.solve(r, np.eye(m))
        gram_inv = r_inv @ r_inv.T
        sse = resid.T @ resid
        df_resid = nobs - m
        sigma_mle = sse / nobs
        logdet = _logdet(sigma_mle)
        crit = _criteria(logdet, nobs, k, p, k_trend)
        llf = -(nobs / 2.0) * (k * np.log(2 * np.pi) + logdet + k)
        names = list(self.names)
        index = self.data.index[p:]
        return VARResult(
            names=self.names,
            lag_unit=self.lag_unit,
            trend=trend,
            lag_order=p,
            nobs=nobs,
            params=pd.DataFrame(params, index=_regressor_names(names, p, k_trend), columns=names),
            sigma_u=pd.DataFrame(sse / df_resid, index=names, columns=names),
            sigma_u_mle=pd.DataFrame(sigma_mle, index=names, columns=names),
            llf=float(llf),
            aic=float(crit["aic"]),
            bic=float(crit["bic"]),
            hqic=float(crit["hqic"]),
            fpe=float(crit["fpe"]),
            df_model=m,
            df_resid=df_resid,
            ic=chosen,
            selection=selection,
            resid=pd.DataFrame(resid, index=index, columns=names),
            _endog=y,
            _design=z,
            _gram_inv=gram_inv,
        )


def _check_trend(trend: str) -> int:
    if trend not in _TRENDS:
        raise DataValidationError(f"trend must be n, c or ct, got {trend!r}")
    return _TRENDS[trend]


# ---- kernels ------------------------------------------------------------------------------------


def _robust_block_cov(
    z: np.ndarray,
    resid: np.ndarray,
    gram_inv: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    cov_type: str,
    hac_maxlags: int | None,
    hac_adjust: bool,
) -> np.ndarray:
    """Sandwich covariance of the restricted coefficients, equation-major.

    The full covariance is ``(I kron G) Omega (I kron G)`` with ``G = (Z'Z)^-1`` and scores
    ``u_t kron z_t``; only its block for regressors ``rows`` in equations ``cols`` is formed:
    ``h_t[e, r] = u_{t,e} (G z_t)_r`` and ``V = sum_t h_t h_t'`` (plus Bartlett-weighted
    autocovariances for HAC).
    """
    n, m = z.shape
    u = resid[:, cols]
    if cov_type == "HC3":
        lev = np.einsum("ij,jk,ik->i", z, gram_inv, z)
        u = u / (1.0 - lev)[:, None]
    a = z @ gram_inv[:, rows]  # (n, |rows|): row t is (G z_t) restricted
    h = (u[:, :, None] * a[:, None, :]).reshape(n, -1)
    cov = h.T @ h
    if cov_type == "HC1":
        cov *= n / (n - m)
    elif cov_type == "HAC":
        lags = int(hac_maxlags or 0)
        for lag in range(1, lags + 1):
            w = 1.0 - lag / (lags + 1.0)
            gamma = h[lag:].T @ h[:-lag]
            cov += w * (gamma + gamma.T)
        if hac_adjust:
            cov *= n / (n - m)
    return np.asarray(cov, dtype=float)


def _irfs(coefs: np.ndarray, sigma: np.ndarray, periods: int, orth: bool) -> np.ndarray:
    """Moving-average responses for a batch: ``coefs (B, p, K, K)`` -> ``(B, H+1, K, K)``.

    ``Phi_0 = I``, ``Phi_h = sum_{j=1..min(h,p)} Phi_{h-j} A_j``; orthogonalised: ``Phi_h P``
    with ``P`` the lower Cholesky factor of ``sigma``.
    """
    b, p, k, _ = coefs.shape
    phi = np.zeros((b, periods + 1, k, k))
    phi[:, 0] = np.eye(k)
    for h in range(1, periods + 1):
        acc = np.zeros((b, k, k))
        for j in range(1, min(h, p) + 1):
            acc += coefs[:, j - 1] @ phi[:, h - j]
        phi[:, h] = acc
    if orth:
        chol = np.linalg.cholesky(sigma)
        phi = phi @ chol[:, None]
    return phi


def _bootstrap_irfs(
    res: VARResult, periods: int, orth: bool, replicates: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap responses ``(replicates, H+1, K, K)``, in chunks that bound memory."""
    nobs = res.nobs
    m = res.df_model
    chunk = max(1, min(replicates, int(4_000_000 // max(nobs * (m + res._endog.shape[1]), 1))))
    out = []
    done = 0
    while done < replicates:
        size = min(chunk, replicates - done)
        idx = rng.integers(0, nobs, size=(size, nobs))
        out.append(_bootstrap_draws(res, idx, periods, orth))
        done += size
    return np.concatenate(out, axis=0)


def _bootstrap_draws(res: VARResult, idx: np.ndarray, periods: int, orth: bool) -> np.ndarray:
    """Responses of the VARs re-estimated on series rebuilt from resampled residuals.

    ``idx[b, t]`` is the residual used at the ``t``-th simulated bar of replicate ``b``. All
    replicates are simulated together (one small matrix product per bar) and re-estimated
    together (batched normal equations).
    """
    y = res._endog
    n, k = y.shape
    p, kt = res.lag_order, res.k_trend
    params = res.params.to_numpy()
    u = res.resid.to_numpy()
    u = u - u.mean(axis=0)
    b = idx.shape[0]
    det = res._design[:, :kt] @ params[:kt]  # deterministic part of every equation, (nobs, K)
    lag_coef = params[kt:]  # (K p, K), rows L1.*, L2.*, ...
    sim = np.empty((b, n, k))
    sim[:, :p] = y[:p]
    shocks = u[idx] + det[None]
    for t in range(p, n):
        window = sim[:, t - p : t][:, ::-1].reshape(b, k * p)  # y_{t-1}, ..., y_{t-p}
        sim[:, t] = window @ lag_coef + shocks[:, t - p]
    m = kt + k * p
    z = np.empty((b, n - p, m))
    if kt:
        z[:, :, :kt] = res._design[None, :, :kt]
    for j in range(1, p + 1):
        z[:, :, kt + (j - 1) * k : kt + j * k] = sim[:, p - j : n - j]
    target = sim[:, p:]
    zt = z.transpose(0, 2, 1)
    beta = np.linalg.solve(zt @ z, zt @ target)
    resid = target - z @ beta
    sigma = resid.transpose(0, 2, 1) @ resid / (n - p - m)
    coefs = beta[:, kt:].reshape(b, p, k, k).transpose(0, 1, 3, 2)
    return _irfs(coefs, sigma, periods, orth)


# ---- the lead-lag question ----------------------------------------------------------------------


@dataclass(frozen=True)
class VARLeadLagResult(Result):
    """Does a block of leaders lead a block of followers? A VAR answers both directions.

    Attributes
    ----------
    var
        The fitted VAR (leaders first, then followers).
    forward, backward
        Block Granger tests ``leaders -> followers`` and ``followers -> leaders``.
    irf
        Impulse responses with bootstrap bands (orthogonalised in the order leaders,
        followers: a leader's shock may move a follower in the same bar, not the reverse).
    """

    leaders: tuple[str, ...]
    followers: tuple[str, ...]
    var: VARResult
    forward: BlockGrangerResult
    backward: BlockGrangerResult
    irf: ImpulseResponseResult

    kind: ClassVar[str] = "var"
    method = "var"

    def __repr__(self) -> str:
        # One line: the fitted arrays are in .var and .irf (summary() prints them).
        return (
            f"VARLeadLagResult({{{', '.join(self.leaders)}}} -> {{{', '.join(self.followers)}}}: "
            f"VAR({self.var.lag_order}), p {self.forward.pvalue:.4g}; reverse p "
            f"{self.backward.pvalue:.4g})"
        )

    @property
    def lag_unit(self) -> str:
        """The bars' unit."""
        return self.var.lag_unit

    def responses(self) -> list[dict[str, Any]]:
        """Each follower's response to each leader's shock, by horizon, with its band."""
        out = []
        for f in self.followers:
            for ld in self.leaders:
                frame = self.irf.response(f, ld)
                out.append(
                    {
                        "response": f,
                        "impulse": ld,
                        "horizons": [int(h) for h in frame.index],
                        "irf": frame["irf"].tolist(),
                        "lower": frame["lower"].tolist(),
                        "upper": frame["upper"].tolist(),
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the fields of ``havenflow leadlag --method var --json``)."""
        fwd = self.forward
        return {
            "leader": ",".join(self.leaders),
            "follower": ",".join(self.followers),
            "leaders": list(self.leaders),
            "followers": list(self.followers),
            "method": self.method,
            "lag_unit": self.lag_unit,
            "lag_convention": self.var.lag_convention,
            "lag_order": self.var.lag_order,
            "criterion": self.var.ic,
            "cov_type": fwd.cov_type,
            "null_hypothesis": fwd.null_hypothesis,
            "direction": fwd.direction,
            "stat": fwd.stat,
            "df": [fwd.df_num, fwd.df_denom],
            "pvalue": fwd.pvalue,
            "nobs": self.var.nobs,
            "tests": [fwd.to_dict(), self.backward.to_dict()],
            "selection": self.var.selection.to_dict(),
            "var": self.var.to_dict(),
            "irf": {k: v for k, v in self.irf.to_dict().items() if k != "responses"}
            | {"responses": self.responses()},
        }

    def summary(self, horizons: Sequence[int] | None = None) -> Summary:
        """Lag order with its criteria table, both block tests, and the followers' responses.

        ``horizons`` picks the impulse-response rows shown (default: a few up to the last).
        """
        text = self._summary_text(horizons)
        return Summary(text=text, html=f"<pre>{html.escape(text)}</pre>")

    def to_frame(self) -> pd.DataFrame:
        """One row per follower, leader and horizon: the response and its band."""
        rows = [
            {"response": r["response"], "impulse": r["impulse"], "horizon": h,
             "irf": v, "lower": lo, "upper": hi}
            for r in self.responses()
            for h, v, lo, hi in zip(r["horizons"], r["irf"], r["lower"], r["upper"], strict=True)
        ]  # fmt: skip
        return pd.DataFrame(rows)

    def _summary_text(self, horizons: Sequence[int] | None = None) -> str:
        v = self.var
        how = (
            f"chosen by {v.ic.upper()} from 1..{v.selection.max_lags}"
            if v.ic is not None
            else "given"
        )
        lines = [
            f"VAR({v.lag_order}) of {', '.join(v.names)} returns ({v.nobs} obs, "
            f"{_date(v.resid.index[0])}..{_date(v.resid.index[-1])}); lag order {how}; "
            f"{v.lag_convention}",
            v.selection.summary(),
            f"block Granger causality ({self.forward.covariance}; F test)",
        ]
        for test in (self.forward, self.backward):
            lines.append(
                f"  {test.direction:<34} F = {test.stat:.4f}  df = ({test.df_num}, "
                f"{test.df_denom})  p = {test.pvalue:.4g}"
            )
        lines.append(f"  null: {self.forward.null_hypothesis}")
        irf = self.irf
        hs = [h for h in (horizons or _default_horizons(irf.periods)) if h <= irf.periods]
        lines.append(
            f"impulse responses, log-return units ({irf.shock}; {irf.level:.0%} "
            f"residual-bootstrap bands, {irf.replicates} replicates)"
        )
        for f in self.followers:
            frames = {ld: irf.response(f, ld) for ld in self.leaders}
            header = f"  {'horizon (' + irf.lag_unit + ')':<18}" + "".join(
                f"{ld + ' shock':<28}" for ld in self.leaders
            )
            lines.extend([f"  response of {f}", header.rstrip()])
            for h in hs:
                cells = "".join(
                    f"{fr['irf'].iloc[h]:+.4f} [{fr['lower'].iloc[h]:+.4f}, "
                    f"{fr['upper'].iloc[h]:+.4f}]  "
                    for fr in frames.values()
                )
                lines.append(f"  {h:<18}{cells}".rstrip())
        return "\n".join(lines)


def var_leadlag(
    data: pd.DataFrame,
    leaders: Sequence[str],
    followers: Sequence[str],
    *,
    max_lags: int,
    ic: Criterion = "bic",
    cov_type: VarCovType = "HAC",
    periods: int = 12,
    replicates: int = 999,
    seed: Seed = None,
    lag_unit: str = "bars",
) -> VARLeadLagResult:
    """Fit a VAR of ``leaders`` then ``followers`` and test the blocks both ways.

    Parameters
    ----------
    data
        Returns, one column per series (at least the leaders and followers).
    leaders, followers
        The two blocks; disjoint, together at least two series.
    max_lags
        Largest lag order considered by ``ic``.
    ic
        Criterion choosing the order.
    cov_type
        Covariance of the block tests (see :meth:`VARResult.granger`).
    periods
        Impulse-response horizons 0..periods.
    replicates, seed
        Bootstrap of the impulse-response bands.
    lag_unit
        The bars' unit.
    """
    lead, follow = list(leaders), list(followers)
    if not lead or not follow:
        raise DataValidationError("a VAR lead-lag test needs at least one leader and one follower")
    both = [s for s in lead if s in follow]
    if both:
        raise DataValidationError(f"{', '.join(both)} is both a leader and a follower")
    for group in (lead, follow):
        if len(set(group)) != len(group):
            raise DataValidationError(f"a series is named twice: {', '.join(group)}")
    missing = [s for s in lead + follow if s not in data]
    if missing:
        raise DataValidationError(f"no column {', '.join(missing)} in the data")
    var = VectorAutoregression(data[lead + follow], max_lags=max_lags, lag_unit=lag_unit).fit(ic=ic)
    return VARLeadLagResult(
        leaders=tuple(lead),
        followers=tuple(follow),
        var=var,
        forward=var.granger(lead, follow, cov_type),
        backward=var.granger(follow, lead, cov_type),
        irf=var.irf(periods, replicates=replicates, seed=seed),
    )
