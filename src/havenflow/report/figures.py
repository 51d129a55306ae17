"""Figures of single results, for ``Result.plot()`` in notebooks (the report's chart builders).

Each result kind maps to a chart spec drawn by :func:`havenflow.report.render.figure`, so a
notebook shows the same picture as the report and the dashboard.
"""

from __future__ import annotations

from typing import Any

from havenflow.analytics.results import Result

__all__ = ["chart_spec", "result_figure"]


def chart_spec(result: Result) -> dict[str, Any]:
    """The report's chart spec for ``result``.

    Raises
    ------
    NotImplementedError
        For a kind of result with no figure yet.
    """
    doc = result.to_dict()
    kind = doc["kind"]
    title = f"{doc.get('leader', '')} → {doc.get('follower', '')}"
    if kind == "xcorr":
        return {
            "kind": "leadlag_profile",
            "title": f"{title}: cross-correlation by lag with the 95% null band",
            "unit": doc["lag_unit"],
            "lags": [p["lag"] for p in doc["profile"]],
            "correlation": [p["correlation"] for p in doc["profile"]],
            "lower": [p["lower"] for p in doc["profile"]],
            "upper": [p["upper"] for p in doc["profile"]],
        }
    if kind == "hy":
        return {
            "kind": "leadlag_profile",
            "title": f"{title}: Hayashi-Yoshida contrast by lag",
            "unit": doc["lag_unit"],
            "lags": [p["lag"] for p in doc["profile"]],
            "correlation": [p["contrast"] for p in doc["profile"]],
            "lower": [None for _ in doc["profile"]],
            "upper": [None for _ in doc["profile"]],
        }
    if kind == "xcorr-rolling":
        return {
            "kind": "rolling_lag",
            "title": f"{title}: best lag in rolling {doc['window']}-{doc['lag_unit']} windows "
            "(filled = significant at 5%)",
            "dates": [w["end"] for w in doc["windows"]],
            "lag": [w["lag"] for w in doc["windows"]],
            "pvalue": [w["pvalue"] for w in doc["windows"]],
        }
    raise NotImplementedError(f"no figure for a {kind!r} result yet: use to_frame()")


def result_figure(result: Result) -> Any:
    """A plotly ``Figure`` of ``result``."""
    from havenflow.report.render import figure

    return figure(chart_spec(result))
