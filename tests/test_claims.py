"""Claims as data: note files, kinds, dated and stale claims, sensitivity, q-values, bottom line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control
from tests.conftest import run_main

from havenflow.claims import (
    KINDS,
    CheckOptions,
    NoteError,
    bundled_notes,
    check_note,
    load_note,
    parse_note,
    register,
    resolve_note,
)
from havenflow.claims.check import freshness
from havenflow.data.repository import DataRepository
from havenflow.report import VERDICTS

ROOT = Path(__file__).resolve().parents[1]
SEED = "silver-bitcoin-2026-01"

HEAD = '[note]\ntitle = "t"\ndate = "2026-01-23"\n'


def _claim(body: str, cid: str = "X1") -> str:
    return f'{HEAD}\n[[claim]]\nid = "{cid}"\ntext = "a claim"\n{body}\n'


@pytest.fixture(scope="module")
def repo() -> DataRepository:
    return DataRepository()


@pytest.fixture(scope="module")
def seed_report(repo: DataRepository) -> dict[str, Any]:
    return check_note(resolve_note(SEED), repo, CheckOptions(replicates=99))


# ---- the note contract -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[note\n", r"bad\.toml, line 1, column \d+: not valid TOML"),
        ('[note]\ndate = "2026-01-23"\n', r"\[note\]: missing key 'title'"),
        ('[note]\ntitle = "t"\ndate = "2026-02-30"\n', r"line 3: \[note\]: key 'date'"),
        (HEAD, r"no \[\[claim\]\] table"),
        (_claim('kind = "nosuch"'), r"line 8: claim X1: key 'kind': unknown kind 'nosuch'"),
        (
            _claim('kind = "all_time_high"\nasset = "silver"\nwithin = "far"'),
            r"line 10: claim X1: key 'within': .*got 'far'",
        ),
        (
            _claim('kind = "all_time_high"\nasset = "silver"\nwithn = 0.1'),
            r"line 10: claim X1: key 'withn': unknown for kind all_time_high \(keys: asset, ",
        ),
        (_claim('kind = "divergence"\na = "silver"'), r"claim X1: missing key 'b'"),
        (
            _claim(
                'kind = "leadlag"\nleader = "gold"\nfollower = "silver"\nmin_lag = 9\nmax_lag = 4'
            ),
            r"claim X1: min_lag: at most max_lag",
        ),
        (
            _claim('kind = "event_study"\ntrigger = "silver:hgh(252)"\ntarget = "bitcoin"'),
            r"line 9: claim X1: key 'trigger'",
        ),
        (
            _claim('kind = "phase"\nphase = 1\non = "2026-03-01"'),
            r"claim X1: key 'on': 2026-03-01 is after the note's date",
        ),
        (
            _claim('kind = "phase"\nphase = 1', "A")
            + '\n[[claim]]\nid = "A"\ntext = "again"\nkind = "phase"\nphase = 2\n',
            r"line 12: claim A: key 'id': 'A' is already the id of claim #1",
        ),
        (_claim('kind = "phase"\nphase = 5'), r"claim X1: key 'phase'"),
        (_claim('kind = "phase"\nphase = 1\nnegate = "yes"'), r"claim X1: key 'negate'"),
    ],
)
def test_malformed_notes_get_one_line_naming_file_line_claim_key(text: str, expected: str) -> None:
    with pytest.raises(NoteError) as info:
        parse_note(text, "bad.toml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("bad.toml")
    assert re.search(expected, message), message


def test_unknown_series_is_refused_before_any_computation(repo: DataRepository) -> None:
    note = parse_note(_claim('kind = "divergence"\na = "silver"\nb = "bitcon"'), "n.toml")
    with pytest.raises(NoteError, match=r"n\.toml, line 10: claim X1: key 'b': unknown series"):
        check_note(note, repo)


def test_cli_check_refuses_a_bad_note_with_exit_2(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "mine.toml"
    bad.write_text(_claim('kind = "leadlag"\nleader = "gold"\nfollower = "silver"\nmax_lag = 0'))
    code, out, err = run_main(["check", str(bad)], monkeypatch, capsys)
    assert code == 2
    assert "Traceback" not in out + err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert "mine.toml" in lines[0]
    assert "max_lag" in lines[0]
    code, _, err = run_main(["check", str(tmp_path / "missing.toml")], monkeypatch, capsys)
    assert code == 2
    assert "no such note file" in err


def test_every_kind_is_registered_once_with_strict_parameters(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wanted = {
        "all_time_high",
        "best_performer",
        "divergence",
        "drivers",
        "safe_haven",
        "stress_correlation",
        "phase",
        "leadlag",
        "event_study",
        "outlook",
        "implied_move",
        "series",
    }
    assert wanted <= set(KINDS)
    for kind in KINDS.values():
        assert kind.params.model_config.get("extra") == "forbid", kind.name
        assert kind.summary
    with pytest.raises(ValueError, match="already registered"):
        register(KINDS["phase"])
    code, out, _ = run_main(["kinds"], monkeypatch, capsys)
    assert code == 0
    assert all(k in out for k in wanted)


def test_bundled_notes_parse_and_the_seed_is_the_report() -> None:
    notes = bundled_notes()
    assert {SEED, "copper-equities-2024-05", "gold-real-yields-2024-10"} <= set(notes)
    seed = resolve_note(SEED)
    assert [c.id for c in seed.claims] == [f"C{i}" for i in range(1, 12)]
    assert seed.date == pd.Timestamp("2026-01-23")
    assert load_note(ROOT / "docs" / "examples" / "my-note.toml").claims


# ---- the seed note -----------------------------------------------------------------------------


def _no_none(report: dict[str, Any]) -> None:
    for c in report["claims"]:
        text = c["explanation"] + " ".join(n["display"] for n in c["numbers"])
        assert not re.search(r"\bNone\b|\bnan\b", text), (c["id"], text)


def test_seed_note_default_date_has_no_none_and_no_stale_series(
    seed_report: dict[str, Any], repo: DataRepository
) -> None:
    # The default as-of is the note's date (every core series covers it).
    assert seed_report["asof"] == "2026-01-23"
    _no_none(seed_report)
    for c in seed_report["claims"]:
        if c["verdict"] == "not testable":
            continue
        kind = KINDS[c["kind"]]
        params = kind.params.model_validate(c["params"])
        for sid in kind.needs(params):
            assert freshness(repo, sid, pd.Timestamp(c["judged_on"])) is None, (c["id"], sid)


def test_a_later_asof_is_refused_after_the_shared_last_date(repo: DataRepository) -> None:
    from havenflow.exceptions import DataValidationError

    with pytest.raises(
        DataValidationError,
        match=r"after 2026-07-10, the last date with data for every series of the note",
    ):
        check_note(resolve_note(SEED), repo, CheckOptions(asof="2026-08-21", sensitivity=False))


def test_stale_series_makes_a_claim_not_testable_naming_series_and_date(
    repo: DataRepository,
) -> None:
    # A series claim does not set the note's as-of (a yearly fundamental must not drag it back
    # a year), so it is checked for freshness: copper ends 2026-02-20, months before the date.
    text = (
        _claim('kind = "series"\nseries = "copper"\nthreshold = 1.0').replace(
            "2026-01-23", "2026-07-10"
        )
        + '\n[[claim]]\nid = "X2"\ntext = "gold"\nkind = "all_time_high"\nasset = "gold"\n'
    )
    note = parse_note(text, "n.toml")
    report = check_note(note, repo, CheckOptions(sensitivity=False))
    assert report["asof"] == "2026-07-10"
    x1 = report["claims"][0]
    assert x1["verdict"] == "not testable"
    assert "copper ends 2026-02-20" in x1["explanation"]
    assert report["claims"][1]["verdict"] != "not testable", report["claims"][1]["explanation"]


@pytest.fixture(scope="module")
def seed_2020(repo: DataRepository) -> dict[str, Any]:
    return check_note(
        resolve_note(SEED), repo, CheckOptions(asof="2020-03-20", replicates=99, sensitivity=False)
    )


def test_dated_claims_are_judged_on_their_date(seed_2020: dict[str, Any]) -> None:
    c8 = next(c for c in seed_2020["claims"] if c["id"] == "C8")
    # "January 2026 is in phase one" cannot be judged with data known in March 2020.
    assert c8["verdict"] == "not testable"
    assert "2026-01-23" in c8["explanation"]
    _no_none(seed_2020)


def test_c11_does_not_pass_by_default(seed_2020: dict[str, Any]) -> None:
    c11 = next(c for c in seed_2020["claims"] if c["id"] == "C11")
    # No out-of-sample edge at a horizon means that horizon is not judged: no free pass.
    if "not judged" in c11["explanation"]:
        assert c11["verdict"] != "supported"


def test_c4_needs_a_real_rise_in_fear(repo: DataRepository) -> None:
    # 2024-03-01: VIX near its 3-year low and up a fraction of a point over 63 bars.
    note = resolve_note(SEED)
    c4 = next(c for c in note.claims if c.id == "C4")
    from havenflow.claims import Context

    outcome = KINDS["safe_haven"].judge(Context(repo, pd.Timestamp("2024-03-01")), c4.params)
    assert outcome.verdict.value != "supported"
    assert "not rising" in outcome.explanation


def test_q_values_are_benjamini_hochberg_of_the_note_tests(seed_report: dict[str, Any]) -> None:
    tested = [c for c in seed_report["claims"] if c["pvalue"] is not None and not c["negate"]]
    assert len(tested) >= 4
    expected = false_discovery_control(np.array([c["pvalue"] for c in tested]), method="bh")
    for c, q in zip(tested, expected, strict=True):
        assert c["q_value"] == pytest.approx(q)
        assert c["q_value"] >= c["pvalue"] - 1e-12


def test_sensitivity_block_labels_robust_or_fragile(seed_report: dict[str, Any]) -> None:
    for cid in ("C4", "C5", "C9", "C10"):
        c = next(x for x in seed_report["claims"] if x["id"] == cid)
        s = c["sensitivity"]
        assert s["label"] in {"robust", "fragile"}
        assert len(s["alternatives"]) >= 2
        same = all(a["verdict"] == c["verdict"] for a in s["alternatives"])
        assert (s["label"] == "robust") == same
        assert all(a["changed"] for a in s["alternatives"])  # each names what it changed


def test_bottom_line_reconciles_c10_and_c11(seed_report: dict[str, Any]) -> None:
    bottom = seed_report["bottom_line"]
    pairs = bottom["agreements"] + bottom["tensions"]
    met = [p for p in pairs if set(p["claims"]) == {"C10", "C11"}]
    assert met, bottom["text"]
    for p in met:
        assert p["asset"] == "bitcoin"
        assert p["text"].startswith(("Agreement", "Tension"))
        assert "scan p" in p["text"]  # the numbers, not the wording
    assert bottom["text"][0].startswith("Verdicts:")
    assert sum(bottom["tally"].values()) == 11


# ---- user series, negation, other notes ---------------------------------------------------------


def test_imported_fundamental_series_enters_the_verdict(tmp_path: Path) -> None:
    # Hand-built test input (not data): a yearly market balance, a deficit in the last years.
    csv = tmp_path / "balance.csv"
    csv.write_text(
        "date,silver_market_balance\n"
        + "\n".join(
            f"{y}-12-31,{v}"
            for y, v in zip(
                range(2016, 2026), [10, 5, -3, 2, -20, -40, -60, -50, -45, -30], strict=True
            )
        )
        + "\n"
    )
    repo = DataRepository(user_files=[csv])
    note = resolve_note(SEED)
    only_c6 = parse_note(
        note.text.split("[[claim]]")[0]
        + "[[claim]]"
        + next(block for block in note.text.split("[[claim]]") if 'id = "C6"' in block),
        "seed-c6",
    )
    report = check_note(only_c6, repo, CheckOptions(sensitivity=False))
    c6 = report["claims"][0]
    assert c6["verdict"] == "supported"  # the last balance (-30) is below 0
    chart = c6["charts"][0]
    assert chart["kind"] == "series_beside"
    assert chart["beside"] == "silver"
    assert chart["values"][-1] == -30
    # Without the file the same claim is not testable and says how to bring the series in.
    bare = check_note(only_c6, DataRepository(), CheckOptions(sensitivity=False))
    assert bare["claims"][0]["verdict"] == "not testable"
    assert "--data" in bare["claims"][0]["explanation"]


def test_negate_swaps_supported_and_not_supported(repo: DataRepository) -> None:
    body = 'kind = "all_time_high"\nasset = "silver"'
    plain = check_note(parse_note(_claim(body), "a"), repo, CheckOptions(sensitivity=False))
    negated = check_note(
        parse_note(_claim(body + "\nnegate = true"), "b"), repo, CheckOptions(sensitivity=False)
    )
    assert plain["claims"][0]["verdict"] == "supported"
    assert negated["claims"][0]["verdict"] == "not supported"
    assert "opposite" in negated["claims"][0]["rule"]


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        # Copper's COMEX record of May 2024 and gold's record run of October 2024.
        ("copper-equities-2024-05", {"K1": "supported"}),
        ("gold-real-yields-2024-10", {"G1": "supported", "G2": "supported"}),
    ],
)
def test_other_bundled_notes_are_judged(
    note: str, expected: dict[str, str], repo: DataRepository
) -> None:
    report = check_note(resolve_note(note), repo, CheckOptions(replicates=99, sensitivity=False))
    assert report["asof"] == resolve_note(note).date.date().isoformat()
    verdicts = {c["id"]: c["verdict"] for c in report["claims"]}
    assert set(verdicts.values()) <= set(VERDICTS)
    for cid, verdict in expected.items():
        assert verdicts[cid] == verdict, report["claims"]
    _no_none(report)


def test_cli_check_on_a_users_note_writes_markdown(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine.md"
    code, stdout, err = run_main(
        [
            "check",
            str(ROOT / "docs" / "examples" / "my-note.toml"),
            "--format",
            "md",
            "--out",
            str(out),
            "--replicates",
            "99",
            "--no-sensitivity",
        ],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    text = out.read_text()
    assert text.startswith("# Three rotation claims")
    assert "## Bottom line" in text
    assert "gold-leads-silver" in stdout
