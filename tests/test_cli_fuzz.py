"""Random command lines never trace back: exit 0 or 2, and an error is one line on stderr.

Hypothesis drives :func:`havenflow.cli.main` with a subcommand from the real command tree and
a random list of arguments (the command's own option names, series ids, numbers, dates, choice
values, triggers and random text). The heavy analyses (lead-lag, drivers, safe haven, events,
regime, outlook, report, backtest) are replaced by a stub that raises a ``HavenflowError`` when reached:
everything the CLI checks before them (usage, choices, numbers, dates, ids, triggers, the as-of)
runs for real, and the run stays fast. ``data update`` and ``watch run`` (network; ``--every``
loops) and ``serve`` are left out, as
is ``-v`` (its log lines go to stderr by design).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import havenflow.report
import havenflow.services
import havenflow.services.backtest
from havenflow.catalog import load_catalog
from havenflow.cli import app, main
from havenflow.exceptions import HavenflowError

HEAVY = (
    "run_leadlag",
    "scan_pairs",
    "run_drivers",
    "run_safehaven",
    "run_events",
    "run_regime",
    "run_outlook",
)
SKIPPED = {("data", "update"), ("serve",), ("watch", "run")}  # network; --every loops


def _commands() -> dict[tuple[str, ...], list[str]]:
    """Every leaf command's path and its option names, read from the real command tree."""
    out: dict[tuple[str, ...], list[str]] = {}

    def walk(cmd: object, path: tuple[str, ...]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, (*path, name))
            return
        if path in SKIPPED:
            return
        names = [
            o
            for p in getattr(cmd, "params", [])
            for o in (*p.opts, *p.secondary_opts)
            if o.startswith("-")
        ]
        out[path] = names

    walk(typer.main.get_command(app), ())
    return out


COMMANDS = _commands()
GLOBAL = ["--data", "--store", "--version", "--help"]
IDS = [*sorted(load_catalog()), "unobtainium", "silver,gold", "gold,silver,bitcoin", ""]
CHOICES = ["D", "W", "M", "B", "Q", "xcorr", "granger", "hy", "var", "multiplier", "HAC", "HC9"]
CHOICES += ["aic", "bic", "html", "md", "json", "csv", "tsv", "table", "price", "3M", "YTD"]
CHOICES += ["buy_and_hold", "phase_rotation", "trigger"]
TRIGGERS = ["silver:high(252)", "silver:ath", "silver:ret(63)>0.2", "gold/silver:ret(63)>0.3"]
TRIGGERS += ["silver:", "x:y(", "phase:2", "silver:high(-1)", "bitcoin:ret(5)<"]

dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["2026-13-01", "2026-02-30", "0000-01-01", "2030-01-01", "2026-07-10"]),
    st.sampled_from(["2024-06-28", "2010-01-01", "1900-01-01", "26-01-01", "2026/01/23"]),
)
numbers = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["0", "1", "-1", "19", "5,10", "5,,x", "1e9", "nan", "inf"]),
)
text = st.text(max_size=12)


def tokens(options: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(options or ["--json"]),
        st.sampled_from(GLOBAL),
        st.sampled_from(IDS),
        st.sampled_from(CHOICES),
        st.sampled_from(TRIGGERS),
        dates,
        numbers,
        text,
    )


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    path = draw(st.sampled_from(sorted(COMMANDS)))
    args = draw(st.lists(tokens(COMMANDS[path]), max_size=7))
    return [*path, *args]


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Heavy analyses raise when reached; files land in a temporary directory."""

    def stub(*args: object, **kwargs: object) -> None:
        raise HavenflowError("analysis skipped in the fuzz test")

    for name in HEAVY:
        monkeypatch.setattr(havenflow.services, name, stub)
    monkeypatch.setattr(havenflow.report, "build_report", stub)
    monkeypatch.setattr(havenflow.services.backtest, "run_backtest", stub)
    monkeypatch.chdir(tmp_path)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(line=command_lines())
def test_random_command_lines_never_trace_back(
    home: Path,
    stubbed: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    line: list[str],
) -> None:
    monkeypatch.setattr(sys, "argv", ["havenflow", *line])
    try:
        main()
        code: object = 0
    except SystemExit as stop:
        code = stop.code if stop.code is not None else 0
    out = capsys.readouterr()
    assert code in (0, 2), (line, code, out.err)
    assert "Traceback" not in out.out + out.err, line
    if code == 2:
        lines = out.err.strip().splitlines()
        assert len(lines) == 1, (line, out.err)
        assert lines[0].startswith("error: "), (line, out.err)


def test_the_generator_sees_every_command() -> None:
    names = {path[-1] for path in COMMANDS}
    assert {"leadlag", "snapshot", "events", "regime", "outlook", "report", "show"} <= names
    assert "--max-lag" in COMMANDS[("leadlag",)]
