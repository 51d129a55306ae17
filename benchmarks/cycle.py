"""Cycle speed: event study, phases, the quantile-regression solver and the outlook walk-forward.

- Event study: bitcoin after ``silver:high(252)`` on the bundled data, 5,000 bootstrap
  replicates (target under 2 s on 2 cores).
- Phases: rules plus the four-regime HMM (``havenflow regime`` without the CLI).
- Quantile regression: 11 levels, 600 observations, 9 regressors: the numba kernel, against
  its numpy oracle (the same algorithm, batched over levels) and the peers: statsmodels
  ``QuantReg`` (one IRLS fit per level) and scipy's HiGHS on the same dual LP. The kernel's
  one-off compile (cold numba cache) is timed in a fresh process.
- Outlook: the full walk-forward evaluation (every month end since 2016, three horizons, four
  forecasters) and the live forecast (target under 60 s on 2 cores).

Run: ``python benchmarks/cycle.py`` (on demand; never part of the test suite).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable

import numpy as np
import statsmodels.api as sm
from scipy.optimize import linprog

from havenflow.analytics.outlook import (
    QUANTILE_LEVELS,
    _quantile_regression_numpy,
    quantile_regression,
)
from havenflow.data.repository import DataRepository
from havenflow.services import run_events, run_outlook, run_regime


def _median_time(fn: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


_COLD_COMPILE = """
import time
import numpy as np
from havenflow.analytics.outlook import QUANTILE_LEVELS, quantile_regression
x = np.column_stack([np.ones(50), np.arange(50.0)])
start = time.perf_counter()
quantile_regression(x, np.sin(np.arange(50.0)), QUANTILE_LEVELS)
print(time.perf_counter() - start)
"""


def _cold_compile_seconds() -> float:
    """The kernel's first call in a fresh process whose numba cache is empty."""
    with tempfile.TemporaryDirectory() as cache:
        out = subprocess.run(
            [sys.executable, "-c", _COLD_COMPILE],
            env={**os.environ, "NUMBA_CACHE_DIR": cache},
            capture_output=True,
            text=True,
            check=True,
        )
    return float(out.stdout.split()[-1])


def main() -> None:
    repo = DataRepository()
    asof = "2026-01-23"
    # Warm the numba caches and the embedded-data reader once.
    run_events(repo, "silver:high(252)", "bitcoin", asof=asof, replicates=99)
    t_events = _median_time(
        lambda: run_events(repo, "silver:high(252)", "bitcoin", asof=asof, replicates=5000)
    )
    print(f"event study, 5,000 replicates: {t_events:.2f} s (target < 2 s)")
    t_regime = _median_time(lambda: run_regime(repo, asof))
    print(f"phases (rules + HMM): {t_regime:.2f} s")

    rng = np.random.default_rng(0)
    n = 600
    x = np.column_stack([np.ones(n), rng.standard_normal((n, 7)), rng.integers(0, 2, n)])
    y = x @ rng.standard_normal(9) * 0.1 + rng.standard_t(4, n) * 0.2
    quantile_regression(x, y, QUANTILE_LEVELS)  # compiled, or loaded from numba's cache
    t_ours = _median_time(lambda: quantile_regression(x, y, QUANTILE_LEVELS), repeats=7)
    t_numpy = _median_time(lambda: _quantile_regression_numpy(x, y, QUANTILE_LEVELS), repeats=7)

    def statsmodels_fits() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for q in QUANTILE_LEVELS:
                sm.QuantReg(y, x).fit(q=q)

    def highs_fits() -> None:
        for q in QUANTILE_LEVELS:
            linprog(-y, A_eq=x.T, b_eq=(1 - q) * x.sum(axis=0), bounds=(0, 1), method="highs")

    t_sm = _median_time(statsmodels_fits)
    t_highs = _median_time(highs_fits)
    print(
        f"quantile regression, 11 levels, n={n}, p=9: {1000 * t_ours:.1f} ms; numpy oracle "
        f"{1000 * t_numpy:.1f} ms ({t_numpy / t_ours:.1f}x); statsmodels QuantReg "
        f"{1000 * t_sm:.1f} ms ({t_sm / t_ours:.1f}x); scipy HiGHS {1000 * t_highs:.1f} ms "
        f"({t_highs / t_ours:.1f}x); one-off compile (empty numba cache) "
        f"{_cold_compile_seconds():.1f} s"
    )
    t_outlook = _median_time(lambda: run_outlook(repo, "bitcoin", asof))
    res = run_outlook(repo, "bitcoin", asof)
    n_fc = sum(res.skill[h]["n_forecasts"] for h in res.skill)
    print(
        f"outlook walk-forward ({n_fc} scored forecasts x 4 forecasters, 3 horizons) "
        f"+ live forecast: {t_outlook:.2f} s (target < 60 s)"
    )


if __name__ == "__main__":
    main()
