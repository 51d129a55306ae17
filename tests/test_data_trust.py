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
    # The bars are the NYSE's sessions (the bundled COMEX closes follow its holidays).
    from havenflow.data.calendars import sessions

    nyse = sessions("XNYS", pd.Timestamp("2024-01-01"), pd.Timestamp("2025-12-31"))
    assert list(window.index) == list(nyse)


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


def test_a_users_own_series_is_never_mixed_with_bundled_values(
    tmp_path: pytest.TempPathFactory,
) -> None:
    from pathlib import Path

    from havenflow.data.importer import import_file
    from havenflow.data.store import Store

    f = Path(str(tmp_path)) / "gold.csv"
    f.write_text("date,gold\n2025-01-02,2650\n2025-01-03,2660\n")
    store = Store(Path(str(tmp_path)) / "s.duckdb")
    import_file(store, f, replace_catalog=True)
    loaded = DataRepository(store=store).load("gold")
    assert loaded.values.tolist() == [2650.0, 2660.0]  # no bundled gold before 2025


def test_each_series_sessions_are_the_days_it_has_closes(repo: DataRepository) -> None:
    # The calendar each series names must be its data's: a session without a close would be a
    # carried-forward zero return, a close off the calendar a move folded into the next bar.
    from havenflow.catalog import load_catalog
    from havenflow.data.calendars import sessions

    checked = 0
    for sid, spec in load_catalog().items():
        if spec.sessions in (None, "24/7") or spec.embedded_file is None:
            continue
        values = repo.load(sid).values
        lo = max(pd.Timestamp("2010-01-01"), values.index[0])
        hi = min(pd.Timestamp("2025-12-31"), values.index[-1])
        if hi - lo < pd.Timedelta(days=365):
            continue
        days = sessions(spec.sessions, lo, hi)
        missing = days.difference(values.index)
        extra = values.loc[lo:hi].index.difference(days)
        assert len(missing) / len(days) < 0.01, (sid, list(missing[:5].date))
        assert len(extra) / len(days) < 0.01, (sid, list(extra[:5].date))
        checked += 1
    assert checked >= 12


def test_alignment_keeps_history_before_1927_and_any_calendar_name(
    repo: DataRepository,
) -> None:
    from havenflow.data.align import align

    old = pd.Series(
        [1.0, 2.0, 3.0], index=pd.DatetimeIndex(["1900-01-02", "1900-01-03", "1900-01-04"])
    )
    frame = align({"x": old}, "B")
    assert list(frame["x"]) == [1.0, 2.0, 3.0]  # nothing before 1927 is dropped
    tokyo, _, _ = _aligned_levels(repo, ["bitcoin"], "B", "2025-01-31", sessions="XTKS")
    assert pd.Timestamp("2025-01-02") not in tokyo.index  # Tokyo's new-year holiday
    assert len(tokyo.loc["2025-01-06":]) > 15


def test_the_splice_never_undoes_a_move_the_daily_series_saw() -> None:
    from havenflow.data.repository import LoadedSeries

    # A daily series that ends a week after a 25 bp cut (18 September).
    days = pd.bdate_range("2025-08-01", "2025-12-31")
    daily = pd.Series(np.where(days < "2025-09-18", 4.33, 4.08), index=days)
    daily[days > "2025-09-25"] = np.nan
    monthly = pd.Series(
        [4.33, 4.22, 4.09, 3.88],  # Aug, Sep (half cut), Oct, Nov averages
        index=pd.DatetimeIndex(["2025-08-01", "2025-09-01", "2025-10-01", "2025-11-01"]),
    )

    class Repo:
        def load(self, sid: str, asof: object = None) -> LoadedSeries:
            from havenflow.catalog import get_spec

            return LoadedSeries(get_spec("fed_funds_monthly"), monthly, "embedded", "test")

    policy, _ = _policy_rate(Repo(), daily, pd.Timestamp("2025-09-25"), None)  # type: ignore[arg-type]
    moves = policy.diff().dropna()
    assert moves.loc["2025-09-18"] == pytest.approx(-0.25)
    # No fake reversal when the daily series stops, and September's half-cut average (it
    # mixes days before the cut) is not used: October's is, from 3 November.
    assert (moves.loc["2025-09-26":"2025-10-31"] == 0).all()
    assert policy.loc["2025-11-03"] == pytest.approx(4.09)
    assert policy.loc["2025-12-01"] == pytest.approx(3.88)
