"""Conditional outlook for a target's forward return, with walk-forward skill (claim C11).

Three forecasters of the distribution of the target's h-bar forward log return, each fitted
only on (state, outcome) pairs whose outcome was known at the forecast origin:

- **baseline**: the unconditional distribution of every past h-bar return (expanding window);
- **analogues**: the outcomes of the ``k`` past weeks whose standardised state was nearest to
  today's, at least a month apart from each other (one episode counts once);
- **quantile regression**: linear quantile regression of the outcome on the state, one line per
  quantile level, solved exactly for all levels at once by an interior-point method (the test
  suite checks it against statsmodels' ``QuantReg`` and scipy's LP solver), with quantiles
  sorted afterwards so that they cannot cross;
- **combined**: the average of the analogue and regression quantile functions.

The walk-forward evaluation re-estimates every forecaster at each month end with data up to that
month end only, forecasts, and scores the forecasts whose outcome is known by the as-of date:
CRPS (from the quantile grid: the midpoint rule on ten equal cells of [0, 1]) and Brier scores,
as skill against the baseline, with a Diebold-Mariano test whose HAC variance allows for the
overlap of monthly forecasts of multi-month returns. The outlook shown is the conditional one
only if its skill is significant after a Bonferroni correction for the three candidates;
otherwise it is the baseline, and the result says so.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from havenflow.analytics.results import Result
from havenflow.analytics.reuse import reused
from havenflow.exceptions import DataValidationError, InsufficientDataError

if TYPE_CHECKING:
    from havenflow.analytics.regime import PhaseResult

__all__ = [
    "CONDITIONAL_METHODS",
    "QUANTILE_LEVELS",
    "ConditionalOutlook",
    "OutlookResult",
    "OutlookSpec",
    "cdf_from_quantiles",
    "crps_from_quantiles",
    "outlook_features",
    "quantile_regression",
]

FloatArray = NDArray[np.float64]

#: Ten equal cells of [0, 1] (their midpoints carry the CRPS) plus the median.
CRPS_LEVELS = np.round(np.arange(0.05, 1.0, 0.1), 2)
QUANTILE_LEVELS = np.unique(np.concatenate([CRPS_LEVELS, [0.5]]))
REPORTED_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
CONDITIONAL_METHODS = ("analogues", "quantile_regression", "combined")
EVENTS = {
    "up": (">", 0.0),
    "up_10": (">", math.log(1.10)),
    "down_10": ("<", math.log(0.90)),
}
HORIZON_LABELS = {21: "1M", 63: "3M", 126: "6M"}


def quantile_regression(
    x: FloatArray,
    y: FloatArray,
    levels: FloatArray,
    *,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> tuple[FloatArray, int]:
    """Linear quantile regression at several levels at once, solved exactly.

    The dual linear programme of quantile regression (Koenker 2005, section 6.2),
    ``max y'a  s.t.  X'a = (1 - tau) X'1,  0 <= a <= 1``, is solved for every level by a
    primal-dual interior-point method with Mehrotra's predictor-corrector (the Frisch-Newton
    scheme of R's ``quantreg::rq.fit.fnb``); the coefficients are the multipliers of the
    equality constraints. Each level is iterated by a compiled kernel (numba) whose steps are
    ``p x p`` solves, so a dozen iterations fit eleven levels in about a millisecond. The kernel
    is checked against ``_quantile_regression_numpy`` (the same algorithm in numpy, the slow
    oracle), scipy's HiGHS solution of the same LP and statsmodels' ``QuantReg``.

    Parameters
    ----------
    x
        ``(n, p)`` design (include a constant column yourself).
    y
        ``(n,)`` outcomes.
    levels
        ``(L,)`` quantile levels in (0, 1).
    max_iter, tol
        Stop a level when its duality gap is below ``tol`` times the scale of ``y``.

    Returns
    -------
    tuple
        ``(L, p)`` coefficients and the number of iterations used (the most over the levels).

    Notes
    -----
    The kernel and the oracle add their sums in different orders (SIMD here, BLAS there), so
    they agree to rounding: about 1e-15 relative on random designs. Where a level's optimum
    is not unique (ties, dummy regressors), the point at which the gap criterion stops moves
    with rounding along the optimal face: up to about 1e-6 relative in the report's
    walk-forward, as much as the oracle moves when the rows are merely reordered, with equal
    objectives.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    c, b, a, slack, dual, z, w, scale = _starting_point(x, y, levels)
    iterations = _qr_kernel(x, c, b, a, slack, dual, z, w, tol * scale, int(max_iter))
    it = int(iterations.max()) if iterations.size else min(1, max_iter)
    return -dual, it


def _starting_point(
    x: FloatArray, y: FloatArray, levels: FloatArray
) -> tuple[
    FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, float
]:
    """Objective, right-hand sides and the primal- and dual-feasible start of every level."""
    n = x.shape[0]
    tau = np.asarray(levels, dtype=float)[:, None]
    if np.any(tau <= 0) or np.any(tau >= 1):
        raise DataValidationError("quantile levels must lie strictly between 0 and 1")
    c = -np.asarray(y, dtype=float)
    b = (1.0 - tau) * x.sum(axis=0)[None, :]
    a = np.repeat(1.0 - tau, n, axis=1)  # primal a, feasible from the start
    slack = 1.0 - a
    dual = np.tile(np.linalg.lstsq(x, c, rcond=None)[0], (len(tau), 1))
    r = c[None, :] - dual @ x.T
    shift = 0.1 * float(np.mean(np.abs(r))) + 1e-8
    z = np.maximum(r, 0.0) + shift  # z - w = r: the start is dual feasible
    w = np.maximum(-r, 0.0) + shift
    scale = 1.0 + float(np.abs(c).sum())
    return c, b, a, slack, dual, z, w, scale


def _quantile_regression_numpy(
    x: FloatArray,
    y: FloatArray,
    levels: FloatArray,
    *,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> tuple[FloatArray, int]:
    """``quantile_regression`` in numpy, all levels batched: the slow oracle of the kernel.

    Same start, steps, ridge, step factor and stopping rule per level; the tests check that
    the two agree.
    """
    n, p = x.shape
    c, b, a, slack, dual, z, w, scale = _starting_point(x, y, levels)
    tau = np.asarray(levels, dtype=float)
    done = np.zeros(len(tau), dtype=bool)
    it = 0
    for step in range(1, max_iter + 1):
        it = step
        gap = (a * z).sum(axis=1) + (slack * w).sum(axis=1)
        rp = b - a @ x
        # A level stops once its duality gap closes; iterating further only drives its
        # variables to zero and its normal equations to overflow.
        # (The start is primal feasible and every step keeps it so up to rounding, which grows
        # near the boundary: the gap alone decides.)
        done |= gap < tol * scale
        if done.all():
            break
        k = np.flatnonzero(~done)
        ak, sk, zk, wk, dk = a[k], slack[k], z[k], w[k], dual[k]
        rdk = c[None, :] - dk @ x.T - zk + wk
        rpk = rp[k]
        with np.errstate(over="ignore", divide="ignore"):
            # A variable at its bound has weight 0 (1 / inf); that is the right limit.
            theta = 1.0 / (zk / ak + wk / sk)
        normal = (x.T[None, :, :] * theta[:, None, :]) @ x
        # A relative ridge keeps the batch solvable when two columns nearly collide.
        ridge = 1e-11 * np.trace(normal, axis1=1, axis2=2)[:, None, None] / p
        normal = normal + ridge * np.eye(p)[None]

        def direction(
            rxz: FloatArray,
            rsw: FloatArray,
            ak: FloatArray = ak,
            sk: FloatArray = sk,
            zk: FloatArray = zk,
            wk: FloatArray = wk,
            rdk: FloatArray = rdk,
            rpk: FloatArray = rpk,
            theta: FloatArray = theta,
            normal: FloatArray = normal,
        ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
            g = rxz / ak - rsw / sk - rdk
            rhs = rpk - (theta * g) @ x
            dy = np.asarray(np.linalg.solve(normal, rhs[:, :, None])[:, :, 0], dtype=float)
            da = theta * (dy @ x.T + g)
            return da, dy, (rxz - zk * da) / ak, (rsw + wk * da) / sk

        da, dy, dz, dw = direction(-ak * zk, -sk * wk)
        ap, ad = _step(ak, sk, zk, wk, da, dz, dw)
        affine = ((ak + ap * da) * (zk + ad * dz)).sum(axis=1) + (
            (sk - ap * da) * (wk + ad * dw)
        ).sum(axis=1)
        gk = gap[k]
        target = ((affine / gk) ** 3 * gk / (2 * n))[:, None]
        da, dy, dz, dw = direction(target - ak * zk - da * dz, target - sk * wk + da * dw)
        ap, ad = _step(ak, sk, zk, wk, da, dz, dw)
        ap, ad = 0.99995 * ap, 0.99995 * ad
        a[k] = ak + ap * da
        slack[k] = sk - ap * da
        dual[k] = dk + ad * dy
        z[k] = zk + ad * dz
        w[k] = wk + ad * dw
    return -dual, it


def _step(
    a: FloatArray,
    slack: FloatArray,
    z: FloatArray,
    w: FloatArray,
    da: FloatArray,
    dz: FloatArray,
    dw: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Longest primal and dual steps (at most 1) that keep every variable non-negative."""

    def ratio(v: FloatArray, dv: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(dv < 0, -v / dv, np.inf)
        return np.asarray(np.minimum(1.0, t.min(axis=1)), dtype=float)

    primal = np.minimum(ratio(a, da), ratio(slack, -da))[:, None]
    dual = np.minimum(ratio(z, dz), ratio(w, dw))[:, None]
    return primal, dual


@numba.njit(cache=True, error_model="numpy")
def _qr_kernel(
    x: FloatArray,
    c: FloatArray,
    b: FloatArray,
    a: FloatArray,
    slack: FloatArray,
    dual: FloatArray,
    z: FloatArray,
    w: FloatArray,
    threshold: float,
    max_iter: int,
) -> NDArray[np.int64]:  # pragma: no cover - compiled; checked against the numpy oracle
    """Iterate every level (row of ``a, slack, dual, z, w``, updated in place) to its optimum.

    The arithmetic is ``_quantile_regression_numpy``'s, one level at a time: a level stops at
    the first iteration whose duality gap is below ``threshold``; the iterations are returned.
    The levels run one after the other: on two cores, threads over levels (``prange``) lost
    more to scheduling, whenever another process was busy, than they gained.
    """
    levels = a.shape[0]
    xt = np.ascontiguousarray(x.T)  # the sums over observations then read contiguous rows
    iterations = np.zeros(levels, dtype=np.int64)
    for level in range(levels):
        iterations[level] = _qr_level(
            xt,
            c,
            b[level],
            a[level],
            slack[level],
            dual[level],
            z[level],
            w[level],
            threshold,
            max_iter,
        )
    return iterations


@numba.njit(cache=True, error_model="numpy")
def _qr_level(
    xt: FloatArray,
    c: FloatArray,
    b: FloatArray,
    a: FloatArray,
    s: FloatArray,
    d: FloatArray,
    z: FloatArray,
    w: FloatArray,
    threshold: float,
    max_iter: int,
) -> int:  # pragma: no cover - compiled; checked against the numpy oracle
    """Iterate one level in place; the arithmetic of ``_quantile_regression_numpy``."""
    p, n = xt.shape
    rd = np.empty(n)
    theta = np.empty(n)
    rxz = np.empty(n)
    rsw = np.empty(n)
    g = np.empty(n)
    work = np.empty(n)
    da = np.empty(n)
    dz = np.empty(n)
    dw = np.empty(n)
    rp = np.empty(p)
    rhs = np.empty(p)
    normal = np.empty((p, p))
    it = 0
    for step in range(1, max_iter + 1):
        it = step
        gap = _dot(a, z) + _dot(s, w)
        if gap < threshold:
            break
        _xt_dot(xt, a, rp)
        for j in range(p):
            rp[j] = b[j] - rp[j]
        _x_dot(xt, d, work)
        for i in range(n):
            rd[i] = c[i] - work[i] - z[i] + w[i]
            # A variable at its bound has weight 0 (1 / inf); that is the right limit.
            theta[i] = 1.0 / (z[i] / a[i] + w[i] / s[i])
            rxz[i] = -a[i] * z[i]
            rsw[i] = -s[i] * w[i]
        _gram(xt, theta, work, normal)
        # A relative ridge keeps the system solvable when two columns nearly collide.
        trace = 0.0
        for j in range(p):
            trace += normal[j, j]
        ridge = 1e-11 * trace / p
        for j in range(p):
            normal[j, j] = normal[j, j] + ridge
        piv = _lu_factor(normal)  # once for the predictor and the corrector
        # Predictor (affine scaling).
        _direction(xt, a, s, z, w, rd, rp, theta, normal, piv, rxz, rsw, g, work, rhs, da, dz, dw)
        ap, ad = _steps(a, s, z, w, da, dz, dw)
        affine = _affine(a, s, z, w, da, dz, dw, ap, ad)
        target = (affine / gap) ** 3.0 * gap / (2 * n)
        # Mehrotra's corrector.
        for i in range(n):
            rxz[i] = target - a[i] * z[i] - da[i] * dz[i]
            rsw[i] = target - s[i] * w[i] + da[i] * dw[i]
        dy = _direction(
            xt, a, s, z, w, rd, rp, theta, normal, piv, rxz, rsw, g, work, rhs, da, dz, dw
        )
        ap, ad = _steps(a, s, z, w, da, dz, dw)
        ap = 0.99995 * ap
        ad = 0.99995 * ad
        for i in range(n):
            a[i] = a[i] + ap * da[i]
            s[i] = s[i] - ap * da[i]
            z[i] = z[i] + ad * dz[i]
            w[i] = w[i] + ad * dw[i]
        for j in range(p):
            d[j] = d[j] + ad * dy[j]
    return it


@numba.njit(cache=True, error_model="numpy")
def _direction(
    xt: FloatArray,
    a: FloatArray,
    s: FloatArray,
    z: FloatArray,
    w: FloatArray,
    rd: FloatArray,
    rp: FloatArray,
    theta: FloatArray,
    lu: FloatArray,
    piv: NDArray[np.int64],
    rxz: FloatArray,
    rsw: FloatArray,
    g: FloatArray,
    work: FloatArray,
    rhs: FloatArray,
    da: FloatArray,
    dz: FloatArray,
    dw: FloatArray,
) -> FloatArray:  # pragma: no cover - compiled
    """Newton direction for complementarity targets ``rxz, rsw``: fills ``da, dz, dw``."""
    n = a.shape[0]
    for i in range(n):
        g[i] = rxz[i] / a[i] - rsw[i] / s[i] - rd[i]
        work[i] = theta[i] * g[i]
    _xt_dot(xt, work, rhs)
    for j in range(rhs.shape[0]):
        rhs[j] = rp[j] - rhs[j]
    dy = _lu_solve(lu, piv, rhs)
    _x_dot(xt, dy, work)
    for i in range(n):
        da[i] = theta[i] * (work[i] + g[i])
        dz[i] = (rxz[i] - z[i] * da[i]) / a[i]
        dw[i] = (rsw[i] + w[i] * da[i]) / s[i]
    return dy


# The sums over observations below may be reordered (SIMD) and fused (multiply-add) by the
# compiler, as the BLAS calls of the numpy oracle reorder and fuse theirs.


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _dot(u: FloatArray, v: FloatArray) -> float:  # pragma: no cover - compiled
    total = 0.0
    for i in range(u.shape[0]):
        total += u[i] * v[i]
    return total


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _affine(
    a: FloatArray,
    s: FloatArray,
    z: FloatArray,
    w: FloatArray,
    da: FloatArray,
    dz: FloatArray,
    dw: FloatArray,
    ap: float,
    ad: float,
) -> float:  # pragma: no cover - compiled
    """The duality gap after the predictor step."""
    first = 0.0
    second = 0.0
    for i in range(a.shape[0]):
        first += (a[i] + ap * da[i]) * (z[i] + ad * dz[i])
        second += (s[i] - ap * da[i]) * (w[i] + ad * dw[i])
    return first + second


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _xt_dot(xt: FloatArray, v: FloatArray, out: FloatArray) -> None:  # pragma: no cover
    """``out = X'v`` from the transposed design ``xt``."""
    for j in range(xt.shape[0]):
        total = 0.0
        for i in range(xt.shape[1]):
            total += xt[j, i] * v[i]
        out[j] = total


@numba.njit(cache=True, error_model="numpy")
def _x_dot(xt: FloatArray, v: FloatArray, out: FloatArray) -> None:  # pragma: no cover
    """``out = X v`` from the transposed design ``xt``."""
    n = xt.shape[1]
    for i in range(n):
        out[i] = 0.0
    for j in range(xt.shape[0]):
        vj = v[j]
        for i in range(n):
            out[i] += vj * xt[j, i]


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _gram(
    xt: FloatArray, theta: FloatArray, work: FloatArray, out: FloatArray
) -> None:  # pragma: no cover - compiled
    """``out = X' diag(theta) X`` (symmetric) from the transposed design ``xt``."""
    p, n = xt.shape
    for j in range(p):
        for i in range(n):
            work[i] = xt[j, i] * theta[i]
        for k in range(j, p):
            total = 0.0
            for i in range(n):
                total += work[i] * xt[k, i]
            out[j, k] = total
            out[k, j] = total


@numba.njit(cache=True, error_model="numpy")
def _steps(
    a: FloatArray,
    s: FloatArray,
    z: FloatArray,
    w: FloatArray,
    da: FloatArray,
    dz: FloatArray,
    dw: FloatArray,
) -> tuple[float, float]:  # pragma: no cover - compiled
    """``_step`` for one level: the longest primal and dual steps, at most 1."""
    primal = 1.0
    dual = 1.0
    for i in range(a.shape[0]):
        primal = _ratio(primal, a[i], da[i])
        primal = _ratio(primal, s[i], -da[i])
        dual = _ratio(dual, z[i], dz[i])
        dual = _ratio(dual, w[i], dw[i])
    return primal, dual


@numba.njit(cache=True, error_model="numpy")
def _ratio(current: float, v: float, dv: float) -> float:  # pragma: no cover - compiled
    # numpy's minimum propagates NaN: so does this.
    if dv < 0:
        t = -v / dv
        if t < current or t != t:
            return t
    return current


@numba.njit(cache=True, error_model="numpy")
def _lu_factor(m: FloatArray) -> NDArray[np.int64]:  # pragma: no cover - compiled
    """In-place LU factorisation with partial pivoting (LAPACK's ``getrf``, unblocked)."""
    p = m.shape[0]
    piv = np.empty(p, dtype=np.int64)
    for k in range(p):
        best = k
        big = abs(m[k, k])
        for i in range(k + 1, p):
            if abs(m[i, k]) > big:
                big = abs(m[i, k])
                best = i
        piv[k] = best
        if best != k:
            for j in range(p):
                m[k, j], m[best, j] = m[best, j], m[k, j]
        inv = 1.0 / m[k, k]
        for i in range(k + 1, p):
            m[i, k] = m[i, k] * inv
        for i in range(k + 1, p):
            f = m[i, k]
            for j in range(k + 1, p):
                m[i, j] = m[i, j] - f * m[k, j]
    return piv


@numba.njit(cache=True, error_model="numpy")
def _lu_solve(
    m: FloatArray, piv: NDArray[np.int64], rhs: FloatArray
) -> FloatArray:  # pragma: no cover - compiled
    """Solve ``m x = rhs`` given ``_lu_factor``'s factors and pivots."""
    p = m.shape[0]
    out = rhs.copy()
    for k in range(p):
        if piv[k] != k:
            out[k], out[piv[k]] = out[piv[k]], out[k]
    for i in range(p):
        acc = out[i]
        for j in range(i):
            acc -= m[i, j] * out[j]
        out[i] = acc
    for i in range(p - 1, -1, -1):
        acc = out[i]
        for j in range(i + 1, p):
            acc -= m[i, j] * out[j]
        out[i] = acc / m[i, i]
    return out


def pinball(y: FloatArray | float, q: FloatArray, levels: FloatArray) -> FloatArray:
    """Quantile (pinball) loss of quantile forecasts ``q`` at ``levels`` for outcome ``y``."""
    u = np.asarray(y, dtype=float)[..., None] - q
    return np.asarray(u * (levels - (u < 0)), dtype=float)


def crps_from_quantiles(y: float, quantiles: FloatArray, levels: FloatArray) -> float:
    """CRPS approximated from quantiles at the midpoints of equal cells of [0, 1].

    ``CRPS = 2 * integral of the pinball loss over levels``; the midpoint rule on the cells.
    """
    return float(2.0 * np.mean(pinball(y, quantiles, levels)))


def cdf_from_quantiles(x: float, quantiles: FloatArray, levels: FloatArray) -> float:
    """P(Y <= x) by linear interpolation of the quantile function (tails: half a cell)."""
    lo = float(levels[0]) / 2.0
    hi = 1.0 - (1.0 - float(levels[-1])) / 2.0
    return float(np.interp(x, quantiles, levels, left=lo, right=hi))


def _event_probs_from_quantiles(quantiles: FloatArray, levels: FloatArray) -> dict[str, float]:
    out = {}
    for name, (op, thr) in EVENTS.items():
        cdf = cdf_from_quantiles(thr, quantiles, levels)
        out[name] = 1.0 - cdf if op == ">" else cdf
    return out


def _event_probs_from_sample(sample: FloatArray) -> dict[str, float]:
    out = {}
    for name, (op, thr) in EVENTS.items():
        out[name] = float(np.mean(sample > thr if op == ">" else sample < thr))
    return out


@dataclass(frozen=True)
class OutlookSpec:
    """Parameters of the outlook.

    Parameters
    ----------
    horizons
        Forward horizons in trading days (21, 63, 126: one, three, six months).
    k_analogues
        Number of nearest past weeks in the analogue forecaster.
    min_train
        Fewest (state, outcome) pairs needed before a forecast is made.
    alpha
        Size of the test that the conditional outlook beats the baseline (Bonferroni-corrected
        over the three conditional forecasters).
    """

    horizons: tuple[int, ...] = (21, 63, 126)
    k_analogues: int = 30
    min_train: int = 104
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if not self.horizons or min(self.horizons) < 1:
            raise DataValidationError("outlook horizons must be positive bar counts")
        if self.k_analogues < 5:
            raise DataValidationError("outlook needs k_analogues >= 5")
        if self.min_train < 20:
            raise DataValidationError("outlook needs min_train >= 20")


@dataclass(frozen=True)
class Forecast:
    """One forecaster's predictive distribution at one origin and horizon."""

    quantiles: FloatArray
    probs: dict[str, float]


@dataclass(frozen=True)
class OutlookResult(Result):
    """The outlook on ``asof`` and its walk-forward record (read-only)."""

    kind = "outlook"

    target: str
    asof: pd.Timestamp
    spec: OutlookSpec
    state: dict[str, Any]
    current: dict[int, dict[str, Forecast]]
    n_train: dict[int, int]
    analogue_dates: dict[int, list[str]]
    records: pd.DataFrame
    skill: dict[int, dict[str, Any]]
    chosen: dict[int, str]
    reliability: dict[int, list[dict[str, Any]]]
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """The walk-forward record: one row per (origin, horizon, method)."""
        return self.records.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``havenflow outlook --json``)."""
        horizons = []
        for h in self.spec.horizons:
            if h not in self.current:
                horizons.append({"horizon": h, "label": HORIZON_LABELS.get(h, f"{h}d")})
                continue
            chosen = self.chosen[h]
            fc = self.current[h][chosen]
            base = self.current[h]["baseline"]
            best = self.skill[h]["best_conditional"]
            cond = self.current[h][best] if best else None
            horizons.append(
                {
                    "horizon": h,
                    "label": HORIZON_LABELS.get(h, f"{h}d"),
                    "method": chosen,
                    "edge": chosen != "baseline",
                    "p_up": fc.probs["up"],
                    "p_up_10": fc.probs["up_10"],
                    "p_down_10": fc.probs["down_10"],
                    "quantiles": _quantile_dict(fc.quantiles),
                    "baseline_p_up": base.probs["up"],
                    "baseline_p_up_10": base.probs["up_10"],
                    "baseline_p_down_10": base.probs["down_10"],
                    "baseline_quantiles": _quantile_dict(base.quantiles),
                    "conditional": None
                    if cond is None
                    else {
                        "method": best,
                        "p_up": cond.probs["up"],
                        "p_up_10": cond.probs["up_10"],
                        "p_down_10": cond.probs["down_10"],
                        "quantiles": _quantile_dict(cond.quantiles),
                    },
                    "n_train": self.n_train[h],
                    "nearest_analogues": self.analogue_dates[h],
                }
            )
        return {
            "asof": self.asof.date().isoformat(),
            "target": self.target,
            "return_definition": "log return of the target over h trading days; probabilities "
            "of a rise, of a rise above +10% and of a fall below -10% (simple returns)",
            "state": self.state,
            "horizons": horizons,
            "skill": {str(h): self.skill[h] for h in self.spec.horizons if h in self.skill},
            "reliability": {str(h): v for h, v in self.reliability.items()},
            "verdict": self.verdict(),
            "notes": list(self.notes),
            "spec": {
                "horizons": list(self.spec.horizons),
                "k_analogues": self.spec.k_analogues,
                "min_train": self.spec.min_train,
                "alpha": self.spec.alpha,
                "quantile_levels": QUANTILE_LEVELS.tolist(),
            },
        }

    def verdict(self) -> str:
        """One plain sentence on whether the conditional outlook has an out-of-sample edge."""
        parts = []
        for h in self.spec.horizons:
            sk = self.skill.get(h)
            label = HORIZON_LABELS.get(h, f"{h}d")
            if sk is None or sk["n_forecasts"] == 0:
                parts.append(f"{label}: not enough history to evaluate")
                continue
            best = sk["best_conditional"]
            m = sk["methods"][best]
            if self.chosen[h] == "baseline":
                parts.append(
                    f"{label}: no edge (best conditional model, {best}, CRPS skill "
                    f"{m['crps_skill']:+.1%}, p {m['dm_pvalue']:.2f} over "
                    f"{sk['n_forecasts']} forecasts); the baseline is shown"
                )
            else:
                parts.append(
                    f"{label}: {best} beats the baseline (CRPS skill {m['crps_skill']:+.1%}, "
                    f"p {m['dm_pvalue']:.3f})"
                )
        return "; ".join(parts)

    def _summary_text(self) -> str:
        """Text summary."""
        d = self.to_dict()
        lines = [f"Outlook for {self.target} on {d['asof']}: {d['verdict']}"]
        for h in d["horizons"]:
            if "p_up" not in h:
                lines.append(f"  {h['label']}: not enough history")
                continue
            q = h["quantiles"]
            lines.append(
                f"  {h['label']} ({h['method']}): P(up) {h['p_up']:.0%} vs baseline "
                f"{h['baseline_p_up']:.0%}; P(>+10%) {h['p_up_10']:.0%}; P(<-10%) "
                f"{h['p_down_10']:.0%}; median {_pct(q['50'])}, 5-95% "
                f"[{_pct(q['5'])}, {_pct(q['95'])}]"
            )
            cond = h["conditional"]
            if cond is not None and not h["edge"]:
                lines.append(
                    f"      conditional ({cond['method']}, not used: no out-of-sample edge): "
                    f"P(up) {cond['p_up']:.0%}, median {_pct(cond['quantiles']['50'])}"
                )
        return "\n".join(lines)


def _pct(log_ret: float) -> str:
    return f"{math.expm1(log_ret):+.1%}"


def _quantile_dict(q: FloatArray) -> dict[str, float]:
    return {
        f"{round(level * 100)}": float(q[int(np.argmin(np.abs(QUANTILE_LEVELS - level)))])
        for level in REPORTED_LEVELS
    }


@dataclass(frozen=True)
class ConditionalOutlook:
    """Outlook of ``target`` (levels on a trading-day calendar) given ``features``.

    Parameters
    ----------
    target
        The target's levels (strictly positive), indexed like ``features``.
    features
        State variables per date, each computed from data up to that date.
    spec
        Horizons, analogue count, minimum training size, test size.
    target_name
        Name used in the output.
    """

    target: pd.Series
    features: pd.DataFrame
    spec: OutlookSpec = field(default_factory=OutlookSpec)
    target_name: str = "target"

    @classmethod
    def from_levels(
        cls,
        levels: pd.DataFrame,
        target: str,
        spec: OutlookSpec | None = None,
        *,
        rules: PhaseResult | None = None,
    ) -> ConditionalOutlook:
        """The outlook of ``target`` in the state that ``levels`` imply on every date.

        ``levels``: the phase indicators' series (``havenflow.services.PHASE_SERIES``) and the
        target on trading days. The state (phase, divergence, breakout, momentum...) of each
        date uses data up to that date.
        """
        from havenflow.analytics.regime import PhaseClassifier

        if target not in levels:
            raise DataValidationError(f"levels have no column {target!r}")
        if rules is None:
            rules = PhaseClassifier(levels).fit()
        feats = outlook_features(levels, rules.indicators, rules.phase, target)
        return cls(
            levels[target].reindex(feats.index),
            feats,
            spec or OutlookSpec(),
            target_name=target,
        )

    def _arrays(self) -> tuple[pd.DatetimeIndex, FloatArray, FloatArray]:
        if not self.target.index.equals(self.features.index):
            raise DataValidationError("outlook: target and features need the same index")
        lp = np.log(self.target.to_numpy(dtype=float))
        x = self.features.to_numpy(dtype=float)
        return pd.DatetimeIndex(self.target.index), lp, x

    def fit(self) -> OutlookResult:
        """Walk forward over month ends up to the last date, then forecast from the last date."""
        index, lp, x = self._arrays()
        n = len(index)
        if n == 0 or not np.isfinite(lp[-1]):
            raise InsufficientDataError(
                f"outlook: {self.target_name} has no value on the last date"
            )
        weekly = np.flatnonzero(index.day_of_week == 4)
        month = np.asarray(index.year * 12 + index.month)
        # The last trading day of each month (the last date itself is the live forecast).
        month_end = np.flatnonzero(month[:-1] != month[1:])
        complete = np.isfinite(x).all(axis=1) & np.isfinite(lp)
        rows: list[dict[str, Any]] = []
        qcols = [f"q{lv:.2f}" for lv in QUANTILE_LEVELS]
        current: dict[int, dict[str, Forecast]] = {}
        n_train: dict[int, int] = {}
        analogues: dict[int, list[str]] = {}
        for h in self.spec.horizons:
            fwd = np.full(n, np.nan)
            fwd[: n - h] = lp[h:] - lp[: n - h] if n > h else fwd[:0]
            for j in [*month_end.tolist(), n - 1]:
                if not complete[j]:
                    continue
                # Pairs whose outcome is known at origin j: i + h <= j.
                train = weekly[(weekly + h <= j) & complete[weekly]]
                train = train[np.isfinite(fwd[train])]
                if len(train) < self.spec.min_train:
                    continue
                # The forecast at an origin depends only on these inputs: a verdict timeline
                # judging the note at a later date reuses it (identical inputs, same key).
                x_train, y_train, x_now = x[train], fwd[train], x[j]
                fcs, near = reused(
                    "outlook.forecast",
                    (x_train, y_train, x_now, train, self.spec.k_analogues),
                    functools.partial(self._forecast, x_train, y_train, x_now, train),
                )
                if j == n - 1:
                    current[h] = fcs
                    n_train[h] = len(train)
                    analogues[h] = [index[train[i]].date().isoformat() for i in near[:10]]
                    continue
                outcome = fwd[j] if j + h <= n - 1 else np.nan
                origin = index[j]
                for method, fc in fcs.items():
                    rows.append(
                        {
                            "origin": origin,
                            "horizon": h,
                            "method": method,
                            "outcome": outcome,
                            **dict(zip(qcols, fc.quantiles, strict=True)),
                            **{f"p_{k}": v for k, v in fc.probs.items()},
                        }
                    )
        records = pd.DataFrame(rows)
        skill, chosen, reliability = self._score(records)
        last = pd.Timestamp(index[-1])
        state = {
            c: (None if not np.isfinite(v) else float(v))
            for c, v in zip(self.features.columns, x[-1], strict=True)
        }
        notes = []
        if not current:
            notes.append("no horizon has enough history for a forecast on this date")
        return OutlookResult(
            self.target_name,
            last,
            self.spec,
            state,
            current,
            n_train,
            analogues,
            records,
            skill,
            chosen,
            reliability,
            tuple(notes),
        )

    def _forecast(
        self,
        x_train: FloatArray,
        y_train: FloatArray,
        x_now: FloatArray,
        positions: NDArray[np.intp],
    ) -> tuple[dict[str, Forecast], NDArray[np.intp]]:
        levels = QUANTILE_LEVELS
        out: dict[str, Forecast] = {}
        out["baseline"] = Forecast(np.quantile(y_train, levels), _event_probs_from_sample(y_train))
        mu = x_train.mean(axis=0)
        sd = x_train.std(axis=0)
        keep = sd > 0  # a state variable constant in the sample says nothing
        z_train = (x_train[:, keep] - mu[keep]) / sd[keep]
        z_now = (x_now[keep] - mu[keep]) / sd[keep]
        dist = np.sqrt(((z_train - z_now) ** 2).sum(axis=1))
        near = _declustered(np.argsort(dist, kind="stable"), positions, self.spec.k_analogues)
        sample = y_train[near]
        out["analogues"] = Forecast(np.quantile(sample, levels), _event_probs_from_sample(sample))
        design = np.column_stack([np.ones(len(z_train)), z_train])
        beta, _ = quantile_regression(design, y_train, levels)
        # Sorting the fitted quantiles removes crossing (Chernozhukov et al. rearrangement).
        qr_q = np.sort(beta @ np.concatenate([[1.0], z_now]))
        out["quantile_regression"] = Forecast(qr_q, _event_probs_from_quantiles(qr_q, levels))
        comb = 0.5 * (out["analogues"].quantiles + qr_q)
        out["combined"] = Forecast(comb, _event_probs_from_quantiles(comb, levels))
        return out, near

    def _score(
        self, records: pd.DataFrame
    ) -> tuple[dict[int, dict[str, Any]], dict[int, str], dict[int, list[dict[str, Any]]]]:
        skill: dict[int, dict[str, Any]] = {}
        chosen: dict[int, str] = {}
        reliability: dict[int, list[dict[str, Any]]] = {}
        qcols = [f"q{lv:.2f}" for lv in QUANTILE_LEVELS]
        crps_idx = np.isin(np.round(QUANTILE_LEVELS, 2), CRPS_LEVELS)
        for h in self.spec.horizons:
            chosen[h] = "baseline"
            sub = (
                records[(records["horizon"] == h) & records["outcome"].notna()]
                if len(records)
                else records
            )
            if sub.empty:
                skill[h] = {"n_forecasts": 0, "best_conditional": None, "methods": {}}
                reliability[h] = []
                continue
            per: dict[str, pd.DataFrame] = {
                str(m): g.set_index("origin").sort_index() for m, g in sub.groupby("method")
            }
            y = per["baseline"]["outcome"].to_numpy()

            def crps(frame: pd.DataFrame) -> FloatArray:
                q = frame[qcols].to_numpy()[:, crps_idx]
                out = pinball(frame["outcome"].to_numpy(), q, CRPS_LEVELS)
                return np.asarray(2.0 * out.mean(axis=1), dtype=float)

            base_crps = crps(per["baseline"])
            briers_base = {k: _brier(per["baseline"][f"p_{k}"].to_numpy(), y, k) for k in EVENTS}
            # Monthly forecasts of h-day returns overlap: HAC lags cover the overlap.
            lags = max(1, math.ceil(h / 21))
            methods: dict[str, Any] = {
                "baseline": {
                    "crps": float(base_crps.mean()),
                    **{f"brier_{k}": float(v.mean()) for k, v in briers_base.items()},
                }
            }
            for m in CONDITIONAL_METHODS:
                c = crps(per[m])
                d = base_crps - c
                stat, p = _diebold_mariano(d, lags)
                entry: dict[str, Any] = {
                    "crps": float(c.mean()),
                    "crps_skill": float(1.0 - c.mean() / base_crps.mean()),
                    "dm_statistic": stat,
                    "dm_pvalue": p,
                }
                for k in EVENTS:
                    b = _brier(per[m][f"p_{k}"].to_numpy(), y, k)
                    entry[f"brier_{k}"] = float(b.mean())
                    entry[f"brier_skill_{k}"] = float(1.0 - b.mean() / briers_base[k].mean())
                methods[m] = entry
            best = max(CONDITIONAL_METHODS, key=lambda m: methods[m]["crps_skill"])
            bonferroni = self.spec.alpha / len(CONDITIONAL_METHODS)
            p_best = methods[best]["dm_pvalue"]
            if methods[best]["crps_skill"] > 0 and p_best is not None and p_best < bonferroni:
                chosen[h] = best
            skill[h] = {
                "n_forecasts": len(y),
                "first_origin": pd.Timestamp(per["baseline"].index[0]).date().isoformat(),
                "last_origin": pd.Timestamp(per["baseline"].index[-1]).date().isoformat(),
                "hac_lags": lags,
                "best_conditional": best,
                "beats_baseline": chosen[h] != "baseline",
                "test": f"one-sided Diebold-Mariano on CRPS, HAC ({lags} lags), Bonferroni "
                f"over {len(CONDITIONAL_METHODS)} models: p < {bonferroni:.4f}",
                "methods": methods,
            }
            reliability[h] = _reliability(per[best]["p_up"].to_numpy(), y > 0, best) + (
                _reliability(per["baseline"]["p_up"].to_numpy(), y > 0, "baseline")
            )
        return skill, chosen, reliability


def outlook_features(
    levels: pd.DataFrame, indicators: pd.DataFrame, phase: pd.Series, target: str
) -> pd.DataFrame:
    """The state on each date (from data up to that date): what the outlook conditions on.

    ``target_momentum`` (the target's 63-bar log return), ``metals_minus_bitcoin`` (the
    divergence), ``silver_breakout`` (silver closed at a 252-bar high within the last 21 bars),
    ``vix_percentile``, ``real_yield_change`` and ``dollar_change`` (drivers), and dummies for
    phases 1 and 2 (rule-based).
    """
    lv = levels.reindex(indicators.index)
    tgt = pd.Series(np.log(lv[target].to_numpy(dtype=float)), index=lv.index)
    silver = lv["silver"].astype(float)
    prior_high = silver.shift(1).rolling(252, min_periods=252).max()
    at_high = (silver > prior_high).astype(float).where(prior_high.notna())
    out = pd.DataFrame(index=indicators.index)
    out["target_momentum"] = tgt - tgt.shift(63)
    out["metals_minus_bitcoin"] = indicators["metals_minus_bitcoin"]
    out["silver_breakout"] = at_high.rolling(21, min_periods=21).max()
    for col in ("vix_percentile", "real_yield_change", "dollar_change"):
        out[col] = indicators[col]
    ph = phase.reindex(indicators.index).astype("float")
    out["phase_1"] = (ph == 1).astype(float).where(ph.notna())
    out["phase_2"] = (ph == 2).astype(float).where(ph.notna())
    return out


#: Analogues closer than this many bars to an already chosen one are skipped: neighbouring
#: weeks share most of their forward window, so they would count one episode many times.
ANALOGUE_GAP = 21


def _declustered(order: NDArray[np.intp], positions: NDArray[np.intp], k: int) -> NDArray[np.intp]:
    """The first ``k`` of ``order`` whose positions are ``ANALOGUE_GAP`` bars apart."""
    kept: list[int] = []
    if len(order) == 0:
        return np.asarray(kept, dtype=np.intp)
    first = int(positions.min())
    # blocked[pos - first]: within ANALOGUE_GAP - 1 bars of a position already kept.
    blocked = bytearray(int(positions.max()) - first + 1)
    for i, pos in zip(order.tolist(), (positions[order] - first).tolist(), strict=True):
        if not blocked[pos]:
            kept.append(i)
            if len(kept) == k:
                break
            lo, hi = max(0, pos - ANALOGUE_GAP + 1), min(len(blocked), pos + ANALOGUE_GAP)
            blocked[lo:hi] = b"\x01" * (hi - lo)
    return np.asarray(kept, dtype=np.intp)


def _brier(p: FloatArray, y: FloatArray, event: str) -> FloatArray:
    op, thr = EVENTS[event]
    hit = (y > thr) if op == ">" else (y < thr)
    return np.asarray((p - hit) ** 2, dtype=float)


def _diebold_mariano(d: FloatArray, lags: int) -> tuple[float | None, float | None]:
    """One-sided test that the mean loss difference (baseline minus model) is positive."""
    d = np.asarray(d, dtype=float)
    if len(d) < 8 or np.allclose(d, d[0]):
        return None, None
    import statsmodels.api as sm

    res = sm.OLS(d, np.ones(len(d))).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    stat = float(res.tvalues[0])
    return stat, float(stats.norm.sf(stat))


def _reliability(p: FloatArray, hit: NDArray[np.bool_], method: str) -> list[dict[str, Any]]:
    edges = np.linspace(0.0, 1.0, 6)
    rows = []
    for lo, hi in itertools.pairwise(edges):
        sel = (p >= lo) & ((p < hi) | (hi == 1.0))
        rows.append(
            {
                "method": method,
                "bin": f"{lo:.1f}-{hi:.1f}",
                "n": int(sel.sum()),
                "mean_forecast": float(p[sel].mean()) if sel.any() else None,
                "observed_frequency": float(hit[sel].mean()) if sel.any() else None,
            }
        )
    return rows
