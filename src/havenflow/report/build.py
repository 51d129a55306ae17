"""Build the report's JSON: every claim with its verdict, deciding numbers, text and chart data.

The JSON is the single source: the HTML and Markdown are rendered from it, so the three formats
carry the same verdicts and numbers. Every number comes from a service call with the same
``asof``; the text is templated from those numbers (no hand-written figure anywhere). No wall
clock enters the JSON, so the report for a date is reproducible.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from havenflow import __version__
from havenflow.analytics.leadlag.var import VARLeadLagResult
from havenflow.analytics.performance import RatioHistory, high_marks, ratio_history
from havenflow.catalog import get_spec
from havenflow.data.repository import DataRepository
from havenflow.exceptions import HavenflowError
from havenflow.report.figures import leadlag_chart, rolling_chart
from havenflow.universe import REPORT_SERIES

__all__ = ["CLAIMS", "VERDICTS", "ReportOptions", "build_report", "jsonable"]

VERDICTS = ("supported", "not supported", "inconclusive", "not testable with the data at hand")

#: The claims of ``CLAIMS.md``, one sentence each.
CLAIMS = {
    "C1": "Silver has reached a fresh all-time high after a rally that accelerated sharply.",
    "C2": "Silver has overtaken gold as the best-performing asset.",
    "C3": "Bitcoin has not followed silver: the two diverge.",
    "C4": "The move is defensive: rising uncertainty sends capital to hard assets first.",
    "C5": "Falling real rates, expected Fed cuts and a weaker dollar are powering metals.",
    "C6": "Silver has real supply constraints and growing industrial demand.",
    "C7": "Under stress, markets treat Bitcoin as a risk asset, not as digital gold.",
    "C8": "The cycle has phases, and January 2026 is in phase one (safety first).",
    "C9": "If Bitcoin reacted only to the forces driving silver, it would be somewhere else.",
    "C10": "Silver's strength precedes Bitcoin rallies with a lag of weeks to months.",
    "C11": "Silver's breakout matters for Bitcoin but is not immediately bullish.",
}


@dataclass(frozen=True)
class ReportOptions:
    """What the report computes (every parameter is printed in the methods section)."""

    asof: str | None = None
    seed: int = 0
    replicates: int = 999
    leader: str = "silver"
    follower: str = "bitcoin"
    leadlag_freq: str = "W"
    leadlag_max_lag: int = 26
    trigger: str = "silver:high(252)"
    event_target: str = "bitcoin"
    attribution_window: str = "3M"
    var_leaders: str = "gold,silver"
    var_max_lag: int = 8
    var_ic: str = "bic"


def jsonable(obj: Any) -> Any:
    """Plain JSON types only: NaN and inf become None, numpy scalars become Python ones."""

    def default(v: object) -> object:
        if isinstance(v, pd.Timestamp):
            return v.date().isoformat()
        if hasattr(v, "item"):
            return v.item()
        if hasattr(v, "tolist"):
            return v.tolist()
        return str(v)

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return clean(json.loads(json.dumps(obj, default=default)))


def _pct(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{100 * v:+.{digits}f}%"


def _num(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:+.{digits}f}"


def _lp(v: float | None) -> str:
    """Log points."""
    return "n/a" if v is None else f"{100 * v:+.1f} log points"


def _number(label: str, display: str, value: float | None = None, **extra: Any) -> dict[str, Any]:
    return {"label": label, "display": display, "value": value, **extra}


def _weekly(levels: pd.DataFrame, start: str | None = None) -> dict[str, Any]:
    from havenflow.data.align import last_bar_of_week

    frame = last_bar_of_week(levels)  # a partial last week keeps the date of its last bar
    if start is not None:
        frame = frame.loc[start:]
    return {
        "dates": [d.date().isoformat() for d in pd.DatetimeIndex(frame.index)],
        "series": {str(c): frame[c].tolist() for c in frame.columns},
    }


def event_chart(ev: dict[str, Any], title: str) -> dict[str, Any]:
    """Chart spec of an event study's average path against the baseline."""
    path = ev["average_path"]
    return {
        "kind": "event_path",
        "title": title,
        "bars": [p["bar"] for p in path],
        "mean": [p.get("mean") for p in path],
        "p10": [p.get("p10") for p in path],
        "p90": [p.get("p90") for p in path],
        "baseline": [p.get("baseline") for p in path],
    }


# ---- claims -------------------------------------------------------------------------------------


def _c1(snap: dict[str, Any], silver: pd.Series) -> dict[str, Any]:
    a = next(x for x in snap["assets"] if x["id"] == "silver")
    dd = a["drawdown_from_ath"]
    acc = a["acceleration"] or {}
    near = dd is not None and dd >= -0.05
    accelerating = bool(acc.get("accelerating"))
    verdict = (
        "supported" if near and accelerating else "not supported" if not near else "inconclusive"
    )
    brk = {b["bars"]: b["is_new_high"] for b in a["breakouts"]}
    marks = high_marks(silver)
    recent, ath_dates, brk_dates = marks.closes, marks.ath_dates, marks.breakout_dates
    text = (
        f"Silver's all-time closing high in the data is {a['ath']:.2f} on {a['ath_date']}; on "
        f"{snap['asof']} it closed at {a['last']:.2f}, {_pct(dd)} from that high. Its 1-month "
        f"return annualised is {_pct(acc.get('short_annualised'), 0)} against "
        f"{_pct(acc.get('long_annualised'), 0)} over 6 months, so the rally "
        f"{'is' if accelerating else 'is not'} accelerating. New 20/55/252-bar highs: "
        f"{', '.join('yes' if brk.get(n) else 'no' for n in (20, 55, 252))}."
    )
    if a.get("real_ath") is None:
        text += (
            " The high is nominal: without CPI in the store no inflation-adjusted high is shown."
        )
    return {
        "verdict": verdict,
        "numbers": [
            _number("all-time high", f"{a['ath']:.2f} on {a['ath_date']}", a["ath"]),
            _number("distance from the high", _pct(dd), dd),
            _number(
                "acceleration (1M vs 6M, annualised)",
                f"{_pct(acc.get('short_annualised'), 0)} vs {_pct(acc.get('long_annualised'), 0)}",
                acc.get("value"),
            ),
        ],
        "explanation": text,
        "rule": "supported: within 5% of the all-time high and the 1M annualised return above "
        "the 6M one; not supported: more than 5% below the high; otherwise inconclusive",
        "chart": {
            "kind": "price_markers",
            "title": "Silver: closes, all-time highs and 252-bar breakouts",
            "dates": [d.date().isoformat() for d in pd.DatetimeIndex(recent.index)],
            "values": recent.tolist(),
            "ath_dates": [d.date().isoformat() for d in pd.DatetimeIndex(ath_dates)],
            "ath_values": recent.loc[ath_dates].tolist(),
            "breakout_dates": [d.date().isoformat() for d in pd.DatetimeIndex(brk_dates)],
            "breakout_values": recent.loc[brk_dates].tolist(),
        },
    }


def _c2(snap: dict[str, Any]) -> dict[str, Any]:
    windows = [w for w in snap["windows"] if w != "1W"]
    assets = {x["id"]: x for x in snap["assets"]}
    s, g = assets["silver"], assets["gold"]
    first = [w for w in windows if s["rank"].get(w) == 1]
    beats_gold = [
        w
        for w in windows
        if s["returns"].get(w) is not None
        and g["returns"].get(w) is not None
        and s["returns"][w] > g["returns"][w]
    ]
    if len(first) >= 3 and len(beats_gold) == len(windows):
        verdict = "supported"
    elif len(beats_gold) < len(windows) / 2:
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    gap3 = (
        None
        if s["returns"].get("3M") is None or g["returns"].get("3M") is None
        else s["returns"]["3M"] - g["returns"]["3M"]
    )
    return {
        "verdict": verdict,
        "numbers": [
            _number(
                "windows where silver ranks first", f"{len(first)} of {len(windows)}", len(first)
            ),
            _number("silver minus gold, 3M return", _pct(gap3), gap3),
            _number(
                "silver's risk-adjusted rank (3M)",
                str(s["risk_adjusted_rank"].get("3M")),
                s["risk_adjusted_rank"].get("3M"),
            ),
        ],
        "explanation": (
            f"Across {len(assets)} assets, silver ranks first over "
            f"{', '.join(first) if first else 'no window'} and beats gold over "
            f"{len(beats_gold)} of {len(windows)} windows ({', '.join(windows)}). Over 3 months "
            f"silver returned {_pct(s['returns'].get('3M'))} against gold's "
            f"{_pct(g['returns'].get('3M'))}; per unit of volatility it ranks "
            f"{s['risk_adjusted_rank'].get('3M')} of {len(assets)}."
        ),
        "rule": "supported: silver ranks first in at least 3 of the 1M/3M/6M/YTD/1Y windows and "
        "beats gold in all of them; not supported: it beats gold in fewer than half",
        "chart": {
            "kind": "ranking",
            "title": "Returns by window",
            "windows": snap["windows"],
            "assets": {
                k: [v["returns"].get(w) for w in snap["windows"]] for k, v in assets.items()
            },
        },
    }


def _c3(div: dict[str, Any]) -> dict[str, Any]:
    z = div["relative_strength_z"]
    sp = {x["bars"]: x for x in div["spreads"]}
    sz = sp[63]["spread_z"]
    breakdown = [c["window"] for c in div["correlations"] if c["breakdown"]]
    zmax = max(abs(z or 0.0), abs(sz or 0.0))
    verdict = "supported" if zmax >= 2 else "not supported" if zmax < 1 else "inconclusive"
    return {
        "verdict": verdict,
        "numbers": [
            _number("relative strength z (silver/BTC, 252 bars)", _num(z), z),
            _number("63-bar return spread", _pct(sp[63]["spread"]), sp[63]["spread"]),
            _number("63-bar spread z (756 bars)", _num(sz), sz),
        ],
        "explanation": (
            f"Over 63 trading days silver beat Bitcoin by {_lp(sp[63]['spread'])}, "
            f"{_num(sz)} standard deviations of that spread's past three years; the silver/"
            f"Bitcoin ratio stands {_num(z)} sd from its one-year mean. The daily-return "
            "correlation "
            + (
                f"has broken down (bottom decile) over {', '.join(map(str, breakdown))} bars."
                if breakdown
                else "has not broken down: the two still co-move day to day at their usual "
                "(low) level, they diverge in trend."
            )
        ),
        "rule": "supported: |z| >= 2 for the relative strength or the 63-bar spread; not "
        "supported: both below 1; otherwise inconclusive",
        "chart": {
            "kind": "relative_strength",
            "title": "Silver / Bitcoin: relative strength and its z-score (month ends)",
            "dates": [h["date"] for h in div.get("history", [])],
            "ratio": [h.get("relative_strength") for h in div.get("history", [])],
            "z": [h.get("relative_strength_z") for h in div.get("history", [])],
        },
    }


def _c4(sh: dict[str, Any], regime: dict[str, Any]) -> dict[str, Any]:
    tails = {r["asset"]: {t["quantile"]: t for t in r["safe_haven"]} for r in sh["regressions"]}
    silver_start = next(r for r in sh["regressions"] if r["asset"] == "silver")["start"]
    silver5 = tails["silver"][0.05]
    gold5 = tails["gold"][0.05]
    ev = {(e["phase"], e["indicator"]): e for e in regime["evidence"]}
    vix_pct = ev[(1, "vix_percentile")]["value"]
    vix_chg = ev[(1, "vix_change")]["value"]
    fear_up = bool((vix_pct or 0) > 0.6 or (vix_chg or 0) > 0)
    haven = silver5["verdict"] in ("strong", "weak") or gold5["verdict"] in ("strong", "weak")
    verdict = (
        "supported"
        if haven and fear_up
        else "not supported"
        if not haven and not fear_up
        else "inconclusive"
    )
    return {
        "verdict": verdict,
        "numbers": [
            _number(
                "silver on the worst 5% equity days (slope, HAC se)",
                f"{silver5['total_slope']:+.2f} ± {1.96 * silver5['std_err']:.2f} "
                f"({silver5['verdict']} haven)",
                silver5["total_slope"],
            ),
            _number(
                "gold on the worst 5% equity days",
                f"{gold5['total_slope']:+.2f} ± {1.96 * gold5['std_err']:.2f} "
                f"({gold5['verdict']} haven)",
                gold5["total_slope"],
            ),
            _number(
                "VIX: percentile of 3 years / change over 63 bars",
                f"{100 * (vix_pct or 0):.0f}th / {_num(vix_chg)} pts",
                vix_pct,
            ),
        ],
        "explanation": (
            f"On the 5% worst S&P 500 days since {silver_start}, "
            f"silver's slope on equities is {silver5['total_slope']:+.2f} ({silver5['verdict']} "
            f"safe haven) and gold's {gold5['total_slope']:+.2f} ({gold5['verdict']}): "
            + (
                "gold holds up in equity sell-offs, silver falls with them. "
                if gold5["verdict"] != "no" and silver5["verdict"] == "no"
                else "see the slopes for which metal holds up. "
            )
            + f"Uncertainty today: the VIX is at the {100 * (vix_pct or 0):.0f}th percentile of "
            f"its last 3 years and {'higher' if (vix_chg or 0) > 0 else 'lower'} than 63 trading "
            f"days ago ({_num(vix_chg)} points), so fear is "
            f"{'rising' if fear_up else 'not rising'}."
        ),
        "rule": "supported: gold or silver is at least a weak safe haven on the 5% worst equity "
        "days AND fear is up (VIX above its 60th percentile or higher than 63 bars ago); not "
        "supported: neither; otherwise inconclusive",
        "chart": {
            "kind": "tails",
            "title": "Slope on equities in the worst equity days (95% CI)",
            "assets": {
                a: [
                    {
                        "quantile": q,
                        "slope": t["total_slope"],
                        "low": t["total_slope"] - 1.96 * t["std_err"],
                        "high": t["total_slope"] + 1.96 * t["std_err"],
                    }
                    for q, t in qs.items()
                ]
                for a, qs in tails.items()
            },
        },
    }


def _c5(dr: dict[str, Any]) -> dict[str, Any]:
    att = dr["attribution"]
    contrib = {c["driver"]: c for c in att["contributions"]}
    macro = ("real_yield", "dollar", "rate_expectations")
    total = sum(contrib[d]["contribution"] for d in macro)
    low = sum(contrib[d]["ci_low"] for d in macro)
    share = total / att["actual"] if att["actual"] else None
    coefs = {c["name"]: c for c in dr["regression"]["coefficients"]}
    if share is not None and share >= 0.25 and low > 0:
        verdict = "supported"
    elif share is None or share < 0.10 or low <= 0:
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    return {
        "verdict": verdict,
        "numbers": [
            _number(
                f"real yield + dollar + rate expectations, {att['start']}..{att['end']}",
                f"{_lp(total)} of {_lp(att['actual'])} ({_pct(share, 0)} of the move)",
                total,
            ),
            _number(
                "silver beta on the dollar (HAC t)",
                f"{coefs['dollar']['coef']:+.2f} (t {coefs['dollar']['t']:+.1f})",
                coefs["dollar"]["coef"],
            ),
            _number(
                "silver beta on the real yield, per pp (HAC t)",
                f"{coefs['real_yield']['coef']:+.3f} (t {coefs['real_yield']['t']:+.1f})",
                coefs["real_yield"]["coef"],
            ),
        ],
        "explanation": (
            f"Regressing silver's daily log returns on the drivers over {dr['estimation']} "
            f"(R² {dr['regression']['rsquared']:.2f}), then applying the betas to the drivers' "
            f"moves from {att['start']} to {att['end']}: the real yield contributed "
            f"{_lp(contrib['real_yield']['contribution'])} (it moved "
            f"{contrib['real_yield']['driver_move']:+.2f} pp), the dollar "
            f"{_lp(contrib['dollar']['contribution'])}, rate expectations "
            f"{_lp(contrib['rate_expectations']['contribution'])}, against an actual move of "
            f"{_lp(att['actual'])}; {_lp(att['unexplained'])} is unexplained."
        ),
        "rule": "supported: real yield, dollar and rate-expectation contributions together "
        "explain at least 25% of the move with the sum of their lower 95% bounds above 0; not "
        "supported: under 10% or a lower bound at or below 0; otherwise inconclusive",
        "chart": {
            "kind": "attribution",
            "title": f"Silver's move {att['start']}..{att['end']}, by driver (log points)",
            "labels": [dr["driver_labels"][c["driver"]] for c in att["contributions"]]
            + ["drift", "unexplained", "actual"],
            "values": [c["contribution"] for c in att["contributions"]]
            + [att["drift"], att["unexplained"], att["actual"]],
            "low": [c["ci_low"] for c in att["contributions"]] + [None, None, None],
            "high": [c["ci_high"] for c in att["contributions"]] + [None, None, None],
        },
        "notes": dr.get("notes", []),
    }


def _c6(gs: RatioHistory) -> dict[str, Any]:
    ratio, monthly, now, pct = gs.ratio, gs.monthly, gs.now, gs.percentile
    return {
        "verdict": "not testable with the data at hand",
        "numbers": [
            _number("gold/silver ratio", f"{now:.1f}", now),
            _number(
                f"its percentile since {ratio.index[0].date().isoformat()}",
                f"{100 * pct:.0f}th",
                pct,
            ),
        ],
        "explanation": (
            "Deficits, by-product supply and industrial demand are not price series; import them "
            "with `havenflow data import` to show them here. What prices do say: the gold/silver "
            f"ratio is {now:.1f}, at the {100 * pct:.0f}th percentile of its history since "
            f"{ratio.index[0].year} — "
            + (
                "silver is dear relative to gold, consistent with (not proof of) a scarcity "
                "premium."
                if pct < 0.2
                else "silver is not unusually dear relative to gold."
            )
        ),
        "rule": "fundamental claims need fundamental data: without it the verdict is 'not "
        "testable'; the gold/silver ratio is context, not a test",
        "chart": {
            "kind": "line",
            "title": "Gold / silver ratio (month ends)",
            "dates": [d.date().isoformat() for d in pd.DatetimeIndex(monthly.index)],
            "values": monthly.tolist(),
        },
    }


def _c7(sh: dict[str, Any]) -> dict[str, Any]:
    cc = sh["conditional_correlation"]
    by = {c["partner"]: c for c in cc["correlations"]}
    spx, gold = by["sp500"], by["gold"]
    btc_hedge = next(r for r in sh["regressions"] if r["asset"] == "bitcoin")["hedge"]
    risk = spx["stress_ci"][0] > 0 and spx["stress"] > gold["stress"]
    not_risk = spx["stress_ci"][1] < gold["stress_ci"][0]
    verdict = "supported" if risk else "not supported" if not_risk else "inconclusive"
    return {
        "verdict": verdict,
        "numbers": [
            _number(
                "BTC–S&P 500 correlation, stress vs calm",
                f"{spx['stress']:+.2f} [{spx['stress_ci'][0]:+.2f}, {spx['stress_ci'][1]:+.2f}] "
                f"vs {spx['calm']:+.2f}",
                spx["stress"],
            ),
            _number(
                "BTC–gold correlation, stress vs calm",
                f"{gold['stress']:+.2f} [{gold['stress_ci'][0]:+.2f}, {gold['stress_ci'][1]:+.2f}] "
                f"vs {gold['calm']:+.2f}",
                gold["stress"],
            ),
            _number(
                "BTC beta on the S&P 500 (all days)",
                f"{btc_hedge['slope']:+.2f}",
                btc_hedge["slope"],
            ),
        ],
        "explanation": (
            f"On {cc['n_stress_days']} stress days ({sh['stress_definition']}) Bitcoin's daily "
            f"correlation with the S&P 500 is {spx['stress']:+.2f} against {spx['calm']:+.2f} on "
            f"{cc['n_calm_days']} calm days (difference {spx['difference']:+.2f}, 95% CI "
            f"{spx['difference_ci'][0]:+.2f}..{spx['difference_ci'][1]:+.2f}); with gold it is "
            f"{gold['stress']:+.2f}. In stress Bitcoin moves "
            + (
                "more with equities than with gold."
                if spx["stress"] > gold["stress"]
                else "more with gold."
            )
        ),
        "rule": "supported: the stress correlation with equities is above 0 (95% CI) and above "
        "the stress correlation with gold; not supported: it is below gold's (CIs apart)",
        "chart": {
            "kind": "stress_bars",
            "title": "Bitcoin's correlation in stress and calm (95% block-bootstrap CI)",
            "partners": [c["partner"] for c in cc["correlations"]],
            "stress": [c["stress"] for c in cc["correlations"]],
            "stress_ci": [c["stress_ci"] for c in cc["correlations"]],
            "calm": [c["calm"] for c in cc["correlations"]],
            "calm_ci": [c["calm_ci"] for c in cc["correlations"]],
        },
    }


def _c8(regime: dict[str, Any], weekly_prices: dict[str, Any]) -> dict[str, Any]:
    from havenflow.analytics.regime import PHASE_NAMES

    phase = regime["phase"]
    probs = regime.get("probabilities") or {}
    hmm_phase = max(probs, key=lambda k: probs[k]) if probs else None
    rules1 = phase == 1
    hmm1 = hmm_phase == "1"
    verdict = (
        "supported" if rules1 and hmm1 else "inconclusive" if rules1 or hmm1 else "not supported"
    )
    trans = {t["from_phase"]: t for t in regime["transitions"]}
    t1 = trans[1]
    met = [e["condition"] for e in regime["evidence"] if e["phase"] == phase and e["met"]]
    mk = regime["markov"]
    agree = mk.get("agreement_with_rules_out_of_sample")
    if probs and hmm_phase:
        markov_text = (
            f"gives phase {hmm_phase} the highest probability ({probs[hmm_phase]:.2f}) for the "
            f"week of {mk['asof']}. Out of sample (point-in-time probabilities only, "
            f"{mk['agreement_weeks']} weeks from {mk['first_probability']}) its most likely "
            f"phase is the rules' phase on {100 * agree:.0f}% of weeks "
            f"({100 * mk['agreement_by_chance']:.0f}% expected by chance from how often each "
            "says each phase)."
        )
    else:
        markov_text = "could not be fitted."
    stress = [  # the sanity table's stress episodes, whatever the rules say about them
        f"{e['episode']}: phase {e['rules_phase']} on {100 * e['rules_share']:.0f}% of weeks"
        for e in regime.get("episodes", [])
        if e["sensible"] == [1] and e["weeks"]
    ]
    return {
        "verdict": verdict,
        "numbers": [
            _number(
                "phase by the rules (since)",
                f"{phase} {PHASE_NAMES[phase]} (since {regime['phase_since']})",
                phase,
            ),
            _number(
                "Markov-switching filtered P(phase 1), point-in-time",
                "n/a" if not probs else f"{probs['1']:.2f}",
                probs.get("1"),
            ),
            _number(
                "Markov vs rules, same phase out of sample (weeks)",
                "n/a" if agree is None else f"{100 * agree:.0f}% ({mk['agreement_weeks']})",
                agree,
            ),
            _number(
                "what followed phase 1 (completed spells)",
                f"→2: {t1['to_2']}, →3: {t1['to_3']}, →4: {t1['to_4']}; median "
                f"{t1['median_bars_before_switch'] or 0:.0f} bars",
                t1["completed"],
            ),
        ],
        "explanation": (
            f"On {regime['asof']} the rules put the cycle in phase {phase} "
            f"({PHASE_NAMES[phase]}), smoothed scores "
            + ", ".join(f"{k}: {v:.2f}" for k, v in regime["smoothed_scores"].items())
            + f". Conditions met for it: {'; '.join(met) if met else 'none'}. The Markov-switching "
            "model (re-estimated at every month end on the data known then, filtered "
            "probabilities only) "
            + markov_text
            + (
                " Known stress episodes (phase 1 expected) by the rules: " + "; ".join(stress) + "."
                if stress
                else ""
            )
            + f" Since {regime['timeline'][0]['start'][:4]}, phase 1 ended {t1['completed']} "
            f"times: {t1['to_2']} times in phase 2 (debasement), {t1['to_3']} in risk-on, "
            f"{t1['to_4']} in tightening."
        ),
        "rule": "supported: the rules and the Markov model both say phase 1; inconclusive: one "
        "of them; not supported: neither",
        "chart": {
            "kind": "phases",
            "title": "Phases (rules) behind silver, gold and Bitcoin (weekly, log scale)",
            "spells": regime["timeline"],
            **weekly_prices,
        },
    }


def _c9(dr_btc: dict[str, Any]) -> dict[str, Any]:
    t = dr_btc["implied_by"]["target"]
    ref = dr_btc["implied_by"]
    outside_pi = t["actual"] < t["prediction_low"] or t["actual"] > t["prediction_high"]
    outside_ci = t["actual"] < t["ci_low"] or t["actual"] > t["ci_high"]
    verdict = "supported" if outside_pi else "inconclusive" if outside_ci else "not supported"
    return {
        "verdict": verdict,
        "numbers": [
            _number(
                "BTC implied by silver's drivers (95% CI)",
                f"{_lp(t['implied'])} [{100 * t['ci_low']:+.1f}, {100 * t['ci_high']:+.1f}]",
                t["implied"],
            ),
            _number("BTC actual", _lp(t["actual"]), t["actual"]),
            _number(
                "range with BTC's own noise (95%)",
                f"[{100 * t['prediction_low']:+.1f}, {100 * t['prediction_high']:+.1f}] log points",
                t["prediction_low"],
            ),
        ],
        "explanation": (
            f"From {t['start']} to {t['end']} silver moved {_lp(ref['reference_move'])}. "
            f"Applying Bitcoin's own betas to the same drivers' moves gives {_lp(t['implied'])} "
            f"(95% CI {100 * t['ci_low']:+.1f}..{100 * t['ci_high']:+.1f}); Bitcoin actually moved "
            f"{_lp(t['actual'])}, a gap of {_lp(t['gap'])}. "
            + (
                "That gap is larger than Bitcoin's own unexplained noise over the window."
                if outside_pi
                else "The gap is outside the drivers' interval but inside the range Bitcoin's "
                "own idiosyncratic noise produces over "
                f"{t['n_bars']} bars ({100 * t['prediction_low']:+.1f}.."
                f"{100 * t['prediction_high']:+.1f})."
                if outside_ci
                else "The actual move is inside the implied interval."
            )
        ),
        "rule": "supported: the actual move lies outside the prediction interval (drivers plus "
        "BTC's residual noise); inconclusive: outside the drivers' CI only; not supported: "
        "inside the CI",
        "chart": {
            "kind": "implied",
            "title": "Bitcoin: factor-implied vs actual move (log points)",
            "implied": t["implied"],
            "ci": [t["ci_low"], t["ci_high"]],
            "prediction": [t["prediction_low"], t["prediction_high"]],
            "actual": t["actual"],
        },
    }


def irf_chart(var: VARLeadLagResult, title: str) -> dict[str, Any]:
    """Chart spec of each follower's impulse responses to the leaders' shocks, with bands."""
    return {
        "kind": "irf",
        "title": title,
        "unit": var.lag_unit,
        "shock": var.irf.shock,
        "bands": f"{var.irf.level:.0%} residual-bootstrap bands ({var.irf.replicates} replicates)",
        "responses": var.responses(),
    }


def _c10_var_number(var: VARLeadLagResult | None, error: str | None) -> dict[str, Any]:
    if var is None:
        return _number("VAR block Granger (HAC)", f"n/a ({error})", None)
    f, b = var.forward, var.backward
    return _number(
        f"VAR block Granger {f.direction.replace('->', '→')} ({f.cov_type})",
        f"F {f.stat:.2f}, p {f.pvalue:.2f} at VAR({var.var.lag_order}) "
        f"({(var.var.ic or 'given').upper()}, ≤ {var.var.selection.max_lags} {var.lag_unit}); "
        f"reverse p {b.pvalue:.2f}",
        f.pvalue,
    )


def _c10_var_text(var: VARLeadLagResult | None, error: str | None) -> str:
    if var is None:
        return f" The VAR block Granger test could not be computed on this date: {error}."
    v, f, b = var.var, var.forward, var.backward
    leaders = " and ".join(var.leaders)
    follower = ", ".join(var.followers)
    freq = {"weeks": "weekly", "business days": "daily", "months": "monthly"}
    text = (
        f" In a VAR of {freq.get(var.lag_unit, var.lag_unit)} returns of {', '.join(v.names)} "
        f"(order {v.lag_order} chosen by "
        f"{(v.ic or 'given').upper()} among 1..{v.selection.max_lags} {var.lag_unit}), the joint "
        f"test that the past returns of {leaders} add nothing to {follower}'s has p "
        f"{f.pvalue:.2f} "
        f"({f.covariance} F test, {f.df_num} restrictions); the reverse direction, "
        f"{b.direction.replace('->', '→')}, has p {b.pvalue:.2f}."
    )
    if var.irf.periods >= 1:
        parts = []
        for r in var.responses():
            parts.append(
                f"{_pct(r['irf'][1], 2)} [{_pct(r['lower'][1], 2)}, {_pct(r['upper'][1], 2)}] "
                f"to a {r['impulse']} shock"
            )
        text += (
            f" One {var.lag_unit[:-1] if var.lag_unit.endswith('s') else var.lag_unit} later, "
            f"{follower}'s response (log return, one-sd orthogonalised shock, "
            f"{var.irf.level:.0%} bootstrap band) is " + "; ".join(parts) + "."
        )
    return text + " This VAR test is reported as evidence; it does not enter the verdict rule."


def _c10(
    xc: dict[str, Any],
    gr: dict[str, Any],
    roll: dict[str, Any],
    ev: dict[str, Any],
    var: VARLeadLagResult | None = None,
    var_error: str | None = None,
) -> dict[str, Any]:
    lead = xc["pvalue"] < 0.05 and xc["lag"] > 0
    granger = gr["pvalue"] is not None and gr["pvalue"] < 0.05
    hs = [h for h in ev["horizons"] if h["horizon"] >= 21]
    sig_up = [h for h in hs if h["verdict"] == "higher than baseline"]
    evidence_for = lead or bool(sig_up)
    enough = ev["n_events"] >= 10
    if evidence_for and (lead or granger):
        verdict = "supported"
    elif not evidence_for and not granger and enough:
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    h63 = next((h for h in ev["horizons"] if h["horizon"] == 63), hs[0] if hs else None)
    return {
        "verdict": verdict,
        "numbers": [
            _number(
                f"best lag, weekly cross-correlation (±{xc['profile'][-1]['lag']} weeks)",
                f"{xc['lag']:+d} weeks, r {xc['correlation']:+.2f}, scan-adjusted p "
                f"{xc['pvalue']:.2f} (naive {xc['naive_pvalue']:.3f})",
                xc["pvalue"],
            ),
            _number(
                "Granger silver → bitcoin (HAC)",
                f"p {gr['pvalue']:.2f} at {gr['lag_order']} week(s)",
                gr["pvalue"],
            ),
            _c10_var_number(var, var_error),
            _number(
                f"BTC excess return 63 days after {ev['trigger']} ({ev['n_events']} events)",
                "n/a"
                if h63 is None or h63["excess_mean"] is None
                else f"{_pct(h63['excess_mean'])} [{_pct(h63['ci_low'])}, {_pct(h63['ci_high'])}], "
                f"p {h63['pvalue']:.2f}",
                None if h63 is None else h63["excess_mean"],
            ),
        ],
        "explanation": (
            f"Scanning weekly returns at lags −{xc['profile'][-1]['lag']}..+"
            f"{xc['profile'][-1]['lag']} weeks, the strongest link is at {xc['lag']:+d} "
            f"weeks (positive = silver first), r {xc['correlation']:+.2f}; against a null that "
            "accounts for scanning every lag and for volatility clustering its p-value is "
            f"{xc['pvalue']:.2f} (a naive test of that single lag would say "
            f"{xc['naive_pvalue']:.3f}). In rolling {roll['window']}-week windows, "
            f"{roll['n_significant']} of {roll['n_windows']} show a significant lead at 5%; "
            "because the windows overlap, chance alone gives "
            f"{roll['expected_significant']:.1f} on average for this design (95% range "
            f"{roll['significant_null_range'][0]}–{roll['significant_null_range'][1]}), so the "
            f"count's p-value is {roll['count_pvalue']:.2f}. After {ev['n_events']} "
            f"silver breakouts ({ev['description']}), Bitcoin's forward returns "
            + (
                "beat the baseline significantly at "
                f"{', '.join(str(h['horizon']) for h in sig_up)} days."
                if sig_up
                else "do not differ significantly from its unconditional baseline at any horizon "
                "from 1 to 6 months."
            )
            + _c10_var_text(var, var_error)
        ),
        "rule": "supported: a significant positive best lag (scan-adjusted p < 0.05) or a "
        "significant post-breakout excess, backed by the scan or Granger; not supported: none "
        "of these with at least 10 events; otherwise inconclusive",
        "charts": [
            leadlag_chart(
                xc,
                f"{xc['leader']} → {xc['follower']}: weekly cross-correlation by lag with the "
                "95% null band",
            ),
            rolling_chart(
                roll,
                f"Rolling {roll['window']}-week best lag (weeks; filled = significant at 5%)",
            ),
            event_chart(
                ev, f"Bitcoin after {ev['trigger']}: average path vs baseline (log return)"
            ),
            *(
                [
                    irf_chart(
                        var,
                        f"{', '.join(var.followers)}: response to a one-sd "
                        f"{' or '.join(var.leaders)} shock (VAR({var.var.lag_order}), log "
                        f"return, {var.irf.level:.0%} bootstrap band)",
                    )
                ]
                if var is not None
                else []
            ),
        ],
    }


def _c11(out: dict[str, Any]) -> dict[str, Any]:
    hs = [h for h in out["horizons"] if "p_up" in h]
    edge = [h for h in hs if h["edge"]]
    if not edge:
        verdict = "inconclusive"
    else:
        short = next((h for h in hs if h["horizon"] == 21), None)
        long = next((h for h in hs if h["horizon"] == 126), None)
        not_now = short is not None and short["p_up"] <= short["baseline_p_up"]
        later = long is not None and long["quantiles"]["50"] > 0
        verdict = "supported" if not_now and later else "not supported"

    def line(h: dict[str, Any]) -> str:
        return (
            f"{h['label']}: P(up) {h['p_up']:.0%} (baseline {h['baseline_p_up']:.0%}), "
            f"median {_pct(math.expm1(h['quantiles']['50']))}"
        )

    return {
        "verdict": verdict,
        "numbers": [
            _number(f"outlook {h['label']} ({h['method']})", line(h), h["p_up"]) for h in hs
        ],
        "explanation": (
            f"Given the state on {out['asof']} (silver breakout "
            f"{'active' if out['state'].get('silver_breakout') == 1.0 else 'not active'}, "
            f"divergence {_lp(out['state'].get('metals_minus_bitcoin'))}, phase-1 dummy "
            f"{out['state'].get('phase_1')}), the walk-forward record says: {out['verdict']}. "
            + (
                "With no out-of-sample edge, the honest outlook is the unconditional one: the "
                "state adds nothing that survived testing."
                if not edge
                else "The conditional outlook is shown where it beat the baseline."
            )
        ),
        "rule": "inconclusive unless a conditional model beats the baseline out of sample "
        "(one-sided DM test on CRPS, Bonferroni over 3 models); then supported if the 1M P(up) "
        "is at most the baseline's and the 6M median is positive",
        "chart": {
            "kind": "fan",
            "title": "Bitcoin forward return quantiles: shown outlook, conditional model "
            "and baseline",
            "horizons": [h["label"] for h in hs],
            "shown": [h["quantiles"] for h in hs],
            "baseline": [h["baseline_quantiles"] for h in hs],
            "conditional": [(h["conditional"] or {}).get("quantiles") for h in hs],
        },
    }


# ---- assembly ----------------------------------------------------------------------------------


def _guard(claim_id: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A claim whose data is missing gets an explicit 'inconclusive' with the reason.

    Only :class:`HavenflowError` (missing or insufficient data, refused input) is turned into a
    verdict; anything else (a missing field, a bug) propagates: a renamed key must fail the
    build, never turn a verdict into "inconclusive".
    """
    try:
        return fn()
    except HavenflowError as exc:
        return {
            "verdict": "inconclusive",
            "numbers": [],
            "explanation": f"Could not be computed on this date: {exc}",
            "rule": "",
            "chart": None,
        }


def build_report(repo: DataRepository, options: ReportOptions | None = None) -> dict[str, Any]:
    """Compute every claim for ``options.asof`` and return the report as plain JSON types."""
    from havenflow.services import (
        CORE_IDS,
        LeadLagRequest,
        _aligned_levels,
        common_asof,
        run_divergence,
        run_drivers,
        run_events,
        run_leadlag,
        run_outlook,
        run_regime,
        run_safehaven,
        run_snapshot,
    )

    o = options or ReportOptions()
    # Default: the last date the core series share (not the latest date of any series).
    start = o.asof or common_asof(repo, CORE_IDS).asof.date().isoformat()
    snap = run_snapshot(repo, None, start).to_dict()
    asof = snap["asof"]
    levels, _, _ = _aligned_levels(repo, ["silver", "gold", "bitcoin"], "B", asof)
    regime_outcome = run_regime(repo, asof, seed=o.seed)
    regime = regime_outcome.to_dict()
    sh = run_safehaven(repo, asof, o.seed).to_dict()
    claims: dict[str, dict[str, Any]] = {}
    claims["C1"] = _guard("C1", lambda: _c1(snap, levels["silver"].dropna()))
    claims["C2"] = _guard("C2", lambda: _c2(snap))
    claims["C3"] = _guard(
        "C3", lambda: _c3(run_divergence(repo, "silver", "bitcoin", asof).to_dict(history=True))
    )
    claims["C4"] = _guard("C4", lambda: _c4(sh, regime))
    claims["C5"] = _guard(
        "C5",
        lambda: _c5(run_drivers(repo, "silver", asof=asof, window=o.attribution_window).to_dict()),
    )
    gs = ratio_history(levels["gold"], levels["silver"])
    claims["C6"] = _guard("C6", lambda: _c6(gs))
    claims["C7"] = _guard("C7", lambda: _c7(sh))
    weekly = _weekly(levels[["silver", "gold", "bitcoin"]], start="2006-01-01")
    claims["C8"] = _guard("C8", lambda: _c8(regime, weekly))
    claims["C9"] = _guard(
        "C9",
        lambda: _c9(
            run_drivers(
                repo, "bitcoin", asof=asof, window=o.attribution_window, implied_by="silver"
            ).to_dict()
        ),
    )

    def c10() -> dict[str, Any]:
        base = {
            "leader": o.leader,
            "follower": o.follower,
            "freq": o.leadlag_freq,
            "max_lag": o.leadlag_max_lag,
            "asof": asof,
            "seed": o.seed,
            "replicates": o.replicates,
        }
        xc = run_leadlag(repo, LeadLagRequest(**base)).to_dict()
        gr = run_leadlag(repo, LeadLagRequest(**base, method="granger")).to_dict()
        roll = run_leadlag(
            repo,
            LeadLagRequest(**{**base, "replicates": 199}, rolling=True),
        ).to_dict()
        ev = run_events(
            repo, o.trigger, o.event_target, asof=asof, replicates=o.replicates, seed=o.seed
        ).to_dict()
        # The VAR block test is evidence, not part of the verdict: when it cannot be computed
        # the claim keeps its verdict and says why the VAR is missing.
        var: VARLeadLagResult | None = None
        var_error: str | None = None
        try:
            res = run_leadlag(
                repo,
                LeadLagRequest(
                    **{**base, "leader": o.var_leaders, "max_lag": o.var_max_lag},
                    method="var",
                    ic=o.var_ic,
                ),
            )
            assert isinstance(res, VARLeadLagResult)
            var = res
        except HavenflowError as exc:
            var_error = str(exc)
        return _c10(xc, gr, roll, ev, var, var_error)

    claims["C10"] = _guard("C10", c10)
    claims["C11"] = _guard(
        "C11",
        lambda: _c11(run_outlook(repo, "bitcoin", asof, rules=regime_outcome.rules).to_dict()),
    )

    data = []
    for sid in REPORT_SERIES:
        try:
            ls = repo.load(sid, asof)
        except HavenflowError:
            continue
        spec = get_spec(sid)
        data.append(
            {
                "id": sid,
                "name": spec.name,
                "first": pd.Timestamp(ls.values.index[0]).date().isoformat(),
                "last": pd.Timestamp(ls.values.index[-1]).date().isoformat(),
                "origin": ls.origin,
                "attribution": spec.attribution,
            }
        )
    report = {
        "title": "havenflow: the safe-haven rotation claims, tested",
        "asof": asof,
        "havenflow_version": __version__,
        "seed": o.seed,
        "options": o.__dict__,
        "summary": [
            {"id": cid, "claim": CLAIMS[cid], "verdict": claims[cid]["verdict"]} for cid in CLAIMS
        ],
        "claims": [{"id": cid, "claim": CLAIMS[cid], **claims[cid]} for cid in CLAIMS],
        "methods": _methods(o),
        "data": data,
        "notes": snap.get("notes", []),
    }
    return dict(jsonable(report))


def _methods(o: ReportOptions) -> list[dict[str, str]]:
    return [
        {
            "name": "Point-in-time",
            "text": f"Every number uses values known on or before {o.asof or 'the last date'} "
            "(publication lags for monthly and weekly series included).",
        },
        {
            "name": "Performance (C1, C2)",
            "text": "Calendar windows 1W/1M/3M/6M/YTD/1Y on each asset's own calendar; "
            "acceleration = 1M minus 6M annualised log return; breakouts at 20/55/252 bars.",
        },
        {
            "name": "Divergence (C3)",
            "text": "Relative-strength z over 252 bars; 63-bar spread z over 756 bars; rolling "
            "20/60/120-bar correlations against their own history.",
        },
        {
            "name": "Safe haven and stress (C4, C7)",
            "text": "Baur-McDermott regressions with Newey-West errors on the 10/5/1% worst "
            "S&P 500 days; stress = VIX above its trailing 80th percentile or the S&P 500 more "
            f"than 10% below its high; block-bootstrap CIs (seed {o.seed}).",
        },
        {
            "name": "Drivers and implied move (C5, C9)",
            "text": "OLS of daily log returns on the real-yield change, dollar return, "
            "rate-expectation change, S&P 500 return and VIX change over 3 years, HAC errors; "
            f"attribution over {o.attribution_window}.",
        },
        {
            "name": "Phases (C8)",
            "text": "Rule-based scores over 63-bar indicators, 21-bar hysteresis, acute stress "
            "(VIX above its 3-year 90th percentile, S&P 500 5% off its high) forcing phase 1; "
            "four-regime Gaussian HMM re-estimated at every month end on an expanding window "
            "(two years before the first), filtered point-in-time probabilities only; agreement "
            "between the two measured out of sample (see README for the rules).",
        },
        {
            "name": "Lead-lag and events (C10)",
            "text": f"Weekly cross-correlation at ±{o.leadlag_max_lag} lags with a block "
            f"sign-flip scan null ({o.replicates} draws, seed {o.seed}; its size is measured on "
            "a grid of nulls in benchmarks/calibration.py); HAC Granger test; rolling scans in "
            "windows of at least four times the lag range, their count of significant windows "
            "judged against the same draws applied to every window; event study of "
            f"{o.event_target} after "
            f"{o.trigger} with stationary-bootstrap inference, events 21 bars apart.",
        },
        {
            "name": "VAR block test (C10)",
            "text": f"VAR of weekly returns of {o.var_leaders.replace(',', ', ')} and "
            f"{o.follower}, order chosen by {o.var_ic.upper()} among 1..{o.var_max_lag} weeks on "
            "a common sample; joint F test that the leaders' lags add nothing to the follower "
            "(and the reverse) with a Newey-West covariance of the stacked equations; "
            "orthogonalised impulse responses with residual-bootstrap bands "
            f"({o.replicates} replicates, seed {o.seed}). Reported as evidence only.",
        },
        {
            "name": "Outlook (C11)",
            "text": "Baseline, analogues, quantile regression and their combination, re-fitted "
            "at every month end; CRPS/Brier skill with a one-sided Diebold-Mariano test "
            "(Bonferroni over 3 models). No edge: the baseline is shown.",
        },
    ]
