"""Data you can trust: the policy rate through the note's date and exchange sessions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from havenflow.data.repository import DataRepository
from havenflow.services._load import _aligned_levels
from havenflow.services.market import _policy_rate, driver_moves


@pytest.fixture(scope="module")
def repo() -> DataRepository:
    return DataRepository()


def test_the_policy_rate_known_on_the_note_date_runs_to_december_2025(
    repo: DataRepository,
) -> None:
    asof = "2026-01-23"
    levels, _, loaded = _aligned_levels(repo, ["fed_funds", "ust_2y"], "B", asof)
    daily_last = loaded["fed_funds"].last
    assert daily_last < pd.Timestamp("2025-07-01")  # the bundled daily series stops here
    policy, notes = _policy_rate(repo, levels["fed_funds"], daily_last, asof)
    monthly = repo.load("fed_funds_monthly").values
    # On the note's date the latest published month is December 2025 (out on 1 January) ...
    assert policy.loc[asof] == pytest.approx(monthly.loc["2025-12-01"])
    assert "through December 2025" in notes[0]
    # ... and no month is used before the day after it ends (its publication lag).
    for month, value in monthly.loc["2025-07-01":"2025-12-01"].items():
        published = month + pd.offsets.MonthEnd(0) + pd.Timedelta(days=1)
        assert policy.loc[published:].iloc[0] == pytest.approx(value)
        assert policy.loc[: published - pd.Timedelta(days=1)].iloc[-1] == pytest.approx(
            monthly.shift(1).loc[month]
        )
    # The proxy sees the 2025 cuts: its policy-rate leg falls by what FEDFUNDS fell.
    moves, meta = driver_moves(repo, ["silver"], "D", asof)
    ust = _aligned_levels(repo, ["ust_2y"], "B", asof)[0]["ust_2y"].diff()
    policy_leg = (ust.reindex(moves.index) - moves["rate_expectations"]).loc["2025-06-26":]
    assert policy_leg.sum() == pytest.approx(monthly.loc["2025-12-01"] - 4.33, abs=1e-9)
    assert np.isfinite(policy_leg).all()
    assert meta["notes"] == notes
