"""statsmodels' VAR on its macrodata: the peer numbers ``tests/test_var.py`` checks us against.

Run from the repository root::

    .venv/bin/python tests/reference/make_var_reference.py

It writes

- ``tests/reference/macrodata.csv``: statsmodels' macrodata (year, quarter and the three levels
  at full precision), so that ``var_macrodata.R`` reads exactly the same numbers;
- ``tests/reference/var_macrodata_statsmodels.json``: for log differences of realgdp, realcons
  and realinv (as in statsmodels' VAR documentation), VAR(p) fits with trends ``c``, ``ct`` and
  ``n`` (params, standard errors, ``sigma_u`` and ``sigma_u_mle``, llf, aic, bic, hqic, fpe),
  ``select_order(8)``, ``test_causality(kind="f")`` for several causing/caused blocks, and the
  orthogonalised and plain impulse responses at a few horizons.

statsmodels 0.15's ``test_causality(caused, causing=None)`` fails with an IndexError for a
single caused series in a three-variable VAR (it counts the caused names as the causing ones),
so the "caused by all others" test names the other series explicitly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels
from statsmodels.datasets import macrodata
from statsmodels.tsa.api import VAR

HERE = Path(__file__).resolve().parent
NAMES = ["realgdp", "realcons", "realinv"]
HORIZONS = [0, 1, 2, 5, 10]
CAUSALITY = [
    (["realgdp"], ["realcons"]),
    (["realcons"], ["realgdp"]),
    (["realgdp", "realcons"], ["realinv"]),
    (["realinv"], ["realgdp", "realcons"]),
    (["realcons", "realinv"], ["realgdp"]),  # realgdp caused by all others
    (["realgdp"], ["realcons", "realinv"]),  # realgdp causes all others (vars' causality)
]


def _fit(data: pd.DataFrame, lags: int, trend: str) -> dict[str, Any]:
    res = VAR(data).fit(lags, trend=trend)
    irf = res.irf(max(HORIZONS))
    tests = []
    for causing, caused in CAUSALITY:
        t = res.test_causality(caused, causing, kind="f")
        tests.append(
            {
                "causing": causing,
                "caused": caused,
                "statistic": float(t.test_statistic),
                "pvalue": float(t.pvalue),
                "df": [int(d) for d in t.df],
            }
        )
    return {
        "lags": lags,
        "trend": trend,
        "nobs": int(res.nobs),
        "llf": float(res.llf),
        "aic": float(res.aic),
        "bic": float(res.bic),
        "hqic": float(res.hqic),
        "fpe": float(res.fpe),
        "param_names": [str(i) for i in res.params.index],
        "params": res.params.to_numpy().tolist(),
        "stderr": np.asarray(res.stderr).tolist(),
        "sigma_u": np.asarray(res.sigma_u).tolist(),
        "sigma_u_mle": np.asarray(res.sigma_u_mle).tolist(),
        "causality": tests,
        "irf_horizons": HORIZONS,
        "orth_irfs": irf.orth_irfs[HORIZONS].tolist(),
        "irfs": irf.irfs[HORIZONS].tolist(),
    }


def main() -> None:
    """Write the CSV and the JSON."""
    raw = macrodata.load_pandas().data[["year", "quarter", *NAMES]]
    raw.to_csv(HERE / "macrodata.csv", index=False)
    # Read back what R will read, so both peers start from the same decimal strings.
    levels = pd.read_csv(HERE / "macrodata.csv")[NAMES]
    data = np.log(levels).diff().dropna().reset_index(drop=True)
    sel = VAR(data).select_order(8)
    out = {
        "generator": "tests/reference/make_var_reference.py",
        "statsmodels": statsmodels.__version__,
        "data": "statsmodels macrodata: log differences of realgdp, realcons, realinv",
        "names": NAMES,
        "n_rows": len(data),
        "fits": {
            "c_2": _fit(data, 2, "c"),
            "ct_2": _fit(data, 2, "ct"),
            "n_2": _fit(data, 2, "n"),
            "c_3": _fit(data, 3, "c"),
        },
        "select_order": {
            "maxlags": 8,
            "trend": "c",
            "lags": list(range(9)),  # statsmodels also fits order 0
            "table": {k: [float(v) for v in vals] for k, vals in sel.ics.items()},
            "selected_orders": {k: int(v) for k, v in sel.selected_orders.items()},
        },
    }
    path = HERE / "var_macrodata_statsmodels.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} and {HERE / 'macrodata.csv'}")


if __name__ == "__main__":
    main()
