"""The report of a note: ``havenflow report`` is ``havenflow check`` on the seed note.

The JSON is the single source: the HTML and Markdown are rendered from it, so the three formats
carry the same verdicts and numbers. Everything in it comes from
:func:`havenflow.claims.check_note` (the report computes nothing new). No wall clock enters the
JSON, so the report for a date is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from havenflow.analytics.reuse import reuse_fits
from havenflow.claims import CheckOptions, Verdict, check_note, resolve_note
from havenflow.claims.note import Note
from havenflow.claims.timeline import (
    TimelineOptions,
    checked_steps,
    parse_history,
    verdict_timeline,
)
from havenflow.data.repository import DataRepository

__all__ = ["SEED_NOTE", "VERDICTS", "ReportOptions", "build_report", "seed_claims"]

VERDICTS = tuple(v.value for v in Verdict)

#: The bundled note of ``CLAIMS.md`` (claims C1-C11).
SEED_NOTE = "silver-bitcoin-2026-01"


@dataclass(frozen=True)
class ReportOptions:
    """What the report judges and how (every value is printed in the report).

    ``note``: a note file or a bundled note's name (default: the seed note).
    """

    asof: str | None = None
    seed: int = 0
    replicates: int = 999
    note: str = SEED_NOTE
    sensitivity: bool = True
    hindsight: bool = True
    #: ``START..END``: also judge the note at every ``step`` in that range (a timeline).
    history: str | None = None
    step: str = "M"
    workers: int = 1
    #: Backtest the note's ``[strategy]`` (if it has one) up to the as-of date.
    backtest: bool = True


def seed_claims() -> dict[str, str]:
    """The seed note's claims: id -> text."""
    return {c.id: c.text for c in resolve_note(SEED_NOTE).claims}


def build_report(repo: DataRepository, options: ReportOptions | None = None) -> dict[str, Any]:
    """Judge ``options.note`` as of ``options.asof`` and return the report as plain JSON types.

    Raises
    ------
    NoteError
        If the note is malformed or names an unknown series.
    DataValidationError
        If the as-of is malformed or after the last date the note's series share, or the
        history range is malformed, outside the data or too long.
    """
    o = options or ReportOptions()
    note = resolve_note(o.note)
    timeline = None
    if o.history is not None:
        # Parsed and bounded before any fit: a malformed range fails fast.
        start, end = parse_history(o.history)
        topt = TimelineOptions(
            start, end, o.step, seed=o.seed, replicates=o.replicates, workers=o.workers
        )
        checked_steps(note, repo, topt)  # a range outside the data fails before any fit
    with reuse_fits():  # the as-of check and the timeline's steps share identical fits
        doc = check_note(
            note,
            repo,
            CheckOptions(
                asof=o.asof,
                seed=o.seed,
                replicates=o.replicates,
                sensitivity=o.sensitivity,
                hindsight=o.hindsight,
            ),
        )
        if o.history is not None:
            timeline = verdict_timeline(note, repo, topt)
    if timeline is not None:
        doc |= timeline
    if o.backtest and note.strategy is not None:
        doc["backtest"] = _backtest(repo, note, doc["asof"], o)
    return doc


def _backtest(repo: DataRepository, note: Note, asof: str, o: ReportOptions) -> dict[str, Any]:
    """The note's strategy backtested to ``asof`` (data known then only), or why not."""
    from havenflow.exceptions import HavenflowError
    from havenflow.services.backtest import run_backtest

    assert note.strategy is not None
    try:
        out = run_backtest(repo, note.strategy, end=asof, replicates=o.replicates, seed=o.seed)
    except HavenflowError as exc:
        return {"name": note.strategy.name, "error": str(exc)}
    return out.to_dict()
