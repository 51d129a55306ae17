"""Bad as-of dates: one line on stderr and exit code 2 from every command, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import run_main

from havenflow.data.validate import parse_asof
from havenflow.exceptions import DataValidationError

COMMANDS = [
    ("summary",),
    ("snapshot",),
    ("divergence", "silver", "bitcoin"),
    ("drivers", "silver"),
    ("safehaven",),
    ("events", "--trigger", "silver:high(252)", "--target", "bitcoin"),
    ("leadlag", "silver", "bitcoin", "--freq", "W"),
    ("regime",),
    ("outlook", "bitcoin"),
    ("report",),
    ("data", "show", "silver"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0] if c[0] != "data" else "data-show")
@pytest.mark.parametrize(
    ("asof", "message"),
    [
        ("2026-13-01", "not a calendar day"),
        ("notadate", "must be a date as YYYY-MM-DD"),
        ("2026-02-30", "not a calendar day"),
        ("2999-01-01", "is outside 1800-01-01"),
        ("0000-01-01", "not a calendar day"),
    ],
)
def test_bad_asof_is_one_line_and_exit_2(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: tuple[str, ...],
    asof: str,
    message: str,
) -> None:
    code, out, err = run_main([*command, "--asof", asof], monkeypatch, capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    assert message in err
    assert len(err.strip().splitlines()) == 1, err


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text(min_size=0, max_size=30).filter(lambda t: not t.startswith("-")))
def test_random_asof_text_never_traces_back(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    # Everything but a real YYYY-MM-DD day is refused before any data is read.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        return
    code, out, err = run_main(["snapshot", "--asof", text], monkeypatch, capsys)
    assert code == 2
    assert "Traceback" not in out + err


def test_parse_asof_accepts_real_days_and_timestamps() -> None:
    assert parse_asof("2026-01-23") == pd.Timestamp("2026-01-23")
    assert parse_asof(pd.Timestamp("2024-02-29 15:00")) == pd.Timestamp("2024-02-29")
    with pytest.raises(DataValidationError, match=r"^asof must be a date as YYYY-MM-DD, got '20"):
        parse_asof("2026/01/23", "asof")
    long = "x" * 100_000
    with pytest.raises(DataValidationError) as info:
        parse_asof(long)
    assert len(str(info.value)) < 120
