"""Release schedules and ALFRED vintages: no macro value is used before it was published."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from havenflow.catalog import get_spec
from havenflow.data.align import align, spec_known_dates
from havenflow.data.releases import RELEASES, release_dates
from havenflow.data.repository import DataRepository
from havenflow.data.sources.base import RetryPolicy
from havenflow.data.store import Store
from havenflow.data.update import update_store
from havenflow.exceptions import DataValidationError, InsufficientDataError


def known(series_id: str, *dates: str) -> list[str]:
    index = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    out = spec_known_dates(get_spec(series_id), index)
    return [pd.Timestamp(d).date().isoformat() for d in out]


def test_h10_a_weeks_dollar_index_is_published_the_next_monday() -> None:
    # Monday 5 to Friday 9 January 2026: the H.10 of Monday 12 January.
    assert known("usd_broad", "2026-01-05", "2026-01-09") == ["2026-01-12", "2026-01-12"]
    # The week of 12 January: Monday 19 January is Martin Luther King Day, so Tuesday.
    assert known("usd_broad", "2026-01-12", "2026-01-16") == ["2026-01-20", "2026-01-20"]


def test_h41_wednesday_levels_on_thursday_or_the_next_business_day() -> None:
    assert known("fed_balance_sheet", "2026-01-07") == ["2026-01-08"]
    # Thanksgiving (27 November 2025) and Christmas (25 December 2025) fall on Thursdays.
    assert known("fed_balance_sheet", "2025-11-26", "2025-12-24") == ["2025-11-28", "2025-12-26"]


def test_h6_m2_on_the_fourth_tuesday_and_the_weekly_era_on_the_fourth_thursday() -> None:
    assert known("m2", "2024-01-01", "2024-12-01") == ["2024-02-27", "2025-01-28"]
    # The H.6 of Thursday 24 May 2007 carried April 2007 (FRASER's copy of that release).
    assert known("m2", "2007-04-01") == ["2007-05-24"]


def test_cpi_mid_month_and_the_dates_bls_rescheduled() -> None:
    # 15 September 2025 is a Monday; 15 February 2026 a Sunday before Presidents' Day.
    assert known("cpi", "2025-08-01", "2026-01-01") == ["2025-09-15", "2026-02-17"]
    # Before 2017 the day varied more: the rule is never before BLS's real releases.
    assert known("cpi", "2014-01-01", "2015-01-01", "2015-02-01", "2016-12-01") == [
        "2014-02-26",  # released 20 February 2014
        "2015-02-26",  # released 26 February 2015
        "2015-03-26",  # released 24 March 2015
        "2017-01-26",
    ]
    assert known("cpi", "2013-09-01") == ["2013-10-30"]  # the 2013 shutdown
    # After the 2025 lapse in appropriations: September on 24 October; October (carried
    # forward) and November together on 18 December.
    assert known("cpi", "2025-09-01", "2025-10-01", "2025-11-01") == [
        "2025-10-24",
        "2025-12-18",
        "2025-12-18",
    ]


def test_fed_funds_is_known_the_next_business_day_so_weekends_see_thursday() -> None:
    # Friday 2 January 2026's rate (FRED repeats it on Saturday and Sunday) on Monday 5.
    assert known("fed_funds", "2026-01-02", "2026-01-03", "2026-01-04") == ["2026-01-05"] * 3
    assert known("fed_funds", "2026-01-16") == ["2026-01-20"]  # MLK Day in between
    # December 2025's monthly average: 1 January is a holiday, so Friday 2 January.
    assert known("fed_funds_monthly", "2025-12-01") == ["2026-01-02"]
    days = pd.date_range("2026-01-01", "2026-01-06")
    dff = pd.Series([3.64, 3.65, 3.65, 3.65, 3.63, 3.63], index=days)
    frame = align({"fed_funds": dff}, "D", specs={"fed_funds": get_spec("fed_funds")})
    # On Saturday 3 January only Thursday's rate (published Friday) was public.
    assert frame.loc["2026-01-03", "fed_funds"] == 3.64
    assert frame.loc["2026-01-05", "fed_funds"] == 3.65


def test_schedules_never_go_backwards_and_unknown_ones_are_refused() -> None:
    months = pd.date_range("1990-01-01", "2026-12-01", freq="MS")
    days = pd.bdate_range("2000-01-03", "2026-12-31")
    for release in RELEASES:
        index = months if release in {"h6", "cpi"} else days
        calendar = "monthly" if release in {"h6", "cpi"} else "business"
        out = release_dates(index, release, calendar)
        assert (np.diff(out) >= np.timedelta64(0)).all(), release
        ends = index + pd.offsets.MonthEnd(0) if calendar == "monthly" else index
        assert (out > ends.to_numpy()).all() or release not in {"h6", "cpi"}, release
    with pytest.raises(DataValidationError, match="unknown release schedule 'h99'"):
        release_dates(days[:3], "h99", "business")


# ---- ALFRED vintages ---------------------------------------------------------------------

VINTAGES = [
    # November 2023: in ALFRED's first vintage (the archive here starts 2024-01-23), so its
    # publication day is unknown and the H.6 schedule decides (26 December 2023).
    ("2023-11-01", "20600.0", "2024-01-23", "9999-12-31"),
    ("2023-12-01", "20700.0", "2024-01-23", "9999-12-31"),
    # January 2024: first published 27 February, revised 26 March.
    ("2024-01-01", "20800.0", "2024-02-27", "2024-03-25"),
    ("2024-01-01", "20810.0", "2024-03-26", "9999-12-31"),
    ("2024-02-01", "20900.0", "2024-03-26", "9999-12-31"),
    ("2024-03-01", ".", "2024-04-23", "9999-12-31"),
]


def alfred(request: httpx.Request, page_rows: int) -> httpx.Response:
    params = request.url.params
    assert params["realtime_start"] == "1776-07-04"
    assert params["realtime_end"] == "9999-12-31"
    offset = int(params.get("offset", "0"))
    rows = [
        {"date": d, "value": v, "realtime_start": s, "realtime_end": e}
        for d, v, s, e in VINTAGES[offset : offset + page_rows]
    ]
    body = {"count": len(VINTAGES), "offset": offset, "limit": page_rows, "observations": rows}
    return httpx.Response(200, text=json.dumps(body), headers={"Content-Type": "application/json"})


@pytest.fixture
def vintaged_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    from havenflow.data.sources import fred

    monkeypatch.setenv("FRED_API_KEY", "sekrit")
    monkeypatch.setattr(fred, "PAGE_ROWS", 4)  # two pages
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return alfred(request, 4)

    store = Store(tmp_path / "store.duckdb")
    client = httpx.Client(transport=httpx.MockTransport(answer))
    outcomes = update_store(
        store,
        ["m2"],
        client=client,
        end=datetime(2024, 6, 30, tzinfo=UTC).date(),
        source_options={
            "policy": RetryPolicy(attempts=1),
            "now": lambda: datetime(2024, 6, 30, tzinfo=UTC),
        },
    )
    assert [o.status for o in outcomes] == ["updated"]
    assert [r.url.params["offset"] for r in seen] == ["0", "4"]
    return store


def test_alfred_vintages_are_stored_beside_the_latest_values(vintaged_store: Store) -> None:
    latest = vintaged_store.read("m2")
    assert latest is not None
    assert latest.to_dict() == {
        pd.Timestamp("2023-11-01"): 20600.0,
        pd.Timestamp("2023-12-01"): 20700.0,
        pd.Timestamp("2024-01-01"): 20810.0,  # the revised value
        pd.Timestamp("2024-02-01"): 20900.0,
    }
    vintages = vintaged_store.read_vintages("m2")
    assert vintages is not None
    assert len(vintages) == 5  # the '.' row is no value
    first = vintages[vintages["date"] == "2024-01-01"].iloc[0]
    assert first["value"] == 20800.0
    assert first["realtime_end"] == pd.Timestamp("2024-03-25")
    assert vintaged_store.metadata()["m2"]["vintages"] is True


def test_asof_reads_the_vintage_known_then(vintaged_store: Store) -> None:
    repo = DataRepository(store=vintaged_store)
    before_revision = repo.load("m2", "2024-03-01")
    # (The bundled values before the vintages' first date stay: an update never shortens.)
    assert before_revision.first == pd.Timestamp("1959-01-01")
    assert before_revision.values.loc["2023-11-01":].to_dict() == {
        pd.Timestamp("2023-11-01"): 20600.0,
        pd.Timestamp("2023-12-01"): 20700.0,
        pd.Timestamp("2024-01-01"): 20800.0,  # not yet revised; February not yet published
    }
    known = [pd.Timestamp(d).date().isoformat() for d in before_revision.known_dates()[-3:]]
    # November and December: the schedule (before the archive); January: ALFRED's real day.
    assert known == ["2023-12-26", "2024-01-23", "2024-02-27"]
    after = repo.load("m2", "2024-04-01").values
    assert after.loc["2024-01-01"] == 20810.0
    assert after.loc["2024-02-01"] == 20900.0
    assert repo.load("m2").values.loc["2024-01-01"] == 20810.0
    # Before the archive starts: the first vintage's values, as far as the schedule allows.
    from havenflow.data.embedded import embedded_series

    early = repo.load("m2", "2024-01-01").values
    assert early.loc["2023-10-01":].to_dict() == {
        pd.Timestamp("2023-10-01"): embedded_series("m2").loc["2023-10-01"],  # bundled
        pd.Timestamp("2023-11-01"): 20600.0,
    }
    with pytest.raises(InsufficientDataError, match="no value known on or before 1959-01-01"):
        repo.load("m2", "1959-01-01")


def test_alignment_uses_alfreds_publication_dates(vintaged_store: Store) -> None:
    from havenflow.services._load import _aligned_levels

    repo = DataRepository(store=vintaged_store)
    # As of 1 March 2024: the vintage of that day, each value from its publication day.
    levels, _, _ = _aligned_levels(repo, ["m2", "sp500"], "B", "2024-03-01")
    assert levels.loc["2024-02-26", "m2"] == 20700.0  # January not public until the 27th
    assert levels.loc["2024-02-27", "m2"] == 20800.0
    # As of 5 April, date by date: each day saw what was published by then, so January's
    # revision of 26 March never reaches an earlier day; February from 26 March.
    levels, _, _ = _aligned_levels(repo, ["m2", "sp500"], "B", "2024-04-05")
    assert levels.loc["2024-02-27", "m2"] == 20800.0
    assert levels.loc["2024-03-25", "m2"] == 20800.0
    assert levels.loc["2024-03-26", "m2"] == 20900.0
    # For statistics estimated as of 5 April: that day's vintage (January revised).
    stats, _, _ = _aligned_levels(repo, ["m2", "sp500"], "B", "2024-04-05", placement="observed")
    assert stats.loc["2024-02-27", "m2"] == 20810.0


def test_new_values_fetched_without_a_key_are_not_dropped(vintaged_store: Store) -> None:
    from havenflow.data.store import ObservationBatch

    # A later update without FRED_API_KEY (the CSV): March 2024, no vintage rows.
    march = pd.Series([21000.0], index=pd.DatetimeIndex(["2024-03-01"]))
    vintaged_store.write([ObservationBatch(get_spec("m2"), march, "fred", "M2SL")])
    repo = DataRepository(store=vintaged_store)
    loaded = repo.load("m2")
    assert loaded.values.loc["2024-03-01"] == 21000.0
    assert pd.Timestamp(loaded.known_dates()[-1]) == pd.Timestamp("2024-04-23")  # the H.6 rule
    assert repo.load("m2", "2024-04-22").last == pd.Timestamp("2024-02-01")


def test_a_users_import_over_a_vintaged_id_is_the_users(vintaged_store: Store) -> None:
    from havenflow.data.importer import import_file

    path = vintaged_store.path.parent / "mine.csv"
    path.write_text("date,m2\n2024-01-01,1.0\n2024-02-01,2.0\n")
    import_file(vintaged_store, path, replace_catalog=True, existing="replace", kind="money_stock")
    assert vintaged_store.read_vintages("m2") is None
    loaded = DataRepository(store=vintaged_store).load("m2")
    assert loaded.values.tolist()[-2:] == [1.0, 2.0]


def test_a_later_update_keeps_alfreds_history(
    vintaged_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same answer again: the vintages are replaced by ALFRED's same record, not doubled.
    client = httpx.Client(transport=httpx.MockTransport(lambda r: alfred(r, 100)))
    update_store(
        vintaged_store,
        ["m2"],
        client=client,
        full=True,
        source_options={"now": lambda: datetime(2024, 6, 30, tzinfo=UTC)},
    )
    vintages = vintaged_store.read_vintages("m2")
    assert vintages is not None
    assert len(vintages) == 5
    assert vintaged_store.delete("m2") == 4
    assert vintaged_store.read_vintages("m2") is None


def test_a_server_announcing_endless_pages_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from havenflow.data.sources import fred
    from havenflow.data.sources.base import make_source
    from havenflow.exceptions import SourceError

    monkeypatch.setattr(fred, "MAX_PAGES", 3)

    def endless(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        row = {
            "date": (pd.Timestamp("2000-01-01") + pd.DateOffset(months=offset)).date().isoformat(),
            "value": "1.0",
            "realtime_start": "2001-01-01",
            "realtime_end": "9999-12-31",
        }
        return httpx.Response(200, json={"count": 10**9, "observations": [row]})

    source = make_source(
        "fred",
        httpx.Client(transport=httpx.MockTransport(endless)),
        api_key="sekrit",
        policy=RetryPolicy(attempts=1),
    )
    with pytest.raises(SourceError, match="more than 3 pages") as info:
        source.fetch("M2SL", None, None)
    assert "sekrit" not in str(info.value)
