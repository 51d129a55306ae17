"""What happened next: a note's forward-looking claims scored against the data that followed.

A note is judged on its date with the data known then (:func:`havenflow.claims.check_note`).
When the data runs past that date, every claim with a forward-looking side is scored against
what followed: the realised return of the asset a forecast names over its span, an outlook's
realised return with its PIT value, CRPS and interval coverage against the as-of forecast
distribution, an event's realised excess return against the as-of estimate, the path after an
all-time high, the phases that followed, and the same test of a descriptive claim on the latest
data. It runs after every claim has been judged and reads its own context (the data known at
the last date), so it can never change an as-of verdict.

Returns are log returns on the business-day calendar (the calendar the outlook and the event
studies use), from the close of the claim's date; horizons are counted in those trading days.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from havenflow.claims import fits
from havenflow.claims.base import ClaimOutcome, Context, Forecast, Verdict, pct
from havenflow.claims.registry import KINDS
from havenflow.exceptions import HavenflowError

if TYPE_CHECKING:
    from havenflow.claims.note import NoteClaim
    from havenflow.data.repository import DataRepository

__all__ = [
    "HORIZON_UNIT",
    "HindsightRow",
    "Later",
    "both",
    "event_rows",
    "forecast_rows",
    "forward_row",
    "held",
    "hindsight",
    "hindsight_summary",
    "hindsight_tallies",
    "path_chart",
]

#: The unit of every hindsight horizon.
HORIZON_UNIT = "trading days"

Status = Literal["complete", "pending", "observed"]


class Later:
    """The data known after a note's date, for hindsight only.

    Every asset's path runs to its own last date; a claim's test is re-run at the last date
    all its series share. Its contexts have their own memo, so nothing it computes enters the
    as-of judgement (only content-keyed fits of :mod:`havenflow.analytics.reuse`, identical by
    construction for identical inputs, may be shared).
    """

    def __init__(self, repo: DataRepository, *, seed: int, replicates: int) -> None:
        self.repo = repo
        self.seed = seed
        self.replicates = replicates
        self._contexts: dict[pd.Timestamp, Context] = {}
        self._ends: dict[tuple[str, ...], pd.Timestamp] = {}

    def end(self, ids: list[str] | tuple[str, ...]) -> pd.Timestamp:
        """The last observation date every series of ``ids`` reaches.

        Observation dates, not publication dates: a store cut on the note's date holds
        nothing that happened later, even when a value of that day was published after it
        (the H.10 of the next Monday), so it has nothing to look back on.
        """
        key = tuple(ids)
        if key not in self._ends:
            self._ends[key] = min(self.repo.load(sid).last for sid in dict.fromkeys(ids))
        return self._ends[key]

    def at(self, end: pd.Timestamp) -> Context:
        """A context at ``end`` (one per date, with its own memo)."""
        if end not in self._contexts:
            self._contexts[end] = Context(
                self.repo, end, seed=self.seed, replicates=self.replicates
            )
        return self._contexts[end]

    def closes(self, asset: str, with_ids: tuple[str, ...] = ()) -> pd.Series:
        """``asset``'s closes on trading days, to its last date.

        The trading days are those the as-of analysis counted its horizon in: the sessions
        common to the markets of ``asset`` and ``with_ids`` (the other series it was aligned
        with), so "21 trading days" means the same bars before and after the date.
        """
        ids = tuple(dict.fromkeys((asset, *with_ids)))
        ctx = self.at(self.end((asset,)))
        return fits.levels(ctx, ids)[asset].dropna()

    def path(self, asset: str, start: pd.Timestamp, with_ids: tuple[str, ...] = ()) -> pd.Series:
        """Closes from the last bar on or before ``start`` onwards (the first is the base)."""
        closes = self.closes(asset, with_ids)
        pos = int(closes.index.searchsorted(start, side="right")) - 1
        if pos < 0:
            raise HavenflowError(f"{asset} has no close on or before {start.date()}")
        return closes.iloc[pos:]


@dataclass(frozen=True)
class HindsightRow:
    """One scored look at what followed a claim.

    ``realised`` and ``expected`` are log returns over ``horizon`` trading days from
    ``start_date`` (``expected``: the as-of central value, where the claim had one); a
    ``pending`` row's horizon ends after the data, so ``realised`` runs to ``through`` only. An
    ``observed`` row is descriptive (a phase, a re-run test): ``realised`` may be None.
    ``held``: whether what the claim said came true (None where it said nothing checkable or
    the horizon is pending); ``evidence_held``: whether the direction its as-of evidence
    pointed to came true (None where the evidence found no edge).
    """

    claim: str
    kind: str
    label: str
    asset: str | None
    horizon: int | None
    horizon_unit: str
    start_date: str
    end_date: str | None
    through: str
    status: Status
    realised: float | None
    expected: float | None
    claimed: str | None
    held: bool | None
    evidence: int | None = None
    evidence_held: bool | None = None
    scores: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON types."""
        from havenflow.analytics.results import jsonable

        return dict(jsonable(asdict(self)))


def held(claimed: str | None, realised: float | None) -> bool | None:
    """Whether ``realised`` (a return) bears out ``claimed`` (up, down, not up, not down)."""
    if claimed is None or realised is None or not math.isfinite(realised):
        return None
    return {
        "up": realised > 0,
        "down": realised < 0,
        "not up": realised <= 0,
        "not down": realised >= 0,
    }.get(claimed)


def _span(path: pd.Series, bars: int) -> tuple[float, pd.Timestamp, bool]:
    """Log return from the base over ``bars`` bars (or to the last bar), its date, complete."""
    complete = len(path) > bars
    at = bars if complete else len(path) - 1
    return float(math.log(path.iloc[at] / path.iloc[0])), pd.Timestamp(path.index[at]), complete


def _day(t: pd.Timestamp) -> str:
    return t.date().isoformat()


def both(v: float | None) -> str:
    """A log return as a simple percentage with its log points: ``-22.4% (-25.4 lp)``."""
    if v is None or not math.isfinite(v):
        return "n/a"
    return f"{pct(math.expm1(v))} ({100 * v:+.1f} lp)"


def forward_row(
    later: Later,
    claim: str,
    kind: str,
    label: str,
    asset: str,
    start: pd.Timestamp,
    bars: int,
    *,
    claimed: str | None = None,
    expected: float | None = None,
    evidence: int | None = None,
    scores: dict[str, Any] | None = None,
    with_ids: tuple[str, ...] = (),
) -> HindsightRow:
    """A row scoring ``asset``'s realised log return over ``bars`` trading days after ``start``.

    ``with_ids``: the series the as-of analysis aligned ``asset`` with (its trading days).
    """
    path = later.path(asset, start, with_ids)
    realised, at, complete = _span(path, bars)
    status: Status = "complete" if complete else "pending"
    was = held(claimed, realised) if complete else None
    ev_claim = {1: "up", -1: "down"}.get(evidence or 0)
    ev_held = held(ev_claim, realised) if complete and ev_claim else None
    text = (
        f"{asset} {both(realised)} over {bars} trading days after {_day(path.index[0])} "
        + (f"(to {_day(at)})" if complete else f"so far (to {_day(at)}; the horizon is pending)")
        + (f"; expected {both(expected)}" if expected is not None else "")
        + (
            f"; claimed {claimed}: {'held' if was else 'did not hold'}"
            if was is not None
            else f"; claimed {claimed}"
            if claimed
            else ""
        )
    )
    return HindsightRow(
        claim=claim,
        kind=kind,
        label=label,
        asset=asset,
        horizon=bars,
        horizon_unit=HORIZON_UNIT,
        start_date=_day(pd.Timestamp(path.index[0])),
        end_date=_day(at) if complete else None,
        through=_day(at),
        status=status,
        realised=realised,
        expected=expected,
        claimed=claimed,
        held=was,
        evidence=evidence,
        evidence_held=ev_held,
        scores=scores or {},
        text=text,
    )


def forecast_rows(
    later: Later,
    claim: str,
    kind: str,
    start: pd.Timestamp,
    forecasts: list[Forecast],
    with_ids: tuple[str, ...] = (),
) -> list[HindsightRow]:
    """The realised return over each forecast's span, against what the claim and evidence said.

    The span's end is the horizon; the best and worst cumulative returns inside the span
    (from its first day) are scores, so a rally that came and went inside it shows.
    """
    rows = []
    for f in forecasts:
        path = later.path(f.asset, start, with_ids)
        inside = np.log(path.iloc[f.days_from : f.days_to + 1].to_numpy() / path.iloc[0])
        scores = {
            "span": [f.days_from, f.days_to],
            "best_in_span": float(inside.max()) if len(inside) else None,
            "worst_in_span": float(inside.min()) if len(inside) else None,
            "basis": f.basis,
        }
        rows.append(
            forward_row(
                later,
                claim,
                kind,
                f"{f.asset} to day {f.days_to} (claimed span {f.days_from}-{f.days_to} trading "
                "days; best and worst cumulative return inside it)",
                f.asset,
                start,
                f.days_to,
                claimed=f.claimed if f.claimed in {"up", "down", "not up", "not down"} else None,
                evidence=f.direction,
                scores=scores,
                with_ids=with_ids,
            )
        )
    return rows


def rejudged_row(
    later: Later, claim: NoteClaim, start: pd.Timestamp, outcome: ClaimOutcome
) -> HindsightRow | None:
    """The same test on the latest data: what a descriptive claim's evidence shows now."""
    from havenflow.claims.check import _negated, guarded_judge

    kind = KINDS[claim.kind]
    end = later.end(kind.needs(claim.params))
    if end <= start:
        return None
    day = _day(end)
    now = _negated(guarded_judge(kind, later.at(end), claim.params), claim.negate)
    if now.verdict is Verdict.not_testable:
        return None
    number = now.deciding_number()
    shown = f" ({number.label}: {number.display})" if number else ""
    return HindsightRow(
        claim=claim.id,
        kind=claim.kind,
        label=f"the same test on {day}",
        asset=None,
        horizon=None,
        horizon_unit=HORIZON_UNIT,
        start_date=_day(start),
        end_date=day,
        through=day,
        status="observed",
        realised=None,
        expected=None,
        claimed=None,
        held=None,
        scores={
            "verdict_then": outcome.verdict.value,
            "verdict_now": now.verdict.value,
            "number": None if number is None else number.to_dict(),
        },
        text=f"on {day} the same test gives {now.verdict.value}{shown}; on {_day(start)} it "
        f"gave {outcome.verdict.value}",
    )


#: Kinds whose claim describes a state (not a forecast): hindsight re-runs their test on the
#: latest data ("what the data showed next").
DESCRIPTIVE = frozenset(
    {"all_time_high", "best_performer", "divergence", "series", "phase", "stress_correlation"}
)


def hindsight(
    claims: list[tuple[NoteClaim, ClaimOutcome, pd.Timestamp, Context]],
    repo: DataRepository,
    asof: pd.Timestamp,
    *,
    seed: int,
    replicates: int,
) -> dict[str, Any]:
    """Hindsight of every judged claim: ``rows``, ``charts`` per claim, ``notes``, ``end``.

    ``claims``: (claim, as-of outcome, the date it was judged on, its as-of context). ``end``
    is the last date every series the claims need reaches; it is None, with no rows, when the
    data stops at the as-of date.
    """
    empty: dict[str, Any] = {"end": None, "rows": [], "charts": {}, "notes": []}
    needed: list[str] = []
    for claim, outcome, _, _ in claims:
        if outcome.verdict is not Verdict.not_testable:
            needed += KINDS[claim.kind].needs(claim.params)
    later = Later(repo, seed=seed, replicates=replicates)
    try:
        ends = {sid: later.end((sid,)) for sid in dict.fromkeys(needed)}
    except HavenflowError as exc:
        return empty | {"notes": [f"hindsight not computed: {exc}"]}
    if not ends or max(ends.values()) <= asof:
        return empty
    end = max(ends.values())
    rows: list[dict[str, Any]] = []
    charts: dict[str, list[dict[str, Any]]] = {}
    notes: list[str] = []
    for claim, outcome, day, ctx in claims:
        if outcome.verdict is Verdict.not_testable:
            continue
        kind = KINDS[claim.kind]
        try:
            got = kind.hindsight(ctx, claim.params, outcome, later)
            if got is None:
                got = forecast_rows(later, claim.id, claim.kind, day, outcome.forecasts)
            if claim.negate:
                got = [negated_row(row) for row in got]
            mine = [dataclass_row(row, claim.id) for row in got]
            if claim.kind in DESCRIPTIVE:
                again = rejudged_row(later, claim, day, outcome)
                if again is not None:
                    mine.append(again.to_dict())
        except HavenflowError as exc:
            notes.append(f"{claim.id}: hindsight not scored: {exc}")
            continue
        rows += mine
        assets = [r["asset"] for r in mine if r["asset"] is not None and r["horizon"]]
        with_ids = kind.calendar_ids(ctx, claim.params)
        charts[claim.id] = [
            path_chart(later, a, day, mine, with_ids) for a in dict.fromkeys(assets)
        ]
    return {"end": _day(end), "rows": rows, "charts": charts, "notes": notes}


#: What a negated claim (``negate = true``) says where the kind's test says the key.
OPPOSITE = {"up": "not up", "not up": "up", "down": "not down", "not down": "down"}


def negated_row(row: HindsightRow) -> HindsightRow:
    """A row of a negated claim: the claimed direction flipped, ``held`` re-read from it."""
    if row.claimed is None:
        return row
    claimed = OPPOSITE.get(row.claimed, row.claimed)
    was = None if row.held is None else held(claimed, row.realised)
    return dataclasses.replace(
        row,
        claimed=claimed,
        held=was,
        text=row.text
        + f" (the note claims the opposite: {claimed}"
        + ("" if was is None else f", which {'held' if was else 'did not hold'}")
        + ")",
    )


def dataclass_row(row: HindsightRow, claim: str) -> dict[str, Any]:
    """A kind's row as JSON (the claim id filled in where the kind left it empty)."""
    out = row.to_dict()
    out["claim"] = out["claim"] or claim
    return out


def event_rows(
    later: Later,
    kind: str,
    target: str,
    asof: pd.Timestamp,
    event_dates: tuple[str, ...] | list[str],
    horizons: tuple[dict[str, Any], ...] | list[dict[str, Any]],
    claimed: str | None,
    trigger: str,
    with_ids: tuple[str, ...] = (),
) -> list[HindsightRow]:
    """The last event's realised excess return at each horizon that ends after ``asof``.

    Excess = the target's log return from the event's close over the horizon minus the as-of
    unconditional mean at that horizon (the event study's baseline); ``expected`` is the as-of
    mean excess after past events, with its bootstrap interval as a score.
    """
    if not event_dates:
        return []
    event = pd.Timestamp(event_dates[-1])
    path = later.path(target, event, with_ids)
    known = int((path.index <= asof).sum()) - 1  # bars from the event to the as-of date
    rows = []
    for h in horizons:
        bars = int(h["horizon"])
        if bars <= known or h.get("excess_mean") is None:
            continue  # its outcome was known on the as-of date: not hindsight
        realised, at, complete = _span(path, bars)
        base = float(h["baseline_mean"])
        excess = realised - base
        lo, hi = h.get("ci_low"), h.get("ci_high")
        was = held(claimed, excess) if complete else None
        rows.append(
            HindsightRow(
                claim="",
                kind=kind,
                label=f"{target} excess return {bars} trading days after {trigger} on "
                f"{_day(event)}",
                asset=target,
                horizon=bars,
                horizon_unit=HORIZON_UNIT,
                start_date=_day(event),
                end_date=_day(at) if complete else None,
                through=_day(at),
                status="complete" if complete else "pending",
                realised=excess,
                expected=float(h["excess_mean"]),
                claimed=claimed,
                held=was,
                scores={
                    "raw_return": realised,
                    "baseline_mean": base,
                    # The interval is the as-of estimate's (of the MEAN excess after past
                    # events): one event's outcome is not expected to fall inside it.
                    "mean_ci": [lo, hi],
                    "pvalue_asof": h.get("pvalue"),
                },
                text=f"after the {trigger} event of {_day(event)}, {target}'s excess return over "
                f"{bars} trading days was {both(excess)}"
                + ("" if complete else f" so far (to {_day(at)})")
                + f" against an as-of mean excess after past events of "
                f"{both(float(h['excess_mean']))}"
                + (
                    f" (95% CI of that mean [{both(lo)}, {both(hi)}])"
                    if lo is not None and hi is not None
                    else ""
                )
                + (
                    f"; claimed {claimed}: {'held' if was else 'did not hold'}"
                    if was is not None
                    else ""
                ),
            )
        )
    return rows


def path_chart(
    later: Later,
    asset: str,
    start: pd.Timestamp,
    rows: list[dict[str, Any]],
    with_ids: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Chart spec: ``asset``'s realised path after ``start`` against the as-of expectations.

    The path is the cumulative log return on trading days; each scored row with an expected
    value is a marker at its horizon (with its interval where it had one).
    """
    mine = [r for r in rows if r["asset"] == asset and r["horizon"] is not None]
    longest = max([int(r["horizon"]) for r in mine] + [21])
    path = later.path(asset, start, with_ids).iloc[: longest + 1]
    cum = np.log(path.to_numpy() / path.iloc[0])
    return {
        "kind": "hindsight_path",
        "title": f"{asset} after {_day(pd.Timestamp(path.index[0]))}: realised path against the "
        "as-of expectations (simple return)",
        "asset": asset,
        "bars": list(range(len(cum))),
        "dates": [_day(pd.Timestamp(d)) for d in path.index],
        "path": [float(v) for v in cum],
        "marks": [
            {
                "bar": int(r["horizon"]),
                "label": r["label"],
                "expected": r["expected"],
                "interval": (r["scores"] or {}).get("interval"),
                "realised": r["realised"],
                "status": r["status"],
            }
            for r in mine
            if r["expected"] is not None and r["start_date"] == _day(pd.Timestamp(path.index[0]))
        ],
    }


def hindsight_tallies(rows: list[dict[str, Any]]) -> list[str]:
    """One line per claim with a checkable outcome: how many of its checks held.

    A claim's rows overlap (nested horizons of one event, a span and its horizons), so they
    are counted per claim, not pooled as if independent.
    """
    lines = []
    for cid in dict.fromkeys(r["claim"] for r in rows):
        mine = [r for r in rows if r["claim"] == cid and r["claimed"] is not None]
        scored = [r for r in mine if r["held"] is not None]
        pending = [r for r in mine if r["status"] == "pending"]
        if not mine:
            continue
        ok = sum(bool(r["held"]) for r in scored)
        lines.append(
            f"{cid}: what it said held in {ok} of {len(scored)} completed checks"
            + (f" ({len(pending)} pending)" if pending else "")
            + " (overlapping horizons of one claim, not independent outcomes)."
        )
    return lines


def hindsight_summary(rows: list[dict[str, Any]]) -> list[str]:
    """Plain lines: the per-claim tallies, then each row's sentence."""
    return hindsight_tallies(rows) + [f"{r['claim']}: {r['text']}." for r in rows]
