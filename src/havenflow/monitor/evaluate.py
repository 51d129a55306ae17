"""What a watched note says on a date, and what changed since the run before.

For each watched note and date the monitor records, point-in-time (the same code as
``havenflow check --asof``, without the sensitivity block or hindsight):

- every claim's verdict and deciding number;
- the phase of the cycle by the rules (the regime's confirmed phase on the date);
- every watched trigger's last onset up to the date (the note's event-study triggers and
  those added with ``watch add --trigger``).

Alerts, against the latest earlier run of the same note (runs are compared in date order, so
a backfill is judged against the state before its own date): ``verdict_change`` when a
claim's verdict differs, ``phase_change`` when the phase does, ``trigger`` when a trigger had
an onset after the earlier run's date (on the first run: on the date itself). The first run
of a note is its baseline: it raises no verdict or phase change.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from havenflow.claims.note import Note, parse_note
from havenflow.data.repository import DataRepository
from havenflow.exceptions import HavenflowError
from havenflow.monitor.state import Alert, Watch

__all__ = ["evaluate", "note_of", "watch_asof", "watched_triggers"]


def note_of(watch: Watch) -> Note:
    """The watched note, parsed from the text stored when it was added."""
    return parse_note(watch.note_text, watch.source)


def watched_triggers(watch: Watch, note: Note) -> list[str]:
    """The note's event-study triggers and the watch's own, without repeats."""
    # Every event-study claim has a trigger.
    from_note = [
        str(getattr(c.params, "trigger", "")) for c in note.claims if c.kind == "event_study"
    ]
    return list(dict.fromkeys([*from_note, *watch.triggers]))


def watch_asof(note: Note, repo: DataRepository, asof: str | None) -> pd.Timestamp:
    """The date to evaluate: ``asof``, or the last date the note's core series share."""
    from havenflow.claims.check import _core_ids
    from havenflow.data.validate import parse_asof
    from havenflow.services import common_asof

    if asof is not None:
        return parse_asof(asof)
    return pd.Timestamp(common_asof(repo, _core_ids(note)).asof)


def _claim_states(note: Note, repo: DataRepository, day: pd.Timestamp) -> dict[str, Any]:
    from havenflow.claims import CheckOptions, check_note

    doc = check_note(
        note,
        repo,
        CheckOptions(asof=day.date().isoformat(), sensitivity=False, hindsight=False),
    )
    out: dict[str, Any] = {}
    for claim in doc["claims"]:
        deciding = claim.get("deciding") or {}
        out[f"claim:{claim['id']}"] = {
            "value": claim["verdict"],
            "evidence": {
                "claim_text": claim["claim"],
                "judged_on": claim.get("judged_on"),
                "deciding": {k: deciding.get(k) for k in ("label", "display", "value")},
                "explanation": claim.get("explanation"),
            },
        }
    return out


def _phase_state(repo: DataRepository, day: pd.Timestamp) -> dict[str, Any] | None:
    from havenflow.analytics.regime import PHASE_NAMES
    from havenflow.services import run_regime

    try:
        rules = run_regime(repo, day.date().isoformat(), markov=False).rules
    except HavenflowError:
        return None  # the phase needs series this store may lack: then it is not watched
    phase = rules.phase.dropna()
    if phase.empty:
        return None
    current = int(phase.iloc[-1])
    changed = phase[phase != phase.shift(1)]
    since = pd.Timestamp(changed.index[-1]).date().isoformat()
    return {
        "value": str(current),
        "evidence": {"phase": current, "name": PHASE_NAMES[current], "since": since},
    }


def _trigger_state(repo: DataRepository, trigger: str, day: pd.Timestamp) -> dict[str, Any]:
    from havenflow.analytics.events import parse_trigger, trigger_onsets
    from havenflow.services._load import _aligned_levels

    parsed = parse_trigger(trigger)
    if parsed.kind == "phase":
        from havenflow.services import run_regime

        phases = run_regime(repo, day.date().isoformat(), markov=False).rules.phase
        levels = phases.astype("float").rename("phase").to_frame()
    else:
        levels, _, _ = _aligned_levels(repo, list(parsed.series), "B", day)
    onsets = trigger_onsets(parsed, levels)
    onsets = onsets[onsets <= day]
    last_bar = pd.Timestamp(levels.index[-1]).date().isoformat() if len(levels) else None
    return {
        "value": onsets[-1].date().isoformat() if len(onsets) else None,
        "evidence": {
            "trigger": trigger,
            "describes": parsed.describe(),
            "onsets": [d.date().isoformat() for d in onsets[-20:]],
            "last_bar": last_bar,
        },
    }


def evaluate(
    watch: Watch,
    repo: DataRepository,
    day: pd.Timestamp,
    previous_asof: str | None,
    previous: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], list[Alert]]:
    """The states of ``watch`` on ``day`` and the alerts against ``previous`` (a state dict).

    Raises
    ------
    HavenflowError
        When the note cannot be judged on ``day`` (its series end before it, say).
    """
    note = note_of(watch)
    states = _claim_states(note, repo, day)
    phase = _phase_state(repo, day)
    if phase is not None:
        states["phase"] = phase
    for trigger in watched_triggers(watch, note):
        states[f"trigger:{trigger}"] = _trigger_state(repo, trigger, day)
    asof = day.date().isoformat()
    alerts: list[Alert] = []
    for item, state in states.items():
        before = previous.get(item)
        if item.startswith("trigger:"):
            onsets = state["evidence"]["onsets"]
            since = previous_asof if previous_asof is not None else None
            fired = [
                d
                for d in onsets
                if (since is not None and d > since)
                or (since is None and d == state["evidence"]["last_bar"])
            ]
            for onset in fired:
                alerts.append(
                    Alert(
                        watch.watch_id,
                        None,
                        "trigger",
                        None if before is None else before["value"],
                        onset,
                        asof,
                        state["evidence"] | {"onset": onset},
                        watch.title,
                    )
                )
            continue
        if before is None or before["value"] == state["value"]:
            continue  # a baseline, or nothing changed
        kind = "phase_change" if item == "phase" else "verdict_change"
        claim = None if item == "phase" else item.removeprefix("claim:")
        alerts.append(
            Alert(
                watch.watch_id,
                claim,
                kind,
                str(before["value"]),
                str(state["value"]),
                asof,
                {"since": previous_asof, "now": state["evidence"], "before": before["evidence"]},
                watch.title,
            )
        )
    return states, alerts
