"""Event studies: what did a target do after a trigger (claim C10, the event-study half).

Triggers come from a small grammar, evaluated on aligned levels with data up to each date only:

- ``silver:ath``: a new all-time closing high (above every earlier close in the sample);
- ``silver:high(252)``: a close above the highest of the previous 252 closes;
- ``silver:ret(63)>0.2``: the 63-bar simple return above 20% (``<`` for below);
- ``silver/bitcoin:ret(63)>0.3``: the relative return ``(1 + r_A) / (1 + r_B) - 1`` above 30%;
- ``phase:1->2``: the rule-based phase (see :mod:`havenflow.analytics.regime`) changes from 1
  to 2.

An event is the first bar on which the condition holds after a bar on which it did not (its
onset); events closer than ``min_gap`` bars to the previous kept event are dropped
(declustering), so one rally counts once.

Inference respects overlapping windows and volatility clustering: the null distribution of the
excess mean comes from stationary block bootstraps of the target's own return path (blocks keep
its volatility clustering) with the event dates held fixed, so events whose forward windows
overlap share the same resampled path, exactly as they share the real one. The interval is the
basic bootstrap interval built from that distribution's spread.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from havenflow.analytics.resample import stationary_bootstrap_indices
from havenflow.analytics.results import Result
from havenflow.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "DEFAULT_HORIZONS",
    "EventStudy",
    "EventStudyResult",
    "Trigger",
    "decluster",
    "parse_trigger",
    "trigger_onsets",
]

DEFAULT_HORIZONS = (5, 10, 21, 42, 63, 126)
#: Fewer events than this and a verdict needs overwhelming evidence.
MIN_EVENTS = 10

_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_PATTERNS = {
    "ath": re.compile(rf"^(?P<a>{_ID}):ath$"),
    "high": re.compile(rf"^(?P<a>{_ID}):high\((?P<n>\d{{1,7}})\)$"),
    "ret": re.compile(
        rf"^(?P<a>{_ID})(?:/(?P<b>{_ID}))?:ret\((?P<n>\d{{1,7}})\)(?P<op>[<>])(?P<x>[-+]?\d*\.?\d+)$"
    ),
    "phase": re.compile(r"^phase:(?P<from>[1-4])->(?P<to>[1-4])$"),
}


@dataclass(frozen=True)
class Trigger:
    """A parsed trigger (see the module docstring for the grammar)."""

    text: str
    kind: Literal["ath", "high", "ret", "phase"]
    series: tuple[str, ...]
    bars: int | None = None
    op: str | None = None
    threshold: float | None = None

    def describe(self) -> str:
        """Plain-language description."""
        if self.kind == "ath":
            return f"{self.series[0]} closes at a new all-time high"
        if self.kind == "high":
            return f"{self.series[0]} closes above its previous {self.bars}-bar high"
        if self.kind == "ret":
            what = (
                f"{self.series[0]}'s {self.bars}-bar return"
                if len(self.series) == 1
                else f"{self.series[0]}'s {self.bars}-bar return relative to {self.series[1]}"
            )
            side = "above" if self.op == ">" else "below"
            return f"{what} moves {side} {self.threshold:+.0%}"
        from havenflow.analytics.regime import PHASE_NAMES

        assert self.op is not None
        a, b = (int(x) for x in self.op.split("->"))
        return f"the phase changes from {a} ({PHASE_NAMES[a]}) to {b} ({PHASE_NAMES[b]})"


#: The longest window a trigger may look back over (20 years of trading days).
MAX_TRIGGER_BARS = 5040


def parse_trigger(text: str) -> Trigger:
    """Parse a trigger string; a bad one gets an error that shows the grammar."""
    t = text.strip().replace(" ", "")
    for kind, pattern in _PATTERNS.items():
        m = pattern.match(t)
        if not m:
            continue
        if kind == "ath":
            return Trigger(t, "ath", (m["a"],))
        if kind == "high":
            n = int(m["n"])
            if not 2 <= n <= MAX_TRIGGER_BARS:
                raise DataValidationError(
                    f"trigger {text[:80]!r}: high(N) needs 2 <= N <= {MAX_TRIGGER_BARS}"
                )
            return Trigger(t, "high", (m["a"],), bars=n)
        if kind == "ret":
            n = int(m["n"])
            if not 1 <= n <= MAX_TRIGGER_BARS:
                raise DataValidationError(
                    f"trigger {text[:80]!r}: ret(N) needs 1 <= N <= {MAX_TRIGGER_BARS}"
                )
            series = (m["a"],) if m["b"] is None else (m["a"], m["b"])
            threshold = float(m["x"])
            if not math.isfinite(threshold):
                raise DataValidationError(f"trigger {text[:80]!r}: the threshold must be finite")
            return Trigger(t, "ret", series, bars=n, op=m["op"], threshold=threshold)
        if m["from"] == m["to"]:
            raise DataValidationError(f"trigger {text!r}: a phase change needs two phases")
        return Trigger(t, "phase", (), op=f"{m['from']}->{m['to']}")
    raise DataValidationError(
        f"cannot read trigger {text[:80]!r}; use one of: silver:ath, silver:high(252), "
        "silver:ret(63)>0.2, silver/bitcoin:ret(63)>0.3, phase:1->2"
    )


def _condition(trigger: Trigger, levels: pd.DataFrame) -> pd.Series:
    if trigger.kind == "phase":
        if "phase" not in levels:
            raise DataValidationError(
                "phase triggers need a 'phase' column (the rule-based phase of each date)"
            )
        assert trigger.op is not None
        before, after = (int(x) for x in trigger.op.split("->"))
        p = levels["phase"]
        return ((p == after) & (p.shift(1) == before)).fillna(False)
    a = levels[trigger.series[0]]
    if trigger.kind == "ath":
        return (a > a.shift(1).cummax()).fillna(False)
    if trigger.kind == "high":
        assert trigger.bars is not None
        prior = a.shift(1).rolling(trigger.bars, min_periods=trigger.bars).max()
        return (a > prior).fillna(False) & prior.notna()
    if trigger.kind == "ret":
        assert trigger.bars is not None
        assert trigger.threshold is not None
        ret = a / a.shift(trigger.bars) - 1.0
        if len(trigger.series) == 2:
            b = levels[trigger.series[1]]
            ret = (1.0 + ret) / (b / b.shift(trigger.bars)) - 1.0
        hit = ret > trigger.threshold if trigger.op == ">" else ret < trigger.threshold
        return hit.fillna(False) & ret.notna()
    raise DataValidationError(f"unknown trigger kind {trigger.kind!r}")


def trigger_onsets(trigger: Trigger, levels: pd.DataFrame) -> pd.DatetimeIndex:
    """Dates on which the trigger's condition starts to hold (it did not on the bar before)."""
    missing = [s for s in trigger.series if s not in levels]
    if missing:
        raise DataValidationError(f"trigger {trigger.text!r}: no data for {', '.join(missing)}")
    cond = _condition(trigger, levels).astype(bool)
    onset = cond & ~cond.shift(1, fill_value=False)
    return pd.DatetimeIndex(levels.index[onset.to_numpy()])


def decluster(dates: pd.DatetimeIndex, index: pd.DatetimeIndex, min_gap: int) -> pd.DatetimeIndex:
    """Keep an event only if it is at least ``min_gap`` bars after the last kept one."""
    if min_gap < 0:
        raise DataValidationError(f"min_gap must be >= 0, got {min_gap}")
    pos = index.get_indexer(dates)
    kept: list[int] = []
    for p in pos:
        if p < 0:
            continue
        if not kept or p - kept[-1] >= min_gap:
            kept.append(int(p))
    return pd.DatetimeIndex(index[kept])


@dataclass(frozen=True)
class EventStudyResult(Result):
    """Forward returns of the target after each event, against the unconditional baseline."""

    kind = "event_study"

    trigger: str
    description: str
    target: str
    event_dates: tuple[str, ...]
    horizons: tuple[dict[str, Any], ...]
    path: pd.DataFrame
    replicates: int
    block_length: float
    seed: int | None
    sample_start: str
    sample_end: str

    def to_frame(self) -> pd.DataFrame:
        """One row per horizon."""
        return pd.DataFrame(list(self.horizons)).set_index("horizon")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``havenflow events --json``)."""
        return {
            "trigger": self.trigger,
            "description": self.description,
            "target": self.target,
            "sample_start": self.sample_start,
            "sample_end": self.sample_end,
            "n_events": len(self.event_dates),
            "event_dates": list(self.event_dates),
            "return_definition": "log return of the target from the event's close to the "
            "close h trading days later",
            "inference": f"stationary block bootstrap of the target's path (mean block "
            f"{self.block_length:.1f}, {self.replicates} replicates, seed {self.seed}), event "
            "dates fixed: keeps overlapping windows and volatility clustering",
            "horizons": [dict(h) for h in self.horizons],
            "average_path": [
                {"bar": int(k)} | {c: _finite(row[c]) for c in self.path.columns}
                for k, (_, row) in zip(
                    self.path.index.to_numpy(), self.path.iterrows(), strict=True
                )
            ],
        }

    def _summary_text(self) -> str:
        """Text summary."""
        lines = [
            f"Event study: {self.target} after '{self.trigger}' ({self.description}); "
            f"{len(self.event_dates)} events {self.sample_start}..{self.sample_end}; "
            "forward log returns in log points (lp, 100 x log change)"
        ]
        for h in self.horizons:
            lines.append(
                f"  {h['horizon']:>4} bars: n={h['n']:<3} mean {_pct(h['mean'])} vs baseline "
                f"{_pct(h['baseline_mean'])}, excess {_pct(h['excess_mean'])} "
                f"[{_pct(h['ci_low'])}, {_pct(h['ci_high'])}] p={_num(h['pvalue'])} "
                f"hit {_num(h['hit_rate'], pct=True)} -> {h['verdict']}"
            )
        return "\n".join(lines)


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _pct(v: float | None) -> str:
    # forward returns are log returns: printed in log points (100 x log change), not %
    return "—" if v is None else f"{100 * v:+.1f} lp"


def _num(v: float | None, *, pct: bool = False) -> str:
    if v is None:
        return "—"
    return f"{100 * v:.0f}%" if pct else f"{v:.3f}"


def _verdict(n: int, excess: float | None, p: float | None) -> str:
    if excess is None or p is None or n == 0:
        return "inconclusive"
    if n < MIN_EVENTS and p >= 0.001:
        return "inconclusive"  # too few events for anything short of overwhelming evidence
    if p < 0.05:
        return "higher than baseline" if excess > 0 else "lower than baseline"
    return "no different from baseline"


@dataclass(frozen=True)
class EventStudy:
    """Forward returns of ``target`` after ``event_dates``.

    Parameters
    ----------
    target
        The target's levels on the event calendar (prices: strictly positive).
    event_dates
        Declustered event dates (on the target's index).
    horizons
        Forward horizons in bars.
    """

    target: pd.Series
    event_dates: pd.DatetimeIndex
    horizons: tuple[int, ...] = DEFAULT_HORIZONS
    trigger: str = ""
    description: str = ""
    target_name: str = "target"

    @classmethod
    def from_trigger(
        cls,
        levels: pd.DataFrame,
        trigger: str | Trigger,
        target: str,
        horizons: tuple[int, ...] | None = None,
        min_gap: int = 21,
    ) -> EventStudy:
        """The study of ``target`` after every declustered onset of ``trigger`` in ``levels``.

        ``levels`` holds the trigger's series and the target on one trading-day calendar
        (a ``phase`` column for ``phase:`` triggers); each onset uses data up to its date.
        """
        parsed = parse_trigger(trigger) if isinstance(trigger, str) else trigger
        missing = [c for c in (*parsed.series, target) if c not in levels]
        if parsed.kind == "phase" and "phase" not in levels:
            missing.append("phase")
        if missing:
            raise DataValidationError(f"levels have no column {', '.join(map(repr, missing))}")
        onsets = trigger_onsets(parsed, levels)
        events = decluster(onsets, pd.DatetimeIndex(levels.index), min_gap)
        target_levels = levels[target].dropna()
        if target_levels.empty:
            raise InsufficientDataError(f"{target} has no value in the levels")
        events = events[(events >= target_levels.index[0]) & events.isin(target_levels.index)]
        return cls(
            target_levels,
            events,
            horizons or DEFAULT_HORIZONS,
            trigger=parsed.text,
            description=parsed.describe(),
            target_name=target,
        )

    def fit(
        self,
        replicates: int = 999,
        *,
        seed: int | None = 0,
        block_length: float | None = None,
    ) -> EventStudyResult:
        """Compute the statistics per horizon and the average path."""
        from arch.bootstrap import optimal_block_length  # heavy import: only here

        levels = self.target.dropna()
        if (levels <= 0).any():
            raise DataValidationError(f"{self.target_name}: event studies need positive levels")
        if not self.horizons or min(self.horizons) < 1:
            raise DataValidationError("horizons must be positive numbers of bars")
        max_h = max(self.horizons)
        if len(levels) < max_h + 50:
            raise InsufficientDataError(
                f"{self.target_name} has {len(levels)} bars; horizons up to {max_h} need at "
                f"least {max_h + 50}"
            )
        logp = np.log(levels.to_numpy(dtype=float))
        r = np.diff(logp)  # r[i] = move from bar i to bar i + 1
        n = len(logp)
        pos = levels.index.get_indexer(self.event_dates)
        pos = pos[pos >= 0]
        if block_length is None:
            pw = optimal_block_length(np.column_stack([r, r**2]))
            block_length = float(max(pw["stationary"].max(), 1.0))
        rng = np.random.default_rng(seed)
        idx = stationary_bootstrap_indices(len(r), replicates, block_length, rng)
        boot_cum = np.concatenate([np.zeros((replicates, 1)), np.cumsum(r[idx], axis=1)], axis=1)
        cum = np.concatenate([[0.0], np.cumsum(r)])
        rows = []
        for h in sorted(set(self.horizons)):
            ok = pos[pos + h < n]
            starts = np.arange(0, n - h)
            baseline = cum[starts + h] - cum[starts]
            base_mean = float(baseline.mean())
            if len(ok) == 0:
                rows.append(_empty_row(h, base_mean, float((baseline > 0).mean())))
                continue
            fwd = cum[ok + h] - cum[ok]
            mean = float(fwd.mean())
            excess = mean - base_mean
            # Null: the same event dates on resampled paths; the excess against each path's
            # own baseline (zero in expectation, with the right spread).
            b_fwd = (boot_cum[:, ok + h] - boot_cum[:, ok]).mean(axis=1)
            b_base = (boot_cum[:, starts + h] - boot_cum[:, starts]).mean(axis=1)
            null = b_fwd - b_base
            p = float((1 + np.sum(np.abs(null) >= abs(excess))) / (replicates + 1))
            lo_q, hi_q = np.quantile(null, [0.025, 0.975])
            rows.append(
                {
                    "horizon": h,
                    "n": len(ok),
                    "mean": mean,
                    "median": float(np.median(fwd)),
                    "hit_rate": float((fwd > 0).mean()),
                    "baseline_mean": base_mean,
                    "baseline_hit_rate": float((baseline > 0).mean()),
                    "excess_mean": excess,
                    "ci_low": float(excess - hi_q),
                    "ci_high": float(excess - lo_q),
                    "pvalue": p,
                    "verdict": _verdict(len(ok), excess, p),
                }
            )
        ok = pos[pos + max_h < n]
        steps = np.arange(max_h + 1)
        if len(ok):
            paths = cum[ok[:, None] + steps] - cum[ok][:, None]
            mean_path = paths.mean(axis=0)
            lo, hi = np.quantile(paths, [0.10, 0.90], axis=0)
        else:
            mean_path = lo = hi = np.full(len(steps), np.nan)
        drift = (cum[-1] - cum[0]) / (n - 1)
        path = pd.DataFrame(
            {"mean": mean_path, "p10": lo, "p90": hi, "baseline": drift * steps},
            index=pd.Index(steps, name="bar"),
        )
        return EventStudyResult(
            trigger=self.trigger,
            description=self.description,
            target=self.target_name,
            event_dates=tuple(pd.Timestamp(levels.index[int(p)]).date().isoformat() for p in pos),
            horizons=tuple(rows),
            path=path,
            replicates=replicates,
            block_length=block_length,
            seed=seed,
            sample_start=pd.Timestamp(levels.index[0]).date().isoformat(),
            sample_end=pd.Timestamp(levels.index[-1]).date().isoformat(),
        )


def _empty_row(h: int, base_mean: float, base_hit: float) -> dict[str, Any]:
    return {
        "horizon": h,
        "n": 0,
        "mean": None,
        "median": None,
        "hit_rate": None,
        "baseline_mean": base_mean,
        "baseline_hit_rate": base_hit,
        "excess_mean": None,
        "ci_low": None,
        "ci_high": None,
        "pvalue": None,
        "verdict": "inconclusive",
    }
