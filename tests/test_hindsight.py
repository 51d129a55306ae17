"""What happened next and how the verdicts moved: hindsight, verdict timelines, track record.

Hindsight must never change an as-of verdict (tests/test_report.py: the as-of document is
byte-identical with and without the later data), its realised numbers must be what the closes
show, and every step of a timeline must equal ``check --asof`` that date.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.conftest import run_main

from havenflow.claims import CheckOptions, check_note, parse_note, resolve_note
from havenflow.claims.hindsight import held
from havenflow.claims.timeline import (
    MAX_STEPS,
    TimelineOptions,
    parse_history,
    step_dates,
    track_record,
    verdict_timeline,
)
from havenflow.data.repository import DataRepository
from havenflow.exceptions import DataValidationError

SEED = "silver-bitcoin-2026-01"
NOTE_DATE = "2026-01-23"


@pytest.fixture(scope="module")
def repo() -> DataRepository:
    return DataRepository()


@pytest.fixture(scope="module")
def seed_now(repo: DataRepository) -> dict[str, Any]:
    """The seed note on its date, with every later bundled close available for hindsight."""
    return check_note(resolve_note(SEED), repo, CheckOptions(replicates=99))


def _rows(doc: dict[str, Any], claim: str) -> list[dict[str, Any]]:
    return [r for r in doc["hindsight"] if r["claim"] == claim]


def _sessions(*names: str) -> pd.DatetimeIndex:
    """Days every named market was open, 2000 on, built here from the calendars' own sources."""
    import exchange_calendars as xc
    from pandas.tseries.holiday import USFederalHolidayCalendar

    out = pd.bdate_range("2000-01-03", "2026-12-31")
    for name in names:
        if name == "us_federal":
            from pandas.tseries.holiday import GoodFriday

            holidays = USFederalHolidayCalendar().holidays("2000-01-01", "2026-12-31")
            holidays = holidays.union(
                pd.DatetimeIndex(GoodFriday.dates("2000-01-01", "2026-12-31"))
            )
            days = pd.bdate_range("2000-01-03", "2026-12-31", freq="C", holidays=list(holidays))
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the library's pandas deprecation warnings
                days = xc.get_calendar(name, start="2000-01-03").sessions
            days = pd.DatetimeIndex(days).tz_localize(None) if days.tz is not None else days
        out = out.intersection(days)
    return out


#: The outlook aligns NYSE-session series (S&P 500, VIX, the COMEX metals' closes) and FRED's
#: (real yield, dollar: US federal holidays and Good Friday).
OUTLOOK_DAYS = ("XNYS", "us_federal")


def _session_close(
    closes: pd.Series, start: str, bars: int, days: pd.DatetimeIndex
) -> tuple[float, pd.Timestamp]:
    """The close ``bars`` sessions of ``days`` after ``start`` (the last close known then)."""
    after = days[days >= pd.Timestamp(start)]
    day = after[bars]
    return float(closes.loc[:day].iloc[-1]), day


# ---- hindsight -----------------------------------------------------------------------------------


def test_bitcoin_after_the_note_against_its_asof_outlook(
    seed_now: dict[str, Any], repo: DataRepository
) -> None:
    rows = {r["horizon"]: r for r in _rows(seed_now, "C11")}
    assert set(rows) == {21, 63, 126}
    btc = repo.load("bitcoin").values
    base = float(btc.loc[NOTE_DATE])
    fan = next(c for c in _claim(seed_now, "C11")["charts"] if c["kind"] == "fan")
    medians = {h: q["50"] for h, q in zip(fan["horizons"], fan["shown"], strict=True)}
    for h, label in ((21, "1M"), (63, "3M"), (126, "6M")):
        row = rows[h]
        close, day = _session_close(btc, NOTE_DATE, h, _sessions(*OUTLOOK_DAYS))
        assert row["status"] == "complete"
        assert row["end_date"] == day.date().isoformat()
        assert row["realised"] == pytest.approx(math.log(close / base), abs=1e-12)
        assert row["expected"] == pytest.approx(medians[label], abs=1e-12)
        assert row["horizon_unit"] == "trading days"
        s = row["scores"]
        assert 0.0 <= s["pit"] <= 1.0
        assert s["crps"] > 0
        lo, hi = s["interval"]
        assert s["in_interval"] == (lo <= row["realised"] <= hi)
    # The note's "not immediately bullish": bitcoin was 28% lower 21 trading days later, far in
    # the left tail of the as-of outlook (below its 5% quantile) and the claim's "not up" held.
    one = rows[21]
    assert math.expm1(one["realised"]) == pytest.approx(-0.28, abs=0.006)
    assert one["claimed"] == "not up"
    assert one["held"] is True
    assert one["scores"]["pit_censored"] is True  # below the as-of 5% quantile
    assert one["scores"]["in_interval"] is False
    assert "PIT < 0.05" in one["text"]
    # Six months on it was still lower: the claimed "up" did not hold.
    assert rows[126]["claimed"] == "up"
    assert rows[126]["held"] is False
    # The chart draws the realised path against these expectations.
    chart = seed_now["hindsight_info"]["charts"]["C11"][0]
    assert chart["kind"] == "hindsight_path"
    assert chart["asset"] == "bitcoin"
    assert chart["path"][0] == 0.0
    assert len(chart["path"]) == 127
    assert [m["bar"] for m in chart["marks"]] == [21, 63, 126]


def _claim(doc: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in doc["claims"] if c["id"] == cid)


def test_silver_after_its_high_is_what_the_closes_show(
    seed_now: dict[str, Any], repo: DataRepository
) -> None:
    silver = repo.load("silver").values
    high = float(silver.loc[:NOTE_DATE].max())
    week = next(r for r in _rows(seed_now, "C1") if r["horizon"] == 5)
    after = silver.loc[NOTE_DATE:].iloc[:6]
    assert week["end_date"] == after.index[-1].date().isoformat()
    assert week["realised"] == pytest.approx(math.log(after.iloc[-1] / after.iloc[0]))
    assert week["scores"]["worst_from_high"] == pytest.approx(math.log(after.min() / high))
    # A new high came first (2026-01-26), then a fall of about a third from it within the week.
    assert week["scores"]["new_high"] == after[after > high].index[0].date().isoformat()
    peak_to_trough = float(np.log(after / after.cummax()).min())
    assert week["scores"]["peak_to_trough"] == pytest.approx(peak_to_trough)
    assert math.expm1(peak_to_trough) < -0.3
    # The same test on the latest data: the claim no longer holds.
    again = next(r for r in _rows(seed_now, "C1") if r["status"] == "observed")
    assert again["scores"]["verdict_then"] == "supported"
    assert again["scores"]["verdict_now"] == "not supported"
    assert again["scores"]["number"]["label"] == "distance from the high"
    assert again["realised"] is None  # a distance is not a return: shown, not put in realised


def test_the_triggering_event_is_scored_against_the_asof_estimate(
    seed_now: dict[str, Any], repo: DataRepository
) -> None:
    events = [r for r in _rows(seed_now, "C10") if "excess return" in r["label"]]
    assert events, "silver's 252-day high of 2026-01-20 is a live event on the note's date"
    btc = repo.load("bitcoin").values
    comex = _sessions("XNYS")  # the trigger's closes: silver's 252-day high (NYSE sessions)
    for r in events:
        close, _ = _session_close(btc, r["start_date"], r["horizon"], comex)
        raw = math.log(close / float(btc.loc[r["start_date"]]))
        if r["status"] == "complete":
            assert r["scores"]["raw_return"] == pytest.approx(raw, abs=1e-12)
            assert r["realised"] == pytest.approx(raw - r["scores"]["baseline_mean"], abs=1e-12)
            lo, hi = r["scores"]["mean_ci"]  # the as-of mean's interval, no in/out flag
            assert lo <= r["expected"] <= hi
            assert r["held"] == (r["realised"] > 0)


def test_every_hindsight_row_has_the_contract_fields(seed_now: dict[str, Any]) -> None:
    need = {"claim", "horizon", "horizon_unit", "end_date", "realised", "expected", "scores"}
    assert seed_now["hindsight"]
    for r in seed_now["hindsight"]:
        assert need <= set(r)
        assert r["status"] in {"complete", "pending", "observed"}
        assert (r["end_date"] is None) == (r["status"] == "pending")
    # Not-testable claims are not looked back on.
    assert not _rows(seed_now, "C6")
    tallies = seed_now["hindsight_info"]["tallies"]
    assert [t.split(":")[0] for t in tallies] == ["C10", "C11"]  # the claims with a direction
    assert tallies[0].startswith("C10: what it said held in 0 of ")
    assert seed_now["hindsight_info"]["end"] == "2026-08-21"


@pytest.mark.parametrize(
    ("claimed", "realised", "expected"),
    [
        ("up", 0.1, True),
        ("up", -0.1, False),
        ("down", -0.1, True),
        ("not up", 0.0, True),
        ("not up", 0.01, False),
        ("not down", 0.0, True),
        ("flat", 0.1, None),
        (None, 0.1, None),
        ("up", float("nan"), None),
    ],
)
def test_held_reads_the_claimed_direction(
    claimed: str | None, realised: float, expected: bool | None
) -> None:
    assert held(claimed, realised) is expected


# ---- timelines -----------------------------------------------------------------------------------

HIGHS = """
[note]
title = "Metals at records"
date = "2026-06-30"

[[claim]]
id = "S"
text = "Silver is at an all-time high."
kind = "all_time_high"
asset = "silver"

[[claim]]
id = "G"
text = "Gold is at an all-time high."
kind = "all_time_high"
asset = "gold"
"""


def test_all_time_high_timelines_match_the_closes_month_by_month(repo: DataRepository) -> None:
    note = parse_note(HIGHS, "highs.toml")
    out = verdict_timeline(note, repo, TimelineOptions("2025-01-01", "2026-06-30", "M"))
    steps = out["timeline"]
    assert [s["asof"] for s in steps] == [
        d.date().isoformat() for d in pd.date_range("2025-01-01", "2026-06-30", freq="BME")
    ]
    seen = set()
    for sid, asset in (("S", "silver"), ("G", "gold")):
        closes = repo.load(asset).values
        for s in steps:
            known = closes.loc[: s["asof"]]
            distance = known.iloc[-1] / known.max() - 1.0
            want = "supported" if distance >= -0.05 else "not supported"
            assert s["verdicts"][sid] == want, (asset, s["asof"], distance)
            assert s["numbers"][sid]["value"] == pytest.approx(distance)
            seen.add(want)
    # Both verdicts occur: the test would catch a timeline stuck on one value.
    assert seen == {"supported", "not supported"}
    spells = out["timeline_info"]["changes"]
    assert spells[0].startswith("S: ")
    assert spells[1].startswith("G: ")


def test_each_step_equals_a_separate_check_asof(repo: DataRepository) -> None:
    note = resolve_note(SEED)
    out = verdict_timeline(
        note, repo, TimelineOptions("2025-11-01", "2025-12-31", "M", replicates=99)
    )
    assert [s["asof"] for s in out["timeline"]] == ["2025-11-28", "2025-12-31"]
    for step in out["timeline"]:
        cold = check_note(
            note,
            DataRepository(),
            CheckOptions(asof=step["asof"], replicates=99, sensitivity=False, hindsight=False),
        )
        assert step["verdicts"] == {c["id"]: c["verdict"] for c in cold["claims"]}
        assert step["numbers"] == {c["id"]: c["deciding"] for c in cold["claims"]}


def test_worker_processes_give_the_same_timeline(repo: DataRepository) -> None:
    note = parse_note(HIGHS, "highs.toml")
    one = verdict_timeline(note, repo, TimelineOptions("2025-01-01", "2025-08-31", "M"))
    two = verdict_timeline(note, repo, TimelineOptions("2025-01-01", "2025-08-31", "M", workers=2))
    assert one == two


def test_track_record_counts_what_followed_supported_verdicts(repo: DataRepository) -> None:
    btc = repo.load("bitcoin").values
    days = ["2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31", "2026-07-31"]
    steps = [
        {
            "asof": d,
            "verdicts": {"X": "supported" if i % 2 == 0 else "inconclusive"},
            "judged_on": {"X": d},
            "forecasts": {"X": [{"asset": "bitcoin", "days": [21, 21], "claimed": "up"}]},
        }
        for i, d in enumerate(days)
    ]
    rec = track_record(steps, repo, seed=0, replicates=99)["claims"]["X"]
    ups = []
    for d in days[:-1]:
        close, _ = _session_close(btc, d, 21, pd.bdate_range("2025-01-01", "2026-12-31"))
        ups.append(close > float(btc.loc[d]))
    supported = [ups[0], ups[2]]  # the last supported step's month is pending
    assert rec["supported_outcomes"] == 2
    assert rec["pending"] == 1
    assert rec["held"] == sum(supported)
    assert rec["base_outcomes"] == 4
    assert rec["base_rate"] == pytest.approx(sum(ups) / 4)
    lo, hi = rec["interval"]
    assert 0.0 <= lo <= rec["rate"] <= hi <= 1.0
    assert "when supported" in rec["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01", "expected START..END"),
        ("2025-01-01..", "expected START..END"),
        ("2025-13-01..2025-12-31", "2025-13-01"),
        ("2026-01-01..2025-01-01", "is after the end"),
    ],
)
def test_bad_history_ranges_get_one_line(text: str, expected: str) -> None:
    with pytest.raises(DataValidationError, match=expected):
        parse_history(text)


def test_steps_are_period_ends_and_bounded() -> None:
    assert [d.date().isoformat() for d in step_dates("2025-01-01", "2025-03-31", "Q")] == [
        "2025-03-31"
    ]
    # A range ending on a weekday inside a period ends on that day (a note's date).
    assert step_dates("2025-12-01", "2026-01-23", "M")[-1] == pd.Timestamp("2026-01-23")
    with pytest.raises(DataValidationError, match=f"at most {MAX_STEPS}"):
        step_dates("1990-01-01", "2026-01-01", "W")
    with pytest.raises(DataValidationError, match="step 'D'"):
        step_dates("2025-01-01", "2025-03-31", "D")


def test_timeline_refuses_a_range_outside_the_data(repo: DataRepository) -> None:
    note = parse_note(HIGHS, "highs.toml")
    with pytest.raises(DataValidationError, match=r"the range .*: the step 2026-10-30 is after"):
        verdict_timeline(note, repo, TimelineOptions("2026-01-01", "2026-10-30", "M"))
    with pytest.raises(DataValidationError, match="before any data"):
        verdict_timeline(note, repo, TimelineOptions("1950-01-01", "1950-06-30", "M"))


def test_cli_history_writes_the_timeline_and_refuses_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    note = tmp_path / "highs.toml"
    note.write_text(HIGHS)
    base = ["check", str(note), "--history", "2025-10-01..2025-12-31", "--workers", "1"]
    out = tmp_path / "t.json"
    code, _, _ = run_main([*base, "--format", "json", "--out", str(out)], monkeypatch, capsys)
    assert code == 0
    doc = json.loads(out.read_text())
    assert [s["asof"] for s in doc["timeline"]] == ["2025-10-31", "2025-11-28", "2025-12-31"]
    assert set(doc["timeline"][0]["verdicts"]) == {"S", "G"}
    md = tmp_path / "t.md"
    code, _, _ = run_main([*base, "--format", "md", "--out", str(md)], monkeypatch, capsys)
    assert code == 0
    assert "## Verdict timeline (month ends, 2025-10-31 to 2025-12-31)" in md.read_text()
    for bad, why in (
        ("2025-10-01", "expected START..END"),
        ("2025-10-01..2026-10-30", "is after 2026-07-10"),
        ("2025-10-01..2031-01-01", "outside"),
    ):
        code, _, err = run_main(
            ["check", str(note), "--history", bad, "--out", str(md)], monkeypatch, capsys
        )
        assert code == 2
        assert len(err.strip().splitlines()) == 1
        assert why in err
        assert "Traceback" not in err
    code, _, err = run_main([*base, "--step", "D"], monkeypatch, capsys)
    assert code == 2
    assert "--step" in err


def test_a_negated_claim_is_scored_for_what_the_note_says(repo: DataRepository) -> None:
    text = """
[note]
title = "Bitcoin will not fall"
date = "2026-01-23"

[[claim]]
id = "N"
text = "Bitcoin is not going down over the next month."
kind = "outlook"
asset = "bitcoin"
horizons = ["1M"]
direction = "down"
negate = true
"""
    doc = check_note(parse_note(text, "n.toml"), repo, CheckOptions(replicates=99))
    row = next(r for r in doc["hindsight"] if r["horizon"] == 21)
    # The kind tests "down"; the note claims the opposite, "not down", which failed: bitcoin
    # fell 28% in the month.
    assert row["claimed"] == "not down"
    assert row["held"] is False


def test_a_dated_claim_counts_once_in_the_track_record(repo: DataRepository) -> None:
    forecast = {"asset": "bitcoin", "days": [21, 21], "claimed": "up"}
    steps = [
        {
            "asof": d,
            "verdicts": {"X": "supported"},
            "judged_on": {"X": "2025-03-31"},  # dated: every step judges the same day
            "forecasts": {"X": [forecast]},
        }
        for d in ("2025-03-31", "2025-04-30", "2025-05-30")
    ]
    rec = track_record(steps, repo, seed=0, replicates=99)["claims"]["X"]
    assert rec["supported_outcomes"] == 1
    assert rec["base_outcomes"] == 1
    negated = track_record(steps, repo, seed=0, replicates=99, negated={"X"})["claims"]["X"]
    assert negated["held"] == 1 - rec["held"]  # "not up" holds exactly when "up" does not


def test_a_range_outside_the_data_is_refused_before_any_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import havenflow.report.build as build

    def no_fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("the range must be refused before the note is judged")

    monkeypatch.setattr(build, "check_note", no_fit)
    with pytest.raises(DataValidationError, match="is after 2026-07-10"):
        build.build_report(DataRepository(), build.ReportOptions(history="2025-10-01..2026-10-30"))
    with pytest.raises(DataValidationError, match="start is after the end"):
        step_dates("2026-01-01", "2025-06-30", "M")
