from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from havenflow.catalog import get_spec
from havenflow.data.align import (
    align,
    known_dates,
    last_bar_of_week,
    levels_from_returns,
    returns,
    spec_known_dates,
    transform,
)
from havenflow.exceptions import DataValidationError


def daily(start: str, values: list[float], freq: str = "D") -> pd.Series:
    return pd.Series(
        values, index=pd.date_range(start, periods=len(values), freq=freq, name="date")
    )


def test_bitcoin_weekend_moves_land_in_monday_levels_not_lost() -> None:
    # Fri 2024-01-05 .. Mon 2024-01-08: the Fri->Mon business-day return must include the weekend.
    btc = daily("2024-01-05", [100.0, 110.0, 120.0, 130.0])
    frame = align({"bitcoin": btc}, "B", specs={"bitcoin": get_spec("bitcoin")})
    assert frame.index.tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-08")]
    assert np.log(frame["bitcoin"]).diff().iloc[-1] == pytest.approx(np.log(130 / 100))


def test_monthly_value_is_not_known_before_its_release() -> None:
    m2 = pd.Series([100.0, 101.0], index=pd.to_datetime(["2024-01-01", "2024-02-01"]))
    spec = get_spec("m2")  # the H.6 release: the fourth Tuesday of the next month
    known = spec_known_dates(spec, pd.DatetimeIndex(m2.index))
    assert pd.Timestamp(known[0]) == pd.Timestamp("2024-02-27")  # Tuesdays: 6, 13, 20, 27
    frame = align({"m2": m2}, "D", specs={"m2": spec}, start="2024-01-15", end="2024-03-31")
    assert pd.isna(frame["m2"].reindex(pd.date_range("2024-01-15", "2024-02-26"))).all()
    assert frame.loc["2024-02-27", "m2"] == 100.0
    assert frame.loc["2024-03-25", "m2"] == 100.0
    assert frame.loc["2024-03-26", "m2"] == 101.0  # March's Tuesdays: 5, 12, 19, 26


def test_carry_forward_is_bounded() -> None:
    s = pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-01-01", "2024-01-20"]))
    frame = align({"x": s}, "D", max_stale_days=3, start="2024-01-01", end="2024-01-20")
    assert frame["x"].loc["2024-01-04"] == 1.0
    assert "2024-01-05" not in frame.index.strftime("%Y-%m-%d")  # all-NaN rows dropped
    frame2 = align({"x": s, "y": daily("2024-01-01", [5.0] * 20)}, "D", max_stale_days=3)
    assert pd.isna(frame2.loc["2024-01-05", "x"])


def test_weekly_friday_and_inner_join() -> None:
    btc = daily("2024-01-01", list(range(1, 15)))  # Mon 1 .. Sun 14
    gold = daily("2024-01-01", [10.0] * 10, freq="B")
    frame = align({"btc": btc, "gold": gold}, "W", how="inner")
    assert frame.index.tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-12")]
    assert frame["btc"].tolist() == [5.0, 12.0]


def test_weeks_are_labelled_by_their_last_bar() -> None:
    # 2018-12-24..28 is a full week (Christmas included on the business-day calendar); the
    # as-of date 2018-12-31 is a Monday: its week has one bar and keeps that bar's date.
    idx = pd.bdate_range("2018-12-17", "2018-12-31")
    frame = pd.DataFrame({"x": np.arange(len(idx), dtype=float)}, index=idx)
    weekly = last_bar_of_week(frame)
    assert list(weekly.index.date.astype(str)) == ["2018-12-21", "2018-12-28", "2018-12-31"]
    assert weekly["x"].tolist() == [4.0, 9.0, 10.0]
    # A holiday Friday missing from the data: the week is labelled by its Thursday.
    no_friday = frame.drop(pd.Timestamp("2018-12-21"))
    assert pd.Timestamp("2018-12-20") in last_bar_of_week(no_friday).index
    with pytest.raises(DataValidationError, match="sorted"):
        last_bar_of_week(frame.iloc[::-1])


def test_rejects_unsorted_and_bad_freq() -> None:
    s = pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-01-02", "2024-01-01"]))
    with pytest.raises(DataValidationError, match="sorted and unique"):
        align({"x": s})
    with pytest.raises(DataValidationError, match="freq must be one of"):
        align({"x": s.sort_index()}, "Q")  # type: ignore[arg-type]


def test_transform_uses_changes_for_yields() -> None:
    levels = pd.DataFrame(
        {"real_yield_10y": [1.0, 1.5, 1.25], "gold": [100.0, 110.0, 99.0]},
        index=pd.date_range("2024-01-01", periods=3),
    )
    out = transform(levels, {k: get_spec(k) for k in levels})
    assert out["real_yield_10y"].tolist() == [0.5, -0.25]
    assert out["gold"].iloc[0] == pytest.approx(np.log(1.1))


def test_returns_refuse_nonpositive() -> None:
    with pytest.raises(DataValidationError, match="strictly positive"):
        returns(pd.Series([1.0, -1.0]))


# ---- properties -------------------------------------------------------------------------

dates_strategy = st.lists(
    st.integers(min_value=0, max_value=400), min_size=1, max_size=60, unique=True
).map(sorted)


def _series(offsets: list[int], seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.Timestamp("2020-01-01") + pd.to_timedelta(offsets, unit="D")
    return pd.Series(rng.uniform(1, 100, len(offsets)), index=pd.DatetimeIndex(idx))


@settings(max_examples=60, deadline=None)
@given(
    a=dates_strategy,
    b=dates_strategy,
    seed=st.integers(0, 1000),
    freq=st.sampled_from(["D", "B", "W", "M"]),
    lag=st.integers(0, 30),
    monthly=st.booleans(),
)
def test_alignment_never_uses_a_value_before_it_is_known(
    a: list[int], b: list[int], seed: int, freq: str, lag: int, monthly: bool
) -> None:
    x, y = _series(a, seed), _series(b, seed + 1)
    calendar = "monthly" if monthly else "business"
    spec = get_spec("m2") if monthly else get_spec("usd_broad")
    from dataclasses import replace

    spec = replace(spec, known_lag_days=lag, calendar=calendar, release=None)
    frame = align({"x": x, "y": y}, freq, specs={"x": spec})  # type: ignore[arg-type]
    known_x = known_dates(pd.DatetimeIndex(x.index), calendar, lag)  # type: ignore[arg-type]
    lookup = dict(zip(x.to_numpy(), known_x, strict=True))
    for when, value in frame["x"].dropna().items():
        assert lookup[value] <= np.datetime64(when)  # the value was known on the date it is used


@settings(max_examples=60, deadline=None)
@given(
    a=dates_strategy,
    b=dates_strategy,
    seed=st.integers(0, 1000),
    freq=st.sampled_from(["D", "B", "W", "M"]),
    cut=st.integers(0, 400),
)
def test_truncating_after_t_never_changes_output_up_to_t(
    a: list[int], b: list[int], seed: int, freq: str, cut: int
) -> None:
    x, y = _series(a, seed), _series(b, seed + 1)
    t = pd.Timestamp("2020-01-01") + pd.Timedelta(days=cut)
    specs = {"x": get_spec("m2"), "y": get_spec("bitcoin")}
    horizon = pd.Timestamp("2021-12-31")  # beyond all data, so both runs share one calendar
    full = align({"x": x, "y": y}, freq, specs=specs, end=horizon)  # type: ignore[arg-type]
    xs, ys = x[x.index <= t], y[y.index <= t]
    if xs.empty and ys.empty:
        return
    if not len(full) or full.index[0] > t:
        return  # nothing is reported up to t
    start = full.index[0]
    trunc = align({"x": xs, "y": ys}, freq, specs=specs, start=start, end=t)  # type: ignore[arg-type]
    expected = full[full.index <= t].dropna(how="all")
    pd.testing.assert_frame_equal(trunc, expected, check_freq=False)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(0.01, 1e6), min_size=2, max_size=50),
    kind=st.sampled_from(["log", "simple"]),
)
def test_returns_levels_round_trip(values: list[float], kind: str) -> None:
    levels = pd.Series(values, index=pd.date_range("2024-01-01", periods=len(values)))
    rebuilt = levels_from_returns(returns(levels, kind), values[0], kind)  # type: ignore[arg-type]
    np.testing.assert_allclose(rebuilt.to_numpy(), levels.to_numpy()[1:], rtol=1e-7)
