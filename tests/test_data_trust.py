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


# ---- trading sessions ------------------------------------------------------------------------

#: NYSE closures in 2024-2025, the national day of mourning for President Carter included.
NYSE_CLOSED = [
    "2024-01-01", "2024-01-15", "2024-02-19", "2024-03-29", "2024-05-27", "2024-06-19",
    "2024-07-04", "2024-09-02", "2024-11-28", "2024-12-25", "2025-01-01", "2025-01-09",
    "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19", "2025-07-04",
    "2025-09-01", "2025-11-27", "2025-12-25",
]  # fmt: skip


def test_no_holiday_is_a_bar_and_no_holiday_is_a_zero_return(repo: DataRepository) -> None:
    levels, _, _ = _aligned_levels(repo, ["sp500", "silver", "bitcoin"], "B", "2025-12-31")
    window = levels.loc["2024-01-01":"2025-12-31"]
    assert not set(pd.DatetimeIndex(NYSE_CLOSED)) & set(window.index)
    # The S&P 500 closes are real closes on every bar: no carried-forward zero return (there
    # were 21 on the Monday-Friday grid in 2024-25).
    spx = np.log(window["sp500"]).diff().dropna()
    assert (spx == 0).sum() == 0
    # The bars are the sessions both markets share: NYSE's, less COMEX closures.
    from havenflow.data.calendars import sessions

    nyse = sessions("XNYS", pd.Timestamp("2024-01-01"), pd.Timestamp("2025-12-31"))
    comex = sessions("CMES", pd.Timestamp("2024-01-01"), pd.Timestamp("2025-12-31"))
    assert list(window.index) == list(nyse.intersection(comex))


def test_the_user_can_name_the_trading_calendar(repo: DataRepository) -> None:
    from havenflow.exceptions import DataValidationError

    every_day, _, _ = _aligned_levels(repo, ["bitcoin"], "B", "2025-01-31", sessions="24/7")
    assert len(every_day.loc["2025-01-01":]) == 31
    nyse, _, _ = _aligned_levels(repo, ["bitcoin"], "B", "2025-01-31", sessions="XNYS")
    assert pd.Timestamp("2025-01-09") not in nyse.index  # NYSE closed (national mourning)
    assert len(nyse.loc["2025-01-01":]) == 20
    with pytest.raises(DataValidationError, match="unknown sessions 'NOPE'"):
        _aligned_levels(repo, ["bitcoin"], "B", "2025-01-31", sessions="NOPE")


def test_fred_business_days_skip_federal_holidays(repo: DataRepository) -> None:
    levels, _, _ = _aligned_levels(repo, ["real_yield_10y", "bitcoin"], "B", "2025-12-31")
    # Columbus Day and Veterans Day: the bond market is shut, NYSE is open.
    for day in ("2025-10-13", "2025-11-11"):
        assert pd.Timestamp(day) not in levels.index
    assert pd.Timestamp("2025-10-14") in levels.index


def test_an_update_never_shortens_a_series(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    from havenflow.catalog import get_spec
    from havenflow.data.embedded import embedded_series
    from havenflow.data.store import ObservationBatch, Store

    # Coinbase's Bitcoin starts in 2015; the bundled series in 2014-09.
    bundled = embedded_series("bitcoin")
    live = bundled.loc["2015-01-01":] * 1.0
    store = Store(Path(str(tmp_path)) / "s.duckdb")
    store.write([ObservationBatch(get_spec("bitcoin"), live, "coinbase", "BTC-USD")])
    loaded = DataRepository(store=store).load("bitcoin")
    assert loaded.first == bundled.index[0]  # not 2015-01-01
    assert loaded.origin == "store"
    assert "the bundled data" in loaded.detail
    assert loaded.values.loc["2015-01-01":].equals(live.loc["2015-01-01":])
    assert loaded.values.index.is_unique
    assert loaded.values.index.is_monotonic_increasing
