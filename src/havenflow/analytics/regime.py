"""Phases of the "safety first, then debasement" cycle (claim C8), point-in-time.

Two classifications of every trading day, both using data up to that day only:

1. **Rules** (the reference, documented in the README). Trailing indicators over ``window``
   bars (default 63, about three months) are compared with fixed thresholds. A phase's
   conditions fall in two groups, *leadership* (which assets lead) and *backdrop* (fear, rates,
   dollar, liquidity); its score is the mean over its groups of the share of conditions that
   hold, so who leads weighs as much as the macro backdrop (phase 4 has a backdrop only).
   Three gates act before the scores: a fear spike (VIX above the 90th percentile of its last
   three years) rules out phases 2 and 4, acute stress (a fear spike with the S&P 500 more
   than 5% below its 1-year high) leaves phase 1 only, and phase 4 needs a rising real yield.
   The day's raw phase is the best eligible score. The reported phase is the eligible leader of
   the scores averaged over the last ``confirm`` bars, and a challenger must beat the current
   phase by ``margin``, so one noisy day does not start a new phase (this hysteresis looks
   backward only; a phase that a gate rules out ends at once).
2. **Markov switching** (data-driven): a four-regime Gaussian HMM on weekly samples of the
   indicators (each week labelled by its last bar), re-estimated at every month end on the
   weeks known then and used to filter the following month, so every week's probability uses
   data and parameters from its own past (:class:`MarkovPhaseModel`). Only FILTERED
   probabilities are reported. Regimes are named at every estimate by matching their means to
   each phase's sign prototype (Hungarian assignment), so the names do not depend on the order
   in which the optimiser found the regimes and stay stable across refits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from havenflow.analytics.hmm import (
    GaussianHMM,
    GaussianHMMResult,
    diag_log_density,
    hamilton_filter,
)
from havenflow.analytics.results import Result
from havenflow.analytics.reuse import reused
from havenflow.data.align import last_bar_of_week
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "CONDITIONS",
    "KNOWN_EPISODES",
    "PHASE_IDS",
    "PHASE_NAMES",
    "Condition",
    "Episode",
    "MarkovFit",
    "MarkovPhaseModel",
    "MarkovPhaseResult",
    "PhaseClassifier",
    "PhaseResult",
    "PhaseSpec",
    "episode_table",
    "phase_gates",
    "phase_indicators",
]

PHASE_NAMES = {
    1: "safety first (defensive)",
    2: "debasement / liquidity",
    3: "risk-on",
    4: "tightening",
}
PHASE_IDS = (1, 2, 3, 4)
REQUIRED = ("vix", "sp500", "gold", "silver", "real_yield_10y", "usd_broad")
OPTIONAL = ("bitcoin", "m2", "fed_balance_sheet", "reverse_repo")


@dataclass(frozen=True)
class Condition:
    """One rule: ``indicator op threshold`` counts towards ``phase``."""

    phase: int
    indicator: str
    op: str
    threshold: float
    text: str
    group: str = "backdrop"

    def holds(self, values: pd.Series) -> pd.Series:
        """Boolean (with NA where the indicator is missing) per date."""
        hit = values > self.threshold if self.op == ">" else values < self.threshold
        return hit.astype("boolean").mask(values.isna())


CONDITIONS: tuple[Condition, ...] = (
    Condition(1, "vix_percentile", ">", 0.6, "VIX above the 60th percentile of its last 3 years"),
    Condition(1, "vix_change", ">", 0.0, "VIX higher than one window ago"),
    Condition(1, "equity_drawdown", "<", -0.05, "S&P 500 more than 5% below its 1-year high"),
    Condition(
        1,
        "metals_minus_bitcoin",
        ">",
        0.0,
        "gold and silver beat Bitcoin over the window",
        "leadership",
    ),
    Condition(
        1,
        "metals_minus_equities",
        ">",
        0.0,
        "gold and silver beat the S&P 500 over the window",
        "leadership",
    ),
    Condition(2, "real_yield_change", "<", 0.0, "10-year real yield lower than one window ago"),
    Condition(2, "dollar_change", "<", 0.0, "broad dollar weaker than one window ago"),
    Condition(2, "liquidity_score", ">", 0.0, "liquidity expanding (M2, Fed assets, RRP drain)"),
    Condition(2, "vix_change", "<", 0.0, "VIX lower than one window ago (fear easing)"),
    Condition(2, "metals_minus_bitcoin", "<", 0.0, "Bitcoin beats gold and silver", "leadership"),
    Condition(2, "bitcoin_minus_equities", ">", 0.0, "Bitcoin beats the S&P 500", "leadership"),
    Condition(
        3, "metals_minus_equities", "<", 0.0, "the S&P 500 beats gold and silver", "leadership"
    ),
    Condition(3, "metals_minus_bitcoin", "<", 0.0, "Bitcoin beats gold and silver", "leadership"),
    Condition(3, "vix_percentile", "<", 0.5, "VIX below the median of its last 3 years"),
    Condition(3, "equity_drawdown", ">", -0.05, "S&P 500 within 5% of its 1-year high"),
    Condition(4, "real_yield_change", ">", 0.0, "10-year real yield higher than one window ago"),
    Condition(4, "dollar_change", ">", 0.0, "broad dollar stronger than one window ago"),
    Condition(4, "liquidity_score", "<", 0.0, "liquidity contracting (M2, Fed assets, RRP)"),
)

#: Sign prototype of each phase on the HMM's standardised features (for naming regimes).
HMM_FEATURES = (
    "vix_percentile",
    "equity_drawdown",
    "metals_minus_bitcoin",
    "metals_minus_equities",
    "real_yield_change",
    "dollar_change",
    "liquidity_score",
)
_PROTOTYPES = np.array(
    [
        [1.0, -1.0, 1.0, 1.0, 0.0, 0.0, 0.0],
        [-0.5, 0.0, -1.0, 0.0, -1.0, -1.0, 1.0],
        [-1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, -1.0],
    ]
)


@dataclass(frozen=True)
class PhaseSpec:
    """Parameters of the rule-based classification.

    Parameters
    ----------
    window
        Bars over which changes and relative returns are measured.
    vix_lookback
        Bars of history for the VIX percentile (at least a year is required).
    confirm
        Bars over which the scores are averaged before the leader is taken (hysteresis).
    margin
        How much a challenger's averaged score must exceed the current phase's to replace it.
    stress_vix_percentile
        A VIX above this percentile of its ``vix_lookback`` history is a fear spike: phases 2
        and 4 are then ruled out (falling real yields and a firm dollar are flight to safety,
        not debasement or tightening).
    stress_drawdown
        A fear spike with the S&P 500 more than this far below its 1-year high is acute
        stress: the phase is 1 that day, without waiting for the hysteresis.
    """

    window: int = 63
    vix_lookback: int = 756
    confirm: int = 21
    margin: float = 0.05
    stress_vix_percentile: float = 0.9
    stress_drawdown: float = -0.05

    def __post_init__(self) -> None:
        if self.window < 5 or self.vix_lookback < 252 or self.confirm < 1:
            raise DataValidationError(
                "phase spec: window >= 5, vix_lookback >= 252 and confirm >= 1 are required"
            )
        if not 0.0 <= self.margin < 1.0:
            raise DataValidationError(f"phase spec: margin must be in [0, 1), got {self.margin}")
        if not 0.5 <= self.stress_vix_percentile < 1.0:
            raise DataValidationError(
                "phase spec: stress_vix_percentile must be in [0.5, 1), got "
                f"{self.stress_vix_percentile}"
            )
        if not -1.0 < self.stress_drawdown < 0.0:
            raise DataValidationError(
                f"phase spec: stress_drawdown must be in (-1, 0), got {self.stress_drawdown}"
            )


def _sign_band(x: pd.Series, band: float) -> pd.Series:
    """+1 above ``band``, -1 below ``-band``, 0 between; NaN stays NaN."""
    out = pd.Series(np.where(x > band, 1.0, np.where(x < -band, -1.0, 0.0)), index=x.index)
    return out.mask(x.isna())


def phase_indicators(levels: pd.DataFrame, spec: PhaseSpec | None = None) -> pd.DataFrame:
    """Trailing indicators for every date of ``levels`` (a trading-day frame of levels).

    Every value at date t uses levels up to t only.
    """
    spec = spec or PhaseSpec()
    missing = [c for c in REQUIRED if c not in levels]
    if missing:
        raise DataValidationError(f"phase indicators need {', '.join(missing)}")
    w = spec.window
    lv = levels.astype(float)
    vix = lv["vix"]
    out = pd.DataFrame(index=lv.index)
    out["vix_level"] = vix
    out["vix_percentile"] = vix.rolling(spec.vix_lookback, min_periods=252).rank(pct=True)
    out["vix_change"] = vix - vix.shift(w)
    spx = lv["sp500"]
    out["equity_drawdown"] = spx / spx.rolling(252, min_periods=1).max() - 1.0
    metals = 0.5 * (np.log(lv["gold"]) + np.log(lv["silver"]))
    metals_ret = metals - metals.shift(w)
    spx_ret = np.log(spx) - np.log(spx.shift(w))
    out["metals_minus_equities"] = metals_ret - spx_ret
    if "bitcoin" in lv:
        btc_ret = np.log(lv["bitcoin"]) - np.log(lv["bitcoin"].shift(w))
        out["metals_minus_bitcoin"] = metals_ret - btc_ret
        out["bitcoin_minus_equities"] = btc_ret - spx_ret
    else:
        out["metals_minus_bitcoin"] = np.nan
        out["bitcoin_minus_equities"] = np.nan
    out["real_yield_change"] = lv["real_yield_10y"] - lv["real_yield_10y"].shift(w)
    out["dollar_change"] = np.log(lv["usd_broad"]) - np.log(lv["usd_broad"].shift(w))
    # Liquidity: each component votes +1 (expanding), -1 (contracting) or 0 (in its dead band).
    votes: list[pd.Series] = []
    if "m2" in lv:
        m2_growth = (np.log(lv["m2"]) - np.log(lv["m2"].shift(126))) * 2.0
        out["m2_growth_annualised"] = m2_growth
        # Above 5% a year is expansion (roughly M2's long-run pace); below 0 is contraction.
        votes.append(
            pd.Series(
                np.where(m2_growth > 0.05, 1.0, np.where(m2_growth < 0.0, -1.0, 0.0)),
                index=lv.index,
            ).mask(m2_growth.isna())
        )
    if "fed_balance_sheet" in lv:
        fed = np.log(lv["fed_balance_sheet"]) - np.log(lv["fed_balance_sheet"].shift(w))
        out["fed_assets_change"] = fed
        votes.append(_sign_band(fed, 0.01))
    if "reverse_repo" in lv:
        rrp = lv["reverse_repo"] - lv["reverse_repo"].shift(w)
        out["reverse_repo_change"] = rrp
        # A falling reverse-repo balance returns cash to markets: it counts as expansion.
        votes.append(-_sign_band(rrp, 50.0))
    out["liquidity_score"] = pd.concat(votes, axis=1).mean(axis=1) if votes else np.nan
    return out


def _confirm(
    smoothed: np.ndarray, eligible: np.ndarray, good: np.ndarray, margin: float
) -> np.ndarray:
    """Phase = leader of the smoothed scores among the eligible phases.

    A challenger must beat the current phase by ``margin``; a current phase that is no longer
    eligible gives way at once to the best eligible one.
    """
    out = np.zeros(len(smoothed), dtype=int)
    current = 0
    for t in range(len(smoothed)):
        if not good[t]:
            out[t] = current
            continue
        cand = np.where(eligible[t], smoothed[t], -np.inf)
        best = int(np.argmax(cand)) + 1  # ties among challengers: the lower number
        if (
            current == 0
            or not eligible[t, current - 1]
            or cand[best - 1] > cand[current - 1] + margin
        ):
            current = best
        out[t] = current
    return out


def phase_gates(indicators: pd.DataFrame, spec: PhaseSpec) -> pd.DataFrame:
    """Per date: fear spike, acute stress, rising real yield (booleans, False when unknown)."""
    fear = (indicators["vix_percentile"] > spec.stress_vix_percentile).fillna(False)
    stress = fear & (indicators["equity_drawdown"] < spec.stress_drawdown).fillna(False)
    rising = (indicators["real_yield_change"] > 0.0).fillna(False)
    return pd.DataFrame(
        {
            "fear_spike": fear.astype(bool),
            "acute_stress": stress.astype(bool),
            "real_yield_rising": rising.astype(bool),
        },
        index=indicators.index,
    )


def _eligible(gates: pd.DataFrame) -> np.ndarray:
    """``(T, 4)``: may phase k be the phase on date t? Phase 1 always may."""
    out = np.ones((len(gates), len(PHASE_IDS)), dtype=bool)
    fear = gates["fear_spike"].to_numpy()
    stress = gates["acute_stress"].to_numpy()
    out[fear, 1] = False  # no debasement phase in a fear spike
    out[fear, 3] = False  # nor tightening: a firm dollar and real yields are flight to safety
    out[stress, 2] = False  # acute stress: safety first only
    out[~gates["real_yield_rising"].to_numpy(), 3] = False  # tightening needs rising real yields
    return out


@dataclass(frozen=True)
class PhaseResult(Result):
    """Rule-based phases: indicators, scores, raw and confirmed phase for every date."""

    kind = "phases"

    spec: PhaseSpec
    indicators: pd.DataFrame
    scores: pd.DataFrame
    smoothed_scores: pd.DataFrame
    raw_phase: pd.Series
    phase: pd.Series
    gates: pd.DataFrame
    conditions: tuple[Condition, ...] = field(default=CONDITIONS)

    @property
    def asof(self) -> pd.Timestamp:
        """Last classified date."""
        return pd.Timestamp(self.phase.dropna().index[-1])

    def evidence(self, date: pd.Timestamp | str | None = None) -> list[dict[str, Any]]:
        """Every condition on ``date`` (default: the last classified one): value and verdict."""
        t = self.asof if date is None else pd.Timestamp(date)
        row = self.indicators.loc[:t].iloc[-1]
        out = []
        for c in self.conditions:
            v = row[c.indicator]
            ok = None if pd.isna(v) else bool(v > c.threshold if c.op == ">" else v < c.threshold)
            out.append(
                {
                    "phase": c.phase,
                    "indicator": c.indicator,
                    "value": None if pd.isna(v) else float(v),
                    "op": c.op,
                    "threshold": c.threshold,
                    "condition": c.text,
                    "group": c.group,
                    "met": ok,
                }
            )
        return out

    def spells(self) -> pd.DataFrame:
        """Consecutive runs of one phase: start, end, phase, bars, calendar days."""
        p = self.phase.dropna().astype(int)
        if p.empty:
            return pd.DataFrame(columns=["start", "end", "phase", "bars", "days", "ongoing"])
        change = p.ne(p.shift(1)).to_numpy()
        ids = np.cumsum(change)
        idx = pd.DatetimeIndex(p.index)
        rows = []
        for k in np.unique(ids):
            sel = np.flatnonzero(ids == k)
            start, end = idx[sel[0]], idx[sel[-1]]
            rows.append(
                {
                    "start": start,
                    "end": end,
                    "phase": int(p.iloc[sel[0]]),
                    "bars": len(sel),
                    "days": int((end - start).days) + 1,
                    "ongoing": bool(sel[-1] == len(p) - 1),
                }
            )
        return pd.DataFrame(rows)

    def durations(self) -> pd.DataFrame:
        """Per phase: completed spells, median and mean length (bars), share of dates."""
        sp = self.spells()
        p = self.phase.dropna().astype(int)
        rows = []
        for ph in PHASE_IDS:
            done = sp[(sp["phase"] == ph) & ~sp["ongoing"]]
            rows.append(
                {
                    "phase": ph,
                    "phase_name": PHASE_NAMES[ph],
                    "spells": int((sp["phase"] == ph).sum()),
                    "completed_spells": len(done),
                    "median_bars": float(done["bars"].median()) if len(done) else None,
                    "mean_bars": float(done["bars"].mean()) if len(done) else None,
                    "share_of_dates": float((p == ph).mean()) if len(p) else None,
                }
            )
        return pd.DataFrame(rows).set_index("phase")

    def transitions(self) -> pd.DataFrame:
        """What followed each phase: counts of the next phase and the median spell length."""
        sp = self.spells()
        rows = []
        for ph in PHASE_IDS:
            idx = np.flatnonzero(sp["phase"].to_numpy() == ph)
            idx = idx[idx < len(sp) - 1]
            nxt = sp["phase"].to_numpy()[idx + 1] if len(idx) else np.array([], dtype=int)
            row: dict[str, Any] = {"from_phase": ph, "completed": len(idx)}
            for to in PHASE_IDS:
                row[f"to_{to}"] = int((nxt == to).sum())
            row["median_bars_before_switch"] = (
                float(np.median(sp["bars"].to_numpy()[idx])) if len(idx) else None
            )
            rows.append(row)
        return pd.DataFrame(rows).set_index("from_phase")

    def to_frame(self) -> pd.DataFrame:
        """Per date: confirmed and raw phase, the four scores."""
        out = self.scores.copy()
        out.insert(0, "raw_phase", self.raw_phase)
        out.insert(0, "phase", self.phase)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state on the last classified date, with history tables."""
        t = self.asof
        ph = int(self.phase.loc[t])
        sp = self.spells()
        current = sp.iloc[-1]
        return {
            "asof": t.date().isoformat(),
            "phase": ph,
            "phase_name": PHASE_NAMES[ph],
            "raw_phase": int(self.raw_phase.loc[t]),
            "phase_since": pd.Timestamp(current["start"]).date().isoformat(),
            "bars_in_phase": int(current["bars"]),
            "scores": {str(k): _f(self.scores.loc[t, f"phase_{k}"]) for k in PHASE_IDS},
            "smoothed_scores": {
                str(k): _f(self.smoothed_scores.loc[t, f"phase_{k}"]) for k in PHASE_IDS
            },
            "evidence": self.evidence(t),
            "gates": {str(k): bool(v) for k, v in self.gates.loc[t].items()},
            "spec": {
                "window": self.spec.window,
                "vix_lookback": self.spec.vix_lookback,
                "confirm": self.spec.confirm,
                "margin": self.spec.margin,
                "stress_vix_percentile": self.spec.stress_vix_percentile,
                "stress_drawdown": self.spec.stress_drawdown,
            },
            "timeline": [
                {
                    "start": pd.Timestamp(start).date().isoformat(),
                    "end": pd.Timestamp(end).date().isoformat(),
                    "phase": int(ph_),
                    "bars": int(bars),
                    "ongoing": bool(ongoing),
                }
                for start, end, ph_, bars, ongoing in zip(
                    sp["start"], sp["end"], sp["phase"], sp["bars"], sp["ongoing"], strict=True
                )
            ],
            "durations": _records(self.durations().reset_index()),
            "transitions": _records(self.transitions().reset_index()),
        }

    def _summary_text(self) -> str:
        """Text summary."""
        d = self.to_dict()
        lines = [
            f"Phase on {d['asof']}: {d['phase']} ({d['phase_name']}) since {d['phase_since']} "
            f"({d['bars_in_phase']} bars); smoothed scores "
            + ", ".join(f"{k}: {_fmt(v)}" for k, v in d["smoothed_scores"].items())
        ]
        for e in d["evidence"]:
            mark = {True: "yes", False: "no", None: "n/a"}[e["met"]]
            val = "—" if e["value"] is None else f"{e['value']:+.3f}"
            lines.append(f"  [{e['phase']}] {mark:>3}  {e['condition']} ({e['indicator']} {val})")
        g = d["gates"]
        lines.append(
            "  gates: "
            + ("acute stress (phase 1 only)" if g["acute_stress"] else "no acute stress")
            + ("; fear spike (no phase 2 or 4)" if g["fear_spike"] else "")
            + ("" if g["real_yield_rising"] else "; real yield not rising (no phase 4)")
        )
        return "\n".join(lines)


def _f(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict(orient="records"):
        out.append({str(k): (None if _isnan(v) else _py(v)) for k, v in rec.items()})
    return out


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and not np.isfinite(v)


def _py(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


@dataclass(frozen=True)
class PhaseClassifier:
    """Rule-based phase of every date of ``levels`` (trading-day levels, point-in-time)."""

    levels: pd.DataFrame
    spec: PhaseSpec = field(default_factory=PhaseSpec)

    def fit(self) -> PhaseResult:
        """Compute indicators, scores and phases."""
        ind = phase_indicators(self.levels, self.spec)
        scores = pd.DataFrame(index=ind.index)
        for ph in PHASE_IDS:
            conds = [c for c in CONDITIONS if c.phase == ph]
            held = pd.concat([c.holds(ind[c.indicator]) for c in conds], axis=1)
            avail = held.notna().sum(axis=1)
            parts = []
            for group in dict.fromkeys(c.group for c in conds):
                cols = [i for i, c in enumerate(conds) if c.group == group]
                g = held.iloc[:, cols]
                n = g.notna().sum(axis=1)
                parts.append(g.fillna(False).astype(float).sum(axis=1) / n.where(n > 0))
            # Groups without data (Bitcoin before 2014) drop out of the mean.
            score = pd.concat(parts, axis=1).mean(axis=1)
            # A score on fewer than half of its conditions says too little.
            scores[f"phase_{ph}"] = score.where(avail * 2 >= len(conds))
        ok = scores.notna().all(axis=1)
        if not ok.any():
            raise InsufficientDataError(
                "phase classification: no date has enough indicator history (needs about a "
                f"year of VIX and {self.spec.window} bars of every required series)"
            )
        gates = phase_gates(ind, self.spec)
        eligible = _eligible(gates)
        s = np.where(eligible, scores.to_numpy(), -np.inf)
        raw = np.zeros(len(s), dtype=int)
        good = ok.to_numpy()
        raw[good] = np.argmax(s[good], axis=1) + 1  # ties: the lower phase number
        # Hysteresis: the phase follows the trailing mean of the scores over ``confirm`` bars,
        # so a leader must hold for a while before the phase changes; the gates act at once.
        smoothed = scores.rolling(self.spec.confirm, min_periods=1).mean()
        confirmed = _confirm(
            np.nan_to_num(smoothed.to_numpy(), nan=-1.0), eligible, good, self.spec.margin
        )
        raw_s = pd.Series(raw, index=ind.index).where(good).astype("Int64")
        phase_s = pd.Series(confirmed, index=ind.index).where(confirmed > 0).astype("Int64")
        phase_s = phase_s.where(good)
        first = int(np.argmax(good))
        return PhaseResult(
            self.spec,
            ind.iloc[first:],
            scores.iloc[first:],
            smoothed.iloc[first:],
            raw_s.iloc[first:],
            phase_s.iloc[first:],
            gates.iloc[first:],
        )


@dataclass(frozen=True)
class MarkovFit:
    """One month-end estimate of the HMM, its regimes put in phase order (1..4).

    ``means`` and ``variances`` are ``(4, len(HMM_FEATURES))`` in the indicators' own units
    (the fit standardises with its own window's mean and deviation, then maps back), so a
    later week is scored without any statistic from after ``date``. ``start`` names the EM
    start that won: ``warm`` (last month's estimate), ``rules`` (the rule-based labels) or
    ``principal direction`` (quantiles of the first principal component).
    """

    date: pd.Timestamp
    nobs: int
    means: NDArray[np.float64]
    variances: NDArray[np.float64]
    transition: NDArray[np.float64]
    llf: float
    iterations: int
    converged: bool
    start: str

    @property
    def expected_durations(self) -> NDArray[np.float64]:
        """Expected stay in each phase, in weeks: ``1 / (1 - p_ii)``."""
        stay = np.clip(np.diag(self.transition), 0.0, 1.0 - 1e-12)
        return np.asarray(1.0 / (1.0 - stay), dtype=float)


@dataclass(frozen=True)
class MarkovPhaseResult(Result):
    """Point-in-time filtered phase probabilities of the HMM (no smoothed probabilities).

    Every week's probabilities use the data up to that week and parameters estimated on the
    complete weeks up to the previous month end. Weeks before the first estimate
    (``min_weeks`` of history) have none.
    """

    kind = "phases_markov"

    probabilities: pd.DataFrame
    parameters_asof: pd.Series
    rule_phase: pd.Series
    fits: tuple[MarkovFit, ...]
    min_weeks: int

    def to_frame(self) -> pd.DataFrame:
        """One row per week: each phase's probability, the most likely one, the rules' phase.

        ``parameters_asof`` names the month end whose parameters filtered that week.
        """
        out = self.probabilities.copy()
        out["most_likely"] = self.most_likely
        out["rule_phase"] = self.rule_phase.reindex(out.index)
        out["parameters_asof"] = self.parameters_asof.reindex(out.index)
        return out

    @property
    def asof(self) -> pd.Timestamp:
        """Date of the last weekly sample (its last bar)."""
        return pd.Timestamp(self.probabilities.index[-1])

    @property
    def most_likely(self) -> pd.Series:
        """The phase with the highest filtered probability, per week."""
        arr = self.probabilities.to_numpy().argmax(axis=1) + 1
        return pd.Series(arr, index=self.probabilities.index, name="phase")

    @property
    def nobs(self) -> int:
        """Weeks in the latest estimate."""
        return self.fits[-1].nobs

    @property
    def agreement_weeks(self) -> int:
        """Weeks on which the out-of-sample agreement is computed."""
        return len(self.probabilities)

    @cached_property
    def agreement(self) -> float:
        """Share of weeks whose most likely phase (point-in-time) is the rules' phase."""
        return float(np.mean(self.most_likely.to_numpy() == self.rule_phase.to_numpy()))

    @property
    def chance_agreement(self) -> float:
        """Agreement expected if the two labels were independent with the same frequencies."""
        hmm = self.most_likely.value_counts(normalize=True)
        rules = self.rule_phase.value_counts(normalize=True)
        return float(sum(hmm.get(k, 0.0) * rules.get(k, 0.0) for k in PHASE_IDS))

    @property
    def feature_means(self) -> pd.DataFrame:
        """Mean of every feature in each phase, latest estimate (indicator units)."""
        return pd.DataFrame(self.fits[-1].means, columns=list(HMM_FEATURES), index=list(PHASE_IDS))

    def to_dict(self, history: bool = False) -> dict[str, Any]:
        """JSON-ready: the last probabilities, fit statistics; every week with ``history``."""
        last = self.probabilities.iloc[-1]
        latest = self.fits[-1]
        out: dict[str, Any] = {
            "asof": self.asof.date().isoformat(),
            "probabilities": {str(k): float(last[f"phase_{k}"]) for k in PHASE_IDS},
            "most_likely_phase": int(np.argmax(last.to_numpy()) + 1),
            "kind": "filtered, point-in-time: each week's probability uses data up to that "
            "week and parameters estimated on the complete weeks up to the previous month end "
            "(expanding window, re-estimated every month end)",
            "frequency": "weekly (each week labelled by its last bar)",
            "min_weeks": self.min_weeks,
            "first_estimate": self.fits[0].date.date().isoformat(),
            "first_probability": pd.Timestamp(self.probabilities.index[0]).date().isoformat(),
            "refits": len(self.fits),
            "parameters_asof": latest.date.date().isoformat(),
            "nobs": latest.nobs,
            "llf": latest.llf,
            "converged": latest.converged,
            "refits_not_converged": sum(not f.converged for f in self.fits),
            "estimates_by_start": {
                k: sum(f.start == k for f in self.fits)
                for k in ("warm", "rules", "principal direction")
            },
            "agreement_with_rules_out_of_sample": self.agreement,
            "agreement_weeks": self.agreement_weeks,
            "agreement_by_chance": self.chance_agreement,
            "expected_duration_weeks": {
                str(k): float(d) for k, d in zip(PHASE_IDS, latest.expected_durations, strict=True)
            },
            "regime_means": {
                str(k): {c: float(v) for c, v in row.items()}
                for k, row in self.feature_means.iterrows()
            },
        }
        if history:
            probs = self.probabilities.to_numpy()
            out["history"] = [
                {
                    "date": pd.Timestamp(d).date().isoformat(),
                    "probabilities": {str(k): float(p[k - 1]) for k in PHASE_IDS},
                    "most_likely_phase": int(np.argmax(p) + 1),
                    "rules_phase": int(r),
                    "parameters_asof": pd.Timestamp(a).date().isoformat(),
                }
                for d, p, r, a in zip(
                    self.probabilities.index,
                    probs,
                    self.rule_phase.to_numpy(),
                    self.parameters_asof.to_numpy(),
                    strict=True,
                )
            ]
        return out

    def spells(self) -> pd.DataFrame:
        """Consecutive weeks with the same most likely phase: start, end, phase, weeks."""
        p = self.most_likely
        ids = np.cumsum(p.ne(p.shift(1)).to_numpy())
        idx = pd.DatetimeIndex(p.index)
        rows = []
        for k in np.unique(ids):
            sel = np.flatnonzero(ids == k)
            rows.append(
                {
                    "start": idx[sel[0]],
                    "end": idx[sel[-1]],
                    "phase": int(p.iloc[sel[0]]),
                    "weeks": len(sel),
                }
            )
        return pd.DataFrame(rows)

    def _summary_text(self) -> str:
        """Text summary."""
        d = self.to_dict()
        return (
            f"Markov switching (filtered, point-in-time, weekly) on {d['asof']}: "
            + ", ".join(
                f"{k} {PHASE_NAMES[int(k)]}: {v:.2f}" for k, v in d["probabilities"].items()
            )
            + f"; parameters as of {d['parameters_asof']} ({d['refits']} month-end estimates since "
            f"{d['first_estimate']}); out of sample it agrees with the rules on "
            f"{d['agreement_with_rules_out_of_sample']:.0%} of {d['agreement_weeks']} weeks "
            f"({d['agreement_by_chance']:.0%} expected by chance)"
        )


def _phase_order(means_z: NDArray[np.float64]) -> NDArray[np.int_]:
    """Regime index of each phase: Hungarian matching of regime means to the prototypes."""
    norm = _PROTOTYPES / np.linalg.norm(_PROTOTYPES, axis=1, keepdims=True)
    rows, cols = linear_sum_assignment(-(means_z @ norm.T))  # regimes x phases
    order = np.empty(len(PHASE_IDS), dtype=int)
    order[cols] = rows
    return order


@dataclass(frozen=True)
class MarkovPhaseModel:
    """Four-regime Gaussian HMM on weekly samples of the phase indicators, point-in-time.

    At every month end the HMM is re-estimated by EM on the complete weeks up to that date (an
    expanding window, standardised by its own mean and deviation); the weeks of the following
    month are filtered with those parameters, the filter's state carried across refits. Weeks
    up to the first estimate have no probability. Each estimate starts from the previous
    month's parameters (a warm start); the first one, and every December one, also tries two
    cold starts, the rule-based labels and quantiles of the first principal direction, and
    keeps the highest likelihood (the likelihood has many local maxima, and a warm start alone
    never leaves its own). Regimes are named at every estimate by Hungarian matching of their
    standardised means to the phase prototypes.

    Parameters
    ----------
    indicators
        :func:`phase_indicators` output (trading days).
    rule_phase
        The rule-based phase per date (one of the cold starts, and the out-of-sample
        agreement statistic).
    min_weeks
        Complete weeks needed before the first estimate; earlier weeks get no probability.
    """

    indicators: pd.DataFrame
    rule_phase: pd.Series
    min_weeks: int = 104

    def __post_init__(self) -> None:
        if self.min_weeks < 52:
            raise DataValidationError(f"min_weeks must be at least 52, got {self.min_weeks!r}")
        missing = [c for c in HMM_FEATURES if c not in self.indicators]
        if missing:
            raise DataValidationError(f"Markov-switching phases need {', '.join(missing)}")

    def fit(
        self, seed: int | None = 0, max_iter: int = 500, tol: float = 1e-6
    ) -> MarkovPhaseResult:
        """Estimate at every month end and filter the following month.

        Parameters
        ----------
        seed
            Seed of the EM start jitter (cold starts only).
        max_iter, tol
            EM stops after ``max_iter`` iterations or when the log-likelihood gains less than
            ``tol`` (``1e-6`` gives the same weekly phases as ``1e-8`` in half the time).
        """
        feats = last_bar_of_week(self.indicators[list(HMM_FEATURES)]).dropna(how="any")
        rules_all = self.rule_phase.astype("float").reindex(feats.index)
        keep = rules_all.notna().to_numpy()
        feats = feats[keep]
        rules = rules_all[keep].to_numpy().astype(np.int64)
        dates = pd.DatetimeIndex(feats.index)
        week_end = dates.to_period("W-FRI").end_time.normalize().to_numpy()
        # The estimate in force for a week is the one made at the end of the previous month.
        in_force = (dates.to_period("M").start_time - pd.Timedelta(days=1)).to_numpy()
        month_ends = np.unique(in_force)
        complete = np.searchsorted(week_end, month_ends, side="right")
        enough = complete >= self.min_weeks
        if not enough.any():
            raise InsufficientDataError(
                f"Markov-switching phases: {len(feats)} weeks of indicators; the first estimate "
                f"needs {self.min_weeks} complete weeks before a month end"
            )
        y_all = feats.to_numpy()
        fits: list[MarkovFit] = []
        for m, n in zip(month_ends[enough], complete[enough], strict=True):
            y = y_all[:n]
            mu = y.mean(axis=0)
            sd = y.std(axis=0)
            sd = np.where(sd > 0, sd, 1.0)
            prev = fits[-1] if fits else None
            cold_too = prev is None or pd.Timestamp(m).month == 12

            def estimate(
                y: NDArray[np.float64] = y,
                mu: NDArray[np.float64] = mu,
                sd: NDArray[np.float64] = sd,
                n: int = int(n),
                prev: MarkovFit | None = prev,
                cold_too: bool = cold_too,
            ) -> tuple[str, GaussianHMMResult]:
                model = GaussianHMM((y - mu) / sd, len(PHASE_IDS), "diag")
                tries: list[tuple[str, GaussianHMMResult]] = []
                if prev is not None:
                    warm = ((prev.means - mu) / sd, prev.variances / sd**2, prev.transition)
                    tries.append(
                        (
                            "warm",
                            model.fit(init_params=warm, max_iter=max_iter, tol=tol, polish=False),
                        )
                    )
                if cold_too:
                    # The likelihood has many local maxima: a warm start alone stays in its
                    # own, so each year end two cold starts compete with it (the highest
                    # likelihood wins).
                    cold = model.fit(
                        init_labels=rules[:n] - 1,
                        seed=seed,
                        max_iter=max_iter,
                        tol=tol,
                        polish=False,
                    )
                    tries.append(("rules", cold))
                    pca = model.fit(seed=seed, max_iter=max_iter, tol=tol, polish=False)
                    tries.append(("principal direction", pca))
                return max(tries, key=lambda t: t[1].llf)

            # A month's estimate depends only on these inputs: a verdict timeline judging the
            # note at a later date reuses it (identical inputs, same key).
            start, res = reused(
                "regime.markov_estimate",
                (
                    y,
                    rules[:n],
                    None if prev is None else (prev.means, prev.variances, prev.transition),
                    cold_too,
                    seed,
                    max_iter,
                    tol,
                ),
                estimate,
            )
            o = _phase_order(res.means)
            fits.append(
                MarkovFit(
                    pd.Timestamp(m),
                    int(n),
                    res.means[o] * sd + mu,
                    res.variances[o] * sd**2,
                    res.transition[np.ix_(o, o)],
                    res.llf,
                    res.iterations,
                    res.converged,
                    start,
                )
            )
        fit_dates = np.array([f.date for f in fits], dtype="datetime64[ns]")
        # Weeks before the first estimate are filtered with it only to carry the state into
        # the first published week; their own probabilities are not reported.
        which = np.searchsorted(fit_dates, in_force, side="left")
        filtered = np.empty((len(y_all), len(PHASE_IDS)))
        prior: NDArray[np.float64] | None = None
        for j, f in enumerate(fits):
            rows = np.flatnonzero(which == j)
            if not len(rows):
                continue
            initial = None if prior is None else prior @ f.transition
            log_em = diag_log_density(y_all[rows], f.means, f.variances)
            filtered[rows], _, _ = hamilton_filter(log_em, f.transition, initial)
            prior = filtered[rows[-1]]
        shown = in_force >= fit_dates[0]
        idx = dates[shown]
        probs = pd.DataFrame(filtered[shown], index=idx, columns=[f"phase_{k}" for k in PHASE_IDS])
        asof_params = pd.Series(pd.DatetimeIndex(fit_dates[which[shown]]), index=idx)
        rule_s = pd.Series(rules[shown], index=idx, name="rules_phase")
        return MarkovPhaseResult(probs, asof_params, rule_s, tuple(fits), self.min_weeks)


@dataclass(frozen=True)
class Episode:
    """A known stretch of market history and the phases a reader would accept for it."""

    name: str
    start: str
    end: str
    sensible: tuple[int, ...] = ()


#: Sanity episodes (``benchmarks/regime_sanity.py``; the README's table). ``sensible`` is empty
#: where history gives no clear prior.
KNOWN_EPISODES: tuple[Episode, ...] = (
    Episode("Lehman to the March 2009 low", "2008-09-01", "2009-03-31", (1,)),
    Episode("Lehman, Sep-Nov 2008", "2008-09-01", "2008-11-30", (1,)),
    Episode("COVID crash, Feb-Apr 2020", "2020-02-01", "2020-04-30", (1,)),
    Episode("COVID crash core", "2020-02-24", "2020-03-16", (1,)),
    Episode("Pandemic stimulus, May 2020-Oct 2021", "2020-05-01", "2021-10-31", (2, 3)),
    # The Fed's hikes (tightening) and, before them, the bear market and the invasion of
    # Ukraine (safety first) both fit 2022.
    Episode("2022 tightening", "2022-01-01", "2022-12-31", (4, 1)),
    Episode("January 2026", "2026-01-01", "2026-01-31"),
)


def _shares(phases: pd.Series) -> dict[int, float]:
    """Share of the weeks in each phase, largest first (ties: the lower phase number)."""
    counts = phases.astype(int).value_counts()
    order = sorted(counts.index, key=lambda k: (-counts[k], k))
    return {int(k): float(counts[k] / len(phases)) for k in order}


def episode_table(
    rule_phase: pd.Series,
    markov: MarkovPhaseResult | None = None,
    episodes: tuple[Episode, ...] = KNOWN_EPISODES,
) -> pd.DataFrame:
    """Dominant phase of each episode by the rules and by the point-in-time HMM.

    Both are read on weekly samples (each week's last bar); ``*_shares`` maps every phase met
    to its fraction of the episode's weeks, the dominant one first (``*_phase``, ``*_share``).
    The HMM columns are empty for weeks before its first estimate.
    """
    weekly_rules = last_bar_of_week(rule_phase.dropna().to_frame("phase"))["phase"]
    hmm = markov.most_likely if markov is not None else pd.Series(dtype=int)
    rows = []
    for ep in episodes:
        r = _shares(weekly_rules.loc[ep.start : ep.end])
        h = _shares(hmm.loc[ep.start : ep.end])
        rows.append(
            {
                "episode": ep.name,
                "start": ep.start,
                "end": ep.end,
                "sensible": ep.sensible,
                "weeks": len(weekly_rules.loc[ep.start : ep.end]),
                "rules_phase": next(iter(r), None),
                "rules_share": next(iter(r.values()), None),
                "rules_shares": r,
                "hmm_weeks": len(hmm.loc[ep.start : ep.end]),
                "hmm_phase": next(iter(h), None),
                "hmm_share": next(iter(h.values()), None),
                "hmm_shares": h,
            }
        )
    return pd.DataFrame(rows, dtype=object)  # None stays None where an episode has no weeks
