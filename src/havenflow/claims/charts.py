"""Chart specs (plain dicts) of single results: what the report, the dashboard and notebooks draw.

They are data, drawn by :func:`havenflow.report.render.figure`; they live below the report so
the claim kinds can attach them to their outcomes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["event_chart", "irf_chart", "leadlag_chart", "rolling_chart", "tails_chart"]


def leadlag_chart(xc: dict[str, Any], title: str) -> dict[str, Any]:
    """Chart spec of a cross-correlation profile with its null band (report and dashboard)."""
    return {
        "kind": "leadlag_profile",
        "title": title,
        "unit": xc.get("lag_unit", "bars"),
        "lags": [p["lag"] for p in xc["profile"]],
        "correlation": [p["correlation"] for p in xc["profile"]],
        "lower": [p["lower"] for p in xc["profile"]],
        "upper": [p["upper"] for p in xc["profile"]],
    }


def rolling_chart(roll: dict[str, Any], title: str) -> dict[str, Any]:
    """Chart spec of a rolling scan: each window's best lag, filled where significant."""
    return {
        "kind": "rolling_lag",
        "title": title,
        "dates": [w["end"] for w in roll["windows"]],
        "lag": [w["lag"] for w in roll["windows"]],
        "pvalue": [w["pvalue"] for w in roll["windows"]],
    }


def event_chart(ev: dict[str, Any], title: str) -> dict[str, Any]:
    """Chart spec of an event study's average path against the baseline."""
    path = ev["average_path"]
    return {
        "kind": "event_path",
        "title": title,
        "bars": [q["bar"] for q in path],
        "mean": [q.get("mean") for q in path],
        "p10": [q.get("p10") for q in path],
        "p90": [q.get("p90") for q in path],
        "baseline": [q.get("baseline") for q in path],
    }


def irf_chart(var: Any, title: str) -> dict[str, Any]:
    """Chart spec of each follower's impulse responses to the leaders' shocks, with bands."""
    return {
        "kind": "irf",
        "title": title,
        "unit": var.lag_unit,
        "shock": var.irf.shock,
        "bands": f"{var.irf.level:.0%} residual-bootstrap bands ({var.irf.replicates} replicates)",
        "responses": var.responses(),
    }


def tails_chart(regressions: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """Chart spec of safe-haven slopes in the equity market's worst days, with 95% bands."""
    return {
        "kind": "tails",
        "title": title,
        "assets": {
            r["asset"]: [
                {
                    "quantile": t["quantile"],
                    "slope": t["total_slope"],
                    "low": t["total_slope"] - 1.96 * t["std_err"],
                    "high": t["total_slope"] + 1.96 * t["std_err"],
                }
                for t in r["safe_haven"]
            ]
            for r in regressions
        },
    }
