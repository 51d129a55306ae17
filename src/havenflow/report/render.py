"""Render the report JSON as self-contained HTML (plotly, JS embedded) or Markdown."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape

__all__ = [
    "figure",
    "figures",
    "render_html",
    "render_markdown",
    "summary_box",
    "timeline_figures",
]

_COLORS = {"silver": "#8a8d91", "gold": "#c9a227", "bitcoin": "#f2a900"}
_PHASE_COLORS = {
    1: "rgba(201,162,39,0.22)",
    2: "rgba(91,127,166,0.2)",
    3: "rgba(60,140,80,0.15)",
    4: "rgba(180,60,60,0.15)",
}
VERDICT_CLASS = {
    "supported": "ok",
    "not supported": "no",
    "inconclusive": "maybe",
    "not testable": "na",
}


def _layout(fig: go.Figure, title: str, **kw: Any) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        template="plotly_white",
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        **({"height": 360} | kw),
    )
    return fig


def _band(
    fig: go.Figure, x: list[Any], low: list[Any], high: list[Any], color: str, name: str
) -> None:
    """A shaded band between ``low`` and ``high`` (upper edge drawn first, then filled to it)."""
    fig.add_scatter(x=x, y=high, line={"width": 0}, showlegend=False)
    fig.add_scatter(x=x, y=low, fill="tonexty", fillcolor=color, line={"width": 0}, name=name)


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def figure(chart: dict[str, Any]) -> go.Figure:
    """One plotly figure from a chart spec of the report JSON."""
    kind = chart["kind"]
    fig = go.Figure()
    if kind == "leadlag_matrix":
        fig.add_heatmap(
            z=chart["z"],
            x=chart["assets"],
            y=chart["assets"],
            colorscale="RdBu",
            zmid=0,
            colorbar={"title": "row leads +"},
            hovertemplate="%{y} → %{x}: %{z:.3f}<extra></extra>",
        )
        fig.update_yaxes(autorange="reversed")
    elif kind == "price_markers":
        fig.add_scatter(
            x=chart["dates"], y=chart["values"], name="close", line={"color": _COLORS["silver"]}
        )
        fig.add_scatter(
            x=chart["breakout_dates"],
            y=chart["breakout_values"],
            mode="markers",
            name="252-bar breakout",
            marker={"symbol": "triangle-up", "size": 7, "color": "#3c8c50"},
        )
        fig.add_scatter(
            x=chart["ath_dates"],
            y=chart["ath_values"],
            mode="markers",
            name="all-time high",
            marker={"symbol": "star", "size": 9, "color": "#c0392b"},
        )
    elif kind == "ranking":
        for asset, values in chart["assets"].items():
            fig.add_bar(
                x=chart["windows"],
                y=[None if v is None else 100 * v for v in values],
                name=asset,
                marker={"color": _COLORS.get(asset)},
            )
        fig.update_yaxes(title="return, %")
    elif kind == "relative_strength":
        fig.add_scatter(x=chart["dates"], y=chart["ratio"], name="silver / bitcoin", yaxis="y")
        fig.add_scatter(
            x=chart["dates"],
            y=chart["z"],
            name="z-score (252 bars)",
            yaxis="y2",
            line={"dash": "dot"},
        )
        fig.update_layout(
            yaxis={"type": "log", "title": "ratio"},
            yaxis2={"overlaying": "y", "side": "right", "title": "z"},
        )
    elif kind == "tails":
        for asset, rows in chart["assets"].items():
            fig.add_scatter(
                x=[f"{100 * r['quantile']:g}% tail" for r in rows],
                y=[r["slope"] for r in rows],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [r["high"] - r["slope"] for r in rows],
                    "arrayminus": [r["slope"] - r["low"] for r in rows],
                },
                mode="markers",
                name=asset,
                marker={"size": 10, "color": _COLORS.get(asset)},
            )
        fig.add_hline(y=0, line={"color": "#888"})
    elif kind == "attribution":
        errs_plus = [
            None if h is None else 100 * (h - v)
            for v, h in zip(chart["values"], chart["high"], strict=True)
        ]
        errs_minus = [
            None if lo is None else 100 * (v - lo)
            for v, lo in zip(chart["values"], chart["low"], strict=True)
        ]
        fig.add_bar(
            x=chart["labels"],
            y=[100 * v for v in chart["values"]],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": errs_plus,
                "arrayminus": errs_minus,
            },
            marker={"color": "#5b7fa6"},
        )
        fig.update_yaxes(title="log points")
    elif kind == "hindsight_path":
        color = _COLORS.get(chart["asset"], "#5b7fa6")
        fig.add_scatter(
            x=chart["bars"],
            y=[100 * math.expm1(v) for v in chart["path"]],
            text=chart["dates"],
            hovertemplate="%{text}: %{y:.1f}%<extra></extra>",
            name=f"{chart['asset']}, realised",
            line={"color": color},
        )
        marks = chart["marks"]
        if marks:
            lows = [(m["interval"] or [m["expected"], m["expected"]])[0] for m in marks]
            highs = [(m["interval"] or [m["expected"], m["expected"]])[1] for m in marks]
            exp = [100 * math.expm1(m["expected"]) for m in marks]
            fig.add_scatter(
                x=[m["bar"] for m in marks],
                y=exp,
                mode="markers",
                name="as-of expectation (median; 5-95% where given)",
                text=[m["label"] for m in marks],
                marker={"color": "#333", "size": 9, "symbol": "diamond"},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [100 * math.expm1(h) - e for h, e in zip(highs, exp, strict=True)],
                    "arrayminus": [
                        e - 100 * math.expm1(lo) for lo, e in zip(lows, exp, strict=True)
                    ],
                },
            )
        fig.add_hline(y=0, line={"color": "#888", "width": 1})
        fig.update_xaxes(title="trading days after the claim's date")
        fig.update_yaxes(title="simple return, %")
    elif kind == "line":
        fig.add_scatter(x=chart["dates"], y=chart["values"], name="ratio")
    elif kind == "multi_line":
        for line in chart["series"]:
            fig.add_scatter(x=line["dates"], y=line["values"], name=line["name"], mode="lines")
        if chart.get("log_y"):
            fig.update_yaxes(type="log")
        if chart.get("zero_line"):
            fig.add_hline(y=0, line={"color": "#888", "width": 1})
        fig.update_yaxes(title=chart.get("y_title", ""))
    elif kind == "series_beside":
        fig.add_scatter(
            x=chart["dates"], y=chart["values"], name=chart["name"], mode="lines+markers"
        )
        if chart.get("threshold") is not None:
            fig.add_hline(y=chart["threshold"], line={"dash": "dot", "color": "#888"})
        if chart.get("beside"):
            fig.add_scatter(
                x=chart["beside_dates"],
                y=chart["beside_values"],
                name=f"{chart['beside']} (right axis, month ends)",
                yaxis="y2",
                line={"color": _COLORS.get(chart["beside"], "#999")},
            )
            fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "showgrid": False})
    elif kind == "stress_bars":
        for regime, color in (("stress", "#c0392b"), ("calm", "#5b7fa6")):
            vals = chart[regime]
            ci = chart[f"{regime}_ci"]
            fig.add_bar(
                x=chart["partners"],
                y=vals,
                name=regime,
                marker={"color": color},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [c[1] - v for v, c in zip(vals, ci, strict=True)],
                    "arrayminus": [v - c[0] for v, c in zip(vals, ci, strict=True)],
                },
            )
        fig.update_yaxes(title="correlation of daily returns")
    elif kind == "phases":
        for spell in chart["spells"]:
            fig.add_vrect(
                x0=spell["start"],
                x1=spell["end"],
                fillcolor=_PHASE_COLORS[spell["phase"]],
                line_width=0,
                layer="below",
            )
        for asset, values in chart["series"].items():
            fig.add_scatter(
                x=chart["dates"], y=values, name=asset, line={"color": _COLORS.get(asset)}
            )
        for ph, color in _PHASE_COLORS.items():
            fig.add_scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"size": 12, "color": color, "symbol": "square"},
                name=f"phase {ph}",
            )
        fig.update_yaxes(type="log")
    elif kind == "implied":
        fig.add_bar(
            x=["implied by drivers", "actual"],
            y=[100 * chart["implied"], 100 * chart["actual"]],
            marker={"color": ["#5b7fa6", _COLORS["bitcoin"]]},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [100 * (chart["ci"][1] - chart["implied"]), 0],
                "arrayminus": [100 * (chart["implied"] - chart["ci"][0]), 0],
            },
        )
        fig.add_hrect(
            y0=100 * chart["prediction"][0],
            y1=100 * chart["prediction"][1],
            fillcolor="rgba(91,127,166,0.1)",
            line_width=0,
            annotation_text="range with BTC's own noise",
        )
        fig.update_yaxes(title="log points")
    elif kind == "leadlag_profile":
        _band(
            fig,
            chart["lags"],
            chart["lower"],
            chart["upper"],
            "rgba(150,150,150,0.3)",
            "95% null band",
        )
        fig.add_bar(
            x=chart["lags"], y=chart["correlation"], name="correlation", marker={"color": "#5b7fa6"}
        )
        unit = chart.get("unit", "bars")
        fig.update_xaxes(title=f"lag ({unit}; positive = leader first)")
    elif kind == "rolling_lag":
        sig = [p is not None and p < 0.05 for p in chart["pvalue"]]
        fig.add_scatter(
            x=chart["dates"],
            y=chart["lag"],
            mode="markers",
            name="best lag",
            marker={
                "color": ["#c0392b" if s else "rgba(0,0,0,0)" for s in sig],
                "line": {"color": "#c0392b", "width": 1},
                "size": 7,
            },
        )
        fig.update_yaxes(title="best lag, weeks")
    elif kind == "event_path":
        _band(
            fig,
            chart["bars"],
            chart["p10"],
            chart["p90"],
            "rgba(242,169,0,0.2)",
            "10-90% of events",
        )
        fig.add_scatter(
            x=chart["bars"],
            y=chart["mean"],
            name="mean after events",
            line={"color": _COLORS["bitcoin"]},
        )
        fig.add_scatter(
            x=chart["bars"],
            y=chart["baseline"],
            name="unconditional baseline",
            line={"dash": "dash", "color": "#555"},
        )
        fig.update_xaxes(title="trading days after the event")
    elif kind == "irf":
        palette = ["#5b7fa6", "#c0392b", "#3c8c50", "#8e44ad"]
        for i, r in enumerate(chart["responses"]):
            color = _COLORS.get(r["impulse"], palette[i % len(palette)])
            _band(
                fig,
                r["horizons"],
                r["lower"],
                r["upper"],
                _rgba(color, 0.18),
                f"{r['impulse']} shock: {chart.get('bands', 'band')}",
            )
            fig.add_scatter(
                x=r["horizons"],
                y=r["irf"],
                name=f"{r['response']} after a {r['impulse']} shock",
                line={"color": color},
            )
        fig.add_hline(y=0, line={"color": "#999", "width": 1})
        fig.update_xaxes(title=f"horizon ({chart.get('unit', 'bars')} after the shock)")
        fig.update_yaxes(title="log return")
    elif kind == "fan":
        for name, key, color, offset in (
            ("shown", "shown", "#2c3e50", -0.2),
            ("conditional", "conditional", "#f2a900", 0.0),
            ("baseline", "baseline", "#8a8d91", 0.2),
        ):
            xs, lo, hi, q25, q75, med = [], [], [], [], [], []
            for i, q in enumerate(chart[key]):
                if q is None:
                    continue
                xs.append(i + offset)
                lo.append(100 * math.expm1(q["5"]))
                hi.append(100 * math.expm1(q["95"]))
                q25.append(100 * math.expm1(q["25"]))
                q75.append(100 * math.expm1(q["75"]))
                med.append(100 * math.expm1(q["50"]))
            fig.add_scatter(
                x=xs,
                y=med,
                mode="markers",
                name=f"{name} (median, 25-75%, 5-95%)",
                marker={"color": color, "size": 10},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [h - m for h, m in zip(hi, med, strict=True)],
                    "arrayminus": [m - lo_ for m, lo_ in zip(med, lo, strict=True)],
                    "thickness": 1,
                },
            )
            fig.add_scatter(
                x=xs,
                y=med,
                mode="markers",
                showlegend=False,
                marker={"color": color, "size": 1},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [h - m for h, m in zip(q75, med, strict=True)],
                    "arrayminus": [m - lo_ for m, lo_ in zip(med, q25, strict=True)],
                    "thickness": 6,
                    "width": 0,
                },
            )
        fig.update_xaxes(tickvals=list(range(len(chart["horizons"]))), ticktext=chart["horizons"])
        fig.update_yaxes(title="simple return, %")
    return _layout(fig, chart.get("title", ""))


_VERDICT_CODE = {"not testable": 0, "not supported": 1, "inconclusive": 2, "supported": 3}
_VERDICT_COLORS = ["#d0d0d0", "#e8a39c", "#f3d98b", "#8fcf9a"]


def timeline_figures(report: dict[str, Any]) -> list[go.Figure]:
    """The verdict heatmap over time, then each claim's deciding number beneath it."""
    info = report.get("timeline_info") or {}
    steps = report.get("timeline") or []
    if not steps:
        return []
    ids = [c["id"] for c in info["claims"]]
    dates = [s["asof"] for s in steps]
    n = len(_VERDICT_CODE)
    scale = []
    for code, color in enumerate(_VERDICT_COLORS):
        scale += [[code / n, color], [(code + 1) / n, color]]
    heat = go.Figure(
        go.Heatmap(
            x=dates,
            y=ids,
            z=[[_VERDICT_CODE[s["verdicts"][i]] for s in steps] for i in ids],
            text=[
                [
                    s["verdicts"][i]
                    + (f": {s['numbers'][i]['display']}" if s["numbers"].get(i) else "")
                    for s in steps
                ]
                for i in ids
            ],
            hovertemplate="%{y} on %{x}: %{text}<extra></extra>",
            colorscale=scale,
            zmin=-0.5,
            zmax=n - 0.5,
            colorbar={
                "tickvals": list(range(n)),
                "ticktext": list(_VERDICT_CODE),
                "title": "verdict",
            },
            xgap=1,
            ygap=1,
        )
    )
    heat.update_yaxes(autorange="reversed")
    heat.update_xaxes(type="category")  # one column per step, whatever the spacing
    out = [
        _layout(
            heat,
            f"Verdicts at every {info['step_singular']} from {info['start']} to {info['end']} "
            "(each step point-in-time)",
            height=max(260, 34 * len(ids) + 120),
        )
    ]
    for i in ids:
        points = [(s["asof"], s["numbers"].get(i)) for s in steps]
        values = [(d, n["value"]) for d, n in points if n and n.get("value") is not None]
        if not values:
            continue
        label = next(n["label"] for _, n in points if n and n.get("value") is not None)
        fig = go.Figure()
        fig.add_scatter(x=[d for d, _ in values], y=[v for _, v in values], mode="lines+markers")
        if label.startswith("p-value"):
            fig.add_hline(y=0.05, line={"dash": "dot", "color": "#888"})
            fig.update_yaxes(type="log")
        out.append(_layout(fig, f"{i}: {label}", height=200, showlegend=False))
    return out


def figures(claim: dict[str, Any]) -> list[go.Figure]:
    """Every figure of one claim."""
    charts = claim.get("charts") or ([claim["chart"]] if claim.get("chart") else [])
    return [figure(c) for c in charts]


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("havenflow.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["hindsight_cells"] = hindsight_cells
    return env


def render_html(report: dict[str, Any], *, embed_js: bool = True) -> str:
    """Self-contained HTML: plotly's JS is embedded once (no CDN); works offline."""
    from plotly.offline import get_plotlyjs

    def html(fig: go.Figure) -> str:
        return str(
            fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
        )

    charts = {claim["id"]: [html(f) for f in figures(claim)] for claim in report["claims"]}
    later = report.get("hindsight_info") or {}
    hindsight_charts = {
        cid: [html(figure(c)) for c in specs] for cid, specs in (later.get("charts") or {}).items()
    }
    timeline_charts = [html(f) for f in timeline_figures(report)]
    from havenflow.report.figures import backtest_charts

    bt = report.get("backtest") or {}
    backtest_html = (
        [html(figure(c)) for c in backtest_charts(bt)] if bt and not bt.get("error") else []
    )
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            report=report,
            charts=charts,
            hindsight_charts=hindsight_charts,
            timeline_charts=timeline_charts,
            backtest_charts=backtest_html,
            backtest_runs=_backtest_runs(bt),
            plotly_js=get_plotlyjs() if embed_js else "",
            verdict_class=VERDICT_CLASS,
        )
    )


def summary_box(report: dict[str, Any]) -> str:
    """The verdicts as a plain-text box (printed by ``make report``)."""
    width = max(len(s["claim"]) for s in report["summary"]) + 8
    vw = max(len(s["verdict"]) for s in report["summary"])
    top = f"havenflow report as of {report['asof']}"
    lines = ["+" + "-" * (width + vw + 3) + "+", f"| {top:<{width + vw + 1}} |"]
    lines.append("+" + "-" * (width + vw + 3) + "+")
    for s in report["summary"]:
        lines.append(f"| {s['id']:<4} {s['claim']:<{width - 5}} {s['verdict']:<{vw}} |")
    lines.append("+" + "-" * (width + vw + 3) + "+")
    return "\n".join(lines)


def _q(value: float | None) -> str:
    return "" if value is None else f"q {value:.2f}"


def render_markdown(report: dict[str, Any]) -> str:
    """The same verdicts, numbers and text as the HTML, without charts."""
    note = report.get("note") or {}
    out = [
        f"# {report['title']}",
        "",
        f"As of **{report['asof']}** ({report.get('asof_reason', '')}) · havenflow "
        f"{report['havenflow_version']} · seed {report['seed']}"
        + (f" · source: {note['source']}" if note.get("source") else ""),
        "",
    ]
    out += ["| claim | verdict | q | robustness |", "|---|---|---|---|"]
    out += [
        f"| {s['id']} {s['claim']} | **{s['verdict']}** | {_q(s.get('q_value'))} | "
        f"{s.get('robustness') or ''} |"
        for s in report["summary"]
    ]
    bottom = report.get("bottom_line") or {}
    if bottom.get("text"):
        out += ["", "## Bottom line", ""] + [f"- {line}" for line in bottom["text"]]
    for c in report["claims"]:
        out += ["", f"## {c['id']}. {c['claim']}", "", f"**Verdict: {c['verdict']}**"]
        meta = [f"kind `{c['kind']}`", f"judged on {c['judged_on']}"]
        if c.get("pvalue") is not None:
            meta.append(f"p {c['pvalue']:.3g} ({c['test']}), {_q(c.get('q_value'))}")
        out += ["", " · ".join(meta), ""]
        out += [f"- {n['label']}: {n['display']}" for n in c["numbers"]]
        out += ["", c["explanation"]]
        if c.get("rule"):
            out += ["", f"_Rule: {c['rule']}_"]
        sens = c.get("sensitivity")
        if sens:
            out += ["", f"Sensitivity: **{sens['label']}**", ""]
            out += [
                f"- {a['label']}: {a['verdict']}"
                + (f" (p {a['pvalue']:.3g})" if a.get("pvalue") is not None else "")
                for a in sens["alternatives"]
            ]
        out += [f"_Note: {n}_" for n in c.get("notes") or []]
    out += _markdown_hindsight(report) + _markdown_timeline(report) + _markdown_backtest(report)
    out += ["", "## Methods", ""]
    out += [f"- **{m['name']}**: {m['text']}" for m in report["methods"]]
    out += [
        "",
        "## Data",
        "",
        "| id | name | first | last | origin | known from | attribution |",
        "|---|---|---|---|---|---|---|",
    ]
    out += [
        f"| {d['id']} | {d['name']} | {d['first']} | {d['last']} | {d['origin']} | "
        f"{d.get('known', '')} | {d['attribution']} |"
        for d in report["data"]
    ]
    return "\n".join(out) + "\n"


def _backtest_runs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if not doc or doc.get("error"):
        return []
    runs = [doc["strategy"], *doc["benchmarks"]]
    if doc.get("sweep") and doc["sweep"].get("walk_forward"):
        runs.append(doc["sweep"]["walk_forward"])
    return runs


def _markdown_backtest(report: dict[str, Any]) -> list[str]:
    doc = report.get("backtest") or {}
    if not doc:
        return []
    out = ["", f"## Would acting on it have paid? ({doc['name']})", ""]
    if doc.get("error"):
        return [*out, f"_Not run: {doc['error']}_"]
    out += [f"{doc['description']}. {doc['timing']}.", ""]
    out += ["| strategy | CAGR | volatility | Sharpe | 95% CI | max drawdown | turnover/yr |"]
    out += ["|---|---|---|---|---|---|---|"]
    for r in _backtest_runs(doc):
        m = r["metrics"]
        lo, hi = r["sharpe_ci"]
        out.append(
            f"| {r['name']} | {_pct(m['cagr'])} | {_pct(m['volatility'])} | {_num(m['sharpe'])} | "
            f"[{_num(lo)}, {_num(hi)}] | {_pct(m['max_drawdown'])} | {_num(m['turnover'])} |"
        )
    sweep = doc.get("sweep")
    if sweep:
        out += [
            "",
            f"Best of {sweep['n_trials']} configurations: Sharpe {_num(sweep['best_sharpe'])}, "
            f"deflated Sharpe {_num(sweep['deflated_sharpe'])}, PBO {_num(sweep['pbo'])}.",
        ]
    return out


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:+.1f}%"


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def hindsight_cells(row: dict[str, Any]) -> tuple[str, str]:
    """The realised and expected cells of a hindsight row, with their units.

    Returns as a simple percentage with log points; an observed row (the same test on the
    latest data) shows its deciding number as displayed.
    """
    from havenflow.claims.hindsight import both

    if row["status"] == "observed":
        number = (row.get("scores") or {}).get("number") or {}
        return str(number.get("display", "")), ""
    realised = "" if row["realised"] is None else both(row["realised"])
    expected = "" if row["expected"] is None else both(row["expected"])
    return realised, expected


def _markdown_hindsight(report: dict[str, Any]) -> list[str]:
    later = report.get("hindsight_info") or {}
    rows = report.get("hindsight") or []
    if not rows:
        return []
    out = ["", f"## What happened next (data to {later['end']})", ""]
    out += [f"_{later['method']}_", ""]
    out += ["| claim | what | horizon | end | realised | expected | held | scores |"]
    out += ["|---|---|---|---|---|---|---|---|"]
    for r in rows:
        sc = r.get("scores") or {}
        shown = ", ".join(
            f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in sc.items()
            if k in {"pit", "pit_censored", "crps", "crps_baseline", "in_interval", "verdict_now"}
        )
        realised, expected = hindsight_cells(r)
        out.append(
            f"| {r['claim']} | {r['label']} | "
            + (f"{r['horizon']} {r['horizon_unit']}" if r["horizon"] else "")
            + f" | {r['end_date'] or 'pending (' + r['through'] + ')'} | {realised} | "
            + f"{expected} | {'' if r['held'] is None else ('yes' if r['held'] else 'no')} | "
            + f"{shown} |"
        )
    out += [""] + [f"- {line}" for line in later.get("summary") or []]
    out += [f"_Note: {n}_" for n in later.get("notes") or []]
    return out


def _markdown_timeline(report: dict[str, Any]) -> list[str]:
    info = report.get("timeline_info") or {}
    steps = report.get("timeline") or []
    if not steps:
        return []
    ids = [c["id"] for c in info["claims"]]
    short = {"supported": "S", "not supported": "N", "inconclusive": "I", "not testable": "-"}
    out = [
        "",
        f"## Verdict timeline ({info['step_name']}, {info['start']} to {info['end']})",
        "",
        f"_{info['method']}_ S supported, N not supported, I inconclusive, - not testable.",
        "",
        "| as of | " + " | ".join(ids) + " |",
        "|---|" + "---|" * len(ids),
    ]
    out += [
        f"| {s['asof']} | " + " | ".join(short[s["verdicts"][i]] for i in ids) + " |" for s in steps
    ]
    out += ["", "Verdict spells:", ""] + [f"- {line}" for line in info["changes"]]
    record = info.get("track_record") or {}
    if record.get("claims"):
        out += ["", "### Track record", ""]
        out += [f"- {entry['text']}" for entry in record["claims"].values()]
    return out
