"""The monitor: watched notes, alerts on verdict, trigger and phase changes, and their delivery.

Every server here is started by the test on 127.0.0.1: a webhook receiver (http.server) and an
SMTP server (aiosmtpd). The data are the bundled ones (no network: runs are ``--offline``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from havenflow.data.store import Store
from havenflow.exceptions import DataValidationError
from havenflow.monitor import EmailChannel, FileChannel, WatchStore, WebhookChannel, run_watches
from havenflow.monitor.deliver import signature
from havenflow.monitor.run import parse_every, run_every

GOLD_NOTE = """
[note]
title = "Gold at a record"
date = "2026-01-23"
source = "test"

[[claim]]
id = "G1"
text = "Gold is at an all-time high."
kind = "all_time_high"
asset = "gold"
within = 0.02
"""
SECRET = "s3cret"


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver: checks signatures; acknowledges each Idempotency-Key once."""

    received: ClassVar[list[dict[str, Any]]] = []
    acknowledged: ClassVar[list[str]] = []
    stall: ClassVar[threading.Event | None] = None  # set: the next POST hangs until released
    release: ClassVar[threading.Event] = threading.Event()
    fail_next: ClassVar[int] = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        doc = json.loads(body)
        key = self.headers["Idempotency-Key"]
        good = self.headers.get("X-Havenflow-Signature") == signature(SECRET, body)
        Receiver.received.append({"doc": doc, "key": key, "signed": good})
        if Receiver.stall is not None and not Receiver.stall.is_set():
            Receiver.stall.set()  # tell the test we are inside the delivery
            Receiver.release.wait(timeout=30)  # bounded: the client is killed meanwhile
            return  # never answered
        if Receiver.fail_next > 0:
            Receiver.fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        if key not in Receiver.acknowledged:  # a repeat of a key is acknowledged, not counted
            Receiver.acknowledged.append(key)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received, Receiver.acknowledged = [], []
    Receiver.stall, Receiver.fail_next = None, 0
    Receiver.release = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        Receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def watched(tmp_path: Path) -> Store:
    store = Store(tmp_path / "store.duckdb")
    WatchStore(store).add("gold", "Gold at a record", "test", GOLD_NOTE, [])
    return store


def _run(store: Store, asof: str, *channels: Any) -> Any:
    return run_watches(store, asof=asof, offline=True, channels=list(channels))


def test_a_verdict_change_reaches_a_webhook_once(watched: Store, receiver: str) -> None:
    hook = WebhookChannel(receiver, secret=SECRET)
    first = _run(watched, "2026-01-23", hook)
    again = _run(watched, "2026-01-23", hook)
    later = _run(watched, "2026-06-30", hook)
    assert first.raised == []  # the baseline
    assert again.raised == []  # nothing new on the same date
    changes = [a for a in later.raised if a.kind == "verdict_change"]
    assert len(changes) == 1
    alert = changes[0].to_dict()
    assert (alert["note"], alert["claim"], alert["previous"], alert["current"]) == (
        "gold",
        "G1",
        "supported",
        "not supported",
    )
    assert alert["asof"] == "2026-06-30"
    assert alert["evidence"]["now"]["deciding"]["label"] == "distance from the high"
    # Delivered: every raised alert, once, signed.
    posted = [r for r in Receiver.received if r["doc"]["kind"] == "verdict_change"]
    assert len(posted) == 1
    assert posted[0]["signed"]
    assert posted[0]["doc"] == alert
    assert sorted(Receiver.acknowledged) == sorted(a.key for a in later.raised)
    # A fourth run at the later date raises and sends nothing.
    assert _run(watched, "2026-06-30", hook).raised == []
    assert len(Receiver.received) == len(later.raised)


def test_the_json_lines_carry_the_fields_the_issue_names(
    watched: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.conftest import run_main

    store = str(watched.path)
    code, out, err = run_main(
        ["watch", "run", "--asof", "2026-01-23", "--offline", "--json", "--store", store],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    assert out == ""
    code, out, err = run_main(
        ["watch", "run", "--asof", "2026-06-30", "--offline", "--json", "--store", store],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert {"verdict_change", "phase_change"} >= {d["kind"] for d in lines}
    for doc in lines:
        assert {"note", "claim", "kind", "previous", "current", "asof", "evidence"} <= set(doc)
    verdict = next(d for d in lines if d["kind"] == "verdict_change")
    assert verdict["claim"] == "G1"


def test_phase_changes_follow_the_rules_phase(watched: Store) -> None:
    from havenflow.data.repository import DataRepository
    from havenflow.services import run_regime

    repo = DataRepository(store=None)
    phases = {
        d: int(run_regime(repo, d, markov=False).rules.phase.dropna().iloc[-1])
        for d in ("2026-01-23", "2026-06-30")
    }
    _run(watched, "2026-01-23")
    later = _run(watched, "2026-06-30")
    phase_alerts = [a for a in later.raised if a.kind == "phase_change"]
    if phases["2026-01-23"] == phases["2026-06-30"]:
        assert phase_alerts == []
    else:
        assert [(a.previous, a.current) for a in phase_alerts] == [
            (str(phases["2026-01-23"]), str(phases["2026-06-30"]))
        ]


def test_a_trigger_alerts_once_per_onset(tmp_path: Path) -> None:
    from havenflow.analytics.events import parse_trigger, trigger_onsets
    from havenflow.data.repository import DataRepository
    from havenflow.services._load import _aligned_levels

    store = Store(tmp_path / "store.duckdb")
    WatchStore(store).add("gold", "Gold", "test", GOLD_NOTE, ["gold:high(20)"])
    start, end = "2025-09-30", "2025-12-31"
    levels, _, _ = _aligned_levels(DataRepository(store=None), ["gold"], "B", end)
    onsets = trigger_onsets(parse_trigger("gold:high(20)"), levels)
    expected = [
        d.date().isoformat() for d in onsets if pd.Timestamp(start) < d <= pd.Timestamp(end)
    ]
    assert expected  # gold made new 20-day highs that quarter
    _run(store, start)
    fired = [a for a in _run(store, end).raised if a.kind == "trigger"]
    assert [a.current for a in fired] == expected
    # The same onsets found again (a run at a later date) are not alerted twice.
    assert [a for a in _run(store, "2026-01-02").raised if a.current in expected] == []


def test_a_failed_delivery_stays_pending_and_is_sent_by_the_next_run(
    watched: Store, receiver: str
) -> None:
    hook = WebhookChannel(receiver, secret=SECRET, sleep=lambda s: None)
    _run(watched, "2026-01-23", hook)
    Receiver.fail_next = 99  # every try of this run answered 503
    failing = _run(watched, "2026-06-30", hook)
    assert failing.raised
    assert hook.name in failing.failed
    assert Receiver.acknowledged == []
    pending = WatchStore(watched).deliveries()
    assert set(pending["status"]) == {"failed"}
    Receiver.fail_next = 0
    retry = _run(watched, "2026-06-30", hook)
    assert retry.raised == []  # nothing new...
    assert retry.delivered[hook.name] == len(failing.raised)  # ...but the pending ones go out
    assert sorted(Receiver.acknowledged) == sorted(a.key for a in failing.raised)
    assert set(WatchStore(watched).deliveries()["status"]) == {"sent"}


def test_email_over_a_local_smtp_server(watched: Store) -> None:
    from aiosmtpd.controller import Controller

    messages: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
            messages.append(envelope.content)
            return "250 OK"

    import socket

    with socket.socket() as sock:  # a free loopback port
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = EmailChannel("analyst@example.org", host="127.0.0.1", port=port)
        _run(watched, "2026-01-23", mail)
        later = _run(watched, "2026-06-30", mail)
    finally:
        controller.stop()
    assert len(messages) == len(later.raised)
    parsed = [message_from_bytes(m) for m in messages]
    subjects = [str(m["Subject"]) for m in parsed]
    assert "havenflow: gold claim G1: supported -> not supported" in subjects
    assert {str(m["Message-ID"]) for m in parsed} == {f"<{a.key}@havenflow>" for a in later.raised}


def test_a_file_of_json_lines(watched: Store, tmp_path: Path) -> None:
    out = tmp_path / "alerts" / "log.jsonl"
    _run(watched, "2026-01-23", FileChannel(out))
    later = _run(watched, "2026-06-30", FileChannel(out))
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [d["alert_key"] for d in lines] == [a.key for a in later.raised]


def test_a_run_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    watched: Store, receiver: str, tmp_path: Path
) -> None:
    env = {**os.environ, "HAVENFLOW_WEBHOOK_SECRET": SECRET}
    command = [sys.executable, "-m", "havenflow", "--store", str(watched.path), "watch", "run"]
    base = subprocess.run(
        [*command, "--asof", "2026-01-23", "--offline"], env=env, capture_output=True, timeout=300
    )
    assert base.returncode == 0, base.stderr
    Receiver.stall = threading.Event()
    proc = subprocess.Popen(
        [*command, "--asof", "2026-06-30", "--offline", "--webhook", receiver],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert Receiver.stall.wait(timeout=300)  # the first POST is in flight
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.communicate(timeout=60)
    Receiver.release.set()
    assert Receiver.acknowledged == []  # the receiver never answered that POST
    alerts = WatchStore(watched).alerts("gold")
    assert alerts  # recorded before the delivery began: not lost
    Receiver.stall = None
    again = subprocess.run(
        [*command, "--asof", "2026-06-30", "--offline", "--webhook", receiver],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    # Every alert acknowledged exactly once; the repeat of the killed POST carries the same
    # Idempotency-Key, so a receiver can tell it is a repeat.
    assert sorted(Receiver.acknowledged) == sorted(a["alert_key"] for a in alerts)
    keys = [r["key"] for r in Receiver.received]
    assert len(keys) == len(alerts) + 1
    assert all(r["signed"] for r in Receiver.received)
    assert set(WatchStore(watched).deliveries()["status"]) == {"sent"}
    third = subprocess.run(
        [*command, "--asof", "2026-06-30", "--offline", "--webhook", receiver],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert third.returncode == 0
    assert len(Receiver.received) == len(alerts) + 1  # nothing sent again


def test_a_backfill_is_judged_against_the_state_before_its_date(watched: Store) -> None:
    _run(watched, "2026-01-23")
    _run(watched, "2026-06-30")
    backfill = _run(watched, "2026-03-31")
    for alert in backfill.raised:
        if alert.kind == "verdict_change":
            assert alert.evidence["since"] == "2026-01-23"
    store = WatchStore(watched)
    assert store.previous_state("gold", pd.Timestamp("2026-06-30"))[0] == "2026-03-31"


def test_bad_input_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import run_main

    store = str(tmp_path / "s.duckdb")
    note = tmp_path / "bad.toml"
    note.write_text(GOLD_NOTE.replace('asset = "gold"', 'asset = "goldd"'))
    cases = [
        (["watch", "run", "--offline"], "nothing is watched"),
        (["watch", "add", str(note)], "goldd"),
        (["watch", "add", "no-such-note"], "no-such-note"),
        (["watch", "remove", "nope"], "no watched note 'nope'"),
        (["watch", "run", "--every", "5x"], "--every '5x'"),
        (["watch", "run", "--asof", "2026-13-01"], "2026-13-01"),
        (["watch", "run", "--webhook", "ftp://x/y"], "http:// or https:// URL"),
        (["watch", "run", "--email", "not-an-address"], "not an email address"),
        (["watch", "run", "--email", "a@b.c", "--smtp", "host:99999"], "expected HOST:PORT"),
        (
            ["watch", "add", "silver-bitcoin-2026-01", "--trigger", "silver:up"],
            "cannot read trigger",
        ),
    ]
    for args, expected in cases:
        code, _, err = run_main([*args, "--store", store], monkeypatch, capsys)
        assert code == 2, (args, err)
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, (args, err)
        assert expected in lines[0], (args, err)


def test_watch_add_list_remove(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import run_main

    store = ["--store", str(tmp_path / "s.duckdb")]
    code, out, _ = run_main(
        ["watch", "add", "silver-bitcoin-2026-01", "--trigger", "silver:high(252)", *store],
        monkeypatch,
        capsys,
    )
    assert code == 0
    assert "watching silver-bitcoin-2026-01" in out
    code, out, _ = run_main(["watch", "list", "--json", *store], monkeypatch, capsys)
    listed = json.loads(out)
    assert [w["id"] for w in listed] == ["silver-bitcoin-2026-01"]
    assert listed[0]["triggers"] == ["silver:high(252)"]
    code, out, _ = run_main(
        ["watch", "remove", "silver-bitcoin-2026-01", *store], monkeypatch, capsys
    )
    assert code == 0
    code, out, _ = run_main(["watch", "list", "--json", *store], monkeypatch, capsys)
    assert json.loads(out) == []


def test_every_parses_and_the_loop_stops_on_sigterm(tmp_path: Path) -> None:
    assert parse_every("30s") == 30.0
    assert parse_every("1h") == 3600.0
    with pytest.raises(DataValidationError):
        parse_every("0s")
    stop = threading.Event()
    calls: list[float] = []
    assert run_every(0.01, lambda: calls.append(time.monotonic()), stop=stop, max_runs=3) == 3
    # A real process: started with --every, stopped by SIGTERM, exits 0 and says so.
    store = Store(tmp_path / "store.duckdb")
    WatchStore(store).add("gold", "Gold", "test", GOLD_NOTE, [])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "havenflow",
            "--store",
            str(store.path),
            "watch",
            "run",
            "--asof",
            "2026-01-23",
            "--offline",
            "--every",
            "1s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the first run's line
    assert "evaluated gold as of 2026-01-23" in line
    assert time.monotonic() < deadline
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped after" in err


def test_the_watchlist_page_and_api(watched: Store) -> None:
    from fastapi.testclient import TestClient

    from havenflow.data.repository import DataRepository
    from havenflow.web.app import create_app

    _run(watched, "2026-01-23")
    later = _run(watched, "2026-06-30")
    app = create_app(lambda: DataRepository(store=watched), allowed_hosts=["testserver"])
    client = TestClient(app)
    body = client.get("/api/watch").json()
    assert [w["id"] for w in body] == ["gold"]
    assert [r["asof"] for r in body[0]["runs"]] == ["2026-01-23", "2026-06-30"]
    assert [r["states"]["claim:G1"] for r in body[0]["runs"]] == ["supported", "not supported"]
    assert {a["alert_key"] for a in body[0]["alerts"]} == {a.key for a in later.raised}
    page = client.get("/watch")
    assert page.status_code == 200
    assert "Gold at a record" in page.text
    assert "verdict_change" in page.text
    assert client.get("/api/watch?note=nope").status_code == 400
    assert client.get("/api/watch?note=%0A").status_code == 400


def test_a_run_that_judges_nothing_fails(
    watched: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import run_main

    # 1800-01-02: a valid date, before gold's bundled history starts: the note is not judged.
    code, _, err = run_main(
        ["watch", "run", "--asof", "1800-01-02", "--offline", "--store", str(watched.path)],
        monkeypatch,
        capsys,
    )
    assert code == 2
    assert "gold: not evaluated" in err
    assert "Traceback" not in err


def test_a_trigger_onset_is_one_alert_whatever_the_run_saw_before() -> None:
    from havenflow.monitor.state import Alert

    evidence = {"trigger": "gold:high(20)"}
    one = Alert("gold", None, "trigger", "2025-10-01", "2025-11-03", "2025-11-30", evidence)
    other = Alert("gold", None, "trigger", None, "2025-11-03", "2026-01-02", evidence)
    assert one.key == other.key


def test_an_unreachable_webhook_is_left_for_the_next_run(watched: Store) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hook = WebhookChannel(f"http://127.0.0.1:{port}/hook", sleep=lambda s: None)
    _run(watched, "2026-01-23", hook)
    outcome = _run(watched, "2026-06-30", hook)
    assert len(outcome.raised) >= 2
    rows = WatchStore(watched).deliveries()
    # The first alert's delivery found nobody there: the run stopped using the channel.
    assert sorted(rows["attempts"].tolist()) == [0] * (len(rows) - 1) + [1]
    assert set(rows["status"]) == {"pending", "failed"}


def test_an_alert_refused_again_and_again_is_abandoned(
    watched: Store, receiver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import havenflow.monitor.run
    import havenflow.monitor.state

    monkeypatch.setattr(havenflow.monitor.state, "MAX_ATTEMPTS", 2)
    monkeypatch.setattr(havenflow.monitor.run, "MAX_ATTEMPTS", 2)
    hook = WebhookChannel(receiver, sleep=lambda s: None)
    _run(watched, "2026-01-23", hook)
    # The receiver refuses every alert from now on (a 404: not retried within a run).
    original = Receiver.do_POST

    def refuse(self: Receiver) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    monkeypatch.setattr(Receiver, "do_POST", refuse)
    first = _run(watched, "2026-06-30", hook)
    assert hook.name in first.failed
    second = _run(watched, "2026-06-30", hook)
    assert any("abandoned" in n for n in second.notes)
    third = _run(watched, "2026-06-30", hook)
    assert third.failed == {}  # abandoned: not tried again
    assert set(WatchStore(watched).deliveries()["status"]) == {"abandoned"}
    monkeypatch.setattr(Receiver, "do_POST", original)


def test_the_loop_survives_a_failed_run(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[int] = []

    def once() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise DataValidationError("store busy")

    assert run_every(0.01, once, max_runs=2) == 2
    assert "error: store busy" in capsys.readouterr().err
