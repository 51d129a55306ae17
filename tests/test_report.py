"""The report: every claim answered, same verdicts in every format, point-in-time, escaped."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import truncated_store
from tests.test_cli import run

from havenflow.data.repository import DataRepository
from havenflow.data.store import Store
from havenflow.report import (
    VERDICTS,
    ReportOptions,
    build_report,
    render_html,
    render_markdown,
    seed_claims,
    summary_box,
)
from havenflow.services import PHASE_SERIES, run_snapshot
from havenflow.universe import REPORT_SERIES

ASOF = "2026-01-23"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return build_report(DataRepository(), ReportOptions(asof=ASOF, replicates=199))


def test_every_claim_is_answered_with_numbers(report: dict[str, Any]) -> None:
    assert report["asof"] == ASOF
    assert [c["id"] for c in report["claims"]] == list(seed_claims())
    for c in report["claims"]:
        assert c["verdict"] in VERDICTS, c
        assert c["explanation"], c["id"]
        if c["verdict"] == "not testable":
            continue
        assert c["numbers"], c["id"]
        assert c["charts"], c["id"]
    verdicts = {c["id"]: c["verdict"] for c in report["claims"]}
    # No fundamental series is bundled: C6 says so, and how to bring one in.
    assert verdicts["C6"] == "not testable"
    c6 = report["claims"][5]["explanation"]
    assert "silver_market_balance" in c6
    assert "--data" in c6
    # The numbers in the text are the computed ones, not hand-written.
    silver = next(
        a
        for a in run_snapshot(DataRepository(), None, ASOF).to_dict()["assets"]
        if a["id"] == "silver"
    )
    c1 = report["claims"][0]
    assert c1["numbers"][0]["value"] == pytest.approx(silver["ath"])
    assert f"{silver['ath']:.2f}" in c1["explanation"]
    assert verdicts["C1"] == "supported"  # silver closed at a record 100.925 that day
    ids = {d["id"] for d in report["data"]}
    assert {"silver", "gold", "bitcoin", "vix"} <= ids
    assert all(d["attribution"] for d in report["data"])
    known = {d["id"]: d["known"] for d in report["data"]}
    assert known["silver"] == "on its own day"
    # The dollar index's publication days come from the H.10 schedule, and say so.
    assert known["usd_broad"].startswith("release schedule (the Fed's H.10")
    assert "approximation" in known["usd_broad"]


def test_formats_carry_the_same_verdicts_and_html_is_self_contained(report: dict[str, Any]) -> None:
    html = render_html(report)
    md = render_markdown(report)
    box = summary_box(report)
    for c in report["claims"]:
        assert f"**Verdict: {c['verdict']}**" in md
        assert f'data-claim="{c["id"]}">{c["verdict"]}<' in html
        assert c["verdict"] in box
        for n in c["numbers"]:
            assert n["display"].replace("&", "&amp;") in html or n["display"] in html
            assert n["display"] in md
    # Nothing is fetched: no external script or stylesheet (plotly's own code mentions its CDN
    # in strings, which is why the check is on tags).
    assert "<script src=" not in html.replace(" ", " ")
    assert '<link rel="stylesheet" href="http' not in html
    assert "Plotly.newPlot" in html
    assert html.count("plotly.js v") >= 1  # the library itself is embedded


def test_user_text_is_escaped(report: dict[str, Any]) -> None:
    evil = copy.deepcopy(report)
    evil["data"][0]["name"] = "<script>alert('x')</script>"
    evil["claims"][0]["explanation"] = "<img src=x onerror=alert(1)>"
    html = render_html(evil, embed_js=False)
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(" in html
    assert "<img src=x" not in html


def test_report_is_point_in_time(report: dict[str, Any], home: Path) -> None:
    ids = sorted(set(REPORT_SERIES) | set(PHASE_SERIES))
    store = Store(truncated_store(home / "cut.duckdb", ids, ASOF))
    cut = build_report(DataRepository(store=store), ReportOptions(asof=ASOF, replicates=199))
    # The store of that day has nothing after it to look back on; today's data has.
    assert cut["hindsight"] == []
    assert cut["hindsight_info"]["end"] is None
    assert report["hindsight"]
    # Provenance differs by design (store vs bundled); every number and verdict must not, and
    # the later data (hindsight, added after the verdicts) changes no byte of the as-of part.
    for r in (cut, report):
        for d in r["data"]:
            d.pop("origin")
    later = ("hindsight", "hindsight_info")
    assert json.dumps({k: v for k, v in cut.items() if k not in later}, sort_keys=True) == (
        json.dumps({k: v for k, v in report.items() if k not in later}, sort_keys=True)
    )


def test_report_cli_writes_each_format(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    code, text = run(
        "report", "--asof", ASOF, "--format", "md", "--out", str(out), "--replicates", "99"
    )
    assert code == 0, text
    assert "C11" in text
    assert "wrote" in text
    assert out.read_text().startswith("# Silver at a record")
    code, text = run("report", "--format", "pdf")
    assert code != 0


def _close(ours: Any, ref: Any, path: str) -> None:
    """Equal, numbers to 1e-9 relative (BLAS and compilers may move the last digits)."""
    if isinstance(ref, float) and isinstance(ours, float):
        assert ours == pytest.approx(ref, rel=1e-9, abs=1e-12), path
    elif isinstance(ref, dict):
        assert isinstance(ours, dict)
        assert set(ours) == set(ref), path
        for k in ref:
            _close(ours[k], ref[k], f"{path}/{k}")
    elif isinstance(ref, list):
        assert isinstance(ours, list)
        assert len(ours) == len(ref), path
        for i, (a, b) in enumerate(zip(ours, ref, strict=True)):
            _close(a, b, f"{path}[{i}]")
    else:
        assert ours == ref, path


def test_report_says_what_its_golden_record_says(report: dict[str, Any]) -> None:
    # The report's claims as of 2026-01-23 (verdicts, numbers, explanations, rules) equal the
    # committed record; a change of method regenerates it (tests/reference/
    # make_report_reference.py) in the same commit, so the diff shows what the report now says.
    # It held through the result-contract refactor of issue 12 apart from the renamed keys.
    ref = json.loads((ROOT / "tests" / "reference" / "report_2026-01-23.json").read_text())
    from tests.reference.make_report_reference import claims_record

    _close(claims_record(report), ref, "claims")


def test_the_notes_strategy_is_backtested_to_the_asof(report: dict[str, Any]) -> None:
    bt = report["backtest"]
    # Up to the report's date only: the as-of part of a report sees nothing after it.
    assert bt["strategy"]["end"] == ASOF
    assert bt["equity"][-1]["date"] == ASOF
    assert bt["strategy"]["start"] == "2018-01-01"
    assert bt["strategy"]["cost_bps"] == 10  # the note's own cost
    assert bt["sweep"]["n_trials"] == 9
    assert 0 <= bt["sweep"]["deflated_sharpe"] <= 1
    names = [b["name"] for b in bt["benchmarks"]]
    assert "60/40 S&P 500 / 10y Treasury" in names
    html = render_html(report, embed_js=False)
    assert "Would acting on it have paid?" in html
    assert "deflated Sharpe" in html
    md = render_markdown({**report, "data": []})  # another test strips the data's origins
    assert "## Would acting on it have paid? (the note's rotation)" in md
    off = build_report(
        DataRepository(), ReportOptions(asof=ASOF, replicates=99, sensitivity=False, backtest=False)
    )
    assert "backtest" not in off


def test_a_bad_strategy_in_a_note_names_the_file_and_line(tmp_path: Path) -> None:
    from havenflow.claims import resolve_note
    from havenflow.claims.note import NoteError, parse_note

    seed = resolve_note("silver-bitcoin-2026-01")
    assert seed.strategy is not None
    assert seed.strategy.kind == "phase_rotation"
    text = seed.text.replace("otherwise = {}", "otherwise = { gold = 2 }")
    with pytest.raises(NoteError) as err:
        parse_note(text, "my-note.toml")
    line = next(i + 1 for i, t in enumerate(text.splitlines()) if t.startswith("[strategy]"))
    assert str(err.value).startswith(f"my-note.toml, line {line}: strategy.otherwise.gold")
