"""Figures of single results, for ``Result.plot()`` in notebooks (the report's chart builders).

Each result kind maps to a chart spec drawn by :func:`havenflow.report.render.figure`, so a
notebook shows the same picture as the report and the dashboard.
"""

from __future__ import annotations

from typing import Any

from havenflow.analytics.results import Result
from havenflow.claims.charts import (
    event_chart,
    irf_chart,
    leadlag_chart,
    rolling_chart,
    tails_chart,
)

__all__ = [
    "backtest_charts",
    "chart_spec",
    "leadlag_chart",
    "network_chart",
    "result_figure",
    "rolling_chart",
]


def network_chart(doc: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    """The ordered lead-lag matrix of a network document (``NetworkResult.to_dict()``).

    Cell (row, column): +|correlation| where the row significantly leads the column, minus
    that where it follows; assets ordered by group (leaders first), then by lead score.
    """
    scores = {s["id"]: s for s in doc["scores"]}
    order = sorted(doc["assets"], key=lambda a: (scores[a]["cluster"], scores[a]["rank"]))
    where = {a: i for i, a in enumerate(order)}
    z = [[0.0] * len(order) for _ in order]
    for p in doc["pairs"]:
        if p["qvalue"] is None or p["qvalue"] > doc["alpha"] or p["lag"] == 0:
            continue
        i, j = where[p["leader"]], where[p["follower"]]
        z[i][j] = abs(p["correlation"])
        z[j][i] = -abs(p["correlation"])
    return {
        "kind": "leadlag_matrix",
        "title": title
        or (
            f"Who leads whom: {len(order)} assets, lags up to {doc['max_lag']} {doc['lag_unit']} "
            f"(row leads column: positive; q <= {doc['alpha']})"
        ),
        "assets": order,
        "z": z,
        "groups": [scores[a]["cluster"] for a in order],
    }


def backtest_charts(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Equity curves, drawdowns and rolling Sharpe ratios of a backtest and its benchmarks.

    ``doc`` is ``BacktestOutcome.to_dict()`` (or one ``BacktestResult.to_dict()``); every
    number drawn is in it.
    """
    runs = [doc["strategy"]] if "strategy" in doc else [doc]
    runs += list(doc.get("benchmarks") or [])
    sweep = doc.get("sweep") or {}
    if sweep.get("walk_forward"):
        runs.append(sweep["walk_forward"])

    def lines(key: str) -> list[dict[str, Any]]:
        return [
            {
                "name": r["name"],
                "dates": [e["date"] for e in r["equity"]],
                "values": [e[key] for e in r["equity"]],
            }
            for r in runs
        ]

    return [
        {
            "kind": "multi_line",
            "title": "Growth of 1 (log scale): the strategy against its benchmarks",
            "series": lines("value"),
            "y_title": "value (start = 1)",
            "log_y": True,
        },
        {
            "kind": "multi_line",
            "title": "Drawdown from the running peak",
            "series": lines("drawdown"),
            "y_title": "drawdown (fraction)",
            "zero_line": True,
        },
        {
            "kind": "multi_line",
            "title": "Rolling Sharpe ratio (trailing 365 days, over cash)",
            "series": lines("rolling_sharpe"),
            "y_title": "Sharpe ratio",
            "zero_line": True,
        },
    ]


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
        return leadlag_chart(doc, f"{title}: cross-correlation by lag with the 95% null band")
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
    if kind == "network":
        return network_chart(doc)
    if kind == "xcorr-rolling":
        return rolling_chart(
            doc,
            f"{title}: best lag in rolling {doc['window']}-{doc['lag_unit']} windows "
            "(filled = significant at 5%)",
        )
    if kind in ("backtest", "backtest_report"):
        return backtest_charts(doc)[0]
    if kind == "var":
        return irf_chart(result, f"Impulse responses: {title}")
    if kind == "event_study":
        return event_chart(
            doc, f"{doc['target']} after {doc['trigger']}: average path vs baseline (log return)"
        )
    if kind == "safe_haven_regression":
        return tails_chart(
            [doc], f"{doc['asset']}'s slope on {doc['equity']} in its worst days (95% CI)"
        )
    raise NotImplementedError(f"no figure for a {kind!r} result yet: use to_frame()")


def result_figure(result: Result) -> Any:
    """A plotly ``Figure`` of ``result``."""
    from havenflow.report.render import figure

    return figure(chart_spec(result))
