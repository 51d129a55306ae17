"""How the verdicts moved: a note judged point-in-time at every step of a date range.

Each step is exactly ``check --asof`` that date (same function, same options, no sensitivity
block: it never changes a verdict), so a step's verdicts equal a separate run's. What is
shared is only what cannot differ: the data is read once (the repository's memo) and the fits
whose inputs are identical at every later step (the monthly HMM estimates, the outlook's
walk-forward forecasts) are reused through :func:`havenflow.analytics.reuse.reuse_fits`,
keyed by the content of their inputs. Steps can run in worker processes, each taking a
contiguous block of dates so its reuse cache stays warm.

The track record scores the tool itself: for every step where a claim with a forward-looking
side was "supported", did what the claim predicted (its forecasts' claimed direction) happen
over the span that followed?
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import pandas as pd

from havenflow.analytics.reuse import reuse_fits
from havenflow.claims.base import Verdict
from havenflow.claims.check import CheckOptions, check_note, default_asof
from havenflow.claims.hindsight import Later, forward_row
from havenflow.claims.note import Note
from havenflow.data.repository import DataRepository
from havenflow.data.validate import parse_asof
from havenflow.exceptions import DataValidationError, HavenflowError

__all__ = [
    "MAX_STEPS",
    "STEPS",
    "TimelineOptions",
    "parse_history",
    "step_dates",
    "track_record",
    "verdict_timeline",
]

#: ``--step`` codes and the pandas offsets of their period ends (business days).
STEPS = {"W": "W-FRI", "M": "BME", "Q": "BQE"}
STEP_NAMES = {"W": "week ends (Fridays)", "M": "month ends", "Q": "quarter ends"}
STEP_SINGULAR = {"W": "week end", "M": "month end", "Q": "quarter end"}
#: The most steps one timeline may take (ten years of weeks): a bound on the work one command
#: or one web request can ask for.
MAX_STEPS = 520


@dataclass(frozen=True)
class TimelineOptions:
    """The range and step of a timeline, and how each step is judged."""

    start: str
    end: str
    step: str = "M"
    seed: int = 0
    replicates: int = 999
    workers: int = 1


def parse_history(text: str) -> tuple[str, str]:
    """``START..END`` (ISO dates) -> (start, end), with a one-line error naming the problem."""
    parts = text.split("..")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise DataValidationError(
            f"--history {text!r}: expected START..END, e.g. 2024-01-01..2026-01-31"
        )
    start, end = (p.strip() for p in parts)
    a, b = parse_asof(start, "--history start"), parse_asof(end, "--history end")
    if a > b:
        raise DataValidationError(f"--history {text!r}: the start {a.date()} is after the end")
    return start, end


def step_dates(
    start: str, end: str, step: str, *, limit: int | None = MAX_STEPS
) -> list[pd.Timestamp]:
    """The last business day of every week, month or quarter from ``start`` to ``end``.

    ``end`` itself is the last step when it is a weekday after the last period end (a range
    ending on a note's date ends on that date). More than ``limit`` steps is refused.
    """
    if step not in STEPS:
        raise DataValidationError(f"step {step!r}: one of {', '.join(STEPS)}")
    a, b = parse_asof(start, "start"), parse_asof(end, "end")
    if a > b:
        raise DataValidationError(f"the range {a.date()}..{b.date()}: the start is after the end")
    dates = [d for d in pd.date_range(a, b, freq=STEPS[step]) if a <= d <= b]
    if (not dates or dates[-1] < b) and b.day_of_week < 5:
        dates.append(b)
    if not dates:
        raise DataValidationError(f"the range {a.date()}..{b.date()} has no business day")
    if limit is not None and len(dates) > limit:
        raise DataValidationError(
            f"the range {a.date()}..{b.date()} at step {step} has {len(dates)} steps; at most "
            f"{limit} (use a longer step or a shorter range)"
        )
    return [pd.Timestamp(d) for d in dates]


def checked_steps(note: Note, repo: DataRepository, o: TimelineOptions) -> list[pd.Timestamp]:
    """The steps of ``o``, refused (one line) before any fit when the range is outside the data.

    The same refusals as ``check --asof``: a last step after the last date the note's series
    share, a first step before any of them has a value.
    """
    dates = step_dates(o.start, o.end, o.step)
    for day in (dates[-1], dates[0]):
        try:
            default_asof(note, repo, day.date().isoformat())
        except DataValidationError as exc:
            raise DataValidationError(
                f"the range {o.start}..{o.end}: " + str(exc).replace("--asof ", "the step ", 1)
            ) from None
    return dates


def _deciding(claim: dict[str, Any]) -> dict[str, Any] | None:
    return claim.get("deciding")


def _judge_steps(
    note: Note, repo: DataRepository, dates: list[pd.Timestamp], seed: int, replicates: int
) -> list[dict[str, Any]]:
    """One entry per date: the verdicts, deciding numbers and forecasts of ``check --asof``."""
    out = []
    with reuse_fits():
        for day in dates:
            doc = check_note(
                note,
                repo,
                CheckOptions(
                    asof=day.date().isoformat(),
                    seed=seed,
                    replicates=replicates,
                    sensitivity=False,
                    hindsight=False,
                ),
            )
            out.append(
                {
                    "asof": doc["asof"],
                    "verdicts": {c["id"]: c["verdict"] for c in doc["claims"]},
                    "numbers": {c["id"]: _deciding(c) for c in doc["claims"]},
                    "judged_on": {c["id"]: c["judged_on"] for c in doc["claims"]},
                    "forecasts": {c["id"]: c["forecasts"] for c in doc["claims"]},
                }
            )
    return out


def _worker(
    note: Note, store: Any, user_files: Any, dates: list[pd.Timestamp], seed: int, replicates: int
) -> list[dict[str, Any]]:
    # A worker process builds its own repository (its own DuckDB connections and memo).
    return _judge_steps(note, DataRepository(store, user_files), dates, seed, replicates)


def _blocks(dates: list[pd.Timestamp], n: int) -> list[list[pd.Timestamp]]:
    size = math.ceil(len(dates) / n)
    return [dates[i : i + size] for i in range(0, len(dates), size)]


def verdict_timeline(note: Note, repo: DataRepository, options: TimelineOptions) -> dict[str, Any]:
    """Judge ``note`` at every step from ``options.start`` to ``options.end``.

    Returns ``{"timeline": [...], "timeline_info": {...}}``: per step the as-of date, every
    claim's verdict and deciding number; the info holds the range, the step, the claims and
    the track record.

    Raises
    ------
    DataValidationError
        If the range is malformed, ends after the note's data, starts before it, or has more
        than :data:`MAX_STEPS` steps.
    """
    o = options
    dates = checked_steps(note, repo, o)
    workers = max(1, min(o.workers, len(dates) // 4 or 1, os.cpu_count() or 1))
    if workers == 1:
        steps = _judge_steps(note, repo, dates, o.seed, o.replicates)
    else:
        # Spawned (not forked) workers: DuckDB and numba hold threads a fork would copy.
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            parts = pool.map(
                _worker,
                *zip(
                    *[
                        (note, repo.store, tuple(repo.user_files), block, o.seed, o.replicates)
                        for block in _blocks(dates, workers)
                    ],
                    strict=True,
                ),
            )
            steps = [entry for part in parts for entry in part]
    claims = [{"id": c.id, "claim": c.text, "kind": c.kind} for c in note.claims]
    # An event-study claim is about the excess over the baseline, not the raw return its
    # forecast spans: hindsight scores it per event; the record leaves it out.
    scored = {c.id: c.negate for c in note.claims if c.kind != "event_study"}
    record = track_record(
        [
            s | {"forecasts": {k: v for k, v in s["forecasts"].items() if k in scored}}
            for s in steps
        ],
        repo,
        seed=o.seed,
        replicates=o.replicates,
        negated={k for k, v in scored.items() if v},
    )
    timeline = [
        {"asof": s["asof"], "verdicts": s["verdicts"], "numbers": s["numbers"]} for s in steps
    ]
    return {
        "timeline": timeline,
        "timeline_info": {
            "start": dates[0].date().isoformat(),
            "end": dates[-1].date().isoformat(),
            "step": o.step,
            "step_name": STEP_NAMES[o.step],
            "step_singular": STEP_SINGULAR[o.step],
            "steps": len(dates),
            "claims": claims,
            "changes": _changes(timeline, claims),
            "track_record": record,
            "method": "Each step is `havenflow check --asof` that date (same verdicts; no "
            "sensitivity block): data, parameters and fits known on that date only.",
        },
    }


def _changes(timeline: list[dict[str, Any]], claims: list[dict[str, Any]]) -> list[str]:
    """One line per claim: its verdict spells over the range."""
    lines = []
    for c in claims:
        spells: list[tuple[str, str, str]] = []
        for s in timeline:
            v = s["verdicts"][c["id"]]
            if spells and spells[-1][0] == v:
                spells[-1] = (v, spells[-1][1], s["asof"])
            else:
                spells.append((v, s["asof"], s["asof"]))
        lines.append(
            f"{c['id']}: "
            + "; ".join(f"{v} {a}" + (f"..{b}" if b != a else "") for v, a, b in spells)
        )
    return lines


def _wilson(k: int, n: int) -> list[float] | None:
    from scipy.stats import binomtest

    if n == 0:
        return None
    ci = binomtest(k, n).proportion_ci(0.95, method="wilson")
    return [float(ci.low), float(ci.high)]


def track_record(
    steps: list[dict[str, Any]],
    repo: DataRepository,
    *,
    seed: int,
    replicates: int,
    negated: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """How often a "supported" verdict was followed by what the claim predicted.

    For every step and claim with forecasts (the kinds with a forward-looking side), each
    forecast's claimed direction is scored against the asset's realised return over its span
    after the step. Rows whose span runs past the data are pending and not counted. The
    steps' spans overlap (a 6-month span at monthly steps), so outcomes are not independent:
    besides the rate over every outcome (Wilson 95% interval, optimistic under overlap), the
    rate over a non-overlapping subset (each claim's first span, then the next that starts
    after it ends) is given with its own interval. The base rate is the same count over every
    step whatever the verdict, and the rate after the steps that were not supported: a
    supported verdict is worth something only above them. A dated claim (judged on the same
    day at every later step) counts once; a negated claim's direction is flipped.
    """
    from havenflow.claims.hindsight import OPPOSITE

    later = Later(repo, seed=seed, replicates=replicates)
    scored: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for s in steps:
        for cid, forecasts in s["forecasts"].items():
            for f in forecasts:
                claimed = f["claimed"]
                if claimed not in OPPOSITE:
                    continue
                if cid in negated:
                    claimed = OPPOSITE[claimed]
                key = (cid, s["judged_on"][cid], f["asset"], tuple(f["days"]), claimed)
                if key in seen:  # a dated claim: the same forecast at every later step
                    continue
                seen.add(key)
                asset, days_to = f["asset"], int(f["days"][1])
                try:
                    row = forward_row(
                        later,
                        cid,
                        "",
                        "",
                        asset,
                        pd.Timestamp(s["judged_on"][cid]),
                        days_to,
                        claimed=claimed,
                    )
                except HavenflowError:
                    continue
                scored.append(
                    {
                        "claim": cid,
                        "asof": s["asof"],
                        "start": row.start_date,
                        "end": row.end_date,
                        "horizon": days_to,
                        "supported": s["verdicts"][cid] == Verdict.supported.value,
                        "held": row.held,
                        "pending": row.status == "pending",
                    }
                )
    by_claim: dict[str, Any] = {}
    for cid in dict.fromkeys(r["claim"] for r in scored):
        mine = [r for r in scored if r["claim"] == cid]
        done = [r for r in mine if not r["pending"]]
        sup = [r for r in done if r["supported"]]
        k = sum(bool(r["held"]) for r in sup)
        # Non-overlapping supported outcomes: greedily, each starting after the last ended.
        free: list[dict[str, Any]] = []
        for r in sorted(sup, key=lambda r: (r["start"], r["horizon"])):
            if not free or r["start"] > (free[-1]["end"] or ""):
                free.append(r)
        kf = sum(bool(r["held"]) for r in free)
        base_k = sum(bool(r["held"]) for r in done)
        other = [r for r in done if not r["supported"]]
        by_claim[cid] = {
            "supported_outcomes": len(sup),
            "held": k,
            "rate": k / len(sup) if sup else None,
            "interval": _wilson(k, len(sup)),
            "non_overlapping": len(free),
            "non_overlapping_held": kf,
            "non_overlapping_interval": _wilson(kf, len(free)),
            "base_outcomes": len(done),
            "base_rate": base_k / len(done) if done else None,
            "not_supported_outcomes": len(other),
            "not_supported_rate": sum(bool(r["held"]) for r in other) / len(other)
            if other
            else None,
            "pending": sum(r["pending"] for r in mine),
            "text": _record_text(cid, len(sup), k, len(free), kf, len(done), base_k),
        }
    return {"claims": by_claim, "outcomes": scored}


def _record_text(cid: str, n: int, k: int, nf: int, kf: int, nb: int, kb: int) -> str:
    if n == 0:
        return (
            f"{cid}: never supported with a completed outcome in the range"
            + (
                f" (the predicted direction came true in {kb} of {nb} outcomes overall)"
                if nb
                else ""
            )
            + "."
        )
    ci = _wilson(k, n) or [math.nan, math.nan]
    cf = _wilson(kf, nf) or [math.nan, math.nan]
    return (
        f"{cid}: when supported, the predicted direction came true in {k} of {n} outcomes "
        f"({k / n:.0%}, 95% interval {ci[0]:.0%}-{ci[1]:.0%}, overlapping spans); "
        f"non-overlapping: {kf} of {nf} ({cf[0]:.0%}-{cf[1]:.0%}); base rate over every "
        f"outcome, whatever the verdict: {kb} of {nb} ({kb / nb:.0%})."
        if nb
        else ""
    )
