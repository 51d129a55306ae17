"""Crash soak: the real command line, killed with SIGKILL mid-import, never corrupts the store.

Each round runs ``havenflow data import`` (replacing or appending 60,000 rows) as its own
process and kills it at a random moment, before, during or after its write. After every kill
the store must open, hold the series exactly as before the round or exactly as the import
would leave it (never a mix), keep every superseded value in ``revisions``, and accept the
next write. 80 rounds (at least 50 of them killed) in the slow suite (``pytest -m slow tests/test_crash_soak.py``); three
in ``make test``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from havenflow.data.store import Store

ROWS = 60_000


def _file(path: Path, offset: float) -> Path:
    dates = pd.date_range("1850-01-01", periods=ROWS, freq="D")
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "x": np.arange(ROWS) + offset}).to_csv(
        path, index=False
    )
    return path


def _snapshot(store: Store) -> pd.Series | None:
    return store.read("mine")


def _soak(tmp_path: Path, rounds: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    home = tmp_path / "home"
    env = {**os.environ, "HAVENFLOW_HOME": str(home)}
    files = [_file(tmp_path / f"v{i}.csv", 1.0 + 1000.0 * i) for i in range(3)]
    command = [sys.executable, "-m", "havenflow", "data", "import"]
    first = subprocess.run(
        [*command, str(files[0]), "--name", "mine", "--kind", "index_level"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    store = Store(home / "store.duckdb")
    tally = {"killed": 0, "finished": 0, "old": 0, "new": 0, "corrupt": 0}
    for _ in range(rounds):
        before = _snapshot(store)
        assert before is not None
        source = rng.choice(files)
        mode = rng.choice(["--replace", "--append"])
        expected = pd.read_csv(source, index_col="date", parse_dates=True)["x"].astype(float)
        if mode == "--append":
            expected = expected.combine_first(before)
        proc = subprocess.Popen(
            [*command, str(source), "--name", "mine", "--kind", "index_level", mode],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # A whole import takes about 1.1 s here, mostly start-up; the write is its last part.
        time.sleep(rng.uniform(0.4, 1.15))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            tally["killed"] += 1
        else:
            tally["finished"] += 1
        proc.communicate(timeout=60)
        after = _snapshot(store)
        if after is not None and after.equals(before):
            tally["old"] += 1
        elif after is not None and np.array_equal(after.to_numpy(), expected.to_numpy()):
            tally["new"] += 1
        else:
            tally["corrupt"] += 1
    # Still writable, and readable by a fresh process.
    listed = subprocess.run(
        [sys.executable, "-m", "havenflow", "data", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert '"mine"' in listed.stdout
    return tally


def test_a_few_kills_leave_the_store_whole(tmp_path: Path) -> None:
    tally = _soak(tmp_path, rounds=3, seed=1)
    assert tally["corrupt"] == 0


@pytest.mark.slow
def test_fifty_kills_leave_the_store_whole(tmp_path: Path) -> None:
    tally = _soak(tmp_path, rounds=80, seed=2)
    print(f"crash soak: {tally}")
    assert tally["corrupt"] == 0
    assert tally["killed"] >= 50
