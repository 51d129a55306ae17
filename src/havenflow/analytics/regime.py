"""Phases of the "safety first, then debasement" cycle (claim C8), point-in-time.

Two classifications of every trading day, both using data up to that day only:

1. **Rules** (the reference, documented in the README). Trailing indicators over ``window``
   bars (default 63, about three months) are compared with fixed thresholds. A phase's
   conditions fall in two groups, *leadership* (which assets lead) and *backdrop* (fear, rates,
   dollar, liquidity); its score is the mean over its groups of the share of conditions that
   hold, so who leads weighs as much as the macro backdrop (phase 4 has a backdrop only). The
   day's raw phase is the best score. The reported phase is the leader of the scores averaged
   over the last ``confirm`` bars, and a challenger must beat the current phase by ``margin``,
   so one noisy day does not start a new phase (this hysteresis looks backward only).
2. **Markov switching** (data-driven): a four-regime Gaussian HMM on weekly samples of the
   standardised indicators, fitted on data up to ``asof``, started from the rule-based labels,
   and reporting FILTERED probabilities only. Regimes are named by matching their means to each
   phase's sign prototype (Hungarian assignment), so the names do not depend on the order in
   which the optimiser found the regimes and stay stable across refits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from havenflow.analytics.hmm import GaussianHMM, GaussianHMMResult
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "CONDITIONS",
    "PHASE_IDS",
    "PHASE_NAMES",
    "Condition",
    "MarkovPhaseModel",
    "MarkovPhaseResult",
    "PhaseClassifier",
    "PhaseResult",
    "PhaseSpec",
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
    """

    window: int = 63
    vix_lookback: int = 756
    confirm: int = 21
    margin: float = 0.05

    def __post_init__(self) -> None:
        if self.window < 5 or self.vix_lookback < 252 or self.confirm < 1:
            raise DataValidationError(
                "phase spec: window >= 5, vix_lookback >= 252 and confirm >= 1 are required"
            )
        if not 0.0 <= self.margin < 1.0:
            raise DataValidationError(f"phase spec: margin must be in [0, 1), got {self.margin}")


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


def _confirm(smoothed: np.ndarray, good: np.ndarray, margin: float) -> np.ndarray:
    """Phase = leader of the smoothed scores; it must beat the current one by ``margin``."""
    out = np.zeros(len(smoothed), dtype=int)
    current = 0
    for t in range(len(smoothed)):
        if not good[t]:
            out[t] = current
            continue
        best = int(np.argmax(smoothed[t])) + 1  # ties among challengers: the lower number
        if current == 0 or smoothed[t, best - 1] > smoothed[t, current - 1] + margin:
            current = best
        out[t] = current
    return out


@dataclass(frozen=True)
class PhaseResult:
    """Rule-based phases: indicators, scores, raw and confirmed phase for every date."""

    spec: PhaseSpec
    indicators: pd.DataFrame
    scores: pd.DataFrame
    smoothed_scores: pd.DataFrame
    raw_phase: pd.Series
    phase: pd.Series
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
            "spec": {
                "window": self.spec.window,
                "vix_lookback": self.spec.vix_lookback,
                "confirm": self.spec.confirm,
                "margin": self.spec.margin,
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

    def summary(self) -> str:
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
        s = scores.to_numpy()
        raw = np.zeros(len(s), dtype=int)
        good = ok.to_numpy()
        raw[good] = np.argmax(s[good], axis=1) + 1  # ties: the lower phase number
        # Hysteresis: the phase follows the trailing mean of the scores over ``confirm`` bars,
        # so a leader must hold for a while before the phase changes.
        smoothed = scores.rolling(self.spec.confirm, min_periods=1).mean()
        confirmed = _confirm(np.nan_to_num(smoothed.to_numpy(), nan=-1.0), good, self.spec.margin)
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
        )


@dataclass(frozen=True)
class MarkovPhaseResult:
    """Filtered regime probabilities named by phase (no smoothed probabilities)."""

    probabilities: pd.DataFrame
    hmm: GaussianHMMResult
    mapping: dict[int, int]
    feature_means: pd.DataFrame
    agreement: float
    nobs: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the last filtered probabilities, mapping and fit statistics."""
        last = self.probabilities.iloc[-1]
        return {
            "asof": pd.Timestamp(self.probabilities.index[-1]).date().isoformat(),
            "probabilities": {str(k): float(last[f"phase_{k}"]) for k in PHASE_IDS},
            "most_likely_phase": int(np.argmax(last.to_numpy()) + 1),
            "kind": "filtered (each week's probability uses data up to that week only; the "
            "parameters use data up to asof)",
            "frequency": "weekly (Friday)",
            "nobs": self.nobs,
            "llf": self.hmm.llf,
            "converged": self.hmm.converged,
            "agreement_with_rules": self.agreement,
            "expected_duration_weeks": {
                str(self.mapping[i]): float(d) for i, d in enumerate(self.hmm.expected_durations)
            },
            "regime_means": {
                str(k): {c: float(v) for c, v in row.items()}
                for k, row in self.feature_means.iterrows()
            },
        }


@dataclass(frozen=True)
class MarkovPhaseModel:
    """Four-regime Gaussian HMM on weekly samples of the phase indicators.

    Parameters
    ----------
    indicators
        :func:`phase_indicators` output (trading days).
    rule_phase
        The rule-based phase per date (starting labels for EM and the agreement statistic).
    """

    indicators: pd.DataFrame
    rule_phase: pd.Series

    def fit(self, seed: int | None = 0) -> MarkovPhaseResult:
        """Fit on every complete week and filter."""
        feats = self.indicators[list(HMM_FEATURES)]
        weekly = feats.resample("W-FRI").last().dropna(how="any")
        rules_f = self.rule_phase.astype("float").resample("W-FRI").last().reindex(weekly.index)
        keep = rules_f.notna()
        weekly = weekly[keep]
        rules = rules_f[keep].to_numpy().astype(np.int64)
        if len(weekly) < 104:
            raise InsufficientDataError(
                f"Markov-switching phases: {len(weekly)} complete weeks of indicators; need 104"
            )
        mu = weekly.mean()
        sd = weekly.std(ddof=0).replace(0.0, 1.0)
        z = ((weekly - mu) / sd).to_numpy()
        res = GaussianHMM(z, 4, "diag").fit(init_labels=rules - 1, seed=seed)
        norm = _PROTOTYPES / np.linalg.norm(_PROTOTYPES, axis=1, keepdims=True)
        affinity = res.means @ norm.T  # regimes x phases
        rows, cols = linear_sum_assignment(-affinity)
        mapping = {int(r): int(c) + 1 for r, c in zip(rows, cols, strict=True)}
        probs = pd.DataFrame(0.0, index=weekly.index, columns=[f"phase_{k}" for k in PHASE_IDS])
        for regime, ph in mapping.items():
            probs[f"phase_{ph}"] = res.filtered[:, regime]
        means = pd.DataFrame(
            res.means * sd.to_numpy() + mu.to_numpy(),
            columns=list(HMM_FEATURES),
            index=[mapping[i] for i in range(4)],
        ).sort_index()
        likely = probs.to_numpy().argmax(axis=1) + 1
        agreement = float(np.mean(likely == rules))
        return MarkovPhaseResult(probs, res, mapping, means, agreement, len(weekly))
