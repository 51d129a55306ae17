"""Judge a note: every claim on its date, with freshness, sensitivity, q-values, bottom line.

The result is plain JSON types; the report renders it and computes nothing new.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from havenflow import __version__
from havenflow.analytics.results import jsonable
from havenflow.claims.base import ClaimKind, ClaimOutcome, Context, Forecast, Verdict
from havenflow.claims.hindsight import hindsight, hindsight_summary, hindsight_tallies
from havenflow.claims.note import Note, NoteClaim, validate_ids
from havenflow.claims.registry import KINDS
from havenflow.data.repository import DataRepository, LoadedSeries
from havenflow.exceptions import DataValidationError, HavenflowError

__all__ = ["CheckOptions", "bottom_line", "check_note", "default_asof", "freshness"]

#: Claims whose q-value is below this survive the note-wide false-discovery control.
FDR_LEVEL = 0.05


@dataclass(frozen=True)
class CheckOptions:
    """How a note is judged (every value is printed in the report)."""

    asof: str | None = None
    seed: int = 0
    replicates: int = 999
    sensitivity: bool = True
    #: Score the forward-looking claims against the data after the as-of date, where there is
    #: some ("what happened next"); computed after every verdict, it never changes one.
    hindsight: bool = True


# ---- dates -------------------------------------------------------------------------------------


def _core_ids(note: Note) -> list[str]:
    ids: list[str] = []
    for c in note.claims:
        ids += KINDS[c.kind].core(c.params)
    return list(dict.fromkeys(ids))


def default_asof(
    note: Note, repo: DataRepository, asof: str | None = None
) -> tuple[pd.Timestamp, str]:
    """The date a note is judged at, and one line saying why.

    Given ``asof``: that date, refused after the last date the note's core series share.
    Otherwise the note's date, or the last date the core series share if that is earlier.
    """
    from havenflow.data.validate import parse_asof
    from havenflow.services import common_asof

    core = _core_ids(note)
    if not core:
        day = parse_asof(asof) if asof is not None else note.date
        return day, "the date asked for" if asof is not None else "the note's date"
    common = common_asof(repo, core)
    if asof is not None:
        day = parse_asof(asof)
        if day > common.asof:
            ending = sorted(s for s, d in common.last.items() if d == common.asof)
            raise DataValidationError(
                f"--asof {day.date()} is after {common.asof.date()}, the last date with data for "
                f"every series of the note ({', '.join(ending)} "
                f"{'ends' if len(ending) == 1 else 'end'} {common.asof.date()})"
            )
        starts = {}
        for sid in core:
            try:
                repo.load(sid, day)
            except HavenflowError:
                starts[sid] = repo.load(sid).first
            else:
                break
        else:  # no series of the note has a value by then: nothing to judge
            first = min(starts, key=lambda s: starts[s])
            raise DataValidationError(
                f"--asof {day.date()} is before any data of the note's series (the first, "
                f"{first}, starts {starts[first].date()})"
            )
        return day, "the date asked for"
    if note.date <= common.asof:
        return note.date, "the note's date"
    return common.asof, (
        f"{common.message.removeprefix(f'as of {common.asof.date()}, ')}; the note is dated "
        f"{note.date.date()}, after it"
    )


def freshness(repo: DataRepository, sid: str, day: pd.Timestamp) -> str | None:
    """Why ``sid`` is too stale to judge a claim dated ``day`` (None when it is fresh).

    A series is stale when its last value known on ``day`` is older than twice its usual
    spacing plus its publication lag and a week of slack (a daily series: about 9 days; a
    monthly one: about 3 months; a yearly one: about 2 years).
    """
    from havenflow.exceptions import UnknownSeriesError

    try:
        loaded = repo.load(sid, day)
    except UnknownSeriesError:
        return f"{sid} is not in the store, the catalog or the --data files"
    except HavenflowError as exc:
        return str(exc)
    index = pd.DatetimeIndex(loaded.values.index)
    last = pd.Timestamp(index[-1])
    spacing = (
        pd.Series(index[-13:]).diff().dropna().median() if len(index) > 2 else pd.Timedelta(days=1)
    )
    known = pd.Timestamp(loaded.known_dates()[-1])
    # The publication lag of the last value after its period ends (its release schedule's,
    # or ALFRED's real one).
    period_end = last + pd.offsets.MonthEnd(0) if loaded.spec.calendar == "monthly" else last
    lag = max(known - period_end, pd.Timedelta(0))
    tolerance = 2 * spacing + lag + pd.Timedelta(days=7)
    if day - last > tolerance:
        return (
            f"{sid} ends {last.date()} (known from {known.date()}), {(day - last).days} days "
            f"before {day.date()}: too stale to judge a claim on that date"
        )
    return None


# ---- one claim ---------------------------------------------------------------------------------


def guarded_judge(kind: ClaimKind[Any], ctx: Context, params: Any) -> ClaimOutcome:
    """The kind's judgement; a HavenflowError (missing or insufficient data) is "not testable".

    Anything else (a missing field, a bug) propagates: a renamed key must fail the build,
    never turn a verdict into something else.
    """
    try:
        return kind.judge(ctx, params)
    except HavenflowError as exc:
        return ClaimOutcome.not_testable(f"not testable on {ctx.day}: {exc}")


def _judge_claim(
    claim: NoteClaim, ctx: Context, options: CheckOptions
) -> tuple[ClaimOutcome, dict[str, Any], pd.Timestamp]:
    """The claim's outcome, its sensitivity block and the date it was judged on."""
    kind = KINDS[claim.kind]
    day = claim.on if claim.on is not None else ctx.asof
    if day > ctx.asof:
        return (
            ClaimOutcome.not_testable(
                f"the claim is about {day.date()}, after the as-of date {ctx.day}: it cannot "
                "be judged with the data known then"
            ),
            {},
            day,
        )
    here = ctx.at(day) if day != ctx.asof else ctx
    for sid in kind.needs(claim.params):
        stale = freshness(ctx.repo, sid, day)
        if stale is not None:
            hint = ""
            if claim.kind == "series":
                hint = (
                    " (import it with `havenflow data import` or pass it with --data FILE; the "
                    "verdict then rests on it)"
                )
            return ClaimOutcome.not_testable(f"not testable: {stale}{hint}"), {}, day
    outcome = _negated(guarded_judge(kind, here, claim.params), claim.negate)
    sensitivity: dict[str, Any] = {}
    alternatives = kind.alternatives(claim.params) if options.sensitivity else []
    if alternatives and outcome.verdict is not Verdict.not_testable:
        rows = []
        for label, alt in alternatives:
            alt_outcome = _negated(guarded_judge(kind, here, alt), claim.negate)
            rows.append(
                {
                    "label": label,
                    "changed": _changed(claim.params, alt),
                    "verdict": alt_outcome.verdict.value,
                    "pvalue": alt_outcome.pvalue,
                    "reason": alt_outcome.explanation
                    if alt_outcome.verdict is Verdict.not_testable
                    else None,
                }
            )
        judged = [r for r in rows if r["verdict"] != Verdict.not_testable.value]
        same = all(r["verdict"] == outcome.verdict.value for r in judged)
        sensitivity = {
            "label": "robust" if judged and same else "fragile" if judged else "untested",
            "alternatives": rows,
        }
    return outcome, sensitivity, day


def _negated(outcome: ClaimOutcome, negate: bool) -> ClaimOutcome:
    """A negated claim (``negate = true``): supported and not supported swap, nothing else."""
    if not negate:
        return outcome
    swap = {
        Verdict.supported: Verdict.not_supported,
        Verdict.not_supported: Verdict.supported,
    }
    return dataclasses.replace(
        outcome,
        verdict=swap.get(outcome.verdict, outcome.verdict),
        rule=f"the note claims the opposite of what this kind tests, so the verdict is "
        f"swapped: {outcome.rule}",
    )


def _changed(base: Any, alt: Any) -> dict[str, Any]:
    a, b = base.model_dump(mode="json"), alt.model_dump(mode="json")
    return {k: b[k] for k in b if a.get(k) != b[k]}


# ---- the note ------------------------------------------------------------------------------------


def _qvalues(pvalues: dict[str, float]) -> dict[str, float]:
    """Benjamini-Hochberg q-values of the note's tests (scipy's step-up adjustment)."""
    from scipy.stats import false_discovery_control

    if not pvalues:
        return {}
    ids = list(pvalues)
    q = false_discovery_control(np.array([pvalues[i] for i in ids], dtype=float), method="bh")
    return {i: float(v) for i, v in zip(ids, q, strict=True)}


def _overlap(a: Forecast, b: Forecast) -> tuple[int, int] | None:
    lo, hi = max(a.days_from, b.days_from), min(a.days_to, b.days_to)
    return (lo, hi) if lo <= hi else None


_CONFLICT = {
    ("up", "down"),
    ("up", "not up"),
    ("down", "not down"),
}


def _conflict_as_written(x: str, y: str) -> bool:
    return (x, y) in _CONFLICT or (y, x) in _CONFLICT


def _span(days: tuple[int, int]) -> str:
    return f"{days[0]} trading days" if days[0] == days[1] else f"{days[0]}–{days[1]} trading days"


def _word(direction: int) -> str:
    return {1: "up", -1: "down", 0: "no edge"}[direction]


def bottom_line(
    claims: list[dict[str, Any]], forecasts: dict[str, list[Forecast]]
) -> dict[str, Any]:
    """Agreements and tensions between a note's claims, from their numbers.

    Two claims meet where their forecasts name the same asset over overlapping spans: they
    agree when their evidence points the same way (or both find no edge), and are in tension
    when it does not, or when the claims as written say opposite things there (then the data
    says which of them, if either, it backs).
    """
    tally: dict[str, int] = {}
    for c in claims:
        tally[c["verdict"]] = tally.get(c["verdict"], 0) + 1
    lines = [
        "Verdicts: "
        + ", ".join(f"{n} {v}" for v, n in sorted(tally.items(), key=lambda kv: -kv[1]))
        + f" (of {len(claims)} claims)."
    ]
    tested = [c for c in claims if c.get("q_value") is not None]
    if tested:
        survive = [
            c["id"] if c["verdict"] == Verdict.supported.value else f"{c['id']} [{c['verdict']}]"
            for c in tested
            if c["q_value"] < FDR_LEVEL
        ]
        weak = [
            c["id"]
            for c in tested
            if c["verdict"] == Verdict.supported.value and c["q_value"] >= FDR_LEVEL
        ]
        lines.append(
            f"{len(survive)} of {len(tested)} tests survive Benjamini-Hochberg at q < "
            f"{FDR_LEVEL:g} across the note"
            + (f" ({', '.join(survive)})" if survive else "")
            + (
                f"; supported but not surviving it: {', '.join(weak)} (treat as suggestive)"
                if weak
                else ""
            )
            + "."
        )
    fragile = [c["id"] for c in claims if (c.get("sensitivity") or {}).get("label") == "fragile"]
    if fragile:
        lines.append(
            f"Fragile (the verdict changes under a reasonable alternative): {', '.join(fragile)}."
        )
    agreements: list[dict[str, Any]] = []
    tensions: list[dict[str, Any]] = []
    ids = list(forecasts)
    for i, a_id in enumerate(ids):
        for b_id in ids[i + 1 :]:
            for fa in forecasts[a_id]:
                for fb in forecasts[b_id]:
                    if fa.asset != fb.asset:
                        continue
                    span = _overlap(fa, fb)
                    if span is None:
                        continue
                    pair = {
                        "claims": [a_id, b_id],
                        "asset": fa.asset,
                        "days": list(span),
                        "evidence": [fa.direction, fb.direction],
                        "claimed": [fa.claimed, fb.claimed],
                    }
                    written = _conflict_as_written(fa.claimed, fb.claimed)
                    head = f"{a_id} and {b_id} on {fa.asset} over {_span(span)}"
                    data = (
                        f"{a_id}: {_word(fa.direction)} ({fa.basis}); "
                        f"{b_id}: {_word(fb.direction)} ({fb.basis})"
                    )
                    if fa.direction * fb.direction < 0 or (
                        (fa.direction == 0) != (fb.direction == 0)
                    ):
                        pair["text"] = f"Tension: {head}: the evidence differs. {data}."
                        tensions.append(pair)
                    elif written:
                        backed = (
                            "neither claim's forecast is backed by the data"
                            if fa.direction == 0
                            else f"the data points {_word(fa.direction)} for both"
                        )
                        pair["text"] = (
                            f"Tension as written: {head}: {a_id} says {fa.claimed}, {b_id} says "
                            f"{fb.claimed}; {backed}. {data}."
                        )
                        tensions.append(pair)
                    else:
                        pair["text"] = (
                            f"Agreement: {head}: "
                            + (
                                "neither finds an edge"
                                if fa.direction == 0
                                else f"both point {_word(fa.direction)}"
                            )
                            + f". {data}."
                        )
                        agreements.append(pair)
    lines += [t["text"] for t in tensions] + [a["text"] for a in agreements]
    if not tensions and not agreements:
        lines.append("No two claims forecast the same asset over overlapping spans.")
    return {"text": lines, "tally": tally, "agreements": agreements, "tensions": tensions}


def _data_table(repo: DataRepository, ids: list[str], asof: pd.Timestamp) -> list[dict[str, Any]]:
    rows = []
    for sid in ids:
        try:
            ls = repo.load(sid, asof)
        except HavenflowError:
            continue
        rows.append(
            {
                "id": sid,
                "name": ls.spec.name,
                "first": pd.Timestamp(ls.values.index[0]).date().isoformat(),
                "last": pd.Timestamp(ls.values.index[-1]).date().isoformat(),
                "origin": ls.origin,
                "known": _known_how(ls),
                "attribution": ls.spec.attribution,
            }
        )
    return rows


def _known_how(loaded: LoadedSeries) -> str:
    """How the series' publication days are dated (the approximation, where one is made)."""
    from havenflow.data.releases import RELEASES

    spec = loaded.spec
    if loaded.vintages is not None:
        return "ALFRED vintages: each value as published then, from its first publication day"
    if spec.release is not None:
        return (
            f"release schedule ({RELEASES[spec.release]}): an approximation of the real "
            "days (set FRED_API_KEY for ALFRED's)"
        )
    if spec.known_lag_days == 0:
        return "on its own day"
    period = "month" if spec.calendar == "monthly" else "period"
    return f"{spec.known_lag_days} days after its {period} ends (a fixed lag)"


def check_note(
    note: Note, repo: DataRepository, options: CheckOptions | None = None
) -> dict[str, Any]:
    """Judge every claim of ``note`` and return the report document (plain JSON types).

    Raises
    ------
    NoteError
        If the note names a series the repository does not know.
    DataValidationError
        If ``options.asof`` is malformed or after the last date the note's series share.
    """
    o = options or CheckOptions()
    validate_ids(note, repo)
    asof, why = default_asof(note, repo, o.asof)
    ctx = Context(repo, asof, seed=o.seed, replicates=o.replicates)
    judged: list[tuple[NoteClaim, ClaimOutcome, pd.Timestamp, Context]] = []
    claims: list[dict[str, Any]] = []
    forecasts: dict[str, list[Forecast]] = {}
    methods: dict[str, list[str]] = {}  # methods text -> the claims it describes
    needed: list[str] = []
    for claim in note.claims:
        kind = KINDS[claim.kind]
        outcome, sensitivity, day = _judge_claim(claim, ctx, o)
        judged.append((claim, outcome, day, ctx.at(day) if day != ctx.asof else ctx))
        needed += kind.needs(claim.params)
        text = kind.methods(claim.params)
        if text:
            methods.setdefault(text, []).append(claim.id)
        if outcome.forecasts and outcome.verdict is not Verdict.not_testable:
            forecasts[claim.id] = outcome.forecasts
        deciding = outcome.deciding_number()
        claims.append(
            {
                "id": claim.id,
                "claim": claim.text,
                "kind": claim.kind,
                "params": claim.params.model_dump(mode="json"),
                "on": None if claim.on is None else claim.on.date().isoformat(),
                "negate": claim.negate,
                "judged_on": day.date().isoformat(),
                "verdict": outcome.verdict.value,
                "numbers": [n.to_dict() for n in outcome.numbers],
                "explanation": outcome.explanation[:1].upper() + outcome.explanation[1:],
                "rule": outcome.rule,
                "charts": outcome.charts,
                "pvalue": outcome.pvalue,
                "test": outcome.test,
                "q_value": None,
                "sensitivity": sensitivity or None,
                "forecasts": [f.to_dict() for f in outcome.forecasts],
                "deciding": None if deciding is None else deciding.to_dict(),
                "notes": outcome.notes,
            }
        )
    # A negated claim ("X does not explain Y") is backed by the absence of evidence: its test's
    # p-value is shown but is no discovery, so it stays out of the false-discovery control.
    q = _qvalues(
        {c["id"]: c["pvalue"] for c in claims if c["pvalue"] is not None and not c["negate"]}
    )
    for c in claims:
        c["q_value"] = q.get(c["id"])
    doc = {
        "title": note.title,
        "note": note.to_dict(),
        "asof": asof.date().isoformat(),
        "asof_reason": why,
        "havenflow_version": __version__,
        "seed": o.seed,
        "options": {
            "asof": o.asof,
            "seed": o.seed,
            "replicates": o.replicates,
            "sensitivity": o.sensitivity,
            "fdr_level": FDR_LEVEL,
        },
        "summary": [
            {
                "id": c["id"],
                "claim": c["claim"],
                "verdict": c["verdict"],
                "q_value": c["q_value"],
                "robustness": (c["sensitivity"] or {}).get("label"),
            }
            for c in claims
        ],
        "claims": claims,
        "bottom_line": bottom_line(claims, forecasts),
        "methods": [{"name": ", ".join(ids), "text": text} for text, ids in methods.items()]
        + [
            {
                "name": "Point-in-time",
                "text": "Every number uses values known on or before its claim's date "
                "(publication lags included); a claim whose series ends too long before its "
                "date is not testable.",
            },
            {
                "name": "Sensitivity and multiple testing",
                "text": "Each claim with alternatives is re-judged under them (robust: same "
                "verdict under every alternative); the p-values of the note's tests get "
                f"Benjamini-Hochberg q-values (level {FDR_LEVEL:g}).",
            },
        ],
        "data": _data_table(repo, list(dict.fromkeys(needed)), asof),
        "notes": [],
    }
    if o.hindsight:
        # After every verdict, from its own context: the as-of document above is final.
        later = hindsight(judged, repo, asof, seed=o.seed, replicates=o.replicates)
        doc["hindsight"] = later["rows"]
        doc["hindsight_info"] = {
            "end": later["end"],
            "charts": later["charts"],
            "notes": later["notes"],
            "summary": hindsight_summary(later["rows"]),
            "tallies": hindsight_tallies(later["rows"]),
            "method": "Returns are log returns on trading days from the close of the claim's "
            "date (an event's: from the event's close), shown as simple % with log points "
            "(lp); horizons in trading days. Outlook rows: PIT = the as-of forecast CDF at the "
            "realised return (censored outside the 5-95% quantiles), CRPS (log-return units, "
            "lower is better) against the as-of quantiles and the baseline's, inside = within "
            "the as-of 5-95% interval. Event rows: one event's excess return against the "
            "as-of mean excess after past events (its interval is the mean's, not a range "
            "for one event). Computed after the as-of verdicts from the data known at the end "
            "date; it never changes them.",
        }
    return dict(jsonable(doc))
