"""The monitor's state, in the store: watched notes, runs, what each run saw, alerts, deliveries.

Tables (in the same DuckDB file as the observations, one transaction per change):

- ``watch_notes(watch_id, title, source, note_text, triggers, added_at)``: the note's text as
  added (a moved or edited file does not change what is watched until it is added again);
- ``watch_runs(run_id, watch_id, asof_date, started_at)``;
- ``watch_states(run_id, watch_id, asof_date, item, value, evidence)``: per run, each claim's
  verdict (``claim:ID``), the phase (``phase``) and each trigger's last onset
  (``trigger:TEXT``), with the numbers behind them (JSON);
- ``watch_alerts(alert_key, watch_id, run_id, claim, kind, previous, current, asof_date,
  evidence, created_at)``: ``alert_key`` is a hash of what the alert says (note, kind, item,
  previous, current and its date), so the same change found twice is one alert;
- ``watch_deliveries(alert_key, channel, status, attempts, last_error, updated_at)``: one row
  per alert and channel it was raised for; ``pending`` until a channel acknowledged it.

A run records its states, its alerts and their pending deliveries in ONE transaction before
sending anything: a run killed before that commit left nothing; one killed after it left
pending deliveries, which the next run with that channel sends.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from havenflow.data.store import Store
from havenflow.exceptions import DataValidationError

__all__ = ["Alert", "Watch", "WatchStore", "alert_key"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS watch_notes (
    watch_id VARCHAR PRIMARY KEY, title VARCHAR, source VARCHAR, note_text VARCHAR,
    triggers VARCHAR, added_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS watch_runs (
    run_id VARCHAR PRIMARY KEY, watch_id VARCHAR, asof_date DATE, started_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS watch_states (
    run_id VARCHAR, watch_id VARCHAR, asof_date DATE, item VARCHAR, value VARCHAR, evidence VARCHAR
);
CREATE TABLE IF NOT EXISTS watch_alerts (
    alert_key VARCHAR PRIMARY KEY, watch_id VARCHAR, run_id VARCHAR, claim VARCHAR,
    kind VARCHAR, previous VARCHAR, current VARCHAR, asof_date DATE, evidence VARCHAR,
    created_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS watch_deliveries (
    alert_key VARCHAR, channel VARCHAR, status VARCHAR, attempts INTEGER, last_error VARCHAR,
    updated_at TIMESTAMP, PRIMARY KEY (alert_key, channel)
);
"""


#: Failed deliveries of one alert to one channel before it is abandoned (across runs).
MAX_ATTEMPTS = 20


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Watch:
    """A watched note."""

    watch_id: str
    title: str
    source: str
    note_text: str
    triggers: tuple[str, ...]
    added_at: datetime


@dataclass(frozen=True)
class Alert:
    """One alert: what changed, for which note and claim, on which date, and why.

    ``kind`` is ``verdict_change``, ``trigger`` or ``phase_change``; ``claim`` is the claim's
    id (``None`` for triggers and phases); ``evidence`` holds the deciding numbers.
    """

    note: str
    claim: str | None
    kind: str
    previous: str | None
    current: str
    asof: str
    evidence: dict[str, Any] = field(default_factory=dict)
    title: str = ""

    @property
    def key(self) -> str:
        """The dedupe key (see :func:`alert_key`)."""
        return alert_key(self)

    def to_dict(self) -> dict[str, Any]:
        """The alert as one JSON object (``watch run --json`` prints one per line)."""
        return {
            "alert_key": self.key,
            "note": self.note,
            "title": self.title,
            "claim": self.claim,
            "kind": self.kind,
            "previous": self.previous,
            "current": self.current,
            "asof": self.asof,
            "evidence": self.evidence,
        }

    def text(self) -> str:
        """One line for people."""
        what = f"claim {self.claim}" if self.claim else self.kind.replace("_", " ")
        if self.kind == "trigger":
            return f"{self.note}: trigger {self.evidence.get('trigger')} fired on {self.current}"
        return f"{self.note}: {what} {self.previous} -> {self.current} (as of {self.asof})"


def alert_key(alert: Alert) -> str:
    """A hash of what the alert says: the same change found by two runs is one alert.

    A trigger's alert is keyed by its onset date (whatever run finds it); a verdict or phase
    change by the as-of date it was found for.
    """
    item = alert.claim or str(alert.evidence.get("trigger") or "")
    if alert.kind == "trigger":
        # An onset is one event whichever run finds it, and whatever that run saw before.
        parts = [alert.note, alert.kind, item, alert.current]
    else:
        parts = [alert.note, alert.kind, item, str(alert.previous), alert.current, alert.asof]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class WatchStore:
    """The monitor's tables in ``store`` (created on first use)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _write(self) -> Any:
        return self.store.connect(read_only=False)

    def _ready(self, con: Any) -> None:
        con.execute(SCHEMA)

    def _read_frame(self, query: str, params: Sequence[object] = ()) -> pd.DataFrame:
        if not self.store.exists:
            return pd.DataFrame()
        with self.store.connect(read_only=True) as con:
            row = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'watch_notes'"
            ).fetchone()
            if not (row and row[0]):
                return pd.DataFrame()
            return con.execute(query, list(params)).df()

    # ---- watches ------------------------------------------------------------------------

    def add(
        self, watch_id: str, title: str, source: str, text: str, triggers: Iterable[str]
    ) -> None:
        """Watch a note (adding an id again replaces its text and triggers)."""
        with self._write() as con:
            self._ready(con)
            con.execute(
                "INSERT OR REPLACE INTO watch_notes VALUES (?, ?, ?, ?, ?, ?)",
                [watch_id, title, source, text, json.dumps(list(triggers)), _now()],
            )

    def remove(self, watch_id: str) -> None:
        """Stop watching (its runs, states and alerts stay, for the record)."""
        if watch_id not in {w.watch_id for w in self.watches()}:
            raise DataValidationError(f"no watched note {watch_id!r}; see `havenflow watch list`")
        with self._write() as con:
            self._ready(con)
            con.execute("DELETE FROM watch_notes WHERE watch_id = ?", [watch_id])

    def watches(self) -> list[Watch]:
        """Every watched note, by id."""
        frame = self._read_frame("SELECT * FROM watch_notes ORDER BY watch_id")
        return [
            Watch(
                str(r["watch_id"]),
                str(r["title"]),
                str(r["source"]),
                str(r["note_text"]),
                tuple(json.loads(r["triggers"] or "[]")),
                pd.Timestamp(r["added_at"]).to_pydatetime(),
            )
            for r in frame.to_dict(orient="records")
        ]

    # ---- runs ---------------------------------------------------------------------------

    def previous_state(
        self, watch_id: str, asof: pd.Timestamp
    ) -> tuple[str | None, dict[str, Any]]:
        """The latest run of ``watch_id`` before ``asof`` (its date and its states), if any.

        Runs at ``asof`` itself are not "previous": a second run on the same date compares
        with the same earlier state, finds the same changes, and their keys are known already.
        """
        runs = self._read_frame(
            "SELECT run_id, asof_date FROM watch_runs WHERE watch_id = ? AND asof_date < ? "
            "ORDER BY asof_date DESC, started_at DESC LIMIT 1",
            [watch_id, asof.date()],
        )
        if runs.empty:
            return None, {}
        run_id = str(runs["run_id"].iloc[0])
        when = pd.Timestamp(runs["asof_date"].iloc[0]).date().isoformat()
        states = self._read_frame(
            "SELECT item, value, evidence FROM watch_states WHERE run_id = ?", [run_id]
        )
        return when, {
            str(r["item"]): {"value": r["value"], "evidence": json.loads(r["evidence"] or "{}")}
            for r in states.to_dict(orient="records")
        }

    def record(
        self,
        watch_id: str,
        asof: pd.Timestamp,
        states: dict[str, dict[str, Any]],
        alerts: list[Alert],
        channels: Sequence[str],
    ) -> list[Alert]:
        """Record a run, its states, its new alerts and their pending deliveries, atomically.

        Returns the alerts that were new (an alert whose key is known already is not raised
        again).
        """
        run_id = uuid.uuid4().hex
        now = _now()
        with self._write() as con:
            self._ready(con)
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(
                    "INSERT INTO watch_runs VALUES (?, ?, ?, ?)",
                    [run_id, watch_id, asof.date(), now],
                )
                for item, state in states.items():
                    con.execute(
                        "INSERT INTO watch_states VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            run_id,
                            watch_id,
                            asof.date(),
                            item,
                            None if state["value"] is None else str(state["value"]),
                            json.dumps(state.get("evidence", {}), default=str),
                        ],
                    )
                known = {
                    r[0]
                    for r in con.execute(
                        "SELECT alert_key FROM watch_alerts WHERE list_contains(?, alert_key)",
                        [[a.key for a in alerts]],
                    ).fetchall()
                }
                fresh: list[Alert] = []
                for alert in alerts:
                    if alert.key in known or alert.key in {a.key for a in fresh}:
                        continue
                    fresh.append(alert)
                    con.execute(
                        "INSERT INTO watch_alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            alert.key,
                            watch_id,
                            run_id,
                            alert.claim,
                            alert.kind,
                            alert.previous,
                            alert.current,
                            pd.Timestamp(alert.asof).date(),
                            json.dumps(alert.to_dict(), default=str),
                            now,
                        ],
                    )
                    for channel in channels:
                        con.execute(
                            "INSERT INTO watch_deliveries VALUES (?, ?, 'pending', 0, NULL, ?)",
                            [alert.key, channel, now],
                        )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return fresh

    # ---- deliveries ---------------------------------------------------------------------

    def pending(self, channel: str) -> list[dict[str, Any]]:
        """Alerts raised for ``channel`` that it has not acknowledged yet, oldest first."""
        frame = self._read_frame(
            "SELECT a.evidence AS doc, d.attempts FROM watch_deliveries AS d "
            "JOIN watch_alerts AS a USING (alert_key) "
            "WHERE d.channel = ? AND d.status NOT IN ('sent', 'abandoned') "
            "ORDER BY a.created_at, a.alert_key",
            [channel],
        )
        return [json.loads(r["doc"]) for r in frame.to_dict(orient="records")]

    def mark(self, key: str, channel: str, *, sent: bool, error: str | None = None) -> bool:
        """Record one delivery attempt's outcome; return True if the alert is now abandoned.

        A delivery refused :data:`MAX_ATTEMPTS` times is abandoned (kept in the log with its
        last error, never retried): a receiver that rejects an alert forever must not make
        every run try it forever.
        """
        status = "sent" if sent else "failed"
        with self._write() as con:
            self._ready(con)
            con.execute(
                "UPDATE watch_deliveries SET status = CASE WHEN ? = 'failed' AND "
                "attempts + 1 >= ? THEN 'abandoned' ELSE ? END, attempts = attempts + 1, "
                "last_error = ?, updated_at = ? WHERE alert_key = ? AND channel = ?",
                [status, MAX_ATTEMPTS, status, error, _now(), key, channel],
            )
            row = con.execute(
                "SELECT status FROM watch_deliveries WHERE alert_key = ? AND channel = ?",
                [key, channel],
            ).fetchone()
        return bool(row and row[0] == "abandoned")

    def deliveries(self) -> pd.DataFrame:
        """Every delivery row (for ``watch list`` and the tests)."""
        return self._read_frame("SELECT * FROM watch_deliveries ORDER BY alert_key, channel")

    def alerts(self, watch_id: str | None = None) -> list[dict[str, Any]]:
        """The alert log, newest first."""
        query = "SELECT evidence AS doc, created_at FROM watch_alerts"
        params: list[object] = []
        if watch_id is not None:
            query += " WHERE watch_id = ?"
            params.append(watch_id)
        frame = self._read_frame(query + " ORDER BY created_at DESC, alert_key", params)
        return [
            json.loads(r["doc"]) | {"created_at": pd.Timestamp(r["created_at"]).isoformat()}
            for r in frame.to_dict(orient="records")
        ]

    def history(self, watch_id: str) -> pd.DataFrame:
        """Each run's date and states of ``watch_id`` (one row per run and item)."""
        return self._read_frame(
            "SELECT r.asof_date AS asof, r.started_at, s.item, s.value FROM watch_runs AS r "
            "JOIN watch_states AS s USING (run_id) WHERE r.watch_id = ? "
            "ORDER BY r.asof_date, r.started_at, s.item",
            [watch_id],
        )
