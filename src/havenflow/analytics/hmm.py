"""Gaussian hidden Markov model: Hamilton filter, Baum-Welch fit, filtered probabilities only.

statsmodels' ``MarkovRegression`` is univariate; the phase model needs several indicators at
once, so this module fits a multivariate Gaussian HMM. Its filter is the same recursion as
statsmodels' (Hamilton 1989, with the steady-state initial distribution), and the test suite
checks it against statsmodels and Stata's ``mswitch`` on the fed-funds model (log-likelihood
-508.63592 at Stata's parameters).

Only FILTERED probabilities ``P(s_t | y_1..y_t)`` leave this module as results: smoothed ones
use the future and are computed only inside the EM step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numba import njit
from numpy.typing import NDArray
from scipy.optimize import minimize

from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "GaussianHMM",
    "GaussianHMMResult",
    "diag_log_density",
    "hamilton_filter",
    "steady_state",
]

Covariance = Literal["tied", "diag"]
FloatArray = NDArray[np.float64]
_LOG_2PI = float(np.log(2.0 * np.pi))


def steady_state(transition: FloatArray) -> FloatArray:
    """Stationary distribution of a row-stochastic transition matrix ``P[i, j] = P(j | i)``."""
    k = transition.shape[0]
    # pi (P - I) = 0 with sum(pi) = 1: one balance equation is redundant, so the sum replaces
    # it and the square system is solved directly; a reducible chain (singular system) falls
    # back to the least-squares solution of all k + 1 equations (what statsmodels does).
    square = transition.T - np.eye(k)
    square[-1] = 1.0
    rhs = np.zeros(k)
    rhs[-1] = 1.0
    try:
        pi = np.linalg.solve(square, rhs)
    except np.linalg.LinAlgError:
        a = np.vstack([transition.T - np.eye(k), np.ones((1, k))])
        b = np.zeros(k + 1)
        b[-1] = 1.0
        pi = np.linalg.lstsq(a, b, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return np.asarray(pi / pi.sum(), dtype=float)


@njit(cache=True)
def _forward(
    log_emission: FloatArray, transition: FloatArray, prior0: FloatArray
) -> tuple[FloatArray, FloatArray, float]:  # pragma: no cover - compiled
    t_len, k = log_emission.shape
    filtered = np.empty((t_len, k))
    predicted = np.empty((t_len, k))
    prior = prior0.copy()
    joint = np.empty(k)
    llf = 0.0
    for t in range(t_len):
        predicted[t] = prior
        shift = log_emission[t].max()
        total = 0.0
        for i in range(k):
            joint[i] = prior[i] * np.exp(log_emission[t, i] - shift)
            total += joint[i]
        if not total > 0.0:
            return filtered, predicted, -np.inf
        llf += shift + np.log(total)
        for i in range(k):
            filtered[t, i] = joint[i] / total
        for j in range(k):
            acc = 0.0
            for i in range(k):
                acc += filtered[t, i] * transition[i, j]
            prior[j] = acc
    return filtered, predicted, llf


def hamilton_filter(
    log_emission: FloatArray, transition: FloatArray, initial: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, float]:
    """Forward (Hamilton) filter.

    Parameters
    ----------
    log_emission
        ``(T, K)`` log densities of each observation under each regime.
    transition
        ``(K, K)`` row-stochastic matrix, ``transition[i, j] = P(s_t = j | s_{t-1} = i)``.
    initial
        Distribution of the first regime; the steady state of ``transition`` when omitted.

    Returns
    -------
    tuple
        Filtered probabilities ``(T, K)``, predicted probabilities ``(T, K)`` (regime at t given
        data to t-1) and the log-likelihood (``-inf`` if an observation is impossible).
    """
    prior = steady_state(transition) if initial is None else np.asarray(initial, dtype=float)
    filtered, predicted, llf = _forward(
        np.ascontiguousarray(log_emission, dtype=np.float64),
        np.ascontiguousarray(transition, dtype=np.float64),
        np.ascontiguousarray(prior, dtype=np.float64),
    )
    return filtered, predicted, float(llf)


def diag_log_density(y: FloatArray, means: FloatArray, variances: FloatArray) -> FloatArray:
    """``(T, K)`` log densities of ``(T, D)`` rows under ``K`` diagonal Gaussians.

    ``means`` and ``variances`` are ``(K, D)``; the result is the ``log_emission`` of
    :func:`hamilton_filter`.
    """
    return _log_emission(
        np.asarray(y, dtype=float), np.asarray(means, dtype=float), np.asarray(variances, float)
    )


def _log_emission(y: FloatArray, means: FloatArray, variances: FloatArray) -> FloatArray:
    """``(T, K)`` log densities for diagonal Gaussians (``variances`` is ``(K, D)``)."""
    diff = y[:, None, :] - means[None, :, :]
    return np.asarray(
        -0.5 * (np.sum(diff**2 / variances[None], axis=2) + np.sum(np.log(variances), axis=1))
        - 0.5 * y.shape[1] * _LOG_2PI,
        dtype=float,
    )


@njit(cache=True)
def _backward(
    transition: FloatArray, filtered: FloatArray
) -> tuple[FloatArray, FloatArray]:  # pragma: no cover - compiled
    """Kim smoother: smoothed marginals and summed joint transitions (EM only)."""
    t_len, k = filtered.shape
    smoothed = np.empty_like(filtered)
    smoothed[-1] = filtered[-1]
    xi_sum = np.zeros((k, k))
    ratio = np.empty(k)
    for t in range(t_len - 2, -1, -1):
        for j in range(k):
            pred = 0.0
            for i in range(k):
                pred += filtered[t, i] * transition[i, j]
            ratio[j] = smoothed[t + 1, j] / pred if pred > 0.0 else 0.0
        for i in range(k):
            row = 0.0
            for j in range(k):
                joint = filtered[t, i] * transition[i, j] * ratio[j]
                xi_sum[i, j] += joint
                row += joint
            smoothed[t, i] = row
    return smoothed, xi_sum


@dataclass(frozen=True)
class GaussianHMMResult:
    """A fitted HMM: parameters, filtered probabilities and fit statistics (read-only)."""

    means: FloatArray
    variances: FloatArray
    transition: FloatArray
    filtered: FloatArray
    llf: float
    iterations: int
    converged: bool
    covariance: Covariance

    @property
    def k_regimes(self) -> int:
        """Number of regimes."""
        return int(self.means.shape[0])

    @property
    def expected_durations(self) -> FloatArray:
        """Expected duration of each regime in bars, ``1 / (1 - p_ii)``."""
        stay = np.clip(np.diag(self.transition), 0.0, 1.0 - 1e-12)
        return np.asarray(1.0 / (1.0 - stay), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters and fit statistics."""
        return {
            "k_regimes": self.k_regimes,
            "covariance": self.covariance,
            "llf": self.llf,
            "iterations": self.iterations,
            "converged": self.converged,
            "means": self.means.tolist(),
            "variances": self.variances.tolist(),
            "transition": self.transition.tolist(),
            "expected_durations": self.expected_durations.tolist(),
        }

    def summary(self) -> str:
        """Text summary."""
        lines = [f"Gaussian HMM, {self.k_regimes} regimes, llf {self.llf:.5f}"]
        for i in range(self.k_regimes):
            lines.append(
                f"  regime {i}: stay {self.transition[i, i]:.3f}, mean "
                + ", ".join(f"{m:+.3f}" for m in self.means[i])
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class GaussianHMM:
    """Gaussian HMM on ``(T, D)`` observations with ``k_regimes`` regimes.

    Parameters
    ----------
    data
        Observations, rows in time order, no NaN.
    k_regimes
        Number of regimes.
    covariance
        ``tied``: one diagonal covariance shared by all regimes (statsmodels' default for
        ``MarkovRegression``); ``diag``: one diagonal covariance per regime.
    """

    data: FloatArray
    k_regimes: int = 2
    covariance: Covariance = "diag"

    def _observations(self) -> FloatArray:
        y = np.asarray(self.data, dtype=float)
        if y.ndim == 1:
            y = y[:, None]
        if not np.all(np.isfinite(y)):
            raise DataValidationError("HMM: observations contain NaN or inf")
        if y.shape[0] < 10 * self.k_regimes:
            raise InsufficientDataError(
                f"HMM: {y.shape[0]} observations for {self.k_regimes} regimes; need at least "
                f"{10 * self.k_regimes}"
            )
        return y

    def loglike(self, means: FloatArray, variances: FloatArray, transition: FloatArray) -> float:
        """Log-likelihood at given parameters (steady-state initial distribution)."""
        y = self._observations()
        var = np.broadcast_to(np.asarray(variances, dtype=float), np.shape(means))
        return hamilton_filter(_log_emission(y, np.asarray(means, float), var), transition)[2]

    def filter(
        self, means: FloatArray, variances: FloatArray, transition: FloatArray
    ) -> GaussianHMMResult:
        """Filtered probabilities at given parameters."""
        y = self._observations()
        m = np.asarray(means, dtype=float).reshape(self.k_regimes, y.shape[1])
        var = np.broadcast_to(np.asarray(variances, dtype=float), m.shape).copy()
        p = np.asarray(transition, dtype=float)
        filt, _, llf = hamilton_filter(_log_emission(y, m, var), p)
        return GaussianHMMResult(m, var, p, filt, llf, 0, True, self.covariance)

    def fit(
        self,
        *,
        init_labels: NDArray[np.int_] | None = None,
        init_params: tuple[FloatArray, FloatArray, FloatArray] | None = None,
        max_iter: int = 500,
        tol: float = 1e-8,
        variance_floor: float = 1e-6,
        polish: bool = True,
        seed: int | None = 0,
    ) -> GaussianHMMResult:
        """Maximum likelihood by EM (Baum-Welch).

        Parameters
        ----------
        init_labels
            A starting regime for each observation (e.g. a rule-based classification); when
            omitted (and ``init_params`` too), regimes start from quantiles of the first
            principal direction.
        init_params
            Starting ``(means, variances, transition)``, e.g. an earlier fit on a shorter
            sample (a warm start); exclusive with ``init_labels``.
        max_iter, tol
            Stop after ``max_iter`` iterations or when the log-likelihood gains less than ``tol``.
        variance_floor
            Lower bound on every variance, relative to the data's variance, so a regime cannot
            collapse onto a few points.
        polish
            Finish with a direct maximisation of the steady-state likelihood (statsmodels'
            objective); without it the result is EM's fixed point, close to it and much faster.
        seed
            Seed for the small jitter that separates regimes with identical starting values.
        """
        y = self._observations()
        t_len = y.shape[0]
        k = self.k_regimes
        rng = np.random.default_rng(seed)
        floor = variance_floor * np.maximum(y.var(axis=0), 1e-12)
        if init_params is not None:
            if init_labels is not None:
                raise DataValidationError("HMM: give init_labels or init_params, not both")
            means, variances, transition = self._start(init_params, y.shape[1], floor)
            return self._em(y, means, variances, transition, floor, max_iter, tol, polish)
        if init_labels is None:
            centred = y - y.mean(axis=0)
            direction = np.linalg.svd(centred, full_matrices=False)[2][0]
            score = centred @ direction
            edges = np.quantile(score, np.linspace(0, 1, k + 1)[1:-1])
            labels = np.searchsorted(edges, score)
        else:
            labels = np.asarray(init_labels, dtype=int)
            if labels.shape != (t_len,) or labels.min() < 0 or labels.max() >= k:
                raise DataValidationError("HMM: init_labels must give a regime 0..k-1 per row")
        resp = np.full((t_len, k), 0.05 / max(k - 1, 1))
        resp[np.arange(t_len), labels] = 0.95
        means, variances = self._m_step_emission(y, resp, floor)
        means = means + 1e-6 * rng.standard_normal(means.shape) * np.sqrt(floor)
        transition = np.full((k, k), 0.1 / max(k - 1, 1))
        np.fill_diagonal(transition, 0.9)
        return self._em(y, means, variances, transition, floor, max_iter, tol, polish)

    def _start(
        self, params: tuple[FloatArray, FloatArray, FloatArray], d: int, floor: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        k = self.k_regimes
        means = np.asarray(params[0], dtype=float)
        variances = np.asarray(params[1], dtype=float)
        transition = np.asarray(params[2], dtype=float)
        if means.shape != (k, d) or transition.shape != (k, k):
            raise DataValidationError(
                f"HMM: init_params need means ({k}, {d}) and transition ({k}, {k}), got "
                f"{means.shape} and {transition.shape}"
            )
        if not (np.all(np.isfinite(means)) and np.all(np.isfinite(variances))):
            raise DataValidationError("HMM: init_params contain NaN or inf")
        if np.any(transition < 0) or not np.allclose(transition.sum(axis=1), 1.0):
            raise DataValidationError("HMM: the starting transition matrix must be row-stochastic")
        var = np.broadcast_to(variances, (k, d))
        if self.covariance == "tied":
            var = np.broadcast_to(var[0], (k, d))
        return means.copy(), np.maximum(var, floor[None, :]).copy(), transition.copy()

    def _em(
        self,
        y: FloatArray,
        means: FloatArray,
        variances: FloatArray,
        transition: FloatArray,
        floor: FloatArray,
        max_iter: int,
        tol: float,
        polish: bool,
    ) -> GaussianHMMResult:
        k = self.k_regimes
        llf_old = -np.inf
        converged = False
        llf = -np.inf
        it = 0
        for it in range(1, max_iter + 1):
            log_em = _log_emission(y, means, variances)
            filtered, _, llf = hamilton_filter(log_em, transition)
            smoothed, xi_sum = _backward(transition, filtered)
            if llf - llf_old < tol and it > 1:
                converged = True
                break
            llf_old = llf
            row = xi_sum.sum(axis=1, keepdims=True)
            transition = np.divide(xi_sum, row, out=np.full_like(xi_sum, 1.0 / k), where=row > 0)
            means, variances = self._m_step_emission(y, smoothed, floor)
        # EM's M-step treats the first regime's distribution as free; the likelihood reported
        # (like statsmodels') starts from the steady state, so finish with a direct
        # maximisation of that likelihood from the EM solution (statsmodels does the same).
        if polish:
            means, variances, transition = self._polish(y, means, variances, transition, floor)
        filtered, _, llf = hamilton_filter(_log_emission(y, means, variances), transition)
        return GaussianHMMResult(
            means, variances, transition, filtered, llf, it, converged, self.covariance
        )

    def _polish(
        self,
        y: FloatArray,
        means: FloatArray,
        variances: FloatArray,
        transition: FloatArray,
        floor: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        k, d = means.shape
        tied = self.covariance == "tied"

        def unpack(theta: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
            logits = np.concatenate([theta[: k * (k - 1)].reshape(k, k - 1), np.zeros((k, 1))], 1)
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            rest = theta[k * (k - 1) :]
            m = rest[: k * d].reshape(k, d)
            logv = rest[k * d :]
            v = np.exp(np.broadcast_to(logv.reshape(1, d) if tied else logv.reshape(k, d), (k, d)))
            return m, np.maximum(v, floor[None, :]), p

        p0 = np.clip(transition, 1e-10, 1.0)
        logits0 = np.log(p0[:, :-1]) - np.log(p0[:, -1:])
        logv0 = np.log(variances[0] if tied else variances).ravel()
        theta0 = np.concatenate([logits0.ravel(), means.ravel(), logv0])

        def objective(theta: FloatArray) -> float:
            m, v, p = unpack(theta)
            llf = hamilton_filter(_log_emission(y, m, v), p)[2]
            return -llf if np.isfinite(llf) else 1e300

        start = objective(theta0)
        opt = minimize(objective, theta0, method="L-BFGS-B", options={"maxiter": 1000})
        if not np.isfinite(opt.fun) or opt.fun > start:
            return means, variances, transition
        return unpack(np.asarray(opt.x, dtype=float))

    def _m_step_emission(
        self, y: FloatArray, weights: FloatArray, floor: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        w = weights.sum(axis=0)
        w = np.where(w > 0, w, 1e-12)
        means = (weights.T @ y) / w[:, None]
        sq = np.einsum("tk,tkd->kd", weights, (y[:, None, :] - means[None]) ** 2)
        if self.covariance == "tied":
            pooled = sq.sum(axis=0) / y.shape[0]
            variances = np.broadcast_to(np.maximum(pooled, floor), means.shape).copy()
        else:
            variances = np.maximum(sq / w[:, None], floor[None, :])
        return means, variances
