"""One monitor run over every watched note, and the loop that repeats it.

A run: update the data of the watched notes (unless offline), evaluate each note on the date
(:mod:`havenflow.monitor.evaluate`), record states and new alerts in one transaction per note
(:mod:`havenflow.monitor.state`), then deliver every pending alert to every configured
channel (:mod:`havenflow.monitor.deliver`). A note that cannot be judged on the date is
reported and skipped; the others still run.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from havenflow.data.repository import DataRepository
from havenflow.data.store import Store
from havenflow.exceptions import DataValidationError, HavenflowError
from havenflow.monitor.deliver import Channel, DeliveryError
from havenflow.monitor.evaluate import evaluate, note_of, watch_asof, watched_triggers
from havenflow.monitor.state import MAX_ATTEMPTS, Alert, WatchStore

__all__ = ["RunOutcome", "parse_every", "run_every", "run_watches"]

logger = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    """What a run did."""

    evaluated: list[tuple[str, str]] = field(default_factory=list)  # (note, asof)
    raised: list[Alert] = field(default_factory=list)
    delivered: dict[str, int] = field(default_factory=dict)
    failed: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "evaluated": [{"note": n, "asof": a} for n, a in self.evaluated],
            "alerts": [a.to_dict() for a in self.raised],
            "delivered": self.delivered,
            "failed": self.failed,
            "notes": self.notes,
        }


def _series_of(store: WatchStore) -> list[str]:
    from havenflow.analytics.events import parse_trigger
    from havenflow.claims.registry import KINDS
    from havenflow.universe import PHASE_SERIES

    ids: list[str] = list(PHASE_SERIES)
    for watch in store.watches():
        note = note_of(watch)
        for claim in note.claims:
            ids += KINDS[claim.kind].needs(claim.params)
        for trigger in watched_triggers(watch, note):
            ids += list(parse_trigger(trigger).series)
    return list(dict.fromkeys(ids))


def _update(store: Store, ids: list[str], outcome: RunOutcome) -> None:
    from havenflow.catalog import load_catalog
    from havenflow.data.update import update_store

    live = [s for s in ids if s in load_catalog() and load_catalog()[s].sources]
    if not live:
        return
    try:
        results = update_store(store, live)
    except HavenflowError as exc:
        outcome.notes.append(f"data not updated ({exc}); judged on the stored data")
        return
    failed = [r.series_id for r in results if r.status == "failed"]
    if failed:
        outcome.notes.append(f"not updated: {', '.join(failed)} (see `havenflow data update`)")


def run_watches(
    store: Store,
    *,
    asof: str | None = None,
    offline: bool = False,
    channels: Sequence[Channel] = (),
    repository: Callable[[Store], DataRepository] | None = None,
) -> RunOutcome:
    """Evaluate every watched note and deliver what is pending.

    Parameters
    ----------
    store
        The store holding the data and the monitor's state.
    asof
        Evaluate on this date (default: each note's latest date with data).
    offline
        Do not update the data first.
    channels
        Where alerts go (besides the returned outcome).
    repository
        Builds the data repository over ``store`` (tests add ``--data`` files this way).

    Raises
    ------
    DataValidationError
        When nothing is watched.
    """
    watches = WatchStore(store)
    watched = watches.watches()
    if not watched:
        raise DataValidationError("nothing is watched: add a note with `havenflow watch add NOTE`")
    outcome = RunOutcome()
    if not offline:
        _update(store, _series_of(watches), outcome)
    repo = repository(store) if repository is not None else DataRepository(store=store)
    names = [c.name for c in channels]
    for watch in watched:
        try:
            day = watch_asof(note_of(watch), repo, asof)
            previous_asof, previous = watches.previous_state(watch.watch_id, day)
            states, alerts = evaluate(watch, repo, day, previous_asof, previous)
        except HavenflowError as exc:
            outcome.notes.append(f"{watch.watch_id}: not evaluated ({exc})")
            continue
        outcome.raised += watches.record(watch.watch_id, day, states, alerts, names)
        outcome.evaluated.append((watch.watch_id, day.date().isoformat()))
    for channel in channels:
        for alert in watches.pending(channel.name):
            try:
                channel.send(alert)
            except DeliveryError as exc:
                abandoned = watches.mark(
                    alert["alert_key"], channel.name, sent=False, error=str(exc)
                )
                outcome.failed.setdefault(channel.name, []).append(str(exc))
                if abandoned:
                    outcome.notes.append(
                        f"alert {alert['alert_key']} abandoned for {channel.name} after "
                        f"{MAX_ATTEMPTS} failed deliveries ({exc})"
                    )
                if exc.channel_down:
                    break  # unreachable: its other alerts wait for the next run
                continue
            watches.mark(alert["alert_key"], channel.name, sent=True)
            outcome.delivered[channel.name] = outcome.delivered.get(channel.name, 0) + 1
    return outcome


def parse_every(text: str) -> float:
    """``30s``, ``15m``, ``1h`` or ``1d`` in seconds (at least 1 s, at most 7 days)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value, unit = text[:-1], text[-1:].lower()
    if unit not in units or not value.isdigit():
        raise DataValidationError(f"--every {text[:40]!r}: expected a number and s, m, h or d")
    seconds = float(int(value) * units[unit])
    if not 1 <= seconds <= 7 * 86400:
        raise DataValidationError(f"--every {text[:40]!r}: between 1s and 7d")
    return seconds


def run_every(
    seconds: float,
    once: Callable[[], None],
    *,
    stop: threading.Event | None = None,
    max_runs: int | None = None,
) -> int:
    """Call ``once`` every ``seconds`` until SIGTERM or SIGINT; return the number of runs.

    A signal ends the wait at once and lets a run in progress finish (its alerts are recorded
    and delivered, or left pending): a service manager's stop never cuts a run in half.
    """
    stop = stop or threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    runs = 0
    try:
        while not stop.is_set():
            try:
                once()
            except HavenflowError as exc:
                # A busy store or a bad day must not end the service: say so, try next time.
                logger.error("run failed: %s; next run in %.0f s", exc, seconds)
                sys.stderr.write(f"error: {exc} (the next run is in {seconds:.0f} s)\n")
            runs += 1
            if max_runs is not None and runs >= max_runs:
                break
            stop.wait(seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return runs
