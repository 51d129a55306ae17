"""Return pairs with a known truth, for calibrating and testing the lead-lag estimators.

Every generator takes ``n`` and a ``numpy`` generator and returns ``(leader, follower)`` as two
float arrays of length ``n`` (a burn-in of 250 bars is discarded). The null designs have no
cross-dependence at any lag but differ in what can fool a lead-lag scan: serial correlation,
heavy tails, volatility clustering in each series, and volatility common to both.

``NULL_DESIGNS`` names the grid that ``benchmarks/calibration.py`` measures and the test suite
samples:

=================  =========================================================================
``iid``            independent standard normals
``garch_t``        independent GARCH(1,1) with Student-t(5) shocks (omega 0.05, alpha 0.10,
                   beta 0.85)
``common_vol``     one GARCH-t variance path scaling two independent t(5) shock series
``ar02``, ``ar04`` independent AR(1) normals, phi 0.2 and 0.4
``ar02_common_vol`` AR(1) phi 0.2 on top of ``common_vol``
=================  =========================================================================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import lfilter

from havenflow.exceptions import DataValidationError

__all__ = ["NULL_DESIGNS", "garch_t", "null_pair", "planted_pair"]

_BURN = 250


def _t_shocks(size: int, rng: np.random.Generator, nu: float = 5.0) -> np.ndarray:
    """Student-t shocks scaled to unit variance."""
    return np.asarray(rng.standard_t(nu, size=size) / np.sqrt(nu / (nu - 2.0)), dtype=float)


def _garch_path(
    shocks: np.ndarray, omega: float = 0.05, alpha: float = 0.10, beta: float = 0.85
) -> tuple[np.ndarray, np.ndarray]:
    """GARCH(1,1) returns and conditional volatilities driven by ``shocks``."""
    n = len(shocks)
    out = np.empty(n)
    vol = np.empty(n)
    var = omega / (1.0 - alpha - beta)
    for t in range(n):  # a recursion: n is a few thousand at most here
        vol[t] = np.sqrt(var)
        out[t] = vol[t] * shocks[t]
        var = omega + alpha * out[t] ** 2 + beta * var
    return out, vol


def garch_t(n: int, rng: np.random.Generator) -> np.ndarray:
    """A GARCH(1,1)-t(5) return series of length ``n`` (heavy tails, volatility clustering)."""
    return _garch_path(_t_shocks(n + _BURN, rng))[0][_BURN:]


def _ar1(e: np.ndarray, phi: float) -> np.ndarray:
    return np.asarray(lfilter([1.0], [1.0, -phi], e), dtype=float)


def _iid(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal(n), rng.standard_normal(n)


def _garch_pair(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return garch_t(n, rng), garch_t(n, rng)


def _common_vol_raw(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    _, vol = _garch_path(_t_shocks(n, rng))
    return vol * _t_shocks(n, rng), vol * _t_shocks(n, rng)


def _common_vol(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x, y = _common_vol_raw(n + _BURN, rng)
    return x[_BURN:], y[_BURN:]


def _ar_design(phi: float) -> Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]:
    def design(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        e = rng.standard_normal((2, n + _BURN))
        return _ar1(e[0], phi)[_BURN:], _ar1(e[1], phi)[_BURN:]

    return design


def _ar_common_vol(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x, y = _common_vol_raw(n + _BURN, rng)
    return _ar1(x, 0.2)[_BURN:], _ar1(y, 0.2)[_BURN:]


NULL_DESIGNS: dict[str, Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]] = {
    "iid": _iid,
    "garch_t": _garch_pair,
    "common_vol": _common_vol,
    "ar02": _ar_design(0.2),
    "ar04": _ar_design(0.4),
    "ar02_common_vol": _ar_common_vol,
}


def null_pair(design: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A leader and a follower with no cross-dependence at any lag (see ``NULL_DESIGNS``).

    Parameters
    ----------
    design
        A key of ``NULL_DESIGNS``.
    n
        Observations.
    rng
        The random generator.
    """
    if design not in NULL_DESIGNS:
        raise DataValidationError(
            f"design must be one of {', '.join(NULL_DESIGNS)}, got {design!r}"
        )
    return NULL_DESIGNS[design](n, rng)


def planted_pair(
    n: int, rng: np.random.Generator, lag: int = 5, beta: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """GARCH-t leader and follower with ``follower_t = beta * leader_{t-lag} + noise_t``.

    The noise is an independent GARCH-t series, so the true lead is ``lag`` bars (positive:
    the leader moves first) with a correlation of about ``beta / sqrt(1 + beta^2)``.
    """
    if lag < 0:
        raise DataValidationError(f"lag must be >= 0 (the leader moves first), got {lag}")
    leader = garch_t(n + lag, rng)
    noise = garch_t(n, rng)
    return leader[lag:], beta * leader[:n] + noise
