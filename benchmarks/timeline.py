"""Time a verdict timeline against the same dates judged by separate ``check --asof`` runs.

Three ways to get the seed note's verdicts at 24 month ends (2024-02-29 .. 2026-01-30), on the
bundled data, no sensitivity block and no hindsight (a timeline's steps have neither):

- ``separate CLI runs``: 24 processes ``havenflow check NOTE --asof D`` (what a user would
  otherwise script), each with its interpreter start, imports, data reads and every fit;
- ``separate in-process``: 24 ``check_note`` calls in one process, a fresh repository each
  (no reuse), to separate the reuse from the process start;
- ``timeline``: one ``verdict_timeline`` (data read once, identical fits reused), with 1 and 2
  worker processes.

It checks that every way gives the same verdicts, then prints the seconds and the ratios:

    python benchmarks/timeline.py [--skip-cli]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from havenflow.claims import CheckOptions, check_note, resolve_note
from havenflow.claims.timeline import TimelineOptions, verdict_timeline
from havenflow.data.repository import DataRepository

NOTE = "silver-bitcoin-2026-01"
START, END = "2024-02-01", "2026-01-31"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cli", action="store_true", help="skip the 24 CLI processes")
    args = parser.parse_args()
    note = resolve_note(NOTE)
    dates = [d.date().isoformat() for d in pd.date_range(START, END, freq="BME")]
    assert len(dates) == 24, dates
    results: dict[str, tuple[float, list[dict[str, str]]]] = {}

    for workers in (1, 2):
        t = time.perf_counter()
        out = verdict_timeline(
            note, DataRepository(), TimelineOptions(START, END, "M", workers=workers)
        )
        results[f"timeline, {workers} worker{'s' if workers > 1 else ''}"] = (
            time.perf_counter() - t,
            [s["verdicts"] for s in out["timeline"]],
        )

    t = time.perf_counter()
    verdicts = []
    for d in dates:
        doc = check_note(
            note, DataRepository(), CheckOptions(asof=d, sensitivity=False, hindsight=False)
        )
        verdicts.append({c["id"]: c["verdict"] for c in doc["claims"]})
    results["separate in-process"] = (time.perf_counter() - t, verdicts)

    if not args.skip_cli:
        exe = str(Path(sys.executable).parent / "havenflow")
        t = time.perf_counter()
        verdicts = []
        for d in dates:
            cmd = [exe, "check", NOTE, "--asof", d, "--no-sensitivity", "--no-hindsight"]
            text = subprocess.run(
                [*cmd, "--format", "json", "--out", "-"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            verdicts.append({c["id"]: c["verdict"] for c in json.loads(text)["claims"]})
        results["separate CLI runs"] = (time.perf_counter() - t, verdicts)

    reference = results["separate in-process"][1]
    for name, (_, got) in results.items():
        assert got == reference, f"{name}: verdicts differ from separate check --asof runs"
    print(f"{NOTE}: 24 month ends {dates[0]}..{dates[-1]}, {os.cpu_count()} cores; same verdicts")
    base = results.get("separate CLI runs", results["separate in-process"])[0]
    for name, (seconds, _) in results.items():
        print(f"  {name:<28} {seconds:7.1f} s   {base / seconds:5.1f}x")


if __name__ == "__main__":
    main()
