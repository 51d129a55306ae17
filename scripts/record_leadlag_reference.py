"""Record the ``lead-lag`` package's contrasts on simulated asynchronous data (a test fixture).

The package builds only with ``pip install cython`` then ``pip install --no-build-isolation
lead-lag``, so the test suite compares against this recording instead of importing it. Run
it in an environment where the package is installed::

    python scripts/record_leadlag_reference.py tests/data/leadlag_package_reference.json

The data: a Brownian log price observed at random seconds over two hours; the follower is the
leader's path delayed by 7 seconds plus its own noise, observed at its own random seconds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def simulate(seed: int = 20260124) -> tuple[pd.Series, pd.Series]:
    """Two asynchronous 1-second-resolution paths, the follower 7 seconds behind."""
    rng = np.random.default_rng(seed)
    seconds = 7200
    common = np.cumsum(rng.standard_normal(seconds + 60)) * 1e-4
    own = np.cumsum(rng.standard_normal(seconds + 60)) * 0.5e-4
    lagged = np.concatenate([np.zeros(7), common[:-7]]) + own
    start = pd.Timestamp("2026-01-23 14:00:00")
    tx = np.sort(rng.choice(np.arange(30, seconds), size=1500, replace=False))
    ty = np.sort(rng.choice(np.arange(30, seconds), size=1100, replace=False))
    idx_x = (start + pd.to_timedelta(tx, unit="s")).as_unit("ns")
    idx_y = (start + pd.to_timedelta(ty, unit="s")).as_unit("ns")
    return pd.Series(common[tx], index=idx_x), pd.Series(lagged[ty], index=idx_y)


def main(path: str) -> int:
    """Run the package on the simulated pair and write its contrasts to ``path``."""
    from lead_lag import LeadLag  # the peer, only where it is installed

    leader, follower = simulate()
    ll = LeadLag(leader.copy(), follower.copy(), max_lag=30)
    ll.run_inference()
    payload = {
        "package": "lead-lag 2.3",
        "seed": 20260124,
        "max_lag_seconds": 30,
        "lags_seconds": [float(v) for v in ll.lag_range * ll.precision],
        "contrast": [float(v) for v in ll.contrasts],
        "lead_lag_seconds": float(ll.lead_lag),
    }
    Path(path).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    print(f"lead-lag estimate {ll.lead_lag} s; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
